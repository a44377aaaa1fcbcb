#include "vmm_shim/guest_mem.h"

#include <errno.h>
#include <string.h>
#include <sys/mman.h>

void *gm_ptr(const struct guest_mem *gm, uint64_t gpa, size_t len)
{
	if (!gm || len == 0)
		return NULL;
	for (unsigned i = 0; i < gm->n && i < 2; i++) {
		const struct gm_region *r = &gm->r[i];
		uint64_t off;

		if (!r->host || gpa < r->gpa)
			continue;
		off = gpa - r->gpa;
		/* off <= size first, so size - off cannot wrap */
		if (off >= r->size || (uint64_t)len > r->size - off)
			continue;
		return r->host + off;
	}
	return NULL;
}

void gm_layout(struct guest_mem *gm, uint64_t mem_bytes)
{
	memset(gm, 0, sizeof(*gm));
	gm->r[0].gpa = 0;
	gm->r[0].size = mem_bytes < GM_HOLE_START ? mem_bytes : GM_HOLE_START;
	gm->n = 1;
	if (mem_bytes > GM_HOLE_START) {
		gm->r[1].gpa = GM_4G;
		gm->r[1].size = mem_bytes - GM_HOLE_START;
		gm->n = 2;
	}
}

uint64_t gm_low_end(const struct guest_mem *gm)
{
	return gm->r[0].size;
}

int gm_alloc(struct guest_mem *gm, uint64_t mem_bytes, struct werr **err)
{
	void *p;

	gm_layout(gm, mem_bytes);
	p = mmap(NULL, mem_bytes, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED)
		return werr_sys(err, errno, "mmap %llu MiB of guest memory",
				(unsigned long long)(mem_bytes >> 20));
	/* THP makes guest page faults cheaper; a refusal changes nothing. */
	(void)madvise(p, mem_bytes, MADV_HUGEPAGE);
	gm->map = p;
	gm->map_size = mem_bytes;
	gm->r[0].host = p;
	if (gm->n == 2)
		gm->r[1].host = (uint8_t *)p + gm->r[0].size;
	return 0;
}

void gm_free(struct guest_mem *gm)
{
	if (gm->map)
		munmap(gm->map, gm->map_size);
	memset(gm, 0, sizeof(*gm));
}

int gm_write(const struct guest_mem *gm, uint64_t gpa, const void *src, size_t len,
	     const char *what, struct werr **err)
{
	void *dst = gm_ptr(gm, gpa, len);

	if (!dst)
		return werr_set(err, EINVAL,
				"%s (%zu bytes at guest address 0x%llx) does not fit in guest RAM",
				what, len, (unsigned long long)gpa);
	if (src)
		memcpy(dst, src, len);
	else
		memset(dst, 0, len);
	return 0;
}
