#include "vmm_shim/cpu.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "lib/util.h"

#define CPUID_HYPERVISOR (1u << 31)
#define CPUID_HTT (1u << 28)
#define CPUID_TSC_DEADLINE (1u << 24)
#define MSR_IA32_MISC_ENABLE 0x1a0
#define MISC_ENABLE_FAST_STRING 0x1
#define APIC_LVT0 0x350
#define APIC_LVT1 0x360
#define APIC_MODE_NMI 0x4
#define APIC_MODE_EXTINT 0x7
#define X86_CR0_PE 0x1ull
#define X86_CR0_ET 0x10ull
#define X86_CR0_PG 0x80000000ull
#define X86_CR4_PAE 0x20ull
#define EFER_LME 0x100ull
#define EFER_LMA 0x400ull

static unsigned order_base_2(unsigned n)
{
	unsigned b = 0;

	while ((1u << b) < n)
		b++;
	return b;
}

void cpuid_set_tsc_deadline(struct kvm_cpuid_entry2 *e, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		if (e[i].function == 1)
			e[i].ecx |= CPUID_TSC_DEADLINE;
}

void cpuid_patch(struct kvm_cpuid_entry2 *e, unsigned n, unsigned cpu, unsigned n_cpus)
{
	for (unsigned i = 0; i < n; i++) {
		struct kvm_cpuid_entry2 *c = &e[i];

		switch (c->function) {
		case 1:
			c->ebx = (c->ebx & 0x0000ffff) | (cpu << 24) | ((n_cpus & 0xff) << 16);
			c->ecx |= CPUID_HYPERVISOR;
			if (n_cpus > 1)
				c->edx |= CPUID_HTT;
			else
				c->edx &= ~CPUID_HTT;
			break;
		case 4: /* Intel cache topology: cores per package, threads per cache */
			if ((c->eax & 0x1f) == 0)
				break;
			c->eax &= 0x3ff;
			c->eax |= (n_cpus - 1) << 26;
			if (((c->eax >> 5) & 0x7) == 3) /* L3 is shared by the package */
				c->eax |= (n_cpus - 1) << 14;
			break;
		case 0xb:
		case 0x1f: /* extended topology: level 0 SMT (1 thread), level 1 core */
			c->edx = cpu;
			if (c->index == 0) {
				c->eax = 0;
				c->ebx = 1;
				c->ecx = 0 | (1 << 8);
			} else if (c->index == 1) {
				c->eax = order_base_2(n_cpus);
				c->ebx = n_cpus;
				c->ecx = 1 | (2 << 8);
			} else {
				c->eax = 0;
				c->ebx = 0;
				c->ecx = c->index;
			}
			break;
		case 0x80000008: /* AMD: cores per package - 1, APIC id size */
			c->ecx = (c->ecx & ~0xf0ffu) | ((n_cpus - 1) & 0xff) |
				 (order_base_2(n_cpus) << 12);
			break;
		case 0x8000001e: /* AMD: extended APIC id, one thread per core, node 0 */
			c->eax = cpu;
			c->ebx = cpu & 0xff;
			c->ecx = 0;
			break;
		default:
			break;
		}
	}
}

void seg_from_gdt(struct kvm_segment *s, uint64_t e, uint16_t sel)
{
	uint32_t limit = (uint32_t)((e & 0xffff) | ((e >> 32) & 0xf0000));

	memset(s, 0, sizeof(*s));
	s->selector = sel;
	s->base = ((e >> 16) & 0xffffff) | (((e >> 56) & 0xff) << 24);
	s->type = (e >> 40) & 0xf;
	s->s = (e >> 44) & 1;
	s->dpl = (e >> 45) & 3;
	s->present = (e >> 47) & 1;
	s->avl = (e >> 52) & 1;
	s->l = (e >> 53) & 1;
	s->db = (e >> 54) & 1;
	s->g = (e >> 55) & 1;
	s->limit = s->g ? (limit << 12) | 0xfff : limit;
	s->unusable = !s->present;
}

static int set_cpuid(int fd, const struct kvm_cpuid2 *sup, unsigned cpu, unsigned n_cpus,
		     struct werr **err)
{
	size_t sz = sizeof(*sup) + sup->nent * sizeof(sup->entries[0]);
	_cleanup_free_ struct kvm_cpuid2 *c = xmalloc(sz);

	memcpy(c, sup, sz);
	cpuid_patch(c->entries, c->nent, cpu, n_cpus);
	if (ioctl(fd, KVM_SET_CPUID2, c) < 0)
		return werr_sys(err, errno, "KVM_SET_CPUID2 (vCPU %u)", cpu);
	return 0;
}

static int set_msrs(int fd, unsigned cpu, struct werr **err)
{
	struct {
		struct kvm_msrs hdr;
		struct kvm_msr_entry e[1];
	} m;

	memset(&m, 0, sizeof(m));
	m.hdr.nmsrs = 1;
	m.e[0].index = MSR_IA32_MISC_ENABLE;
	m.e[0].data = MISC_ENABLE_FAST_STRING;
	if (ioctl(fd, KVM_SET_MSRS, &m) != 1)
		return werr_sys(err, errno ? errno : EINVAL, "KVM_SET_MSRS (vCPU %u)", cpu);
	return 0;
}

static int set_fpu(int fd, unsigned cpu, struct werr **err)
{
	struct kvm_fpu f;

	memset(&f, 0, sizeof(f));
	f.fcw = 0x37f;
	f.mxcsr = 0x1f80;
	if (ioctl(fd, KVM_SET_FPU, &f) < 0)
		return werr_sys(err, errno, "KVM_SET_FPU (vCPU %u)", cpu);
	return 0;
}

static void lvt_set_mode(struct kvm_lapic_state *l, unsigned reg, uint32_t mode)
{
	uint32_t v;

	memcpy(&v, l->regs + reg, 4);
	v = (v & ~0x700u) | (mode << 8);
	memcpy(l->regs + reg, &v, 4);
}

/* LINT0 takes the PIC's ExtINT, LINT1 NMIs: what the BIOS leaves for Linux. */
static int set_lint(int fd, unsigned cpu, struct werr **err)
{
	struct kvm_lapic_state l;

	if (ioctl(fd, KVM_GET_LAPIC, &l) < 0)
		return werr_sys(err, errno, "KVM_GET_LAPIC (vCPU %u)", cpu);
	lvt_set_mode(&l, APIC_LVT0, APIC_MODE_EXTINT);
	lvt_set_mode(&l, APIC_LVT1, APIC_MODE_NMI);
	if (ioctl(fd, KVM_SET_LAPIC, &l) < 0)
		return werr_sys(err, errno, "KVM_SET_LAPIC (vCPU %u)", cpu);
	return 0;
}

static int set_boot_state(int fd, const struct boot_info *b, struct werr **err)
{
	struct kvm_sregs sr;
	struct kvm_regs r;
	uint64_t gdt[BOOT_GDT_ENTRIES];

	if (ioctl(fd, KVM_GET_SREGS, &sr) < 0)
		return werr_sys(err, errno, "KVM_GET_SREGS");
	gdt_build(gdt);
	seg_from_gdt(&sr.cs, gdt[BOOT_SEL_CS / 8], BOOT_SEL_CS);
	seg_from_gdt(&sr.ds, gdt[BOOT_SEL_DS / 8], BOOT_SEL_DS);
	sr.es = sr.fs = sr.gs = sr.ss = sr.ds;
	seg_from_gdt(&sr.tr, gdt[BOOT_SEL_TSS / 8], BOOT_SEL_TSS);
	sr.gdt.base = BOOT_GDT_ADDR;
	sr.gdt.limit = sizeof(gdt) - 1;
	sr.idt.base = 0;
	sr.idt.limit = 0;
	sr.cr0 = X86_CR0_PE | X86_CR0_ET | X86_CR0_PG;
	sr.cr3 = b->cr3;
	sr.cr4 = X86_CR4_PAE;
	sr.efer = EFER_LME | EFER_LMA;
	if (ioctl(fd, KVM_SET_SREGS, &sr) < 0)
		return werr_sys(err, errno, "KVM_SET_SREGS");

	memset(&r, 0, sizeof(r));
	r.rflags = 0x2;
	r.rip = b->entry;
	r.rsi = b->boot_params;
	if (ioctl(fd, KVM_SET_REGS, &r) < 0)
		return werr_sys(err, errno, "KVM_SET_REGS");
	return 0;
}

int vcpu_setup(int vcpu_fd, const struct kvm_cpuid2 *supported, unsigned cpu, unsigned n_cpus,
	       const struct boot_info *boot, struct werr **err)
{
	int r;

	r = set_cpuid(vcpu_fd, supported, cpu, n_cpus, err);
	if (r == 0)
		r = set_msrs(vcpu_fd, cpu, err);
	if (r == 0)
		r = set_fpu(vcpu_fd, cpu, err);
	if (r == 0)
		r = set_lint(vcpu_fd, cpu, err);
	if (r == 0 && boot)
		r = set_boot_state(vcpu_fd, boot, err);
	return r;
}
