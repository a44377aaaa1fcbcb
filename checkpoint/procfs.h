/* What checkpoint reads from /proc: parsers (pure, unit-tested) and the readers around them. */
#ifndef WARD_CHECKPOINT_PROCFS_H
#define WARD_CHECKPOINT_PROCFS_H

#include <stdint.h>
#include <sys/types.h>

#include "checkpoint/image.h"
#include "lib/err.h"

/* One line of /proc/pid/maps ("start-end perms offset dev inode [path]"); fills start, end,
 * offset, prot, shared, kind, path (heap-allocated or NULL). 0 or -EINVAL. */
int ck_parse_maps_line(const char *line, struct ck_vma *v);
/* /proc/pid/smaps: the VMAs in order, with growsdown from VmFlags. */
int ck_parse_smaps(const char *text, struct ck_vma **vmas, size_t *n, struct werr **err);
int ck_read_vmas(pid_t pid, struct ck_vma **vmas, size_t *n, struct werr **err);
/* The same from /proc/pid/<file>: "maps" when growsdown is not needed (smaps walks every page
 * table of the process to count Rss/Pss: milliseconds for a large one). */
int ck_read_vmas_from(pid_t pid, const char *file, struct ck_vma **vmas, size_t *n,
		      struct werr **err);
void ck_vmas_free(struct ck_vma *vmas, size_t n);

/* /proc/pid/fdinfo/N: pos and flags (octal). 0 or -EINVAL. */
int ck_parse_fdinfo(const char *text, uint64_t *pos, int *flags);

/* /proc/pid/stat: the mm fields PR_SET_MM_MAP takes (not brk), pgid and sid. */
int ck_parse_stat(const char *text, struct ck_mm *mm, pid_t *pgid, pid_t *sid);

/* /proc/pid/status: uids, gids, groups, umask and the innermost NSpid/NSpgid/NSsid. */
struct ck_status {
	uint32_t uid[4], gid[4];
	uint32_t *groups;
	size_t ngroups;
	unsigned umask;
	pid_t ns_pid, ns_pgid, ns_sid;
	pid_t ppid;
	int threads;
	uint64_t cap_inh, cap_prm, cap_eff, cap_bnd, cap_amb;
	int no_new_privs, seccomp; /* seccomp: 0 none, 1 strict, 2 filter */
};
int ck_parse_status(const char *text, struct ck_status *st);

/* Which pages of a VMA go into the image, from its /proc/pid/pagemap entries: present or
 * swapped pages, and for private file mappings only those that are no longer the file's
 * (anonymous copies after a write). Appends ranges at file offset *next_off onward, merging
 * with the previous range when contiguous. */
#define CK_PM_PRESENT (1ULL << 63)
#define CK_PM_SWAP (1ULL << 62)
#define CK_PM_FILE (1ULL << 61)
void ck_pages_select(const uint64_t *pm, size_t n, uint64_t start, bool skip_file_pages,
		     struct ck_page_range **ranges, size_t *nranges, size_t *cap,
		     uint64_t *next_off);
/* Pre-copy: of the pages selected now (sel, contiguous offsets), those the parent image has
 * and that were not written since it (written: sorted [start, end) spans) become in_parent
 * ranges; the others keep a place in this image's pages file (offsets renumbered). */
struct ck_span {
	uint64_t start, end;
};
void ck_pages_against_parent(const struct ck_page_range *sel, size_t nsel,
			     const struct ck_span *written, size_t nw, const struct ck_mm *parent,
			     struct ck_page_range **out, size_t *nout);

/* The range holding the page at addr, or NULL. */
const struct ck_page_range *ck_page_range_at(const struct ck_mm *mm, uint64_t addr);
/* The offset in pages-<pid>.img of the page at addr, or -1 when it is not in the image. */
int64_t ck_page_offset(const struct ck_mm *mm, uint64_t addr);

#endif
