/* The seccomp profile `ward spec` writes: refuse with EPERM everything not listed; list the
 * syscalls an ordinary unprivileged program needs. Written from what each syscall does:
 *
 * - Allowed: files and directories, processes and credentials (the kernel still checks the
 *   capabilities those need), memory, signals, time reading, polling, SysV/POSIX IPC, aio,
 *   sockets (except AF_VSOCK, a channel to the hypervisor host), landlock, and ptrace with
 *   process_vm_* (on kernels >= 4.8, where ptrace can no longer be used to skip seccomp).
 * - With arguments: clone only without namespace flags (clone3 cannot be inspected, so it gets
 *   ENOSYS and libc falls back to clone); personality only for the harmless domains.
 * - Left out, i.e. EPERM: everything that needs a capability ward's default set does not grant
 *   (mount and the new mount API, unshare, setns, pivot_root, chroot, swapon, reboot, kexec,
 *   modules, clock and time setting, sethostname, quotactl, acct, syslog, iopl/ioperm,
 *   open_by_handle_at, NUMA placement), the kernel keyring (not namespaced), bpf,
 *   perf_event_open, userfaultfd, io_uring (a large kernel attack surface; Docker refuses it
 *   too since 2023), and obsolete calls (uselib, ustat, sysfs, _sysctl, vm86, modify_ldt,
 *   nfsservctl, lookup_dcookie).
 *
 * Unlike Docker's profile, nothing is re-enabled when process.capabilities grants the matching
 * capability: a container given CAP_SYS_ADMIN needs its own profile. Names this libseccomp
 * does not know (newer syscalls) are skipped at create; they then get EPERM, not ENOSYS. */
#include "seccomp/seccomp.h"

#include <stdio.h>
#include <sys/utsname.h>

#include "lib/util.h"

static const char *const files[] = {
	"access", "faccessat", "faccessat2", "chdir", "fchdir", "chmod", "fchmod", "fchmodat",
	"fchmodat2", "chown", "chown32", "fchown", "fchown32", "fchownat", "lchown", "lchown32",
	"close", "close_range", "creat", "dup", "dup2", "dup3", "fadvise64", "fadvise64_64",
	"arm_fadvise64_64", "fallocate", "fcntl", "fcntl64", "fdatasync", "fsync", "flock",
	"fstat", "fstat64", "fstatat64", "newfstatat", "lstat", "lstat64", "stat", "stat64",
	"statx", "fstatfs", "fstatfs64", "statfs", "statfs64", "ftruncate", "ftruncate64",
	"truncate", "truncate64", "getcwd", "getdents", "getdents64", "link", "linkat",
	"symlink", "symlinkat", "unlink", "unlinkat", "rename", "renameat", "renameat2",
	"mkdir", "mkdirat", "mknod", "mknodat", "rmdir", "lseek", "_llseek", "open", "openat",
	"openat2", "read", "readv", "pread64", "preadv", "preadv2", "write", "writev",
	"pwrite64", "pwritev", "pwritev2", "readlink", "readlinkat", "readahead", "sendfile",
	"sendfile64", "copy_file_range", "splice", "tee", "vmsplice", "sync", "syncfs",
	"sync_file_range", "sync_file_range2", "arm_sync_file_range", "umask", "utime",
	"utimes", "utimensat", "utimensat_time64", "futimesat", "name_to_handle_at",
	"cachestat", NULL,
};

static const char *const xattrs[] = {
	"getxattr", "lgetxattr", "fgetxattr", "listxattr", "llistxattr", "flistxattr",
	"setxattr", "lsetxattr", "fsetxattr", "removexattr", "lremovexattr", "fremovexattr",
	"getxattrat", "setxattrat", "listxattrat", "removexattrat", NULL,
};

static const char *const notify_and_poll[] = {
	"inotify_init", "inotify_init1", "inotify_add_watch", "inotify_rm_watch", "pipe",
	"pipe2", "eventfd", "eventfd2", "epoll_create", "epoll_create1", "epoll_ctl",
	"epoll_ctl_old", "epoll_wait", "epoll_wait_old", "epoll_pwait", "epoll_pwait2", "poll",
	"ppoll", "ppoll_time64", "select", "_newselect", "pselect6", "pselect6_time64", "ioctl",
	NULL,
};

static const char *const processes[] = {
	"execve", "execveat", "exit", "exit_group", "fork", "vfork", "wait4", "waitid",
	"waitpid", "getpid", "getppid", "gettid", "getpgid", "getpgrp", "getsid", "setsid",
	"setpgid", "kill", "tkill", "tgkill", "pidfd_open", "pidfd_send_signal", "pidfd_getfd",
	"set_tid_address", "set_robust_list", "get_robust_list", "rseq", "prctl", "arch_prctl",
	"set_thread_area", "get_thread_area", "seccomp", "restart_syscall", "uname", "sysinfo",
	"getrandom", "getcpu", "membarrier", "times", "getrusage", "getrlimit", "ugetrlimit",
	"setrlimit", "prlimit64", "getpriority", "setpriority", "ioprio_get", "ioprio_set",
	"sched_yield", "sched_getaffinity", "sched_setaffinity", "sched_getattr",
	"sched_setattr", "sched_getparam", "sched_setparam", "sched_getscheduler",
	"sched_setscheduler", "sched_get_priority_max", "sched_get_priority_min",
	"sched_rr_get_interval", "sched_rr_get_interval_time64", "landlock_create_ruleset",
	"landlock_add_rule", "landlock_restrict_self", "cacheflush", "breakpoint", "set_tls",
	"map_shadow_stack", NULL,
};

/* The kernel checks CAP_SETUID/CAP_SETGID/CAP_SETPCAP for the changes that need them. */
static const char *const credentials[] = {
	"getuid", "getuid32", "geteuid", "geteuid32", "getgid", "getgid32", "getegid",
	"getegid32", "getresuid", "getresuid32", "getresgid", "getresgid32", "getgroups",
	"getgroups32", "setuid", "setuid32", "setgid", "setgid32", "setreuid", "setreuid32",
	"setregid", "setregid32", "setresuid", "setresuid32", "setresgid", "setresgid32",
	"setgroups", "setgroups32", "setfsuid", "setfsuid32", "setfsgid", "setfsgid32",
	"capget", "capset", NULL,
};

static const char *const memory[] = {
	"brk", "mmap", "mmap2", "munmap", "mremap", "mprotect", "pkey_mprotect", "pkey_alloc",
	"pkey_free", "madvise", "mlock", "mlock2", "munlock", "mlockall", "munlockall",
	"mincore", "msync", "remap_file_pages", "memfd_create", "memfd_secret", "mseal", NULL,
};

static const char *const signals[] = {
	"rt_sigaction", "rt_sigprocmask", "rt_sigreturn", "rt_sigpending", "rt_sigsuspend",
	"rt_sigtimedwait", "rt_sigtimedwait_time64", "rt_sigqueueinfo", "rt_tgsigqueueinfo",
	"sigaltstack", "signalfd", "signalfd4", "sigaction", "sigprocmask", "sigpending",
	"sigsuspend", "sigreturn", "signal", "pause", NULL,
};

/* Reading clocks and sleeping; setting the clocks needs CAP_SYS_TIME and is left out. */
static const char *const time_calls[] = {
	"alarm", "nanosleep", "clock_nanosleep", "clock_nanosleep_time64", "clock_gettime",
	"clock_gettime64", "clock_getres", "clock_getres_time64", "gettimeofday", "time",
	"timer_create", "timer_delete", "timer_settime", "timer_settime64", "timer_gettime",
	"timer_gettime64", "timer_getoverrun", "timerfd_create", "timerfd_settime",
	"timerfd_settime64", "timerfd_gettime", "timerfd_gettime64", "getitimer", "setitimer",
	"futex", "futex_time64", "futex_waitv", "futex_wake", "futex_wait", "futex_requeue",
	NULL,
};

/* SysV and POSIX IPC live in the container's IPC namespace; aio is plain file I/O. */
static const char *const ipc[] = {
	"mq_open", "mq_unlink", "mq_timedsend", "mq_timedsend_time64", "mq_timedreceive",
	"mq_timedreceive_time64", "mq_notify", "mq_getsetattr", "msgget", "msgsnd", "msgrcv",
	"msgctl", "semget", "semop", "semtimedop", "semtimedop_time64", "semctl", "shmget",
	"shmat", "shmdt", "shmctl", "ipc", "io_setup", "io_destroy", "io_submit", "io_cancel",
	"io_getevents", "io_pgetevents", "io_pgetevents_time64", NULL,
};

static const char *const sockets[] = {
	"socketpair", "bind", "listen", "accept", "accept4", "connect", "getsockname",
	"getpeername", "getsockopt", "setsockopt", "sendto", "recvfrom", "sendmsg", "recvmsg",
	"sendmmsg", "recvmmsg", "recvmmsg_time64", "shutdown", "socketcall", "send", "recv",
	NULL,
};

static const char *const socket_call[] = {"socket", NULL};
static const char *const clone_call[] = {"clone", NULL};
static const char *const clone3_call[] = {"clone3", NULL};
static const char *const personality_call[] = {"personality", NULL};
static const char *const ptrace_calls[] = {"ptrace", "process_vm_readv", "process_vm_writev",
					   NULL};

/* CLONE_NEWNS | NEWCGROUP | NEWUTS | NEWIPC | NEWUSER | NEWPID | NEWNET */
#define CLONE_NS_FLAGS 0x7e020000ULL
#define AF_VSOCK_FAMILY 40

static const struct seccomp_profile_rule rules[] = {
	{.names = files},
	{.names = xattrs},
	{.names = notify_and_poll},
	{.names = processes},
	{.names = credentials},
	{.names = memory},
	{.names = signals},
	{.names = time_calls},
	{.names = ipc},
	{.names = sockets},
	{.names = socket_call, .n_args = 1, .args = {{0, AF_VSOCK_FAMILY, 0, "SCMP_CMP_NE"}}},
	{.names = clone_call,
	 .n_args = 1,
	 .args = {{0, CLONE_NS_FLAGS, 0, "SCMP_CMP_MASKED_EQ"}}},
	{.names = clone3_call, .action = "SCMP_ACT_ERRNO", .errno_ret = 38 /* ENOSYS */},
	/* PER_LINUX, PER_LINUX32, UNAME26 alone and with PER_LINUX32, and the query: the other
	 * flags (READ_IMPLIES_EXEC, ADDR_NO_RANDOMIZE, ...) weaken the process's defences. */
	{.names = personality_call,
	 .n_args = 5,
	 .args = {{0, 0x0, 0, "SCMP_CMP_EQ"},
		  {0, 0x0008, 0, "SCMP_CMP_EQ"},
		  {0, 0x20000, 0, "SCMP_CMP_EQ"},
		  {0, 0x20008, 0, "SCMP_CMP_EQ"},
		  {0, 0xffffffff, 0, "SCMP_CMP_EQ"}}},
	{.names = ptrace_calls, .min_kernel = 0x040800},
};

const struct seccomp_profile_rule *seccomp_default_rules(size_t *n)
{
	*n = ARRAY_SIZE(rules);
	return rules;
}

const char *const *seccomp_default_archs(size_t *n)
{
#if defined(__x86_64__) || defined(__i386__)
	static const char *const archs[] = {"SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"};
#elif defined(__aarch64__) || defined(__arm__)
	static const char *const archs[] = {"SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM"};
#elif defined(__riscv) && __riscv_xlen == 64
	static const char *const archs[] = {"SCMP_ARCH_RISCV64"};
#elif defined(__s390x__)
	static const char *const archs[] = {"SCMP_ARCH_S390X", "SCMP_ARCH_S390"};
#elif defined(__powerpc64__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	static const char *const archs[] = {"SCMP_ARCH_PPC64LE"};
#else
	static const char *const archs[] = {NULL};
	*n = 0;
	return archs;
#endif
	*n = ARRAY_SIZE(archs);
	return archs;
}

unsigned seccomp_running_kernel(void)
{
	struct utsname u;
	unsigned major = 0, minor = 0, patch = 0;

	if (uname(&u) < 0 || sscanf(u.release, "%u.%u.%u", &major, &minor, &patch) < 2)
		return 0;
	return major << 16 | minor << 8 | (patch > 255 ? 255 : patch);
}
