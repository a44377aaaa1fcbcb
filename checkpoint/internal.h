/* Shared between checkpoint's dump and restore halves (not a public interface). */
#ifndef WARD_CHECKPOINT_INTERNAL_H
#define WARD_CHECKPOINT_INTERNAL_H

#include <stdint.h>
#include <sys/types.h>

#include "checkpoint/checkpoint.h"
#include "checkpoint/image.h"
#include "checkpoint/sum.h"
#include "lib/err.h"

struct ck_collect_opts {
	const struct ck_mm *parent; /* this process in the parent image (pre-copy), or NULL */
	bool track;		    /* start/re-arm write tracking */
	bool chain;		    /* the dump has a parent image (the tree was tracked) */
	bool leave_running;
	dev_t console_dev, console_rdev; /* ck_dump_opts' */
	double *phase_ms; /* ck_stats.phase_ms: time spent here added, or NULL */
};
/* Collect everything of one stopped process (all of tids seized and stopped; tids[0] is the
 * leader) into p, except pids in the image's namespace which the caller fixes up. */
int ck_collect_proc(pid_t host_pid, const pid_t *tids, size_t ntids,
		    const struct ck_collect_opts *o, struct ck_proc *p, struct werr **err);
/* Write pages-<pid>.img from the stopped process host_pid, into dirfd or, if ps is not NULL,
 * to that page server; adds the file's size to *bytes. sum gets the file's sum (sum.h) when written
 * into dirfd ("" for the page server, which keeps its own). */
struct ck_ps_conn;
int ck_write_pages(int dirfd, struct ck_ps_conn *ps, pid_t host_pid, const struct ck_proc *p,
		   uint64_t *bytes, char sum[CK_SUM_HEX + 1], struct werr **err);
/* Save the bytes queued in the pipe behind host_pid's fd into pipe-<id>.img (without consuming
 * them), and its size into *size. */
/* Bytes of pages-<pid>.img (the ranges not in the parent). */
uint64_t ck_pages_size(const struct ck_mm *mm);
/* The same pages into one malloc'd buffer (*out, *len), to be sent once the tree is released
 * (ck_send_pages_held: pages-<pid>.img to the page server). */
int ck_read_pages(pid_t host_pid, const struct ck_proc *p, char **out, size_t *len,
		  struct werr **err);
int ck_send_pages_held(struct ck_ps_conn *ps, pid_t pid, const char *buf, size_t len,
		       struct werr **err);
int ck_write_pipe(int dirfd, pid_t host_pid, int fd, uint64_t id, int *size, struct werr **err);

/* Turn the stopped, seized helper host_pid (a fork of the restorer, at the image's pid, its fds
 * already in place plus the readiness pipe at ready_fd) into the image's process p: address
 * space, pages from pages_fd, mm fields, signal actions, per-thread state, credentials and
 * registers. It stays stopped; the caller detaches every thread: host_tids (nthreads entries)
 * gets their tids in the caller's pid namespace. */
struct ck_pagesrc {
	int fd;				 /* pages-<pid>.img, read once in order */
	char name[64];			 /* for messages */
	const char *sum;		 /* checked against this sum as it is read */
	const struct ck_mm *mm;		 /* its index */
	const struct ck_pagesrc *parent; /* where in_parent ranges are (pre-copy), or NULL */
};
/* shm: the tree's shared memory objects, mapped at shm[i].addr in the helper (inherited). */
int ck_rebuild_proc(pid_t host_pid, const struct ck_proc *p, const struct ck_pagesrc *pages,
		    const struct ck_shmem *shm, size_t nshm, int ready_fd, pid_t *host_tids,
		    struct werr **err);

/* Write a string to dir/name (0600, replacing). */
int ck_write_text(int dirfd, const char *name, const char *text, struct werr **err);

/* Add the time since *t to phase ph of phase_ms (if not NULL); *t becomes now. */
static inline void ck_phase_add(double *phase_ms, int ph, double *t)
{
	double now = ck_now_ms();

	if (phase_ms)
		phase_ms[ph] += now - *t;
	*t = now;
}

#endif
