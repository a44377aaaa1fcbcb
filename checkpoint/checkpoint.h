/* ward's checkpoint/restore engine (issue 7): dump a process tree into an image directory
 * (format v1, checkpoint/FORMAT.md) and rebuild it at the same pids. */
#ifndef WARD_CHECKPOINT_CHECKPOINT_H
#define WARD_CHECKPOINT_CHECKPOINT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "lib/err.h"

struct ck_dump_opts {
	pid_t root;	    /* the tree's root, in the caller's pid namespace */
	const char *cgroup; /* a v1 freezer or v2 cgroup directory to freeze meanwhile, or NULL */
	const char *dir;    /* image directory (created if missing) */
	bool leave_running; /* detach and let the tree go on; otherwise SIGKILL it */
	/* Instead of cgroup: freeze (frozen true) and thaw the tree's cgroup (ward's cgroup
	 * manager, v1 freezer or v2). */
	int (*freeze)(void *arg, bool frozen, struct werr **err);
	void *freeze_arg;
	/* Files the caller put in dir that the inventory must vouch for too (NULL-terminated). */
	const char *const *extra_files;
	/* Pre-copy. track: leave the tree running with its writes tracked (a userfaultfd in each
	 * process, at its highest allowed fd) so that a later dump with parent = this dir saves
	 * only what changed. parent: the previous dump of the same tree, taken with track. */
	bool track;
	const char *parent;
	/* Page server (page_server.h): pages-*.img go there instead of dir (their sums still go
	 * into dir's inventory), then every file of the image is sent too, so that the receiver
	 * holds a whole image; parent is then recorded as "../<its name>" (a sibling on both
	 * ends). The caller ends the stream (ck_ps_finish). */
	struct ck_ps_conn *page_server;
	/* The container's terminal, made by its runtime (a pty slave: the st_dev of its devpts
	 * and its st_rdev): an fd of it is saved as such, with its settings, and restore gives
	 * the new container's (ck_restore_set_tty). rdev 0: none; any terminal is refused. */
	dev_t console_dev, console_rdev;
	/* Save the file locks held through the tree's fds (locks.h), taken again at restore;
	 * without it a tree holding any is refused (runc's --file-locks). */
	bool file_locks;
};

/* Where a dump's time goes (ck_stats.phase_ms; ward --debug prints them). */
enum ck_phase {
	CK_PH_TMPFS,   /* the container's tmpfs archived (cgroup frozen already) */
	CK_PH_STOP,    /* freeze, seize and interrupt every thread, wait for the stops */
	CK_PH_PROC,    /* /proc: ids, cwd/root, rlimits, fds, threads' registers and status */
	CK_PH_INJECT,  /* injected system calls: sigactions, brk, tid address, altstack, itimers */
	CK_PH_MM,      /* VMAs, pagemap, write tracking */
	CK_PH_FDX,     /* pipes' queued bytes, other fd kinds */
	CK_PH_META,    /* JSON files */
	CK_PH_PAGES,   /* pages copied out (and written or sent) */
	CK_PH_RELEASE, /* SIGKILL sent, or detach: the end of the frozen time */
	/* After the frozen time: */
	CK_PH_SEND,    /* a final round to a page server: the JSON files written and the pages
			* held in memory sent */
	CK_PH_REAP,    /* the killed tree reaped */
	CK_NPHASES
};
const char *ck_phase_name(enum ck_phase ph);
/* CLOCK_MONOTONIC in ms. */
double ck_now_ms(void);
/* "stop 3.1 proc 0.4 ..." (ms, the phases that took any time) into buf. */
void ck_phases_format(const double phase_ms[CK_NPHASES], char *buf, size_t size);

struct ck_stats {
	int nprocs, nthreads;
	double phase_ms[CK_NPHASES];
	uint64_t pages_bytes; /* bytes of pages-*.img */
	uint64_t image_bytes; /* every file of the image */
	double frozen_ms;     /* from the first stop to detach/kill (dump) or to the first
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

/* The same in steps, for a root process made by someone else (ward restore: the container's
 * init, made by the create code with its namespaces, cgroup and rootfs):
 *   ck_restore_open    verify and load the image (in the caller, before the root exists);
 *   ck_restore_become_root  in the root process (at the image's root pid in its pid namespace,
 *                      with the root's mount namespace and root directory): open the saved
 *                      files, fork the rest of the tree, wait to be rebuilt. Returns only on
 *                      failure;
 *   ck_restore_finish  in the caller: wait for the tree, rebuild every process over ptrace,
 *                      let them go. root_host is the root's pid in the caller's namespace. */
struct ck_restore;
int ck_restore_open(const char *dir, struct ck_restore **out, struct werr **err);
pid_t ck_restore_root_pid(const struct ck_restore *r);
/* Whether a thread of the image gets seccomp filters back (its own, saved at dump time). */
bool ck_restore_has_seccomp(const struct ck_restore *r);
int ck_restore_become_root(struct ck_restore *r, struct werr **err);
int ck_restore_finish(struct ck_restore *r, pid_t root_host, struct ck_stats *st,
		      struct werr **err);
void ck_restore_free(struct ck_restore *r);
/* Whether the image has the container's terminal (an fd of kind tty), and, before
 * ck_restore_become_root, the new container's (tty_fd is duplicated). */
bool ck_restore_has_tty(const struct ck_restore *r);
/* Whether the image's inventory lists (and so has checked) cgroup-updates.jsonl: restore
 * applies no updates file that the inventory does not vouch for. */
bool ck_restore_lists_updates(const struct ck_restore *r);
int ck_restore_set_tty(struct ck_restore *r, int tty_fd, struct werr **err);

#endif
