/* rootfs/ internals shared between its files; not part of the library interface. */
#ifndef WARD_ROOTFS_INT_H
#define WARD_ROOTFS_INT_H

#include <stdbool.h>

#include "lib/err.h"
#include "rootfs/rootfs.h"

/* openat2(RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS) with the caller's flags (plus O_CLOEXEC);
 * returns the fd or -errno, sets no error. */
int rootfs_openat2_in_root(int rootfd, const char *path, int flags);

/* "/proc/self/fd/N": the path through which mount(2) reaches what an O_PATH fd names. */
struct fd_path {
	char s[32];
};
struct fd_path rootfs_fd_path(int fd);

/* The mount-related MS_* flags of the mount at path (from statfs f_flag): these are the flags
 * a less privileged mount namespace cannot clear ("locked"). */
unsigned long rootfs_mount_flags_of(const char *path);

/* Remount the bind mount at path with flags (MS_REMOUNT|MS_BIND added). When the kernel refuses
 * (EPERM: flags locked by a more privileged namespace), retry keeping the locked flags of the
 * mount, except those in keep_cleared the user asked to clear. what names it in errors. */
int rootfs_remount_bind(const char *path, unsigned long flags, unsigned long keep_cleared,
			const char *what, struct werr **err);

/* Apply mount_setattr(AT_RECURSIVE) attributes to the mount tree at fd. */
int rootfs_setattr_recursive(int fd, unsigned long long set, unsigned long long clr,
			     const char *what, struct werr **err);

/* Change the propagation of the mount at path (MS_SHARED/... | MS_REC). */
int rootfs_set_propagation(const char *path, unsigned long propagation, const char *what,
			   struct werr **err);

/* MS_* value of a rootfsPropagation string ("rslave" -> MS_SLAVE|MS_REC); 0 for NULL or "",
 * -EINVAL when unknown. */
long rootfs_propagation_flags(const char *name);

/* Make the mount that holds the rootfs directory private, so that binding the rootfs onto
 * itself cannot propagate out of a shared tree (and pivot_root accepts it). */
int rootfs_make_parent_private(const char *root_path, struct werr **err);

/* A user namespace fd whose uid/gid maps are the given ones (for MOUNT_ATTR_IDMAP). With no
 * maps at all, the caller's own user namespace. */
int rootfs_userns_fd(const struct mount_spec *m, struct werr **err);

/* Clone the host tree at source (recursively when recursive), idmap it with usernsfd and attach
 * it on destfd. */
int rootfs_idmapped_bind(const char *source, int destfd, bool recursive, int usernsfd,
			 const char *what, struct werr **err);

/* Copy the content of the directory from (an fd) into the directory to, keeping modes and
 * owners: tmpcopyup. */
int rootfs_copy_tree(int from, int to, const char *what, struct werr **err);

/* Devices, /dev symlinks, /dev/ptmx and the console inside rootfd (rootfs/devices.c). */
int rootfs_setup_dev(const struct rootfs_config *c, int rootfd, struct werr **err);

#endif
