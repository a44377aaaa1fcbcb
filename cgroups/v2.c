/* cgroup v2 backend: the container's cgroup directory, controllers enabled down to its parent,
 * membership, freeze, kill and removal. Resources are in v2_apply.c, stats in v2_stats.c. */
#include "cgroups/v2_int.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lib/util.h"

#define FREEZE_TIMEOUT_MS 5000

static const char *mount_dir = CGROUP_MOUNT;

void cgv2_set_mount(const char *mount)
{
	mount_dir = mount ? mount : CGROUP_MOUNT;
}

const char *cgv2_mount(void)
{
	return mount_dir;
}

/* Controllers a container may need, in the order they are enabled. */
const char *const cgv2_controller_names[] = {"cpu",	"cpuset", "io",	  "memory", "pids",
					     "hugetlb", "rdma",	  "misc", NULL};

static unsigned ctl_bit(const char *name, size_t len)
{
	for (unsigned i = 0; cgv2_controller_names[i]; i++)
		if (strlen(cgv2_controller_names[i]) == len &&
		    strncmp(cgv2_controller_names[i], name, len) == 0)
			return 1u << i;
	return 0;
}

unsigned cgv2_needed_controllers(const struct cgroup_resources *res)
{
	unsigned m = 0;

	if (!res)
		return 0;
	if (res->cpu.shares.set || res->cpu.quota.set || res->cpu.period.set ||
	    res->cpu.burst.set || res->cpu.idle.set)
		m |= ctl_bit("cpu", 3);
	if ((res->cpu.cpus && *res->cpu.cpus) || (res->cpu.mems && *res->cpu.mems))
		m |= ctl_bit("cpuset", 6);
	if (res->memory.limit.set || res->memory.reservation.set || res->memory.swap.set)
		m |= ctl_bit("memory", 6);
	if (res->pids.limit.set)
		m |= ctl_bit("pids", 4);
	if (res->block_io.weight.set || res->block_io.n_weight_device ||
	    res->block_io.n_throttle_read_bps || res->block_io.n_throttle_write_bps ||
	    res->block_io.n_throttle_read_iops || res->block_io.n_throttle_write_iops)
		m |= ctl_bit("io", 2);
	if (res->n_hugepage_limits)
		m |= ctl_bit("hugetlb", 7);
	if (res->n_rdma)
		m |= ctl_bit("rdma", 4);
	for (size_t i = 0; i < res->n_unified; i++) {
		const char *dot = strchr(res->unified[i].key, '.');

		if (dot)
			m |= ctl_bit(res->unified[i].key, (size_t)(dot - res->unified[i].key));
	}
	return m;
}

static bool word_in(const char *list, const char *word)
{
	size_t wl = strlen(word);

	for (const char *p = list; p && *p;) {
		size_t l;

		p += strspn(p, " \n");
		l = strcspn(p, " \n");
		if (l == wl && strncmp(p, word, l) == 0)
			return true;
		p += l;
	}
	return false;
}

/* Enable the controllers available in dir in its cgroup.subtree_control, one at a time (one
 * the kernel refuses does not keep the others off). A refusal is an error only for a
 * controller the resources need. */
static int enable_controllers(const char *dir, unsigned needed, struct werr **err)
{
	_cleanup_free_ char *avail = NULL, *on = NULL;
	_cleanup_close_ int fd = open(dir, O_DIRECTORY | O_RDONLY | O_CLOEXEC);
	int r;

	if (fd < 0)
		return werr_sys(err, errno, "open %s", dir);
	r = cg_read(fd, dir, "cgroup.controllers", &avail, err);
	if (r < 0)
		return r;
	r = cg_read(fd, dir, "cgroup.subtree_control", &on, err);
	if (r < 0)
		return r;
	for (unsigned i = 0; cgv2_controller_names[i]; i++) {
		const char *c = cgv2_controller_names[i];
		_cleanup_free_ char *plus = NULL;
		_cleanup_werr_ struct werr *e = NULL;

		if (!word_in(avail, c) || word_in(on, c))
			continue;
		plus = xasprintf("+%s", c);
		r = cg_write(fd, dir, "cgroup.subtree_control", plus, &e);
		if (r < 0 && (needed & (1u << i)))
			return werr_set(err, -r, "enable the %s controller: %s%s", c, e->msg,
					r == -EBUSY ? " (the cgroup has processes of its own)"
						    : "");
	}
	return 0;
}

/* On failure, the directories this call made are removed again (deepest first). */
static int make_dirs(const char *path, unsigned needed, char **full, struct werr **err)
{
	_cleanup_free_ char *cur = xstrdup(mount_dir);
	_cleanup_free_ char *rel = xstrdup(path);
	_cleanup_free_ char *first_made = NULL;
	char *save = NULL, *next;
	int r = 0;

	next = strtok_r(rel, "/", &save);
	while (next) {
		char *comp = next;
		char *tmp;

		/* cur is an ancestor of the container cgroup: its children get the controllers */
		r = enable_controllers(cur, needed, err);
		if (r < 0)
			break;
		tmp = xasprintf("%s/%s", cur, comp);
		free(cur);
		cur = tmp;
		next = strtok_r(NULL, "/", &save);
		if (mkdir(cur, 0755) == 0) {
			if (!first_made)
				first_made = xstrdup(cur);
		} else if (errno != EEXIST) {
			r = werr_sys(err, errno, "mkdir %s", cur);
			break;
		}
	}
	if (r < 0) {
		/* cur's parent chain down from first_made was made here */
		while (first_made && strlen(cur) >= strlen(first_made)) {
			char *slash;

			rmdir(cur);
			slash = strrchr(cur, '/');
			if (!slash || strcmp(cur, first_made) == 0)
				break;
			*slash = 0;
		}
		return r;
	}
	*full = steal_ptr(cur);
	return 0;
}

static int open_dir(struct cgroup *cg, char *full, struct werr **err)
{
	struct v2_priv *p;
	int fd = open(full, O_DIRECTORY | O_RDONLY | O_CLOEXEC);

	if (fd < 0) {
		int e = errno;

		if (e == ENOENT)
			werr_set(err, ENOENT, "cgroup %s does not exist (%s)", cg->path, full);
		else
			werr_sys(err, e, "open %s", full);
		free(full);
		return -e;
	}
	p = xcalloc(1, sizeof(*p));
	p->dirfd = fd;
	p->dir = full;
	cg->priv = p;
	return 0;
}

static bool has_procs(int dirfd)
{
	_cleanup_free_ char *procs = NULL;
	size_t len;

	if (read_file_at(dirfd, "cgroup.procs", &procs, &len, NULL) < 0)
		return false;
	return procs[strspn(procs, " \n")] != 0;
}

static int create_(struct cgroup *cg, const struct cgroup_resources *res, struct werr **err)
{
	char *full = NULL;
	int r = make_dirs(cg->path, cgv2_needed_controllers(res), &full, err);

	if (r < 0)
		return werr_wrap(err, "create cgroup %s", cg->path);
	r = open_dir(cg, full, err);
	if (r < 0)
		return r;
	if (has_procs(v2_priv(cg)->dirfd))
		return werr_set(err, EBUSY, "cgroup %s is in use", cg->path);
	return 0;
}

static int open_(struct cgroup *cg, struct werr **err)
{
	return open_dir(cg, xasprintf("%s%s", mount_dir, cg->path), err);
}

static void free_priv(struct cgroup *cg)
{
	struct v2_priv *p = v2_priv(cg);

	if (p->dirfd >= 0)
		close(p->dirfd);
	free(p->dir);
	free(p);
	cg->priv = NULL;
}

static int clone_fd(const struct cgroup *cg)
{
	return cg->priv ? v2_priv(cg)->dirfd : -1;
}

static int add_pid(struct cgroup *cg, pid_t pid, struct werr **err)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%d", (int)pid);
	return cg_write(v2_priv(cg)->dirfd, v2_priv(cg)->dir, "cgroup.procs", buf, err);
}

static long ms_since(const struct timespec *t0)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (now.tv_sec - t0->tv_sec) * 1000 + (now.tv_nsec - t0->tv_nsec) / 1000000;
}

/* Wait until cgroup.events says "frozen <want>". The kernel signals changes of the file as
 * POLLPRI; the poll timeout is short anyway so a missed notification costs little. */
static int wait_frozen(struct cgroup *cg, bool want, struct werr **err)
{
	struct v2_priv *p = v2_priv(cg);
	_cleanup_close_ int fd = openat(p->dirfd, "cgroup.events", O_RDONLY | O_CLOEXEC);
	struct timespec t0;
	char buf[512];

	if (fd < 0)
		return werr_sys(err, errno, "open %s/cgroup.events", p->dir);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		struct pollfd pfd = {.fd = fd, .events = POLLPRI};
		ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
		uint64_t v;
		long left;

		if (n < 0)
			return werr_sys(err, errno, "read %s/cgroup.events", p->dir);
		buf[n] = 0;
		if (cg_keyed_u64(buf, "frozen", &v) && (v != 0) == want)
			return 0;
		left = FREEZE_TIMEOUT_MS - ms_since(&t0);
		if (left <= 0)
			return werr_set(err, ETIMEDOUT, "cgroup %s did not %s within %d s",
					cg->path, want ? "freeze" : "thaw",
					FREEZE_TIMEOUT_MS / 1000);
		if (poll(&pfd, 1, left < 100 ? (int)left : 100) < 0 && errno != EINTR)
			return werr_sys(err, errno, "poll %s/cgroup.events", p->dir);
	}
}

static int freeze(struct cgroup *cg, bool frozen, struct werr **err)
{
	struct v2_priv *p = v2_priv(cg);
	int r = cg_write(p->dirfd, p->dir, "cgroup.freeze", frozen ? "1" : "0", err);

	if (r < 0)
		return r;
	r = wait_frozen(cg, frozen, err);
	if (r < 0 && frozen) /* do not leave it half frozen */
		cg_write(p->dirfd, p->dir, "cgroup.freeze", "0", NULL);
	return r;
}

static int is_frozen(struct cgroup *cg, bool *frozen, struct werr **err)
{
	struct v2_priv *p = v2_priv(cg);
	uint64_t v = 0;
	int r;

	*frozen = false;
	if (faccessat(p->dirfd, "cgroup.freeze", F_OK, 0) < 0)
		return 0; /* no freezer (kernel < 5.2): never frozen */
	r = cg_read_u64(p->dirfd, p->dir, "cgroup.freeze", &v, err);
	if (r < 0)
		return r;
	*frozen = v != 0;
	return 0;
}

static int pids(struct cgroup *cg, pid_t **p, size_t *n, struct werr **err)
{
	return cg_read_procs_tree(v2_priv(cg)->dir, p, n, err);
}

static int kill_all(struct cgroup *cg, struct werr **err)
{
	struct v2_priv *p = v2_priv(cg);

	if (faccessat(p->dirfd, "cgroup.kill", F_OK, 0) < 0)
		return -EOPNOTSUPP;
	return cg_write(p->dirfd, p->dir, "cgroup.kill", "1", err);
}

static int remove_(struct cgroup *cg, struct werr **err)
{
	return cg_rmdir_tree(v2_priv(cg)->dir, err);
}

const struct cgroup_backend cgroup_v2_backend = {
	.name = "v2",
	.create = create_,
	.open = open_,
	.free_priv = free_priv,
	.clone_fd = clone_fd,
	.add_pid = add_pid,
	.apply = cgv2_apply,
	.freeze = freeze,
	.is_frozen = is_frozen,
	.pids = pids,
	.kill_all = kill_all,
	.stats = cgv2_stats,
	.remove = remove_,
};
