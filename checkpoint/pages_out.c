/* pages-<pid>.img written locally: this thread copies the pages out of the stopped process
 * (process_vm_readv) and hashes them while a writer thread puts the previous buffer into the
 * file. The copy into the page cache costs as much as the copy and the hash together; doing
 * them side by side, and hashing bytes still in the cache instead of reading the file back
 * afterwards, is what makes a large dump fast. */
#include "checkpoint/pages_out.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "checkpoint/sum.h"
#include "lib/util.h"

enum { NBUF = 2, BUF = 4 << 20 };

struct ck_pages_out {
	int fd;
	struct ck_sum *sum;
	char *buf[NBUF];
	size_t len[NBUF]; /* bytes to write; 0: free for the filler */
	size_t fill;	  /* the buffer being filled */
	bool done;	  /* no more buffers: the writer exits once they are written */
	int werrno;	  /* the writer's failure, or 0 */
	pthread_t th;
	pthread_mutex_t mu;
	pthread_cond_t cv;
};

static void *writer(void *arg)
{
	struct ck_pages_out *o = arg;
	bool failed;
	int e;

	for (size_t i = 0;; i = (i + 1) % NBUF) {
		pthread_mutex_lock(&o->mu);
		while (!o->len[i] && !o->done)
			pthread_cond_wait(&o->cv, &o->mu);
		if (!o->len[i]) {
			pthread_mutex_unlock(&o->mu);
			return NULL;
		}
		failed = o->werrno != 0;
		pthread_mutex_unlock(&o->mu);
		e = failed || write_all(o->fd, o->buf[i], o->len[i]) == 0 ? 0 : errno ? errno : EIO;
		pthread_mutex_lock(&o->mu);
		if (e)
			o->werrno = e;
		o->len[i] = 0;
		pthread_cond_broadcast(&o->cv);
		pthread_mutex_unlock(&o->mu);
	}
}

struct ck_pages_out *ck_pages_out_new(int fd, struct werr **err)
{
	struct ck_pages_out *o = xcalloc(1, sizeof(*o));

	o->fd = fd;
	o->sum = ck_sum_new();
	for (size_t i = 0; i < NBUF; i++)
		o->buf[i] = xmalloc(BUF);
	pthread_mutex_init(&o->mu, NULL);
	pthread_cond_init(&o->cv, NULL);
	if (pthread_create(&o->th, NULL, writer, o) != 0) {
		o->th = 0;
		o->done = true;
	}
	return o;
}

char *ck_pages_out_buf(struct ck_pages_out *o, size_t *size)
{
	pthread_mutex_lock(&o->mu);
	while (o->len[o->fill])
		pthread_cond_wait(&o->cv, &o->mu);
	pthread_mutex_unlock(&o->mu);
	*size = BUF;
	return o->buf[o->fill];
}

int ck_pages_out_commit(struct ck_pages_out *o, size_t n)
{
	int r;

	ck_sum_update(o->sum, o->buf[o->fill], n);
	if (!o->th) { /* no thread could be made: write here */
		if (write_all(o->fd, o->buf[o->fill], n) < 0)
			return -(errno ? errno : EIO);
		return 0;
	}
	pthread_mutex_lock(&o->mu);
	o->len[o->fill] = n;
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
	if (o->th)
		pthread_join(o->th, NULL);
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
