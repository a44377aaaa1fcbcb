/* Guest memory: the one bounds-checked accessor and the RAM layout around the MMIO hole. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

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
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
