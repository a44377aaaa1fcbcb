/* virtio-console (virtio 1.x, 5.3) with VIRTIO_CONSOLE_F_MULTIPORT: a fixed set of named ports
 * (the guest finds each by /sys/class/virtio-ports/vportNpM/name and opens /dev/vportNpM).
 * Port p's queues are 2p, 2p+1 for p = 0 and 2(p+1), 2(p+1)+1 otherwise; 2 and 3 are the
 * control queues, which carry port add/ready/open/name messages both ways.
 *
 * Host side of a port: an output fd the guest's bytes go to and input handed in with
 * virtio_console_input, plus the port's "host connected" state, which the guest sees as EOF
 * (read returns 0 once the data is read) and POLLHUP while it is off. Output never blocks: a
 * chain that does not fit into the output fd stays with the device (not returned to the guest,
 * which then cannot queue more than its ring holds) until virtio_console_transmit is called
 * again once the fd has room. */
#ifndef WARD_VMM_DEV_VIRTIO_CONSOLE_H
#define WARD_VMM_DEV_VIRTIO_CONSOLE_H

#include <stdbool.h>
#include <stddef.h>

#include "vmm_shim/virtio_mmio.h"

#define VIRTIO_ID_CONSOLE 3
#define VIRTIO_CONSOLE_F_MULTIPORT 1
#define VIRTIO_CONSOLE_MAX_PORTS 4
/* Each queue's size (QueueNumMax). Linux's driver fills every receive queue to the brim at
 * start-up with one kick per buffer (add_inbuf), and with no event index each kick is an exit:
 * 256-entry queues cost 5 x 256 exits at every boot. 16 buffers of a page each are 64 KiB in
 * flight per port, plenty for a control channel and stdio. */
#define VIRTIO_CONSOLE_QUEUE_SIZE 16
#define VIRTIO_CONSOLE_CTRL_RXQ 2 /* device -> driver control messages */
#define VIRTIO_CONSOLE_CTRL_TXQ 3 /* driver -> device */

/* Control events (virtio 1.x, 5.3.6.2) */
#define VIRTIO_CONSOLE_DEVICE_READY 0
#define VIRTIO_CONSOLE_DEVICE_ADD 1
#define VIRTIO_CONSOLE_DEVICE_REMOVE 2
#define VIRTIO_CONSOLE_PORT_READY 3
#define VIRTIO_CONSOLE_CONSOLE_PORT 4
#define VIRTIO_CONSOLE_RESIZE 5
#define VIRTIO_CONSOLE_PORT_OPEN 6
#define VIRTIO_CONSOLE_PORT_NAME 7

#define VIRTIO_CONSOLE_NAME_MAX 32
#define VIRTIO_CONSOLE_CTRL_PENDING 64

static inline unsigned virtio_console_rxq(unsigned port)
{
	return port == 0 ? 0 : 2 * (port + 1);
}

static inline unsigned virtio_console_txq(unsigned port)
{
	return virtio_console_rxq(port) + 1;
}

struct vcon_ctrl {
	uint32_t id;
	uint16_t event, value;
};

struct vcon_port {
	char name[VIRTIO_CONSOLE_NAME_MAX];
	int out_fd;	   /* guest output goes here; -1: dropped */
	bool out_socket;   /* out_fd is a socket: send(MSG_DONTWAIT), else poll + write */
	bool host_open;	   /* what the guest is told (PORT_OPEN from the device) */
	bool ready;	   /* the guest sent PORT_READY: open/name may be sent */
	bool guest_open;   /* the guest has the port open (its PORT_OPEN) */
	unsigned guest_closes; /* how many times the guest closed it */
	bool tx_held;	   /* tx_chain popped but not all written yet */
	uint64_t tx_off;   /* bytes of tx_chain already written */
	struct virtq_chain tx_chain;
};

struct virtio_console {
	struct virtio_mmio t; /* registered on the MMIO bus with virtio_mmio_ops */
	unsigned n_ports;
	struct vcon_port port[VIRTIO_CONSOLE_MAX_PORTS];
	int kick_fd; /* eventfd written when the guest did something the host side may wait on
		      * (queued output, posted receive buffers, opened or closed a port); -1 */
	struct vcon_ctrl ctrl[VIRTIO_CONSOLE_CTRL_PENDING]; /* to the guest, waiting for buffers */
	unsigned ctrl_head, ctrl_n;
	struct virtq_chain scratch; /* control and receive chains (under the lock) */
};

/* names[i] names port i (at most VIRTIO_CONSOLE_MAX_PORTS). */
void virtio_console_init(struct virtio_console *c, const struct guest_mem *gm,
			 const struct vmm_hooks *hooks, unsigned irq, unsigned n_ports,
			 const char *const *names);
void virtio_console_destroy(struct virtio_console *c);

/* All of the following take the transport lock themselves. */

/* Where port p's output goes (-1: dropped; output held for the old fd is dropped too). */
void virtio_console_set_out(struct virtio_console *c, unsigned p, int fd);
/* Tell the guest whether the host end of port p is connected (sent once the port is ready). */
void virtio_console_set_host_open(struct virtio_console *c, unsigned p, bool open);
/* Port p's state as the guest reported it. */
bool virtio_console_guest_open(struct virtio_console *c, unsigned p, unsigned *closes);
/* Hand up to len bytes to the guest on port p without waiting: the number taken (0 while the
 * guest has no receive buffer posted or does not have the port open), -1 if the queue broke. */
long virtio_console_input(struct virtio_console *c, unsigned p, const uint8_t *data, size_t len);
/* Write port p's queued output to its fd without waiting: true while some is left because the
 * fd is full (poll it for POLLOUT and call again). */
bool virtio_console_transmit(struct virtio_console *c, unsigned p);
/* At the end (the vCPUs stopped): write all of port p's queued output, waiting for room. */
void virtio_console_flush(struct virtio_console *c, unsigned p);
/* Checkpoint: the transport, the ports' open/ready state and the control messages waiting for
 * the guest. save fails (EBUSY) while a port has output the host has not taken; load expects
 * the same ports. */
int virtio_console_save(struct virtio_console *c, struct vmm_snap *s, struct werr **err);
int virtio_console_load(struct virtio_console *c, const struct vmm_snap *s, struct werr **err);

#endif
