#include "vmm_shim/acpi.h"

#include <errno.h>
#include <string.h>

#include "vmm_shim/dev.h"
#include "vmm_shim/mptable.h"

#define XSDT_ADDR (ACPI_RSDP_ADDR + 0x40)
#define FADT_ADDR (ACPI_RSDP_ADDR + 0x100)
#define DSDT_ADDR (ACPI_RSDP_ADDR + 0x300)
#define MADT_ADDR (ACPI_RSDP_ADDR + 0x400)
#define MADT_MAX_CPUS 254

#define SDT_HDR 36
#define FADT_LEN 276 /* ACPI 6.x FADT, revision 6 */
#define FADT_SCI_IRQ 9
#define FADT_PM1A_EVT_PORT ACPI_PM_PORT /* dev_acpi_pm.c */
#define FADT_PM1A_CNT_PORT (ACPI_PM_PORT + ACPI_PM1_CNT_OFF)
#define FADT_BOOT_VGA_ABSENT (1u << 2) /* IAPC_BOOT_ARCH: no 8042 bit, so no PS/2 probe */

static void put16(uint8_t *p, uint16_t v)
{
	memcpy(p, &v, 2);
}

static void put32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4);
}

static void put64(uint8_t *p, uint64_t v)
{
	memcpy(p, &v, 8);
}

static uint8_t sum(const uint8_t *p, size_t n)
{
	uint8_t s = 0;

	while (n--)
		s += *p++;
	return s;
}

static void sdt_header(uint8_t *t, const char *sig, uint32_t len, uint8_t rev)
{
	memcpy(t, sig, 4);
	put32(t + 4, len);
	t[8] = rev;
	memcpy(t + 10, "WARD  ", 6);
	memcpy(t + 16, "WARDVM  ", 8);
	put32(t + 24, 1);
	memcpy(t + 28, "WARD", 4);
	put32(t + 32, 1);
	t[9] = 0;
	t[9] = (uint8_t)-sum(t, len);
}

/* ISA IRQs described by interrupt source overrides: all but the cascade (2). */
#define MADT_ISO_IRQS 15

static size_t madt_len(unsigned n_cpus)
{
	return SDT_HDR + 8 + n_cpus * 8 + 12 + MADT_ISO_IRQS * 10;
}

int acpi_write(const struct guest_mem *gm, unsigned n_cpus, struct werr **err)
{
	uint8_t *rsdp = gm_ptr(gm, ACPI_RSDP_ADDR, 36);
	uint8_t *xsdt = gm_ptr(gm, XSDT_ADDR, SDT_HDR + 16);
	uint8_t *fadt = gm_ptr(gm, FADT_ADDR, FADT_LEN);
	uint8_t *dsdt = gm_ptr(gm, DSDT_ADDR, SDT_HDR);
	uint8_t *madt = gm_ptr(gm, MADT_ADDR, madt_len(n_cpus));
	uint8_t *p;

	if (n_cpus == 0 || n_cpus > MADT_MAX_CPUS)
		return werr_set(err, EINVAL, "ACPI: %u CPUs", n_cpus);
	if (!rsdp || !xsdt || !fadt || !dsdt || !madt)
		return werr_set(err, ENOMEM, "ACPI tables do not fit in guest RAM");

	/* MADT: local APIC address, PC-AT compatible (8259s present), then the entries */
	memset(madt, 0, madt_len(n_cpus));
	put32(madt + SDT_HDR, MPTABLE_LAPIC_ADDR);
	put32(madt + SDT_HDR + 4, 1);
	p = madt + SDT_HDR + 8;
	for (unsigned i = 0; i < n_cpus; i++, p += 8) {
		p[0] = 0; /* processor local APIC */
		p[1] = 8;
		p[2] = (uint8_t)i; /* ACPI processor UID */
		p[3] = (uint8_t)i; /* APIC id */
		put32(p + 4, 1);   /* enabled */
	}
	p[0] = 1; /* I/O APIC */
	p[1] = 12;
	p[2] = (uint8_t)n_cpus;
	put32(p + 4, MPTABLE_IOAPIC_ADDR);
	put32(p + 8, 0); /* GSI base: ISA IRQ n is GSI n, as KVM routes them */
	p += 12;
	/* ISA IRQ n is IOAPIC pin n, edge, active high (the MP table says the same). */
	for (unsigned irq = 0; irq < 16; irq++) {
		if (irq == 2)
			continue;
		p[0] = 2; /* interrupt source override */
		p[1] = 10;
		p[2] = 0; /* ISA */
		p[3] = (uint8_t)irq;
		put32(p + 4, irq);
		put16(p + 8, 0x5); /* edge-triggered, active high */
		p += 10;
	}
	sdt_header(madt, "APIC", (uint32_t)madt_len(n_cpus), 5);

	memset(dsdt, 0, SDT_HDR);
	sdt_header(dsdt, "DSDT", SDT_HDR, 2);

	memset(fadt, 0, FADT_LEN);
	put32(fadt + 40, (uint32_t)DSDT_ADDR);
	put16(fadt + 109, FADT_BOOT_VGA_ABSENT);
	/* Not hardware-reduced: that would drop the legacy PIC and with it Linux's ISA IRQ
	 * mappings, which the 8250 at IRQ 4 needs. So the FADT names an SCI that never fires and
	 * PM1 register blocks with no events. */
	put16(fadt + 46, FADT_SCI_IRQ);
	put32(fadt + 56, FADT_PM1A_EVT_PORT);
	put32(fadt + 64, FADT_PM1A_CNT_PORT);
	fadt[88] = 4;  /* PM1_EVT_LEN */
	fadt[89] = 2;  /* PM1_CNT_LEN */
	fadt[131] = 3; /* FADT minor version: ACPI 6.3 */
	put64(fadt + 140, DSDT_ADDR);
	memcpy(fadt + 268, "WARDVMM ", 8); /* hypervisor vendor identity */
	sdt_header(fadt, "FACP", FADT_LEN, 6);

	memset(xsdt, 0, SDT_HDR + 16);
	put64(xsdt + SDT_HDR, FADT_ADDR);
	put64(xsdt + SDT_HDR + 8, MADT_ADDR);
	sdt_header(xsdt, "XSDT", SDT_HDR + 16, 1);

	memset(rsdp, 0, 36);
	memcpy(rsdp, "RSD PTR ", 8);
	memcpy(rsdp + 9, "WARD  ", 6);
	rsdp[15] = 2; /* ACPI 2.0+: XSDT */
	put32(rsdp + 20, 36);
	put64(rsdp + 24, XSDT_ADDR);
	rsdp[8] = (uint8_t)-sum(rsdp, 20);
	rsdp[32] = (uint8_t)-sum(rsdp, 36);
	return 0;
}
