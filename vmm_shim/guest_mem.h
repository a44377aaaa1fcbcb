/* Guest physical memory: at most two RAM regions (below the 32-bit MMIO hole, above 4 GiB),
 * and the single bounds-checked accessor every loader and device goes through. */
#ifndef WARD_VMM_GUEST_MEM_H
#define WARD_VMM_GUEST_MEM_H

#include <stddef.h>
#include <stdint.h>

#include "lib/err.h"

/* RAM above this is moved above 4 GiB, leaving [GM_HOLE_START, 4 GiB) for MMIO (LAPIC, IOAPIC,
 * later virtio-mmio). */
#define GM_HOLE_START 0xc0000000ull
#define GM_4G 0x100000000ull

struct gm_region {
	uint64_t gpa;
	uint64_t size;
	uint8_t *host;
};

struct guest_mem {
	struct gm_region r[2];
	unsigned n;
	void *map; /* the one host mapping behind both regions */
	size_t map_size;
	/* pre-copy: one bit per page of RAM (by RAM offset, the regions back to back) that the VMM
	 * itself wrote; KVM's dirty log sees only the vCPUs' writes. NULL: not kept. */
	uint64_t *dirty;
	size_t dirty_words;
};

/* The host address of guest range [gpa, gpa + len), or NULL unless it lies entirely inside one
 * RAM region (len 0 included: NULL). Overflow-safe for any gpa and len. */
void *gm_ptr(const struct guest_mem *gm, uint64_t gpa, size_t len);

/* Split mem_bytes of RAM into regions around the MMIO hole (host pointers left NULL). */
void gm_layout(struct guest_mem *gm, uint64_t mem_bytes);
/* The end of RAM below the hole (= the size of region 0). */
uint64_t gm_low_end(const struct guest_mem *gm);

/* gm_layout plus an anonymous host mapping for the regions. */
int gm_alloc(struct guest_mem *gm, uint64_t mem_bytes, struct werr **err);
void gm_free(struct guest_mem *gm);

/* Mark the pages of host range [host, host + len) of guest RAM as written by the VMM; called
 * after the write (a concurrent gm_dirty_take then keeps the bit for the next round). Anything
 * outside the mapping is ignored. */
void gm_mark_dirty(const struct guest_mem *gm, const void *host, size_t len);
/* OR the VMM's dirty set into out (dirty_words words) and clear it, word by word atomically. */
void gm_dirty_take(const struct guest_mem *gm, uint64_t *out);
/* OR a bitmap of npages pages (KVM_GET_DIRTY_LOG's, 64-bit words) into out from page first. */
void gm_bitmap_or(uint64_t *out, uint64_t first, const uint64_t *bits, uint64_t npages);

/* Copy into / zero guest memory, failing with a message naming what and where. */
int gm_write(const struct guest_mem *gm, uint64_t gpa, const void *src, size_t len,
	     const char *what, struct werr **err);

#endif
