/* Minimal ACPI tables (RSDP, XSDT, a FADT with PM1 blocks and a never-firing SCI, an empty DSDT,
 * MADT): how Linux kernels built without CONFIG_X86_MPPARSE (Debian's cloud kernel) find every vCPU
 * and the IOAPIC. The tables sit in the e820-reserved area below 1 MiB. */
#ifndef WARD_VMM_ACPI_H
#define WARD_VMM_ACPI_H

#include <stdint.h>

#include "lib/err.h"
#include "vmm_shim/guest_mem.h"

#define ACPI_RSDP_ADDR 0xe0000ull /* inside the BIOS area Linux also scans */

/* Write the tables for n_cpus vCPUs (APIC ids 0..n-1, IOAPIC id n). */
int acpi_write(const struct guest_mem *gm, unsigned n_cpus, struct werr **err);

#endif
