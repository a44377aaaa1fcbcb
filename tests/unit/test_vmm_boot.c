/* Booting Linux: bzImage header checks, the zero page's layout (offsets from
 * Documentation/arch/x86/boot.rst and zero-page.rst), e820 maps, page tables, GDT, MP table. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "vmm_shim/boot.h"
#include "vmm_shim/cpu.h"
#include "vmm_shim/mptable.h"

#define IMG_LEN 0x4000

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)v);
	put16(p + 2, (uint16_t)(v >> 16));
}

static void put64(uint8_t *p, uint64_t v)
{
	put32(p, (uint32_t)v);
	put32(p + 4, (uint32_t)(v >> 32));
}

/* A fake bzImage like Debian's: protocol 2.15, 64-bit, relocatable, 3 setup sectors. */
static uint8_t *fake_bzimage(void)
{
	uint8_t *img = calloc(1, IMG_LEN);

	img[0x1f1] = 3;
	put16(img + 0x1fe, 0xaa55);
	img[0x200] = 0xeb;
	img[0x201] = 0x6a; /* header ends at 0x26c */
	memcpy(img + 0x202, "HdrS", 4);
	put16(img + 0x206, 0x020f);
	img[0x211] = 0x01; /* LOADED_HIGH */
	put32(img + 0x22c, 0x7fffffff);
	put32(img + 0x230, 0x200000);
	img[0x234] = 1;
	put16(img + 0x236, 0x7f);
	put32(img + 0x238, 0x7ff);
	put64(img + 0x258, 0x1000000);
	put32(img + 0x260, 0x3000000);
	/* a recognisable protected-mode kernel */
	memcpy(img + 4 * 512, "KERNEL", 6);
	return img;
}

static void bzimage_header_fields_are_read(void **state)
{
	uint8_t *img = fake_bzimage();
	struct bz_info bi;

	assert_int_equal(bzimage_parse(img, IMG_LEN, &bi, NULL), 0);
	assert_int_equal(bi.version, 0x020f);
	assert_int_equal(bi.kernel_off, 4 * 512);
	assert_int_equal(bi.kernel_len, IMG_LEN - 4 * 512);
	assert_int_equal(bi.pref_address, 0x1000000);
	assert_int_equal(bi.init_size, 0x3000000);
	assert_int_equal(bi.kernel_alignment, 0x200000);
	assert_int_equal(bi.initrd_addr_max, 0x7fffffff);
	assert_int_equal(bi.cmdline_size, 0x7ff);
	assert_int_equal(bi.relocatable, 1);
	assert_int_equal(bi.hdr_len, 0x26c - 0x1f1);
	free(img);
}

static void zero_setup_sects_means_four(void **state)
{
	uint8_t *img = fake_bzimage();
	struct bz_info bi;

	img[0x1f1] = 0;
	assert_int_equal(bzimage_parse(img, IMG_LEN, &bi, NULL), 0);
	assert_int_equal(bi.kernel_off, 5 * 512);
	free(img);
}

static void expect_rejected(uint8_t *img, size_t len, const char *words)
{
	struct bz_info bi;
	struct werr *err = NULL;

	assert_true(bzimage_parse(img, len, &bi, &err) < 0);
	assert_non_null(err);
	assert_non_null(strstr(err->msg, words));
	werr_free(&err);
}

static void wrong_magic_is_rejected(void **state)
{
	uint8_t *img = fake_bzimage();

	memcpy(img + 0x202, "HdrZ", 4);
	expect_rejected(img, IMG_LEN, "HdrS");
	free(img);
}

static void old_protocol_is_rejected(void **state)
{
	uint8_t *img = fake_bzimage();

	put16(img + 0x206, 0x020b);
	expect_rejected(img, IMG_LEN, "2.11 is too old");
	free(img);
}

static void kernel_without_64bit_entry_is_rejected(void **state)
{
	uint8_t *img = fake_bzimage();

	put16(img + 0x236, 0x7e);
	expect_rejected(img, IMG_LEN, "XLF_KERNEL_64");
	free(img);
}

static void truncated_images_are_rejected(void **state)
{
	uint8_t *img = fake_bzimage();

	expect_rejected(img, 0x100, "too short");
	img[0x1f1] = 40; /* setup claims 41 sectors: past the end */
	expect_rejected(img, IMG_LEN, "truncated");
	free(img);
}

static void boot_params_offsets_match_the_boot_protocol(void **state)
{
	assert_int_equal(sizeof(struct boot_params), 4096);
	assert_int_equal(offsetof(struct boot_params, ext_ramdisk_image), 0x0c0);
	assert_int_equal(offsetof(struct boot_params, ext_cmd_line_ptr), 0x0c8);
	assert_int_equal(offsetof(struct boot_params, e820_entries), 0x1e8);
	assert_int_equal(offsetof(struct boot_params, hdr), 0x1f1);
	assert_int_equal(offsetof(struct boot_params, e820_table), 0x2d0);
	assert_int_equal(sizeof(struct e820_entry), 20);
#define HDR(f) (0x1f1 + offsetof(struct setup_header, f))
	assert_int_equal(HDR(setup_sects), 0x1f1);
	assert_int_equal(HDR(vid_mode), 0x1fa);
	assert_int_equal(HDR(boot_flag), 0x1fe);
	assert_int_equal(HDR(header), 0x202);
	assert_int_equal(HDR(version), 0x206);
	assert_int_equal(HDR(type_of_loader), 0x210);
	assert_int_equal(HDR(loadflags), 0x211);
	assert_int_equal(HDR(code32_start), 0x214);
	assert_int_equal(HDR(ramdisk_image), 0x218);
	assert_int_equal(HDR(ramdisk_size), 0x21c);
	assert_int_equal(HDR(cmd_line_ptr), 0x228);
	assert_int_equal(HDR(initrd_addr_max), 0x22c);
	assert_int_equal(HDR(kernel_alignment), 0x230);
	assert_int_equal(HDR(relocatable_kernel), 0x234);
	assert_int_equal(HDR(xloadflags), 0x236);
	assert_int_equal(HDR(cmdline_size), 0x238);
	assert_int_equal(HDR(pref_address), 0x258);
	assert_int_equal(HDR(init_size), 0x260);
	assert_int_equal(HDR(kernel_info_offset), 0x268);
#undef HDR
}

static void e820_for_256m_has_low_ram_reserved_ebda_and_high_ram(void **state)
{
	struct guest_mem gm;
	struct e820_entry t[8];

	gm_layout(&gm, 256ull << 20);
	assert_int_equal(e820_build(&gm, t, 8), 3);
	assert_int_equal(t[0].addr, 0);
	assert_int_equal(t[0].size, 0x9fc00);
	assert_int_equal(t[0].type, E820_RAM);
	assert_int_equal(t[1].addr, 0x9fc00);
	assert_int_equal(t[1].addr + t[1].size, 0x100000);
	assert_int_equal(t[1].type, E820_RESERVED);
	assert_int_equal(t[2].addr, 0x100000);
	assert_int_equal(t[2].addr + t[2].size, 256ull << 20);
	assert_int_equal(t[2].type, E820_RAM);
}

static void e820_for_exactly_3g_has_no_ram_above_4g(void **state)
{
	struct guest_mem gm;
	struct e820_entry t[8];

	gm_layout(&gm, 3072ull << 20);
	assert_int_equal(e820_build(&gm, t, 8), 3);
	assert_int_equal(t[2].addr + t[2].size, 0xc0000000);
}

static void e820_for_6g_leaves_the_mmio_hole_out(void **state)
{
	struct guest_mem gm;
	struct e820_entry t[8];
	uint64_t ram = 0;

	gm_layout(&gm, 6144ull << 20);
	assert_int_equal(e820_build(&gm, t, 8), 4);
	assert_int_equal(t[2].addr + t[2].size, 0xc0000000);
	assert_int_equal(t[3].addr, 0x100000000ull);
	assert_int_equal(t[3].size, (6144ull << 20) - 0xc0000000);
	assert_int_equal(t[3].type, E820_RAM);
	for (int i = 0; i < 4; i++) {
		if (t[i].type == E820_RAM)
			ram += t[i].size;
		/* nothing in [3 GiB, 4 GiB) */
		assert_false(t[i].addr < 0x100000000ull && t[i].addr + t[i].size > 0xc0000000);
	}
	assert_int_equal(ram, (6144ull << 20) - (0x100000 - 0x9fc00));
}

static void e820_respects_the_table_size(void **state)
{
	struct guest_mem gm;
	struct e820_entry t[2];

	gm_layout(&gm, 6144ull << 20);
	assert_int_equal(e820_build(&gm, t, 2), 2);
}

static void page_tables_identity_map_4g_with_2m_pages(void **state)
{
	uint64_t *pt = calloc(BOOT_PT_PAGES, 4096);
	uint64_t *pml4 = pt, *pdpt = pt + 512, *pd = pt + 1024;

	pt_build(pt, 0x9000);
	assert_int_equal(pml4[0], 0xa000 | 0x3);
	assert_int_equal(pml4[1], 0);
	for (int i = 0; i < 4; i++)
		assert_int_equal(pdpt[i], (0xb000 + i * 0x1000) | 0x3);
	assert_int_equal(pdpt[4], 0);
	assert_int_equal(pd[0], 0x83);
	assert_int_equal(pd[1], 0x200000 | 0x83);
	/* the entry that maps guest physical 3 GiB + 2 MiB, and the last one */
	assert_int_equal(pd[3 * 512 + 1], 0xc0200000ull | 0x83);
	assert_int_equal(pd[4 * 512 - 1], 0xffe00000ull | 0x83);
	free(pt);
}

static void gdt_code_segment_is_64bit_ring0(void **state)
{
	uint64_t gdt[BOOT_GDT_ENTRIES];
	struct kvm_segment s;

	gdt_build(gdt);
	assert_int_equal(gdt[0], 0);
	assert_int_equal(gdt[2], 0x00af9b000000ffffull);
	assert_int_equal(gdt[3], 0x00cf93000000ffffull);
	seg_from_gdt(&s, gdt[2], BOOT_SEL_CS);
	assert_int_equal(s.l, 1);
	assert_int_equal(s.db, 0);
	assert_int_equal(s.dpl, 0);
	assert_int_equal(s.type, 0xb);
	assert_int_equal(s.limit, 0xffffffff);
	assert_int_equal(s.present, 1);
	seg_from_gdt(&s, gdt[3], BOOT_SEL_DS);
	assert_int_equal(s.l, 0);
	assert_int_equal(s.db, 1);
	assert_int_equal(s.type, 0x3);
}

static struct guest_mem *test_ram(uint64_t size)
{
	struct guest_mem *gm = calloc(1, sizeof(*gm));

	assert_int_equal(gm_alloc(gm, size, NULL), 0);
	return gm;
}

static void bzimage_loads_at_pref_address_with_a_filled_zero_page(void **state)
{
	struct guest_mem *gm = test_ram(128ull << 20);
	uint8_t *img = fake_bzimage();
	struct boot_info bi;
	struct boot_params *bp;

	assert_int_equal(boot_load(gm, img, IMG_LEN, 0x100000, "console=ttyS0", &bi, NULL), 0);
	assert_int_equal(bi.entry, 0x1000200);
	assert_int_equal(bi.boot_params, BOOT_PARAMS_ADDR);
	assert_memory_equal(gm_ptr(gm, 0x1000000, 6), "KERNEL", 6);
	bp = gm_ptr(gm, BOOT_PARAMS_ADDR, sizeof(*bp));
	assert_int_equal(bp->hdr.header, BP_HDR_MAGIC);
	assert_int_equal(bp->hdr.type_of_loader, 0xff);
	assert_int_equal(bp->hdr.cmd_line_ptr, BOOT_CMDLINE_ADDR);
	assert_string_equal((char *)gm_ptr(gm, BOOT_CMDLINE_ADDR, 14), "console=ttyS0");
	assert_int_equal(bp->e820_entries, 3);
	/* the initrd: page aligned, ending at the top of RAM, above the kernel's init_size */
	assert_int_equal(bp->hdr.ramdisk_size, 0x100000);
	assert_int_equal(bp->hdr.ramdisk_image, (128u << 20) - 0x100000);
	assert_int_equal(bi.initrd_addr, bp->hdr.ramdisk_image);
	free(img);
	gm_free(gm);
	free(gm);
}

static void bzimage_too_big_for_pref_address_loads_at_1m(void **state)
{
	struct guest_mem *gm = test_ram(64ull << 20);
	uint8_t *img = fake_bzimage();
	struct boot_info bi;

	put32(img + 0x260, 56u << 20); /* init_size: 16 + 56 MiB > 64 MiB */
	assert_int_equal(boot_load(gm, img, IMG_LEN, 0, "x", &bi, NULL), 0);
	assert_int_equal(bi.entry, 0x100200);
	assert_memory_equal(gm_ptr(gm, 0x100000, 6), "KERNEL", 6);
	free(img);
	gm_free(gm);
	free(gm);
}

static void initrd_that_does_not_fit_above_the_kernel_fails_clearly(void **state)
{
	struct guest_mem *gm = test_ram(64ull << 20);
	uint8_t *img = fake_bzimage();
	struct boot_info bi;
	struct werr *err = NULL;

	assert_true(boot_load(gm, img, IMG_LEN, 32ull << 20, "x", &bi, &err) < 0);
	assert_non_null(strstr(err->msg, "initrd"));
	werr_free(&err);
	free(img);
	gm_free(gm);
	free(gm);
}

static void overlong_command_line_is_refused(void **state)
{
	struct guest_mem *gm = test_ram(128ull << 20);
	uint8_t *img = fake_bzimage();
	struct boot_info bi;
	struct werr *err = NULL;
	char *cl = malloc(0x801);

	memset(cl, 'a', 0x800);
	cl[0x800] = 0;
	assert_true(boot_load(gm, img, IMG_LEN, 0, cl, &bi, &err) < 0);
	assert_non_null(strstr(err->msg, "command line"));
	werr_free(&err);
	cl[0x7ff] = 0; /* exactly cmdline_size: fits */
	assert_int_equal(boot_load(gm, img, IMG_LEN, 0, cl, &bi, NULL), 0);
	free(cl);
	free(img);
	gm_free(gm);
	free(gm);
}

static uint8_t checksum(const uint8_t *p, size_t n)
{
	uint8_t s = 0;

	while (n--)
		s += *p++;
	return s;
}

static void mptable_lists_every_cpu_and_checksums_to_zero(void **state)
{
	struct guest_mem *gm = test_ram(64ull << 20);
	uint8_t *mpf, *h;
	uint16_t len;
	uint32_t ptr;

	assert_int_equal(mptable_write(gm, BOOT_EBDA_START, 4, NULL), 0);
	mpf = gm_ptr(gm, BOOT_EBDA_START, 16);
	assert_memory_equal(mpf, "_MP_", 4);
	assert_int_equal(checksum(mpf, 16), 0);
	memcpy(&ptr, mpf + 4, 4);
	h = gm_ptr(gm, ptr, 44);
	assert_memory_equal(h, "PCMP", 4);
	memcpy(&len, h + 4, 2);
	assert_int_equal(checksum(h, len), 0);
	/* processor entries: APIC ids 0..3, the first one is the BSP */
	for (int i = 0; i < 4; i++) {
		uint8_t *e = h + 44 + i * 20;

		assert_int_equal(e[0], 0);
		assert_int_equal(e[1], i);
		assert_int_equal(e[3], i == 0 ? 3 : 1);
	}
	assert_int_equal(h[44 + 4 * 20], 1); /* then the ISA bus */
	gm_free(gm);
	free(gm);
}

static void tsc_deadline_is_offered_in_leaf_1_only(void **state)
{
	struct kvm_cpuid_entry2 e[3] = {
		{.function = 0, .ecx = 0x11},
		{.function = 1, .ecx = 0x80000001u},
		{.function = 7, .ecx = 0},
	};

	cpuid_set_tsc_deadline(e, 3);
	assert_int_equal(e[1].ecx, 0x80000001u | (1u << 24));
	assert_int_equal(e[0].ecx, 0x11);
	assert_int_equal(e[2].ecx, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(bzimage_header_fields_are_read),
		cmocka_unit_test(zero_setup_sects_means_four),
		cmocka_unit_test(wrong_magic_is_rejected),
		cmocka_unit_test(old_protocol_is_rejected),
		cmocka_unit_test(kernel_without_64bit_entry_is_rejected),
		cmocka_unit_test(truncated_images_are_rejected),
		cmocka_unit_test(boot_params_offsets_match_the_boot_protocol),
		cmocka_unit_test(e820_for_256m_has_low_ram_reserved_ebda_and_high_ram),
		cmocka_unit_test(e820_for_exactly_3g_has_no_ram_above_4g),
		cmocka_unit_test(e820_for_6g_leaves_the_mmio_hole_out),
		cmocka_unit_test(e820_respects_the_table_size),
		cmocka_unit_test(page_tables_identity_map_4g_with_2m_pages),
		cmocka_unit_test(gdt_code_segment_is_64bit_ring0),
		cmocka_unit_test(bzimage_loads_at_pref_address_with_a_filled_zero_page),
		cmocka_unit_test(bzimage_too_big_for_pref_address_loads_at_1m),
		cmocka_unit_test(initrd_that_does_not_fit_above_the_kernel_fails_clearly),
		cmocka_unit_test(overlong_command_line_is_refused),
		cmocka_unit_test(mptable_lists_every_cpu_and_checksums_to_zero),
		cmocka_unit_test(tsc_deadline_is_offered_in_leaf_1_only),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
