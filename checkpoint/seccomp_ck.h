/* Seccomp filters of the checkpointed tree (seccomp_ck.c, FORMAT.md "seccomp.json"): each
 * thread's chain read at dump, every distinct filter saved once, the chains installed again at
 * restore by seccomp(2) injected in each thread. Not a public interface. */
#ifndef WARD_CHECKPOINT_SECCOMP_CK_H
#define WARD_CHECKPOINT_SECCOMP_CK_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "checkpoint/image.h"
#include "checkpoint/inventory.h"
#include "lib/err.h"

/* Dump, thread t of p stopped (seized with no options) and before anything is injected in it:
 * mode is its Seccomp field of /proc/.../status. Strict mode and a filter that hands calls to a
 * listener (SECCOMP_RET_USER_NOTIF) are refused naming the process; a filter chain is read into
 * t->filters and the thread's filters are suspended while it is traced
 * (PTRACE_O_SUSPEND_SECCOMP), so that the calls the dump injects are not filtered. */
int ck_seccomp_collect(const struct ck_proc *p, struct ck_thread *t, pid_t host_tid, int mode,
		       struct werr **err);
/* Dump, all processes collected: every distinct filter once into seccomp.json, each thread's
 * seccomp_id set, the file added to inv and inv->format set to CK_FORMAT_SECCOMP. Nothing is
 * written when no thread has a filter. */
int ck_seccomp_dump(int dirfd, struct ck_proc *procs, size_t n, struct ck_inventory *inv,
		    struct werr **err);

/* Restore: seccomp.json of the image (when the inventory lists it) checked, and each thread's
 * chain (seccomp_id) copied into its filters. */
int ck_seccomp_load(int dirfd, const struct ck_inventory *inv, struct ck_proc *procs, size_t n,
		    struct werr **err);
/* The ptrace options a helper of p is seized with in addition: PTRACE_O_SUSPEND_SECCOMP when one
 * of its threads gets filters (see ck_seccomp_restore). */
unsigned long ck_seccomp_ptrace_opts(const struct ck_proc *p);
/* Restore, in the rebuilt helper whose threads exist (host_tids), still stopped and holding
 * every capability, before its credentials: each thread's chain, oldest first. insn is a
 * `syscall` instruction in the task, memfd its /proc/pid/mem. */
int ck_seccomp_restore(const struct ck_proc *p, const pid_t *host_tids, uint64_t insn, int memfd,
		       struct werr **err);

#endif
