/* rootfs_pivot: make the prepared rootfs the container's "/" and drop every reference to the
 * host's tree (pivot_root), or with --no-pivot move it over "/" and chroot. */
#include "rootfs/rootfs.h"
#include "rootfs/rootfs_int.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "lib/util.h"

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

/* pivot_root refuses a shared new root, a shared parent of it, or a shared current root: with
 * rootfsPropagation=[r]shared, make those private now; rootfs_finish applies it again. */
static int unshare_for_pivot(const struct rootfs_config *c, struct werr **err)
{
	char real[PATH_MAX];
	_cleanup_free_ char *parent_copy = NULL, *mp = NULL;
	long prop = rootfs_propagation_flags(c->propagation);

	if (prop <= 0 || !(prop & MS_SHARED))
		return 0;
	if (!realpath(c->root_path, real))
		return werr_sys(err, errno, "resolve rootfs %s", c->root_path);
	parent_copy = xstrdup(real);
	mp = mountpoint_of(dirname(parent_copy), err);
	if (!mp)
		return -ENOENT;
	if (mount(NULL, "/", NULL, MS_PRIVATE, NULL) < 0 ||
	    mount(NULL, mp, NULL, MS_PRIVATE, NULL) < 0 ||
	    mount(NULL, real, NULL, MS_PRIVATE, NULL) < 0)
		return werr_sys(err, errno, "make the mounts around rootfs %s private", real);
	return 0;
}

static int move_root(const struct rootfs_config *c, struct werr **err)
{
	if (chdir(c->root_path) < 0)
		return werr_sys(err, errno, "chdir %s", c->root_path);
	if (mount(c->root_path, "/", NULL, MS_MOVE, NULL) < 0)
		return werr_sys(err, errno, "move rootfs %s onto /", c->root_path);
	if (chroot(".") < 0)
		return werr_sys(err, errno, "chroot %s", c->root_path);
	if (chdir("/") < 0)
		return werr_sys(err, errno, "chdir / (in %s)", c->root_path);
	return 0;
}

int rootfs_pivot(const struct rootfs_config *c, struct werr **err)
{
	_cleanup_close_ int oldroot = -1, newroot = -1;
	int r;

	if (c->no_pivot)
		return move_root(c, err);
	r = unshare_for_pivot(c, err);
	if (r < 0)
		return r;
	oldroot = open("/", O_DIRECTORY | O_RDONLY | O_CLOEXEC);
	if (oldroot < 0)
		return werr_sys(err, errno, "open /");
	newroot = open(c->root_path, O_DIRECTORY | O_RDONLY | O_CLOEXEC);
	if (newroot < 0)
		return werr_sys(err, errno, "open rootfs %s", c->root_path);
	if (fchdir(newroot) < 0)
		return werr_sys(err, errno, "chdir %s", c->root_path);
	/* The old root ends up stacked under the new one, at "."; no directory for it needed. */
	if (syscall(SYS_pivot_root, ".", ".") < 0)
		return werr_sys(err, errno, "pivot_root %s", c->root_path);
	if (fchdir(oldroot) < 0)
		return werr_sys(err, errno, "chdir to the old root");
	/* Detaching the old root must not propagate to the host's mounts. */
	if (mount(NULL, ".", NULL, MS_SLAVE | MS_REC, NULL) < 0)
		return werr_sys(err, errno, "make the old root rslave");
	if (umount2(".", MNT_DETACH) < 0)
		return werr_sys(err, errno, "detach the old root");
	if (chdir("/") < 0)
		return werr_sys(err, errno, "chdir / (in %s)", c->root_path);
	return 0;
}
