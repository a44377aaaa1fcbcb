/* /dev inside the container: runc's default device nodes plus linux.devices, the /dev/fd,
 * stdio and core symlinks, /dev/ptmx and /dev/console. Host device nodes are only ever bind
 * mounted, never chown-ed or chmod-ed. */
#include "rootfs/rootfs.h"
#include "rootfs/rootfs_int.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "lib/util.h"

static const struct device_spec default_devices[] = {
	{.path = "/dev/null", .type = 'c', .major = 1, .minor = 3},
	{.path = "/dev/zero", .type = 'c', .major = 1, .minor = 5},
	{.path = "/dev/full", .type = 'c', .major = 1, .minor = 7},
	{.path = "/dev/random", .type = 'c', .major = 1, .minor = 8},
	{.path = "/dev/urandom", .type = 'c', .major = 1, .minor = 9},
	{.path = "/dev/tty", .type = 'c', .major = 5, .minor = 0},
};

/* Compare two container paths ignoring repeated and trailing slashes ("dev//" == "/dev"). */
static bool same_path(const char *a, const char *b)
{
	for (;;) {
		while (*a == '/')
			a++;
		while (*b == '/')
			b++;
		if (!*a || !*b)
			return !*a && !*b;
		while (*a && *a != '/' && *a == *b)
			a++, b++;
		if ((*a && *a != '/') || (*b && *b != '/'))
			return false;
	}
}

static const struct mount_spec *mount_at(const struct rootfs_config *c, const char *dest)
{
	const struct mount_spec *found = NULL;

	for (size_t i = 0; i < c->n_mounts; i++)
		if (c->mounts[i].destination && same_path(c->mounts[i].destination, dest))
			found = &c->mounts[i];
	return found;
}

static bool is_bind(const struct mount_spec *m)
{
	if (m->type && strcmp(m->type, "bind") == 0)
		return true;
	for (size_t i = 0; m->options && m->options[i]; i++)
		if (!strcmp(m->options[i], "bind") || !strcmp(m->options[i], "rbind"))
			return true;
	return false;
}

static int bind_device(const struct rootfs_config *c, int rootfd, const struct device_spec *d,
		       struct werr **err)
{
	_cleanup_close_ int fd = rootfs_mkdir_in_root(rootfd, d->path, true, err);
	struct fd_path p;

	if (fd < 0)
		return werr_wrap(err, "device %s", d->path);
	p = rootfs_fd_path(fd);
	if (mount(d->path, p.s, NULL, MS_BIND, NULL) < 0)
		return werr_sys(err, errno, "bind mount device %s on %s (in %s)", d->path, d->path,
				c->root_path);
	return 0;
}

static int mknod_device(const struct rootfs_config *c, int rootfd, const struct device_spec *d,
			struct werr **err)
{
	_cleanup_free_ char *dir_copy = xstrdup(d->path), *base_copy = xstrdup(d->path);
	const char *dir = dirname(dir_copy), *name = basename(base_copy);
	_cleanup_close_ int parent = -1;
	mode_t mode = d->has_file_mode ? (d->file_mode & 07777) : 0666;
	mode_t type;

	switch (d->type) {
	case 'c':
	case 'u':
		type = S_IFCHR;
		break;
	case 'b':
		type = S_IFBLK;
		break;
	case 'p':
		type = S_IFIFO;
		break;
	default:
		return werr_set(err, EINVAL, "device %s: unknown type '%c'", d->path, d->type);
	}
	if (!*name || !strcmp(name, "/") || !strcmp(name, ".") || !strcmp(name, ".."))
		return werr_set(err, EINVAL, "device path \"%s\" names no file", d->path);
	parent = rootfs_mkdir_in_root(rootfd, dir, false, err);
	if (parent < 0)
		return werr_wrap(err, "device %s", d->path);
	if (mknodat(parent, name, type | mode,
		    type == S_IFIFO ? 0 : makedev((unsigned)d->major, (unsigned)d->minor)) < 0) {
		if (errno == EEXIST)
			return 0;
		if (errno == EPERM)
			return bind_device(c, rootfd, d, err);
		return werr_sys(err, errno, "mknod %s (in %s)", d->path, c->root_path);
	}
	/* Only the node just made is touched: mknod is subject to the umask. */
	if (fchownat(parent, name, d->has_uid ? d->uid : 0, d->has_gid ? d->gid : 0,
		     AT_SYMLINK_NOFOLLOW) < 0)
		return werr_sys(err, errno, "chown %s (in %s)", d->path, c->root_path);
	if (fchmodat(parent, name, mode, 0) < 0)
		return werr_sys(err, errno, "chmod %s (in %s)", d->path, c->root_path);
	return 0;
}

static int create_device(const struct rootfs_config *c, int rootfd, const struct device_spec *d,
			 struct werr **err)
{
	if (!d->path || !*d->path)
		return werr_set(err, EINVAL, "device without a path");
	if (c->new_user_ns)
		return bind_device(c, rootfd, d, err);
	return mknod_device(c, rootfd, d, err);
}

static bool configured(const struct rootfs_config *c, const char *path)
{
	for (size_t i = 0; i < c->n_devices; i++)
		if (c->devices[i].path && same_path(c->devices[i].path, path))
			return true;
	return false;
}

static int create_devices(const struct rootfs_config *c, int rootfd, struct werr **err)
{
	int r;

	for (size_t i = 0; i < ARRAY_SIZE(default_devices); i++) {
		if (configured(c, default_devices[i].path))
			continue;
		r = create_device(c, rootfd, &default_devices[i], err);
		if (r < 0)
			return r;
	}
	for (size_t i = 0; i < c->n_devices; i++) {
		r = create_device(c, rootfd, &c->devices[i], err);
		if (r < 0)
			return r;
	}
	return 0;
}

static int dev_symlinks(const struct rootfs_config *c, int devfd, struct werr **err)
{
	static const char *const links[][2] = {
		{"/proc/self/fd", "fd"},       {"/proc/self/fd/0", "stdin"},
		{"/proc/self/fd/1", "stdout"}, {"/proc/self/fd/2", "stderr"},
		{"/proc/kcore", "core"},
	};

	for (size_t i = 0; i < ARRAY_SIZE(links); i++) {
		if (!strcmp(links[i][1], "core") && access("/proc/kcore", F_OK) < 0)
			continue;
		if (symlinkat(links[i][0], devfd, links[i][1]) < 0 && errno != EEXIST)
			return werr_sys(err, errno, "symlink /dev/%s (in %s)", links[i][1],
					c->root_path);
	}
	return 0;
}

/* With a devpts instance of its own, /dev/ptmx must be that instance's ptmx. */
static int setup_ptmx(const struct rootfs_config *c, int devfd, struct werr **err)
{
	if (unlinkat(devfd, "ptmx", 0) < 0 && errno != ENOENT)
		return werr_sys(err, errno, "remove /dev/ptmx (in %s)", c->root_path);
	if (symlinkat("pts/ptmx", devfd, "ptmx") < 0)
		return werr_sys(err, errno, "symlink /dev/ptmx (in %s)", c->root_path);
	return 0;
}

static int setup_console(const struct rootfs_config *c, int rootfd, struct werr **err)
{
	_cleanup_close_ int fd = rootfs_mkdir_in_root(rootfd, "/dev/console", true, err);
	struct fd_path p;

	if (fd < 0)
		return werr_wrap(err, "console");
	p = rootfs_fd_path(fd);
	if (mount(c->console_path, p.s, NULL, MS_BIND, NULL) < 0)
		return werr_sys(err, errno, "bind mount console %s on /dev/console (in %s)",
				c->console_path, c->root_path);
	return 0;
}

int rootfs_setup_dev(const struct rootfs_config *c, int rootfd, struct werr **err)
{
	const struct mount_spec *dev = mount_at(c, "/dev");
	const struct mount_spec *pts = mount_at(c, "/dev/pts");
	int r;

	/* A /dev bound from the host is used as it is. */
	if (!dev || !is_bind(dev)) {
		_cleanup_close_ int devfd = -1;

		r = create_devices(c, rootfd, err);
		if (r < 0)
			return r;
		devfd = rootfs_mkdir_in_root(rootfd, "/dev", false, err);
		if (devfd < 0)
			return devfd;
		r = dev_symlinks(c, devfd, err);
		if (r == 0 && pts && pts->type && !strcmp(pts->type, "devpts"))
			r = setup_ptmx(c, devfd, err);
		if (r < 0)
			return r;
	}
	if (c->console_path && *c->console_path)
		return setup_console(c, rootfd, err);
	return 0;
}
