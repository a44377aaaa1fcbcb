/* Pre-copy write tracking: userfaultfd WP_ASYNC + PAGEMAP_SCAN (see track.h). */
#include "checkpoint/track.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "checkpoint/ptrace.h"
#include "lib/util.h"

/* Newer than this system's uapi headers (Linux 6.7). */
#ifndef UFFD_FEATURE_WP_UNPOPULATED
#define UFFD_FEATURE_WP_UNPOPULATED (1 << 13)
#endif
#ifndef UFFD_FEATURE_WP_ASYNC
#define UFFD_FEATURE_WP_ASYNC (1 << 15)
#endif
struct ck_page_region {
	uint64_t start, end, categories;
};
struct ck_pm_scan_arg {
	uint64_t size, flags, start, end, walk_end, vec, vec_len, max_pages;
	uint64_t category_inverted, category_mask, category_anyof_mask, return_mask;
};
#define CK_PAGEMAP_SCAN _IOWR('f', 16, struct ck_pm_scan_arg)
#define CK_PAGE_IS_WRITTEN (1 << 1)
#define CK_PM_SCAN_WP_MATCHING (1 << 0)
#define CK_TASK_TOP 0x7ffffffff000ULL

bool ck_track_present(pid_t pid, int fd)
{
	char path[64], link[64];
	ssize_t n;

	if (fd < 0)
		return false;
	snprintf(path, sizeof(path), "/proc/%d/fd/%d", pid, fd);
	n = readlink(path, link, sizeof(link) - 1);
	if (n < 0)
		return false;
	link[n] = '\0';
	return strcmp(link, "anon_inode:[userfaultfd]") == 0;
}

static int open_pagemap(pid_t pid, struct werr **err)
{
	char path[64];
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/pagemap", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return werr_sys(err, errno, "open %s", path);
	return fd;
}

int ck_track_written(pid_t pid, struct ck_span **out, size_t *n, struct werr **err)
{
	enum { VEC = 4096 };
	_cleanup_close_ int pm = open_pagemap(pid, err);
	_cleanup_free_ struct ck_page_region *vec = xcalloc(VEC, sizeof(*vec));
	struct ck_pm_scan_arg a = {
		.size = sizeof(a),
		.start = 0,
		.end = CK_TASK_TOP,
		.vec = (uint64_t)(uintptr_t)vec,
		.vec_len = VEC,
		.category_mask = CK_PAGE_IS_WRITTEN,
		.return_mask = CK_PAGE_IS_WRITTEN,
	};
	size_t cap = 0;

	*out = NULL;
	*n = 0;
	if (pm < 0)
		return -EIO;
	/* No WP_MATCHING here: with it, VMAs without tracking would be skipped, i.e. reported
	 * as not written. */
	for (;;) {
		int got = ioctl(pm, CK_PAGEMAP_SCAN, &a);

		if (got < 0) {
			free(*out);
			*out = NULL;
			return werr_sys(err, errno, "PAGEMAP_SCAN of process %d", pid);
		}
		for (int i = 0; i < got; i++) {
			if (*n && (*out)[*n - 1].end == vec[i].start) {
				(*out)[*n - 1].end = vec[i].end;
				continue;
			}
			if (*n == cap) {
				cap = cap ? cap * 2 : 256;
				*out = xrealloc(*out, cap * sizeof(**out));
			}
			(*out)[(*n)++] = (struct ck_span){vec[i].start, vec[i].end};
		}
		if (a.walk_end >= a.end || got < VEC)
			break;
		a.start = a.walk_end;
	}
	return 0;
}

int ck_track_protect(pid_t pid, struct werr **err)
{
	_cleanup_close_ int pm = open_pagemap(pid, err);
	struct ck_pm_scan_arg a = {
		.size = sizeof(a),
		.flags = CK_PM_SCAN_WP_MATCHING,
		.start = 0,
		.end = CK_TASK_TOP,
		.category_mask = CK_PAGE_IS_WRITTEN,
	};

	if (pm < 0)
		return -EIO;
	if (ioctl(pm, CK_PAGEMAP_SCAN, &a) < 0)
		return werr_sys(err, errno, "PAGEMAP_SCAN write-protect of process %d", pid);
	return 0;
}

static long inject(pid_t pid, uint64_t insn, long nr, uint64_t a0, uint64_t a1, uint64_t a2,
		   struct werr **err)
{
	uint64_t a[6] = {a0, a1, a2, 0, 0, 0};
	long ret;

	if (ck_inject(pid, insn, nr, a, &ret, err) < 0)
		return -EIO;
	if (ret < 0 && ret > -4096)
		return werr_sys(err, (int)-ret, "process %d: injected syscall %ld", pid, nr);
	return ret;
}

/* The tracker is made by the process itself (a userfaultfd serves the mm of its creator), moved
 * to fd, then handled from here through a pidfd_getfd copy. */
int ck_track_start(pid_t pid, uint64_t insn, const struct ck_mm *mm, int fd, struct werr **err)
{
	struct uffdio_api api = {.api = UFFD_API,
				 .features = UFFD_FEATURE_WP_ASYNC | UFFD_FEATURE_WP_UNPOPULATED};
	_cleanup_close_ int pidfd = -1, uffd = -1;
	long t;

	t = inject(pid, insn, SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK | UFFD_USER_MODE_ONLY, 0, 0,
		   err);
	if (t < 0)
		return werr_wrap(err, "start write tracking");
	if (t != fd &&
	    (inject(pid, insn, SYS_dup3, (uint64_t)t, (uint64_t)fd, O_CLOEXEC, err) < 0 ||
	     inject(pid, insn, SYS_close, (uint64_t)t, 0, 0, err) < 0))
		return werr_wrap(err, "start write tracking");
	pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (pidfd < 0)
		return werr_sys(err, errno, "pidfd_open %d", pid);
	uffd = (int)syscall(SYS_pidfd_getfd, pidfd, fd, 0);
	if (uffd < 0)
		return werr_sys(err, errno, "pidfd_getfd %d of %d", fd, pid);
	if (ioctl(uffd, UFFDIO_API, &api) < 0)
		return werr_sys(err, errno, "userfaultfd: WP_ASYNC not available");
	for (size_t i = 0; i < mm->nvmas; i++) {
		const struct ck_vma *v = &mm->vmas[i];
		struct uffdio_register reg = {.range = {v->start, v->end - v->start},
					      .mode = UFFDIO_REGISTER_MODE_WP};

		if (v->shared || (v->kind != CK_VMA_ANON && v->kind != CK_VMA_FILE))
			continue;
		/* A VMA that cannot be tracked stays untracked: its pages count as written. */
		ioctl(uffd, UFFDIO_REGISTER, &reg);
	}
	return ck_track_protect(pid, err);
}
