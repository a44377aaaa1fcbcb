/* The virtio-mmio transport (version 2). Registers are 32-bit; any other access width to them
 * reads 0 and is ignored, config space takes any width. Queue processing runs on the vCPU that
 * wrote QueueNotify, under the transport's lock. */
#include "vmm_shim/virtio_mmio.h"

#include <errno.h>
#include <string.h>

void virtio_mmio_init(struct virtio_mmio *t, const struct virtio_dev_ops *ops, void *dev,
		      uint64_t features, const struct guest_mem *gm, const struct vmm_hooks *hooks,
		      unsigned irq)
{
	memset(t, 0, sizeof(*t));
	pthread_mutex_init(&t->lock, NULL);
	t->ops = ops;
	t->dev = dev;
	t->features = features | (1ull << VIRTIO_F_VERSION_1) | (1ull << VIRTIO_F_INDIRECT_DESC);
	t->gm = gm;
	t->hooks = *hooks;
	t->irq = irq;
	t->queue_max = VIRTQ_MAX_SIZE;
}

void virtio_mmio_destroy(struct virtio_mmio *t)
{
	pthread_mutex_destroy(&t->lock);
}

static void interrupt(struct virtio_mmio *t, uint32_t why)
{
	t->isr |= why;
	/* an edge on the line: the IOAPIC pin is edge-triggered (MADT, _CRS) */
	t->hooks.irq_line(t->hooks.opaque, t->irq, 1);
	t->hooks.irq_line(t->hooks.opaque, t->irq, 0);
}

void virtio_mmio_signal_used(struct virtio_mmio *t)
{
	interrupt(t, VIRTIO_MMIO_INT_VRING);
}

void virtio_mmio_needs_reset(struct virtio_mmio *t)
{
	if (t->status & VIRTIO_STATUS_NEEDS_RESET)
		return;
	t->status |= VIRTIO_STATUS_NEEDS_RESET;
	if (t->status & VIRTIO_STATUS_DRIVER_OK)
		interrupt(t, VIRTIO_MMIO_INT_CONFIG);
}

void virtio_mmio_push(struct virtio_mmio *t, unsigned q, uint16_t head, uint32_t len)
{
	if (virtq_push(&t->vq[q], t->gm, head, len) < 0)
		virtio_mmio_needs_reset(t);
}

static void reset(struct virtio_mmio *t)
{
	t->dev_features_sel = t->drv_features_sel = 0;
	t->drv_features = 0;
	t->queue_sel = 0;
	t->status = 0;
	t->isr = 0;
	for (unsigned i = 0; i < VIRTIO_MMIO_MAX_QUEUES; i++)
		virtq_reset(&t->vq[i]);
}

static struct virtq *selected(struct virtio_mmio *t)
{
	return t->queue_sel < t->ops->n_queues ? &t->vq[t->queue_sel] : NULL;
}

static uint32_t reg_read(struct virtio_mmio *t, uint64_t off)
{
	struct virtq *q = selected(t);

	switch (off) {
	case VIRTIO_MMIO_MAGIC:
		return VIRTIO_MMIO_MAGIC_VALUE;
	case VIRTIO_MMIO_VERSION:
		return 2;
	case VIRTIO_MMIO_DEVICE_ID:
		return t->ops->device_id;
	case VIRTIO_MMIO_VENDOR_ID:
		return VIRTIO_MMIO_VENDOR;
	case VIRTIO_MMIO_DEVICE_FEATURES:
		return t->dev_features_sel < 2
			       ? (uint32_t)(t->features >> (32 * t->dev_features_sel))
			       : 0;
	case VIRTIO_MMIO_QUEUE_NUM_MAX:
		return q ? t->queue_max : 0;
	case VIRTIO_MMIO_QUEUE_READY:
		return q && q->ready;
	case VIRTIO_MMIO_INTERRUPT_STATUS:
		return t->isr;
	case VIRTIO_MMIO_STATUS:
		return t->status;
	case VIRTIO_MMIO_CONFIG_GENERATION:
		return t->config_gen;
	}
	return 0;
}

static void set_low(uint64_t *v, uint32_t x)
{
	*v = (*v & ~0xffffffffull) | x;
}

static void set_high(uint64_t *v, uint32_t x)
{
	*v = (*v & 0xffffffffull) | (uint64_t)x << 32;
}

static void write_status(struct virtio_mmio *t, uint32_t v)
{
	if (v == 0) {
		reset(t);
		return;
	}
	/* FEATURES_OK only sticks for a subset of what we offer that includes VERSION_1 (the
	 * driver reads it back to learn whether we accepted) */
	if ((v & VIRTIO_STATUS_FEATURES_OK) && !(t->status & VIRTIO_STATUS_FEATURES_OK) &&
	    (!(t->drv_features & (1ull << VIRTIO_F_VERSION_1)) || (t->drv_features & ~t->features)))
		v &= ~VIRTIO_STATUS_FEATURES_OK;
	t->status = v | (t->status & VIRTIO_STATUS_NEEDS_RESET);
}

static void write_queue_ready(struct virtio_mmio *t, struct virtq *q, uint32_t v)
{
	if (!v) {
		q->ready = false;
		return;
	}
	if (!virtq_valid(q, t->gm)) {
		virtio_mmio_needs_reset(t);
		return;
	}
	q->ready = true;
}

static void notify(struct virtio_mmio *t, uint32_t qi)
{
	if (qi >= t->ops->n_queues || !t->vq[qi].ready || !(t->status & VIRTIO_STATUS_DRIVER_OK) ||
	    (t->status & VIRTIO_STATUS_NEEDS_RESET))
		return;
	t->ops->notify(t->dev, t, qi);
}

static void reg_write(struct virtio_mmio *t, uint64_t off, uint32_t v)
{
	struct virtq *q = selected(t);
	bool q_setup = q && !q->ready; /* queue fields only change while it is not live */

	switch (off) {
	case VIRTIO_MMIO_DEVICE_FEATURES_SEL:
		t->dev_features_sel = v;
		break;
	case VIRTIO_MMIO_DRIVER_FEATURES:
		if (t->drv_features_sel == 0)
			set_low(&t->drv_features, v);
		else if (t->drv_features_sel == 1)
			set_high(&t->drv_features, v);
		break;
	case VIRTIO_MMIO_DRIVER_FEATURES_SEL:
		t->drv_features_sel = v;
		break;
	case VIRTIO_MMIO_QUEUE_SEL:
		t->queue_sel = v;
		break;
	case VIRTIO_MMIO_QUEUE_NUM:
		if (q_setup)
			q->num = v <= t->queue_max ? (uint16_t)v : 0;
		break;
	case VIRTIO_MMIO_QUEUE_READY:
		if (q)
			write_queue_ready(t, q, v);
		break;
	case VIRTIO_MMIO_QUEUE_NOTIFY:
		notify(t, v);
		break;
	case VIRTIO_MMIO_INTERRUPT_ACK:
		t->isr &= ~v;
		break;
	case VIRTIO_MMIO_STATUS:
		write_status(t, v);
		break;
	case VIRTIO_MMIO_QUEUE_DESC_LOW:
	case VIRTIO_MMIO_QUEUE_DESC_HIGH:
	case VIRTIO_MMIO_QUEUE_DRIVER_LOW:
	case VIRTIO_MMIO_QUEUE_DRIVER_HIGH:
	case VIRTIO_MMIO_QUEUE_DEVICE_LOW:
	case VIRTIO_MMIO_QUEUE_DEVICE_HIGH:
		if (q_setup) {
			uint64_t *a = off < VIRTIO_MMIO_QUEUE_DRIVER_LOW   ? &q->desc
				      : off < VIRTIO_MMIO_QUEUE_DEVICE_LOW ? &q->avail
									   : &q->used;
			if (off & 4)
				set_high(a, v);
			else
				set_low(a, v);
		}
		break;
	}
}

static void mmio_read(void *dev, uint64_t off, uint8_t *data, unsigned size)
{
	struct virtio_mmio *t = dev;

	memset(data, 0, size);
	pthread_mutex_lock(&t->lock);
	if (off >= VIRTIO_MMIO_CONFIG) {
		if (t->ops->config_read)
			t->ops->config_read(t->dev, off - VIRTIO_MMIO_CONFIG, data, size);
	} else if (size == 4 && !(off & 3)) {
		uint32_t v = reg_read(t, off);

		memcpy(data, &v, 4);
	}
	pthread_mutex_unlock(&t->lock);
}

static void mmio_write(void *dev, uint64_t off, const uint8_t *data, unsigned size)
{
	struct virtio_mmio *t = dev;

	pthread_mutex_lock(&t->lock);
	if (off >= VIRTIO_MMIO_CONFIG) {
		if (t->ops->config_write)
			t->ops->config_write(t->dev, off - VIRTIO_MMIO_CONFIG, data, size);
	} else if (size == 4 && !(off & 3)) {
		uint32_t v;

		memcpy(&v, data, 4);
		reg_write(t, off, v);
	}
	pthread_mutex_unlock(&t->lock);
}

const struct dev_ops virtio_mmio_ops = {
	.name = "virtio-mmio",
	.read = mmio_read,
	.write = mmio_write,
};

void virtio_mmio_save(struct virtio_mmio *t, struct vmm_snap_virtio *s)
{
	s->dev_features_sel = t->dev_features_sel;
	s->drv_features_sel = t->drv_features_sel;
	s->drv_features = t->drv_features;
	s->queue_sel = t->queue_sel;
	s->status = t->status;
	s->isr = t->isr;
	s->config_gen = t->config_gen;
	for (unsigned i = 0; i < VIRTIO_MMIO_MAX_QUEUES; i++) {
		const struct virtq *q = &t->vq[i];

		s->vq[i] = (struct vmm_snap_virtq){
			.num = q->num,
			.ready = q->ready,
			.broken = q->broken,
			.desc = q->desc,
			.avail = q->avail,
			.used = q->used,
			.last_avail = q->last_avail,
			.used_idx = q->used_idx,
		};
	}
}

int virtio_mmio_load(struct virtio_mmio *t, const struct vmm_snap_virtio *s, const char *name,
		     struct werr **err)
{
	t->dev_features_sel = s->dev_features_sel;
	t->drv_features_sel = s->drv_features_sel;
	t->drv_features = s->drv_features;
	t->queue_sel = s->queue_sel;
	t->status = s->status;
	t->isr = s->isr;
	t->config_gen = s->config_gen;
	for (unsigned i = 0; i < VIRTIO_MMIO_MAX_QUEUES; i++) {
		struct virtq *q = &t->vq[i];
		const struct vmm_snap_virtq *v = &s->vq[i];

		q->num = v->num;
		q->ready = v->ready;
		q->broken = v->broken;
		q->desc = v->desc;
		q->avail = v->avail;
		q->used = v->used;
		q->last_avail = v->last_avail;
		q->used_idx = v->used_idx;
		/* the same checks a driver's QUEUE_READY goes through */
		if (q->ready && (q->num == 0 || q->num > VIRTQ_MAX_SIZE || (q->num & (q->num - 1)) ||
				 !virtq_valid(q, t->gm))) {
					return werr_set(err, EINVAL,
					"vm.json: %s: queue %u (size %u) lies outside guest RAM or "
					"has a bad size",
					name, i, q->num);
		}
	}
	return 0;
}
