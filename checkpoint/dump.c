/* ck_dump: stop a process tree (freeze its cgroup, seize and interrupt every thread), collect
 * each process into the image directory, then detach (leave running) or kill it. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <linux/kcmp.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "checkpoint/checkpoint.h"
#include "checkpoint/fdx.h"
#include "checkpoint/internal.h"
#include "checkpoint/inventory.h"
#include "checkpoint/locks.h"
#include "checkpoint/sysvipc.h"
#include "checkpoint/page_server.h"
#include "checkpoint/procfs.h"
#include "checkpoint/ptrace.h"
#include "checkpoint/seccomp_ck.h"
#include "checkpoint/shmem.h"
#include "lib/util.h"

struct dtask {
	pid_t pid;   /* host pid (the dumper's namespace) */
	long parent; /* index of the parent in the tree, -1 for the root */
	pid_t *tids; /* seized threads, leader first */
	size_t ntids;
	bool stopped; /* every tid waited for */
	bool gone;    /* exited while being stopped (a child between thaw and trap) */
};

struct dtree {
	struct dtask *t;
	size_t n, cap;
};

static void dtree_free(struct dtree *d)
{
	for (size_t i = 0; i < d->n; i++)
		free(d->t[i].tids);
	free(d->t);
}

static bool has_tid(const struct dtask *t, pid_t tid)
{
	for (size_t i = 0; i < t->ntids; i++)
		if (t->tids[i] == tid)
			return true;
	return false;
}

/* Seize every thread of t->pid (and interrupt it unless frozen), listing /proc/pid/task until
 * no new one shows up (a thread may be cloning while we seize). */
static int seize_threads(struct dtask *t, bool interrupt, struct werr **err)
{
	char path[64];
	bool added = true;

	snprintf(path, sizeof(path), "/proc/%d/task", t->pid);
	while (added) {
		_cleanup_closedir_ DIR *d = opendir(path);
		struct dirent *e;

		added = false;
		if (!d)
			return werr_sys(err, errno, "open %s", path);
		while ((e = readdir(d))) {
			pid_t tid = atoi(e->d_name);

			if (tid <= 0 || has_tid(t, tid))
				continue;
			if (ck_seize(tid, 0, err) < 0 || (interrupt && ck_interrupt(tid, err) < 0))
				return -ESRCH;
			t->tids = xrealloc(t->tids, (t->ntids + 1) * sizeof(pid_t));
			/* The leader (tid == pid) first. */
			if (tid == t->pid && t->ntids) {
				memmove(t->tids + 1, t->tids, t->ntids * sizeof(pid_t));
				t->tids[0] = tid;
			} else {
				t->tids[t->ntids] = tid;
			}
			t->ntids++;
			added = true;
		}
	}
	return 0;
}

/* A process that exits meanwhile is dropped (as a zombie would be); a thread too. */
static int wait_threads(struct dtask *t, struct werr **err)
{
	for (size_t i = 0; i < t->ntids; i++) {
		_cleanup_werr_ struct werr *e = NULL;
		int r = ck_wait_stop(t->tids[i], &e);

		if (r == -ESRCH && t->tids[i] == t->pid) {
			t->gone = true;
		} else if (r == -ESRCH) {
			memmove(t->tids + i, t->tids + i + 1, (t->ntids - i - 1) * sizeof(pid_t));
			t->ntids--;
			i--;
		} else if (r < 0) {
			return werr_set(err, -r, "%s", e->msg);
		}
	}
	t->stopped = true;
	return 0;
}

/* The parent of a live process; -1 for zombies (dead already: nothing to save, and the
 * restored parent's wait simply finds no such child). */
static pid_t stat_ppid(pid_t pid)
{
	_cleanup_free_ char *buf = NULL;
	char path[64], *p;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	if (read_file(path, &buf, NULL, NULL) < 0)
		return -1;
	p = strrchr(buf, ')');
	if (!p || strlen(p) < 5 || p[2] == 'Z' || p[2] == 'X')
		return -1;
	return (pid_t)strtol(p + 4, NULL, 10);
}

static bool in_tree(const struct dtree *d, pid_t pid)
{
	for (size_t i = 0; i < d->n; i++)
		if (d->t[i].pid == pid)
			return true;
	return false;
}

/* Append the children of tree task idx (scanning /proc: this kernel has no
 * /proc/pid/task/tid/children). */
static int add_children(struct dtree *d, size_t idx, struct werr **err)
{
	_cleanup_closedir_ DIR *dir = opendir("/proc");
	struct dirent *e;

	if (!dir)
		return werr_sys(err, errno, "open /proc");
	while ((e = readdir(dir))) {
		pid_t pid = atoi(e->d_name);

		if (pid <= 0 || stat_ppid(pid) != d->t[idx].pid || in_tree(d, pid))
			continue;
		if (d->n == d->cap) {
			d->cap = d->cap ? d->cap * 2 : 16;
			d->t = xrealloc(d->t, d->cap * sizeof(*d->t));
		}
		d->t[d->n++] = (struct dtask){.pid = pid, .parent = (long)idx};
	}
	return 0;
}

static int cgroup_freeze(const char *cg, bool freeze, struct werr **err)
{
	_cleanup_free_ char *v1 = xasprintf("%s/freezer.state", cg);
	_cleanup_free_ char *v2 = xasprintf("%s/cgroup.freeze", cg);
	bool is_v1 = access(v1, F_OK) == 0;
	const char *val = is_v1 ? (freeze ? "FROZEN" : "THAWED") : (freeze ? "1" : "0");

	if (write_file(is_v1 ? v1 : v2, val, strlen(val), err) < 0)
		return werr_wrap(err, "%s cgroup %s", freeze ? "freeze" : "thaw", cg);
	for (int i = 0; freeze && i < 5000; i++) {
		_cleanup_free_ char *s = NULL;
		_cleanup_free_ char *ev = xasprintf("%s/cgroup.events", cg);

		if (read_file(is_v1 ? v1 : ev, &s, NULL, err) < 0)
			return -EIO;
		if (is_v1 ? strncmp(s, "FROZEN", 6) == 0 : strstr(s, "frozen 1") != NULL)
			return 0;
		usleep(1000);
	}
	return freeze ? werr_set(err, ETIMEDOUT, "cgroup %s did not freeze in 5 s", cg) : 0;
}

static int freeze_tree(const struct ck_dump_opts *o, bool frozen, struct werr **err)
{
	return o->freeze ? o->freeze(o->freeze_arg, frozen, err)
			 : cgroup_freeze(o->cgroup, frozen, err);
}

static bool has_child(const struct dtree *d, size_t idx)
{
	for (size_t i = 0; i < d->n; i++)
		if (d->t[i].parent == (long)idx)
			return true;
	return false;
}

/* Stop the whole tree, one process at a time: seize and interrupt its threads, wait for them,
 * then look for its children (a stopped parent forks no more). With a cgroup, everything is
 * first seized while frozen (nothing can fork or exit meanwhile) and interrupted after the thaw:
 * a task frozen in a sleep does not wake up for PTRACE_INTERRUPT, and would never trap. */
static int stop_tree(struct dtree *d, const struct ck_dump_opts *o, struct werr **err)
{
	int r = 0;

	d->t = xcalloc(16, sizeof(*d->t));
	d->cap = 16;
	d->t[d->n++] = (struct dtask){.pid = o->root, .parent = -1};
	if (o->freeze || o->cgroup) {
		if (freeze_tree(o, true, err) < 0)
			return -EIO;
		/* Interrupted now and again after the thaw: a task about to leave a sleep when
		 * thawed traps on the first, one that sleeps on gets woken by the second. */
		for (size_t i = 0; i < d->n && r == 0; i++) {
			r = seize_threads(&d->t[i], true, err);
			if (r == 0)
				r = add_children(d, i, err);
		}
		if (freeze_tree(o, false, r < 0 ? NULL : err) < 0 && r == 0)
			r = -EIO;
		for (size_t i = 0; i < d->n && r == 0; i++)
			for (size_t j = 0; j < d->t[i].ntids && r == 0; j++)
				r = ck_interrupt(d->t[i].tids[j], err);
	}
	for (size_t i = 0; i < d->n && r == 0; i++) {
		r = seize_threads(&d->t[i], true, err); /* threads new since the thaw */
		if (r == 0)
			r = wait_threads(&d->t[i], err);
		if (r == 0 && !d->t[i].gone)
			r = add_children(d, i, err);
	}
	for (size_t i = 0; i < d->n && r == 0; i++)
		if (d->t[i].gone && (i == 0 || has_child(d, i)))
			r = werr_set(err, ESRCH, "process %d exited during the checkpoint%s",
				     d->t[i].pid, i ? " and had children" : "");
	return r;
}

static void kill_tree(const struct dtree *d)
{
	for (size_t i = 0; i < d->n; i++)
		kill(d->t[i].pid, SIGKILL);
}

/* Detach, or (killed) take the deaths. */
static void release_tree(struct dtree *d, bool killed)
{
	/* Children before parents (a dying pid-namespace init waits for its children, whose
	 * deaths we, their tracer, must take first), and each leader after its threads (its death
	 * is reported only once the other threads are reaped). */
	for (size_t i = d->n; i-- > 0;)
		for (size_t j = d->t[i].ntids; j-- > 0;) {
			if (!killed) {
				ptrace(PTRACE_DETACH, d->t[i].tids[j], 0, 0);
				continue;
			}
			/* Take our tracer's notice of the death (reaps our own children). */
			while (waitpid(d->t[i].tids[j], NULL, __WALL) < 0 && errno == EINTR)
				;
		}
}

static void add_file(struct ck_inventory *inv, const char *fmt, long long id)
{
	ck_inventory_add(inv, xasprintf(fmt, id), NULL);
}

/* A process of a tree that is killed anyway: its state in memory (pages copied out), written
 * and sent once the tree is released. */
struct held {
	struct ck_proc proc;
	char *buf; /* NULL: nothing held here */
	size_t len;
};

/* A final round holds up to this much in memory; a larger one streams from the stopped tree. */
#define CK_HOLD_MAX ((uint64_t)256 << 20)

static int write_meta(int dirfd, const struct ck_proc *p, struct ck_inventory *inv,
		      double *phase_ms, struct werr **err)
{
	static const char *fmt[] = {"core-%lld.json", "mm-%lld.json", "pagemap-%lld.json",
				    "fds-%lld.json"};
	char *(*gen[])(const struct ck_proc *) = {ck_core_to_json, NULL, NULL, ck_fds_to_json};
	double t = ck_now_ms();

	for (size_t k = 0; k < ARRAY_SIZE(fmt); k++) {
		_cleanup_free_ char *name = xasprintf(fmt[k], (long long)p->pid);
		_cleanup_free_ char *text = gen[k]   ? gen[k](p)
					    : k == 1 ? ck_mm_to_json(&p->mm)
						     : ck_pagemap_to_json(&p->mm);

		if (ck_write_text(dirfd, name, text, err) < 0)
			return -EIO;
		add_file(inv, fmt[k], p->pid);
	}
	if (p->nptimers) /* an older reader would drop them: it must refuse the image */
		ck_inventory_need(inv, CK_FORMAT_IPC);
	ck_phase_add(phase_ms, CK_PH_META, &t);
	return 0;
}

static int write_proc(int dirfd, struct ck_ps_conn *ps, const struct ck_proc *p,
		      struct ck_inventory *inv, struct ck_stats *st, struct werr **err)
{
	double t;
	char sum[CK_SUM_HEX + 1];

	if (write_meta(dirfd, p, inv, st->phase_ms, err) < 0)
		return -EIO;
	t = ck_now_ms();
	if (ck_write_pages(dirfd, ps, p->host_pid, p, &st->pages_bytes, sum, err) < 0)
		return -EIO;
	ck_inventory_add(inv, xasprintf("pages-%lld.img", (long long)p->pid), sum);
	ck_phase_add(st->phase_ms, CK_PH_PAGES, &t);
	return 0;
}

/* Copy p's pages into h and move p there. */
static int hold_proc(struct ck_proc *p, struct held *h, struct ck_stats *st, struct werr **err)
{
	double t = ck_now_ms();

	if (ck_read_pages(p->host_pid, p, &h->buf, &h->len, err) < 0)
		return -EIO;
	st->pages_bytes += h->len;
	h->proc = *p;
	memset(p, 0, sizeof(*p));
	ck_phase_add(st->phase_ms, CK_PH_PAGES, &t);
	return 0;
}

/* After the release: the held processes' files written and their pages sent (*held freed). */
static int write_held(int dirfd, struct ck_ps_conn *ps, struct held *held, size_t n,
		      struct ck_inventory *inv, int r, struct werr **err)
{
	for (size_t i = 0; held && i < n; i++) {
		struct held *h = &held[i];

		if (r == 0 && h->buf)
			r = write_meta(dirfd, &h->proc, inv, NULL, err); /* phase: sent */
		if (r == 0 && h->buf)
			r = ck_send_pages_held(ps, h->proc.pid, h->buf, h->len, err);
		if (r == 0 && h->buf)
			ck_inventory_add(inv, xasprintf("pages-%lld.img", (long long)h->proc.pid),
					 "");
		ck_proc_free(&h->proc);
		free(h->buf);
	}
	free(held);
	return r;
}

/* Number the open file descriptions: fds that kcmp says share one (inherited over fork, dup'd)
 * get the same file_id, so restore opens it once and hands it to each. */
static void number_descriptions(struct ck_proc *procs, size_t n)
{
	struct {
		size_t proc, fd;
	} *reps = NULL;
	size_t nreps = 0;

	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < procs[i].nfds; j++) {
			struct ck_fd *f = &procs[i].fds[j];
			size_t k;

			for (k = 0; k < nreps; k++) {
				struct ck_proc *rp = &procs[reps[k].proc];
				struct ck_fd *r = &rp->fds[reps[k].fd];

				if (r->kind == f->kind &&
				    syscall(SYS_kcmp, rp->host_pid, procs[i].host_pid, KCMP_FILE,
					    r->fd, f->fd) == 0)
					break;
			}
			if (k == nreps) {
				reps = xrealloc(reps, (nreps + 1) * sizeof(*reps));
				reps[nreps].proc = i;
				reps[nreps++].fd = j;
			}
			f->file_id = (uint32_t)k + 1;
		}
	free(reps);
}

/* Pipes: each pipe's queued bytes once, and its size into every fd that refers to it. */
static int write_pipes(int dirfd, struct ck_proc *procs, size_t n, struct ck_inventory *inv,
		       struct werr **err)
{
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < procs[i].nfds; j++) {
			struct ck_fd *f = &procs[i].fds[j];
			bool seen = false;

			if (f->kind != CK_FD_PIPE)
				continue;
			for (size_t k = 0; k < inv->nfiles && !seen; k++) {
				char name[64];

				snprintf(name, sizeof(name), "pipe-%llu.img",
					 (unsigned long long)f->pipe_id);
				seen = strcmp(inv->files[k], name) == 0;
			}
			if (ck_write_pipe(dirfd, procs[i].host_pid, f->fd, f->pipe_id,
					  &f->pipe_size, err) < 0)
				return -EIO;
			if (!seen)
				add_file(inv, "pipe-%llu.img", (long long)f->pipe_id);
		}
	return 0;
}

static uint64_t dir_bytes(int dirfd, const struct ck_inventory *inv)
{
	uint64_t sum = 0;

	for (size_t i = 0; i < inv->nfiles; i++) {
		struct stat sb;

		if (fstatat(dirfd, inv->files[i], &sb, 0) == 0)
			sum += (uint64_t)sb.st_size;
	}
	return sum;
}

/* The parent image's mm (with its page index) of each of its processes, for pre-copy. */
struct parent_img {
	struct ck_mm *mm;
	pid_t *pids;
	size_t n;
};

static void parent_free(struct parent_img *pi)
{
	for (size_t i = 0; i < pi->n; i++) {
		struct ck_proc p = {.mm = pi->mm[i]};

		ck_proc_free(&p);
	}
	free(pi->mm);
	free(pi->pids);
}

static int parent_load(const char *dir, struct parent_img *pi, struct werr **err)
{
	_cleanup_close_ int dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	_cleanup_free_ char *text = NULL;
	struct ck_inventory inv;
	int r;

	if (dirfd < 0)
		return werr_sys(err, errno, "parent image %s", dir);
	if (read_file_at(dirfd, "inventory.json", &text, NULL, err) < 0 ||
	    ck_inventory_parse(text, &inv, err) < 0)
		return werr_wrap(err, "parent image %s", dir);
	pi->mm = xcalloc(inv.npids, sizeof(*pi->mm));
	pi->pids = xcalloc(inv.npids, sizeof(pid_t));
	r = 0;
	for (size_t i = 0; i < inv.npids && r == 0; i++, pi->n++) {
		_cleanup_free_ char *mm = NULL, *pm = NULL;
		_cleanup_free_ char *n1 = xasprintf("mm-%d.json", inv.pids[i]);
		_cleanup_free_ char *n2 = xasprintf("pagemap-%d.json", inv.pids[i]);

		pi->pids[i] = inv.pids[i];
		if (read_file_at(dirfd, n1, &mm, NULL, err) < 0 ||
		    read_file_at(dirfd, n2, &pm, NULL, err) < 0 ||
		    ck_mm_from_json(mm, &pi->mm[i], err) < 0 ||
		    ck_pagemap_from_json(pm, &pi->mm[i], err) < 0)
			r = werr_wrap(err, "parent image %s", dir);
	}
	ck_inventory_free(&inv);
	return r;
}

static const struct ck_mm *parent_of(const struct parent_img *pi, pid_t host_pid)
{
	_cleanup_free_ char *text = NULL;
	char path[64];
	struct ck_status st;

	snprintf(path, sizeof(path), "/proc/%d/status", host_pid);
	if (!pi->n || read_file(path, &text, NULL, NULL) < 0 || ck_parse_status(text, &st) < 0)
		return NULL;
	free(st.groups);
	for (size_t i = 0; i < pi->n; i++)
		if (pi->pids[i] == st.ns_pid)
			return &pi->mm[i];
	return NULL;
}

/* Collect every process and write its files; fills inv with the files written. With *held
 * not NULL (a final round to a page server), the pages are copied into (*held)[i] instead of
 * sent, if they fit in CK_HOLD_MAX; *held is set to NULL otherwise. */
static int collect_and_write(struct dtree *d, const struct ck_dump_opts *o, int dirfd,
			     struct ck_inventory *inv, struct ck_stats *st, struct held **held,
			     struct werr **err)
{
	uint64_t total = 0;
	struct ck_proc *procs = xcalloc(d->n, sizeof(*procs));
	struct parent_img pi = {0};
	size_t n = 0;
	double t;
	int r = 0;

	if (o->parent)
		r = parent_load(o->parent, &pi, err);
	for (size_t i = 0; i < d->n && r == 0; i++) {
		struct ck_collect_opts co = {.parent = NULL};

		if (d->t[i].gone)
			continue;
		co = (struct ck_collect_opts){.parent = parent_of(&pi, d->t[i].pid),
					      .track = o->track,
					      .chain = o->parent != NULL,
					      .leave_running = o->leave_running || o->track,
					      .console_dev = o->console_dev,
					      .console_rdev = o->console_rdev,
					      .phase_ms = st->phase_ms};

		r = ck_collect_proc(d->t[i].pid, d->t[i].tids, d->t[i].ntids, &co, &procs[i], err);
		if (r == 0)
			procs[i].ppid = d->t[i].parent < 0 ? 0 : procs[d->t[i].parent].pid;
		st->nthreads += (int)d->t[i].ntids;
	}
	/* The processes gone meanwhile (childless, checked) leave no hole. */
	for (size_t i = 0; i < d->n; i++)
		if (!d->t[i].gone)
			procs[n++] = procs[i];
	t = ck_now_ms();
	if (r == 0)
		number_descriptions(procs, n);
	if (r == 0) /* needs the file_ids; before fds-<pid>.json is written */
		r = ck_locks_dump(procs, n, o->file_locks, inv, err);
	/* Pipe sizes go into fds-*.json: pipes first. */
	if (r == 0)
		r = write_pipes(dirfd, procs, n, inv, err);
	if (r == 0)
		r = ck_fdx_write(dirfd, procs, n, inv, err);
	ck_phase_add(st->phase_ms, CK_PH_FDX, &t);
	if (r == 0)
		r = ck_shmem_dump(dirfd, procs, n, inv, err);
	if (r == 0) /* sets the threads' seccomp_id: before core-<pid>.json is written */
		r = ck_seccomp_dump(dirfd, procs, n, inv, err);
	ck_phase_add(st->phase_ms, CK_PH_PAGES, &t);
	for (size_t i = 0; i < n; i++)
		total += ck_pages_size(&procs[i].mm);
	if (*held && (r < 0 || total > CK_HOLD_MAX)) {
		free(*held);
		*held = NULL;
	}
	if (r == 0) { /* before hold_proc moves the processes away */
		inv->root_pid = procs[0].pid;
		inv->npids = n;
		inv->pids = xcalloc(n, sizeof(pid_t));
		for (size_t i = 0; i < n; i++)
			inv->pids[i] = procs[i].pid;
	}
	for (size_t i = 0; i < n && r == 0; i++)
		r = *held ? hold_proc(&procs[i], &(*held)[i], st, err)
			  : write_proc(dirfd, o->page_server, &procs[i], inv, st, err);
	st->nprocs = (int)n;
	for (size_t i = 0; i < n; i++)
		ck_proc_free(&procs[i]);
	free(procs);
	parent_free(&pi);
	if (r == 0 && o->parent)
		inv->parent = o->page_server ? ck_ps_parent_name(o->parent) : realpath(o->parent, NULL);
	return r;
}

const char *ck_phase_name(enum ck_phase ph)
{
	static const char *const names[CK_NPHASES] = {
		[CK_PH_TMPFS] = "tmpfs",     [CK_PH_STOP] = "stop",   [CK_PH_PROC] = "proc",
		[CK_PH_INJECT] = "inject",   [CK_PH_MM] = "mm",	      [CK_PH_FDX] = "fdx",
		[CK_PH_META] = "meta",	     [CK_PH_PAGES] = "pages", [CK_PH_RELEASE] = "release",
		[CK_PH_SEND] = "| sent",     [CK_PH_REAP] = "reap",
	};

	return ph < CK_NPHASES ? names[ph] : "?";
}

void ck_phases_format(const double phase_ms[CK_NPHASES], char *buf, size_t size)
{
	size_t len = 0;

	buf[0] = '\0';
	for (int i = 0; i < CK_NPHASES && len < size; i++)
		if (phase_ms[i] >= 0.05)
			len += (size_t)snprintf(buf + len, size - len, "%s%s %.1f", len ? " " : "",
						ck_phase_name(i), phase_ms[i]);
}

/* The tree's own IPC namespace's objects (none when it shares ours), while it is stopped. */
static int dump_sysvipc(int dirfd, pid_t root, struct ck_inventory *inv, struct werr **err)
{
	bool saved;

	if (ck_ipc_dump(dirfd, root, inv, &saved, err) < 0)
		return -EIO;
	if (saved)
		ck_inventory_need(inv, CK_FORMAT_IPC);
	return 0;
}

int ck_dump(const struct ck_dump_opts *o, struct ck_stats *st, struct werr **err)
{
	struct ck_stats local = {0};
	struct ck_inventory inv = {0};
	struct dtree d = {0};
	struct held *held = NULL;
	_cleanup_close_ int dirfd = -1;
	double t0 = ck_now_ms(), t_stop, t;
	bool kill_it = !o->leave_running && !o->track;
	int r;

	if (!st)
		st = &local;
	memset(st, 0, sizeof(*st));
	if (mkdir_p(o->dir, 0700, err) < 0)
		return -EIO;
	dirfd = open(o->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0)
		return werr_sys(err, errno, "open image directory %s", o->dir);
	t_stop = ck_now_ms();
	r = stop_tree(&d, o, err);
	t = ck_now_ms();
	st->phase_ms[CK_PH_STOP] = t - t_stop;
	t_stop = t;
	/* A tree that is killed anyway is released as soon as its state is in memory. */
	if (r == 0 && kill_it && o->page_server)
		held = xcalloc(d.n, sizeof(*held));
	if (r == 0)
		r = collect_and_write(&d, o, dirfd, &inv, st, &held, err);
	if (r == 0)
		r = dump_sysvipc(dirfd, d.t[0].pid, &inv, err);
	for (size_t i = 0; r == 0 && o->extra_files && o->extra_files[i]; i++)
		ck_inventory_add(&inv, xstrdup(o->extra_files[i]), NULL);
	/* A failed dump never kills: the tree goes on as if nothing happened. */
	kill_it = kill_it && r == 0;
	t = ck_now_ms();
	if (kill_it)
		kill_tree(&d);
	else
		release_tree(&d, false);
	ck_phase_add(st->phase_ms, CK_PH_RELEASE, &t);
	st->frozen_ms = t - t_stop;
	/* The tree is gone by now: a page server failing from here loses it, as a failure to send
	 * the metadata always did. */
	r = write_held(dirfd, o->page_server, held, d.n, &inv, r, err);
	ck_phase_add(st->phase_ms, CK_PH_SEND, &t);
	/* The checksums need only the files: computed after the tree goes on (or is gone). */
	if (r == 0 && o->page_server)
		ck_ps_preset_sums(o->page_server, &inv);
	if (r == 0 && (r = ck_inventory_write(dirfd, &inv, err)) == 0)
		st->image_bytes = dir_bytes(dirfd, &inv) + 1024;
	if (r == 0 && o->page_server)
		r = ck_ps_send_image(o->page_server, dirfd, &inv, err);
	ck_inventory_free(&inv);
	/* Its memory freed by the kernel meanwhile; its deaths taken last. */
	t = ck_now_ms();
	if (kill_it)
		release_tree(&d, true);
	ck_phase_add(st->phase_ms, CK_PH_REAP, &t);
	st->total_ms = ck_now_ms() - t0;
	dtree_free(&d);
	if (r < 0)
		return werr_wrap(err, "checkpoint of %d", o->root);
	return 0;
}
