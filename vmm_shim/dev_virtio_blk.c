#include "vmm_shim/dev_virtio_blk.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

/* Config space layout (5.2.4) */
#define CFG_CAPACITY 0
#define CFG_SEG_MAX 12
#define CFG_BLK_SIZE 20
#define CFG_LEN 36

struct req_hdr {
	uint32_t type;
	uint32_t reserved;
	uint64_t sector;
};

static void blk_config_read(void *dev, uint64_t off, uint8_t *data, unsigned size)
{
	struct virtio_blk *b = dev;
	uint8_t cfg[CFG_LEN] = {0};
	uint32_t seg_max = VIRTIO_BLK_SEG_MAX, blk_size = VIRTIO_BLK_SECTOR;

	memcpy(cfg + CFG_CAPACITY, &b->sectors, 8);
	memcpy(cfg + CFG_SEG_MAX, &seg_max, 4);
	memcpy(cfg + CFG_BLK_SIZE, &blk_size, 4);
	if (off < CFG_LEN && size <= CFG_LEN - off)
		memcpy(data, cfg + off, size);
}

/* The data segments of a request: readable ones after the header (OUT) or writable ones
 * before the status byte (IN), as an iovec. Returns the count, or -1 if there are too many. */
static int data_iov(const struct virtq_chain *c, bool write, struct iovec *iov, uint64_t *total)
{
	uint64_t skip = write ? 0 : sizeof(struct req_hdr);
	uint64_t left = write ? c->in_len - 1 : c->out_len - sizeof(struct req_hdr);
	int n = 0;

	*total = left;
	for (unsigned i = 0; i < c->n && left; i++) {
		const struct virtq_seg *s = &c->seg[i];
		uint64_t len;

		if (s->write != write)
			continue;
		if (skip >= s->len) {
			skip -= s->len;
			continue;
		}
		len = s->len - skip;
		if (len > left)
			len = left;
		if (n >= VIRTQ_MAX_SEGS)
			return -1;
		iov[n++] = (struct iovec){.iov_base = s->host + skip, .iov_len = len};
		left -= len;
		skip = 0;
	}
	return n;
}

/* pread/pwrite all of iov at off; false on an error or a short transfer. */
static bool transfer(int fd, bool out, struct iovec *iov, int n, uint64_t off, uint64_t total)
{
	while (total) {
		ssize_t r = out ? pwritev(fd, iov, n, (off_t)off) : preadv(fd, iov, n, (off_t)off);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return false;
		total -= (uint64_t)r;
		off += (uint64_t)r;
		while (r > 0 && n > 0) {
			if ((size_t)r >= iov->iov_len) {
				r -= (ssize_t)iov->iov_len;
				iov++;
				n--;
			} else {
				iov->iov_base = (uint8_t *)iov->iov_base + r;
				iov->iov_len -= (size_t)r;
				r = 0;
			}
		}
	}
	return true;
}

/* Carry out one request; returns its status, *written the bytes put into the data part. */
static uint8_t blk_do(struct virtio_blk *b, const struct virtq_chain *c, const struct req_hdr *h,
		      uint32_t *written)
{
	struct iovec iov[VIRTQ_MAX_SEGS];
	uint64_t total;
	int n;

	*written = 0;
	switch (h->type) {
	case VIRTIO_BLK_T_IN:
	case VIRTIO_BLK_T_OUT: {
		bool out = h->type == VIRTIO_BLK_T_OUT;

		if (out && b->ro)
			return VIRTIO_BLK_S_IOERR;
		n = data_iov(c, !out, iov, &total);
		if (n < 0 || total % VIRTIO_BLK_SECTOR || h->sector > b->sectors ||
		    total / VIRTIO_BLK_SECTOR > b->sectors - h->sector)
			return VIRTIO_BLK_S_IOERR;
		if (!transfer(b->fd, out, iov, n, h->sector * VIRTIO_BLK_SECTOR, total)) {
			if (!out) /* a failed read may have written some: pre-copy's dirty set */
				virtq_chain_mark_written(c);
			return VIRTIO_BLK_S_IOERR;
		}
		if (!out)
			virtq_chain_mark_written(c);
		if (!out)
			*written = (uint32_t)total;
		return VIRTIO_BLK_S_OK;
	}
	case VIRTIO_BLK_T_FLUSH:
		return b->ro || fdatasync(b->fd) == 0 ? VIRTIO_BLK_S_OK : VIRTIO_BLK_S_IOERR;
	case VIRTIO_BLK_T_GET_ID:
		*written = (uint32_t)virtq_chain_write(
			c, 0, b->id,
			c->in_len - 1 < VIRTIO_BLK_ID_BYTES ? c->in_len - 1 : VIRTIO_BLK_ID_BYTES);
		return VIRTIO_BLK_S_OK;
	}
	return VIRTIO_BLK_S_UNSUPP;
}

static void blk_notify(void *dev, struct virtio_mmio *t, unsigned qi)
{
	struct virtio_blk *b = dev;
	struct virtq_chain *c = &b->chain;
	bool used = false;
	int r;

	while ((r = virtq_pop(&t->vq[qi], t->gm, c)) > 0) {
		struct req_hdr h;
		uint32_t written = 0;
		uint8_t status;

		/* a request without a header or a status byte cannot be answered: hand the
		 * buffers back untouched */
		if (c->out_len < sizeof(h) || c->in_len < 1 || c->in_len > UINT32_MAX) {
			virtio_mmio_push(t, qi, c->head, 0);
			used = true;
			continue;
		}
		virtq_chain_read(c, 0, &h, sizeof(h));
		status = blk_do(b, c, &h, &written);
		virtq_chain_write(c, c->in_len - 1, &status, 1);
		virtio_mmio_push(t, qi, c->head, written + 1);
		used = true;
	}
	if (used)
		virtio_mmio_signal_used(t);
	if (r < 0)
		virtio_mmio_needs_reset(t);
}

static const struct virtio_dev_ops blk_ops = {
	.device_id = VIRTIO_ID_BLOCK,
	.n_queues = 1,
	.config_read = blk_config_read,
	.notify = blk_notify,
};

int virtio_blk_init(struct virtio_blk *b, int fd, bool ro, const char *id,
		    const struct guest_mem *gm, const struct vmm_hooks *hooks, unsigned irq,
		    struct werr **err)
{
	uint64_t features = (1ull << VIRTIO_BLK_F_SEG_MAX) | (1ull << VIRTIO_BLK_F_BLK_SIZE) |
			    (1ull << VIRTIO_BLK_F_FLUSH);
	struct stat st;

	if (fstat(fd, &st) < 0)
		return werr_sys(err, errno, "disk: fstat");
	if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode))
		return werr_set(err, EINVAL, "disk: not a regular file or block device");
	memset(b, 0, sizeof(*b));
	b->fd = fd;
	b->ro = ro;
	if (S_ISBLK(st.st_mode)) {
		off_t end = lseek(fd, 0, SEEK_END);

		if (end < 0)
			return werr_sys(err, errno, "disk: size of the block device");
		b->sectors = (uint64_t)end / VIRTIO_BLK_SECTOR;
	} else {
		b->sectors = (uint64_t)st.st_size / VIRTIO_BLK_SECTOR;
	}
	strncpy(b->id, id ? id : "", sizeof(b->id)); /* not NUL-terminated when 20 long (5.2.6) */
	if (ro)
		features |= 1ull << VIRTIO_BLK_F_RO;
	virtio_mmio_init(&b->t, &blk_ops, b, features, gm, hooks, irq);
	return 0;
}

void virtio_blk_destroy(struct virtio_blk *b)
{
	virtio_mmio_destroy(&b->t);
}
