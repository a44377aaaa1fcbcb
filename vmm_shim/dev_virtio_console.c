#include "vmm_shim/dev_virtio_console.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#define CTRL_HDR 8 /* struct virtio_console_control: le32 id, le16 event, le16 value */

static void console_config_read(void *dev, uint64_t off, uint8_t *data, unsigned size)
{
	/* cols, rows (u16 each), max_nr_ports (u32), emerg_wr (u32) */
	uint8_t cfg[12] = {0};

	cfg[4] = VIRTIO_CONSOLE_MAX_PORTS;
	memset(data, 0, size);
	if (off < sizeof(cfg))
		memcpy(data, cfg + off, size < sizeof(cfg) - off ? size : sizeof(cfg) - off);
}

static void kick(struct virtio_console *c)
{
	uint64_t one = 1;

	if (c->kick_fd >= 0)
		(void)!write(c->kick_fd, &one, sizeof(one));
}

static int port_of_queue(const struct virtio_console *c, unsigned q, bool *tx)
{
	for (unsigned p = 0; p < c->n_ports; p++) {
		if (q == virtio_console_rxq(p) || q == virtio_console_txq(p)) {
			*tx = q == virtio_console_txq(p);
			return (int)p;
		}
	}
	return -1;
}

/* ---- control messages ------------------------------------------------------------------ */

/* Queued control messages into the guest's control receive buffers, as far as they go. */
static void ctrl_flush(struct virtio_console *c)
{
	struct virtio_mmio *t = &c->t;
	struct virtq *q = &t->vq[VIRTIO_CONSOLE_CTRL_RXQ];
	bool used = false;

	while (c->ctrl_n && q->ready && !q->broken) {
		const struct vcon_ctrl *m = &c->ctrl[c->ctrl_head];
		uint8_t msg[CTRL_HDR + VIRTIO_CONSOLE_NAME_MAX];
		size_t len = CTRL_HDR;
		int r = virtq_pop(q, t->gm, &c->scratch);

		if (r < 0)
			virtio_mmio_needs_reset(t);
		if (r <= 0)
			break;
		memcpy(msg, &m->id, 4);
		memcpy(msg + 4, &m->event, 2);
		memcpy(msg + 6, &m->value, 2);
		if (m->event == VIRTIO_CONSOLE_PORT_NAME && m->id < c->n_ports) {
			size_t n = strlen(c->port[m->id].name);

			memcpy(msg + CTRL_HDR, c->port[m->id].name, n);
			len += n;
		}
		len = virtq_chain_write(&c->scratch, 0, msg, len);
		virtio_mmio_push(t, VIRTIO_CONSOLE_CTRL_RXQ, c->scratch.head, (uint32_t)len);
		used = true;
		c->ctrl_head = (c->ctrl_head + 1) % VIRTIO_CONSOLE_CTRL_PENDING;
		c->ctrl_n--;
	}
	if (used)
		virtio_mmio_signal_used(t);
}

static void ctrl_send(struct virtio_console *c, uint32_t id, uint16_t event, uint16_t value)
{
	if (c->ctrl_n == VIRTIO_CONSOLE_CTRL_PENDING)
		return; /* a driver that posts no control buffers loses the oldest news */
	c->ctrl[(c->ctrl_head + c->ctrl_n++) % VIRTIO_CONSOLE_CTRL_PENDING] =
		(struct vcon_ctrl){.id = id, .event = event, .value = value};
	ctrl_flush(c);
}

static void ctrl_handle(struct virtio_console *c, uint32_t id, uint16_t event, uint16_t value)
{
	struct vcon_port *p = id < c->n_ports ? &c->port[id] : NULL;

	switch (event) {
	case VIRTIO_CONSOLE_DEVICE_READY:
		for (uint32_t i = 0; value == 1 && i < c->n_ports; i++)
			ctrl_send(c, i, VIRTIO_CONSOLE_DEVICE_ADD, 0);
		break;
	case VIRTIO_CONSOLE_PORT_READY:
		if (!p || value != 1)
			break;
		p->ready = true;
		/* open before name: once the guest can find the port by its name, it already
		 * knows whether the host end is there */
		if (p->host_open)
			ctrl_send(c, id, VIRTIO_CONSOLE_PORT_OPEN, 1);
		ctrl_send(c, id, VIRTIO_CONSOLE_PORT_NAME, 0);
		break;
	case VIRTIO_CONSOLE_PORT_OPEN:
		if (!p)
			break;
		if (p->guest_open && !value)
			p->guest_closes++;
		p->guest_open = value != 0;
		kick(c);
		break;
	}
}

/* The driver's control messages: handled at once (Linux spins until they are used). */
static void ctrl_receive(struct virtio_console *c)
{
	struct virtio_mmio *t = &c->t;
	bool used = false;
	int r;

	while ((r = virtq_pop(&t->vq[VIRTIO_CONSOLE_CTRL_TXQ], t->gm, &c->scratch)) > 0) {
		uint8_t msg[CTRL_HDR];
		uint16_t head = c->scratch.head; /* ctrl_handle reuses the scratch chain */
		bool whole = virtq_chain_read(&c->scratch, 0, msg, sizeof(msg)) == sizeof(msg);

		virtio_mmio_push(t, VIRTIO_CONSOLE_CTRL_TXQ, head, 0);
		if (whole) {
			uint32_t id;
			uint16_t event, value;

			memcpy(&id, msg, 4);
			memcpy(&event, msg + 4, 2);
			memcpy(&value, msg + 6, 2);
			ctrl_handle(c, id, event, value);
		}
		used = true;
	}
	if (used)
		virtio_mmio_signal_used(t);
	if (r < 0)
		virtio_mmio_needs_reset(t);
}

/* ---- data ------------------------------------------------------------------------------ */

/* One non-blocking write of what fits: bytes written, or -errno (-EAGAIN: no room now). A
 * socket takes MSG_DONTWAIT; anything else (a pipe, a file, a terminal, shared with other
 * processes, so never made O_NONBLOCK) is written only when poll says there is room, and at
 * most PIPE_BUF bytes at a time, which a pipe with room takes without blocking. */
static ssize_t out_write(const struct vcon_port *p, const uint8_t *buf, size_t len)
{
	ssize_t n;

	if (p->out_socket) {
		n = send(p->out_fd, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL);
	} else {
		struct pollfd pf = {.fd = p->out_fd, .events = POLLOUT};

		if (poll(&pf, 1, 0) == 0)
			return -EAGAIN;
		n = write(p->out_fd, buf, len < PIPE_BUF ? len : PIPE_BUF);
	}
	if (n < 0)
		return errno == EWOULDBLOCK ? -EAGAIN : -errno;
	return n;
}

static void tx_done(struct virtio_console *c, unsigned q, struct vcon_port *p)
{
	virtio_mmio_push(&c->t, q, p->tx_chain.head, 0);
	virtio_mmio_signal_used(&c->t);
	p->tx_held = false;
}

/* With the lock held: see virtio_console_transmit. */
static bool transmit_locked(struct virtio_console *c, unsigned pi)
{
	struct virtio_mmio *t = &c->t;
	struct vcon_port *p = &c->port[pi];
	unsigned q = virtio_console_txq(pi);

	for (;;) {
		uint64_t skip;

		if (!p->tx_held) {
			int r = virtq_pop(&t->vq[q], t->gm, &p->tx_chain);

			if (r < 0)
				virtio_mmio_needs_reset(t);
			if (r <= 0)
				return false;
			p->tx_held = true;
			p->tx_off = 0;
		}
		skip = p->tx_off;
		for (unsigned i = 0; i < p->tx_chain.n && p->out_fd >= 0; i++) {
			const struct virtq_seg *s = &p->tx_chain.seg[i];
			ssize_t n;

			if (s->write || !s->len)
				continue;
			if (skip >= s->len) {
				skip -= s->len;
				continue;
			}
			n = out_write(p, s->host + skip, s->len - skip);
			if (n == -EAGAIN)
				return true; /* held: the guest's buffer stays with us */
			if (n <= 0)
				break; /* the reader went: this output is dropped */
			p->tx_off += (uint64_t)n;
			if ((uint64_t)n < s->len - skip)
				return true;
			skip = 0;
		}
		tx_done(c, q, p);
	}
}

static void console_notify(void *dev, struct virtio_mmio *t, unsigned q)
{
	struct virtio_console *c = dev;
	bool tx;
	int p;

	if (q == VIRTIO_CONSOLE_CTRL_TXQ) {
		ctrl_receive(c);
		return;
	}
	if (q == VIRTIO_CONSOLE_CTRL_RXQ) {
		ctrl_flush(c);
		return;
	}
	p = port_of_queue(c, q, &tx);
	if (p < 0)
		return;
	/* output is tried at once, never waited for; what is left, and new receive buffers,
	 * are the host thread's business */
	if (!tx || transmit_locked(c, (unsigned)p))
		kick(c);
}

static const struct virtio_dev_ops console_ops = {
	.device_id = VIRTIO_ID_CONSOLE,
	.n_queues = 2 * (VIRTIO_CONSOLE_MAX_PORTS + 1),
	.config_read = console_config_read,
	.notify = console_notify,
};

void virtio_console_init(struct virtio_console *c, const struct guest_mem *gm,
			 const struct vmm_hooks *hooks, unsigned irq, unsigned n_ports,
			 const char *const *names)
{
	memset(c, 0, sizeof(*c));
	c->kick_fd = -1;
	c->n_ports = n_ports < VIRTIO_CONSOLE_MAX_PORTS ? n_ports : VIRTIO_CONSOLE_MAX_PORTS;
	for (unsigned i = 0; i < c->n_ports; i++) {
		c->port[i].out_fd = -1;
		strncpy(c->port[i].name, names[i], VIRTIO_CONSOLE_NAME_MAX - 1);
	}
	virtio_mmio_init(&c->t, &console_ops, c, 1ull << VIRTIO_CONSOLE_F_MULTIPORT, gm, hooks,
			 irq);
	c->t.queue_max = VIRTIO_CONSOLE_QUEUE_SIZE;
}

void virtio_console_destroy(struct virtio_console *c)
{
	virtio_mmio_destroy(&c->t);
}

void virtio_console_set_out(struct virtio_console *c, unsigned p, int fd)
{
	struct stat st;

	pthread_mutex_lock(&c->t.lock);
	if (p < c->n_ports) {
		struct vcon_port *port = &c->port[p];

		if (port->tx_held && fd != port->out_fd)
			tx_done(c, virtio_console_txq(p), port); /* not for the new reader */
		port->out_fd = fd;
		port->out_socket = fd >= 0 && fstat(fd, &st) == 0 && S_ISSOCK(st.st_mode);
	}
	pthread_mutex_unlock(&c->t.lock);
}

void virtio_console_set_host_open(struct virtio_console *c, unsigned p, bool open)
{
	pthread_mutex_lock(&c->t.lock);
	if (p < c->n_ports && c->port[p].host_open != open) {
		c->port[p].host_open = open;
		if (c->port[p].ready)
			ctrl_send(c, p, VIRTIO_CONSOLE_PORT_OPEN, open);
	}
	pthread_mutex_unlock(&c->t.lock);
}

bool virtio_console_guest_open(struct virtio_console *c, unsigned p, unsigned *closes)
{
	bool open = false;

	pthread_mutex_lock(&c->t.lock);
	if (p < c->n_ports) {
		open = c->port[p].guest_open;
		if (closes)
			*closes = c->port[p].guest_closes;
	}
	pthread_mutex_unlock(&c->t.lock);
	return open;
}

long virtio_console_input(struct virtio_console *c, unsigned p, const uint8_t *data, size_t len)
{
	struct virtio_mmio *t = &c->t;
	long done = 0;

	pthread_mutex_lock(&t->lock);
	/* Linux drops what arrives on a port nobody has open: wait until it is */
	while (p < c->n_ports && c->port[p].guest_open && (size_t)done < len &&
	       (t->status & VIRTIO_STATUS_DRIVER_OK) && !(t->status & VIRTIO_STATUS_NEEDS_RESET)) {
		struct virtq *q = &t->vq[virtio_console_rxq(p)];
		size_t n;
		int r;

		if (!q->ready)
			break;
		r = virtq_pop(q, t->gm, &c->scratch);
		if (r < 0) {
			virtio_mmio_needs_reset(t);
			done = -1;
			break;
		}
		if (r == 0)
			break;
		n = virtq_chain_write(&c->scratch, 0, data + done, len - (size_t)done);
		virtio_mmio_push(t, virtio_console_rxq(p), c->scratch.head, (uint32_t)n);
		virtio_mmio_signal_used(t);
		if (n == 0) {
			done = -1; /* a receive chain with no writable byte: a broken driver */
			break;
		}
		done += (long)n;
	}
	pthread_mutex_unlock(&t->lock);
	return done;
}

bool virtio_console_transmit(struct virtio_console *c, unsigned p)
{
	bool held = false;

	pthread_mutex_lock(&c->t.lock);
	if (p < c->n_ports)
		held = transmit_locked(c, p);
	pthread_mutex_unlock(&c->t.lock);
	return held;
}

void virtio_console_flush(struct virtio_console *c, unsigned p)
{
	while (p < c->n_ports && virtio_console_transmit(c, p)) {
		struct pollfd pf = {.fd = c->port[p].out_fd, .events = POLLOUT};

		if (poll(&pf, 1, -1) < 0 && errno != EINTR)
			return;
	}
}

/* ---- checkpoint ---------------------------------------------------------------------------- */

int virtio_console_save(struct virtio_console *c, struct vmm_snap *s, struct werr **err)
{
	int r = 0;

	pthread_mutex_lock(&c->t.lock);
	virtio_mmio_save(&c->t, &s->console.t);
	s->console.n_ports = c->n_ports;
	for (unsigned p = 0; p < c->n_ports; p++) {
		const struct vcon_port *vp = &c->port[p];

		/* a chain half written to its fd holds host pointers into guest memory: the
		 * caller flushes output first, so this is only a port whose fd went away */
		if (vp->tx_held && r == 0)
			r = werr_set(err, EBUSY,
				     "virtio-console port %s has output the host has not taken "
				     "yet",
				     vp->name);
		s->console.port[p] = (struct vmm_snap_port){
			.host_open = vp->host_open,
			.ready = vp->ready,
			.guest_open = vp->guest_open,
			.guest_closes = vp->guest_closes,
		};
	}
	s->console.n_ctrl = c->ctrl_n;
	for (unsigned i = 0; i < c->ctrl_n; i++) {
		const struct vcon_ctrl *m =
			&c->ctrl[(c->ctrl_head + i) % VIRTIO_CONSOLE_CTRL_PENDING];

		s->console.ctrl[i] = (struct vmm_snap_ctrl){
			.id = m->id, .event = m->event, .value = m->value};
	}
	pthread_mutex_unlock(&c->t.lock);
	return r;
}

int virtio_console_load(struct virtio_console *c, const struct vmm_snap *s, struct werr **err)
{
	int r;

	if (s->console.n_ports != c->n_ports)
		return werr_set(err, EINVAL, "vm.json: console.ports: %u ports, this VM has %u",
				s->console.n_ports, c->n_ports);
	pthread_mutex_lock(&c->t.lock);
	r = virtio_mmio_load(&c->t, &s->console.t, "console.virtio", err);
	if (r < 0) {
		pthread_mutex_unlock(&c->t.lock);
		return r;
	}
	for (unsigned p = 0; p < c->n_ports; p++) {
		struct vcon_port *vp = &c->port[p];

		vp->host_open = s->console.port[p].host_open;
		vp->ready = s->console.port[p].ready;
		vp->guest_open = s->console.port[p].guest_open;
		vp->guest_closes = s->console.port[p].guest_closes;
		vp->tx_held = false;
		vp->tx_off = 0;
	}
	c->ctrl_head = 0;
	c->ctrl_n = s->console.n_ctrl;
	for (unsigned i = 0; i < s->console.n_ctrl; i++)
		c->ctrl[i] = (struct vcon_ctrl){.id = s->console.ctrl[i].id,
						.event = s->console.ctrl[i].event,
						.value = s->console.ctrl[i].value};
	pthread_mutex_unlock(&c->t.lock);
	return 0;
}
