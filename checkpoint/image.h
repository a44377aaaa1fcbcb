/* The checkpoint image, formats 2 to 5 (see checkpoint/FORMAT.md): what dump records per process and
 * restore reads back. JSON through yajl; raw pages in pages-<pid>.img. */
#ifndef WARD_CHECKPOINT_IMAGE_H
#define WARD_CHECKPOINT_IMAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/user.h>

#include "lib/err.h"

/* Written: the lowest format whose readers understand all the image holds (ck_inventory_need):
 * CK_FORMAT_BASE; CK_FORMAT_IPC with state a format-2 reader would silently drop (POSIX timers,
 * SysV IPC objects); CK_FORMAT_SECCOMP with seccomp filters, which a format-3 reader would drop;
 * CK_FORMAT_LOCKS with file locks, which a format-4 reader would drop.
 * Read: CK_FORMAT_BASE to CK_FORMAT_VERSION. */
#define CK_FORMAT_BASE 2
#define CK_FORMAT_IPC 3
#define CK_FORMAT_SECCOMP 4
#define CK_FORMAT_LOCKS 5
#define CK_FORMAT_VERSION 5
#define CK_NSIG 64
#define CK_NRLIMIT 16
#define CK_AUXV_MAX 128 /* u64 words; the kernel keeps at most 2 * (2 + 20 + 32) */

enum ck_vma_kind {
	CK_VMA_ANON,	 /* private anonymous (incl. [heap], [stack]) */
	CK_VMA_FILE,	 /* file-backed, private or shared */
	CK_VMA_SHANON,	 /* shared anonymous, older images: one private copy per process */
	CK_VMA_VDSO,	 /* [vdso] */
	CK_VMA_VVAR,	 /* [vvar], [vvar_vclock] */
	CK_VMA_VSYSCALL, /* [vsyscall]: fixed, not restored */
	CK_VMA_SHMEM,	 /* shared anonymous (/dev/zero (deleted)): a view of object `ino` at
			  * `offset`, its pages saved once per object (struct ck_shmem) */
};

struct ck_vma {
	uint64_t start, end, offset;
	int prot;	/* PROT_READ|PROT_WRITE|PROT_EXEC */
	bool shared;	/* 's' in maps: MAP_SHARED */
	bool growsdown; /* "gd" in smaps VmFlags */
	enum ck_vma_kind kind;
	char *path; /* the maps name: file path, "[heap]", "[stack]", "[vdso]", or NULL */
	uint64_t ino; /* the maps inode; for CK_VMA_SHMEM the object's id (shmem_id) */
};

/* A shared anonymous memory object (shmem.json), mapped by one or more VMAs of one or more
 * processes: the shmem inode's number at dump time, its size, and which of its pages are saved
 * in shmem-<id>.img (ranges of object offsets, their bytes back to back in the file). */
struct ck_shmem_range {
	uint64_t offset, npages;
};
struct ck_shmem {
	uint64_t id, size;
	struct ck_shmem_range *ranges;
	size_t nranges;
	uint64_t addr; /* restore: where the restorer mapped it (inherited by every helper) */
};

/* Pages of the address space saved in pages-<pid>.img: [addr, addr + npages * 4096) is at
 * byte offset `offset` of the file. Sorted by addr, non-overlapping. */
struct ck_page_range {
	uint64_t addr;
	uint64_t npages;
	uint64_t offset; /* 0 and unused when in_parent */
	bool in_parent;	 /* unchanged since the parent image: read them there */
};

struct ck_mm {
	struct ck_vma *vmas;
	size_t nvmas;
	struct ck_page_range *pages;
	size_t npages;
	/* What PR_SET_MM_MAP takes (from /proc/pid/stat, brk from the task itself). */
	uint64_t start_code, end_code, start_data, end_data, start_brk, brk, start_stack;
	uint64_t arg_start, arg_end, env_start, env_end;
	uint64_t auxv[CK_AUXV_MAX];
	size_t auxv_len; /* words */
	char *exe;	 /* /proc/pid/exe */
	int track_fd;	 /* the userfaultfd tracking writes, left in the process, or -1 */
};

struct ck_sigaction {
	uint64_t handler, flags, restorer, mask;
};

/* One seccomp filter of a thread's chain (seccomp_ck.c): classic BPF as installed. */
struct ck_bpf {
	uint32_t flags;	/* seccomp(2) flags to install it with (SECCOMP_FILTER_FLAG_LOG) */
	uint32_t len;	/* instructions */
	uint8_t *insns; /* len * 8 bytes: struct sock_filter, host byte order */
};

struct ck_thread {
	pid_t tid;	/* in the pid namespace of the image */
	pid_t host_tid; /* at dump time, in the dumper's namespace (not in the image) */
	struct user_regs_struct regs; /* NT_PRSTATUS, incl. fs_base/gs_base */
	uint8_t *xstate;	      /* NT_X86_XSTATE */
	size_t xstate_len;
	uint64_t sigmask;
	uint64_t rseq_ptr;
	uint32_t rseq_len, rseq_sig;
	uint64_t robust_head, robust_len;
	uint64_t clear_tid; /* set_tid_address */
	uint64_t altstack_sp, altstack_size;
	int altstack_flags;
	struct ck_bpf *filters; /* the seccomp filter chain, oldest (first installed) first */
	size_t nfilters;
	uint32_t seccomp_id; /* core JSON: the newest filter's id in seccomp.json, 0 none */
};

enum ck_fd_kind {
	CK_FD_FILE, /* regular file or directory: path, flags, pos */
	CK_FD_CHR,  /* character device (/dev/null, ...): path, flags */
	CK_FD_PIPE, /* one end of a pipe: pipe_id; the data in pipe-<id>.img */
	/* Details in x (checkpoint/fdx.h): */
	CK_FD_EVENTFD, /* counter and semaphore flag */
	CK_FD_EPOLL,   /* its targets */
	CK_FD_FIFO,    /* a named pipe: path, pipe_id (its inode); data in fifo-<id>.img */
	CK_FD_DELETED, /* an unlinked regular file: path, pos; contents in deleted-<file_id>.img */
	CK_FD_SOCK,    /* TCP/UDP socket (unbound, bound, listening) or unix socketpair end */
	CK_FD_TTY,     /* the container's terminal, given by the runtime: its settings (fd_tty.c) */
};

enum ck_lock_kind {
	CK_LOCK_POSIX, /* fcntl F_SETLK: the process's */
	CK_LOCK_FLOCK, /* flock(2): the open file description's */
	CK_LOCK_OFD,   /* fcntl F_OFD_SETLK: the open file description's */
};

/* A file lock taken again through this fd at restore (locks.c). */
struct ck_lock {
	enum ck_lock_kind kind;
	bool write;	/* F_WRLCK / LOCK_EX; read (shared) otherwise */
	uint64_t start; /* byte range (POSIX, OFD); flock: 0 */
	uint64_t len;	/* 0: up to EOF, however the file grows */
};

struct ck_fd {
	int fd;
	enum ck_fd_kind kind;
	uint32_t file_id; /* the open file description: fds sharing one (dup, fork) share the id */
	int flags;	  /* open(2) flags as in fdinfo, without O_CLOEXEC */
	bool cloexec;
	uint64_t pos;
	char *path;
	bool outside; /* on a mount outside the process's mount namespace: path is the dumper's */
	uint64_t pipe_id; /* the pipe's inode number */
	int pipe_size;	  /* F_GETPIPE_SZ */
	struct ck_fdx *x; /* kinds from CK_FD_EVENTFD on */
	struct ck_lock *locks; /* format 5: taken again through this fd */
	size_t nlocks;
};

struct ck_proc {
	pid_t pid, ppid, pgid, sid; /* in the pid namespace of the image (ppid 0 for the root) */
	pid_t host_pid;		    /* at dump time, not in the image */
	char comm[16];
	char *cwd, *root;
	unsigned umask;
	uint32_t uid[4], gid[4]; /* real, effective, saved, fs */
	uint32_t *groups;
	size_t ngroups;
	uint64_t cap_inh, cap_prm, cap_eff, cap_bnd, cap_amb;
	bool no_new_privs;
	uint64_t rlim_cur[CK_NRLIMIT], rlim_max[CK_NRLIMIT];
	struct ck_sigaction sigactions[CK_NSIG]; /* index sig - 1 */
	struct ck_thread *threads;		 /* threads[0] is the thread-group leader */
	size_t nthreads;
	struct ck_mm mm;
	struct ck_fd *fds;
	size_t nfds;
	/* task_misc.c: optional in core-<pid>.json (absent in older images: none). */
	struct ck_itimer {
		uint64_t interval_us, value_us;
	} itimers[3]; /* ITIMER_REAL, ITIMER_VIRTUAL, ITIMER_PROF */
	struct ck_sigq {
		pid_t tid;	   /* the thread it is queued for (image pid), 0: the process */
		uint8_t info[128]; /* siginfo_t as PTRACE_PEEKSIGINFO gave it */
	} *sigq;
	size_t nsigq;
	struct ck_ptimer *ptimers; /* timers.c: POSIX timers, by id (optional in core) */
	size_t nptimers;
};

void ck_proc_free(struct ck_proc *p);

/* core-<pid>.json, mm-<pid>.json, pagemap-<pid>.json, fds-<pid>.json as strings. */
char *ck_core_to_json(const struct ck_proc *p);
char *ck_mm_to_json(const struct ck_mm *mm);
char *ck_pagemap_to_json(const struct ck_mm *mm);
char *ck_fds_to_json(const struct ck_proc *p);
int ck_core_from_json(const char *text, struct ck_proc *p, struct werr **err);
int ck_mm_from_json(const char *text, struct ck_mm *mm, struct werr **err);
int ck_pagemap_from_json(const char *text, struct ck_mm *mm, struct werr **err);
int ck_fds_from_json(const char *text, struct ck_proc *p, struct werr **err);
/* shmem.json: the shared memory objects of the tree. */
char *ck_shmem_to_json(const struct ck_shmem *objs, size_t n);
int ck_shmem_from_json(const char *text, struct ck_shmem **objs, size_t *n, struct werr **err);

/* Names for the image's files. */
const char *ck_vma_kind_name(enum ck_vma_kind k);
int ck_vma_kind_parse(const char *s, enum ck_vma_kind *out);
const char *ck_fd_kind_name(enum ck_fd_kind k);
int ck_fd_kind_parse(const char *s, enum ck_fd_kind *out);

/* The register set by name (for the JSON): NULL-terminated table of names and offsets. */
struct ck_reg_name {
	const char *name;
	size_t offset;
};
extern const struct ck_reg_name ck_reg_names[];

#endif
