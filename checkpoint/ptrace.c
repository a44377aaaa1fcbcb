/* ptrace for checkpoint: seize, stops, register sets, injected system calls. */
#include "checkpoint/ptrace.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/uio.h>
#include <sys/wait.h>

#include "lib/util.h"

/* `syscall; int3`: the int3 is never reached (every injected call is single-stepped) but makes
 * a stray continue trap instead of running into whatever follows. */
__asm__(".pushsection .text\n"
	".globl ck_syscall_insn\n"
	".type ck_syscall_insn, @function\n"
	"ck_syscall_insn:\n"
	"\tsyscall\n"
	"\tint3\n"
	".size ck_syscall_insn, . - ck_syscall_insn\n"
	".popsection\n");

int ck_seize(pid_t tid, unsigned long options, struct werr **err)
{
	if (ptrace(PTRACE_SEIZE, tid, 0, options) < 0)
		return werr_sys(err, errno, "ptrace seize %d", tid);
	return 0;
}

int ck_interrupt(pid_t tid, struct werr **err)
{
	if (ptrace(PTRACE_INTERRUPT, tid, 0, 0) < 0)
		return werr_sys(err, errno, "ptrace interrupt %d", tid);
	return 0;
}

int ck_wait_stop(pid_t tid, struct werr **err)
{
	for (;;) {
		int st;
		pid_t r = waitpid(tid, &st, __WALL);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return werr_sys(err, errno, "wait for %d to stop", tid);
		if (WIFEXITED(st) || WIFSIGNALED(st))
			return werr_set(err, ESRCH, "task %d exited while being stopped", tid);
		if (!WIFSTOPPED(st))
			continue;
		if (st >> 16 == PTRACE_EVENT_STOP)
			return 0;
		/* A signal-delivery stop before our interrupt: let it through, keep waiting. */
		if (ptrace(PTRACE_CONT, tid, 0, WSTOPSIG(st)) < 0)
			return werr_sys(err, errno, "ptrace cont %d", tid);
	}
}

int ck_get_regs(pid_t tid, struct user_regs_struct *regs, struct werr **err)
{
	struct iovec iov = {regs, sizeof(*regs)};

	if (ptrace(PTRACE_GETREGSET, tid, NT_PRSTATUS, &iov) < 0)
		return werr_sys(err, errno, "ptrace getregset %d", tid);
	return 0;
}

int ck_set_regs(pid_t tid, const struct user_regs_struct *regs, struct werr **err)
{
	struct iovec iov = {(void *)regs, sizeof(*regs)};

	if (ptrace(PTRACE_SETREGSET, tid, NT_PRSTATUS, &iov) < 0)
		return werr_sys(err, errno, "ptrace setregset %d", tid);
	return 0;
}

int ck_get_xstate(pid_t tid, uint8_t **buf, size_t *len, struct werr **err)
{
	size_t cap = 64 * 1024;
	uint8_t *b = xcalloc(1, cap);
	struct iovec iov = {b, cap};

	if (ptrace(PTRACE_GETREGSET, tid, NT_X86_XSTATE, &iov) < 0) {
		free(b);
		return werr_sys(err, errno, "ptrace getregset xstate %d", tid);
	}
	*buf = b;
	*len = iov.iov_len;
	return 0;
}

int ck_set_xstate(pid_t tid, const uint8_t *buf, size_t len, struct werr **err)
{
	struct iovec iov = {(void *)buf, len};

	if (ptrace(PTRACE_SETREGSET, tid, NT_X86_XSTATE, &iov) < 0)
		return werr_sys(err, errno, "ptrace setregset xstate %d", tid);
	return 0;
}

static pid_t last_clone;

pid_t ck_last_clone(void)
{
	return last_clone;
}

int ck_inject(pid_t tid, uint64_t insn, long nr, const uint64_t a[6], long *ret, struct werr **err)
{
	struct user_regs_struct r;

	if (ck_get_regs(tid, &r, err) < 0)
		return -errno;
	r.rip = insn;
	r.rax = (unsigned long)nr;
	r.orig_rax = (unsigned long)-1; /* not in a system call: no restart fix-up on resume */
	r.rdi = a[0];
	r.rsi = a[1];
	r.rdx = a[2];
	r.r10 = a[3];
	r.r8 = a[4];
	r.r9 = a[5];
	if (ck_set_regs(tid, &r, err) < 0)
		return -EIO;
	for (;;) {
		int st;

		if (ptrace(PTRACE_SINGLESTEP, tid, 0, 0) < 0)
			return werr_sys(err, errno, "ptrace singlestep %d", tid);
		while (waitpid(tid, &st, __WALL) < 0)
			if (errno != EINTR)
				return werr_sys(err, errno, "wait for %d", tid);
		if (!WIFSTOPPED(st))
			return werr_set(err, ESRCH, "task %d died in injected syscall %ld", tid,
					nr);
		if (WSTOPSIG(st) == SIGTRAP && st >> 16 == 0)
			break;
		if (st >> 16 == PTRACE_EVENT_CLONE) {
			unsigned long msg = 0;

			ptrace(PTRACE_GETEVENTMSG, tid, 0, &msg);
			last_clone = (pid_t)msg;
		}
		/* Any other stop (a signal arriving meanwhile): the step has not run yet. The
		 * signal is dropped; checkpoint stops the tree before injecting, so this is rare.
		 */
	}
	if (ck_get_regs(tid, &r, err) < 0)
		return -EIO;
	if (r.rip != insn + 2)
		return werr_set(err, EIO,
				"task %d: injected syscall %ld stopped at 0x%llx, not 0x%llx", tid,
				nr, (unsigned long long)r.rip, (unsigned long long)insn + 2);
	*ret = (long)r.rax;
	return 0;
}

int ck_mem_open(pid_t pid, struct werr **err)
{
	char path[64];
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/mem", pid);
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return werr_sys(err, errno, "open %s", path);
	return fd;
}
