/* The copy of a restored process's pages into it, by two copier threads, while the restorer
 * hashes the same chunk (it is in the cache for both). Measured here (1 GiB, 2 vCPUs):
 * MAP_POPULATE 263 ms and then process_vm_writev 257-286 ms on one thread (142-145 on two);
 * UFFDIO_COPY into a range registered with a userfaultfd of the process, which allocates each
 * page and copies into it without clearing it first, 298 ms on one thread and 166-171 ms on two.
 * So memory registered with a userfaultfd is filled by UFFDIO_COPY, the rest (file mappings,
 * shared memory, or no userfaultfd) by process_vm_writev, /proc/pid/mem where that fails. */
#include "checkpoint/pages_fill.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/uio.h>
#include <unistd.h>

#include "lib/util.h"

/* Pieces a copier takes at once: the 2 MiB a page table covers (aligned), so that the two
 * copiers do not take turns at one page table's lock; both still share a 4 MiB chunk. */
enum { NTHREAD = 2, PIECE = 2 << 20, GRAB_SEGS = 64 };

struct seg {
	const char *local;
	uint64_t remote;
	size_t len;
	bool uffd;
};

struct ck_fill {
	pid_t pid;
	int uffd, memfd;
	struct seg *segs;
	size_t n, cap; /* queued */
	size_t avail;  /* handed to the copiers: segs[0..avail) */
	size_t next;   /* the next one a copier takes */
	size_t done;   /* copied (or failed) */
	int err;       /* the first failure (errno), or 0 */
	uint64_t err_addr;
	bool stop;
	int nthreads;
	pthread_t th[NTHREAD];
	pthread_mutex_t mu;
	pthread_cond_t work, idle;
};

static int by_uffd(const struct ck_fill *f, const struct seg *s)
{
	struct uffdio_copy c = {
		.dst = s->remote, .src = (uint64_t)(uintptr_t)s->local, .len = s->len};

	while (ioctl(f->uffd, UFFDIO_COPY, &c) < 0) {
		if (errno != EAGAIN)
			return errno;
		if (c.copy > 0) { /* partly done (the mm changed under it): the rest */
			c.dst += (uint64_t)c.copy;
			c.src += (uint64_t)c.copy;
			c.len -= (uint64_t)c.copy;
		}
		c.copy = 0;
	}
	return 0;
}

/* segs[0..n), none by uffd: one process_vm_writev, each by /proc/pid/mem if that falls short. */
static int by_writev(const struct ck_fill *f, const struct seg *s, size_t n, uint64_t *addr)
{
	struct iovec local[GRAB_SEGS] = {{0}}, remote[GRAB_SEGS] = {{0}}; /* gcc -O1 */
	ssize_t want = 0;

	for (size_t i = 0; i < n; i++) {
		local[i] = (struct iovec){(void *)s[i].local, s[i].len};
		remote[i] = (struct iovec){(void *)(uintptr_t)s[i].remote, s[i].len};
		want += (ssize_t)s[i].len;
	}
	if (process_vm_writev(f->pid, local, n, remote, n, 0) == want)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (pwrite(f->memfd, s[i].local, s[i].len, (off_t)s[i].remote) !=
		    (ssize_t)s[i].len) {
			*addr = s[i].remote;
			return errno ? errno : EIO;
		}
	return 0;
}

static void *copier(void *arg)
{
	struct ck_fill *f = arg;

	pthread_mutex_lock(&f->mu);
	for (;;) {
		struct seg run[GRAB_SEGS]; /* copied: segs may grow (move) meanwhile */
		size_t i = f->next, n = 0, bytes = 0;
		uint64_t addr;
		int e;

		if (f->stop)
			break;
		if (i >= f->avail) {
			pthread_cond_wait(&f->work, &f->mu);
			continue;
		}
		/* A run of writev segments up to a piece, or one uffd segment. */
		do {
			run[n] = f->segs[i + n];
			bytes += run[n++].len;
		} while (!run[0].uffd && i + n < f->avail && n < GRAB_SEGS &&
			 !f->segs[i + n].uffd && bytes + f->segs[i + n].len <= PIECE);
		f->next = i + n;
		pthread_mutex_unlock(&f->mu);
		addr = run[0].remote;
		e = run[0].uffd ? by_uffd(f, run) : by_writev(f, run, n, &addr);
		pthread_mutex_lock(&f->mu);
		if (e && !f->err) {
			f->err = e;
			f->err_addr = addr;
		}
		f->done += n;
		if (f->done == f->avail)
			pthread_cond_broadcast(&f->idle);
	}
	pthread_mutex_unlock(&f->mu);
	return NULL;
}

struct ck_fill *ck_fill_new(pid_t pid, int uffd, int memfd)
{
	struct ck_fill *f = xcalloc(1, sizeof(*f));

	f->pid = pid;
	f->uffd = uffd;
	f->memfd = memfd;
	pthread_mutex_init(&f->mu, NULL);
	pthread_cond_init(&f->work, NULL);
	pthread_cond_init(&f->idle, NULL);
	for (int i = 0; i < NTHREAD; i++)
		if (pthread_create(&f->th[f->nthreads], NULL, copier, f) == 0)
			f->nthreads++;
	return f;
}

void ck_fill_add(struct ck_fill *f, const void *local, uint64_t remote, size_t len, bool uffd)
{
	const char *l = local;

	while (len) {
		size_t m = PIECE - remote % PIECE;

		if (m > len)
			m = len;
		if (f->n == f->cap) {
			f->cap = f->cap ? 2 * f->cap : 256;
			pthread_mutex_lock(&f->mu); /* copiers read segs under the lock */
			f->segs = xrealloc(f->segs, f->cap * sizeof(*f->segs));
			pthread_mutex_unlock(&f->mu);
		}
		f->segs[f->n++] = (struct seg){l, remote, m, uffd};
		l += m;
		remote += m;
		len -= m;
	}
}

void ck_fill_start(struct ck_fill *f)
{
	pthread_mutex_lock(&f->mu);
	f->avail = f->n;
	pthread_cond_broadcast(&f->work);
	pthread_mutex_unlock(&f->mu);
}

int ck_fill_wait(struct ck_fill *f, uint64_t *addr)
{
	int e;

	ck_fill_start(f);
	pthread_mutex_lock(&f->mu);
	for (; !f->nthreads && f->next < f->avail; f->next++, f->done++) { /* no copier: here */
		const struct seg *s = &f->segs[f->next];

		if (f->err)
			continue;
		f->err_addr = s->remote;
		f->err = s->uffd ? by_uffd(f, s) : by_writev(f, s, 1, &f->err_addr);
	}
	while (f->done < f->avail)
		pthread_cond_wait(&f->idle, &f->mu);
	e = f->err;
	*addr = f->err_addr;
	f->n = f->avail = f->next = f->done = 0;
	f->err = 0;
	pthread_mutex_unlock(&f->mu);
	return -e;
}

void ck_fill_free(struct ck_fill *f)
{
	if (!f)
		return;
	pthread_mutex_lock(&f->mu);
	f->stop = true;
	pthread_cond_broadcast(&f->work);
	pthread_mutex_unlock(&f->mu);
	for (int i = 0; i < f->nthreads; i++)
		pthread_join(f->th[i], NULL);
	pthread_mutex_destroy(&f->mu);
	pthread_cond_destroy(&f->work);
	pthread_cond_destroy(&f->idle);
	free(f->segs);
	free(f);
}
