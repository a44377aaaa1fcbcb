/* rootfs_finish: after pivot_root, hide masked paths, make readonlyPaths and (optionally) the
 * root read-only, and apply rootfsPropagation to "/". Paths are plain strings here: the
 * process's root is the container's, so they cannot lead out of it. */
#include "rootfs/rootfs.h"
#include "rootfs/rootfs_int.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include "lib/util.h"

static int mask_path(const struct rootfs_config *c, const char *path, struct werr **err)
{
	_cleanup_free_ char *data = NULL;
	struct stat st;

	if (stat(path, &st) < 0) {
		if (errno == ENOENT)
			return 0;
		return werr_sys(err, errno, "masked path %s", path);
	}
	if (!S_ISDIR(st.st_mode)) {
		if (mount("/dev/null", path, NULL, MS_BIND, NULL) < 0)
			return werr_sys(err, errno, "mask %s with /dev/null", path);
		return 0;
	}
	if (c->mount_label && *c->mount_label)
		data = xasprintf("context=\"%s\"", c->mount_label);
	if (mount("tmpfs", path, "tmpfs", MS_RDONLY, data) < 0)
		return werr_sys(err, errno, "mask %s with a read-only tmpfs", path);
	return 0;
}

/* Read-only without dropping the flags already there (nosuid, nodev, atime mode...). */
static int remount_ro(const char *path, struct werr **err)
{
	unsigned long flags = rootfs_mount_flags_of(path) | MS_RDONLY;

	return rootfs_remount_bind(path, flags, 0, path, err);
}

static int readonly_path(const char *path, struct werr **err)
{
	_cleanup_close_ int fd = -1;
	int r;

	if (mount(path, path, NULL, MS_BIND | MS_REC, NULL) < 0) {
		if (errno == ENOENT)
			return 0;
		return werr_sys(err, errno, "bind mount readonly path %s", path);
	}
	r = remount_ro(path, err);
	if (r < 0)
		return r;
	/* The remount covers the top mount only; mounts below it become read-only too. */
	fd = open(path, O_PATH | O_CLOEXEC);
	if (fd < 0)
		return werr_sys(err, errno, "open readonly path %s", path);
	return rootfs_setattr_recursive(fd, MOUNT_ATTR_RDONLY, 0, path, err);
}

int rootfs_finish(const struct rootfs_config *c, struct werr **err)
{
	long prop = rootfs_propagation_flags(c->propagation);
	int r;

	if (prop < 0)
		return werr_set(err, EINVAL, "unknown rootfsPropagation \"%s\"", c->propagation);
	for (size_t i = 0; c->masked_paths && c->masked_paths[i]; i++) {
		r = mask_path(c, c->masked_paths[i], err);
		if (r < 0)
			return r;
	}
	for (size_t i = 0; c->readonly_paths && c->readonly_paths[i]; i++) {
		r = readonly_path(c->readonly_paths[i], err);
		if (r < 0)
			return r;
	}
	if (c->readonly) {
		r = remount_ro("/", err);
		if (r < 0)
			return werr_wrap(err, "read-only root");
	}
	return rootfs_set_propagation("/", (unsigned long)prop, "/", err);
}
