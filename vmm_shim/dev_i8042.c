/* Just enough of the PS/2 controller for Linux: its probe (read/write the configuration byte,
 * self test) finds a controller with no ports, and command 0xfe (pulse the reset line), Linux's
 * reboot=k path, stops the VM as a reset. */
#include "vmm_shim/dev.h"

#include <string.h>

#define ST_OBF 0x01 /* output buffer full */
#define ST_SYS 0x04 /* system flag: self test passed */
#define ST_CMD 0x08 /* last write was a command */
#define CMD_READ_CTR 0x20
#define CMD_WRITE_CTR 0x60
#define CMD_WRITE_OUTP 0xd1
#define CMD_SELF_TEST 0xaa
#define CMD_KBD_TEST 0xab
#define CMD_RESET 0xfe
#define CTR_DEFAULT 0x30 /* both ports' clocks off, no interrupts */

void i8042_init(struct i8042 *k, const struct vmm_hooks *hooks)
{
	memset(k, 0, sizeof(*k));
	k->hooks = *hooks;
	k->ctr = CTR_DEFAULT;
}

static void put_out(struct i8042 *k, uint8_t v)
{
	k->out = v;
	k->out_full = true;
}

static void i8042_read(void *dev, uint64_t off, uint8_t *data, unsigned size)
{
	struct i8042 *k = dev;
	uint8_t v;

	if (off == 0) {
		v = k->out;
		k->out_full = false;
	} else if (off == 4) {
		v = ST_SYS | (k->out_full ? ST_OBF : 0) | (k->pending_cmd ? ST_CMD : 0);
	} else {
		v = 0xff; /* 0x61..0x63 are not ours (the in-kernel PIT owns 0x61) */
	}
	memset(data, 0, size);
	data[0] = v;
}

static void i8042_command(struct i8042 *k, uint8_t cmd)
{
	switch (cmd) {
	case CMD_READ_CTR:
		put_out(k, k->ctr);
		break;
	case CMD_WRITE_CTR:
	case CMD_WRITE_OUTP:
		k->pending_cmd = cmd;
		break;
	case CMD_SELF_TEST:
		put_out(k, 0x55);
		break;
	case CMD_KBD_TEST:
		put_out(k, 0x00);
		break;
	case CMD_RESET:
		k->hooks.stop(k->hooks.opaque, VMM_STOP_RESET, 0);
		break;
	default:
		break;
	}
}

static void i8042_write(void *dev, uint64_t off, const uint8_t *data, unsigned size)
{
	struct i8042 *k = dev;

	if (off == 4) {
		k->pending_cmd = 0;
		i8042_command(k, data[0]);
		return;
	}
	if (off != 0)
		return;
	if (k->pending_cmd == CMD_WRITE_CTR)
		k->ctr = data[0];
	else if (k->pending_cmd == CMD_WRITE_OUTP && !(data[0] & 0x01))
		k->hooks.stop(k->hooks.opaque, VMM_STOP_RESET, 0); /* reset line driven low */
	k->pending_cmd = 0;
}

const struct dev_ops i8042_ops = {
	.name = "i8042",
	.read = i8042_read,
	.write = i8042_write,
};
