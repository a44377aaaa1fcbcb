/* The virtio-mmio transport, version 2 register layout (virtio 1.x, 4.2.2). One transport per
 * device; the device behind it supplies its ID, features, config space and queue handling
 * through virtio_dev_ops. Guests find the devices through the DSDT (acpi.c: _HID LNRO0005,
 * which Linux's virtio_mmio driver matches), since Debian's kernel has no
 * virtio_mmio.device= command line support. */
#ifndef WARD_VMM_VIRTIO_MMIO_H
#define WARD_VMM_VIRTIO_MMIO_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "vmm_shim/dev.h"
#include "vmm_shim/guest_mem.h"
#include "vmm_shim/snapshot.h"
#include "vmm_shim/virtqueue.h"

#define VIRTIO_MMIO_BASE 0xd0000000ull /* device i at base + i * VIRTIO_MMIO_SIZE */
#define VIRTIO_MMIO_SIZE 0x200
#define VIRTIO_MMIO_MAX_QUEUES 10

/* Register offsets */
#define VIRTIO_MMIO_MAGIC 0x000
#define VIRTIO_MMIO_VERSION 0x004
#define VIRTIO_MMIO_DEVICE_ID 0x008
#define VIRTIO_MMIO_VENDOR_ID 0x00c
#define VIRTIO_MMIO_DEVICE_FEATURES 0x010
#define VIRTIO_MMIO_DEVICE_FEATURES_SEL 0x014
#define VIRTIO_MMIO_DRIVER_FEATURES 0x020
#define VIRTIO_MMIO_DRIVER_FEATURES_SEL 0x024
#define VIRTIO_MMIO_QUEUE_SEL 0x030
#define VIRTIO_MMIO_QUEUE_NUM_MAX 0x034
#define VIRTIO_MMIO_QUEUE_NUM 0x038
#define VIRTIO_MMIO_QUEUE_READY 0x044
#define VIRTIO_MMIO_QUEUE_NOTIFY 0x050
#define VIRTIO_MMIO_INTERRUPT_STATUS 0x060
#define VIRTIO_MMIO_INTERRUPT_ACK 0x064
#define VIRTIO_MMIO_STATUS 0x070
#define VIRTIO_MMIO_QUEUE_DESC_LOW 0x080
#define VIRTIO_MMIO_QUEUE_DESC_HIGH 0x084
#define VIRTIO_MMIO_QUEUE_DRIVER_LOW 0x090
#define VIRTIO_MMIO_QUEUE_DRIVER_HIGH 0x094
#define VIRTIO_MMIO_QUEUE_DEVICE_LOW 0x0a0
#define VIRTIO_MMIO_QUEUE_DEVICE_HIGH 0x0a4
#define VIRTIO_MMIO_CONFIG_GENERATION 0x0fc
#define VIRTIO_MMIO_CONFIG 0x100

#define VIRTIO_MMIO_MAGIC_VALUE 0x74726976 /* "virt" */
#define VIRTIO_MMIO_VENDOR 0x44524157	   /* "WARD" */

#define VIRTIO_MMIO_INT_VRING 1u
#define VIRTIO_MMIO_INT_CONFIG 2u

/* Device status bits */
#define VIRTIO_STATUS_ACKNOWLEDGE 1u
#define VIRTIO_STATUS_DRIVER 2u
#define VIRTIO_STATUS_DRIVER_OK 4u
#define VIRTIO_STATUS_FEATURES_OK 8u
#define VIRTIO_STATUS_NEEDS_RESET 64u
#define VIRTIO_STATUS_FAILED 128u

#define VIRTIO_F_INDIRECT_DESC 28
#define VIRTIO_F_VERSION_1 32

struct virtio_mmio;

struct virtio_dev_ops {
	uint32_t device_id;
	unsigned n_queues;
	/* Config space: off from 0x100; data is little endian. Writes are optional. */
	void (*config_read)(void *dev, uint64_t off, uint8_t *data, unsigned size);
	void (*config_write)(void *dev, uint64_t off, const uint8_t *data, unsigned size);
	/* The driver notified queue q (valid and ready); called with the transport locked. */
	void (*notify)(void *dev, struct virtio_mmio *t, unsigned q);
};

struct virtio_mmio {
	pthread_mutex_t lock;
	const struct virtio_dev_ops *ops;
	void *dev;
	uint64_t features; /* offered: the device's, plus VERSION_1 and INDIRECT_DESC */
	const struct guest_mem *gm;
	struct vmm_hooks hooks;
	unsigned irq;
	/* QueueNumMax, a power of 2 <= VIRTQ_MAX_SIZE (virtio_mmio_init: VIRTQ_MAX_SIZE) */
	uint16_t queue_max;

	uint32_t dev_features_sel, drv_features_sel;
	uint64_t drv_features;
	uint32_t queue_sel;
	uint32_t status;
	uint32_t isr;
	uint32_t config_gen;
	struct virtq vq[VIRTIO_MMIO_MAX_QUEUES];
};

extern const struct dev_ops virtio_mmio_ops;

void virtio_mmio_init(struct virtio_mmio *t, const struct virtio_dev_ops *ops, void *dev,
		      uint64_t features, const struct guest_mem *gm, const struct vmm_hooks *hooks,
		      unsigned irq);
void virtio_mmio_destroy(struct virtio_mmio *t);

/* For the device, with the transport locked: return a chain, signal the used ring (one edge on
 * the IRQ line), or give up on a driver that broke the queue's rules (NEEDS_RESET). */
void virtio_mmio_push(struct virtio_mmio *t, unsigned q, uint16_t head, uint32_t len);
void virtio_mmio_signal_used(struct virtio_mmio *t);
void virtio_mmio_needs_reset(struct virtio_mmio *t);
/* Checkpoint: the transport's registers and queues; the caller holds t->lock. load checks each ready
 * queue against guest memory as QUEUE_READY does; name is the device, for messages. */
void virtio_mmio_save(struct virtio_mmio *t, struct vmm_snap_virtio *s);
int virtio_mmio_load(struct virtio_mmio *t, const struct vmm_snap_virtio *s, const char *name,
		     struct werr **err);

#endif
