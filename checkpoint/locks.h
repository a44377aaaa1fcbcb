/* File locks held through the tree's fds (locks.c): POSIX record locks (a process's), flock and
 * OFD locks (an open file description's), read from fdinfo's "lock:" lines at dump, taken again
 * by injected fcntl/flock in the owning process at restore. */
#ifndef WARD_CHECKPOINT_LOCKS_H
#define WARD_CHECKPOINT_LOCKS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <yajl/yajl_gen.h>
#include <yajl/yajl_tree.h>

#include "checkpoint/image.h"
#include "checkpoint/inventory.h"
#include "lib/err.h"

/* One line of /proc/locks or of fdinfo's "lock:" (after the tab), e.g.
 * "1: POSIX  ADVISORY  WRITE 1234 08:01:5678 0 EOF". */
struct ck_lock_line {
	char kind[16];	/* POSIX, FLOCK, OFDLCK, LEASE, DELEG, ACCESS, ... */
	char mode[16];	/* ADVISORY, MANDATORY (leases: ACTIVE, BREAKING, ...) */
	bool blocked;	/* "->": a request waiting for the lock */
	bool write;	/* WRITE; READ otherwise */
	pid_t pid;	/* the holder (-1 for OFD locks), in the pid namespace of that /proc */
	uint64_t start;
	uint64_t len;	/* bytes; 0: up to EOF (the end column's "EOF") */
};
/* Parse one line (pure): 0, or -EINVAL. */
int ck_lock_parse_line(const char *line, struct ck_lock_line *out);

/* Dump: the locks of every fd of procs (file_ids numbered), each recorded once on the fd it is
 * restored through (a POSIX lock on the first fd of its process and description, an flock or OFD
 * lock on the first fd of its description in the tree). Without save, a lock anywhere in the tree
 * refuses the checkpoint naming the process, fd and file. Leases, mandatory locks, a POSIX lock
 * of another process in an fd's list, and lock requests of the tree still waiting are refused
 * too. Raises inv's format to CK_FORMAT_LOCKS when any lock is recorded. */
int ck_locks_dump(struct ck_proc *procs, size_t n, bool save, struct ck_inventory *inv,
		  struct werr **err);

/* Restore: take p's recorded locks again by system calls injected in its stopped, rebuilt
 * leader host_pid (at insn; data: writable scratch memory there, written through memfd). A lock
 * held by someone else fails, naming the file and the process. */
int ck_locks_restore(const struct ck_proc *p, pid_t host_pid, uint64_t insn, int memfd,
		     uint64_t data, struct werr **err);

/* fds-<pid>.json: an fd's optional "locks" array. */
void ck_locks_gen(yajl_gen g, const struct ck_fd *f);
int ck_locks_parse(yajl_val fd_obj, struct ck_fd *f, struct werr **err);

#endif
