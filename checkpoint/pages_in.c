/* pages-<pid>.img read for a restore: a reader thread reads the file in 4 MiB chunks, in order,
 * into a ring of aligned buffers (O_DIRECT: the disk's transfer into the buffer costs no CPU),
 * while the restorer hashes the previous chunk and copies it into the process. Reading and
 * copying one after the other left the disk idle during every copy. */
#include "checkpoint/pages_in.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <unistd.h>

#include "lib/util.h"

enum { NBUF = 3, CHUNK = 4 << 20 };

struct ck_pages_in {
	int fd;
	uint64_t total, off; /* off: the next chunk the reader reads */
	char *buf[NBUF];
	size_t len[NBUF];
	int err[NBUF];
	bool full[NBUF];
	size_t next; /* the buffer the consumer takes next */
	bool held;   /* the one before it is still the consumer's */
	bool stop, started;
	pthread_t th;
	pthread_mutex_t mu;
	pthread_cond_t cv;
};

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

static void *reader(void *arg)
{
	struct ck_pages_in *in = arg;

	for (size_t i = 0;; i = (i + 1) % NBUF) {
		size_t n;
		int e;

		pthread_mutex_lock(&in->mu);
		while (in->full[i] && !in->stop)
			pthread_cond_wait(&in->cv, &in->mu);
		if (in->stop || in->off >= in->total) {
			pthread_mutex_unlock(&in->mu);
			return NULL;
		}
		n = in->total - in->off > CHUNK ? CHUNK : (size_t)(in->total - in->off);
		pthread_mutex_unlock(&in->mu);
		e = read_chunk(in->fd, in->buf[i], n, in->off);
		pthread_mutex_lock(&in->mu);
		in->len[i] = n;
		in->err[i] = e;
		in->full[i] = true;
		in->off = e ? in->total : in->off + n; /* a failure ends the reading */
		pthread_cond_broadcast(&in->cv);
		pthread_mutex_unlock(&in->mu);
	}
}

struct ck_pages_in *ck_pages_in_new(int fd, uint64_t total)
{
	struct ck_pages_in *in = xcalloc(1, sizeof(*in));

	in->fd = fd;
	in->total = total;
	for (size_t i = 0; i < NBUF; i++)
		if (posix_memalign((void **)&in->buf[i], 4096, CHUNK) != 0)
			abort();
	pthread_mutex_init(&in->mu, NULL);
	pthread_cond_init(&in->cv, NULL);
	in->started = pthread_create(&in->th, NULL, reader, in) == 0;
	return in;
}

const char *ck_pages_in_next(struct ck_pages_in *in, size_t *n)
{
	size_t i = in->next;
	int e;

	*n = 0;
	if (!in->started) { /* no thread: read here, into buffer 0 */
		if (in->off >= in->total)
			return NULL;
		*n = in->total - in->off > CHUNK ? CHUNK : (size_t)(in->total - in->off);
		if ((e = read_chunk(in->fd, in->buf[0], *n, in->off)) != 0) {
			*n = 1;
			errno = e;
			return NULL;
		}
		in->off += *n;
		return in->buf[0];
	}
	pthread_mutex_lock(&in->mu);
	if (in->held) { /* the chunk handed out last is done with: the reader may refill it */
		in->full[(i + NBUF - 1) % NBUF] = false;
		in->held = false;
		pthread_cond_broadcast(&in->cv);
	}
	while (!in->full[i] && in->off < in->total)
		pthread_cond_wait(&in->cv, &in->mu);
	if (!in->full[i]) {
		pthread_mutex_unlock(&in->mu);
		return NULL;
	}
	pthread_mutex_unlock(&in->mu);
	if (in->err[i]) {
		*n = 1;
		errno = in->err[i];
		return NULL;
	}
	*n = in->len[i];
	in->next = (i + 1) % NBUF;
	in->held = true;
	return in->buf[i];
}

void ck_pages_in_free(struct ck_pages_in *in)
{
	if (!in)
		return;
	pthread_mutex_lock(&in->mu);
	in->stop = true;
	pthread_cond_broadcast(&in->cv);
	pthread_mutex_unlock(&in->mu);
	if (in->started)
		pthread_join(in->th, NULL);
	for (size_t i = 0; i < NBUF; i++)
		free(in->buf[i]);
	pthread_mutex_destroy(&in->mu);
	pthread_cond_destroy(&in->cv);
	free(in);
}
