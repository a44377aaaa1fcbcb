/* Rebuilding a process inside a stopped helper by system calls injected over ptrace:
 *  1. a two-page "trampoline" (a `syscall` instruction and room for arguments) is mapped in a
 *     gap of the image's layout, using ward's own syscall instruction (the helper is a fork of
 *     ward, so it is at the same address);
 *  2. everything else of the helper is unmapped, [vvar]/[vdso] are moved to the image's
 *     addresses (mremap; they hold pointers glibc cached at start-up);
 *  3. each VMA is mapped at its address (files reopened, anonymous memory fresh, views of shared
 *     memory duplicated from the object the helper inherited, shmem.c), the saved pages
 *     copied in (from the page cache or read with O_DIRECT, checked against their sum on the
 *     way) by UFFDIO_COPY through a userfaultfd of the helper where the memory is private
 *     and anonymous, by process_vm_writev elsewhere (pages_fill.c), final protections set;
 *  4. PR_SET_MM_MAP (brk, arg/env, auxv, exe), signal actions, per-thread state, credentials;
 *  5. the trampoline is unmapped by its own last call, and the registers are set.
 * No code of ward runs in the helper after step 1: nothing of it is left to collide with. */
#include <errno.h>
#include <fcntl.h>
#include <linux/prctl.h>
#include <linux/userfaultfd.h>
#include <linux/sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/stat.h>
#include <sys/uio.h>

#include "checkpoint/fdx.h"
#include "checkpoint/internal.h"
#include "checkpoint/pages_fill.h"
#include "checkpoint/locks.h"
#include "checkpoint/pages_in.h"
#include "checkpoint/procfs.h"
#include "checkpoint/ptrace.h"
#include "checkpoint/seccomp_ck.h"
#include "checkpoint/shmem.h"
#include "checkpoint/sum.h"
#include "checkpoint/timers.h"
#include "lib/util.h"

#ifndef PTRACE_GET_RSEQ_CONFIGURATION
#define PTRACE_GET_RSEQ_CONFIGURATION 0x420f
#endif
#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif
#define RSEQ_FLAG_UNREGISTER 1

#define TRAMP_SIZE (2 * 4096UL)
#define TASK_TOP 0x7ffffffff000ULL

struct rb {
	pid_t pid;
	const struct ck_proc *p;
	int memfd;
	uint64_t insn; /* the syscall instruction in use */
	uint64_t tramp;
	uint64_t data; /* argument area inside the trampoline */
	const struct ck_shmem *shm;
	size_t nshm;
	uint64_t *parked;     /* shm[i] in the helper, beside the trampoline; 0: not mapped here */
	int uffd;	      /* a userfaultfd of the helper's mm while pages are filled, or -1 */
	bool *reg;	      /* per VMA of p->mm: registered with uffd */
	struct ck_fill *fill; /* the copiers */
};

static long sys(struct rb *b, long nr, uint64_t a0, uint64_t a1, uint64_t a2, uint64_t a3,
		uint64_t a4, uint64_t a5, struct werr **err)
{
	uint64_t a[6] = {a0, a1, a2, a3, a4, a5};
	long ret;

	if (ck_inject(b->pid, b->insn, nr, a, &ret, err) < 0)
		return -EIO;
	return ret;
}

/* Like sys, with a failure of the call itself turned into an error naming what. */
static long sys_ok(struct rb *b, const char *what, long nr, uint64_t a0, uint64_t a1, uint64_t a2,
		   uint64_t a3, uint64_t a4, uint64_t a5, struct werr **err)
{
	long r = sys(b, nr, a0, a1, a2, a3, a4, a5, err);

	if (r < 0 && r > -4096)
		return werr_sys(err, (int)-r, "%s", what);
	return r;
}

static int put(struct rb *b, uint64_t addr, const void *buf, size_t len, struct werr **err)
{
	if (pwrite(b->memfd, buf, len, (off_t)addr) != (ssize_t)len)
		return werr_sys(err, errno ? errno : EIO, "write memory of %d at 0x%llx", b->pid,
				(unsigned long long)addr);
	return 0;
}

static uint64_t special_bytes(const struct ck_mm *mm)
{
	uint64_t sum = 0;

	for (size_t i = 0; i < mm->nvmas; i++)
		if (mm->vmas[i].kind == CK_VMA_VDSO || mm->vmas[i].kind == CK_VMA_VVAR)
			sum += mm->vmas[i].end - mm->vmas[i].start;
	return sum;
}

static bool maps_object(const struct ck_mm *mm, uint64_t id)
{
	for (size_t i = 0; i < mm->nvmas; i++)
		if (mm->vmas[i].kind == CK_VMA_SHMEM && mm->vmas[i].ino == id)
			return true;
	return false;
}

/* The shared memory objects this process maps are parked beside the trampoline meanwhile. */
static uint64_t shmem_bytes(const struct rb *b)
{
	uint64_t sum = 0;

	for (size_t i = 0; i < b->nshm; i++)
		if (maps_object(&b->p->mm, b->shm[i].id))
			sum += b->shm[i].size;
	return sum;
}

/* Map the trampoline in a gap of the image's layout that is also free in the helper. */
static int map_trampoline(struct rb *b, uint64_t size, struct werr **err)
{
	const struct ck_mm *mm = &b->p->mm;
	uint64_t lo = 0x10000;
	int tries = 0;

	for (size_t i = 0; i <= mm->nvmas && tries < 256; i++) {
		uint64_t hi = i < mm->nvmas ? mm->vmas[i].start : TASK_TOP;

		/* 2 MiB clear of both neighbours (a stack's guard gap is 1 MiB). */
		for (uint64_t a = lo + (2 << 20); a + size + (2 << 20) <= hi && tries < 256;
		     a += 64 << 20, tries++) {
			long r = sys(b, SYS_mmap, a, size, PROT_READ | PROT_WRITE | PROT_EXEC,
				     MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE,
				     (uint64_t)-1, 0, err);

			if (r == -EIO)
				return -EIO;
			if ((uint64_t)r == a) {
				static const uint8_t code[] = {0x0f, 0x05,
							       0xcc}; /* syscall; int3 */

				b->tramp = a;
				b->data = a + 64;
				if (put(b, a, code, sizeof(code), err) < 0)
					return -EIO;
				b->insn = a;
				return 0;
			}
			if (r > 0) /* placed elsewhere (old kernel): give it back */
				sys(b, SYS_munmap, (uint64_t)r, size, 0, 0, 0, 0, NULL);
		}
		if (i < mm->nvmas)
			lo = mm->vmas[i].end;
	}
	return werr_set(err, ENOMEM, "no room for the restorer's trampoline in process %d", b->pid);
}

/* Unmap all of the helper but the trampoline and its [vvar*]/[vdso], which move to where the
 * image had them (by way of the space after the trampoline: old and new places may overlap). */
static int clear_helper(struct rb *b, struct werr **err)
{
	const struct ck_mm *mm = &b->p->mm;
	struct ck_vma *mine = NULL;
	size_t n = 0;
	uint64_t scratch = b->tramp + TRAMP_SIZE;
	uint64_t park = scratch + ((special_bytes(mm) + 4095) & ~4095ULL);
	int r = 0;

	if (ck_read_vmas(b->pid, &mine, &n, err) < 0)
		return -EIO;
	for (size_t i = 0; i < n && r == 0; i++) {
		struct ck_vma *v = &mine[i];

		if (v->start == b->tramp || v->kind == CK_VMA_VSYSCALL)
			continue;
		for (size_t k = 0; k < b->nshm && v->kind == CK_VMA_SHMEM; k++) {
			if (v->start != b->shm[k].addr || !maps_object(mm, b->shm[k].id))
				continue;
			if (sys_ok(b, "mremap shared memory aside", SYS_mremap, v->start,
				   b->shm[k].size, b->shm[k].size, MREMAP_MAYMOVE | MREMAP_FIXED,
				   park, 0, err) < 0)
				r = -EIO;
			b->parked[k] = park;
			park += b->shm[k].size;
			v->kind = CK_VMA_VSYSCALL; /* kept */
		}
		if (r < 0 || v->kind == CK_VMA_VSYSCALL)
			continue;
		if (v->kind == CK_VMA_VDSO || v->kind == CK_VMA_VVAR) {
			const struct ck_vma *want = NULL;

			for (size_t j = 0; j < mm->nvmas && !want; j++)
				if (mm->vmas[j].path && strcmp(mm->vmas[j].path, v->path) == 0)
					want = &mm->vmas[j];
			if (want && want->end - want->start != v->end - v->start)
				r = werr_set(err, EINVAL,
					     "%s is %llu bytes here, %llu in the image "
					     "(another kernel?)",
					     v->path, (unsigned long long)(v->end - v->start),
					     (unsigned long long)(want->end - want->start));
			else if (want)
				r = (int)sys_ok(b, "mremap to scratch", SYS_mremap, v->start,
						v->end - v->start, v->end - v->start,
						MREMAP_MAYMOVE | MREMAP_FIXED, scratch, 0, err);
			if (r >= 0 && want) {
				v->offset = scratch; /* where it is now */
				scratch += v->end - v->start;
				r = 0;
				continue;
			}
			if (r < 0)
				break;
		}
		if (sys_ok(b, "munmap", SYS_munmap, v->start, v->end - v->start, 0, 0, 0, 0, err) <
		    0)
			r = -EIO;
	}
	for (size_t i = 0; i < n && r == 0; i++) {
		struct ck_vma *v = &mine[i];

		if (v->kind != CK_VMA_VDSO && v->kind != CK_VMA_VVAR)
			continue;
		for (size_t j = 0; j < mm->nvmas; j++)
			if (mm->vmas[j].path && strcmp(mm->vmas[j].path, v->path) == 0 &&
			    sys_ok(b, "mremap vdso", SYS_mremap, v->offset, v->end - v->start,
				   v->end - v->start, MREMAP_MAYMOVE | MREMAP_FIXED,
				   mm->vmas[j].start, 0, err) < 0)
				r = -EIO;
	}
	ck_vmas_free(mine, n);
	return r < 0 ? -EIO : 0;
}

/* Open path inside the helper; returns the fd there. */
static long remote_open(struct rb *b, const char *path, int flags, struct werr **err)
{
	size_t len = strlen(path) + 1;

	if (len > TRAMP_SIZE - 128)
		return werr_set(err, ENAMETOOLONG, "path too long: %s", path);
	if (put(b, b->data, path, len, err) < 0)
		return -EIO;
	return sys_ok(b, path, SYS_openat, (uint64_t)AT_FDCWD, b->data, (uint64_t)flags, 0, 0, 0,
		      err);
}

static bool has_pages(const struct ck_mm *mm, const struct ck_vma *v)
{
	for (size_t i = 0; i < mm->npages; i++)
		if (mm->pages[i].addr < v->end &&
		    mm->pages[i].addr + mm->pages[i].npages * 4096 > v->start)
			return true;
	return false;
}

/* Every page of v is in the image. */
static bool all_pages(const struct ck_mm *mm, const struct ck_vma *v)
{
	uint64_t sum = 0;

	for (size_t i = 0; i < mm->npages; i++) {
		uint64_t s = mm->pages[i].addr, e = s + mm->pages[i].npages * 4096;

		if (s < v->end && e > v->start)
			sum += (e < v->end ? e : v->end) - (s > v->start ? s : v->start);
	}
	return sum == v->end - v->start;
}

/* A view of a shared memory object: a duplicate (mremap with old size 0) of the part of the
 * parked object at the view's offset, so that it is the same object, then its protection. */
static int map_shmem_view(struct rb *b, const struct ck_vma *v, struct werr **err)
{
	size_t k = 0;
	long r;

	while (k < b->nshm && b->shm[k].id != v->ino)
		k++;
	if (k == b->nshm || !b->parked[k])
		return werr_set(err, ENOENT, "shared memory %llu was not inherited",
				(unsigned long long)v->ino);
	r = sys_ok(b, "mremap a view of shared memory", SYS_mremap, b->parked[k] + v->offset, 0,
		   v->end - v->start, MREMAP_MAYMOVE | MREMAP_FIXED, v->start, 0, err);
	if (r >= 0 && (uint64_t)r != v->start)
		return werr_set(err, EEXIST, "map 0x%llx: got 0x%lx", (unsigned long long)v->start,
				r);
	if (r >= 0 && v->prot != (PROT_READ | PROT_WRITE))
		r = sys_ok(b, "mprotect", SYS_mprotect, v->start, v->end - v->start,
			   (uint64_t)v->prot, 0, 0, 0, err);
	if (r < 0)
		return werr_wrap(err, "map 0x%llx-0x%llx of shared memory %llu at 0x%llx",
				 (unsigned long long)v->start, (unsigned long long)v->end,
				 (unsigned long long)v->ino, (unsigned long long)v->offset);
	return 0;
}

/* Private anonymous memory with saved pages: filled by UFFDIO_COPY when there is a uffd. */
static bool uffd_fills(const struct rb *b, const struct ck_vma *v)
{
	return b->uffd >= 0 && v->kind == CK_VMA_ANON && !v->shared && has_pages(&b->p->mm, v);
}

static int map_vma(struct rb *b, const struct ck_vma *v, struct werr **err)
{
	bool fill = has_pages(&b->p->mm, v);
	int prot = fill ? (v->prot | PROT_READ | PROT_WRITE) : v->prot;
	int flags = (v->shared ? MAP_SHARED : MAP_PRIVATE) | MAP_FIXED_NOREPLACE |
		    (v->growsdown ? MAP_GROWSDOWN : 0);
	long fd = -1, r;

	/* Private anonymous memory that is written whole anyway: its pages are allocated in
	 * one go by the mmap rather than one fault at a time by the copy (unless UFFDIO_COPY
	 * allocates them). */
	if (fill && v->kind == CK_VMA_ANON && !v->shared && all_pages(&b->p->mm, v) &&
	    !uffd_fills(b, v))
		flags |= MAP_POPULATE;

	if (v->kind == CK_VMA_FILE) {
		int oflags = (v->shared && (v->prot & PROT_WRITE)) ? O_RDWR : O_RDONLY;

		fd = remote_open(b, v->path, oflags | O_CLOEXEC, err);
		if (fd < 0)
			return werr_wrap(err, "reopen mapped file");
	} else {
		flags |= MAP_ANONYMOUS;
	}
	r = sys_ok(b, "mmap", SYS_mmap, v->start, v->end - v->start, (uint64_t)prot,
		   (uint64_t)flags, (uint64_t)fd, v->kind == CK_VMA_FILE ? v->offset : 0, err);
	if (fd >= 0)
		sys(b, SYS_close, (uint64_t)fd, 0, 0, 0, 0, 0, NULL);
	if (r < 0)
		return werr_wrap(err, "map 0x%llx-0x%llx %s", (unsigned long long)v->start,
				 (unsigned long long)v->end, v->path ? v->path : "");
	if ((uint64_t)r != v->start)
		return werr_set(err, EEXIST, "map 0x%llx: got 0x%lx", (unsigned long long)v->start,
				r);
	return 0;
}

/* The image of the chain (from s down its parents) whose pages file holds addr's bytes, or NULL
 * when s has no page there; *n (<= len): how many bytes from addr have that same holder. */
static const struct ck_pagesrc *holder(const struct ck_pagesrc *s, uint64_t addr, size_t len,
				       size_t *n)
{
	*n = len;
	for (; s; s = s->parent) {
		const struct ck_page_range *r = ck_page_range_at(s->mm, addr);
		size_t lo = 0, hi = s->mm->npages;

		if (r) {
			if (r->addr + r->npages * 4096 - addr < *n)
				*n = r->addr + r->npages * 4096 - addr;
			if (!r->in_parent)
				return s;
			continue;
		}
		while (lo < hi) { /* no page at addr here: up to the next range */
			size_t mid = (lo + hi) / 2;

			if (s->mm->pages[mid].addr <= addr)
				lo = mid + 1;
			else
				hi = mid;
		}
		if (lo < s->mm->npages && s->mm->pages[lo].addr - addr < *n)
			*n = s->mm->pages[lo].addr - addr;
		return NULL;
	}
	return NULL;
}

/* How many of len bytes from addr are alike for the copiers: all registered with the uffd
 * (*uffd) or none of them. */
static size_t fill_run(const struct rb *b, uint64_t addr, size_t len, bool *uffd)
{
	const struct ck_mm *mm = &b->p->mm;
	size_t lo = 0, hi = mm->nvmas;

	while (lo < hi) { /* the first VMA ending after addr */
		size_t mid = (lo + hi) / 2;

		if (mm->vmas[mid].end <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	*uffd = b->reg && lo < mm->nvmas && mm->vmas[lo].start <= addr && b->reg[lo];
	if (*uffd)
		return mm->vmas[lo].end - addr < len ? mm->vmas[lo].end - addr : len;
	for (; lo < mm->nvmas && mm->vmas[lo].start < addr + len; lo++)
		if (b->reg && b->reg[lo] && mm->vmas[lo].start > addr)
			return mm->vmas[lo].start - addr;
	return len;
}

/* Queue m bytes of buf for addr with the copiers, split where the way to copy changes. */
static void fill_queue(struct rb *b, const char *buf, uint64_t addr, size_t m)
{
	while (m) {
		bool uffd;
		size_t k = fill_run(b, addr, m, &uffd);

		ck_fill_add(b->fill, buf, addr, k, uffd);
		buf += k;
		addr += k;
		m -= k;
	}
}

/* Wait for the copiers: 0, or the first failure as an error. */
static int fill_wait(struct rb *b, struct werr **err)
{
	uint64_t bad;
	int e = ck_fill_wait(b->fill, &bad);

	if (e < 0)
		return werr_sys(err, -e, "write memory of %d at 0x%llx", b->pid,
				(unsigned long long)bad);
	return 0;
}

/* One pages file of the chain (lvl, top the image restored), read once in order (its ranges'
 * offsets follow each other), each chunk hashed, and the parts that are this file's to give
 * (the top's own pages; a parent's where no image above it has the page) copied into the
 * process from the buffer. Nothing of the process runs before every sum is found right: on a
 * mismatch the caller kills the stopped tree. */
static int fill_from(struct rb *b, const struct ck_pagesrc *top, const struct ck_pagesrc *lvl,
		     struct werr **err)
{
	const struct ck_mm *mm = lvl->mm;
	uint64_t total = ck_pages_size(mm), roff = 0;
	struct ck_sum *sum = ck_sum_new();
	struct ck_pages_in *in = NULL;
	char hex[CK_SUM_HEX + 1];
	const char *buf;
	size_t ri = 0, want = 0;
	struct stat sb;
	int r = 0;

	if (fstat(lvl->fd, &sb) < 0 || (uint64_t)sb.st_size != total)
		r = werr_set(err, EINVAL, "image: %s is %lld bytes, its index says %llu", lvl->name,
			     (long long)sb.st_size, (unsigned long long)total);
	else
		in = ck_pages_in_new(lvl->fd, total);
	while (r == 0 && (buf = ck_pages_in_next(in, &want))) {
		size_t pos = 0;

		while (pos < want) {
			const struct ck_page_range *pr;
			uint64_t a;
			size_t n, left;

			while (mm->pages[ri].in_parent)
				ri++;
			pr = &mm->pages[ri];
			n = pr->npages * 4096 - roff;
			if (n > want - pos)
				n = want - pos;
			for (a = pr->addr + roff, left = n; left;) {
				size_t m = left;
				const struct ck_pagesrc *h =
					lvl == top ? top : holder(top, a, left, &m);

				if (h == lvl)
					fill_queue(b, buf + pos + (n - left), a, m);
				a += m;
				left -= m;
			}
			pos += n;
			roff += n;
			if (roff == pr->npages * 4096) {
				ri++;
				roff = 0;
			}
		}
		/* The copiers copy the chunk while it is hashed here; a read buffer must be copied
		 * before the next call reuses it, a mapped chunk stays. */
		ck_fill_start(b->fill);
		ck_sum_update(sum, buf, want);
		if (ck_pages_in_held(in))
			r = fill_wait(b, err);
	}
	if (fill_wait(b, r == 0 ? err : NULL) < 0) /* mapped chunks are unmapped below */
		r = -EIO;
	if (r == 0 && want) /* a failed read */
		r = werr_sys(err, errno, "read %s", lvl->name);
	ck_pages_in_free(in);
	ck_sum_final(sum, hex);
	if (r == 0 && lvl->sum && strcmp(hex, lvl->sum) != 0)
		r = werr_set(err, EINVAL,
			     "image: %s: " CK_SUM_NAME " %s does not match the inventory's %s",
			     lvl->name, hex, lvl->sum);
	return r < 0 ? -EIO : 0;
}

/* Every in_parent page of the top image must be in some parent's pages file. */
static int check_chain(const struct ck_pagesrc *top, struct werr **err)
{
	for (size_t i = 0; i < top->mm->npages; i++) {
		uint64_t a = top->mm->pages[i].addr, end = a + top->mm->pages[i].npages * 4096;

		while (top->mm->pages[i].in_parent && a < end) {
			size_t m;

			if (!holder(top, a, end - a, &m))
				return werr_set(
					err, EINVAL,
					"image: page 0x%llx is in no pages file of the chain",
					(unsigned long long)a);
			a += m;
		}
	}
	return 0;
}

static int fill_pages(struct rb *b, const struct ck_pagesrc *src, struct werr **err)
{
	bool parents = false;

	for (size_t i = 0; i < src->mm->npages && !parents; i++)
		parents = src->mm->pages[i].in_parent;
	if (check_chain(src, err) < 0)
		return -EIO;
	for (const struct ck_pagesrc *l = src; l && (l == src || parents); l = l->parent)
		if (fill_from(b, src, l, err) < 0)
			return -EIO;
	return 0;
}

/* A userfaultfd of the helper's mm (made there, copied here with pidfd_getfd), for
 * UFFDIO_COPY; -1 where the kernel has none or refuses it (user-mode-only needs no privilege):
 * then the copy is by process_vm_writev into memory MAP_POPULATE allocated. */
static int fill_uffd(struct rb *b)
{
	struct uffdio_api api = {.api = UFFD_API};
	_cleanup_close_ int pidfd = -1;
	long t = sys(b, SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK | UFFD_USER_MODE_ONLY, 0, 0, 0, 0,
		     0, NULL);
	int fd = -1;

	if (t < 0)
		return -1;
	pidfd = (int)syscall(SYS_pidfd_open, b->pid, 0);
	if (pidfd >= 0)
		fd = (int)syscall(SYS_pidfd_getfd, pidfd, (int)t, 0);
	sys(b, SYS_close, (uint64_t)t, 0, 0, 0, 0, 0, NULL);
	if (fd >= 0 && ioctl(fd, UFFDIO_API, &api) < 0) {
		close(fd);
		fd = -1;
	}
	return fd;
}

/* Register the VMAs UFFDIO_COPY fills (mapped, not populated); one the kernel refuses is
 * written by process_vm_writev instead, faulting its pages in. */
static void fill_begin(struct rb *b)
{
	const struct ck_mm *mm = &b->p->mm;

	if (b->uffd >= 0)
		b->reg = xcalloc(mm->nvmas ? mm->nvmas : 1, sizeof(bool));
	for (size_t i = 0; b->uffd >= 0 && i < mm->nvmas; i++) {
		const struct ck_vma *v = &mm->vmas[i];
		struct uffdio_register reg = {.range = {v->start, v->end - v->start},
					      .mode = UFFDIO_REGISTER_MODE_MISSING};

		b->reg[i] = uffd_fills(b, v) && ioctl(b->uffd, UFFDIO_REGISTER, &reg) == 0;
	}
	b->fill = ck_fill_new(b->pid, b->uffd, b->memfd);
}

/* The VMAs back to plain memory (their flags as mapped), the copiers and the uffd gone. */
static void fill_end(struct rb *b)
{
	const struct ck_mm *mm = &b->p->mm;

	for (size_t i = 0; b->reg && i < mm->nvmas; i++) {
		struct uffdio_range range = {mm->vmas[i].start,
					     mm->vmas[i].end - mm->vmas[i].start};

		if (b->reg[i])
			ioctl(b->uffd, UFFDIO_UNREGISTER, &range);
	}
	ck_fill_free(b->fill);
	b->fill = NULL;
	free(b->reg);
	b->reg = NULL;
	if (b->uffd >= 0)
		close(b->uffd);
	b->uffd = -1;
}

static int rebuild_mm(struct rb *b, const struct ck_pagesrc *pages, struct werr **err)
{
	const struct ck_mm *mm = &b->p->mm;
	struct prctl_mm_map map = {
		.start_code = mm->start_code,
		.end_code = mm->end_code,
		.start_data = mm->start_data,
		.end_data = mm->end_data,
		.start_brk = mm->start_brk,
		.brk = mm->brk,
		.start_stack = mm->start_stack,
		.arg_start = mm->arg_start,
		.arg_end = mm->arg_end,
		.env_start = mm->env_start,
		.env_end = mm->env_end,
		.auxv_size = (uint32_t)(mm->auxv_len * 8),
		.exe_fd = (uint32_t)-1,
	};
	long exe = -1, r;

	b->uffd = fill_uffd(b);
	for (size_t i = 0; i < mm->nvmas; i++) {
		const struct ck_vma *v = &mm->vmas[i];

		if (v->kind == CK_VMA_VDSO || v->kind == CK_VMA_VVAR || v->kind == CK_VMA_VSYSCALL)
			continue;
		if ((v->kind == CK_VMA_SHMEM ? map_shmem_view(b, v, err) : map_vma(b, v, err)) < 0)
			return -EIO;
	}
	for (size_t k = 0; k < b->nshm; k++)
		if (b->parked[k] && sys_ok(b, "munmap parked shared memory", SYS_munmap,
					   b->parked[k], b->shm[k].size, 0, 0, 0, 0, err) < 0)
			return -EIO;
	fill_begin(b);
	r = fill_pages(b, pages, err);
	fill_end(b);
	if (r < 0)
		return -EIO;
	for (size_t i = 0; i < mm->nvmas; i++) {
		const struct ck_vma *v = &mm->vmas[i];

		if (v->kind == CK_VMA_VDSO || v->kind == CK_VMA_VVAR ||
		    v->kind == CK_VMA_VSYSCALL || !has_pages(mm, v) ||
		    (v->prot & (PROT_READ | PROT_WRITE)) == (PROT_READ | PROT_WRITE))
			continue;
		if (sys_ok(b, "mprotect", SYS_mprotect, v->start, v->end - v->start,
			   (uint64_t)v->prot, 0, 0, 0, err) < 0)
			return -EIO;
	}
	if (mm->exe) {
		exe = remote_open(b, mm->exe, O_RDONLY | O_CLOEXEC, err);
		if (exe < 0)
			return werr_wrap(err, "open the executable");
		map.exe_fd = (uint32_t)exe;
	}
	map.auxv = (__u64 *)(uintptr_t)(b->data + 256);
	if (put(b, b->data, &map, sizeof(map), err) < 0 ||
	    put(b, b->data + 256, mm->auxv, mm->auxv_len * 8, err) < 0)
		return -EIO;
	r = sys_ok(b, "prctl(PR_SET_MM_MAP)", SYS_prctl, PR_SET_MM, PR_SET_MM_MAP, b->data,
		   sizeof(map), 0, 0, err);
	if (exe >= 0)
		sys(b, SYS_close, (uint64_t)exe, 0, 0, 0, 0, 0, NULL);
	return r < 0 ? -EIO : 0;
}

static int restore_signals(struct rb *b, struct werr **err)
{
	for (int sig = 1; sig <= CK_NSIG; sig++) {
		char what[32];

		if (sig == SIGKILL || sig == SIGSTOP)
			continue;
		snprintf(what, sizeof(what), "rt_sigaction(%d)", sig);
		if (put(b, b->data, &b->p->sigactions[sig - 1], sizeof(struct ck_sigaction), err) <
			    0 ||
		    sys_ok(b, what, SYS_rt_sigaction, (uint64_t)sig, b->data, 0, 8, 0, 0, err) < 0)
			return -EIO;
	}
	return 0;
}

/* What each thread holds for itself (run in that thread). */
static int restore_thread_state(struct rb *b, const struct ck_thread *t, struct werr **err)
{
	stack_t ss = {.ss_sp = (void *)(uintptr_t)t->altstack_sp,
		      .ss_flags = t->altstack_flags & ~SS_ONSTACK,
		      .ss_size = t->altstack_size};

	if (put(b, b->data, &ss, sizeof(ss), err) < 0 ||
	    sys_ok(b, "sigaltstack", SYS_sigaltstack, b->data, 0, 0, 0, 0, 0, err) < 0)
		return -EIO;
	if (sys_ok(b, "set_robust_list", SYS_set_robust_list, t->robust_head,
		   t->robust_head ? t->robust_len : 24, 0, 0, 0, 0, err) < 0)
		return -EIO;
	if (sys_ok(b, "set_tid_address", SYS_set_tid_address, t->clear_tid, 0, 0, 0, 0, 0, err) < 0)
		return -EIO;
	if (t->rseq_ptr &&
	    sys_ok(b, "rseq", SYS_rseq, t->rseq_ptr, t->rseq_len, 0, t->rseq_sig, 0, 0, err) < 0)
		return -EIO;
	return 0;
}

static int last_cap(void)
{
	_cleanup_free_ char *s = NULL;

	if (read_file("/proc/sys/kernel/cap_last_cap", &s, NULL, NULL) < 0)
		return 40;
	return atoi(s);
}

/* Credentials last but one (seccomp filters are installed just before them: see
 * ck_seccomp_restore): bounding set, groups, gids, uids (keeping
 * capabilities across the uid change), then the capability sets and no_new_privs. */
static int restore_creds(struct rb *b, struct werr **err)
{
	const struct ck_proc *p = b->p;
	size_t len = p->ngroups * sizeof(uint32_t);
	struct {
		uint32_t version;
		int pid;
		struct {
			uint32_t eff, prm, inh;
		} d[2];
	} caps = {.version = 0x20080522 /* _LINUX_CAPABILITY_VERSION_3 */,
		  .d = {{(uint32_t)p->cap_eff, (uint32_t)p->cap_prm, (uint32_t)p->cap_inh},
			{(uint32_t)(p->cap_eff >> 32), (uint32_t)(p->cap_prm >> 32),
			 (uint32_t)(p->cap_inh >> 32)}}};
	int last = last_cap();

	if (len > TRAMP_SIZE - 128)
		return werr_set(err, E2BIG, "too many supplementary groups");
	for (int cap = 0; cap <= last; cap++)
		if (!(p->cap_bnd & (1ULL << cap)) &&
		    sys_ok(b, "drop from the bounding set", SYS_prctl, PR_CAPBSET_DROP,
			   (uint64_t)cap, 0, 0, 0, 0, err) < 0)
			return -EIO;
	if (put(b, b->data, p->groups, len, err) < 0 ||
	    sys_ok(b, "setgroups", SYS_setgroups, p->ngroups, b->data, 0, 0, 0, 0, err) < 0 ||
	    sys_ok(b, "setresgid", SYS_setresgid, p->gid[0], p->gid[1], p->gid[2], 0, 0, 0, err) <
		    0 ||
	    sys_ok(b, "keepcaps", SYS_prctl, PR_SET_KEEPCAPS, 1, 0, 0, 0, 0, err) < 0 ||
	    sys_ok(b, "setresuid", SYS_setresuid, p->uid[0], p->uid[1], p->uid[2], 0, 0, 0, err) <
		    0 ||
	    sys_ok(b, "keepcaps", SYS_prctl, PR_SET_KEEPCAPS, 0, 0, 0, 0, 0, err) < 0)
		return -EIO;
	if (put(b, b->data, &caps, sizeof(caps), err) < 0 ||
	    sys_ok(b, "capset", SYS_capset, b->data, b->data + 8, 0, 0, 0, 0, err) < 0 ||
	    sys_ok(b, "clear ambient capabilities", SYS_prctl, PR_CAP_AMBIENT,
		   PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0, 0, err) < 0)
		return -EIO;
	for (int cap = 0; cap <= last; cap++)
		if ((p->cap_amb & (1ULL << cap)) &&
		    sys_ok(b, "raise an ambient capability", SYS_prctl, PR_CAP_AMBIENT,
			   PR_CAP_AMBIENT_RAISE, (uint64_t)cap, 0, 0, 0, err) < 0)
			return -EIO;
	if (p->no_new_privs &&
	    sys_ok(b, "no_new_privs", SYS_prctl, PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0, 0, err) < 0)
		return -EIO;
	return 0;
}

/* Credentials belong to each thread, and the threads were cloned from the helper before: each
 * gets the process's (the image holds the leader's). */
static int restore_all_creds(struct rb *b, const pid_t *host_tids, struct werr **err)
{
	pid_t leader = b->pid;
	int r = 0;

	for (size_t i = 0; i < b->p->nthreads; i++) {
		b->pid = host_tids[i];
		r = restore_creds(b, err);
		if (r < 0) {
			werr_wrap(err, "thread %d", b->p->threads[i].tid);
			break;
		}
	}
	b->pid = leader;
	return r;
}

/* The helper holds ward's rseq registration (inherited over fork): drop it before its memory
 * goes, or the kernel would write into whatever is mapped there next. */
static int unregister_rseq(struct rb *b, struct werr **err)
{
	struct {
		uint64_t ptr;
		uint32_t size, sig, flags, pad;
	} rc = {0};

	if (ptrace(PTRACE_GET_RSEQ_CONFIGURATION, b->pid, sizeof(rc), &rc) < 0 || !rc.ptr)
		return 0;
	if (sys_ok(b, "rseq unregister", SYS_rseq, rc.ptr, rc.size, RSEQ_FLAG_UNREGISTER, rc.sig, 0,
		   0, err) < 0)
		return -EIO;
	return 0;
}

static int set_task_regs(pid_t tid, const struct ck_thread *t, struct werr **err)
{
	if (ck_set_xstate(tid, t->xstate, t->xstate_len, err) < 0 ||
	    ck_set_regs(tid, &t->regs, err) < 0)
		return -EIO;
	if (ptrace(PTRACE_SETSIGMASK, tid, sizeof(t->sigmask), &t->sigmask) < 0)
		return werr_sys(err, errno, "ptrace setsigmask %d", tid);
	return 0;
}

/* A further thread: clone3(CLONE_THREAD, set_tid) run by the leader. The new thread is
 * auto-attached (PTRACE_O_TRACECLONE) and starts in a stop, before it runs any instruction;
 * then its own state and registers are set. */
static int create_thread(struct rb *b, const struct ck_thread *t, pid_t *out_tid, struct werr **err)
{
	struct clone_args_v2 {
		uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls,
			set_tid, set_tid_size, cgroup;
	} ca = {
		.flags = CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD |
			 CLONE_SYSVSEM,
		.set_tid = b->data + 512,
		.set_tid_size = 1,
	};
	pid_t tid = t->tid, leader = b->pid, host_tid;
	long r;
	int rc;

	if (put(b, b->data + 512, &tid, sizeof(tid), err) < 0 ||
	    put(b, b->data + 256, &ca, sizeof(ca), err) < 0)
		return -EIO;
	r = sys_ok(b, "clone3 thread", SYS_clone3, b->data + 256, sizeof(ca), 0, 0, 0, 0, err);
	if (r < 0)
		return werr_wrap(err, "thread %d", t->tid);
	if (r != tid)
		return werr_set(err, EEXIST, "thread %d came up as %ld", t->tid, r);
	host_tid = ck_last_clone();
	if (host_tid <= 0)
		return werr_set(err, ESRCH, "thread %d: no clone event", t->tid);
	*out_tid = host_tid;
	if (ck_wait_stop(host_tid, err) < 0)
		return -EIO;
	b->pid = host_tid;
	rc = restore_thread_state(b, t, err);
	b->pid = leader;
	if (rc < 0)
		return werr_wrap(err, "thread %d", t->tid);
	return 0;
}

int ck_rebuild_proc(pid_t host_pid, const struct ck_proc *p, const struct ck_pagesrc *pages,
		    const struct ck_shmem *shm, size_t nshm, int ready_fd, pid_t *host_tids,
		    struct werr **err)
{
	_cleanup_free_ uint64_t *parked = xcalloc(nshm + 1, sizeof(uint64_t));
	struct rb b = {.pid = host_pid,
		       .p = p,
		       .insn = (uint64_t)(uintptr_t)ck_syscall_insn,
		       .shm = shm,
		       .nshm = nshm,
		       .parked = parked,
		       .uffd = -1};
	_cleanup_close_ int memfd = ck_mem_open(host_pid, err);
	uint64_t tsize = TRAMP_SIZE + ((special_bytes(&p->mm) + 4095) & ~4095ULL) + shmem_bytes(&b);
	char comm[16];
	bool failed;

	if (memfd < 0)
		return -EIO;
	b.memfd = memfd;
	failed = unregister_rseq(&b, err) < 0 || map_trampoline(&b, tsize, err) < 0 ||
		 clear_helper(&b, err) < 0 || rebuild_mm(&b, pages, err) < 0;
	fill_end(&b); /* if rebuild_mm left early */
	if (failed)
		return werr_wrap(err, "process %d", p->pid);
	sys(&b, SYS_close, (uint64_t)ready_fd, 0, 0, 0, 0, 0, NULL);
	memset(comm, 0, sizeof(comm));
	snprintf(comm, sizeof(comm), "%s", p->comm);
	if (restore_signals(&b, err) < 0 || restore_thread_state(&b, &p->threads[0], err) < 0 ||
	    put(&b, b.data, comm, sizeof(comm), err) < 0 ||
	    sys_ok(&b, "prctl(PR_SET_NAME)", SYS_prctl, PR_SET_NAME, b.data, 0, 0, 0, 0, err) < 0)
		return werr_wrap(err, "process %d", p->pid);
	host_tids[0] = host_pid;
	for (size_t i = 1; i < p->nthreads; i++)
		if (create_thread(&b, &p->threads[i], &host_tids[i], err) < 0)
			return werr_wrap(err, "process %d", p->pid);
	/* Seccomp before credentials (ck_seccomp_restore says why). */
	if (ck_seccomp_restore(p, host_tids, b.insn, b.memfd, err) < 0 ||
	    restore_all_creds(&b, host_tids, err) < 0 ||
	    ck_task_restore(p, host_tids, b.insn, b.memfd, b.data, err) < 0 ||
	    ck_timers_restore(p, host_tids, b.insn, b.memfd, b.data, err) < 0 ||
	    ck_locks_restore(p, host_pid, b.insn, b.memfd, b.data, err) < 0)
		return werr_wrap(err, "process %d", p->pid);
	/* The trampoline's last call unmaps the trampoline itself: the single step reports at
	 * the system call's exit, before the task could fetch from the page. */
	if (sys_ok(&b, "munmap trampoline", SYS_munmap, b.tramp, TRAMP_SIZE, 0, 0, 0, 0, err) < 0)
		return werr_wrap(err, "process %d", p->pid);
	for (size_t i = 0; i < p->nthreads; i++)
		if (set_task_regs(host_tids[i], &p->threads[i], err) < 0)
			return werr_wrap(err, "process %d", p->pid);
	return 0;
}
