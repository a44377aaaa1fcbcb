/* An Intel MultiProcessor Specification 1.4 table, so that Linux without ACPI finds every vCPU,
 * the in-kernel IOAPIC and the ISA interrupt routing (what kvmtool and Firecracker also do). */
#ifndef WARD_VMM_MPTABLE_H
#define WARD_VMM_MPTABLE_H

#include <stdint.h>

#include "lib/err.h"
#include "vmm_shim/guest_mem.h"

#define MPTABLE_LAPIC_ADDR 0xfee00000u
#define MPTABLE_IOAPIC_ADDR 0xfec00000u
#define MPTABLE_ISA_IRQS 16

/* Write the floating pointer at gpa and the configuration table right after it. APIC ids are
 * 0..n_cpus-1; the IOAPIC's id is n_cpus. */
int mptable_write(const struct guest_mem *gm, uint64_t gpa, unsigned n_cpus, struct werr **err);
/* Bytes mptable_write uses for n_cpus. */
size_t mptable_size(unsigned n_cpus);

#endif
