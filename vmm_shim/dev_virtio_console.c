#include "vmm_shim/dev_virtio_console.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>

static void console_config_read(void *dev, uint64_t off, uint8_t *data, unsigned size)
{
	memset(data, 0, size); /* cols, rows, max_nr_ports, emerg_wr: no feature offers them */
}

/* Wait until fd has room: false when the VM stops first (or poll fails). */
static bool wait_writable(int fd, int stop_fd)
{
	for (;;) {
		struct pollfd p[2] = {{.fd = fd, .events = POLLOUT},
				      {.fd = stop_fd, .events = POLLIN}};

		if (poll(p, stop_fd >= 0 ? 2 : 1, -1) < 0) {
			if (errno == EINTR)
				continue;
			return false;
		}
		if (stop_fd >= 0 && p[1].revents)
			return false;
		return true;
	}
}

static void write_all_fd(int fd, int stop_fd, const uint8_t *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && errno == EAGAIN) {
			/* a slow client holds the guest back; a stopping VM does not wait */
			if (wait_writable(fd, stop_fd))
				continue;
			return;
		}
		if (w <= 0)
			return; /* the client went: its output is dropped */
		p += w;
		n -= (size_t)w;
	}
}

/* Guest output: every readable byte of each chain to the host stream. */
static void transmit(struct virtio_console *c, struct virtio_mmio *t)
{
	struct virtq_chain *ch = &c->tx_chain;
	bool used = false;
	int r;

	while ((r = virtq_pop(&t->vq[VIRTIO_CONSOLE_TXQ], t->gm, ch)) > 0) {
		for (unsigned i = 0; i < ch->n && c->fd >= 0; i++)
			if (!ch->seg[i].write && ch->seg[i].len)
				write_all_fd(c->fd, c->stop_fd, ch->seg[i].host, ch->seg[i].len);
		virtio_mmio_push(t, VIRTIO_CONSOLE_TXQ, ch->head, 0);
		used = true;
	}
	if (used)
		virtio_mmio_signal_used(t);
	if (r < 0)
		virtio_mmio_needs_reset(t);
}

static void console_notify(void *dev, struct virtio_mmio *t, unsigned q)
{
	struct virtio_console *c = dev;

	if (q == VIRTIO_CONSOLE_TXQ)
		transmit(c, t);
	else
		pthread_cond_broadcast(&c->rx_room);
}

static const struct virtio_dev_ops console_ops = {
	.device_id = VIRTIO_ID_CONSOLE,
	.n_queues = 2,
	.config_read = console_config_read,
	.notify = console_notify,
};

void virtio_console_init(struct virtio_console *c, const struct guest_mem *gm,
			 const struct vmm_hooks *hooks, unsigned irq)
{
	memset(c, 0, sizeof(*c));
	c->fd = -1;
	c->stop_fd = -1;
	pthread_cond_init(&c->rx_room, NULL);
	virtio_mmio_init(&c->t, &console_ops, c, 0, gm, hooks, irq);
}

void virtio_console_destroy(struct virtio_console *c)
{
	virtio_mmio_destroy(&c->t);
	pthread_cond_destroy(&c->rx_room);
}

void virtio_console_set_fd(struct virtio_console *c, int fd)
{
	pthread_mutex_lock(&c->t.lock);
	c->fd = fd;
	pthread_mutex_unlock(&c->t.lock);
}

void virtio_console_close(struct virtio_console *c)
{
	pthread_mutex_lock(&c->t.lock);
	c->closing = true;
	pthread_cond_broadcast(&c->rx_room);
	pthread_mutex_unlock(&c->t.lock);
}

/* With the lock held: one receive chain filled from data; the bytes taken, 0 when the guest has
 * no buffer posted, -1 when the queue broke. */
static int fill_one(struct virtio_console *c, const uint8_t *data, size_t len)
{
	struct virtio_mmio *t = &c->t;
	struct virtq *q = &t->vq[VIRTIO_CONSOLE_RXQ];
	size_t n;
	int r;

	if (!q->ready || !(t->status & VIRTIO_STATUS_DRIVER_OK) ||
	    (t->status & VIRTIO_STATUS_NEEDS_RESET))
		return 0;
	r = virtq_pop(q, t->gm, &c->rx_chain);
	if (r < 0) {
		virtio_mmio_needs_reset(t);
		return -1;
	}
	if (r == 0)
		return 0;
	n = virtq_chain_write(&c->rx_chain, 0, data, len);
	virtio_mmio_push(t, VIRTIO_CONSOLE_RXQ, c->rx_chain.head, (uint32_t)n);
	virtio_mmio_signal_used(t);
	return n ? (int)n : -1; /* a chain with no writable byte: the driver is broken */
}

int virtio_console_input(struct virtio_console *c, const uint8_t *data, size_t len)
{
	int r = 0;

	pthread_mutex_lock(&c->t.lock);
	while (len && !c->closing) {
		r = fill_one(c, data, len > 65536 ? 65536 : len);
		if (r < 0)
			break;
		if (r == 0) {
			pthread_cond_wait(&c->rx_room, &c->t.lock);
			continue;
		}
		data += r;
		len -= (size_t)r;
	}
	if (c->closing)
		r = -1;
	pthread_mutex_unlock(&c->t.lock);
	return r < 0 ? -1 : 0;
}
