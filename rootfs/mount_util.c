/* Small mount(2)/mount_setattr(2) steps shared by rootfs_prepare and rootfs_finish: remounting
 * a bind mount while keeping locked flags, propagation, recursive attributes. */
#include "rootfs/rootfs.h"
#include "rootfs/rootfs_int.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdlib.h>
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
		{ST_RDONLY, MS_RDONLY},	    {ST_NOSUID, MS_NOSUID},
		{ST_NODEV, MS_NODEV},	    {ST_NOEXEC, MS_NOEXEC},
		{ST_NOATIME, MS_NOATIME},   {ST_NODIRATIME, MS_NODIRATIME},
		{ST_RELATIME, MS_RELATIME}, {ST_SYNCHRONOUS, MS_SYNCHRONOUS},
		{ST_MANDLOCK, MS_MANDLOCK},
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
	struct mount_attr attr = {.attr_set = set, .attr_clr = clr};

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
		{"private", MS_PRIVATE},       {"rprivate", MS_PRIVATE | MS_REC},
		{"shared", MS_SHARED},	       {"rshared", MS_SHARED | MS_REC},
		{"slave", MS_SLAVE},	       {"rslave", MS_SLAVE | MS_REC},
		{"unbindable", MS_UNBINDABLE}, {"runbindable", MS_UNBINDABLE | MS_REC},
	};

	if (!name || !*name)
		return 0;
	for (size_t i = 0; i < ARRAY_SIZE(map); i++)
		if (strcmp(map[i].name, name) == 0)
			return map[i].flags;
	return -EINVAL;
}

/* Undo mountinfo's octal escapes ("\040" for a space) in place. */
static void unescape(char *s)
{
	char *w = s;

	for (char *r = s; *r; r++) {
		if (r[0] == '\\' && r[1] >= '0' && r[1] <= '3' && r[2] >= '0' && r[2] <= '7' &&
		    r[3] >= '0' && r[3] <= '7') {
			*w++ = (char)((r[1] - '0') * 64 + (r[2] - '0') * 8 + (r[3] - '0'));
			r += 3;
		} else {
			*w++ = *r;
		}
	}
	*w = '\0';
}

static bool under(const char *path, const char *mp)
{
	size_t n = strlen(mp);

	if (strcmp(mp, "/") == 0)
		return true;
	return strncmp(path, mp, n) == 0 && (path[n] == '/' || path[n] == '\0');
}

/* The mount point of the mount that holds path (the longest mount point above it). */
static char *mountpoint_of(const char *path, struct werr **err)
{
	_cleanup_fclose_ FILE *f = fopen("/proc/self/mountinfo", "re");
	_cleanup_free_ char *line = NULL;
	char *best = NULL;
	size_t cap = 0;

	if (!f) {
		werr_sys(err, errno, "open /proc/self/mountinfo");
		return NULL;
	}
	while (getline(&line, &cap, f) > 0) {
		char *save = NULL, *mp = NULL, *tok = strtok_r(line, " ", &save);

		for (int i = 1; tok && i < 5; i++) {
			tok = strtok_r(NULL, " ", &save);
			if (i == 4)
				mp = tok;
		}
		if (!mp)
			continue;
		unescape(mp);
		if (under(path, mp) && (!best || strlen(mp) >= strlen(best))) {
			free(best);
			best = xstrdup(mp);
		}
	}
	if (!best)
		werr_set(err, ENOENT, "no mount holds %s", path);
	return best;
}

int rootfs_make_parent_private(const char *root_path, struct werr **err)
{
	char real[PATH_MAX];
	_cleanup_free_ char *parent = NULL, *mp = NULL;

	if (!realpath(root_path, real))
		return werr_sys(err, errno, "resolve rootfs %s", root_path);
	parent = xstrdup(real);
	mp = mountpoint_of(dirname(parent), err);
	if (!mp)
		return -ENOENT;
	if (mount(NULL, mp, NULL, MS_PRIVATE, NULL) < 0)
		return werr_sys(err, errno, "make %s (the mount holding rootfs %s) private", mp,
				real);
	return 0;
}
