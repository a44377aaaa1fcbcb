/* The ACPI PM1 event and control blocks the FADT names: no events ever (status and enable read
 * 0, writes dropped), and PM1_CNT reads SCI_EN so that ACPICA sees the machine in ACPI mode. */
#include "vmm_shim/dev.h"

#include <string.h>

static void acpi_pm_read(void *dev, uint64_t off, uint8_t *data, unsigned size)
{
	memset(data, 0, size);
	if (off == ACPI_PM1_CNT_OFF)
		data[0] = 0x01; /* SCI_EN */
}

static void acpi_pm_write(void *dev, uint64_t off, const uint8_t *data, unsigned size)
{
}

const struct dev_ops acpi_pm_ops = {
	.name = "acpi-pm",
	.read = acpi_pm_read,
	.write = acpi_pm_write,
};
