/* Guest memory: the one bounds-checked accessor and the RAM layout around the MMIO hole. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "vmm_shim/guest_mem.h"

static uint8_t low_ram[0x10000], high_ram[0x1000];

/* 64 KiB at 0 and 4 KiB at 4 GiB, like a tiny VM with RAM above the hole. */
static void two_regions(struct guest_mem *gm)
{
	gm_layout(gm, 0);
	gm->n = 2;
	gm->r[0] = (struct gm_region){.gpa = 0, .size = sizeof(low_ram), .host = low_ram};
	gm->r[1] = (struct gm_region){.gpa = GM_4G, .size = sizeof(high_ram), .host = high_ram};
}

static void inside_ranges_map_to_their_host_bytes(void **state)
{
	struct guest_mem gm;

	two_regions(&gm);
	assert_ptr_equal(gm_ptr(&gm, 0, 1), low_ram);
	assert_ptr_equal(gm_ptr(&gm, 0x1234, 16), low_ram + 0x1234);
	assert_ptr_equal(gm_ptr(&gm, 0, sizeof(low_ram)), low_ram);
	assert_ptr_equal(gm_ptr(&gm, GM_4G + 0x10, 0x10), high_ram + 0x10);
}

static void ranges_ending_at_the_last_byte_fit_and_one_more_does_not(void **state)
{
	struct guest_mem gm;

	two_regions(&gm);
	assert_ptr_equal(gm_ptr(&gm, sizeof(low_ram) - 4, 4), low_ram + sizeof(low_ram) - 4);
	assert_null(gm_ptr(&gm, sizeof(low_ram) - 4, 5));
	assert_null(gm_ptr(&gm, sizeof(low_ram), 1));
	assert_null(gm_ptr(&gm, GM_4G + sizeof(high_ram), 1));
}

static void ranges_in_the_hole_or_across_regions_are_refused(void **state)
{
	struct guest_mem gm;

	two_regions(&gm);
	assert_null(gm_ptr(&gm, 0xfee00000, 4));
	assert_null(gm_ptr(&gm, GM_4G - 1, 2));
	assert_null(gm_ptr(&gm, sizeof(low_ram) - 1, GM_4G));
}

static void wrapping_lengths_and_addresses_are_refused(void **state)
{
	struct guest_mem gm;

	two_regions(&gm);
	assert_null(gm_ptr(&gm, 0x10, SIZE_MAX));
	assert_null(gm_ptr(&gm, 0x10, SIZE_MAX - 0xf));
	assert_null(gm_ptr(&gm, UINT64_MAX, 2));
	assert_null(gm_ptr(&gm, UINT64_MAX - 0xff, 0x1000));
	assert_null(gm_ptr(&gm, GM_4G + 1, (size_t)-1));
}

static void empty_ranges_and_missing_memory_give_null(void **state)
{
	struct guest_mem gm;

	two_regions(&gm);
	assert_null(gm_ptr(&gm, 0, 0));
	assert_null(gm_ptr(NULL, 0, 1));
	gm_layout(&gm, 1 << 20); /* layout only: no host mapping yet */
	assert_null(gm_ptr(&gm, 0, 1));
}

static void small_ram_is_one_region_from_zero(void **state)
{
	struct guest_mem gm;

	gm_layout(&gm, 256ull << 20);
	assert_int_equal(gm.n, 1);
	assert_int_equal(gm.r[0].gpa, 0);
	assert_int_equal(gm.r[0].size, 256ull << 20);
	assert_int_equal(gm_low_end(&gm), 256ull << 20);
}

static void ram_above_3g_moves_above_4g(void **state)
{
	struct guest_mem gm;

	gm_layout(&gm, GM_HOLE_START);
	assert_int_equal(gm.n, 1);
	gm_layout(&gm, 4096ull << 20);
	assert_int_equal(gm.n, 2);
	assert_int_equal(gm.r[0].size, GM_HOLE_START);
	assert_int_equal(gm.r[1].gpa, GM_4G);
	assert_int_equal(gm.r[1].size, (4096ull << 20) - GM_HOLE_START);
}

static void allocated_memory_is_reachable_in_both_regions(void **state)
{
	struct guest_mem gm;
	uint8_t *lo, *hi;

	/* MAP_NORESERVE: only the touched pages are real */
	assert_int_equal(gm_alloc(&gm, 3328ull << 20, NULL), 0);
	lo = gm_ptr(&gm, GM_HOLE_START - 1, 1);
	hi = gm_ptr(&gm, GM_4G, 1);
	assert_non_null(lo);
	assert_non_null(hi);
	assert_ptr_equal(hi, lo + 1); /* one mapping, the hole is not backed */
	*hi = 0x5a;
	assert_int_equal(*(uint8_t *)gm_ptr(&gm, GM_4G, 1), 0x5a);
	assert_null(gm_ptr(&gm, GM_4G + (256ull << 20), 1));
	gm_free(&gm);
}

/* ---- pre-copy: the pages the VMM itself writes (KVM's dirty log does not see them) ---- */

static void writes_through_gm_write_mark_exactly_their_pages(void **state)
{
	struct guest_mem gm;
	uint64_t out[4] = {0};

	assert_int_equal(gm_alloc(&gm, 1 << 20, NULL), 0);
	assert_non_null(gm.dirty);
	assert_int_equal(gm.dirty_words, 4); /* 256 pages */
	/* 8 bytes across the end of page 1 into page 2 */
	assert_int_equal(gm_write(&gm, 0x1ffc, "abcdefgh", 8, "test", NULL), 0);
	assert_int_equal(gm_write(&gm, 0xff000, NULL, 4096, "zeroes", NULL), 0);
	gm_dirty_take(&gm, out);
	assert_int_equal(out[0], (1ull << 1) | (1ull << 2));
	assert_int_equal(out[1], 0);
	assert_int_equal(out[2], 0);
	assert_int_equal(out[3], 1ull << 63); /* page 255 */
	/* taking clears: the next round starts empty */
	memset(out, 0, sizeof(out));
	gm_dirty_take(&gm, out);
	for (int i = 0; i < 4; i++)
		assert_int_equal(out[i], 0);
	gm_free(&gm);
}

static void pointers_outside_guest_ram_mark_nothing(void **state)
{
	struct guest_mem gm;
	uint64_t out[4] = {0};
	uint8_t other[16];

	assert_int_equal(gm_alloc(&gm, 1 << 20, NULL), 0);
	gm_mark_dirty(&gm, other, sizeof(other));
	gm_mark_dirty(&gm, (uint8_t *)gm.map + (1 << 20) - 8, 16); /* runs past the end */
	gm_mark_dirty(&gm, gm.map, 0);
	/* a refused gm_write marks nothing either */
	assert_int_not_equal(gm_write(&gm, 1 << 20, "x", 1, "test", NULL), 0);
	gm_dirty_take(&gm, out);
	for (int i = 0; i < 4; i++)
		assert_int_equal(out[i], 0);
	gm_free(&gm);
}

static void a_slots_dirty_log_merges_at_its_first_page(void **state)
{
	uint64_t out[6] = {1ull << 5, 0, 0, 0, 0, 0};
	/* a 70-page slot: pages 0, 2, 63, 64 and 69 written; bit 70 and above are past the
	 * slot and ignored */
	uint64_t kvm[2] = {(1ull << 0) | (1ull << 2) | (1ull << 63), 1ull | (1ull << 5) | (1ull << 6)};

	gm_bitmap_or(out, 130, kvm, 70);
	/* ORed in, what was set stays */
	assert_int_equal(out[0], 1ull << 5);
	assert_int_equal(out[1], 0);
	assert_int_equal(out[2], (1ull << 2) | (1ull << 4)); /* pages 130, 132 */
	assert_int_equal(out[3], (1ull << 1) | (1ull << 2) | (1ull << 7)); /* 193, 194, 199 */
	assert_int_equal(out[4], 0);
	assert_int_equal(out[5], 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(inside_ranges_map_to_their_host_bytes),
		cmocka_unit_test(ranges_ending_at_the_last_byte_fit_and_one_more_does_not),
		cmocka_unit_test(ranges_in_the_hole_or_across_regions_are_refused),
		cmocka_unit_test(wrapping_lengths_and_addresses_are_refused),
		cmocka_unit_test(empty_ranges_and_missing_memory_give_null),
		cmocka_unit_test(small_ram_is_one_region_from_zero),
		cmocka_unit_test(ram_above_3g_moves_above_4g),
		cmocka_unit_test(allocated_memory_is_reachable_in_both_regions),
		cmocka_unit_test(writes_through_gm_write_mark_exactly_their_pages),
		cmocka_unit_test(pointers_outside_guest_ram_mark_nothing),
		cmocka_unit_test(a_slots_dirty_log_merges_at_its_first_page),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
