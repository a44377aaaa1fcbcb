/* Shared anonymous memory objects: saved once, restored once (see shmem.h).
 *
 * Dump: the object behind a VMA is opened through /proc/<pid>/map_files/<start>-<end> (the
 * shmem file itself: needs CAP_SYS_ADMIN or CAP_CHECKPOINT_RESTORE in the initial user
 * namespace); SEEK_DATA/SEEK_HOLE give its allocated pages, read with pread. The maps inode is
 * its identity: the same number in every process and VMA that maps it.
 *
 * Restore: the restorer maps each object (MAP_SHARED|MAP_ANONYMOUS, the object's size) before
 * it forks the tree's root, so every helper inherits it; the root helper fills it; each helper
 * then places its views with mremap(old_size 0) of the inherited mapping (restore_mm.c), which
 * keeps the kernel's own object, named "/dev/zero (deleted)" in /proc/pid/maps as before. */
#include "checkpoint/shmem.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "checkpoint/internal.h"
#include "lib/util.h"

const struct ck_shmem *ck_shmem_find(const struct ck_shmem *objs, size_t n, uint64_t id)
{
	for (size_t i = 0; i < n; i++)
		if (objs[i].id == id)
			return &objs[i];
	return NULL;
}

static int copy_range(int in, int out, uint64_t off, uint64_t len, const char *name,
		      struct werr **err)
{
	enum { CHUNK = 1 << 20 };
	_cleanup_free_ char *buf = xmalloc(CHUNK);

	while (len) {
		size_t n = len < CHUNK ? (size_t)len : CHUNK;
		ssize_t got = pread(in, buf, n, (off_t)off);

		if (got <= 0)
			return werr_sys(err, got < 0 ? errno : EIO, "read shared memory at 0x%llx",
					(unsigned long long)off);
		if (write_all(out, buf, (size_t)got) < 0)
			return werr_sys(err, errno, "write %s", name);
		off += (uint64_t)got;
		len -= (uint64_t)got;
	}
	return 0;
}

/* The object behind v of p (stopped): its allocated pages into shmem-<id>.img. */
static int dump_object(int dirfd, const struct ck_proc *p, const struct ck_vma *v,
		       struct ck_shmem *obj, struct werr **err)
{
	_cleanup_free_ char *name = xasprintf("shmem-%llu.img", (unsigned long long)v->ino);
	_cleanup_close_ int in = -1, out = -1;
	char path[96];
	struct stat sb;
	off_t off = 0, data, hole;
	size_t cap = 0;

	snprintf(path, sizeof(path), "/proc/%d/map_files/%llx-%llx", p->host_pid,
		 (unsigned long long)v->start, (unsigned long long)v->end);
	in = open(path, O_RDONLY | O_CLOEXEC);
	if (in < 0)
		return werr_sys(err, errno,
				"process %d (%s): open the shared memory at 0x%llx (%s; needs "
				"CAP_SYS_ADMIN or CAP_CHECKPOINT_RESTORE)",
				p->pid, p->comm, (unsigned long long)v->start, path);
	if (fstat(in, &sb) < 0)
		return werr_sys(err, errno, "stat %s", path);
	if ((uint64_t)sb.st_ino != v->ino || sb.st_size <= 0 || sb.st_size & 4095)
		return werr_set(err, EINVAL,
				"process %d (%s): shared memory at 0x%llx: inode %llu of %lld "
				"bytes, maps said %llu",
				p->pid, p->comm, (unsigned long long)v->start,
				(unsigned long long)sb.st_ino, (long long)sb.st_size,
				(unsigned long long)v->ino);
	obj->id = v->ino;
	obj->size = (uint64_t)sb.st_size;
	out = openat(dirfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (out < 0)
		return werr_sys(err, errno, "create %s", name);
	while (off < sb.st_size && (data = lseek(in, off, SEEK_DATA)) >= 0) {
		hole = lseek(in, data, SEEK_HOLE);
		if (hole < 0)
			return werr_sys(err, errno, "seek %s", path);
		hole = (hole + 4095) & ~(off_t)4095;
		if (hole > sb.st_size)
			hole = sb.st_size;
		if (copy_range(in, out, (uint64_t)data, (uint64_t)(hole - data), name, err) < 0)
			return -EIO;
		if (obj->nranges == cap) {
			cap = cap ? cap * 2 : 16;
			obj->ranges = xrealloc(obj->ranges, cap * sizeof(*obj->ranges));
		}
		obj->ranges[obj->nranges++] =
			(struct ck_shmem_range){(uint64_t)data, (uint64_t)(hole - data) / 4096};
		off = hole;
	}
	if (off < sb.st_size && errno != ENXIO) /* ENXIO: no data after off */
		return werr_sys(err, errno, "seek %s", path);
	return 0;
}

static void objs_free(struct ck_shmem *objs, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(objs[i].ranges);
	free(objs);
}

int ck_shmem_dump(int dirfd, const struct ck_proc *procs, size_t n, struct ck_inventory *inv,
		  struct werr **err)
{
	struct ck_shmem *objs = NULL;
	size_t nobjs = 0;
	int r = 0;

	for (size_t i = 0; i < n && r == 0; i++)
		for (size_t j = 0; j < procs[i].mm.nvmas && r == 0; j++) {
			const struct ck_vma *v = &procs[i].mm.vmas[j];

			if (v->kind != CK_VMA_SHMEM || ck_shmem_find(objs, nobjs, v->ino))
				continue;
			objs = xrealloc(objs, (nobjs + 1) * sizeof(*objs));
			memset(&objs[nobjs], 0, sizeof(*objs));
			r = dump_object(dirfd, &procs[i], v, &objs[nobjs++], err);
			if (r == 0)
				ck_inventory_add(inv,
						 xasprintf("shmem-%llu.img", (unsigned long long)v->ino),
						 NULL);
		}
	if (r == 0 && nobjs) {
		_cleanup_free_ char *text = ck_shmem_to_json(objs, nobjs);

		r = ck_write_text(dirfd, "shmem.json", text, err);
		if (r == 0)
			ck_inventory_add(inv, xstrdup("shmem.json"), NULL);
	}
	objs_free(objs, nobjs);
	return r;
}

int ck_shmem_load(int dirfd, const struct ck_inventory *inv, const struct ck_proc *procs,
		  size_t nprocs, struct ck_shmem **objs, size_t *nobjs, struct werr **err)
{
	_cleanup_free_ char *text = NULL;

	*objs = NULL;
	*nobjs = 0;
	if (ck_inventory_has(inv, "shmem.json") &&
	    (read_file_at(dirfd, "shmem.json", &text, NULL, err) < 0 ||
	     ck_shmem_from_json(text, objs, nobjs, err) < 0))
		return werr_wrap(err, "image");
	for (size_t i = 0; i < *nobjs; i++) {
		_cleanup_free_ char *name =
			xasprintf("shmem-%llu.img", (unsigned long long)(*objs)[i].id);

		if (!ck_inventory_has(inv, name))
			return werr_set(err, ENOENT, "image: %s is not in the inventory", name);
	}
	for (size_t i = 0; i < nprocs; i++)
		for (size_t j = 0; j < procs[i].mm.nvmas; j++) {
			const struct ck_vma *v = &procs[i].mm.vmas[j];
			const struct ck_shmem *o = v->kind == CK_VMA_SHMEM
							   ? ck_shmem_find(*objs, *nobjs, v->ino)
							   : NULL;

			if (v->kind == CK_VMA_SHMEM &&
			    (!o || v->offset >= o->size || v->end - v->start > o->size - v->offset))
				return werr_set(err, EINVAL,
						"image: process %d maps shared memory %llu at "
						"offset 0x%llx: %s",
						procs[i].pid, (unsigned long long)v->ino,
						(unsigned long long)v->offset,
						o ? "past its end" : "not in shmem.json");
		}
	return 0;
}

int ck_shmem_create(struct ck_shmem *objs, size_t n, struct werr **err)
{
	for (size_t i = 0; i < n; i++) {
		void *m = mmap(NULL, objs[i].size, PROT_READ | PROT_WRITE,
			       MAP_SHARED | MAP_ANONYMOUS, -1, 0);

		if (m == MAP_FAILED)
			return werr_sys(err, errno, "create shared memory %llu (%llu bytes)",
					(unsigned long long)objs[i].id,
					(unsigned long long)objs[i].size);
		objs[i].addr = (uint64_t)(uintptr_t)m;
	}
	return 0;
}

int ck_shmem_fill(int dirfd, const struct ck_shmem *objs, size_t n, struct werr **err)
{
	for (size_t i = 0; i < n; i++) {
		_cleanup_free_ char *name =
			xasprintf("shmem-%llu.img", (unsigned long long)objs[i].id);
		_cleanup_close_ int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC);
		uint64_t total = 0;
		struct stat sb;

		for (size_t j = 0; j < objs[i].nranges; j++)
			total += objs[i].ranges[j].npages * 4096;
		if (fd < 0 || fstat(fd, &sb) < 0)
			return werr_sys(err, errno, "open %s", name);
		if ((uint64_t)sb.st_size != total)
			return werr_set(err, EINVAL, "image: %s is %lld bytes, shmem.json says %llu",
					name, (long long)sb.st_size, (unsigned long long)total);
		for (size_t j = 0; j < objs[i].nranges; j++) {
			const struct ck_shmem_range *r = &objs[i].ranges[j];
			char *dst = (char *)(uintptr_t)(objs[i].addr + r->offset);

			if (read_all(fd, dst, r->npages * 4096) != (ssize_t)(r->npages * 4096))
				return werr_sys(err, errno ? errno : EIO, "read %s", name);
		}
	}
	return 0;
}

void ck_shmem_free(struct ck_shmem *objs, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (objs[i].addr)
			munmap((void *)(uintptr_t)objs[i].addr, objs[i].size);
	objs_free(objs, n);
}
