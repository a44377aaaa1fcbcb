/* The VMM's own seccomp filter: a fixed allow-list in classic BPF (no libseccomp: the list is
 * short and fixed, and the VMM must not depend on the OCI profile machinery). Installed after
 * every file, KVM object and guest mapping exists, so open, mmap of devices, socket, execve,
 * ptrace, mount and the rest are gone for the lifetime of the VM. */
#include "vmm_shim/vmm.h"

#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/kvm.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <stddef.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "lib/util.h"

#define MAX_INSNS 200

struct prog {
	struct sock_filter f[MAX_INSNS];
	unsigned n;
};

static void emit(struct prog *p, struct sock_filter insn)
{
	if (p->n < MAX_INSNS)
		p->f[p->n] = insn;
	p->n++;
}

static void ret(struct prog *p, uint32_t action)
{
	emit(p, (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, action));
}

/* if (A == k) return action; */
static void ret_if(struct prog *p, uint32_t k, uint32_t action)
{
	emit(p, (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, k, 0, 1));
	ret(p, action);
}

static void load(struct prog *p, uint32_t off)
{
	emit(p, (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, off));
}

/* Syscalls the VMM makes after set-up, whatever their arguments. */
static const uint32_t allowed[] = {
	SYS_read,	   SYS_write,		SYS_pread64,	    SYS_pwrite64,
	SYS_readv,	   SYS_writev,		SYS_preadv,	    SYS_pwritev,
	SYS_preadv2,	   SYS_pwritev2,	SYS_fdatasync,	    SYS_fsync,
	SYS_lseek,	   SYS_close,		SYS_poll,	    SYS_ppoll,
	SYS_futex,	   SYS_rt_sigreturn,	SYS_rt_sigprocmask, SYS_rt_sigaction,
	SYS_sigaltstack,   SYS_getpid,		SYS_gettid,	    SYS_mmap,
	SYS_munmap,	   SYS_mprotect,	SYS_madvise,	    SYS_mremap,
	SYS_brk,	   SYS_set_robust_list, SYS_rseq,	    SYS_exit,
	SYS_exit_group,	   SYS_sched_yield,	SYS_nanosleep,	    SYS_clock_nanosleep,
	SYS_clock_gettime, SYS_gettimeofday,	SYS_newfstatat,	    SYS_fstat,
	SYS_getrandom,	   SYS_restart_syscall, SYS_accept4,	    SYS_accept,
	/* send(MSG_DONTWAIT) to a socket the guest's output goes to: a full socket must not
	 * block the relay or a vCPU, and setting O_NONBLOCK would change a file description
	 * the container's stdout may share with other processes */
	SYS_sendto,
	/* a checkpoint request's state and memory files arrive as SCM_RIGHTS */
	SYS_recvmsg,
};

/* ioctls on KVM fds once the vCPUs run: the run loop and the devices' interrupt lines. */
static const uint32_t allowed_ioctls[] = {
	KVM_RUN, KVM_IRQ_LINE, KVM_IRQ_LINE_STATUS,
	/* a checkpoint reads the vCPUs' and the VM's state (restore sets it before the filter) */
	KVM_GET_REGS, KVM_GET_SREGS, KVM_GET_XSAVE, KVM_GET_XCRS, KVM_GET_LAPIC, KVM_GET_MSRS,
	KVM_GET_VCPU_EVENTS, KVM_GET_MP_STATE, KVM_GET_DEBUGREGS, KVM_GET_IRQCHIP, KVM_GET_PIT2,
	KVM_GET_CLOCK,
	/* pre-copy: dirty logging on the RAM slots, and its log */
	KVM_SET_USER_MEMORY_REGION, KVM_GET_DIRTY_LOG,
};

#define CLONE_NS_FLAGS                                                                             \
	(CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER |             \
	 CLONE_NEWPID | CLONE_NEWNET)

/* self: the calling process's id, the only tgkill target allowed */
static void build(struct prog *p, uint32_t self)
{
	const uint32_t kill = SECCOMP_RET_KILL_PROCESS;
	unsigned start;

	load(p, offsetof(struct seccomp_data, arch));
	emit(p, (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0));
	ret(p, kill);
	load(p, offsetof(struct seccomp_data, nr));
	/* x32 syscalls are other numbers for the same calls: refuse them all */
	emit(p, (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, 0x40000000u, 0, 1));
	ret(p, kill);
	for (size_t i = 0; i < ARRAY_SIZE(allowed); i++)
		ret_if(p, allowed[i], SECCOMP_RET_ALLOW);
	/* clone3 passes its flags in memory, which BPF cannot read: let libc fall back to clone */
	ret_if(p, SYS_clone3, SECCOMP_RET_ERRNO | ENOSYS);

	/* clone: threads only (CLONE_THREAD set), never a new process or namespace (a thread may
	 * get its own mount, network, UTS, IPC or cgroup namespace) */
	start = p->n;
	emit(p, (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_clone, 0, 0));
	load(p, offsetof(struct seccomp_data, args[0]));
	emit(p, (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, CLONE_NS_FLAGS, 2, 0));
	emit(p, (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, CLONE_THREAD, 0, 1));
	ret(p, SECCOMP_RET_ALLOW);
	ret(p, kill);
	p->f[start].jf = (uint8_t)(p->n - start - 1);

	/* tgkill: this process's own threads only (pthread_kill, raise; the vCPU kicks). With
	 * plain kill or tkill, or tgkill elsewhere, a compromised VMM could signal any process
	 * its credentials reach, e.g. in the host's pid namespace. The tgid is an int. */
	start = p->n;
	emit(p, (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_tgkill, 0, 0));
	load(p, offsetof(struct seccomp_data, args[0]));
	ret_if(p, self, SECCOMP_RET_ALLOW);
	ret(p, kill);
	p->f[start].jf = (uint8_t)(p->n - start - 1);

	/* ioctl: the request (an unsigned int: the high half of the argument is ignored) */
	start = p->n;
	emit(p, (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_ioctl, 0, 0));
	load(p, offsetof(struct seccomp_data, args[1]));
	for (size_t i = 0; i < ARRAY_SIZE(allowed_ioctls); i++)
		ret_if(p, allowed_ioctls[i], SECCOMP_RET_ALLOW);
	ret(p, kill);
	p->f[start].jf = (uint8_t)(p->n - start - 1);

	ret(p, kill);
}

int vmm_seccomp_install(struct werr **err)
{
	struct prog p;
	struct sock_fprog fprog;

	p.n = 0;
	build(&p, (uint32_t)getpid());
	if (p.n > MAX_INSNS)
		return werr_set(err, E2BIG, "VMM seccomp filter: %u instructions, room for %u", p.n,
				MAX_INSNS);
	/* libc initialises the time zone on first use by reading /etc/localtime, and the CMOS
	 * device's gmtime_r is that first use: do it while openat is still allowed */
	tzset();
	fprog.len = (unsigned short)p.n;
	fprog.filter = p.f;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return werr_sys(err, errno, "prctl(PR_SET_NO_NEW_PRIVS)");
	if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &fprog) < 0)
		return werr_sys(err, errno, "install the VMM seccomp filter");
	return 0;
}
