/* Minimal ACPI tables (RSDP, XSDT, a FADT with PM1 blocks and a never-firing SCI, a DSDT naming
 * the virtio-mmio devices, MADT): how Linux kernels built without CONFIG_X86_MPPARSE (Debian's
 * cloud kernel) find every vCPU and the IOAPIC. The tables sit in the e820-reserved area below 1
 * MiB. */
#ifndef WARD_VMM_ACPI_H
#define WARD_VMM_ACPI_H

#include <stdint.h>

#include "lib/err.h"
#include "vmm_shim/guest_mem.h"

#define ACPI_RSDP_ADDR 0xe0000ull /* inside the BIOS area Linux also scans */

#define ACPI_MAX_VIRTIO 8

/* A virtio-mmio device as the DSDT describes it: _HID "LNRO0005" (what Linux's virtio_mmio
 * driver matches), a Memory32Fixed range and one edge-triggered, active-high interrupt. */
struct acpi_virtio {
	uint32_t base, size;
	uint32_t irq;
};

/* Write the tables for n_cpus vCPUs (APIC ids 0..n-1, IOAPIC id n) and n_virtio devices. */
int acpi_write(const struct guest_mem *gm, unsigned n_cpus, const struct acpi_virtio *virtio,
	       unsigned n_virtio, struct werr **err);

/* The DSDT's AML body (\_SB scope with the devices) into out (room for out_cap bytes): its
 * length, or 0 when it does not fit. */
size_t acpi_dsdt_aml(const struct acpi_virtio *virtio, unsigned n_virtio, uint8_t *out,
		     size_t out_cap);

#endif
