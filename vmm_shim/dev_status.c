/* The paravirtual status port: one write from the guest reports the workload's exit code (the
 * low byte, as a process exit status) and stops the VM. A read returns the signal the host
 * wants delivered to the workload and clears it (ward-init polls it), 0 when there is none, so
 * that a guest probing for the port can tell it is there (unclaimed ports read all-ones). */
#include "vmm_shim/dev.h"

#include <stdatomic.h>
#include <string.h>

static void status_read(void *dev, uint64_t off, uint8_t *data, unsigned size)
{
	struct status_port *s = dev;
	int sig = 0;

	memset(data, 0, size);
	if (off == 0 && s->pending_signal)
		sig = atomic_exchange(s->pending_signal, 0);
	data[0] = (uint8_t)sig;
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
