/* The MC146818 RTC behind CMOS ports 0x70/0x71, read-only: the host's current UTC time in BCD,
 * 24-hour mode, never "update in progress", so the guest's clock starts right. */
#include "vmm_shim/dev.h"

#include <string.h>
#include <time.h>

static uint8_t bcd(int v)
{
	return (uint8_t)(((v / 10) << 4) | (v % 10));
}

static uint8_t cmos_reg(const struct cmos *c, uint8_t idx)
{
	struct tm tm;
	time_t now = time(NULL);

	gmtime_r(&now, &tm);
	switch (idx) {
	case 0x00:
		return bcd(tm.tm_sec);
	case 0x02:
		return bcd(tm.tm_min);
	case 0x04:
		return bcd(tm.tm_hour);
	case 0x06:
		return bcd(tm.tm_wday + 1);
	case 0x07:
		return bcd(tm.tm_mday);
	case 0x08:
		return bcd(tm.tm_mon + 1);
	case 0x09:
		return bcd(tm.tm_year % 100);
	case 0x32:
		return bcd(19 + tm.tm_year / 100); /* century */
	case 0x0a:
		return 0x26; /* 32.768 kHz time base, 1024 Hz rate, UIP clear */
	case 0x0b:
		return 0x02; /* 24-hour, BCD, no interrupts */
	case 0x0c:
		return 0x00;
	case 0x0d:
		return 0x80; /* valid RAM and time */
	default:
		return c->ram[idx & 0x7f];
	}
}

static void cmos_read(void *dev, uint64_t off, uint8_t *data, unsigned size)
{
	struct cmos *c = dev;

	memset(data, 0, size);
	data[0] = off == 1 ? cmos_reg(c, c->index) : c->index;
}

static void cmos_write(void *dev, uint64_t off, const uint8_t *data, unsigned size)
{
	struct cmos *c = dev;

	if (off == 0)
		c->index = data[0] & 0x7f; /* bit 7 is the NMI mask */
	else if (c->index > 0x0d && c->index != 0x32)
		c->ram[c->index] = data[0];
}

const struct dev_ops cmos_ops = {
	.name = "cmos",
	.read = cmos_read,
	.write = cmos_write,
};
