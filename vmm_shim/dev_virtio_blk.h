/* virtio-blk (virtio 1.x, 5.2) on the virtio-mmio transport, backed by a host file: requests
 * IN, OUT, FLUSH and GET_ID in 512-byte sectors; read-only disks offer VIRTIO_BLK_F_RO and
 * fail writes with IOERR. One request queue, processed on the notifying vCPU. */
#ifndef WARD_VMM_DEV_VIRTIO_BLK_H
#define WARD_VMM_DEV_VIRTIO_BLK_H

#include <stdbool.h>
#include <stdint.h>

#include "lib/err.h"
#include "vmm_shim/virtio_mmio.h"

#define VIRTIO_ID_BLOCK 2

#define VIRTIO_BLK_F_SEG_MAX 2
#define VIRTIO_BLK_F_RO 5
#define VIRTIO_BLK_F_BLK_SIZE 6
#define VIRTIO_BLK_F_FLUSH 9

#define VIRTIO_BLK_T_IN 0
#define VIRTIO_BLK_T_OUT 1
#define VIRTIO_BLK_T_FLUSH 4
#define VIRTIO_BLK_T_GET_ID 8

#define VIRTIO_BLK_S_OK 0
#define VIRTIO_BLK_S_IOERR 1
#define VIRTIO_BLK_S_UNSUPP 2

#define VIRTIO_BLK_SECTOR 512
#define VIRTIO_BLK_ID_BYTES 20
#define VIRTIO_BLK_SEG_MAX (VIRTQ_MAX_SEGS - 2) /* plus the header and the status byte */

struct virtio_blk {
	struct virtio_mmio t; /* registered on the MMIO bus with virtio_mmio_ops */
	int fd;		      /* not owned */
	bool ro;
	uint64_t sectors;
	char id[VIRTIO_BLK_ID_BYTES];
	struct virtq_chain chain; /* scratch: too big for a vCPU thread's stack frame */
};

/* Set up a disk on fd (its size, rounded down to whole sectors, is the capacity). */
int virtio_blk_init(struct virtio_blk *b, int fd, bool ro, const char *id,
		    const struct guest_mem *gm, const struct vmm_hooks *hooks, unsigned irq,
		    struct werr **err);
void virtio_blk_destroy(struct virtio_blk *b);

#endif
