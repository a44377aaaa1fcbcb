/* The ACPI PM1 event and control blocks the FADT names: no event ever fires (status reads 0),
 * the enable register keeps what ACPICA writes (it reads it back to check), and PM1_CNT reads
 * SCI_EN so that ACPICA sees the machine in ACPI mode. */
#include "vmm_shim/dev.h"

#include <string.h>

#define PM1_EN_OFF 2

static void acpi_pm_read(void *dev, uint64_t off, uint8_t *data, unsigned size)
{
	struct acpi_pm *pm = dev;

	memset(data, 0, size);
	if (off == ACPI_PM1_CNT_OFF)
		data[0] = 0x01; /* SCI_EN */
	else if (off >= PM1_EN_OFF && off < PM1_EN_OFF + 2)
		data[0] = pm->en[off - PM1_EN_OFF];
	if (off == 0 && size >= 4) /* one 32-bit access: status, then enable */
		memcpy(data + 2, pm->en, 2);
	else if (off == PM1_EN_OFF && size >= 2)
		data[1] = pm->en[1];
}

static void acpi_pm_write(void *dev, uint64_t off, const uint8_t *data, unsigned size)
{
	struct acpi_pm *pm = dev;

	for (unsigned i = 0; i < size; i++)
		if (off + i >= PM1_EN_OFF && off + i < PM1_EN_OFF + 2)
			pm->en[off + i - PM1_EN_OFF] = data[i];
}

const struct dev_ops acpi_pm_ops = {
	.name = "acpi-pm",
	.read = acpi_pm_read,
	.write = acpi_pm_write,
};
