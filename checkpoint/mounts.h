/* The container's tmpfs mounts in a checkpoint image: their contents as tar archives
 * (tmpfs-<i>.tar) and mounts.json, unpacked into the new container's tmpfs at restore. */
#ifndef WARD_CHECKPOINT_MOUNTS_H
#define WARD_CHECKPOINT_MOUNTS_H

#include <stddef.h>
#include <sys/types.h>

#include "lib/err.h"

/* Archive the tmpfs mounted at each of dests (paths as the process pid sees them, inside its
 * root) into dir. *files gets the names written (NULL-terminated, heap), for the inventory. The
 * tree should be frozen meanwhile. */
int ck_mounts_dump(const char *dir, pid_t pid, char *const *dests, size_t n, char ***files,
		   struct werr **err);
/* In the restored root (its mount namespace, after pivot_root), before any process comes back:
 * unpack each archive the image lists into its destination, which must be a tmpfs. An image
 * without mounts.json: nothing to do. */
int ck_mounts_restore(int dirfd, struct werr **err);

#endif
