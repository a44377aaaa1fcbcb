/* The paravirtual status port: one write from the guest reports the workload's exit code (the
 * low byte, as a process exit status) and stops the VM. Reads return 0 so that a guest probing
 * for the port can tell it is there (unclaimed ports read all-ones). */
#include "vmm_shim/dev.h"

#include <string.h>

static void status_read(void *dev, uint64_t off, uint8_t *data, unsigned size)
{
	memset(data, 0, size);
}

static void status_write(void *dev, uint64_t off, const uint8_t *data, unsigned size)
{
	struct status_port *s = dev;

	if (off == 0)
		s->hooks.stop(s->hooks.opaque, VMM_STOP_STATUS, data[0]);
}

const struct dev_ops status_port_ops = {
	.name = "status",
	.read = status_read,
	.write = status_write,
};
