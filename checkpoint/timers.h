/* POSIX timers (timer_create) of a process: read from /proc/pid/timers and an injected
 * timer_gettime at dump, created again with the same ids at restore (timers.c). */
#ifndef WARD_CHECKPOINT_TIMERS_H
#define WARD_CHECKPOINT_TIMERS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <yajl/yajl_gen.h>
#include <yajl/yajl_tree.h>

#include "checkpoint/image.h"
#include "lib/err.h"

#ifndef PR_TIMER_CREATE_RESTORE_IDS
#define PR_TIMER_CREATE_RESTORE_IDS 77
#define PR_TIMER_CREATE_RESTORE_IDS_OFF 0
#define PR_TIMER_CREATE_RESTORE_IDS_ON 1
#define PR_TIMER_CREATE_RESTORE_IDS_GET 2
#endif

struct ck_ptimer {
	int id;
	int clock;	/* ClockID */
	int signo;	/* sigev_signo */
	int notify;	/* sigev_notify: SIGEV_SIGNAL, SIGEV_NONE, SIGEV_THREAD, | SIGEV_THREAD_ID */
	pid_t tid;	/* SIGEV_THREAD_ID: the target thread (/proc's view; the image's once mapped) */
	uint64_t value; /* sigev_value */
	uint64_t interval_ns, value_ns; /* timer_gettime: value_ns 0 is disarmed */
	int overrun;			/* timer_getoverrun (informational: cannot be set again) */
};

/* Parse /proc/pid/timers text into a malloc'd array (pure). -EINVAL on a line it cannot read. */
int ck_parse_timers(const char *text, struct ck_ptimer **out, size_t *n);
/* Whether ids (sorted or not) are 0..n-1: what a kernel without PR_TIMER_CREATE_RESTORE_IDS
 * gives a fresh process creating n timers. */
bool ck_timer_ids_dense(const struct ck_ptimer *t, size_t n);

/* Dump: the timers of the stopped process p (threads' host and image tids known), their values
 * by timer_gettime injected at insn in the leader (registers set back). Refused when a kernel
 * without PR_TIMER_CREATE_RESTORE_IDS could not give the same ids again. */
int ck_timers_collect(struct ck_proc *p, uint64_t insn, struct werr **err);
/* Restore: create p's timers in the rebuilt, stopped helper (threads created, every signal
 * blocked, scratch memory at data) with their ids, and arm them with the remaining time. */
int ck_timers_restore(const struct ck_proc *p, const pid_t *host_tids, uint64_t insn, int memfd,
		      uint64_t data, struct werr **err);

/* "posix_timers" in core-<pid>.json (absent when there are none). */
void ck_timers_gen(yajl_gen g, const struct ck_proc *p);
int ck_timers_parse(yajl_val core, struct ck_proc *p, struct werr **err);

#endif
