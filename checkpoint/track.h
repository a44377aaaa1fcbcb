/* Write tracking for pre-copy: a userfaultfd with UFFD_FEATURE_WP_ASYNC, made inside the
 * process (by an injected call) and left there at a high fd, write-protects its private memory;
 * the PAGEMAP_SCAN ioctl then reports which pages were written since. No soft-dirty needed. */
#ifndef WARD_CHECKPOINT_TRACK_H
#define WARD_CHECKPOINT_TRACK_H

#include <stdint.h>
#include <sys/types.h>

#include "checkpoint/image.h"
#include "checkpoint/procfs.h"
#include "lib/err.h"

/* Whether fd in process pid is a userfaultfd (the tracker a previous dump left). */
bool ck_track_present(pid_t pid, int fd);
/* The written pages of the process since tracking began or the last protect: spans in address
 * order. Pages outside tracked VMAs count as written. */
int ck_track_written(pid_t pid, struct ck_span **out, size_t *n, struct werr **err);
/* Start tracking in the stopped process (insn: a syscall instruction there): the tracker goes
 * to fd (kept in the process); every private VMA is registered and write-protected. */
int ck_track_start(pid_t pid, uint64_t insn, const struct ck_mm *mm, int fd, struct werr **err);
/* Write-protect everything again (the next round counts from here). */
int ck_track_protect(pid_t pid, struct werr **err);

#endif
