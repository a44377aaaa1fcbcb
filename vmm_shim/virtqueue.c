#include "vmm_shim/virtqueue.h"

#include <errno.h>
#include <string.h>

struct vring_desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
} __attribute__((packed));

#define DESC_SIZE 16u
#define AVAIL_SIZE(n) (6u + 2u * (n))
#define USED_SIZE(n) (6u + 8u * (n))

void virtq_reset(struct virtq *q)
{
	*q = (struct virtq){0};
}

bool virtq_valid(const struct virtq *q, const struct guest_mem *gm)
{
	if (q->num == 0 || q->num > VIRTQ_MAX_SIZE || (q->num & (q->num - 1)))
		return false;
	if ((q->desc & 15) || (q->avail & 1) || (q->used & 3))
		return false;
	return gm_ptr(gm, q->desc, DESC_SIZE * q->num) &&
	       gm_ptr(gm, q->avail, AVAIL_SIZE(q->num)) && gm_ptr(gm, q->used, USED_SIZE(q->num));
}

static uint16_t load16(const uint8_t *p)
{
	return __atomic_load_n((const uint16_t *)p, __ATOMIC_RELAXED);
}

static int broken(struct virtq *q)
{
	q->broken = true;
	return -EINVAL;
}

/* Walk one descriptor table (the queue's, or an indirect one) from index i. */
static int walk(struct virtq *q, const struct guest_mem *gm, const uint8_t *table, uint32_t size,
		uint16_t i, bool indirect, struct virtq_chain *c)
{
	for (uint32_t seen = 0;; seen++) {
		struct vring_desc d;

		if (i >= size || seen >= size)
			return broken(q); /* out of the table, or a loop */
		memcpy(&d, table + (size_t)i * DESC_SIZE, sizeof(d));
		if (d.flags & VIRTQ_DESC_F_INDIRECT) {
			const uint8_t *t;

			/* no nesting, no chaining past it, a whole number of descriptors */
			if (indirect || (d.flags & VIRTQ_DESC_F_NEXT) || d.len == 0 ||
			    d.len % DESC_SIZE || d.len / DESC_SIZE > VIRTQ_MAX_SEGS)
				return broken(q);
			t = gm_ptr(gm, d.addr, d.len);
			if (!t)
				return broken(q);
			return walk(q, gm, t, d.len / DESC_SIZE, 0, true, c);
		}
		if (c->n >= VIRTQ_MAX_SEGS)
			return broken(q);
		if (d.len) {
			struct virtq_seg *s = &c->seg[c->n++];

			s->host = gm_ptr(gm, d.addr, d.len);
			if (!s->host)
				return broken(q);
			s->len = d.len;
			s->write = d.flags & VIRTQ_DESC_F_WRITE;
			if (s->write)
				c->in_len += d.len;
			else if (c->in_len)
				return broken(q); /* readable after writable */
			else
				c->out_len += d.len;
		}
		if (!(d.flags & VIRTQ_DESC_F_NEXT))
			return 1;
		i = d.next;
	}
}

int virtq_pop(struct virtq *q, const struct guest_mem *gm, struct virtq_chain *c)
{
	uint8_t *avail, *desc;
	uint16_t idx;

	if (q->broken || !q->ready)
		return q->broken ? -EINVAL : 0;
	avail = gm_ptr(gm, q->avail, AVAIL_SIZE(q->num));
	desc = gm_ptr(gm, q->desc, DESC_SIZE * q->num);
	if (!avail || !desc)
		return broken(q);
	idx = load16(avail + 2);
	if (idx == q->last_avail)
		return 0;
	if ((uint16_t)(idx - q->last_avail) > q->num)
		return broken(q); /* more available than the ring holds */
	/* the ring entry and the descriptors are read after the index that published them */
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	c->head = load16(avail + 4 + 2u * (q->last_avail % q->num));
	c->n = 0;
	c->out_len = c->in_len = 0;
	c->gm = gm;
	q->last_avail++;
	return walk(q, gm, desc, q->num, c->head, false, c);
}

int virtq_push(struct virtq *q, const struct guest_mem *gm, uint16_t head, uint32_t len)
{
	uint8_t *used = gm_ptr(gm, q->used, USED_SIZE(q->num));
	uint8_t *e;

	if (!used || q->num == 0)
		return broken(q);
	e = used + 4 + 8u * (q->used_idx % q->num);
	memcpy(e, &(uint32_t){head}, 4);
	memcpy(e + 4, &len, 4);
	q->used_idx++;
	/* the element is visible before the index that publishes it */
	__atomic_store_n((uint16_t *)(used + 2), q->used_idx, __ATOMIC_RELEASE);
	gm_mark_dirty(gm, used, USED_SIZE(q->num));
	return 0;
}

static size_t chain_copy(const struct virtq_chain *c, bool write, uint64_t off, uint8_t *buf,
			 size_t len, bool to_guest)
{
	size_t done = 0;

	for (unsigned i = 0; i < c->n && done < len; i++) {
		const struct virtq_seg *s = &c->seg[i];
		size_t n;

		if (s->write != write)
			continue;
		if (off >= s->len) {
			off -= s->len;
			continue;
		}
		n = s->len - off;
		if (n > len - done)
			n = len - done;
		if (to_guest) {
			memcpy(s->host + off, buf + done, n);
			gm_mark_dirty(c->gm, s->host + off, n);
		} else
			memcpy(buf + done, s->host + off, n);
		done += n;
		off = 0;
	}
	return done;
}

void virtq_chain_mark_written(const struct virtq_chain *c)
{
	for (unsigned i = 0; i < c->n; i++)
		if (c->seg[i].write)
			gm_mark_dirty(c->gm, c->seg[i].host, c->seg[i].len);
}

size_t virtq_chain_read(const struct virtq_chain *c, uint64_t off, void *dst, size_t len)
{
	return chain_copy(c, false, off, dst, len, false);
}

size_t virtq_chain_write(const struct virtq_chain *c, uint64_t off, const void *src, size_t len)
{
	return chain_copy(c, true, off, (uint8_t *)src, len, true);
}
