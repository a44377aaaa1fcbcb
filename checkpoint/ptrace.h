/* ptrace for checkpoint: seize/interrupt, register sets, and system calls run inside a stopped
 * task (set its registers to a `syscall` instruction, single-step, read rax). */
#ifndef WARD_CHECKPOINT_PTRACE_H
#define WARD_CHECKPOINT_PTRACE_H

#include <stdint.h>
#include <sys/types.h>
#include <sys/user.h>

#include "lib/err.h"

/* A `syscall` instruction in ward's own text: at the same address in every process forked from
 * this one (restore's helpers), so it can run their first injected calls. */
extern char ck_syscall_insn[];

/* PTRACE_SEIZE, then PTRACE_INTERRUPT. Waiting for the stop is separate (frozen tasks stop only
 * once thawed). */
int ck_seize(pid_t tid, unsigned long options, struct werr **err);
int ck_interrupt(pid_t tid, struct werr **err);
/* Wait until tid is in a ptrace stop (PTRACE_EVENT_STOP or a signal stop). A signal that arrives
 * first is delivered (the task runs its handler or default action) and the wait goes on. */
int ck_wait_stop(pid_t tid, struct werr **err);

int ck_get_regs(pid_t tid, struct user_regs_struct *regs, struct werr **err);
int ck_set_regs(pid_t tid, const struct user_regs_struct *regs, struct werr **err);
int ck_get_xstate(pid_t tid, uint8_t **buf, size_t *len, struct werr **err);
int ck_set_xstate(pid_t tid, const uint8_t *buf, size_t len, struct werr **err);

/* Run syscall nr(a[0..5]) in the stopped task tid with rip at insn (the address of a `syscall`
 * instruction in that task); *ret gets rax (-errno on failure). The task's registers are left
 * changed: save them first and put them back with ck_set_regs. */
int ck_inject(pid_t tid, uint64_t insn, long nr, const uint64_t a[6], long *ret, struct werr **err);

/* The new task of the last injected clone (PTRACE_EVENT_CLONE, needs PTRACE_O_TRACECLONE), as
 * the tracer's pid namespace numbers it. */
pid_t ck_last_clone(void);

/* Open /proc/pid/mem (O_RDWR). */
int ck_mem_open(pid_t pid, struct werr **err);

#endif
