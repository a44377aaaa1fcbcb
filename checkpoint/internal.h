/* Shared between checkpoint's dump and restore halves (not a public interface). */
#ifndef WARD_CHECKPOINT_INTERNAL_H
#define WARD_CHECKPOINT_INTERNAL_H

#include <stdint.h>
#include <sys/types.h>

#include "checkpoint/image.h"
#include "lib/err.h"

struct ck_collect_opts {
	const struct ck_mm *parent; /* this process in the parent image (pre-copy), or NULL */
	bool track;		    /* start/re-arm write tracking */
	bool leave_running;
};
/* Collect everything of one stopped process (all of tids seized and stopped; tids[0] is the
 * leader) into p, except pids in the image's namespace which the caller fixes up. */
int ck_collect_proc(pid_t host_pid, const pid_t *tids, size_t ntids,
		    const struct ck_collect_opts *o, struct ck_proc *p, struct werr **err);
/* Write pages-<pid>.img from the stopped process host_pid, into dirfd or, if ps is not NULL,
 * to that page server; adds the file's size to *bytes. sum gets the file's sha256 when written
 * into dirfd ("" for the page server, which keeps its own). */
struct ck_ps_conn;
int ck_write_pages(int dirfd, struct ck_ps_conn *ps, pid_t host_pid, const struct ck_proc *p,
		   uint64_t *bytes, char sum[65], struct werr **err);
/* Save the bytes queued in the pipe behind host_pid's fd into pipe-<id>.img (without consuming
 * them), and its size into *size. */
int ck_write_pipe(int dirfd, pid_t host_pid, int fd, uint64_t id, int *size, struct werr **err);

/* Turn the stopped, seized helper host_pid (a fork of the restorer, at the image's pid, its fds
 * already in place plus the readiness pipe at ready_fd) into the image's process p: address
 * space, pages from pages_fd, mm fields, signal actions, per-thread state, credentials and
 * registers. It stays stopped; the caller detaches every thread: host_tids (nthreads entries)
 * gets their tids in the caller's pid namespace. */
struct ck_pagesrc {
	int fd;				 /* pages-<pid>.img */
	const char *map;		 /* its bytes, mapped read-only (NULL when empty) */
	size_t map_len;
	const struct ck_mm *mm;		 /* its index */
	const struct ck_pagesrc *parent; /* where in_parent ranges are (pre-copy), or NULL */
};
int ck_rebuild_proc(pid_t host_pid, const struct ck_proc *p, const struct ck_pagesrc *pages,
		    int ready_fd, pid_t *host_tids, struct werr **err);

/* Write a string to dir/name (0600, replacing). */
int ck_write_text(int dirfd, const char *name, const char *text, struct werr **err);

double ck_now_ms(void);

#endif
