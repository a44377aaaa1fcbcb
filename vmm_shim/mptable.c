#include "vmm_shim/mptable.h"

#include <errno.h>
#include <string.h>

struct mpf {
	char sig[4];
	uint32_t physptr;
	uint8_t length, spec_rev, checksum, feature1, feature2, reserved[3];
} __attribute__((packed));

struct mpc_header {
	char sig[4];
	uint16_t length;
	uint8_t spec_rev, checksum;
	char oem[8], product[12];
	uint32_t oem_ptr;
	uint16_t oem_size, count;
	uint32_t lapic;
	uint16_t ext_length;
	uint8_t ext_checksum, reserved;
} __attribute__((packed));

struct mpc_cpu {
	uint8_t type, apic_id, apic_ver, flags;
	uint32_t signature, features;
	uint32_t reserved[2];
} __attribute__((packed));

struct mpc_bus {
	uint8_t type, bus_id;
	char name[6];
} __attribute__((packed));

struct mpc_ioapic {
	uint8_t type, id, ver, flags;
	uint32_t addr;
} __attribute__((packed));

struct mpc_irq {
	uint8_t type, irq_type;
	uint16_t flags;
	uint8_t src_bus, src_irq, dst_apic, dst_pin;
} __attribute__((packed));

_Static_assert(sizeof(struct mpf) == 16, "MP floating pointer is 16 bytes");
_Static_assert(sizeof(struct mpc_header) == 44, "MP config header is 44 bytes");
_Static_assert(sizeof(struct mpc_cpu) == 20, "processor entry is 20 bytes");

enum { MP_CPU = 0, MP_BUS = 1, MP_IOAPIC = 2, MP_INTSRC = 3, MP_LINTSRC = 4 };
enum { MP_INT = 0, MP_NMI = 1, MP_EXTINT = 3 };

static uint8_t checksum(const void *p, size_t n)
{
	const uint8_t *b = p;
	uint8_t s = 0;

	while (n--)
		s += *b++;
	return (uint8_t)-s;
}

size_t mptable_size(unsigned n_cpus)
{
	return sizeof(struct mpf) + sizeof(struct mpc_header) + n_cpus * sizeof(struct mpc_cpu) +
	       sizeof(struct mpc_bus) + sizeof(struct mpc_ioapic) +
	       (MPTABLE_ISA_IRQS + 2) * sizeof(struct mpc_irq);
}

int mptable_write(const struct guest_mem *gm, uint64_t gpa, unsigned n_cpus, struct werr **err)
{
	size_t size = mptable_size(n_cpus);
	uint8_t *base = gm_ptr(gm, gpa, size), *p;
	struct mpf *mpf;
	struct mpc_header *h;
	uint8_t ioapic_id = (uint8_t)n_cpus;

	if (n_cpus == 0 || n_cpus > 254)
		return werr_set(err, EINVAL, "MP table: %u CPUs", n_cpus);
	if (!base)
		return werr_set(err, ENOMEM, "MP table does not fit in guest RAM");
	memset(base, 0, size);
	mpf = (struct mpf *)base;
	h = (struct mpc_header *)(mpf + 1);
	p = (uint8_t *)(h + 1);

	for (unsigned i = 0; i < n_cpus; i++) {
		struct mpc_cpu c = {
			.type = MP_CPU,
			.apic_id = (uint8_t)i,
			.apic_ver = 0x14,
			.flags = 0x01 | (i == 0 ? 0x02 : 0), /* enabled, BSP */
			.signature = 0x600,
			.features = 0x201, /* FPU, APIC */
		};
		memcpy(p, &c, sizeof(c));
		p += sizeof(c);
	}
	struct mpc_bus bus = {.type = MP_BUS, .bus_id = 0, .name = {'I', 'S', 'A', ' ', ' ', ' '}};
	memcpy(p, &bus, sizeof(bus));
	p += sizeof(bus);
	struct mpc_ioapic io = {.type = MP_IOAPIC,
				.id = ioapic_id,
				.ver = 0x11,
				.flags = 1,
				.addr = MPTABLE_IOAPIC_ADDR};
	memcpy(p, &io, sizeof(io));
	p += sizeof(io);
	/* KVM's default routing sends ISA IRQ n to IOAPIC pin n (and PIC input n) */
	for (unsigned irq = 0; irq < MPTABLE_ISA_IRQS; irq++) {
		struct mpc_irq e = {.type = MP_INTSRC,
				    .irq_type = MP_INT,
				    .src_irq = (uint8_t)irq,
				    .dst_apic = ioapic_id,
				    .dst_pin = (uint8_t)irq};
		memcpy(p, &e, sizeof(e));
		p += sizeof(e);
	}
	struct mpc_irq lint0 = {
		.type = MP_LINTSRC, .irq_type = MP_EXTINT, .dst_apic = 0xff, .dst_pin = 0};
	struct mpc_irq lint1 = {
		.type = MP_LINTSRC, .irq_type = MP_NMI, .dst_apic = 0xff, .dst_pin = 1};
	memcpy(p, &lint0, sizeof(lint0));
	p += sizeof(lint0);
	memcpy(p, &lint1, sizeof(lint1));
	p += sizeof(lint1);

	memcpy(h->sig, "PCMP", 4);
	h->length = (uint16_t)(p - (uint8_t *)h);
	h->spec_rev = 4;
	memcpy(h->oem, "WARD    ", 8);
	memcpy(h->product, "MICROVM     ", 12);
	h->count = (uint16_t)(n_cpus + 2 + MPTABLE_ISA_IRQS + 2);
	h->lapic = MPTABLE_LAPIC_ADDR;
	h->checksum = checksum(h, h->length);

	memcpy(mpf->sig, "_MP_", 4);
	mpf->physptr = (uint32_t)(gpa + sizeof(*mpf));
	mpf->length = 1;
	mpf->spec_rev = 4;
	mpf->checksum = checksum(mpf, sizeof(*mpf));
	return 0;
}
