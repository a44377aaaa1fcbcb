/* The DSDT that names the virtio-mmio devices (golden bytes checked with `iasl -d`: Scope(\_SB)
 * { Device(VR00) { _HID "LNRO0005", _UID 0, _CRS Memory32Fixed(RW, 0xd0000000, 0x200) +
 * Interrupt(Consumer, Edge, ActiveHigh, Exclusive) {5} } }). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "vmm_shim/acpi.h"

static const uint8_t one_device[] = {
	0x10, 0x44, 0x04, '\\', '_',  'S',  'B',  '_',	0x5b, 0x82, 0x3b, 'V',	'R',  '0',
	'0',  0x08, '_',  'H',	'I',  'D',  0x0d, 'L',	'N',  'R',  'O',  '0',	'0',  '0',
	'5',  0x00, 0x08, '_',	'U',  'I',  'D',  0x0a, 0x00, 0x08, '_',  'C',	'R',  'S',
	0x11, 0x1a, 0x0a, 0x17, 0x86, 0x09, 0x00, 0x01, 0x00, 0x00, 0x00, 0xd0, 0x00, 0x02,
	0x00, 0x00, 0x89, 0x06, 0x00, 0x03, 0x01, 0x05, 0x00, 0x00, 0x00, 0x79, 0x00,
};

static const struct acpi_virtio devs[] = {
	{0xd0000000, 0x200, 5},
	{0xd0000200, 0x200, 6},
	{0xd0000400, 0x200, 7},
	{0xd0000600, 0x200, 10},
};

static void one_virtio_device_is_a_device_with_hid_lnro0005(void **state)
{
	uint8_t aml[512];

	assert_int_equal(acpi_dsdt_aml(devs, 1, aml, sizeof(aml)), sizeof(one_device));
	assert_memory_equal(aml, one_device, sizeof(one_device));
}

static void more_devices_get_their_own_names_and_irqs(void **state)
{
	uint8_t aml[512];
	size_t n = acpi_dsdt_aml(devs, 4, aml, sizeof(aml));

	assert_true(n > 4 * 61);
	/* the scope's PkgLength (2-byte form) covers everything */
	assert_int_equal((aml[1] & 0xf) | aml[2] << 4, n - 1);
	assert_non_null(memmem(aml, n, "VR03", 4));
	assert_int_equal(aml[n - 6], 10);		       /* the last device's interrupt */
	assert_int_equal(acpi_dsdt_aml(devs, 4, aml, 100), 0); /* no room */
	assert_int_equal(acpi_dsdt_aml(devs, 0, aml, sizeof(aml)), 0);
}

static void the_tables_carry_the_dsdt_with_a_valid_checksum(void **state)
{
	static uint8_t ram[1 << 20];
	struct guest_mem gm = {.n = 1};
	const uint8_t *dsdt;
	uint32_t len;
	uint8_t sum = 0;

	gm.r[0] = (struct gm_region){.gpa = 0, .size = sizeof(ram), .host = ram};
	assert_int_equal(acpi_write(&gm, 2, devs, 1, NULL), 0);
	dsdt = ram + 0xe1000;
	assert_memory_equal(dsdt, "DSDT", 4);
	memcpy(&len, dsdt + 4, 4);
	assert_int_equal(len, 36 + sizeof(one_device));
	for (uint32_t i = 0; i < len; i++)
		sum += dsdt[i];
	assert_int_equal(sum, 0);
	assert_memory_equal(dsdt + 36, one_device, sizeof(one_device));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(one_virtio_device_is_a_device_with_hid_lnro0005),
		cmocka_unit_test(more_devices_get_their_own_names_and_irqs),
		cmocka_unit_test(the_tables_carry_the_dsdt_with_a_valid_checksum),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
