#include "vmm_shim/guest_mem.h"

#include <errno.h>
#include <stdlib.h>
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
	gm->dirty_words = (mem_bytes / 4096 + 63) / 64;
	gm->dirty = calloc(gm->dirty_words, sizeof(uint64_t));
	if (!gm->dirty) {
		munmap(p, mem_bytes);
		gm->map = NULL;
		return werr_set(err, ENOMEM, "the dirty page set of guest memory");
	}
	gm->r[0].host = p;
	if (gm->n == 2)
		gm->r[1].host = (uint8_t *)p + gm->r[0].size;
	return 0;
}

void gm_free(struct guest_mem *gm)
{
	if (gm->map)
		munmap(gm->map, gm->map_size);
	free(gm->dirty);
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
	gm_mark_dirty(gm, dst, len);
	return 0;
}

void gm_mark_dirty(const struct guest_mem *gm, const void *host, size_t len)
{
	const uint8_t *base = gm ? gm->map : NULL;
	uint64_t off, first, last;

	if (!base || !gm->dirty || len == 0 || (const uint8_t *)host < base)
		return;
	off = (uint64_t)((const uint8_t *)host - base);
	if (off >= gm->map_size || len > gm->map_size - off)
		return;
	first = off / 4096;
	last = (off + len - 1) / 4096;
	for (uint64_t p = first; p <= last; p++)
		__atomic_fetch_or(&gm->dirty[p / 64], 1ull << (p % 64), __ATOMIC_RELEASE);
}

void gm_dirty_take(const struct guest_mem *gm, uint64_t *out)
{
	for (size_t i = 0; gm->dirty && i < gm->dirty_words; i++)
		out[i] |= __atomic_exchange_n(&gm->dirty[i], 0, __ATOMIC_ACQ_REL);
}

void gm_bitmap_or(uint64_t *out, uint64_t first, const uint64_t *bits, uint64_t npages)
{
	for (uint64_t w = 0; w < (npages + 63) / 64; w++) {
		uint64_t v = bits[w];

		if (w == npages / 64) /* the last, partial word */
			v &= (1ull << (npages % 64)) - 1;
		while (v) {
			uint64_t p = first + w * 64 + (uint64_t)__builtin_ctzll(v);

			out[p / 64] |= 1ull << (p % 64);
			v &= v - 1;
		}
	}
}
