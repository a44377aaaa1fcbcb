/* Collecting one stopped process: threads' registers and per-thread state, signal actions and
 * brk (asked inside the task by injected system calls), the address space and its pages, fds. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <time.h>

#include "checkpoint/fdx.h"
#include "checkpoint/internal.h"
#include "checkpoint/pages_out.h"
#include "checkpoint/page_server.h"
#include "checkpoint/procfs.h"
#include "checkpoint/ptrace.h"
#include "checkpoint/seccomp_ck.h"
#include "checkpoint/timers.h"
#include "checkpoint/track.h"
#include "lib/util.h"

#ifndef PTRACE_GET_RSEQ_CONFIGURATION
#define PTRACE_GET_RSEQ_CONFIGURATION 0x420f
#endif
struct rseq_conf {
	uint64_t rseq_abi_pointer;
	uint32_t rseq_abi_size, signature, flags, pad;
};

double ck_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

int ck_write_text(int dirfd, const char *name, const char *text, struct werr **err)
{
	_cleanup_close_ int fd =
		openat(dirfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	if (fd < 0)
		return werr_sys(err, errno, "create %s", name);
	if (write_all(fd, text, strlen(text)) < 0)
		return werr_sys(err, errno, "write %s", name);
	return 0;
}

static int read_link(const char *path, char **out, struct werr **err)
{
	char buf[4096];
	ssize_t n = readlink(path, buf, sizeof(buf) - 1);

	if (n < 0)
		return werr_sys(err, errno, "readlink %s", path);
	buf[n] = '\0';
	*out = xstrdup(buf);
	return 0;
}

static int collect_thread(pid_t tid, struct ck_thread *t, struct werr **err)
{
	struct rseq_conf rc = {0};

	t->host_tid = tid;
	if (ck_get_regs(tid, &t->regs, err) < 0 ||
	    ck_get_xstate(tid, &t->xstate, &t->xstate_len, err) < 0)
		return -EIO;
	if (ptrace(PTRACE_GETSIGMASK, tid, sizeof(t->sigmask), &t->sigmask) < 0)
		return werr_sys(err, errno, "ptrace getsigmask %d", tid);
	if (ptrace(PTRACE_GET_RSEQ_CONFIGURATION, tid, sizeof(rc), &rc) < 0 && errno != EINVAL)
		return werr_sys(err, errno, "ptrace get rseq configuration %d", tid);
	t->rseq_ptr = rc.rseq_abi_pointer;
	t->rseq_len = rc.rseq_abi_size;
	t->rseq_sig = rc.signature;
	{
		void *head = NULL;
		size_t len = 0;

		if (syscall(SYS_get_robust_list, tid, &head, &len) < 0)
			return werr_sys(err, errno, "get_robust_list %d", tid);
		t->robust_head = (uint64_t)(uintptr_t)head;
		t->robust_len = len;
	}
	return 0;
}

/* The address of a `syscall` instruction in the task's [vdso] (every x86-64 vDSO has one in its
 * fallback paths; any 0f 05 decodes as syscall when executed from its first byte). */
static int find_vdso_syscall(pid_t pid, int memfd, uint64_t *insn, struct werr **err)
{
	struct ck_vma *vmas = NULL;
	size_t n = 0;
	int r = -ENOENT;

	if (ck_read_vmas_from(pid, "maps", &vmas, &n, err) < 0)
		return -EIO;
	for (size_t i = 0; i < n && r == -ENOENT; i++) {
		size_t len = vmas[i].end - vmas[i].start;
		_cleanup_free_ uint8_t *buf = NULL;

		if (vmas[i].kind != CK_VMA_VDSO)
			continue;
		buf = xmalloc(len);
		if (pread(memfd, buf, len, (off_t)vmas[i].start) != (ssize_t)len) {
			r = werr_sys(err, errno, "read [vdso] of %d", pid);
			break;
		}
		for (size_t o = 0; o + 1 < len; o++)
			if (buf[o] == 0x0f && buf[o + 1] == 0x05) {
				*insn = vmas[i].start + o;
				r = 0;
				break;
			}
	}
	ck_vmas_free(vmas, n);
	if (r == -ENOENT)
		werr_set(err, ENOENT, "process %d: no syscall instruction in a [vdso]", pid);
	return r;
}

static int inj(pid_t tid, uint64_t insn, long nr, uint64_t a0, uint64_t a1, uint64_t a2,
	       uint64_t a3, long *ret, struct werr **err)
{
	uint64_t a[6] = {a0, a1, a2, a3, 0, 0};

	return ck_inject(tid, insn, nr, a, ret, err);
}

/* ask_task's fallback when the blob cannot be mapped: one injected system call per answer,
 * into a scratch page mapped for them and unmapped again. */
static int ask_by_calls(struct ck_proc *p, int memfd, uint64_t insn, struct werr **err)
{
	pid_t leader = p->threads[0].host_tid;
	uint64_t scratch;
	long ret;
	int r;

	if (inj(leader, insn, SYS_mmap, 0, 4096, PROT_READ | PROT_WRITE,
		MAP_PRIVATE | MAP_ANONYMOUS, &ret, err) < 0)
		return -EIO;
	if (ret < 0 && ret > -4096)
		return werr_sys(err, (int)-ret, "process %d: injected mmap", p->host_pid);
	scratch = (uint64_t)ret;
	r = 0;
	for (int sig = 1; sig <= CK_NSIG && r == 0; sig++) {
		if (sig == SIGKILL || sig == SIGSTOP)
			continue;
		r = inj(leader, insn, SYS_rt_sigaction, (uint64_t)sig, 0, scratch, 8, &ret, err);
		if (r == 0 && ret == 0 &&
		    pread(memfd, &p->sigactions[sig - 1], sizeof(struct ck_sigaction),
			  (off_t)scratch) != sizeof(struct ck_sigaction))
			r = werr_sys(err, errno, "process %d: read sigaction", p->host_pid);
	}
	if (r == 0 && (r = inj(leader, insn, SYS_brk, 0, 0, 0, 0, &ret, err)) == 0)
		p->mm.brk = (uint64_t)ret;
	for (size_t i = 0; i < p->nthreads && r == 0; i++) {
		struct ck_thread *t = &p->threads[i];
		stack_t ss;

		r = inj(t->host_tid, insn, SYS_prctl, PR_GET_TID_ADDRESS, scratch, 0, 0, &ret, err);
		if (r == 0 && ret == 0 && pread(memfd, &t->clear_tid, 8, (off_t)scratch) != 8)
			r = werr_sys(err, errno, "read clear_child_tid of %d", t->host_tid);
		if (r == 0)
			r = inj(t->host_tid, insn, SYS_sigaltstack, 0, scratch, 0, 0, &ret, err);
		if (r == 0 && pread(memfd, &ss, sizeof(ss), (off_t)scratch) == sizeof(ss)) {
			t->altstack_sp = (uint64_t)(uintptr_t)ss.ss_sp;
			t->altstack_size = ss.ss_size;
			t->altstack_flags = ss.ss_flags;
		}
	}
	if (inj(leader, insn, SYS_munmap, scratch, 4096, 0, 0, &ret, r < 0 ? NULL : err) < 0 &&
	    r == 0)
		r = -EIO;
	if (r == 0)
		r = ck_task_collect_itimers(p, insn, err);
	return r;
}

/* Ask the task itself what only it can tell: signal actions, brk, itimers, per-thread
 * clear_child_tid and sigaltstack (ask_blob.c). */
static int ask_task(struct ck_proc *p, int memfd, uint64_t *insn_out, struct werr **err)
{
	uint64_t insn = 0;
	int r;

	if (find_vdso_syscall(p->threads[0].host_tid, memfd, &insn, err) < 0)
		return -EIO;
	*insn_out = insn;
	r = ck_ask_task_blob(p, memfd, insn, err);
	if (r == -ENOTSUP)
		r = ask_by_calls(p, memfd, insn, err);
	/* Every thread gets its registers back whatever happened. */
	for (size_t i = 0; i < p->nthreads; i++)
		if (ck_set_regs(p->threads[i].host_tid, &p->threads[i].regs, r < 0 ? NULL : err) <
			    0 &&
		    r == 0)
			r = -EIO;
	return r;
}

static int collect_ids(pid_t pid, struct ck_proc *p, struct werr **err)
{
	_cleanup_free_ char *text = NULL, *stat = NULL, *comm = NULL;
	struct ck_status st;
	pid_t pgid, sid;
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	if (read_file(path, &text, NULL, err) < 0)
		return -ESRCH;
	if (ck_parse_status(text, &st) < 0)
		return werr_set(err, EINVAL, "%s: cannot parse", path);
	memcpy(p->uid, st.uid, sizeof(p->uid));
	memcpy(p->gid, st.gid, sizeof(p->gid));
	p->groups = st.groups;
	p->ngroups = st.ngroups;
	p->umask = st.umask;
	p->cap_inh = st.cap_inh;
	p->cap_prm = st.cap_prm;
	p->cap_eff = st.cap_eff;
	p->cap_bnd = st.cap_bnd;
	p->cap_amb = st.cap_amb;
	p->no_new_privs = st.no_new_privs != 0;
	p->pid = st.ns_pid;
	p->pgid = st.ns_pgid;
	p->sid = st.ns_sid;
	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	if (read_file(path, &stat, NULL, err) < 0)
		return -ESRCH;
	if (ck_parse_stat(stat, &p->mm, &pgid, &sid) < 0)
		return werr_set(err, EINVAL, "%s: cannot parse", path);
	snprintf(path, sizeof(path), "/proc/%d/comm", pid);
	if (read_file(path, &comm, NULL, err) < 0)
		return -ESRCH;
	comm[strcspn(comm, "\n")] = '\0';
	snprintf(p->comm, sizeof(p->comm), "%s", comm);
	return 0;
}

/* Credentials are per thread, the image holds the leader's (collect_ids), and restore gives
 * them to every thread: a thread with others would come back with more or less privilege. */
static bool same_creds(const struct ck_proc *p, const struct ck_status *s)
{
	return !memcmp(p->uid, s->uid, sizeof(p->uid)) && !memcmp(p->gid, s->gid, sizeof(p->gid)) &&
	       p->ngroups == s->ngroups &&
	       (!s->ngroups || !memcmp(p->groups, s->groups, s->ngroups * sizeof(*s->groups))) &&
	       p->cap_inh == s->cap_inh && p->cap_prm == s->cap_prm && p->cap_eff == s->cap_eff &&
	       p->cap_bnd == s->cap_bnd && p->cap_amb == s->cap_amb &&
	       p->no_new_privs == (s->no_new_privs != 0);
}

/* The parent's VMA ending at end with the same path (a stack grows at its start), or NULL;
 * parent's VMAs are in address order. */
static const struct ck_vma *parent_vma(const struct ck_mm *parent, const struct ck_vma *v)
{
	size_t lo = 0, hi = parent->nvmas;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		const struct ck_vma *pv = &parent->vmas[mid];

		if (pv->end < v->end) {
			lo = mid + 1;
		} else if (pv->end > v->end) {
			hi = mid;
		} else {
			bool same = pv->kind == v->kind && !pv->path == !v->path &&
				    (!v->path || strcmp(pv->path, v->path) == 0);

			return same ? pv : NULL;
		}
	}
	return NULL;
}

/* The VMAs. smaps walks every page table of the process (Rss/Pss) and is needed for VmFlags'
 * growsdown only: when every VMA of maps has its match in the parent image (a flag a VMA keeps
 * for its life), growsdown comes from there and smaps is not read. */
static int read_layout(pid_t pid, const struct ck_mm *parent, struct ck_mm *mm, struct werr **err)
{
	if (parent && parent->nvmas &&
	    ck_read_vmas_from(pid, "maps", &mm->vmas, &mm->nvmas, NULL) == 0) {
		size_t i;

		for (i = 0; i < mm->nvmas; i++) {
			const struct ck_vma *pv = parent_vma(parent, &mm->vmas[i]);

			if (!pv)
				break;
			mm->vmas[i].growsdown = pv->growsdown;
		}
		if (i == mm->nvmas)
			return 0;
		ck_vmas_free(mm->vmas, mm->nvmas);
		mm->vmas = NULL;
		mm->nvmas = 0;
	}
	return ck_read_vmas(pid, &mm->vmas, &mm->nvmas, err);
}

static int collect_mm(pid_t pid, struct ck_proc *p, const struct ck_mm *parent,
		      struct werr **err)
{
	_cleanup_free_ char *auxv = NULL;
	char path[64];
	size_t len = 0;

	snprintf(path, sizeof(path), "/proc/%d/exe", pid);
	if (read_link(path, &p->mm.exe, err) < 0)
		return -EIO;
	snprintf(path, sizeof(path), "/proc/%d/auxv", pid);
	if (read_file(path, &auxv, &len, err) < 0)
		return -EIO;
	p->mm.auxv_len = len / 8 > CK_AUXV_MAX ? CK_AUXV_MAX : len / 8;
	memcpy(p->mm.auxv, auxv, p->mm.auxv_len * 8);
	if (read_layout(pid, parent, &p->mm, err) < 0)
		return -EIO;
	for (size_t i = 0; i < p->mm.nvmas; i++) {
		const struct ck_vma *v = &p->mm.vmas[i];
		size_t l = v->path ? strlen(v->path) : 0;

		if (v->kind == CK_VMA_FILE && v->shared && strncmp(v->path, "/SYSV", 5) == 0 &&
		    l > 10 && strcmp(v->path + l - 10, " (deleted)") == 0)
			return werr_set(err, ENOTSUP,
					"SysV shared memory in use (shmid %llu attached at 0x%llx) "
					"cannot be checkpointed",
					(unsigned long long)v->ino, (unsigned long long)v->start);
		if (v->kind == CK_VMA_FILE && l > 10 && strcmp(v->path + l - 10, " (deleted)") == 0)
			return werr_set(err, ENOTSUP,
					"mapping of a deleted file %s cannot be checkpointed",
					v->path);
	}
	return 0;
}

/* Which pages go into the image (see ck_pages_select). */
static int select_pages(pid_t pid, struct ck_mm *mm, struct werr **err)
{
	enum { CHUNK = 65536 };
	_cleanup_free_ uint64_t *pm = xmalloc(CHUNK * sizeof(uint64_t));
	_cleanup_close_ int fd = -1;
	uint64_t next_off = 0;
	size_t cap = 0;
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/pagemap", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return werr_sys(err, errno, "open %s", path);
	for (size_t i = 0; i < mm->nvmas; i++) {
		const struct ck_vma *v = &mm->vmas[i];
		bool skip_file = v->kind == CK_VMA_FILE;

		/* Shared memory objects are saved once each, by ck_shmem_dump. */
		if (v->kind == CK_VMA_VDSO || v->kind == CK_VMA_VVAR ||
		    v->kind == CK_VMA_VSYSCALL || v->kind == CK_VMA_SHMEM ||
		    (v->kind == CK_VMA_FILE && v->shared))
			continue;
		for (uint64_t a = v->start; a < v->end; a += (uint64_t)CHUNK * 4096) {
			size_t n = (v->end - a) / 4096;

			if (n > CHUNK)
				n = CHUNK;
			if (pread(fd, pm, n * 8, (off_t)(a / 4096 * 8)) != (ssize_t)(n * 8))
				return werr_sys(err, errno, "read %s", path);
			ck_pages_select(pm, n, a, skip_file, &mm->pages, &mm->npages, &cap,
					&next_off);
		}
	}
	return 0;
}

/* Whether mount mnt_id is one of the process's (its /proc/pid/mountinfo). A file on another
 * mount - stdio handed in from the host - is named by the dumper's path, and restore opens it
 * outside the container, as its runtime did. */
static bool own_mount(const char *mountinfo, long mnt_id)
{
	for (const char *l = mountinfo; l && *l; l = strchr(l, '\n'), l = l ? l + 1 : NULL)
		if (strtol(l, NULL, 10) == mnt_id)
			return true;
	return false;
}

static int collect_fd(pid_t pid, const struct ck_proc *p, int fd, const char *mountinfo,
		      const struct ck_collect_opts *o, struct ck_fd *f, struct werr **err)
{
	_cleanup_free_ char *link = NULL, *info = NULL;
	char path[64];
	struct stat sb;
	size_t l;

	f->fd = fd;
	snprintf(path, sizeof(path), "/proc/%d/fdinfo/%d", pid, fd);
	if (read_file(path, &info, NULL, err) < 0)
		return -EIO;
	if (ck_parse_fdinfo(info, &f->pos, &f->flags) < 0)
		return werr_set(err, EINVAL, "%s: cannot parse", path);
	f->cloexec = (f->flags & O_CLOEXEC) != 0;
	f->flags &= ~O_CLOEXEC;
	snprintf(path, sizeof(path), "/proc/%d/fd/%d", pid, fd);
	if (read_link(path, &link, err) < 0)
		return -EIO;
	l = strlen(link);
	if (sscanf(link, "pipe:[%lu]", &f->pipe_id) == 1) {
		f->kind = CK_FD_PIPE;
		return 0;
	}
	/* A terminal cannot be reopened by its path: a restored tree gets another pty. The
	 * container's own, from its runtime, is saved as such; any other is refused. */
	if (o->console_rdev && link[0] == '/' && stat(path, &sb) == 0 && S_ISCHR(sb.st_mode) &&
	    sb.st_rdev == o->console_rdev && sb.st_dev == o->console_dev)
		return ck_tty_collect(pid, p, fd, f, err);
	if (link[0] == '/' && !(l > 10 && strcmp(link + l - 10, " (deleted)") == 0) &&
	    strncmp(link, "/dev/pts/", 9) != 0 && strcmp(link, "/dev/tty") != 0 &&
	    stat(path, &sb) == 0 &&
	    (S_ISREG(sb.st_mode) || S_ISDIR(sb.st_mode) || S_ISCHR(sb.st_mode))) {
		const char *m = strstr(info, "mnt_id:");

		f->kind = S_ISCHR(sb.st_mode) ? CK_FD_CHR : CK_FD_FILE;
		f->path = steal_ptr(link);
		f->outside = m && !own_mount(mountinfo, strtol(m + 7, NULL, 10));
		return 0;
	}
	{
		int r = ck_fdx_collect(pid, p, fd, link, info, f, err);

		if (r != -ENOENT)
			return r;
	}
	return werr_set(
		err, ENOTSUP,
		"process %d (%s) fd %d: %s cannot be checkpointed (ward saves regular files, "
		"directories, character devices, pipes, FIFOs, deleted files, eventfd, epoll, "
		"TCP/UDP sockets, unix socketpairs and the container's own terminal)",
		p->pid, p->comm, fd, link);
}

/* skip_fd: the write tracker a previous dump left (not the process's own), skipped when it is a
 * userfaultfd. */
static int collect_fds(pid_t pid, struct ck_proc *p, int skip_fd, const struct ck_collect_opts *o,
		       struct werr **err)
{
	_cleanup_closedir_ DIR *d = NULL;
	_cleanup_free_ char *mountinfo = NULL;
	char path[64];
	struct dirent *e;
	size_t cap = 0;

	snprintf(path, sizeof(path), "/proc/%d/mountinfo", pid);
	if (read_file(path, &mountinfo, NULL, err) < 0)
		return -EIO;
	snprintf(path, sizeof(path), "/proc/%d/fd", pid);
	d = opendir(path);
	if (!d)
		return werr_sys(err, errno, "open %s", path);
	while ((e = readdir(d))) {
		if (e->d_name[0] < '0' || e->d_name[0] > '9')
			continue;
		if (atoi(e->d_name) == skip_fd) {
			_cleanup_free_ char *link = NULL;

			snprintf(path, sizeof(path), "/proc/%d/fd/%d", pid, skip_fd);
			if (read_link(path, &link, NULL) == 0 &&
			    strcmp(link, "anon_inode:[userfaultfd]") == 0)
				continue;
		}
		if (p->nfds == cap) {
			cap = cap ? cap * 2 : 16;
			p->fds = xrealloc(p->fds, cap * sizeof(*p->fds));
		}
		memset(&p->fds[p->nfds], 0, sizeof(p->fds[0]));
		if (collect_fd(pid, p, atoi(e->d_name), mountinfo, o, &p->fds[p->nfds], err) < 0)
			return -ENOTSUP;
		p->nfds++;
	}
	return 0;
}

/* Pre-copy: pages unchanged since the parent image become in_parent; tracking is started,
 * re-armed or (leave-running without tracking) dropped. Registers are put back after. */
static int precopy(struct ck_proc *p, const struct ck_collect_opts *o, uint64_t insn,
		   struct werr **err)
{
	pid_t pid = p->host_pid;
	bool tracked = o->parent && ck_track_present(pid, o->parent->track_fd);
	int r = 0;

	p->mm.track_fd = -1;
	if (tracked) {
		_cleanup_free_ struct ck_span *w = NULL;
		struct ck_page_range *out = NULL;
		size_t nw = 0, nout = 0;

		if (ck_track_written(pid, &w, &nw, err) < 0)
			return -EIO;
		ck_pages_against_parent(p->mm.pages, p->mm.npages, w, nw, o->parent, &out, &nout);
		free(p->mm.pages);
		p->mm.pages = out;
		p->mm.npages = nout;
	}
	if (o->track) {
		int fd = (int)p->rlim_cur[RLIMIT_NOFILE] - 1;

		if (tracked) {
			fd = o->parent->track_fd;
			r = ck_track_protect(pid, err);
		} else {
			r = ck_track_start(pid, insn, &p->mm, fd, err);
		}
		p->mm.track_fd = fd;
	} else if (tracked && o->leave_running) {
		uint64_t a[6] = {(uint64_t)o->parent->track_fd, 0, 0, 0, 0, 0};
		long ret;

		r = ck_inject(pid, insn, SYS_close, a, &ret, err);
	}
	if (ck_set_regs(p->threads[0].host_tid, &p->threads[0].regs, r < 0 ? NULL : err) < 0 &&
	    r == 0)
		r = -EIO;
	return r;
}

int ck_collect_proc(pid_t host_pid, const pid_t *tids, size_t ntids,
		    const struct ck_collect_opts *o, struct ck_proc *p, struct werr **err)
{
	_cleanup_close_ int memfd = -1;
	uint64_t insn = 0;
	double t = ck_now_ms();
	char path[64];

	p->host_pid = host_pid;
	if (collect_ids(host_pid, p, err) < 0)
		return werr_wrap(err, "process %d", host_pid);
	snprintf(path, sizeof(path), "/proc/%d/cwd", host_pid);
	if (read_link(path, &p->cwd, err) < 0)
		return -EIO;
	snprintf(path, sizeof(path), "/proc/%d/root", host_pid);
	if (read_link(path, &p->root, err) < 0)
		return -EIO;
	for (int i = 0; i < CK_NRLIMIT; i++) {
		struct rlimit rl;

		if (prlimit(host_pid, (__rlimit_resource_t)i, NULL, &rl) < 0)
			return werr_sys(err, errno, "prlimit %d", host_pid);
		p->rlim_cur[i] = rl.rlim_cur;
		p->rlim_max[i] = rl.rlim_max;
	}
	/* A process forked since the last round holds its parent's tracker, inherited at the
	 * number the parent got (RLIMIT_NOFILE - 1 then, the child's limit unless changed). */
	if (collect_fds(host_pid, p,
			o->parent  ? o->parent->track_fd
			: o->chain ? (int)p->rlim_cur[RLIMIT_NOFILE] - 1
				   : -1,
			o, err) < 0)
		return -ENOTSUP;
	p->threads = xcalloc(ntids, sizeof(*p->threads));
	for (size_t i = 0; i < ntids; i++, p->nthreads++)
		if (collect_thread(tids[i], &p->threads[i], err) < 0)
			return werr_wrap(err, "process %d (%s)", p->pid, p->comm);
	for (size_t i = 0; i < ntids; i++) {
		_cleanup_free_ char *st = NULL;
		struct ck_status s;

		snprintf(path, sizeof(path), "/proc/%d/task/%d/status", host_pid, tids[i]);
		if (read_file(path, &st, NULL, err) < 0 || ck_parse_status(st, &s) < 0)
			return werr_set(err, ESRCH, "cannot read %s", path);
		p->threads[i].tid = s.ns_pid;
		if (!same_creds(p, &s)) {
			free(s.groups);
			return werr_set(err, ENOTSUP,
					"process %d (%s): thread %d has credentials other than the "
					"leader's (uids, gids, groups, capabilities or no_new_privs), "
					"which the image cannot hold",
					p->pid, p->comm, s.ns_pid);
		}
		free(s.groups);
		/* Before anything is injected: a strict-mode thread would be killed by it. */
		if (ck_seccomp_collect(p, &p->threads[i], tids[i], s.seccomp, err) < 0)
			return -ENOTSUP;
	}
	if (ck_task_collect_signals(p, err) < 0)
		return werr_wrap(err, "process %d (%s)", p->pid, p->comm);
	ck_phase_add(o->phase_ms, CK_PH_PROC, &t);
	memfd = ck_mem_open(host_pid, err);
	if (memfd < 0)
		return -EIO;
	if (ask_task(p, memfd, &insn, err) < 0 || ck_timers_collect(p, insn, err) < 0)
		return werr_wrap(err, "process %d (%s)", p->pid, p->comm);
	ck_phase_add(o->phase_ms, CK_PH_INJECT, &t);
	if (collect_mm(host_pid, p, o->parent, err) < 0 || select_pages(host_pid, &p->mm, err) < 0 ||
	    precopy(p, o, insn, err) < 0)
		return werr_wrap(err, "process %d (%s)", p->pid, p->comm);
	ck_phase_add(o->phase_ms, CK_PH_MM, &t);
	return 0;
}

/* process_vm_readv copies straight between the two address spaces (several times faster than
 * /proc/pid/mem, which bounces every page); /proc/pid/mem remains for what it cannot read
 * (PROT_NONE pages). */
static int copy_out(pid_t pid, int memfd, void *buf, size_t n, uint64_t addr)
{
	struct iovec local = {buf, n}, remote = {(void *)(uintptr_t)addr, n};

	errno = 0;
	if (process_vm_readv(pid, &local, 1, &remote, 1, 0) == (ssize_t)n)
		return 0;
	return pread(memfd, buf, n, (off_t)addr) == (ssize_t)n ? 0 : -1;
}

/* Bytes of pages-<pid>.img: the ranges not in the parent. */
uint64_t ck_pages_size(const struct ck_mm *mm)
{
	uint64_t sum = 0;

	for (size_t i = 0; i < mm->npages; i++)
		if (!mm->pages[i].in_parent)
			sum += mm->pages[i].npages * 4096;
	return sum;
}

/* Through the page server: streamed, hashed on the way by ck_ps_write. */
static int send_pages(struct ck_ps_conn *ps, pid_t host_pid, const struct ck_proc *p,
		      uint64_t *bytes, struct werr **err)
{
	enum { BUF = 4 << 20 };
	_cleanup_free_ char *buf = xmalloc(BUF);
	_cleanup_close_ int memfd = ck_mem_open(host_pid, err);
	char name[64];

	if (memfd < 0)
		return -EIO;
	snprintf(name, sizeof(name), "pages-%d.img", p->pid);
	if (ck_ps_file_begin(ps, name, ck_pages_size(&p->mm), err) < 0)
		return -EIO;
	for (size_t i = 0; i < p->mm.npages; i++) {
		uint64_t addr = p->mm.pages[i].addr, left = p->mm.pages[i].npages * 4096;

		if (p->mm.pages[i].in_parent)
			continue;
		while (left) {
			size_t n = left > BUF ? BUF : left;

			if (copy_out(host_pid, memfd, buf, n, addr) < 0)
				return werr_sys(err, errno ? errno : EIO,
						"process %d: read memory at 0x%llx", p->pid,
						(unsigned long long)addr);
			if (ck_ps_write(ps, buf, n, err) < 0)
				return -EIO;
			addr += n;
			left -= n;
			*bytes += n;
		}
	}
	return ck_ps_file_end(ps, err);
}

/* All of the ranges into one buffer: process_vm_readv with up to IOV_MAX ranges a call, one
 * range at a time (copy_out, which falls back to /proc/pid/mem) where a call comes up short. */
int ck_read_pages(pid_t host_pid, const struct ck_proc *p, char **out, size_t *len,
		  struct werr **err)
{
	enum { NIOV = 1024 };
	struct iovec remote[NIOV];
	size_t size = ck_pages_size(&p->mm), used = 0, i = 0;
	_cleanup_close_ int memfd = ck_mem_open(host_pid, err);
	char *buf = xmalloc(size ? size : 1);

	if (memfd < 0) {
		free(buf);
		return -EIO;
	}
	while (i < p->mm.npages) {
		size_t n = 0, want = 0, j = i;
		struct iovec local;

		for (; j < p->mm.npages && n < NIOV; j++) {
			const struct ck_page_range *pr = &p->mm.pages[j];

			if (pr->in_parent)
				continue;
			remote[n++] = (struct iovec){(void *)(uintptr_t)pr->addr, pr->npages * 4096};
			want += pr->npages * 4096;
		}
		local = (struct iovec){buf + used, want};
		if (want && process_vm_readv(host_pid, &local, 1, remote, n, 0) != (ssize_t)want) {
			for (size_t k = 0, off = 0; k < n; off += remote[k++].iov_len)
				if (copy_out(host_pid, memfd, buf + used + off, remote[k].iov_len,
					     (uint64_t)(uintptr_t)remote[k].iov_base) < 0) {
					free(buf);
					return werr_sys(err, errno ? errno : EIO,
							"process %d: read memory at %p", p->pid,
							remote[k].iov_base);
				}
		}
		used += want;
		i = j;
	}
	*out = buf;
	*len = used;
	return 0;
}

int ck_send_pages_held(struct ck_ps_conn *ps, pid_t pid, const char *buf, size_t len,
		       struct werr **err)
{
	char name[64];

	snprintf(name, sizeof(name), "pages-%d.img", pid);
	if (ck_ps_file_begin(ps, name, len, err) < 0 || ck_ps_write(ps, buf, len, err) < 0)
		return -EIO;
	return ck_ps_file_end(ps, err);
}

/* Copy the ranges into buffers of o, as many ranges per buffer as fit. */
static int fill_pages_out(struct ck_pages_out *o, pid_t host_pid, int memfd,
			  const struct ck_proc *p, uint64_t *bytes, struct werr **err)
{
	size_t size, used = 0;
	char *buf = ck_pages_out_buf(o, &size);
	int r;

	for (size_t i = 0; i < p->mm.npages; i++) {
		uint64_t addr = p->mm.pages[i].addr, left = p->mm.pages[i].npages * 4096;

		if (p->mm.pages[i].in_parent)
			continue;
		while (left) {
			size_t n = left > size - used ? size - used : left;

			if (copy_out(host_pid, memfd, buf + used, n, addr) < 0)
				return werr_sys(err, errno ? errno : EIO,
						"process %d: read memory at 0x%llx", p->pid,
						(unsigned long long)addr);
			used += n;
			addr += n;
			left -= n;
			*bytes += n;
			if (used < size)
				continue;
			if ((r = ck_pages_out_commit(o, used)) < 0)
				return werr_sys(err, -r, "write pages-%d.img", p->pid);
			buf = ck_pages_out_buf(o, &size);
			used = 0;
		}
	}
	if (used && (r = ck_pages_out_commit(o, used)) < 0)
		return werr_sys(err, -r, "write pages-%d.img", p->pid);
	return 0;
}

int ck_write_pages(int dirfd, struct ck_ps_conn *ps, pid_t host_pid, const struct ck_proc *p,
		   uint64_t *bytes, char sum[CK_SUM_HEX + 1], struct werr **err)
{
	_cleanup_close_ int memfd = -1, out = -1;
	struct ck_pages_out *o;
	char name[64];
	int r, w;

	sum[0] = '\0';
	if (ps)
		return send_pages(ps, host_pid, p, bytes, err);
	if ((memfd = ck_mem_open(host_pid, err)) < 0)
		return -EIO;
	snprintf(name, sizeof(name), "pages-%d.img", p->pid);
	out = ck_pages_open(dirfd, name);
	if (out < 0)
		return werr_sys(err, errno, "create %s", name);
	if (!(o = ck_pages_out_new(out, err)))
		return -EIO;
	r = fill_pages_out(o, host_pid, memfd, p, bytes, err);
	w = ck_pages_out_finish(o, sum);
	if (r == 0 && w < 0)
		r = werr_sys(err, -w, "write %s", name);
	return r;
}

int ck_write_pipe(int dirfd, pid_t host_pid, int fd, uint64_t id, int *size, struct werr **err)
{
	_cleanup_close_ int pfd = -1, tr = -1, tw = -1, out = -1;
	char path[64], name[64];
	int tmp[2];

	snprintf(path, sizeof(path), "/proc/%d/fd/%d", host_pid, fd);
	pfd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (pfd < 0)
		return werr_sys(err, errno, "open %s", path);
	*size = fcntl(pfd, F_GETPIPE_SZ);
	if (pipe2(tmp, O_CLOEXEC | O_NONBLOCK) < 0)
		return werr_sys(err, errno, "pipe");
	tr = tmp[0];
	tw = tmp[1];
	if (*size > 0)
		fcntl(tw, F_SETPIPE_SZ, *size);
	snprintf(name, sizeof(name), "pipe-%llu.img", (unsigned long long)id);
	out = openat(dirfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (out < 0)
		return werr_sys(err, errno, "create %s", name);
	/* tee duplicates what is queued without consuming it. */
	if (tee(pfd, tw, (size_t)1 << 30, SPLICE_F_NONBLOCK) < 0 && errno != EAGAIN)
		return werr_sys(err, errno, "tee from the pipe of %s", path);
	for (;;) {
		char buf[65536];
		ssize_t n = read(tr, buf, sizeof(buf));

		if (n < 0 && errno == EAGAIN)
			break;
		if (n <= 0)
			break;
		if (write_all(out, buf, (size_t)n) < 0)
			return werr_sys(err, errno, "write %s", name);
	}
	return 0;
}
