/* Per-vCPU state at power-on: CPUID with this vCPU's APIC id and the VM's topology, boot MSRs,
 * FPU, LAPIC LINT0/LINT1 wiring, and for the boot vCPU the 64-bit entry state of the boot
 * protocol (flat segments, paging on, RSI = zero page). */
#ifndef WARD_VMM_CPU_H
#define WARD_VMM_CPU_H

#include <linux/kvm.h>

#include "lib/err.h"
#include "vmm_shim/boot.h"

/* Patch KVM_GET_SUPPORTED_CPUID's entries for vCPU cpu of n_cpus (one core per vCPU, one
 * package): APIC ids in leaves 1, 0xb, 0x1f, 0x8000001e; core counts in 1, 4, 0x80000008;
 * the hypervisor bit. */
void cpuid_patch(struct kvm_cpuid_entry2 *e, unsigned n, unsigned cpu, unsigned n_cpus);

/* Offer the TSC-deadline timer (leaf 1 ECX bit 24): KVM_GET_SUPPORTED_CPUID leaves it out and
 * KVM_CAP_TSC_DEADLINE_TIMER says whether the in-kernel LAPIC has it. Without it Linux
 * calibrates the LAPIC timer against the PIT at boot, which under nested virtualization can
 * fail ("APIC timer disabled due to verification failure") and leave the PIT as the tick. */
void cpuid_set_tsc_deadline(struct kvm_cpuid_entry2 *e, unsigned n);

/* A kvm_segment from a GDT entry and its selector. */
void seg_from_gdt(struct kvm_segment *s, uint64_t entry, uint16_t sel);

/* Set a vCPU up; boot != NULL for the boot vCPU (others wait for INIT/SIPI). */
int vcpu_setup(int vcpu_fd, const struct kvm_cpuid2 *supported, unsigned cpu, unsigned n_cpus,
	       const struct boot_info *boot, struct werr **err);

#endif
