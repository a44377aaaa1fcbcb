/* pages-<pid>.img written locally: this thread copies the pages out of the stopped process
 * (process_vm_readv) into a ring of buffers; a hasher thread and a writer thread take each
 * buffer after it, hashing bytes still in memory instead of reading the file back afterwards.
 *
 * Written through the page cache while that is fast, so that a restore copies the pages from
 * memory instead of reading them from the disk (pages_in.c): a restore from this virtio disk
 * cannot take less than its O_DIRECT read time, ~0.85-1.0 s per GiB. A buffered write of 1 GiB
 * took 0.24-0.5 s when the memory it got was in use recently, but 2.5-4.6 s (CPU time, in the
 * copy into new page cache) when it was memory the host had taken back (this VM reports free
 * memory to the host) or under load; O_DIRECT takes 0.5-0.7 s (1.2-1.7 s under load) and no CPU.
 * So the CPU time of each WINDOW of buffered writes is taken, and once one costs more than 1 s
 * per GiB would, the rest of the file goes O_DIRECT: slow buffered writes cost at most a window
 * more. The pieces are 64 KiB: ext4 sizes page cache folios by the write, and 2 MiB folios (4
 * MiB writes) come from the large free blocks, the ones the host has most likely taken back (a
 * 1 GiB checkpoint in the benchmark, single runs: 4.4 s with 4 MiB writes, 1.1 s with 64 KiB). */
#include "checkpoint/pages_out.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "checkpoint/internal.h"
#include "checkpoint/sum.h"
#include "lib/util.h"

enum { NBUF = 4, BUF = 4 << 20 };
/* Buffered writes are made PIECE bytes at a time, and judged per WINDOW bytes by the CPU time
 * they took: over SLOW_MS for one window (1 s per GiB; warm 0.25-0.5 s, cold 2.5-4.6 s; O_DIRECT
 * needs next to none and wrote 1.6-2 GB/s here), the rest of the file goes O_DIRECT. */
enum { PIECE = 64 << 10, WINDOW = 8 << 20, SLOW_MS = 8 };

/* What is left to do with a buffer; none: free for the filler. */
enum { WRITE = 1, HASH = 2 };

struct ck_pages_out;
struct worker {
	struct ck_pages_out *o;
	int job; /* WRITE or HASH */
	pthread_t th;
	bool up;
};

struct ck_pages_out {
	int fd;
	struct ck_sum *sum;
	char *buf[NBUF];
	size_t len[NBUF];   /* bytes in the buffer */
	int left[NBUF];	    /* WRITE | HASH still to do on it */
	size_t fill;	    /* the buffer being filled */
	bool done;	    /* no more buffers: the workers exit once theirs are done */
	size_t window;	    /* bytes written buffered in this window */
	double window_ms;   /* and the time they took */
	int werrno;	    /* the writer's failure, or 0 */
	struct worker w[2]; /* the writer, the hasher */
	pthread_mutex_t mu;
	pthread_cond_t cv;
};

/* 0 or an errno. A filesystem that took O_DIRECT at open but refuses the write gets the rest
 * buffered. */
static int write_buf(int fd, const char *buf, size_t len)
{
	int r = write_all(fd, buf, len), fl = fcntl(fd, F_GETFL);

	if (r == -EINVAL && fl >= 0 && (fl & O_DIRECT) && fcntl(fd, F_SETFL, fl & ~O_DIRECT) == 0)
		r = write_all(fd, buf, len);
	return r < 0 ? -r : 0;
}

/* CPU time of this thread: what a buffered write costs, whoever else runs on the machine. */
static double thread_cpu_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* write_buf, buffered in pieces of PIECE until a window of them is found slow, then O_DIRECT
 * (where the filesystem takes it) for the rest of the file. */
static int write_timed(struct ck_pages_out *o, const char *buf, size_t len)
{
	int fl = fcntl(o->fd, F_GETFL), e = 0;
	double t;

	if (fl < 0 || (fl & O_DIRECT) || len % 4096)
		return write_buf(o->fd, buf, len);
	t = thread_cpu_ms();
	for (size_t off = 0; off < len && !e; off += PIECE)
		e = write_buf(o->fd, buf + off, len - off < PIECE ? len - off : PIECE);
	o->window += len;
	o->window_ms += thread_cpu_ms() - t;
	if (o->window < WINDOW)
		return e;
	if (o->window_ms > SLOW_MS)
		fcntl(o->fd, F_SETFL, fl | O_DIRECT); /* EINVAL: it stays buffered */
	o->window = 0;
	o->window_ms = 0;
	return e;
}

/* A worker thread: its job on each buffer in ring order, as the filler commits them. */
static void *work(void *arg)
{
	struct worker *w = arg;
	struct ck_pages_out *o = w->o;
	bool failed;
	int e = 0;

	for (size_t i = 0;; i = (i + 1) % NBUF) {
		pthread_mutex_lock(&o->mu);
		while (!(o->left[i] & w->job) && !o->done)
			pthread_cond_wait(&o->cv, &o->mu);
		if (!(o->left[i] & w->job)) {
			pthread_mutex_unlock(&o->mu);
			return NULL;
		}
		failed = o->werrno != 0;
		pthread_mutex_unlock(&o->mu);
		if (w->job == HASH)
			ck_sum_update(o->sum, o->buf[i], o->len[i]);
		else
			e = failed ? 0 : write_timed(o, o->buf[i], o->len[i]);
		pthread_mutex_lock(&o->mu);
		if (e)
			o->werrno = e;
		o->left[i] &= ~w->job;
		pthread_cond_broadcast(&o->cv);
		pthread_mutex_unlock(&o->mu);
	}
}

/* Hashing and writing each buffer on threads of their own, while the dumper fills the next:
 * the copy out of the process, the hash and the write into the page cache take about as long
 * as each other (23, 17 and 28% of a 256 MiB dump's profile). */
struct ck_pages_out *ck_pages_out_new(int fd, struct werr **err)
{
	struct ck_pages_out *o = xcalloc(1, sizeof(*o));

	o->fd = fd;
	o->sum = ck_sum_new();
	for (size_t i = 0; i < NBUF; i++) /* aligned for O_DIRECT */
		if (posix_memalign((void **)&o->buf[i], 4096, BUF) != 0)
			abort();
	pthread_mutex_init(&o->mu, NULL);
	pthread_cond_init(&o->cv, NULL);
	for (int k = 0; k < 2; k++) {
		o->w[k] = (struct worker){.o = o, .job = k ? HASH : WRITE};
		o->w[k].up = pthread_create(&o->w[k].th, NULL, work, &o->w[k]) == 0;
	}
	return o;
}

char *ck_pages_out_buf(struct ck_pages_out *o, size_t *size)
{
	pthread_mutex_lock(&o->mu);
	while (o->left[o->fill])
		pthread_cond_wait(&o->cv, &o->mu);
	pthread_mutex_unlock(&o->mu);
	*size = BUF;
	return o->buf[o->fill];
}

int ck_pages_out_commit(struct ck_pages_out *o, size_t n)
{
	int r, left = 0;

	if (!o->w[1].up) /* no thread could be made: here */
		ck_sum_update(o->sum, o->buf[o->fill], n);
	else
		left |= HASH;
	if (!o->w[0].up) {
		if ((r = write_buf(o->fd, o->buf[o->fill], n)) != 0)
			return -r;
	} else {
		left |= WRITE;
	}
	pthread_mutex_lock(&o->mu);
	o->len[o->fill] = n;
	o->left[o->fill] = left;
	if (left)
		o->fill = (o->fill + 1) % NBUF;
	pthread_cond_broadcast(&o->cv);
	r = -o->werrno;
	pthread_mutex_unlock(&o->mu);
	return r;
}

int ck_pages_out_finish(struct ck_pages_out *o, char sum[CK_SUM_HEX + 1])
{
	char hex[CK_SUM_HEX + 1];
	int r;

	pthread_mutex_lock(&o->mu);
	o->done = true;
	pthread_cond_broadcast(&o->cv);
	pthread_mutex_unlock(&o->mu);
	for (int k = 0; k < 2; k++)
		if (o->w[k].up)
			pthread_join(o->w[k].th, NULL);
	r = -o->werrno;
	ck_sum_final(o->sum, hex);
	if (sum)
		memcpy(sum, hex, sizeof(hex));
	for (size_t i = 0; i < NBUF; i++)
		free(o->buf[i]);
	pthread_mutex_destroy(&o->mu);
	pthread_cond_destroy(&o->cv);
	free(o);
	return r;
}

int ck_pages_open(int dirfd, const char *name)
{
	return openat(dirfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
}
