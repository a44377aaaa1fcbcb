/* Image file checksums: XXH3-128 (see sum.h). */
#include "checkpoint/sum.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#include "lib/util.h"

struct ck_sum {
	XXH3_state_t *st;
};

struct ck_sum *ck_sum_new(void)
{
	struct ck_sum *s = xcalloc(1, sizeof(*s));

	s->st = XXH3_createState();
	if (!s->st)
		abort();
	XXH3_128bits_reset(s->st);
	return s;
}

void ck_sum_update(struct ck_sum *s, const void *buf, size_t n)
{
	XXH3_128bits_update(s->st, buf, n);
}

static void hex(XXH128_hash_t h, char out[CK_SUM_HEX + 1])
{
	XXH128_canonical_t c;

	XXH128_canonicalFromHash(&c, h);
	for (size_t i = 0; i < sizeof(c.digest); i++)
		snprintf(out + 2 * i, 3, "%02x", c.digest[i]);
}

void ck_sum_final(struct ck_sum *s, char out[CK_SUM_HEX + 1])
{
	hex(XXH3_128bits_digest(s->st), out);
	ck_sum_free(s);
}

void ck_sum_free(struct ck_sum *s)
{
	if (!s)
		return;
	XXH3_freeState(s->st);
	free(s);
}

void ck_sum_buf(const void *buf, size_t n, char out[CK_SUM_HEX + 1])
{
	hex(XXH3_128bits(buf, n), out);
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
