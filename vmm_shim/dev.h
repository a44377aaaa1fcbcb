/* Devices on the port-I/O bus: each device is one file behind a tiny ops table; the vCPU loop
 * only dispatches by address. Devices reach the VM through vmm_hooks (raise an IRQ line, stop
 * the VM), which tests replace with fakes. */
#ifndef WARD_VMM_DEV_H
#define WARD_VMM_DEV_H

#include <stdbool.h>
#include <stdint.h>

#include "vmm_shim/vmm.h"

struct vmm_hooks {
	void (*irq_line)(void *opaque, unsigned irq, int level);
	void (*stop)(void *opaque, enum vmm_stop_reason reason, int status);
	void (*mark)(void *opaque, unsigned mark); /* a guest's progress mark; may be NULL */
	void *opaque;
};

/* off is relative to the range's base; size is 1, 2 or 4. A read fills data[0..size). */
struct dev_ops {
	const char *name;
	void (*read)(void *dev, uint64_t off, uint8_t *data, unsigned size);
	void (*write)(void *dev, uint64_t off, const uint8_t *data, unsigned size);
};

#define BUS_MAX_RANGES 16

struct bus_range {
	uint64_t base, len;
	const struct dev_ops *ops;
	void *dev;
};

struct bus {
	struct bus_range r[BUS_MAX_RANGES];
	unsigned n;
};

/* Register [base, base + len); fails (-EBUSY/-ENOSPC) on overlap or when full. */
int bus_add(struct bus *bus, uint64_t base, uint64_t len, const struct dev_ops *ops, void *dev);
/* Dispatch; an access nobody claims reads as all-ones and writes are dropped (returns false). */
bool bus_read(const struct bus *bus, uint64_t addr, uint8_t *data, unsigned size);
bool bus_write(const struct bus *bus, uint64_t addr, const uint8_t *data, unsigned size);
/* The ops name of the device at addr; NULL when nobody claims it. */
const char *bus_name(const struct bus *bus, uint64_t addr);

/* ---- i8042 (dev_i8042.c): port 0x60 data, 0x64 status/command; 0xfe to 0x64 resets ---- */
#define I8042_DATA_PORT 0x60
#define I8042_CMD_PORT 0x64
struct i8042 {
	struct vmm_hooks hooks;
	uint8_t ctr; /* controller configuration byte */
	uint8_t out; /* output buffer */
	bool out_full;
	uint8_t pending_cmd; /* a command waiting for its data byte on port 0x60 */
};
extern const struct dev_ops i8042_ops;
void i8042_init(struct i8042 *k, const struct vmm_hooks *hooks);

/* ---- status port (dev_status.c): the guest's exit code; reads: a pending signal ---- */
struct status_port {
	struct vmm_hooks hooks;
	_Atomic unsigned *pending_signals; /* bit 1u << sig per pending signal; may be NULL */
};
extern const struct dev_ops status_port_ops;

/* ---- CMOS RTC (dev_cmos.c): 0x70 index, 0x71 data; the host's UTC time ---- */
#define CMOS_PORT 0x70
struct cmos {
	uint8_t index;
	uint8_t ram[128];
};
extern const struct dev_ops cmos_ops;

/* ---- ACPI PM1 registers (dev_acpi_pm.c): PM1a_EVT at base, PM1a_CNT at base + 4 ---- */
#define ACPI_PM_PORT 0x600
#define ACPI_PM_LEN 6
#define ACPI_PM1_CNT_OFF 4
struct acpi_pm {
	uint8_t en[2]; /* PM1 enable */
};
extern const struct dev_ops acpi_pm_ops;

#endif
