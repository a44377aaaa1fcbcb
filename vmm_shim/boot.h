/* Loading Linux into guest memory: bzImage (64-bit boot protocol) or ELF vmlinux, the zero page
 * with its e820 map and command line, an initrd placed high, a flat GDT and identity page tables.
 * Everything here works on buffers and guest_mem only (no KVM), so it is unit-testable. */
#ifndef WARD_VMM_BOOT_H
#define WARD_VMM_BOOT_H

#include <stddef.h>
#include <stdint.h>

#include "lib/err.h"
#include "vmm_shim/bootparam.h"
#include "vmm_shim/guest_mem.h"

/* Fixed guest-physical layout below 1 MiB. */
#define BOOT_GDT_ADDR 0x500
#define BOOT_GDT_ENTRIES 5
#define BOOT_PARAMS_ADDR 0x7000
#define BOOT_PML4_ADDR 0x9000 /* then the PDPT and four page directories: 0x9000..0xefff */
#define BOOT_PT_PAGES 6
#define BOOT_PT_MAPPED GM_4G /* identity-mapped with 2 MiB pages: everything we place */
#define BOOT_CMDLINE_ADDR 0x20000
#define BOOT_CMDLINE_MAX 0x10000
#define BOOT_EBDA_START 0x9fc00 /* the MP table lives here; reserved in e820 */
#define BOOT_HIGH_START 0x100000

/* GDT selectors (the 64-bit boot protocol's __BOOT_CS/__BOOT_DS) and the TSS. */
#define BOOT_SEL_CS 0x10
#define BOOT_SEL_DS 0x18
#define BOOT_SEL_TSS 0x20

struct bz_info {
	uint16_t version;
	uint8_t loadflags;
	uint16_t xloadflags;
	uint8_t relocatable;
	uint32_t kernel_alignment;
	uint32_t initrd_addr_max;
	uint32_t cmdline_size; /* longest command line without its NUL */
	uint64_t pref_address;
	uint32_t init_size;
	size_t hdr_len;	   /* bytes of setup header from 0x1f1 to copy into the zero page */
	size_t kernel_off; /* the protected-mode kernel: offset into the file and length */
	size_t kernel_len;
};

/* Validate a bzImage: "HdrS" magic, boot flag, protocol >= 2.12, XLF_KERNEL_64. */
int bzimage_parse(const uint8_t *img, size_t len, struct bz_info *bi, struct werr **err);

/* Is img an ELF file (by its magic)? */
int is_elf(const uint8_t *img, size_t len);
/* Load an x86-64 ELF vmlinux's PT_LOAD segments at their physical addresses; *entry is the
 * physical entry point, *end the end of the highest segment. */
int elf_load(const struct guest_mem *gm, const uint8_t *img, size_t len, uint64_t *entry,
	     uint64_t *end, struct werr **err);

/* The e820 map for gm: RAM [0, EBDA), reserved [EBDA, 1 MiB), RAM from 1 MiB to the hole,
 * RAM above 4 GiB. Returns the number of entries written (at most max). */
size_t e820_build(const struct guest_mem *gm, struct e820_entry *tab, size_t max);

/* Identity page tables for [0, BOOT_PT_MAPPED) with 2 MiB pages, into BOOT_PT_PAGES contiguous
 * pages at area, which the guest sees at pml4_gpa. */
void pt_build(uint64_t *area, uint64_t pml4_gpa);

/* Flat 64-bit GDT: null, null, code (0x10), data (0x18), TSS (0x20). */
void gdt_build(uint64_t gdt[BOOT_GDT_ENTRIES]);
uint64_t gdt_entry(uint16_t flags, uint32_t base, uint32_t limit);

struct boot_info {
	uint64_t entry;	      /* RIP */
	uint64_t boot_params; /* RSI */
	uint64_t cr3;
	uint64_t kernel_start, kernel_end;
	uint64_t initrd_addr; /* where the caller must put initrd_size bytes (0: none) */
};

/* Load kernel (bzImage or ELF) and write the zero page, command line, GDT and page tables.
 * initrd_size > 0 reserves room for an initrd high in RAM (copied in by the caller). */
int boot_load(const struct guest_mem *gm, const uint8_t *kernel, size_t klen, uint64_t initrd_size,
	      const char *cmdline, struct boot_info *bi, struct werr **err);

#endif
