#include "vmm_shim/acpi.h"

#include <errno.h>
#include <string.h>

#include "vmm_shim/dev.h"
#include "vmm_shim/mptable.h"

#define XSDT_ADDR (ACPI_RSDP_ADDR + 0x40)
#define FADT_ADDR (ACPI_RSDP_ADDR + 0x100)
#define MADT_ADDR (ACPI_RSDP_ADDR + 0x400) /* up to 0x8d6 bytes for 254 CPUs */
#define DSDT_ADDR (ACPI_RSDP_ADDR + 0x1000)
#define DSDT_MAX 0x1000
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

/* AML PkgLength (ACPI 6, 20.2.4) and body; bodies here stay under 4 KiB. */
static size_t aml_pkg(uint8_t *dst, const uint8_t *body, size_t n)
{
	size_t hdr = n + 1 < 64 ? 1 : 2, total = n + hdr;

	if (hdr == 1) {
		dst[0] = (uint8_t)total;
	} else {
		dst[0] = (uint8_t)(0x40 | (total & 0xf));
		dst[1] = (uint8_t)(total >> 4);
	}
	memmove(dst + hdr, body, n);
	return total;
}

/* Device(VRnn) { Name(_HID, "LNRO0005") Name(_UID, nn) Name(_CRS, ResourceTemplate() {
 * Memory32Fixed(ReadWrite, base, size) Interrupt(ResourceConsumer, Edge, ActiveHigh,
 * Exclusive) { irq } }) } */
static size_t aml_virtio_device(uint8_t *dst, unsigned i, const struct acpi_virtio *v)
{
	uint8_t crs[23], buf[32], body[64], dev[72];
	size_t n = 0, b = 0, d = 0;

	crs[0] = 0x86; /* Memory32Fixed */
	put16(crs + 1, 9);
	crs[3] = 1; /* read-write */
	put32(crs + 4, v->base);
	put32(crs + 8, v->size);
	crs[12] = 0x89; /* Extended Interrupt */
	put16(crs + 13, 6);
	crs[15] = 0x03; /* consumer, edge, active high, exclusive */
	crs[16] = 1;
	put32(crs + 17, v->irq);
	crs[21] = 0x79; /* End Tag */
	crs[22] = 0;

	buf[b++] = 0x0a; /* BufferSize: BytePrefix n */
	buf[b++] = sizeof(crs);
	memcpy(buf + b, crs, sizeof(crs));
	b += sizeof(crs);

	memcpy(body + n, "\x08_HID\x0dLNRO0005", 15); /* NameOp, String, NUL */
	n += 15;
	memcpy(body + n, "\x08_UID\x0a", 6);
	n += 6;
	body[n++] = (uint8_t)i;
	memcpy(body + n, "\x08_CRS\x11", 6); /* NameOp, BufferOp */
	n += 6;
	n += aml_pkg(body + n, buf, b);

	dev[d++] = 'V';
	dev[d++] = 'R';
	dev[d++] = (uint8_t)('0' + i / 10);
	dev[d++] = (uint8_t)('0' + i % 10);
	memcpy(dev + d, body, n);
	d += n;
	dst[0] = 0x5b; /* DeviceOp */
	dst[1] = 0x82;
	return 2 + aml_pkg(dst + 2, dev, d);
}

size_t acpi_dsdt_aml(const struct acpi_virtio *virtio, unsigned n_virtio, uint8_t *out,
		     size_t out_cap)
{
	uint8_t scope[8 + ACPI_MAX_VIRTIO * 72];
	size_t n = 0;

	if (n_virtio > ACPI_MAX_VIRTIO)
		return 0;
	if (n_virtio == 0)
		return 0;
	memcpy(scope, "\\_SB_", 5);
	n = 5;
	for (unsigned i = 0; i < n_virtio; i++)
		n += aml_virtio_device(scope + n, i, &virtio[i]);
	if (n + 3 > out_cap)
		return 0;
	out[0] = 0x10; /* ScopeOp */
	return 1 + aml_pkg(out + 1, scope, n);
}

/* ISA IRQs described by interrupt source overrides: all but the cascade (2). */
#define MADT_ISO_IRQS 15

static size_t madt_len(unsigned n_cpus)
{
	return SDT_HDR + 8 + n_cpus * 8 + 12 + MADT_ISO_IRQS * 10;
}

int acpi_write(const struct guest_mem *gm, unsigned n_cpus, const struct acpi_virtio *virtio,
	       unsigned n_virtio, struct werr **err)
{
	uint8_t *rsdp = gm_ptr(gm, ACPI_RSDP_ADDR, 36);
	uint8_t *xsdt = gm_ptr(gm, XSDT_ADDR, SDT_HDR + 16);
	uint8_t *fadt = gm_ptr(gm, FADT_ADDR, FADT_LEN);
	uint8_t *dsdt = gm_ptr(gm, DSDT_ADDR, DSDT_MAX);
	size_t aml_len;
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

	memset(dsdt, 0, DSDT_MAX);
	aml_len = acpi_dsdt_aml(virtio, n_virtio, dsdt + SDT_HDR, DSDT_MAX - SDT_HDR);
	if (n_virtio && !aml_len)
		return werr_set(err, E2BIG, "ACPI: %u virtio devices do not fit the DSDT",
				n_virtio);
	sdt_header(dsdt, "DSDT", (uint32_t)(SDT_HDR + aml_len), 2);

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
