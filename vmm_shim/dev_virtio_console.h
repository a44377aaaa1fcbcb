/* virtio-console (virtio 1.x, 5.3) with one port and no features: the micro-VM's control
 * channel (the guest sees /dev/hvc0). Bytes the guest transmits go to the host stream in fd
 * (dropped while there is none); bytes from the host are handed to the guest through
 * virtio_console_input as receive buffers become available. ward-init and `ward exec` speak
 * their framing over it; the device only carries bytes. */
#ifndef WARD_VMM_DEV_VIRTIO_CONSOLE_H
#define WARD_VMM_DEV_VIRTIO_CONSOLE_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

#include "vmm_shim/virtio_mmio.h"

#define VIRTIO_ID_CONSOLE 3
#define VIRTIO_CONSOLE_RXQ 0
#define VIRTIO_CONSOLE_TXQ 1

struct virtio_console {
	struct virtio_mmio t;	/* registered on the MMIO bus with virtio_mmio_ops */
	int fd;			/* the host end (guarded by t.lock, non-blocking), or -1 */
	int stop_fd;		/* readable once the VM stops: a transmit waiting on fd gives up */
	pthread_cond_t rx_room; /* the guest posted receive buffers, or the VM stops */
	bool closing;
	struct virtq_chain tx_chain; /* scratch for the notifying vCPU */
	struct virtq_chain rx_chain; /* scratch for the host input thread */
};

void virtio_console_init(struct virtio_console *c, const struct guest_mem *gm,
			 const struct vmm_hooks *hooks, unsigned irq);
void virtio_console_destroy(struct virtio_console *c);
/* The host stream: set when a client connects, -1 when it goes. It must be non-blocking: a
 * transmit that finds it full waits in poll for room or for stop_fd (set it before the vCPUs
 * run; -1: none), so that a client that stops reading cannot keep the VM from stopping. */
void virtio_console_set_fd(struct virtio_console *c, int fd);
/* Give the guest len bytes, waiting for receive buffers: 0 once all is delivered, -1 when the
 * device is closing (virtio_console_close) or the queue broke. */
int virtio_console_input(struct virtio_console *c, const uint8_t *data, size_t len);
/* Wake and fail every virtio_console_input (the VM stops). */
void virtio_console_close(struct virtio_console *c);

#endif
