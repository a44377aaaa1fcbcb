/* rootfs_prepare: the container's mounts, done from inside its mount namespace while the host's
 * paths are still visible. Every destination is resolved inside the root and reached through
 * its O_PATH fd, never by joining strings. */
#include "rootfs/rootfs.h"
#include "rootfs/rootfs_int.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <linux/magic.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "lib/util.h"

/* One mount being done: what every step needs, and the name used in messages. */
struct mnt_ctx {
	const struct rootfs_config *c;
	const struct mount_spec *m;
	struct mount_opts o;
	int rootfd;
	const char *dest;
	int premade; /* host-made idmapped tree, or -1 */
};

static bool is_type(const struct mount_spec *m, const char *type)
{
	return m->type && strcmp(m->type, type) == 0;
}

/* "mount proc on /proc (in /bundle/rootfs)" */
static int fail(struct mnt_ctx *x, struct werr **err, int code, const char *what)
{
	return werr_sys(err, code, "%s on %s (in %s)", what, x->dest, x->c->root_path);
}

/* The destination after mounting: resolving again reaches the root of the new mount. */
static int reopen_dest(struct mnt_ctx *x, struct werr **err)
{
	int fd = rootfs_open_in_root(x->rootfd, x->dest, 0, err);

	if (fd < 0)
		werr_wrap(err, "mount on %s (in %s)", x->dest, x->c->root_path);
	return fd;
}

/* Flags, propagation and recursive attributes, once the mount is in place. */
static int finish_mount(struct mnt_ctx *x, bool remount, struct werr **err)
{
	_cleanup_close_ int fd = reopen_dest(x, err);
	_cleanup_free_ char *what = NULL;
	struct fd_path p;
	int r;

	if (fd < 0)
		return fd;
	p = rootfs_fd_path(fd);
	what = xasprintf("%s (in %s)", x->dest, x->c->root_path);
	if (remount) {
		r = rootfs_remount_bind(p.s, x->o.flags, x->o.clear, what, err);
		if (r < 0)
			return r;
	}
	r = rootfs_set_propagation(p.s, x->o.propagation, what, err);
	if (r == 0 && x->o.recursive_attr)
		r = rootfs_setattr_recursive(fd, x->o.attr_set, x->o.attr_clr, what, err);
	return r;
}

/* Mounting over files of the container's procfs could hide what masks it or forge what the
 * kernel reports; like runc, only the files that lxcfs-style tools replace may be covered. */
static int check_proc_dest(struct mnt_ctx *x, int destfd, struct werr **err)
{
	static const char *const allowed[] = {
		"cpuinfo", "diskstats", "meminfo",  "stat",    "swaps",
		"uptime",  "loadavg",	"slabinfo", "net/dev", "sys/kernel/ns_last_pid",
	};
	struct fd_path p = rootfs_fd_path(destfd);
	char real_root[PATH_MAX], where[PATH_MAX];
	struct statfs s;
	ssize_t n;

	if (fstatfs(destfd, &s) < 0)
		return fail(x, err, errno, "statfs destination");
	if (s.f_type != PROC_SUPER_MAGIC)
		return 0;
	n = readlink(p.s, where, sizeof(where) - 1);
	if (n > 0 && realpath(x->c->root_path, real_root)) {
		where[n] = '\0';
		for (size_t i = 0; i < ARRAY_SIZE(allowed); i++) {
			_cleanup_free_ char *want = xasprintf("%s/proc/%s", real_root, allowed[i]);

			if (strcmp(where, want) == 0)
				return 0;
		}
	}
	return werr_set(err, EPERM, "mount on %s (in %s): destination is inside /proc, not allowed",
			x->dest, x->c->root_path);
}

/* A bind mount needs a remount for any flag besides bind/rec, or any flag to clear. */
static bool bind_needs_remount(const struct mount_opts *o)
{
	return (o->flags & ~(MS_BIND | MS_REC | MS_REMOUNT)) || o->clear;
}

static int do_bind(struct mnt_ctx *x, const char *source, bool recursive, struct werr **err)
{
	_cleanup_close_ int dest = -1;
	struct stat st;
	int r;

	if (!source)
		return werr_set(err, EINVAL, "bind mount on %s has no source", x->dest);
	if (stat(source, &st) < 0)
		return werr_sys(err, errno, "bind mount source %s for %s", source, x->dest);
	dest = rootfs_mkdir_in_root(x->rootfd, x->dest, !S_ISDIR(st.st_mode), err);
	if (dest < 0)
		return werr_wrap(err, "bind mount %s", source);
	r = check_proc_dest(x, dest, err);
	if (r < 0)
		return r;
	if (x->premade >= 0) {
		r = move_mount(x->premade, "", dest, "",
			       MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH);
		close(x->premade);
		if (r < 0)
			return werr_sys(err, errno, "attach idmapped %s on %s", source, x->dest);
	} else if (rootfs_mount_wants_idmap(x->m)) {
		_cleanup_close_ int userns = rootfs_userns_fd(x->m, err);
		_cleanup_free_ char *what = xasprintf("%s (in %s)", x->dest, x->c->root_path);

		if (userns < 0)
			return userns;
		r = rootfs_idmapped_bind(source, dest, recursive || x->o.ridmap, userns, what, err);
	} else {
		struct fd_path p = rootfs_fd_path(dest);

		r = mount(source, p.s, NULL, MS_BIND | (recursive ? MS_REC : 0), NULL);
		if (r < 0) {
			_cleanup_free_ char *what = xasprintf("bind mount %s", source);

			return fail(x, err, errno, what);
		}
	}
	if (r < 0)
		return r;
	return finish_mount(x, bind_needs_remount(&x->o), err);
}

/* A new filesystem instance; flags go straight to mount(2). */
static int do_fs(struct mnt_ctx *x, const char *type, struct werr **err)
{
	_cleanup_close_ int dest = rootfs_mkdir_in_root(x->rootfd, x->dest, false, err);
	_cleanup_close_ int old = -1;
	_cleanup_free_ char *data = NULL;
	struct fd_path p;

	if (dest < 0)
		return werr_wrap(err, "mount %s", type);
	if (check_proc_dest(x, dest, err) < 0)
		return -EPERM;
	data = xstrdup(x->o.data);
	if (x->c->mount_label && *x->c->mount_label &&
	    (!strcmp(type, "tmpfs") || !strcmp(type, "devpts") || !strcmp(type, "mqueue"))) {
		char *t = xasprintf("%s%scontext=\"%s\"", data ? data : "", data ? "," : "",
				    x->c->mount_label);

		free(data);
		data = t;
	}
	if (x->o.tmpcopyup && !strcmp(type, "tmpfs")) {
		old = rootfs_openat2_in_root(x->rootfd, x->dest, O_RDONLY | O_DIRECTORY);
		if (old < 0)
			return fail(x, err, -old, "open for tmpcopyup");
	}
	p = rootfs_fd_path(dest);
	if (mount(x->m->source ? x->m->source : type, p.s, type, x->o.flags & ~(MS_BIND | MS_REC),
		  data) < 0) {
		_cleanup_free_ char *what = xasprintf("mount %s", type);

		return fail(x, err, errno, what);
	}
	if (old >= 0) {
		_cleanup_close_ int new =
			rootfs_openat2_in_root(x->rootfd, x->dest, O_RDONLY | O_DIRECTORY);
		_cleanup_free_ char *what = xasprintf("%s (in %s)", x->dest, x->c->root_path);
		int r;

		if (new < 0)
			return fail(x, err, -new, "open for tmpcopyup");
		r = rootfs_copy_tree(old, new, what, err);
		if (r < 0)
			return r;
	}
	return finish_mount(x, false, err);
}

/* sysfs cannot be mounted from a new user namespace without a new network namespace: bind the
 * host's /sys instead, as runc does. */
static int do_sysfs(struct mnt_ctx *x, struct werr **err)
{
	struct werr *first = NULL;
	int r = do_fs(x, "sysfs", &first);

	if (r == -EPERM && x->c->new_user_ns) {
		werr_free(&first);
		return do_bind(x, "/sys", true, err);
	}
	if (r < 0 && err && !*err)
		*err = first;
	else
		werr_free(&first);
	return r;
}

/* mqueue likewise needs an IPC namespace owned by our user namespace; else bind the host's. */
static int do_mqueue(struct mnt_ctx *x, struct werr **err)
{
	struct werr *first = NULL;
	int r = do_fs(x, "mqueue", &first);

	if (r == -EPERM && x->c->new_user_ns && access("/dev/mqueue", F_OK) == 0) {
		werr_free(&first);
		return do_bind(x, "/dev/mqueue", true, err);
	}
	if (r < 0 && err && !*err)
		*err = first;
	else
		werr_free(&first);
	return r;
}

/* type "cgroup": a cgroup2 instance when the host is cgroup2-only; otherwise (hybrid or v1
 * host, or no permission) the host's hierarchy bound read-only as asked, all of it. */
static int do_cgroup(struct mnt_ctx *x, struct werr **err)
{
	struct statfs s;
	int r;

	if (statfs("/sys/fs/cgroup", &s) == 0 && s.f_type == CGROUP2_SUPER_MAGIC) {
		struct werr *first = NULL;

		free(x->o.data);
		x->o.data = NULL;
		r = do_fs(x, "cgroup2", &first);
		if (r != -EPERM && r != -EBUSY) {
			if (r < 0 && err && !*err)
				*err = first;
			else
				werr_free(&first);
			return r;
		}
		werr_free(&first);
	}
	r = do_bind(x, "/sys/fs/cgroup", true, err);
	if (r == 0 && (x->o.flags & MS_RDONLY)) {
		_cleanup_close_ int fd = reopen_dest(x, err);
		_cleanup_free_ char *what = xasprintf("%s (in %s)", x->dest, x->c->root_path);

		if (fd < 0)
			return fd;
		r = rootfs_setattr_recursive(fd, MOUNT_ATTR_RDONLY, 0, what, err);
	}
	return r;
}

static int do_mount(const struct rootfs_config *c, int rootfd, const struct mount_spec *m,
		    struct werr **err)
{
	struct mnt_ctx x = {.c = c, .m = m, .rootfd = rootfd, .dest = m->destination};
	size_t i = (size_t)(m - c->mounts);
	int r;

	x.premade = c->premade_trees ? c->premade_trees[i] : -1;

	if (!m->destination || !*m->destination)
		return werr_set(err, EINVAL, "mount of %s has no destination",
				m->source ? m->source : "(none)");
	r = rootfs_parse_mount_opts(m->options, &x.o, err);
	if (r < 0)
		return r;
	if (x.o.bind || is_type(m, "bind"))
		r = do_bind(&x, m->source, x.o.rbind, err);
	else if (!m->type || !*m->type)
		r = werr_set(err, EINVAL, "mount on %s has no type and is not a bind mount",
			     m->destination);
	else if (is_type(m, "sysfs"))
		r = do_sysfs(&x, err);
	else if (is_type(m, "mqueue"))
		r = do_mqueue(&x, err);
	else if (is_type(m, "cgroup"))
		r = do_cgroup(&x, err);
	else
		r = do_fs(&x, m->type, err);
	rootfs_mount_opts_free(&x.o);
	return r;
}

/* pivot_root needs the new root to be a mount point. */
static int make_root_mount(const struct rootfs_config *c, struct werr **err)
{
	if (mount(c->root_path, c->root_path, NULL, MS_BIND | MS_REC, NULL) < 0)
		return werr_sys(err, errno, "bind mount rootfs %s onto itself", c->root_path);
	return 0;
}

int rootfs_prepare(const struct rootfs_config *c, struct werr **err)
{
	long prop = rootfs_propagation_flags(c->propagation);
	_cleanup_close_ int rootfd = -1;
	unsigned long tree;
	int r;

	if (prop < 0)
		return werr_set(err, EINVAL, "unknown rootfsPropagation \"%s\"", c->propagation);
	/* Nothing done from here on may propagate back to the host: the whole tree, recursively,
	 * whatever rootfsPropagation says for "/" (rootfs_finish applies it as given). An
	 * unbindable tree could not even bind the rootfs: slave until then. */
	tree = prop && !(prop & MS_UNBINDABLE) ? (unsigned long)prop | MS_REC : MS_SLAVE | MS_REC;
	if (mount(NULL, "/", NULL, tree, NULL) < 0)
		return werr_sys(err, errno, "make / %s", prop ? c->propagation : "rslave");
	if (prop & MS_SHARED) {
		r = rootfs_make_parent_private(c->root_path, err);
		if (r < 0)
			return r;
	}
	r = make_root_mount(c, err);
	if (r < 0)
		return r;
	rootfd = open(c->root_path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0)
		return werr_sys(err, errno, "open rootfs %s", c->root_path);
	for (size_t i = 0; i < c->n_mounts; i++) {
		r = do_mount(c, rootfd, &c->mounts[i], err);
		if (r < 0)
			return r;
	}
	return rootfs_setup_dev(c, rootfd, err);
}
