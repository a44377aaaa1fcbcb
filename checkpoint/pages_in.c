/* pages-<pid>.img read for a restore in 4 MiB chunks handed out in file order. A chunk whole in
 * the page cache (the dump wrote it buffered, or the page server received it) is handed out
 * from a mapping of the file, not copied; the others are read by reader threads into a ring of
 * aligned buffers (O_DIRECT: the disk's transfer into the buffer costs no CPU, and no copy of
 * a 1 GiB image is left in memory) while the restorer copies and hashes the chunk before.
 * Reading and copying one after the other left the disk idle during every copy, and two reads
 * in flight get more out of the virtio disk than one (1 GiB with dd iflag=direct: 1.1 s for
 * one reader, 0.83 s for two on halves). Deciding per chunk: a dump that turned to O_DIRECT
 * part way (pages_out.c) leaves the file's head in the cache, and O_DIRECT reads of a range
 * with dirty cached pages would first write them out. */
#include "checkpoint/pages_in.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "lib/util.h"

enum { NBUF = 4, NTHREAD = 2, CHUNK = 4 << 20 };
enum slot_state { FREE, READING, FULL, HELD };

struct ck_pages_in {
	int fd;
	uint64_t total;
	uint64_t claim; /* the next chunk a reader takes */
	uint64_t take;	/* the next chunk the consumer takes */
	char *buf[NBUF];
	size_t len[NBUF];
	int err[NBUF];
	enum slot_state state[NBUF]; /* chunk k is in slot k % NBUF */
	bool stop;
	size_t held;	    /* 1 + the slot the consumer holds, or 0 */
	const char *map;    /* the file mapped, or NULL */
	unsigned char *hot; /* per chunk: in the page cache, handed out from map */
	int nthreads;
	pthread_t th[NTHREAD];
	pthread_mutex_t mu;
	pthread_cond_t cv;
};

static uint64_t nchunks(const struct ck_pages_in *in)
{
	return (in->total + CHUNK - 1) / CHUNK;
}

/* n bytes at off into buf; 0 or an errno. O_DIRECT is dropped if the filesystem refuses it
 * here. */
static int read_chunk(int fd, char *buf, size_t n, uint64_t off)
{
	ssize_t got = pread(fd, buf, n, (off_t)off);
	int fl;

	if (got < 0 && errno == EINVAL && (fl = fcntl(fd, F_GETFL)) >= 0 && (fl & O_DIRECT) &&
	    fcntl(fd, F_SETFL, fl & ~O_DIRECT) == 0)
		got = pread(fd, buf, n, (off_t)off);
	if (got < 0)
		return errno ? errno : EIO;
	return (size_t)got == n ? 0 : EIO;
}

static size_t chunk_len(const struct ck_pages_in *in, uint64_t k)
{
	uint64_t off = k * CHUNK;

	return in->total - off > CHUNK ? CHUNK : (size_t)(in->total - off);
}

static bool hot(const struct ck_pages_in *in, uint64_t k)
{
	return in->hot && in->hot[k];
}

static void *reader(void *arg)
{
	struct ck_pages_in *in = arg;

	pthread_mutex_lock(&in->mu);
	for (;;) {
		uint64_t k = in->claim;
		size_t s = k % NBUF, n;
		int e;

		if (in->stop || k >= nchunks(in))
			break;
		if (hot(in, k)) { /* the consumer takes it from the mapping */
			in->claim++;
			continue;
		}
		if (in->state[s] != FREE) {
			pthread_cond_wait(&in->cv, &in->mu);
			continue;
		}
		in->claim++;
		in->state[s] = READING;
		n = chunk_len(in, k);
		pthread_mutex_unlock(&in->mu);
		e = read_chunk(in->fd, in->buf[s], n, k * CHUNK);
		pthread_mutex_lock(&in->mu);
		in->len[s] = n;
		in->err[s] = e;
		in->state[s] = FULL;
		pthread_cond_broadcast(&in->cv);
	}
	pthread_mutex_unlock(&in->mu);
	return NULL;
}

/* Which chunks are whole in the page cache (mincore of a mapping); *all: every one of them. */
static void find_hot(struct ck_pages_in *in, bool *all)
{
	size_t pages = (in->total + 4095) / 4096;
	unsigned char *vec;
	void *m = mmap(NULL, in->total, PROT_READ, MAP_SHARED, in->fd, 0);

	*all = false;
	if (m == MAP_FAILED)
		return;
	vec = xmalloc(pages);
	if (mincore(m, in->total, vec) < 0) {
		free(vec);
		munmap(m, in->total);
		return;
	}
	in->map = m;
	in->hot = xcalloc(nchunks(in), 1);
	*all = true;
	for (uint64_t k = 0; k < nchunks(in); k++) {
		size_t first = k * (CHUNK / 4096), last = first + (chunk_len(in, k) + 4095) / 4096;

		in->hot[k] = 1;
		for (size_t i = first; i < last && in->hot[k]; i++)
			in->hot[k] = vec[i] & 1;
		*all = *all && in->hot[k];
		/* Mapped now: UFFDIO_COPY would otherwise fault on every source page. */
		if (in->hot[k])
			madvise((char *)m + k * CHUNK, chunk_len(in, k), MADV_POPULATE_READ);
	}
	free(vec);
}

struct ck_pages_in *ck_pages_in_new(int fd, uint64_t total)
{
	struct ck_pages_in *in = xcalloc(1, sizeof(*in));
	bool all;

	in->fd = fd;
	in->total = total;
	if (!total) /* nothing to read: no threads, no mapping */
		return in;
	find_hot(in, &all);
	if (all) /* nothing to read either */
		return in;
	for (size_t i = 0; i < NBUF; i++)
		if (posix_memalign((void **)&in->buf[i], 4096, CHUNK) != 0)
			abort();
	pthread_mutex_init(&in->mu, NULL);
	pthread_cond_init(&in->cv, NULL);
	for (int i = 0; i < NTHREAD; i++)
		if (pthread_create(&in->th[in->nthreads], NULL, reader, in) == 0)
			in->nthreads++;
	return in;
}

const char *ck_pages_in_next(struct ck_pages_in *in, size_t *n)
{
	uint64_t k = in->take;
	size_t s = k % NBUF;
	int e;

	*n = 0;
	if (in->buf[0]) {
		pthread_mutex_lock(&in->mu);
		if (in->held) { /* done with: may be refilled */
			in->state[in->held - 1] = FREE;
			in->held = 0;
			pthread_cond_broadcast(&in->cv);
		}
		pthread_mutex_unlock(&in->mu);
	}
	if (k >= nchunks(in))
		return NULL;
	in->take = k + 1;
	if (!in->buf[0] || hot(in, k)) {
		*n = chunk_len(in, k);
		return in->map + k * CHUNK;
	}
	pthread_mutex_lock(&in->mu);
	if (!in->nthreads) { /* no thread could be made: read here */
		in->claim = k + 1;
		in->len[s] = chunk_len(in, k);
		in->err[s] = read_chunk(in->fd, in->buf[s], in->len[s], k * CHUNK);
		in->state[s] = FULL;
	}
	while (in->state[s] != FULL)
		pthread_cond_wait(&in->cv, &in->mu);
	in->state[s] = HELD;
	in->held = s + 1;
	pthread_mutex_unlock(&in->mu);
	if ((e = in->err[s]) != 0) {
		*n = 1;
		errno = e;
		return NULL;
	}
	*n = in->len[s];
	return in->buf[s];
}

bool ck_pages_in_held(const struct ck_pages_in *in)
{
	return in->held != 0;
}

void ck_pages_in_free(struct ck_pages_in *in)
{
	if (!in)
		return;
	if (in->map)
		munmap((void *)in->map, in->total);
	free(in->hot);
	if (!in->buf[0]) {
		free(in);
		return;
	}
	pthread_mutex_lock(&in->mu);
	in->stop = true;
	pthread_cond_broadcast(&in->cv);
	pthread_mutex_unlock(&in->mu);
	for (int i = 0; i < in->nthreads; i++)
		pthread_join(in->th[i], NULL);
	for (size_t i = 0; i < NBUF; i++)
		free(in->buf[i]);
	pthread_mutex_destroy(&in->mu);
	pthread_cond_destroy(&in->cv);
	free(in);
}
