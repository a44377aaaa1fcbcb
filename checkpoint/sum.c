/* Image file checksums: XXH3-128 (see sum.h). */
#include "checkpoint/sum.h"

#include <pthread.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#include "checkpoint/sum_avx2.h"
#include "lib/util.h"

/* A running sum: libxxhash's state, or the AVX2 build's (sum_avx2.c) where the CPU has it. */
struct ck_sum {
	XXH3_state_t *st;
	void *avx2;
};

static bool use_avx2;

static void pick(void)
{
#if CK_SUM_AVX2
	use_avx2 = ck_sum_avx2();
#endif
}

struct ck_sum *ck_sum_new(void)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	struct ck_sum *s = xcalloc(1, sizeof(*s));

	pthread_once(&once, pick);
#if CK_SUM_AVX2
	if (use_avx2) {
		s->avx2 = ck_sum_avx2_new();
		return s;
	}
#endif
	s->st = XXH3_createState();
	if (!s->st)
		abort();
	XXH3_128bits_reset(s->st);
	return s;
}

void ck_sum_update(struct ck_sum *s, const void *buf, size_t n)
{
#if CK_SUM_AVX2
	if (s->avx2) {
		ck_sum_avx2_update(s->avx2, buf, n);
		return;
	}
#endif
	XXH3_128bits_update(s->st, buf, n);
}

static void hex(const unsigned char digest[16], char out[CK_SUM_HEX + 1])
{
	for (size_t i = 0; i < 16; i++)
		snprintf(out + 2 * i, 3, "%02x", digest[i]);
}

void ck_sum_final(struct ck_sum *s, char out[CK_SUM_HEX + 1])
{
	XXH128_canonical_t c;

#if CK_SUM_AVX2
	if (s->avx2) {
		ck_sum_avx2_final(s->avx2, c.digest);
		s->avx2 = NULL;
		hex(c.digest, out);
		ck_sum_free(s);
		return;
	}
#endif
	XXH128_canonicalFromHash(&c, XXH3_128bits_digest(s->st));
	hex(c.digest, out);
	ck_sum_free(s);
}

void ck_sum_free(struct ck_sum *s)
{
	if (!s)
		return;
#if CK_SUM_AVX2
	if (s->avx2) {
		unsigned char drop[16];

		ck_sum_avx2_final(s->avx2, drop);
	}
#endif
	XXH3_freeState(s->st);
	free(s);
}

void ck_sum_buf(const void *buf, size_t n, char out[CK_SUM_HEX + 1])
{
	struct ck_sum *s = ck_sum_new();

	ck_sum_update(s, buf, n);
	ck_sum_final(s, out);
}

/* Read through a mapping: no copy into a buffer, and the pages stay mapped-in cache for the
 * restore that reads them next. */
int ck_sum_file(int dirfd, const char *name, char out[CK_SUM_HEX + 1], struct werr **err)
{
	_cleanup_close_ int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC);
	struct stat sb;
	void *m;

	if (fd < 0)
		return werr_sys(err, errno, "open %s", name);
	if (fstat(fd, &sb) < 0)
		return werr_sys(err, errno, "stat %s", name);
	if (sb.st_size == 0) {
		ck_sum_buf("", 0, out);
		return 0;
	}
	m = mmap(NULL, (size_t)sb.st_size, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0);
	if (m == MAP_FAILED)
		return werr_sys(err, errno, "map %s", name);
	ck_sum_buf(m, (size_t)sb.st_size, out);
	munmap(m, (size_t)sb.st_size);
	return 0;
}
