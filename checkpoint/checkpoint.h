/* ward's checkpoint/restore engine (issue 7): dump a process tree into an image directory
 * (format v1, checkpoint/FORMAT.md) and rebuild it at the same pids. */
#ifndef WARD_CHECKPOINT_CHECKPOINT_H
#define WARD_CHECKPOINT_CHECKPOINT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "lib/err.h"

struct ck_dump_opts {
	pid_t root;	     /* the tree's root, in the caller's pid namespace */
	const char *cgroup;  /* a v1 freezer or v2 cgroup directory to freeze meanwhile, or NULL */
	const char *dir;     /* image directory (created if missing) */
	bool leave_running;  /* detach and let the tree go on; otherwise SIGKILL it */
};

struct ck_stats {
	int nprocs, nthreads;
	uint64_t pages_bytes;	/* bytes of pages-*.img */
	uint64_t image_bytes;	/* every file of the image */
	double frozen_ms;	/* from the first stop to detach/kill (dump) or to the first
				 * thread resuming (restore) */
	double total_ms;
};

/* Dump the tree rooted at o->root. On failure the tree is left running (detached, thawed)
 * and *err names the process and the reason (e.g. an fd of a kind that cannot be saved). */
int ck_dump(const struct ck_dump_opts *o, struct ck_stats *st, struct werr **err);

struct ck_restore_opts {
	const char *dir;
};

/* Rebuild the image's tree as children of the calling process, at the image's pids (the
 * caller needs CAP_SYS_ADMIN over its pid namespace, and the pids must be free). The tree runs
 * when this returns; *root gets the root's pid, to wait for. */
int ck_restore(const struct ck_restore_opts *o, pid_t *root, struct ck_stats *st,
	       struct werr **err);

#endif
