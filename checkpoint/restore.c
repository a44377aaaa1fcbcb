/* ck_restore: verify the image, open every saved file description once (files, devices, pipes
 * refilled with their queued bytes), fork the tree at its pids with clone3(set_tid) - each
 * helper forks its own children, so parentage is the image's - put each helper's fds in place,
 * then seize the helpers and rebuild each one (restore_mm.c), and let them all go. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "checkpoint/checkpoint.h"
#include "checkpoint/fdx.h"
#include "checkpoint/internal.h"
#include "checkpoint/mounts.h"
#include "checkpoint/procfs.h"
#include "checkpoint/inventory.h"
#include "checkpoint/seccomp_ck.h"
#include "checkpoint/ptrace.h"
#include "checkpoint/shmem.h"
#include "checkpoint/sysvipc.h"
#include "lib/util.h"

struct desc {
	uint32_t file_id;
	int fd; /* in the restorer, inherited by every helper */
};

struct rctx {
	struct rctx *parent; /* pre-copy: the parent image */
	int dirfd;
	struct ck_proc *procs;
	char **pages_sums; /* procs[i]'s pages file's sum, checked as it is read */
	size_t n;
	struct desc *descs;
	size_t ndescs;
	struct ck_shmem *shm; /* the top image's shared memory objects (parents' are unused) */
	size_t nshm;
	struct ck_ipc ipc; /* the top image's SysV IPC objects (sysvipc.c) */
	int ready[2];
	int tty_fd;		  /* the new container's terminal, or -1 (fd_tty.c) */
	const struct ck_tty *tty; /* the image's terminal settings, or NULL */
	bool lists_updates;	  /* the inventory vouches for cgroup-updates.jsonl */
};

static int load_json(int dirfd, const struct ck_inventory *inv, const char *fmt, pid_t pid,
		     char **text, struct werr **err)
{
	_cleanup_free_ char *name = xasprintf(fmt, (long long)pid);

	if (!ck_inventory_has(inv, name))
		return werr_set(err, ENOENT, "image: %s is not in the inventory", name);
	return read_file_at(dirfd, name, text, NULL, err);
}

static int load_proc(int dirfd, const struct ck_inventory *inv, pid_t pid, struct ck_proc *p,
		     struct werr **err)
{
	_cleanup_free_ char *core = NULL, *mm = NULL, *pm = NULL, *fds = NULL;

	if (load_json(dirfd, inv, "core-%lld.json", pid, &core, err) < 0 ||
	    load_json(dirfd, inv, "mm-%lld.json", pid, &mm, err) < 0 ||
	    load_json(dirfd, inv, "pagemap-%lld.json", pid, &pm, err) < 0 ||
	    load_json(dirfd, inv, "fds-%lld.json", pid, &fds, err) < 0)
		return -EINVAL;
	if (ck_core_from_json(core, p, err) < 0 || ck_mm_from_json(mm, &p->mm, err) < 0 ||
	    ck_pagemap_from_json(pm, &p->mm, err) < 0 || ck_fds_from_json(fds, p, err) < 0)
		return werr_wrap(err, "image of process %d", pid);
	if (p->pid != pid)
		return werr_set(err, EINVAL, "core-%d.json holds pid %d", pid, p->pid);
	return 0;
}

static int check_tree(const struct rctx *c, struct werr **err)
{
	if (c->procs[0].ppid != 0)
		return werr_set(err, EINVAL, "image: the root %d has a parent", c->procs[0].pid);
	for (size_t i = 1; i < c->n; i++) {
		bool found = false;

		for (size_t j = 0; j < i && !found; j++)
			found = c->procs[j].pid == c->procs[i].ppid;
		if (!found)
			return werr_set(err, EINVAL, "image: the parent %d of %d is not before it",
					c->procs[i].ppid, c->procs[i].pid);
	}
	return 0;
}

static int desc_fd(const struct rctx *c, uint32_t id)
{
	for (size_t i = 0; i < c->ndescs; i++)
		if (c->descs[i].file_id == id)
			return c->descs[i].fd;
	return -1;
}

/* A pipe's both ends, refilled from pipe-<id>.img; returns the end f wants, stores the other. */
static int open_pipe(struct rctx *c, const struct ck_fd *f, int *other_end, struct werr **err)
{
	_cleanup_free_ char *name = xasprintf("pipe-%llu.img", (unsigned long long)f->pipe_id);
	_cleanup_free_ char *data = NULL;
	size_t len = 0;
	int p[2];

	if (read_file_at(c->dirfd, name, &data, &len, err) < 0)
		return -EIO;
	if (pipe2(p, O_CLOEXEC) < 0)
		return werr_sys(err, errno, "pipe");
	if (f->pipe_size > 0)
		fcntl(p[1], F_SETPIPE_SZ, f->pipe_size);
	if (len && write_all(p[1], data, len) < 0) {
		close(p[0]);
		close(p[1]);
		return werr_sys(err, errno, "refill pipe %llu", (unsigned long long)f->pipe_id);
	}
	*other_end = (f->flags & O_ACCMODE) == O_RDONLY ? p[1] : p[0];
	return (f->flags & O_ACCMODE) == O_RDONLY ? p[0] : p[1];
}

static void add_desc(struct rctx *c, uint32_t id, int fd)
{
	c->descs = xrealloc(c->descs, (c->ndescs + 1) * sizeof(*c->descs));
	c->descs[c->ndescs++] = (struct desc){id, fd};
}

/* outside: only the files on mounts outside the tree's mount namespace (opened by the caller
 * of ck_restore_open, before the root exists); otherwise everything not yet open. */
static int open_descs(struct rctx *c, bool outside, struct werr **err)
{
	for (size_t i = 0; i < c->n; i++)
		for (size_t j = 0; j < c->procs[i].nfds; j++) {
			const struct ck_fd *f = &c->procs[i].fds[j];
			int fd, other = -1;

			if (desc_fd(c, f->file_id) >= 0 || (outside && !f->outside))
				continue;
			if (f->kind == CK_FD_PIPE) {
				uint32_t other_id = 0;

				/* The other end's description: the first fd of the same pipe with
				 * the other access mode. */
				for (size_t k = 0; k < c->n && !other_id; k++)
					for (size_t l = 0; l < c->procs[k].nfds && !other_id; l++) {
						const struct ck_fd *g = &c->procs[k].fds[l];

						if (g->kind == CK_FD_PIPE &&
						    g->pipe_id == f->pipe_id &&
						    (g->flags & O_ACCMODE) !=
							    (f->flags & O_ACCMODE))
							other_id = g->file_id;
					}
				fd = open_pipe(c, f, &other, err);
				if (fd < 0)
					return -EIO;
				if (other_id)
					add_desc(c, other_id, other);
				else
					close(other);
			} else if (f->kind == CK_FD_TTY) {
				fd = ck_tty_open(c->tty_fd, f, err);
				if (fd < 0)
					return werr_wrap(err, "process %d", c->procs[i].pid);
			} else if (f->kind >= CK_FD_EVENTFD) {
				uint32_t other_id;

				fd = ck_fdx_open(c->dirfd, c->procs, c->n, f, &other_id, &other,
						 err);
				if (fd < 0)
					return werr_wrap(err, "fd %d of process %d", f->fd,
							 c->procs[i].pid);
				if (other >= 0)
					add_desc(c, other_id, other);
			} else {
				fd = open(f->path,
					  (f->flags & ~(O_CREAT | O_EXCL | O_TRUNC)) | O_CLOEXEC);
				if (fd < 0)
					return werr_sys(err, errno,
							"reopen %s (fd %d of process %d)", f->path,
							f->fd, c->procs[i].pid);
				if (f->kind == CK_FD_FILE &&
				    lseek(fd, (off_t)f->pos, SEEK_SET) < 0 && errno != ESPIPE) {
					close(fd);
					return werr_sys(err, errno, "seek %s", f->path);
				}
			}
			add_desc(c, f->file_id, fd);
		}
	return 0;
}

static pid_t clone_at(pid_t pid)
{
	struct clone_args a = {
		.exit_signal = SIGCHLD, .set_tid = (uint64_t)(uintptr_t)&pid, .set_tid_size = 1};

	return (pid_t)syscall(SYS_clone3, &a, sizeof(a));
}

__attribute__((noreturn)) static void helper_fail(struct rctx *c, const struct ck_proc *p,
						  const char *what)
{
	char msg[256];
	int len = snprintf(msg, sizeof(msg), "E%d: %s: %s\n", p->pid, what, strerror(errno));

	if (write(c->ready[1], msg, (size_t)len) < 0)
		_exit(127);
	_exit(127);
}

static int max_open_fd(void)
{
	_cleanup_closedir_ DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int max = 2;

	while (d && (e = readdir(d)))
		if (atoi(e->d_name) > max)
			max = atoi(e->d_name);
	return max;
}

/* In the helper: the image's fds at their numbers, the readiness pipe at ready_fd, nothing else. */
static void helper_fds(struct rctx *c, const struct ck_proc *p, int ready_fd)
{
	int base = max_open_fd() + 1, keep_max = ready_fd;
	int *staged = xcalloc(p->nfds + 1, sizeof(int));
	int staged_ready;

	if (base <= ready_fd)
		base = ready_fd + 1;
	for (size_t i = 0; i < p->nfds; i++) {
		staged[i] = fcntl(desc_fd(c, p->fds[i].file_id), F_DUPFD_CLOEXEC, base);
		if (staged[i] < 0)
			helper_fail(c, p, "stage fd");
	}
	staged_ready = fcntl(c->ready[1], F_DUPFD_CLOEXEC, base);
	if (staged_ready < 0 || dup3(staged_ready, ready_fd, O_CLOEXEC) < 0)
		helper_fail(c, p, "readiness fd");
	c->ready[1] = ready_fd;
	for (size_t i = 0; i < p->nfds; i++) {
		const struct ck_fd *f = &p->fds[i];

		if (dup3(staged[i], f->fd, f->cloexec ? O_CLOEXEC : 0) < 0)
			helper_fail(c, p, "install fd");
		if (fcntl(f->fd, F_SETFL, f->flags) < 0)
			helper_fail(c, p, "fd flags");
	}
	/* Close every other fd: the gaps between the kept ones, then everything above. */
	for (int fd = 0; fd < base + (int)p->nfds + 2; fd++) {
		bool keep = fd == ready_fd;

		for (size_t i = 0; i < p->nfds && !keep; i++)
			keep = p->fds[i].fd == fd;
		if (!keep)
			close(fd);
		else if (fd > keep_max)
			keep_max = fd;
	}
	syscall(SYS_close_range, (unsigned)(base + p->nfds + 2), ~0U, 0);
	free(staged);
}

static int ready_fd_for(const struct ck_proc *p)
{
	int max = 2;

	for (size_t i = 0; i < p->nfds; i++)
		if (p->fds[i].fd > max)
			max = p->fds[i].fd;
	return max + 1;
}

/* The helper for procs[idx]: runs in the child of clone_at, never returns. */
__attribute__((noreturn)) static void helper(struct rctx *c, size_t idx)
{
	const struct ck_proc *p;

again:
	p = &c->procs[idx];
	/* A container's init with a terminal leads its session already (create made it so). */
	if (p->sid == p->pid && getsid(0) != p->pid && setsid() < 0)
		helper_fail(c, p, "setsid");
	if (p->pgid == p->pid && p->sid != p->pid && setpgid(0, 0) < 0)
		helper_fail(c, p, "setpgid");
	if (ck_tty_helper(c->tty, p, idx == 0, c->tty_fd) < 0)
		helper_fail(c, p, "the container's terminal");
	for (size_t i = idx + 1; i < c->n; i++) {
		pid_t kid;

		if (c->procs[i].ppid != p->pid)
			continue;
		kid = clone_at(c->procs[i].pid);
		if (kid < 0)
			helper_fail(c, &c->procs[i], "clone3 with set_tid");
		if (kid == 0) {
			idx = i; /* the child becomes that process's helper */
			goto again;
		}
	}
	for (int i = 0; i < CK_NRLIMIT; i++) {
		struct rlimit rl = {p->rlim_cur[i], p->rlim_max[i]};

		if (setrlimit((__rlimit_resource_t)i, &rl) < 0)
			helper_fail(c, p, "setrlimit");
	}
	if (strcmp(p->root, "/") != 0 && chroot(p->root) < 0)
		helper_fail(c, p, "chroot");
	if (chdir(p->cwd) < 0)
		helper_fail(c, p, "chdir");
	umask(p->umask);
	helper_fds(c, p, ready_fd_for(p));
	if (ck_fdx_helper(p) < 0)
		helper_fail(c, p, "epoll_ctl");
	if (write(c->ready[1], "K", 1) != 1)
		_exit(127);
	for (;;)
		pause(); /* until seized and rebuilt */
}

/* Wait for one "K" per process, or the first helper's error message. */
static int wait_ready(struct rctx *c, struct werr **err)
{
	size_t got = 0;

	while (got < c->n) {
		struct pollfd pfd = {c->ready[0], POLLIN, 0};
		char buf[512];
		ssize_t len;

		if (poll(&pfd, 1, 10000) <= 0)
			return werr_set(err, ETIMEDOUT, "restore: helpers not ready after 10 s");
		len = read(c->ready[0], buf, sizeof(buf) - 1);
		if (len <= 0)
			return werr_set(err, EIO, "restore: a helper died before it was ready");
		buf[len] = '\0';
		for (ssize_t i = 0; i < len; i++) {
			if (buf[i] == 'K') {
				got++;
				continue;
			}
			buf[i + strcspn(buf + i, "\n")] = '\0';
			return werr_set(err, EIO, "restore: helper for process %s", buf + i + 1);
		}
	}
	return 0;
}

/* The helpers' pids in our pid namespace: the processes in root_host's pid namespace whose
 * innermost pid (NSpid's last) is an image pid. */
static int map_pids(struct rctx *c, pid_t root_host, pid_t *host, struct werr **err)
{
	_cleanup_closedir_ DIR *d = opendir("/proc");
	char path[64];
	struct stat ns;
	struct dirent *e;

	snprintf(path, sizeof(path), "/proc/%d/ns/pid", root_host);
	if (stat(path, &ns) < 0)
		return werr_sys(err, errno, "stat %s", path);
	while (d && (e = readdir(d))) {
		_cleanup_free_ char *text = NULL;
		struct ck_status st;
		struct stat sb;
		pid_t pid = atoi(e->d_name);

		if (pid <= 0)
			continue;
		snprintf(path, sizeof(path), "/proc/%d/ns/pid", pid);
		if (stat(path, &sb) < 0 || sb.st_ino != ns.st_ino || sb.st_dev != ns.st_dev)
			continue;
		snprintf(path, sizeof(path), "/proc/%d/status", pid);
		if (read_file(path, &text, NULL, NULL) < 0 || ck_parse_status(text, &st) < 0)
			continue;
		free(st.groups);
		for (size_t i = 0; i < c->n; i++)
			if (c->procs[i].pid == st.ns_pid)
				host[i] = pid;
	}
	for (size_t i = 0; i < c->n; i++)
		if (host[i] <= 0)
			return werr_set(err, ESRCH, "restore: no helper for process %d",
					c->procs[i].pid);
	if (host[0] != root_host)
		return werr_set(err, ESRCH, "restore: the root %d is %d here, not %d",
				c->procs[0].pid, host[0], root_host);
	return 0;
}

/* pid's pages files down the chain of pre-copy images (src[0] this image's). Each is read once,
 * in order, and verified on the way. */
static int open_pages(struct rctx *c, pid_t pid, struct ck_pagesrc *src, size_t *levels,
		      struct werr **err)
{
	for (struct rctx *img = c; img && *levels < 65; img = img->parent) {
		_cleanup_free_ char *name = xasprintf("pages-%d.img", pid);
		const struct ck_proc *p = NULL;
		size_t k = 0;
		int fl;

		for (; k < img->n && !p; k++)
			if (img->procs[k].pid == pid)
				p = &img->procs[k];
		if (!p)
			break; /* not in this parent: a page sent there is an error on reading */
		snprintf(src[*levels].name, sizeof(src[*levels].name), "%s", name);
		src[*levels].sum = img->pages_sums[k - 1];
		src[*levels].fd = openat(img->dirfd, name, O_RDONLY | O_CLOEXEC);
		if (src[*levels].fd < 0)
			return werr_sys(err, errno, "open %s", name);
		/* What is not in the page cache is read with O_DIRECT (pages_in.c). */
		fl = fcntl(src[*levels].fd, F_GETFL);
		if (fl >= 0) /* EINVAL: no O_DIRECT on this filesystem */
			fcntl(src[*levels].fd, F_SETFL, fl | O_DIRECT);
		src[*levels].mm = &p->mm;
		src[*levels].parent = NULL;
		if (*levels)
			src[*levels - 1].parent = &src[*levels];
		(*levels)++;
	}
	return 0;
}

static int rebuild_all(struct rctx *c, pid_t root_host, struct ck_stats *st, struct werr **err)
{
	pid_t *host = xcalloc(c->n, sizeof(pid_t));
	pid_t **tids = xcalloc(c->n, sizeof(pid_t *));
	int r = map_pids(c, root_host, host, err);

	for (size_t i = 0; i < c->n && r == 0; i++) {
		r = ck_seize(host[i],
			     PTRACE_O_EXITKILL | PTRACE_O_TRACECLONE |
				     ck_seccomp_ptrace_opts(&c->procs[i]),
			     err);
		if (r == 0 && (r = ck_interrupt(host[i], err)) == 0)
			r = ck_wait_stop(host[i], err);
	}
	for (size_t i = 0; i < c->n && r == 0; i++) {
		struct ck_pagesrc src[65];
		size_t levels = 0;

		tids[i] = xcalloc(c->procs[i].nthreads, sizeof(pid_t));
		r = open_pages(c, c->procs[i].pid, src, &levels, err);
		if (r == 0)
			r = ck_rebuild_proc(host[i], &c->procs[i], src, c->shm, c->nshm,
					    ready_fd_for(&c->procs[i]), tids[i], err);
		for (size_t k = 0; k < levels; k++)
			close(src[k].fd);
	}
	/* All rebuilt: let them go together. On failure the caller kills them (EXITKILL would
	 * too, once we are gone). */
	for (size_t i = 0; i < c->n && r == 0; i++)
		for (size_t j = 0; j < c->procs[i].nthreads; j++)
			if (ptrace(PTRACE_DETACH, tids[i][j], 0, 0) < 0 && r == 0)
				r = werr_sys(err, errno, "ptrace detach %d", tids[i][j]);
	/* On failure the threads made by an injected clone are ours to reap (we trace them): a
	 * thread-group leader stays unreapable until they are. */
	for (size_t i = 0; i < c->n && r < 0; i++)
		for (size_t j = 1; tids[i] && j < c->procs[i].nthreads; j++)
			if (tids[i][j] > 0 && kill(tids[i][j], SIGKILL) == 0)
				waitpid(tids[i][j], NULL, __WALL);
	for (size_t i = 0; i < c->n; i++)
		free(tids[i]);
	free(tids);
	free(host);
	return r;
}

/* Verify and load the image in dir (and, for pre-copy, its parents). */
static int load_image(const char *dir, struct rctx *c, int depth, struct werr **err)
{
	struct ck_inventory inv = {0};
	int r;

	c->ready[0] = c->ready[1] = -1;
	c->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (c->dirfd < 0)
		return werr_sys(err, errno, "open image directory %s", dir);
	r = ck_inventory_load_but_pages(c->dirfd, &inv, err);
	if (r == 0) {
		c->n = inv.npids;
		c->procs = xcalloc(c->n, sizeof(*c->procs));
		c->pages_sums = xcalloc(c->n, sizeof(char *));
		for (size_t i = 0; i < c->n && r == 0; i++)
			r = load_proc(c->dirfd, &inv, inv.pids[i], &c->procs[i], err);
		for (size_t i = 0; i < c->n && r == 0; i++) {
			_cleanup_free_ char *name = xasprintf("pages-%d.img", inv.pids[i]);
			const char *sum = ck_inventory_sum(&inv, name);

			if (!sum)
				r = werr_set(err, ENOENT, "image: %s is not in the inventory",
					     name);
			else
				c->pages_sums[i] = xstrdup(sum);
		}
	}
	if (r == 0)
		c->lists_updates = ck_inventory_has(&inv, "cgroup-updates.jsonl");
	if (r == 0)
		r = check_tree(c, err);
	if (r == 0)
		r = ck_seccomp_load(c->dirfd, &inv, c->procs, c->n, err);
	/* Shared memory is saved whole in every image of a chain: the top one's is used. */
	if (r == 0 && depth == 0)
		r = ck_shmem_load(c->dirfd, &inv, c->procs, c->n, &c->shm, &c->nshm, err);
	if (r == 0 && depth == 0)
		r = ck_ipc_load(c->dirfd, &inv, &c->ipc, err);
	if (r == 0 && inv.parent) {
		if (depth > 64)
			r = werr_set(err, ELOOP, "image: more than 64 parent images");
		else {
			/* A relative parent (an image sent to a page server) is a path from dir. */
			_cleanup_free_ char *pdir = inv.parent[0] == '/'
							    ? xstrdup(inv.parent)
							    : xasprintf("%s/%s", dir, inv.parent);

			c->parent = xcalloc(1, sizeof(*c->parent));
			r = load_image(pdir, c->parent, depth + 1, err);
			if (r < 0)
				werr_wrap(err, "parent image %s", inv.parent);
		}
	}
	ck_inventory_free(&inv);
	return r;
}

int ck_restore_open(const char *dir, struct ck_restore **out, struct werr **err)
{
	struct rctx *c = xcalloc(1, sizeof(*c));
	int r = load_image(dir, c, 0, err);

	c->tty_fd = -1;
	if (r == 0)
		c->tty = ck_tty_of(c->procs, c->n);

	if (r == 0 && pipe2(c->ready, O_CLOEXEC) < 0)
		r = werr_sys(err, errno, "pipe");
	if (r == 0)
		r = ck_shmem_create(c->shm, c->nshm, err);
	if (r == 0)
		r = open_descs(c, true, err);
	if (r < 0) {
		ck_restore_free((struct ck_restore *)c);
		return werr_wrap(err, "restore from %s", dir);
	}
	*out = (struct ck_restore *)c;
	return 0;
}

void ck_restore_free(struct ck_restore *r)
{
	struct rctx *c = (struct rctx *)r;

	if (!c)
		return;
	ck_restore_free((struct ck_restore *)c->parent);
	for (size_t i = 0; i < c->n; i++) {
		ck_proc_free(&c->procs[i]);
		if (c->pages_sums)
			free(c->pages_sums[i]);
	}
	free(c->pages_sums);
	ck_shmem_free(c->shm, c->nshm);
	ck_ipc_free(&c->ipc);
	for (size_t i = 0; i < c->ndescs; i++)
		close(c->descs[i].fd);
	free(c->procs);
	free(c->descs);
	if (c->ready[0] >= 0)
		close(c->ready[0]);
	if (c->ready[1] >= 0)
		close(c->ready[1]);
	if (c->dirfd >= 0)
		close(c->dirfd);
	if (c->tty_fd >= 0)
		close(c->tty_fd);
	free(c);
}

bool ck_restore_lists_updates(const struct ck_restore *r)
{
	return ((const struct rctx *)r)->lists_updates;
}

bool ck_restore_has_tty(const struct ck_restore *r)
{
	return ((const struct rctx *)r)->tty != NULL;
}

int ck_restore_set_tty(struct ck_restore *r, int tty_fd, struct werr **err)
{
	struct rctx *c = (struct rctx *)r;

	if (c->tty_fd >= 0)
		close(c->tty_fd);
	c->tty_fd = fcntl(tty_fd, F_DUPFD_CLOEXEC, 3);
	if (c->tty_fd < 0)
		return werr_sys(err, errno, "restore: the container's terminal");
	return 0;
}

pid_t ck_restore_root_pid(const struct ck_restore *r)
{
	return ((const struct rctx *)r)->procs[0].pid;
}

bool ck_restore_has_seccomp(const struct ck_restore *r)
{
	const struct rctx *c = (const struct rctx *)r;

	for (size_t i = 0; i < c->n; i++)
		if (ck_seccomp_ptrace_opts(&c->procs[i]))
			return true;
	return false;
}

int ck_restore_become_root(struct ck_restore *r, struct werr **err)
{
	struct rctx *c = (struct rctx *)r;

	if (getpid() != c->procs[0].pid)
		return werr_set(err, EINVAL,
				"restore: this process is %d in its pid namespace, the "
				"image's root is %d",
				getpid(), c->procs[0].pid);
	close(c->ready[0]);
	c->ready[0] = -1;
	prctl(PR_SET_PDEATHSIG, 0);
	if (ck_mounts_restore(c->dirfd, err) < 0 || open_descs(c, false, err) < 0 ||
	    ck_shmem_fill(c->dirfd, c->shm, c->nshm, err) < 0)
		return -EIO;
	helper(c, 0);
}

int ck_restore_finish(struct ck_restore *r, pid_t root_host, struct ck_stats *st, struct werr **err)
{
	struct rctx *c = (struct rctx *)r;
	struct ck_stats local = {0};
	double t0 = ck_now_ms();
	int rc;

	if (!st)
		st = &local;
	close(c->ready[1]);
	c->ready[1] = -1;
	rc = wait_ready(c, err);
	if (rc == 0) /* before any process of the tree runs */
		rc = ck_ipc_restore(c->dirfd, &c->ipc, root_host, err);
	if (rc == 0)
		rc = rebuild_all(c, root_host, st, err);
	st->nprocs = (int)c->n;
	for (size_t i = 0; i < c->n; i++)
		st->nthreads += (int)c->procs[i].nthreads;
	st->total_ms += ck_now_ms() - t0;
	st->frozen_ms = st->total_ms;
	return rc < 0 ? werr_wrap(err, "restore") : 0;
}

/* Take the deaths of a killed process's threads that we trace, its leader's last: a leader's death
 * is reported only once its other threads are reaped, and those we trace only we can reap. */
static void reap_traced(pid_t pid)
{
	char path[64];
	DIR *d;
	struct dirent *e;

	snprintf(path, sizeof(path), "/proc/%d/task", pid);
	d = opendir(path);
	while (d && (e = readdir(d)))
		if (atoi(e->d_name) > 0 && atoi(e->d_name) != pid)
			while (waitpid(atoi(e->d_name), NULL, __WALL) < 0 && errno == EINTR)
				;
	if (d)
		closedir(d);
	while (waitpid(pid, NULL, __WALL) < 0 && errno == EINTR)
		;
}

int ck_restore(const struct ck_restore_opts *o, pid_t *root, struct ck_stats *st, struct werr **err)
{
	struct ck_restore *r = NULL;
	struct ck_stats local = {0};
	double t0 = ck_now_ms();
	pid_t top;
	int rc;

	if (!st)
		st = &local;
	memset(st, 0, sizeof(*st));
	if (ck_restore_open(o->dir, &r, err) < 0)
		return -EINVAL;
	top = clone_at(ck_restore_root_pid(r));
	if (top < 0) {
		rc = werr_sys(err, errno, "clone3 at pid %d", ck_restore_root_pid(r));
		ck_restore_free(r);
		return werr_wrap(err, "restore from %s", o->dir);
	}
	if (top == 0) {
		_cleanup_werr_ struct werr *e = NULL;

		ck_restore_become_root(r, &e);
		helper_fail((struct rctx *)r, &((struct rctx *)r)->procs[0], e ? e->msg : "?");
	}
	st->total_ms = ck_now_ms() - t0;
	rc = ck_restore_finish(r, top, st, err);
	if (rc < 0) {
		struct rctx *c = (struct rctx *)r;

		for (size_t i = 0; i < c->n; i++)
			kill(c->procs[i].pid, SIGKILL);
		kill(top, SIGKILL);
		for (size_t i = c->n; i-- > 0;)
			reap_traced(c->procs[i].pid);
		waitpid(top, NULL, __WALL);
	}
	ck_restore_free(r);
	if (rc < 0)
		return werr_wrap(err, "from %s", o->dir);
	*root = top;
	return 0;
}
