/* rootfs_pivot: make the prepared rootfs the container's "/" and drop every reference to the
 * host's tree (pivot_root), or with --no-pivot move it over "/" and chroot. */
#include "rootfs/rootfs.h"
#include "rootfs/rootfs_int.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "lib/util.h"

/* pivot_root refuses a shared new root or a shared current root: with rootfsPropagation
 * [r]shared, make both private now (rootfs_prepare did the root's parent); rootfs_finish
 * applies the propagation to the new "/" again. */
static int unshare_for_pivot(const struct rootfs_config *c, struct werr **err)
{
	long prop = rootfs_propagation_flags(c->propagation);

	if (prop <= 0 || !(prop & MS_SHARED))
		return 0;
	if (mount(NULL, "/", NULL, MS_PRIVATE, NULL) < 0 ||
	    mount(NULL, c->root_path, NULL, MS_PRIVATE, NULL) < 0)
		return werr_sys(err, errno, "make / and rootfs %s private for pivot_root",
				c->root_path);
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
