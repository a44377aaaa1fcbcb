#include "vmm_shim/boot.h"

#include <elf.h>
#include <errno.h>
#include <string.h>

#define SZ_2M 0x200000ull
#define PTE_P 0x1ull
#define PTE_RW 0x2ull
#define PTE_PS 0x80ull

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)rd16(p) | (uint32_t)rd16(p + 2) << 16;
}

static uint64_t rd64(const uint8_t *p)
{
	return (uint64_t)rd32(p) | (uint64_t)rd32(p + 4) << 32;
}

int bzimage_parse(const uint8_t *img, size_t len, struct bz_info *bi, struct werr **err)
{
	size_t setup_sects, hdr_end;

	memset(bi, 0, sizeof(*bi));
	if (len < 0x270)
		return werr_set(err, ENOEXEC, "too short for a bzImage (%zu bytes)", len);
	if (rd32(img + 0x202) != BP_HDR_MAGIC)
		return werr_set(err, ENOEXEC, "not a bzImage (no \"HdrS\" boot header)");
	if (rd16(img + 0x1fe) != BP_BOOT_FLAG)
		return werr_set(err, ENOEXEC, "not a bzImage (boot flag 0x%04x)",
				rd16(img + 0x1fe));
	bi->version = rd16(img + 0x206);
	if (bi->version < BP_MIN_VERSION)
		return werr_set(err, ENOEXEC,
				"boot protocol %u.%02u is too old (the 64-bit entry needs 2.12)",
				bi->version >> 8, bi->version & 0xff);
	bi->loadflags = img[0x211];
	bi->xloadflags = rd16(img + 0x236);
	if (!(bi->xloadflags & BP_XLF_KERNEL_64))
		return werr_set(err, ENOEXEC,
				"not a 64-bit kernel (xloadflags 0x%x lacks XLF_KERNEL_64)",
				bi->xloadflags);
	if (!(bi->loadflags & BP_LOADED_HIGH))
		return werr_set(err, ENOEXEC, "a zImage (not loaded high) cannot be booted");
	setup_sects = img[0x1f1] ? img[0x1f1] : 4;
	bi->kernel_off = (setup_sects + 1) * 512;
	if (bi->kernel_off >= len)
		return werr_set(err, ENOEXEC, "bzImage truncated: %zu setup sectors, %zu bytes",
				setup_sects, len);
	bi->kernel_len = len - bi->kernel_off;
	bi->relocatable = img[0x234];
	bi->kernel_alignment = rd32(img + 0x230);
	bi->initrd_addr_max = rd32(img + 0x22c);
	bi->cmdline_size = rd32(img + 0x238);
	bi->pref_address = rd64(img + 0x258);
	bi->init_size = rd32(img + 0x260);
	hdr_end = 0x202 + img[0x201];
	if (hdr_end > 0x290)
		hdr_end = 0x290;
	bi->hdr_len = hdr_end - 0x1f1;
	return 0;
}

int is_elf(const uint8_t *img, size_t len)
{
	return len >= SELFMAG && memcmp(img, ELFMAG, SELFMAG) == 0;
}

int elf_load(const struct guest_mem *gm, const uint8_t *img, size_t len, uint64_t *entry,
	     uint64_t *end, struct werr **err)
{
	Elf64_Ehdr eh;
	int have_entry = 0, loaded = 0;

	if (len < sizeof(eh))
		return werr_set(err, ENOEXEC, "ELF file too short");
	memcpy(&eh, img, sizeof(eh));
	if (eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_ident[EI_DATA] != ELFDATA2LSB ||
	    eh.e_machine != EM_X86_64)
		return werr_set(err, ENOEXEC, "not an x86-64 ELF kernel");
	if (eh.e_type != ET_EXEC)
		return werr_set(err, ENOEXEC, "ELF kernel is not an executable (type %u)",
				eh.e_type);
	if (eh.e_phentsize != sizeof(Elf64_Phdr) || eh.e_phoff > len ||
	    (uint64_t)eh.e_phnum * sizeof(Elf64_Phdr) > len - eh.e_phoff)
		return werr_set(err, ENOEXEC, "ELF program headers out of the file");
	*end = 0;
	for (unsigned i = 0; i < eh.e_phnum; i++) {
		Elf64_Phdr ph;
		uint8_t *dst;

		memcpy(&ph, img + eh.e_phoff + i * sizeof(ph), sizeof(ph));
		if (ph.p_type != PT_LOAD || ph.p_memsz == 0)
			continue;
		if (ph.p_filesz > ph.p_memsz || ph.p_offset > len ||
		    ph.p_filesz > len - ph.p_offset)
			return werr_set(err, ENOEXEC, "ELF segment %u out of the file", i);
		dst = gm_ptr(gm, ph.p_paddr, ph.p_memsz);
		if (!dst)
			return werr_set(err, ENOMEM,
					"ELF segment %u [0x%llx, +0x%llx) is outside guest RAM", i,
					(unsigned long long)ph.p_paddr,
					(unsigned long long)ph.p_memsz);
		memcpy(dst, img + ph.p_offset, ph.p_filesz);
		memset(dst + ph.p_filesz, 0, ph.p_memsz - ph.p_filesz);
		loaded++;
		if (ph.p_paddr + ph.p_memsz > *end)
			*end = ph.p_paddr + ph.p_memsz;
		/* e_entry is physical in Linux's vmlinux; accept a virtual one too */
		if (!have_entry && eh.e_entry >= ph.p_paddr &&
		    eh.e_entry - ph.p_paddr < ph.p_memsz) {
			*entry = eh.e_entry;
			have_entry = 1;
		} else if (!have_entry && eh.e_entry >= ph.p_vaddr &&
			   eh.e_entry - ph.p_vaddr < ph.p_memsz) {
			*entry = eh.e_entry - ph.p_vaddr + ph.p_paddr;
			have_entry = 1;
		}
	}
	if (!loaded)
		return werr_set(err, ENOEXEC, "ELF kernel has no loadable segment");
	if (!have_entry)
		return werr_set(err, ENOEXEC, "ELF entry 0x%llx is in no loaded segment",
				(unsigned long long)eh.e_entry);
	return 0;
}

static size_t e820_add(struct e820_entry *tab, size_t n, size_t max, uint64_t addr, uint64_t size,
		       uint32_t type)
{
	if (n < max && size > 0) {
		tab[n].addr = addr;
		tab[n].size = size;
		tab[n].type = type;
		n++;
	}
	return n;
}

size_t e820_build(const struct guest_mem *gm, struct e820_entry *tab, size_t max)
{
	uint64_t low = gm_low_end(gm);
	size_t n = 0;

	n = e820_add(tab, n, max, 0, low < BOOT_EBDA_START ? low : BOOT_EBDA_START, E820_RAM);
	n = e820_add(tab, n, max, BOOT_EBDA_START, BOOT_HIGH_START - BOOT_EBDA_START,
		     E820_RESERVED);
	if (low > BOOT_HIGH_START)
		n = e820_add(tab, n, max, BOOT_HIGH_START, low - BOOT_HIGH_START, E820_RAM);
	if (gm->n == 2)
		n = e820_add(tab, n, max, gm->r[1].gpa, gm->r[1].size, E820_RAM);
	return n;
}

void pt_build(uint64_t *area, uint64_t pml4_gpa)
{
	uint64_t *pml4 = area, *pdpt = area + 512, *pd = area + 1024;
	unsigned n_pd = (unsigned)(BOOT_PT_MAPPED >> 30);

	memset(area, 0, BOOT_PT_PAGES * 4096);
	pml4[0] = (pml4_gpa + 0x1000) | PTE_P | PTE_RW;
	for (unsigned i = 0; i < n_pd; i++)
		pdpt[i] = (pml4_gpa + 0x2000 + i * 0x1000ull) | PTE_P | PTE_RW;
	for (unsigned i = 0; i < n_pd * 512; i++)
		pd[i] = (i * SZ_2M) | PTE_P | PTE_RW | PTE_PS;
}

uint64_t gdt_entry(uint16_t flags, uint32_t base, uint32_t limit)
{
	return ((uint64_t)(base & 0xff000000u) << 32) | ((uint64_t)(flags & 0xf0ff) << 40) |
	       ((uint64_t)(limit & 0xf0000) << 32) | ((uint64_t)(base & 0xffffff) << 16) |
	       (limit & 0xffff);
}

void gdt_build(uint64_t gdt[BOOT_GDT_ENTRIES])
{
	gdt[0] = 0;
	gdt[1] = 0;
	gdt[2] = gdt_entry(0xa09b, 0, 0xfffff); /* code: G, L, P, S, execute/read, accessed */
	gdt[3] = gdt_entry(0xc093, 0, 0xfffff); /* data: G, D/B, P, S, read/write, accessed */
	gdt[4] = gdt_entry(0x808b, 0, 0xfffff); /* busy 64-bit TSS (VMX wants a usable TR) */
}

/* Put the initrd as high as allowed, page aligned, above the kernel. */
static int place_initrd(const struct guest_mem *gm, uint64_t size, uint64_t addr_max,
			uint64_t kernel_end, uint64_t *addr, struct werr **err)
{
	uint64_t top = gm_low_end(gm);

	if (addr_max + 1 < top)
		top = addr_max + 1;
	if (size > top || ((top - size) & ~0xfffull) < kernel_end)
		return werr_set(
			err, ENOMEM,
			"initrd of %llu MiB does not fit between the kernel (ends at %llu MiB) "
			"and %llu MiB: give the guest more memory",
			(unsigned long long)(size >> 20), (unsigned long long)(kernel_end >> 20),
			(unsigned long long)(top >> 20));
	*addr = (top - size) & ~0xfffull;
	return 0;
}

static int load_bzimage(const struct guest_mem *gm, const uint8_t *img, size_t len,
			struct boot_params *bp, struct boot_info *bi, uint64_t *initrd_max,
			uint32_t *cmdline_max, struct werr **err)
{
	struct bz_info bz;
	uint64_t load, need;
	int r;

	r = bzimage_parse(img, len, &bz, err);
	if (r < 0)
		return r;
	need = bz.init_size > bz.kernel_len ? bz.init_size : bz.kernel_len;
	load = bz.pref_address;
	if (load < BOOT_HIGH_START || !gm_ptr(gm, load, need)) {
		if (!bz.relocatable && load >= BOOT_HIGH_START)
			return werr_set(err, ENOMEM,
					"kernel needs %llu MiB at %llu MiB (not relocatable): give "
					"the guest more memory",
					(unsigned long long)(need >> 20),
					(unsigned long long)(load >> 20));
		load = BOOT_HIGH_START;
	}
	if (!gm_ptr(gm, load, need))
		return werr_set(err, ENOMEM, "kernel needs %llu MiB of RAM above 1 MiB",
				(unsigned long long)(need >> 20));
	memcpy(gm_ptr(gm, load, bz.kernel_len), img + bz.kernel_off, bz.kernel_len);
	memcpy(&bp->hdr, img + 0x1f1, bz.hdr_len);
	bp->hdr.code32_start = (uint32_t)load;
	bi->kernel_start = load;
	bi->kernel_end = load + need;
	bi->entry = load + 0x200; /* startup_64 */
	*initrd_max = bz.initrd_addr_max;
	*cmdline_max = bz.cmdline_size;
	return 0;
}

static int load_elf(const struct guest_mem *gm, const uint8_t *img, size_t len,
		    struct boot_params *bp, struct boot_info *bi, uint64_t *initrd_max,
		    uint32_t *cmdline_max, struct werr **err)
{
	uint64_t entry = 0, end = 0;
	int r = elf_load(gm, img, len, &entry, &end, err);

	if (r < 0)
		return r;
	/* No setup header in a vmlinux: supply what the kernel reads from one. */
	bp->hdr.boot_flag = BP_BOOT_FLAG;
	bp->hdr.header = BP_HDR_MAGIC;
	bp->hdr.version = BP_MIN_VERSION;
	bp->hdr.kernel_alignment = 0x1000000;
	bi->entry = entry;
	bi->kernel_start = entry;
	bi->kernel_end = end;
	*initrd_max = 0x7fffffff;
	*cmdline_max = BOOT_CMDLINE_MAX - 1;
	return 0;
}

int boot_load(const struct guest_mem *gm, const uint8_t *kernel, size_t klen, uint64_t initrd_size,
	      const char *cmdline, struct boot_info *bi, struct werr **err)
{
	struct boot_params *bp = gm_ptr(gm, BOOT_PARAMS_ADDR, sizeof(*bp));
	uint64_t *pt = gm_ptr(gm, BOOT_PML4_ADDR, BOOT_PT_PAGES * 4096);
	uint64_t *gdt = gm_ptr(gm, BOOT_GDT_ADDR, BOOT_GDT_ENTRIES * 8);
	uint64_t initrd_max = 0;
	uint32_t cmdline_max = 0;
	size_t cl_len = strlen(cmdline);
	int r;

	memset(bi, 0, sizeof(*bi));
	if (!bp || !pt || !gdt || !gm_ptr(gm, BOOT_CMDLINE_ADDR, BOOT_CMDLINE_MAX))
		return werr_set(err, ENOMEM, "guest RAM too small for the boot structures");
	memset(bp, 0, sizeof(*bp));
	if (is_elf(kernel, klen))
		r = load_elf(gm, kernel, klen, bp, bi, &initrd_max, &cmdline_max, err);
	else
		r = load_bzimage(gm, kernel, klen, bp, bi, &initrd_max, &cmdline_max, err);
	if (r < 0)
		return r;

	if (cmdline_max >= BOOT_CMDLINE_MAX)
		cmdline_max = BOOT_CMDLINE_MAX - 1;
	if (cl_len > cmdline_max)
		return werr_set(err, E2BIG, "kernel command line is %zu bytes, the kernel takes %u",
				cl_len, cmdline_max);
	memcpy(gm_ptr(gm, BOOT_CMDLINE_ADDR, cl_len + 1), cmdline, cl_len + 1);

	if (initrd_size > 0) {
		r = place_initrd(gm, initrd_size, initrd_max, bi->kernel_end, &bi->initrd_addr,
				 err);
		if (r < 0)
			return r;
		bp->hdr.ramdisk_image = (uint32_t)bi->initrd_addr;
		bp->hdr.ramdisk_size = (uint32_t)initrd_size;
	}
	bp->hdr.type_of_loader = 0xff;
	bp->hdr.vid_mode = 0xffff;
	bp->hdr.loadflags |= BP_LOADED_HIGH;
	bp->hdr.loadflags &= (uint8_t)~BP_CAN_USE_HEAP; /* no real-mode setup code runs */
	bp->hdr.cmd_line_ptr = BOOT_CMDLINE_ADDR;
	bp->hdr.cmdline_size = cmdline_max;
	bp->e820_entries = (uint8_t)e820_build(gm, bp->e820_table, E820_MAX_ENTRIES_ZEROPAGE);

	pt_build(pt, BOOT_PML4_ADDR);
	gdt_build(gdt);
	bi->boot_params = BOOT_PARAMS_ADDR;
	bi->cr3 = BOOT_PML4_ADDR;
	return 0;
}
