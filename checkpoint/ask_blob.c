/* What only the task can tell (signal actions, brk, itimers, per thread the clear_child_tid
 * address and sigaltstack), asked by a few instructions copied into the stopped task and run
 * to an int3: one PTRACE_CONT per thread instead of ~70 single-stepped injected system calls,
 * each a scheduling round trip through the tracee (20-190 ms of a dump's frozen time on a
 * loaded machine, most of the final pre-copy round). */
#include <errno.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "checkpoint/fdx.h"
#include "checkpoint/ptrace.h"
#include "lib/util.h"

/* In: rbx = this thread's struct blob_out, r14 = 1 for the leader (the process part too).
 * Clobbers rax, rcx, rdx, rsi, rdi, r10, r11, r12, r13: every register is set back after. */
__asm__(".pushsection .text\n"
	".globl ck_ask_blob\n"
	".type ck_ask_blob, @function\n"
	"ck_ask_blob:\n"
	"\tmov $157, %eax\n" /* prctl(PR_GET_TID_ADDRESS, &out->clear_tid) */
	"\tmov $40, %edi\n"
	"\tmov %rbx, %rsi\n"
	"\tsyscall\n"
	"\tmov $131, %eax\n" /* sigaltstack(NULL, &out->ss) */
	"\txor %edi, %edi\n"
	"\tlea 8(%rbx), %rsi\n"
	"\tsyscall\n"
	"\ttest %r14, %r14\n"
	"\tjz 3f\n"
	"\tmov $1, %r12d\n"
	"\tlea 32(%rbx), %r13\n"
	"1:\tmov $13, %eax\n" /* rt_sigaction(sig, NULL, &out->sa[sig - 1], 8) */
	"\tmov %r12d, %edi\n"
	"\txor %esi, %esi\n"
	"\tmov %r13, %rdx\n"
	"\tmov $8, %r10d\n"
	"\tsyscall\n"
	"\tadd $32, %r13\n"
	"\tinc %r12d\n"
	"\tcmp $65, %r12d\n"
	"\tjne 1b\n"
	"\tmov $12, %eax\n" /* out->brk = brk(0) */
	"\txor %edi, %edi\n"
	"\tsyscall\n"
	"\tmov %rax, (%r13)\n"
	"\tadd $8, %r13\n"
	"\txor %r12d, %r12d\n"
	"2:\tmov $36, %eax\n" /* getitimer(which, &out->it[which]) */
	"\tmov %r12d, %edi\n"
	"\tmov %r13, %rsi\n"
	"\tsyscall\n"
	"\tadd $32, %r13\n"
	"\tinc %r12d\n"
	"\tcmp $3, %r12d\n"
	"\tjne 2b\n"
	"3:\tint3\n"
	".globl ck_ask_blob_end\n"
	"ck_ask_blob_end:\n"
	".size ck_ask_blob, . - ck_ask_blob\n"
	".popsection\n");
extern const uint8_t ck_ask_blob[], ck_ask_blob_end[];

struct blob_out {
	uint64_t clear_tid;
	stack_t ss;
	struct ck_sigaction sa[CK_NSIG];
	uint64_t brk;
	struct itimerval it[3];
};
_Static_assert(offsetof(struct blob_out, ss) == 8 && offsetof(struct blob_out, sa) == 32 &&
		       sizeof(struct ck_sigaction) == 32 &&
		       offsetof(struct blob_out, brk) == 32 + 32 * CK_NSIG &&
		       offsetof(struct blob_out, it) == offsetof(struct blob_out, brk) + 8 &&
		       sizeof(struct itimerval) == 32,
	       "struct blob_out must match the offsets in ck_ask_blob");

static int inj(pid_t tid, uint64_t insn, long nr, uint64_t a0, uint64_t a1, uint64_t a2, long *ret,
	       struct werr **err)
{
	/* mmap's flags and fd; the other calls made here ignore them. */
	uint64_t a[6] = {a0, a1, a2, MAP_PRIVATE | MAP_ANONYMOUS, (uint64_t)-1, 0};

	return ck_inject(tid, insn, nr, a, ret, err);
}

/* Run the blob in tid (registers regs) until its int3. */
static int run_blob(pid_t tid, const struct user_regs_struct *regs, uint64_t code, uint64_t out,
		    bool leader, struct werr **err)
{
	struct user_regs_struct r = *regs;
	uint64_t end = code + (uint64_t)(ck_ask_blob_end - ck_ask_blob);

	r.rip = code;
	r.rbx = out;
	r.r14 = leader;
	r.orig_rax = (unsigned long)-1; /* not in a system call: no restart fix-up */
	if (ck_set_regs(tid, &r, err) < 0)
		return -EIO;
	for (int sig = 0;;) {
		int st;

		if (ptrace(PTRACE_CONT, tid, 0, sig) < 0)
			return werr_sys(err, errno, "ptrace cont %d", tid);
		while (waitpid(tid, &st, __WALL) < 0)
			if (errno != EINTR)
				return werr_sys(err, errno, "wait for %d", tid);
		if (!WIFSTOPPED(st))
			return werr_set(err, ESRCH, "task %d died while asked its state", tid);
		if (WSTOPSIG(st) == SIGTRAP && st >> 16 == 0)
			break;
		if (WSTOPSIG(st) == SIGSEGV || WSTOPSIG(st) == SIGBUS || WSTOPSIG(st) == SIGILL)
			return werr_set(err, EFAULT, "task %d: signal %d while asked its state",
					tid, WSTOPSIG(st));
		/* Another signal arriving meanwhile is dropped, as ck_inject drops it. */
	}
	if (ck_get_regs(tid, &r, err) < 0)
		return -EIO;
	if (r.rip != end)
		return werr_set(err, EIO, "task %d: stopped at 0x%llx, not at the blob's end", tid,
				(unsigned long long)r.rip);
	return 0;
}

static void take_answers(struct ck_proc *p, const struct blob_out *o)
{
	for (size_t i = 0; i < p->nthreads; i++) {
		struct ck_thread *t = &p->threads[i];

		t->clear_tid = o[i].clear_tid;
		t->altstack_sp = (uint64_t)(uintptr_t)o[i].ss.ss_sp;
		t->altstack_size = o[i].ss.ss_size;
		t->altstack_flags = o[i].ss.ss_flags;
	}
	memcpy(p->sigactions, o[0].sa, sizeof(p->sigactions));
	p->mm.brk = o[0].brk;
	for (int w = 0; w < 3; w++) {
		const struct itimerval *it = &o[0].it[w];

		p->itimers[w].interval_us = (uint64_t)it->it_interval.tv_sec * 1000000 +
					    (uint64_t)it->it_interval.tv_usec;
		p->itimers[w].value_us =
			(uint64_t)it->it_value.tv_sec * 1000000 + (uint64_t)it->it_value.tv_usec;
	}
}

int ck_ask_task_blob(struct ck_proc *p, int memfd, uint64_t insn, struct werr **err)
{
	pid_t leader = p->threads[0].host_tid;
	size_t code_len = (size_t)(ck_ask_blob_end - ck_ask_blob);
	size_t data_len = (p->nthreads * sizeof(struct blob_out) + 4095) & ~(size_t)4095;
	_cleanup_free_ struct blob_out *out = xmalloc(p->nthreads * sizeof(*out));
	uint64_t code;
	long ret;
	int r = 0;

	/* Mapped executable, made writable past the code page (never writable and executable at
	 * once: a process under PR_SET_MDWE allows that). */
	if (inj(leader, insn, SYS_mmap, 0, 4096 + data_len, PROT_READ | PROT_EXEC, &ret, err) < 0)
		return -EIO;
	if (ret < 0 && ret > -4096)
		return -ENOTSUP; /* the caller falls back to one injected call per answer */
	code = (uint64_t)ret;
	if (inj(leader, insn, SYS_mprotect, code + 4096, data_len, PROT_READ | PROT_WRITE, &ret,
		err) < 0)
		r = -EIO;
	else if (ret != 0)
		r = -ENOTSUP;
	/* /proc/pid/mem writes through the missing PROT_WRITE (FOLL_FORCE). */
	if (r == 0 && pwrite(memfd, ck_ask_blob, code_len, (off_t)code) != (ssize_t)code_len)
		r = -ENOTSUP;
	for (size_t i = 0; i < p->nthreads && r == 0; i++)
		r = run_blob(p->threads[i].host_tid, &p->threads[i].regs, code,
			     code + 4096 + i * sizeof(struct blob_out), i == 0, err);
	if (r == 0 && pread(memfd, out, p->nthreads * sizeof(*out), (off_t)(code + 4096)) !=
			      (ssize_t)(p->nthreads * sizeof(*out)))
		r = werr_sys(err, errno ? errno : EIO, "process %d: read the answers", p->pid);
	if (r == 0)
		take_answers(p, out);
	if (inj(leader, insn, SYS_munmap, code, 4096 + data_len, 0, &ret, r < 0 ? NULL : err) < 0 &&
	    r == 0)
		r = -EIO;
	return r;
}
