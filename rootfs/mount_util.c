/* Small mount(2)/mount_setattr(2) steps shared by rootfs_prepare and rootfs_finish: remounting
 * a bind mount while keeping locked flags, propagation, recursive attributes. */
#include "rootfs/rootfs.h"
#include "rootfs/rootfs_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/statvfs.h>

#include "lib/util.h"

struct fd_path rootfs_fd_path(int fd)
{
	struct fd_path p;

	snprintf(p.s, sizeof(p.s), "/proc/self/fd/%d", fd);
	return p;
}

unsigned long rootfs_mount_flags_of(const char *path)
{
	static const struct {
		unsigned long st, ms;
	} map[] = {
		{ ST_RDONLY, MS_RDONLY },	{ ST_NOSUID, MS_NOSUID },
		{ ST_NODEV, MS_NODEV },		{ ST_NOEXEC, MS_NOEXEC },
		{ ST_NOATIME, MS_NOATIME },	{ ST_NODIRATIME, MS_NODIRATIME },
		{ ST_RELATIME, MS_RELATIME },	{ ST_SYNCHRONOUS, MS_SYNCHRONOUS },
		{ ST_MANDLOCK, MS_MANDLOCK },
	};
	struct statvfs s;
	unsigned long flags = 0;

	if (statvfs(path, &s) < 0)
		return 0;
	for (size_t i = 0; i < ARRAY_SIZE(map); i++)
		if (s.f_flag & map[i].st)
			flags |= map[i].ms;
	return flags;
}

int rootfs_remount_bind(const char *path, unsigned long flags, unsigned long keep_cleared,
			const char *what, struct werr **err)
{
	const unsigned long atime = MS_NOATIME | MS_RELATIME | MS_STRICTATIME;
	unsigned long locked;

	flags = (flags & ~(MS_REC | MS_BIND | MS_REMOUNT)) | MS_REMOUNT | MS_BIND;
	if (mount(NULL, path, NULL, flags, NULL) == 0)
		return 0;
	if (errno != EPERM)
		return werr_sys(err, errno, "remount %s", what);
	/* The atime mode is locked as a whole: keep the source's unless one was asked for. */
	locked = rootfs_mount_flags_of(path) & ~keep_cleared;
	if (flags & atime)
		locked &= ~atime;
	if (mount(NULL, path, NULL, flags | locked, NULL) < 0)
		return werr_sys(err, errno, "remount %s", what);
	return 0;
}

int rootfs_setattr_recursive(int fd, unsigned long long set, unsigned long long clr,
			     const char *what, struct werr **err)
{
	struct mount_attr attr = { .attr_set = set, .attr_clr = clr };

	if (mount_setattr(fd, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof(attr)) < 0)
		return werr_sys(err, errno, "mount_setattr %s", what);
	return 0;
}

int rootfs_set_propagation(const char *path, unsigned long propagation, const char *what,
			   struct werr **err)
{
	if (!propagation)
		return 0;
	if (mount(NULL, path, NULL, propagation, NULL) < 0)
		return werr_sys(err, errno, "set propagation of %s", what);
	return 0;
}

long rootfs_propagation_flags(const char *name)
{
	static const struct {
		const char *name;
		long flags;
	} map[] = {
		{ "private", MS_PRIVATE },	 { "rprivate", MS_PRIVATE | MS_REC },
		{ "shared", MS_SHARED },	 { "rshared", MS_SHARED | MS_REC },
		{ "slave", MS_SLAVE },		 { "rslave", MS_SLAVE | MS_REC },
		{ "unbindable", MS_UNBINDABLE }, { "runbindable", MS_UNBINDABLE | MS_REC },
	};

	if (!name || !*name)
		return 0;
	for (size_t i = 0; i < ARRAY_SIZE(map); i++)
		if (strcmp(map[i].name, name) == 0)
			return map[i].flags;
	return -EINVAL;
}
