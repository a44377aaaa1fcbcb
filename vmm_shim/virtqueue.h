/* Split virtqueues (virtio 1.x, 2.7): the device side. Chains are popped from the available
 * ring into host segments (each checked through gm_ptr) and returned through the used ring. A
 * driver that lays out anything malformed (addresses outside RAM, a loop, a chain longer than
 * the table, writable before readable, nested indirection) gets an error and a broken queue,
 * never a VMM crash or hang. */
#ifndef WARD_VMM_VIRTQUEUE_H
#define WARD_VMM_VIRTQUEUE_H

#include <stdbool.h>
#include <stdint.h>

#include "vmm_shim/guest_mem.h"

#define VIRTQ_DESC_F_NEXT 1
#define VIRTQ_DESC_F_WRITE 2
#define VIRTQ_DESC_F_INDIRECT 4

/* QueueNumMax; also the longest chain accepted (direct or indirect). */
#define VIRTQ_MAX_SIZE 256
#define VIRTQ_MAX_SEGS VIRTQ_MAX_SIZE

struct virtq {
	uint16_t num; /* queue size, a power of 2, <= VIRTQ_MAX_SIZE */
	bool ready;
	bool broken; /* the driver broke the rules: nothing more is popped until reset */
	uint64_t desc, avail, used; /* guest physical addresses of the three parts */
	uint16_t last_avail;	    /* the next available-ring slot to pop */
	uint16_t used_idx;	    /* our copy of used->idx */
};

struct virtq_seg {
	uint8_t *host; /* NULL when len is 0 */
	uint32_t len;
	bool write; /* device-writable */
};

struct virtq_chain {
	uint16_t head; /* the descriptor index given back in the used ring */
	unsigned n;
	struct virtq_seg seg[VIRTQ_MAX_SEGS];
	uint64_t out_len, in_len;   /* total readable / writable bytes */
	const struct guest_mem *gm; /* where the segments are: writes mark pages dirty there */
};

/* Mark the chain's device-writable segments dirty (guest_mem.h) after the device wrote them
 * other than through virtq_chain_write (a preadv into them). */
void virtq_chain_mark_written(const struct virtq_chain *c);

/* Forget the queue's configuration and position (device reset). */
void virtq_reset(struct virtq *q);

/* The queue's rings lie in guest RAM with the alignment the spec requires. */
bool virtq_valid(const struct virtq *q, const struct guest_mem *gm);

/* Pop the next available chain: 1 with *c filled, 0 when none is available, -EINVAL when the
 * driver's data is malformed (the queue is then broken). */
int virtq_pop(struct virtq *q, const struct guest_mem *gm, struct virtq_chain *c);

/* Return chain head with len bytes written into it: 0, or -EINVAL if the used ring is gone. */
int virtq_push(struct virtq *q, const struct guest_mem *gm, uint16_t head, uint32_t len);

/* Copy up to len bytes of a chain's readable (or writable) part starting at byte off. */
size_t virtq_chain_read(const struct virtq_chain *c, uint64_t off, void *dst, size_t len);
size_t virtq_chain_write(const struct virtq_chain *c, uint64_t off, const void *src, size_t len);

#endif
