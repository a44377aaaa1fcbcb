/* cgroup v1 backend (hybrid and legacy hosts): one directory per mounted hierarchy, plus on
 * hybrid hosts the same path in the controller-less cgroup2 at CGROUP_UNIFIED_MOUNT, which
 * gives cgroup.kill, cgroup.procs of the whole tree and the PSI files. */
#include "cgroups/v1_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lib/util.h"

static const char *const ctrl_names[V1_NCTRL] = {
	[V1_CPU] = "cpu",	  [V1_CPUACCT] = "cpuacct",   [V1_CPUSET] = "cpuset",
	[V1_MEMORY] = "memory",	  [V1_PIDS] = "pids",	      [V1_BLKIO] = "blkio",
	[V1_DEVICES] = "devices", [V1_FREEZER] = "freezer",   [V1_HUGETLB] = "hugetlb",
	[V1_NET_CLS] = "net_cls", [V1_NET_PRIO] = "net_prio", [V1_RDMA] = "rdma",
};

const char *cgv1_ctrl_name(enum v1_ctrl c)
{
	return c < V1_NCTRL ? ctrl_names[c] : "?";
}

/* ---- discovery -------------------------------------------------------------------------- */

/* mountinfo escapes space, tab, newline and backslash as \ooo. */
static char *unescape_mnt(const char *s, size_t len)
{
	char *out = xmalloc(len + 1), *o = out;

	for (size_t i = 0; i < len; i++) {
		if (s[i] == '\\' && i + 3 < len && s[i + 1] >= '0' && s[i + 1] <= '3' &&
		    s[i + 2] >= '0' && s[i + 2] <= '7' && s[i + 3] >= '0' && s[i + 3] <= '7') {
			*o++ = (char)((s[i + 1] - '0') * 64 + (s[i + 2] - '0') * 8 +
				      (s[i + 3] - '0'));
			i += 3;
		} else {
			*o++ = s[i];
		}
	}
	*o = 0;
	return out;
}

static unsigned ctrls_of_superopts(const char *opts, size_t len)
{
	unsigned mask = 0;
	const char *p = opts, *end = opts + len;

	while (p < end) {
		const char *c = memchr(p, ',', (size_t)(end - p));
		size_t l = c ? (size_t)(c - p) : (size_t)(end - p);

		for (int i = 0; i < V1_NCTRL; i++)
			if (strlen(ctrl_names[i]) == l && strncmp(p, ctrl_names[i], l) == 0)
				mask |= 1u << i;
		p += l + 1;
	}
	return mask;
}

/* One mountinfo line: "ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTS [OPTIONAL...] - TYPE SRC SUPER" */
static void parse_line(const char *line, size_t len, struct v1_mounts *m)
{
	const char *f[6], *p = line, *end = line + len, *dash, *type, *src, *super;
	size_t fl[6];
	unsigned mask;
	int nf = 0;

	while (nf < 6 && p < end) {
		const char *sp = memchr(p, ' ', (size_t)(end - p));

		f[nf] = p;
		fl[nf] = sp ? (size_t)(sp - p) : (size_t)(end - p);
		nf++;
		p += fl[nf - 1] + 1;
	}
	if (nf < 6 || p >= end)
		return;
	/* skip optional fields up to the lone "-" */
	for (dash = p; dash < end; dash++)
		if (dash[0] == '-' && dash[-1] == ' ' && (dash + 1 == end || dash[1] == ' '))
			break;
	if (dash + 2 >= end)
		return;
	type = dash + 2;
	src = memchr(type, ' ', (size_t)(end - type));
	if (!src || (size_t)(src - type) != 6 || strncmp(type, "cgroup", 6) != 0)
		return;
	super = memchr(src + 1, ' ', (size_t)(end - src - 1));
	if (!super)
		return;
	super++;
	mask = ctrls_of_superopts(super, (size_t)(end - super));
	for (int i = 0; i < V1_NCTRL; i++)
		if (m->of[i] >= 0)
			mask &= ~(1u << i); /* a bind mount of a hierarchy already seen */
	if (!mask)
		return;
	m->h[m->n].mnt = unescape_mnt(f[4], fl[4]);
	m->h[m->n].ctrls = mask;
	for (int i = 0; i < V1_NCTRL; i++)
		if (mask & (1u << i))
			m->of[i] = (int)m->n;
	m->n++;
}

void cgv1_parse_mountinfo(const char *text, struct v1_mounts *m)
{
	memset(m, 0, sizeof(*m));
	for (int i = 0; i < V1_NCTRL; i++)
		m->of[i] = -1;
	for (const char *p = text; p && *p;) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);

		if (m->n < V1_NCTRL)
			parse_line(p, len, m);
		p = nl ? nl + 1 : NULL;
	}
}

void cgv1_mounts_free(struct v1_mounts *m)
{
	for (size_t i = 0; i < m->n; i++)
		free(m->h[i].mnt);
	m->n = 0;
}

static int discover(struct v1_mounts *m, struct werr **err)
{
	_cleanup_free_ char *text = NULL;
	size_t len;
	int r = read_file("/proc/self/mountinfo", &text, &len, NULL);

	if (r < 0)
		return werr_sys(err, -r, "read /proc/self/mountinfo");
	cgv1_parse_mountinfo(text, m);
	if (m->n == 0)
		return werr_set(err, ENOENT,
				"no cgroup v1 hierarchy is mounted (/proc/self/mountinfo)");
	return 0;
}

/* ---- the container's directories ---------------------------------------------------------- */

static struct v1_priv *priv_new(struct cgroup *cg, struct werr **err)
{
	struct v1_priv *p = xcalloc(1, sizeof(*p));
	int r = discover(&p->m, err);

	p->ufd = -1;
	for (int i = 0; i < V1_NCTRL; i++)
		p->fd[i] = -1;
	if (r < 0) {
		free(p);
		return NULL;
	}
	for (size_t i = 0; i < p->m.n; i++)
		p->dir[i] = xasprintf("%s%s", p->m.h[i].mnt, cg->path);
	if (cg->mode == CGROUP_HYBRID)
		p->udir = xasprintf("%s%s", CGROUP_UNIFIED_MOUNT, cg->path);
	cg->priv = p;
	return p;
}

static void free_priv(struct cgroup *cg)
{
	struct v1_priv *p = cg->priv;

	if (!p)
		return;
	for (size_t i = 0; i < p->m.n; i++) {
		free(p->dir[i]);
		if (p->fd[i] >= 0)
			close(p->fd[i]);
	}
	free(p->udir);
	if (p->ufd >= 0)
		close(p->ufd);
	cgv1_mounts_free(&p->m);
	free(p);
	cg->priv = NULL;
}

static int open_dir(const char *dir)
{
	return open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
}

/* Open every directory that exists; returns how many did. */
static size_t open_dirs(struct v1_priv *p)
{
	size_t n = 0;

	for (size_t i = 0; i < p->m.n; i++) {
		if (p->fd[i] < 0)
			p->fd[i] = open_dir(p->dir[i]);
		n += p->fd[i] >= 0;
	}
	if (p->udir && p->ufd < 0)
		p->ufd = open_dir(p->udir);
	return n + (p->ufd >= 0);
}

struct created {
	char **v;
	size_t n;
};

static void created_push(struct created *c, const char *dir)
{
	c->v = xrealloc(c->v, (c->n + 1) * sizeof(*c->v));
	c->v[c->n++] = xstrdup(dir);
}

static void created_undo(struct created *c)
{
	for (size_t i = c->n; i-- > 0;) {
		rmdir(c->v[i]);
		free(c->v[i]);
	}
	free(c->v);
	c->v = NULL;
	c->n = 0;
}

static void created_forget(struct created *c)
{
	for (size_t i = 0; i < c->n; i++)
		free(c->v[i]);
	free(c->v);
}

/* A new cpuset cgroup starts with empty cpus/mems and refuses tasks: copy the parent's. */
static int cpuset_inherit(const char *dir, struct werr **err)
{
	static const char *const files[] = {"cpuset.cpus", "cpuset.mems"};
	_cleanup_free_ char *parent = xstrdup(dir);
	_cleanup_close_ int pfd = -1, fd = -1;

	*strrchr(parent, '/') = 0;
	pfd = open_dir(parent);
	fd = open_dir(dir);
	if (pfd < 0 || fd < 0)
		return werr_sys(err, errno, "open %s", pfd < 0 ? parent : dir);
	for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
		_cleanup_free_ char *val = NULL;
		int r = cg_read(pfd, parent, files[i], &val, err);

		if (r < 0)
			return r;
		val[strcspn(val, "\n")] = 0;
		if (!*val)
			continue; /* nothing to copy; the kernel will refuse tasks and say so */
		r = cg_write(fd, dir, files[i], val, err);
		if (r < 0)
			return r;
	}
	return 0;
}

/* mkdir -p mnt+path, recording each level made; *existed = the leaf was already there. */
static int mkdir_levels(const char *mnt, const char *path, bool cpuset, struct created *c,
			bool *existed, struct werr **err)
{
	_cleanup_free_ char *full = xasprintf("%s%s", mnt, path);
	size_t base = strlen(mnt);

	*existed = false;
	for (char *s = full + base + 1;; s++) {
		bool last = *s == 0;

		if (*s != '/' && !last)
			continue;
		*s = 0;
		if (mkdir(full, 0755) == 0) {
			created_push(c, full);
			if (cpuset) {
				int r = cpuset_inherit(full, err);

				if (r < 0)
					return r;
			}
		} else if (errno != EEXIST) {
			return werr_sys(err, errno, "mkdir %s", full);
		} else if (last) {
			*existed = true;
		}
		if (last)
			break;
		*s = '/';
	}
	return 0;
}

static int refuse_in_use(const char *cgpath, const char *dir, struct werr **err)
{
	_cleanup_free_ char *procs = NULL;

	int r = cg_read(AT_FDCWD, dir, "cgroup.procs", &procs, err);

	if (r < 0)
		return r;
	if (procs[strspn(procs, " \n")])
		return werr_set(err, EBUSY, "cgroup %s is in use (processes in %s)", cgpath, dir);
	return 0;
}

static int create_(struct cgroup *cg, const struct cgroup_resources *res, struct werr **err)
{
	struct v1_priv *p = priv_new(cg, err);
	struct created made = {0};
	bool existed;
	int r = 0;

	if (!p)
		return -ENOENT;
	for (size_t i = 0; i < p->m.n && r == 0; i++) {
		r = mkdir_levels(p->m.h[i].mnt, cg->path, p->m.h[i].ctrls & (1u << V1_CPUSET),
				 &made, &existed, err);
		if (r == 0 && existed)
			r = refuse_in_use(cg->path, p->dir[i], err);
	}
	if (r == 0 && p->udir) {
		r = mkdir_levels(CGROUP_UNIFIED_MOUNT, cg->path, false, &made, &existed, err);
		if (r == 0 && existed)
			r = refuse_in_use(cg->path, p->udir, err);
	}
	if (r == 0) {
		for (size_t i = 0; i < p->m.n && r == 0; i++) {
			p->fd[i] = open_dir(p->dir[i]);
			if (p->fd[i] < 0)
				r = werr_sys(err, errno, "open %s", p->dir[i]);
		}
		if (r == 0 && p->udir && (p->ufd = open_dir(p->udir)) < 0)
			r = werr_sys(err, errno, "open %s", p->udir);
	}
	if (r < 0) {
		created_undo(&made);
		return r;
	}
	created_forget(&made);
	return 0;
}

static int open_(struct cgroup *cg, struct werr **err)
{
	struct v1_priv *p = priv_new(cg, err);

	if (!p)
		return -ENOENT;
	if (open_dirs(p) == 0)
		return werr_set(err, ENOENT, "cgroup %s does not exist in any hierarchy", cg->path);
	return 0;
}

static int clone_fd(const struct cgroup *cg)
{
	const struct v1_priv *p = cg->priv;

	return p ? p->ufd : -1;
}

static int add_pid(struct cgroup *cg, pid_t pid, struct werr **err)
{
	struct v1_priv *p = cg->priv;
	char buf[32];
	int r;

	snprintf(buf, sizeof(buf), "%d", (int)pid);
	for (size_t i = 0; i < p->m.n; i++) {
		if (p->fd[i] < 0)
			return werr_set(err, ENOENT, "cgroup %s is missing", p->dir[i]);
		r = cg_write(p->fd[i], p->dir[i], "cgroup.procs", buf, err);
		if (r < 0)
			return r;
	}
	if (p->ufd >= 0)
		return cg_write(p->ufd, p->udir, "cgroup.procs", buf, err);
	return 0;
}

static int apply(struct cgroup *cg, const struct cgroup_resources *res, bool update,
		 struct werr **err)
{
	return cgv1_apply(cg, res, update, err);
}

/* ---- freezer ---------------------------------------------------------------------------- */

static int freezer_state(struct v1_priv *p, char *buf, size_t n, struct werr **err)
{
	_cleanup_free_ char *s = NULL;
	int fd = v1_fd(p, V1_FREEZER);
	int r;

	if (fd < 0)
		return werr_set(err, ENOTSUP, "the freezer cgroup controller is not %s",
				p->m.of[V1_FREEZER] < 0 ? "mounted" : "set up for this container");
	r = cg_read(fd, v1_dir(p, V1_FREEZER), "freezer.state", &s, err);
	if (r < 0)
		return r;
	s[strcspn(s, "\n")] = 0;
	snprintf(buf, n, "%s", s);
	return 0;
}

static int is_frozen(struct cgroup *cg, bool *frozen, struct werr **err)
{
	char st[32];
	int r = freezer_state(cg->priv, st, sizeof(st), err);

	if (r < 0)
		return r;
	*frozen = strcmp(st, "FROZEN") == 0;
	return 0;
}

/* Write the state, then poll until the kernel reports it. A task that cannot be frozen yet
 * (in a syscall that ignores the freezer) keeps the cgroup FREEZING: writing FROZEN again
 * retries it. After ~5 s give up, thaw, and say so. */
static int64_t mono_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static int freeze(struct cgroup *cg, bool frozen, struct werr **err)
{
	struct v1_priv *p = cg->priv;
	const char *want = frozen ? "FROZEN" : "THAWED";
	struct timespec ts = {0, 1000 * 1000};
	int64_t deadline = mono_ms() + 5000;
	char st[32];
	int r;

	for (int i = 0;; i++) {
		if (i % 10 == 0) {
			r = cg_write(v1_fd(p, V1_FREEZER), v1_dir(p, V1_FREEZER), "freezer.state",
				     want, err);
			if (r < 0)
				return r;
		}
		r = freezer_state(p, st, sizeof(st), err);
		if (r < 0)
			return r;
		if (strcmp(st, want) == 0)
			return 0;
		if (mono_ms() > deadline)
			break;
		nanosleep(&ts, NULL);
		if (ts.tv_nsec < 8 * 1000 * 1000)
			ts.tv_nsec *= 2;
	}
	if (frozen)
		cg_write(v1_fd(p, V1_FREEZER), v1_dir(p, V1_FREEZER), "freezer.state", "THAWED",
			 NULL);
	return werr_set(err, EBUSY, "%s/freezer.state: still %s after 5 s (wanted %s)",
			v1_dir(p, V1_FREEZER), st, want);
}

/* ---- processes ----------------------------------------------------------------------------- */

static const char *procs_dir(const struct v1_priv *p)
{
	static const enum v1_ctrl pref[] = {V1_PIDS, V1_FREEZER, V1_MEMORY, V1_CPU};

	if (p->ufd >= 0)
		return p->udir;
	for (size_t i = 0; i < ARRAY_SIZE(pref); i++)
		if (v1_fd(p, pref[i]) >= 0)
			return v1_dir(p, pref[i]);
	for (size_t i = 0; i < p->m.n; i++)
		if (p->fd[i] >= 0)
			return p->dir[i];
	return NULL;
}

static int pids(struct cgroup *cg, pid_t **out, size_t *n, struct werr **err)
{
	const char *dir = procs_dir(cg->priv);

	if (!dir)
		return werr_set(err, ENOENT, "cgroup %s does not exist", cg->path);
	return cg_read_procs_tree(dir, out, n, err);
}

static int kill_all(struct cgroup *cg, struct werr **err)
{
	struct v1_priv *p = cg->priv;

	if (p->ufd < 0 || faccessat(p->ufd, "cgroup.kill", W_OK, 0) < 0)
		return -EOPNOTSUPP;
	return cg_write(p->ufd, p->udir, "cgroup.kill", "1", err);
}

static int stats(struct cgroup *cg, struct cgroup_stats *st, struct werr **err)
{
	return cgv1_stats(cg, st, err);
}

/* ---- removal ----------------------------------------------------------------------------- */

static int remove_(struct cgroup *cg, struct werr **err)
{
	struct v1_priv *p = cg->priv;
	int first = 0;

	for (size_t i = 0; i <= p->m.n; i++) {
		const char *dir = i < p->m.n ? p->dir[i] : p->udir;
		int r;

		if (!dir)
			continue;
		r = cg_rmdir_tree(dir, first ? NULL : err);
		if (r < 0 && !first)
			first = r;
	}
	return first;
}

const struct cgroup_backend cgroup_v1_backend = {
	.name = "v1",
	.create = create_,
	.open = open_,
	.free_priv = free_priv,
	.clone_fd = clone_fd,
	.add_pid = add_pid,
	.apply = apply,
	.freeze = freeze,
	.is_frozen = is_frozen,
	.pids = pids,
	.kill_all = kill_all,
	.stats = stats,
	.remove = remove_,
};
