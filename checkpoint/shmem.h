/* Shared anonymous memory (MAP_SHARED|MAP_ANONYMOUS, "/dev/zero (deleted)") across the tree:
 * each object is saved once, however many VMAs of however many processes map it, and restored
 * as one object again (checkpoint/shmem.c, FORMAT.md "shmem.json"). */
#ifndef WARD_CHECKPOINT_SHMEM_H
#define WARD_CHECKPOINT_SHMEM_H

#include <stddef.h>

#include "checkpoint/image.h"
#include "checkpoint/inventory.h"
#include "lib/err.h"

/* Dump (the tree stopped): every object the processes' CK_VMA_SHMEM VMAs name, read through
 * /proc/<pid>/map_files of its first VMA, its allocated pages into shmem-<id>.img, and
 * shmem.json; all added to inv. Nothing is written when no process maps one. */
int ck_shmem_dump(int dirfd, const struct ck_proc *procs, size_t n, struct ck_inventory *inv,
		  struct werr **err);

/* Restore: shmem.json of the image (none: *nobjs 0), checked against the VMAs naming them. */
int ck_shmem_load(int dirfd, const struct ck_inventory *inv, const struct ck_proc *procs,
		  size_t nprocs, struct ck_shmem **objs, size_t *nobjs, struct werr **err);
/* In the restorer, before the tree's root is forked: each object created (an empty shared
 * anonymous mapping at objs[i].addr), to be inherited by every helper. */
int ck_shmem_create(struct ck_shmem *objs, size_t n, struct werr **err);
/* In the root helper, before it forks the others: the saved pages written into each object
 * (so they are charged to the tree's memory cgroup, not to the restorer's). */
int ck_shmem_fill(int dirfd, const struct ck_shmem *objs, size_t n, struct werr **err);
/* Unmap (this process's view; the object lives on in the processes that map it) and free. */
void ck_shmem_free(struct ck_shmem *objs, size_t n);
const struct ck_shmem *ck_shmem_find(const struct ck_shmem *objs, size_t n, uint64_t id);

#endif
