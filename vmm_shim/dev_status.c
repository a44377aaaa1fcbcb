/* The paravirtual status port: one write from the guest reports the workload's exit code (the
 * low byte, as a process exit status) and stops the VM. A read returns a signal the host wants
 * delivered to the workload and clears it (ward-init polls it), 0 when there is none, so
 * that a guest probing for the port can tell it is there (unclaimed ports read all-ones).
 * A write to the next port (VMM_MARK_PORT) is a progress mark, only traced. */
#include "vmm_shim/dev.h"

#include <stdatomic.h>
#include <string.h>

/* Take the lowest pending signal: 0 when none. */
static int take_signal(_Atomic unsigned *pending)
{
	unsigned m = atomic_load(pending);

	while (m) {
		unsigned bit = m & -m;

		if (atomic_compare_exchange_weak(pending, &m, m & ~bit))
			return __builtin_ctz(bit);
	}
	return 0;
}

static void status_read(void *dev, uint64_t off, uint8_t *data, unsigned size)
{
	struct status_port *s = dev;

	memset(data, 0, size);
	if (off == 0 && s->pending_signals)
		data[0] = (uint8_t)take_signal(s->pending_signals);
}

static void status_write(void *dev, uint64_t off, const uint8_t *data, unsigned size)
{
	struct status_port *s = dev;

	if (off == 0)
		s->hooks.stop(s->hooks.opaque, VMM_STOP_STATUS, data[0]);
	else if (off == VMM_MARK_PORT - VMM_STATUS_PORT && s->hooks.mark)
		s->hooks.mark(s->hooks.opaque, data[0]);
}

const struct dev_ops status_port_ops = {
	.name = "status",
	.read = status_read,
	.write = status_write,
};
