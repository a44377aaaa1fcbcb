/* Copying a restored process's pages into it from threads (checkpoint/pages_fill.c). */
#ifndef WARD_CHECKPOINT_PAGES_FILL_H
#define WARD_CHECKPOINT_PAGES_FILL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct ck_fill;

/* Copiers for process pid (stopped, traced by the caller). uffd: a userfaultfd of pid's mm
 * (UFFDIO_COPY into the ranges registered with it), or -1; memfd: its /proc/pid/mem, for what
 * process_vm_writev cannot write. */
struct ck_fill *ck_fill_new(pid_t pid, int uffd, int memfd);
/* Queue len bytes at local for remote: by UFFDIO_COPY (the range is registered with uffd and
 * has no page yet) or by process_vm_writev (no part of it is registered). local stays valid
 * until ck_fill_wait. */
void ck_fill_add(struct ck_fill *f, const void *local, uint64_t remote, size_t len, bool uffd);
/* Hand what was queued to the copiers (they start at once). */
void ck_fill_start(struct ck_fill *f);
/* Wait until everything queued is copied: 0, or -errno of the first failure with its address
 * in *addr. */
int ck_fill_wait(struct ck_fill *f, uint64_t *addr);
/* Stop the copiers and free f (NULL: nothing). */
void ck_fill_free(struct ck_fill *f);

#endif
