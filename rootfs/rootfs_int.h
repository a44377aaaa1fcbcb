/* rootfs/ internals shared between its files; not part of the library interface. */
#ifndef WARD_ROOTFS_INT_H
#define WARD_ROOTFS_INT_H

#include <stdbool.h>

#include "lib/err.h"
#include "rootfs/rootfs.h"

/* openat2(RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS) with the caller's flags (plus O_CLOEXEC);
 * returns the fd or -errno, sets no error. */
int rootfs_openat2_in_root(int rootfd, const char *path, int flags);

#endif
