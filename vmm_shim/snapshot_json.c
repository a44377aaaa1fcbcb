/* vm.json: struct vmm_snap as JSON (yajl). KVM's own structs (regs, sregs, xsave, ...) are
 * saved whole as hex strings of their bytes, named after the ioctl that fills them: they are
 * the kernel's stable ABI, and restore hands them back to the same ioctls. Small numbers are
 * JSON integers, 64-bit ones hex strings (as in the jail image). */
#include "lib/jgen.h"
#include "vmm_shim/snapshot.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_gen.h>
#include <yajl/yajl_tree.h>

#include "lib/util.h"

static void kblob(yajl_gen g, const char *k, const void *p, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	const uint8_t *b = p;
	char *s = xmalloc(2 * len + 1);

	for (size_t i = 0; i < len; i++) {
		s[2 * i] = hex[b[i] >> 4];
		s[2 * i + 1] = hex[b[i] & 15];
	}
	s[2 * len] = '\0';
	jstr(g, k);
	jstr(g, s);
	free(s);
}

static void gen_virtio(yajl_gen g, const char *k, const struct vmm_snap_virtio *t)
{
	jstr(g, k);
	yajl_gen_map_open(g);
	jkint(g, "dev_features_sel", t->dev_features_sel);
	jkint(g, "drv_features_sel", t->drv_features_sel);
	jkhex(g, "drv_features", t->drv_features);
	jkint(g, "queue_sel", t->queue_sel);
	jkint(g, "status", t->status);
	jkint(g, "isr", t->isr);
	jkint(g, "config_gen", t->config_gen);
	jstr(g, "queues");
	yajl_gen_array_open(g);
	for (unsigned i = 0; i < VMM_SNAP_MAX_QUEUES; i++) {
		const struct vmm_snap_virtq *q = &t->vq[i];

		yajl_gen_map_open(g);
		jkint(g, "num", q->num);
		jkbool(g, "ready", q->ready);
		jkbool(g, "broken", q->broken);
		jkhex(g, "desc", q->desc);
		jkhex(g, "avail", q->avail);
		jkhex(g, "used", q->used);
		jkint(g, "last_avail", q->last_avail);
		jkint(g, "used_idx", q->used_idx);
		yajl_gen_map_close(g);
	}
	yajl_gen_array_close(g);
	yajl_gen_map_close(g);
}

static void gen_vcpu(yajl_gen g, const struct vmm_snap_vcpu *c)
{
	yajl_gen_map_open(g);
	kblob(g, "regs", &c->regs, sizeof(c->regs));
	kblob(g, "sregs", &c->sregs, sizeof(c->sregs));
	kblob(g, "xsave", &c->xsave, sizeof(c->xsave));
	kblob(g, "xcrs", &c->xcrs, sizeof(c->xcrs));
	kblob(g, "lapic", &c->lapic, sizeof(c->lapic));
	kblob(g, "vcpu_events", &c->events, sizeof(c->events));
	kblob(g, "mp_state", &c->mp_state, sizeof(c->mp_state));
	kblob(g, "debugregs", &c->debugregs, sizeof(c->debugregs));
	jstr(g, "msrs");
	yajl_gen_array_open(g);
	for (unsigned i = 0; i < c->n_msrs; i++) {
		yajl_gen_map_open(g);
		jkhex(g, "index", c->msrs[i].index);
		jkhex(g, "value", c->msrs[i].data);
		yajl_gen_map_close(g);
	}
	yajl_gen_array_close(g);
	yajl_gen_map_close(g);
}

char *vmm_snap_to_json(const struct vmm_snap *s)
{
	yajl_gen g = yajl_gen_alloc(NULL);
	const unsigned char *buf;
	size_t len;
	char *out;

	yajl_gen_config(g, yajl_gen_beautify, 1);
	yajl_gen_map_open(g);
	jkint(g, "version", s->version);
	jkhex(g, "mem_bytes", s->mem_bytes);
	if (s->token)
		jkhex(g, "token", s->token);
	if (s->parent_token)
		jkhex(g, "parent_token", s->parent_token);
	if (s->pre_dump)
		jkbool(g, "pre_dump", true);
	jstr(g, "memory");
	yajl_gen_array_open(g);
	for (size_t i = 0; i < s->n_ranges; i++) {
		yajl_gen_map_open(g);
		jkhex(g, "offset", s->ranges[i].off);
		jkhex(g, "bytes", s->ranges[i].len);
		yajl_gen_map_close(g);
	}
	yajl_gen_array_close(g);
	jstr(g, "vcpus");
	yajl_gen_array_open(g);
	for (unsigned i = 0; i < s->n_vcpus; i++)
		gen_vcpu(g, &s->vcpus[i]);
	yajl_gen_array_close(g);
	kblob(g, "pic_master", &s->pic_master, sizeof(s->pic_master));
	kblob(g, "pic_slave", &s->pic_slave, sizeof(s->pic_slave));
	kblob(g, "ioapic", &s->ioapic, sizeof(s->ioapic));
	kblob(g, "pit2", &s->pit, sizeof(s->pit));
	kblob(g, "clock", &s->clock, sizeof(s->clock));

	jstr(g, "uart");
	yajl_gen_map_open(g);
	jkint(g, "ier", s->uart.ier);
	jkint(g, "lcr", s->uart.lcr);
	jkint(g, "mcr", s->uart.mcr);
	jkint(g, "scr", s->uart.scr);
	jkint(g, "dll", s->uart.dll);
	jkint(g, "dlm", s->uart.dlm);
	jkint(g, "fcr", s->uart.fcr);
	jkbool(g, "thri_pending", s->uart.thri_pending);
	jkint(g, "irq_level", s->uart.irq_level);
	kblob(g, "rx", s->uart.rx, sizeof(s->uart.rx));
	jkint(g, "rx_head", s->uart.rx_head);
	jkint(g, "rx_count", s->uart.rx_count);
	yajl_gen_map_close(g);

	jstr(g, "i8042");
	yajl_gen_map_open(g);
	jkint(g, "ctr", s->i8042.ctr);
	jkint(g, "out", s->i8042.out);
	jkbool(g, "out_full", s->i8042.out_full);
	jkint(g, "pending_cmd", s->i8042.pending_cmd);
	yajl_gen_map_close(g);

	jstr(g, "cmos");
	yajl_gen_map_open(g);
	jkint(g, "index", s->cmos.index);
	kblob(g, "ram", s->cmos.ram, sizeof(s->cmos.ram));
	yajl_gen_map_close(g);
	kblob(g, "acpi_pm_en", s->acpi_pm_en, sizeof(s->acpi_pm_en));

	jstr(g, "disks");
	yajl_gen_array_open(g);
	for (unsigned i = 0; i < s->n_disks; i++) {
		yajl_gen_map_open(g);
		gen_virtio(g, "virtio", &s->disks[i]);
		yajl_gen_map_close(g);
	}
	yajl_gen_array_close(g);

	jstr(g, "console");
	if (!s->has_console) {
		yajl_gen_null(g);
	} else {
		yajl_gen_map_open(g);
		gen_virtio(g, "virtio", &s->console.t);
		jstr(g, "ports");
		yajl_gen_array_open(g);
		for (unsigned i = 0; i < s->console.n_ports; i++) {
			const struct vmm_snap_port *p = &s->console.port[i];

			yajl_gen_map_open(g);
			jkbool(g, "host_open", p->host_open);
			jkbool(g, "ready", p->ready);
			jkbool(g, "guest_open", p->guest_open);
			jkint(g, "guest_closes", p->guest_closes);
			yajl_gen_map_close(g);
		}
		yajl_gen_array_close(g);
		jstr(g, "ctrl_pending");
		yajl_gen_array_open(g);
		for (unsigned i = 0; i < s->console.n_ctrl; i++) {
			yajl_gen_map_open(g);
			jkint(g, "id", s->console.ctrl[i].id);
			jkint(g, "event", s->console.ctrl[i].event);
			jkint(g, "value", s->console.ctrl[i].value);
			yajl_gen_map_close(g);
		}
		yajl_gen_array_close(g);
		yajl_gen_map_close(g);
	}
	yajl_gen_map_close(g);
	yajl_gen_get_buf(g, &buf, &len);
	out = xmalloc(len + 1);
	memcpy(out, buf, len);
	out[len] = '\0';
	yajl_gen_free(g);
	return out;
}

/* ---- reading ------------------------------------------------------------------------------ */

struct rd {
	struct werr **err;
	char where[128]; /* the JSON path of the object being read, for messages */
};

static yajl_val field(yajl_val o, const char *k)
{
	const char *path[] = {k, NULL};

	return o && YAJL_IS_OBJECT(o) ? yajl_tree_get(o, path, yajl_t_any) : NULL;
}

static int rdint(struct rd *r, yajl_val o, const char *k, long long lo, long long hi,
		 long long *out)
{
	yajl_val v = field(o, k);

	if (!v || !YAJL_IS_INTEGER(v) || YAJL_GET_INTEGER(v) < lo || YAJL_GET_INTEGER(v) > hi)
		return werr_set(r->err, EINVAL,
				"vm.json: %s.%s: missing or not an integer in [%lld, %lld]",
				r->where, k, lo, hi);
	*out = YAJL_GET_INTEGER(v);
	return 0;
}

/* An integer field into dst, refused when it does not fit dst's type. */
#define RINT(r, o, k, dst)                                                                         \
	({                                                                                         \
		long long v_ = 0;                                                                  \
		int rc_ = rdint(r, o, k, 0, 0xffffffffll, &v_);                                    \
		if (rc_ == 0) {                                                                    \
			dst = (__typeof__(dst))v_;                                                 \
			if ((long long)dst != v_)                                                  \
				rc_ = werr_set(r->err, EINVAL,                                     \
					       "vm.json: %s.%s: %lld is out of range", r->where,   \
					       k, v_);                                             \
		}                                                                                  \
		rc_;                                                                               \
	})

static int rbool(struct rd *r, yajl_val o, const char *k, bool *out)
{
	yajl_val v = field(o, k);

	if (!v || !(YAJL_IS_TRUE(v) || YAJL_IS_FALSE(v)))
		return werr_set(r->err, EINVAL, "vm.json: %s.%s: missing or not a boolean",
				r->where, k);
	*out = YAJL_IS_TRUE(v);
	return 0;
}

static int rhex(struct rd *r, yajl_val o, const char *k, uint64_t *out)
{
	yajl_val v = field(o, k);
	const char *s = v && YAJL_IS_STRING(v) ? YAJL_GET_STRING(v) : NULL;
	char *end;

	if (!s || strncmp(s, "0x", 2) != 0 || !s[2])
		goto bad;
	errno = 0;
	*out = strtoull(s + 2, &end, 16);
	if (errno || *end)
		goto bad;
	return 0;
bad:
	return werr_set(r->err, EINVAL, "vm.json: %s.%s: missing or not a \"0x...\" hex string",
			r->where, k);
}

/* optional fields: absent leaves *out as it is */
static int opt_hex(struct rd *r, yajl_val o, const char *k, uint64_t *out)
{
	return field(o, k) ? rhex(r, o, k, out) : 0;
}

static int opt_bool(struct rd *r, yajl_val o, const char *k, bool *out)
{
	return field(o, k) ? rbool(r, o, k, out) : 0;
}

static int unhex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* A hex blob of exactly len bytes (the size of the KVM struct it fills). */
static int rblob(struct rd *r, yajl_val o, const char *k, void *dst, size_t len)
{
	yajl_val v = field(o, k);
	const char *s = v && YAJL_IS_STRING(v) ? YAJL_GET_STRING(v) : NULL;
	uint8_t *b = dst;

	if (!s)
		return werr_set(r->err, EINVAL, "vm.json: %s.%s: missing or not a hex string",
				r->where, k);
	if (strlen(s) != 2 * len)
		return werr_set(r->err, EINVAL,
				"vm.json: %s.%s: %zu hex digits, want %zu (the size of the "
				"kernel's struct on this host)",
				r->where, k, strlen(s), 2 * len);
	for (size_t i = 0; i < len; i++) {
		int hi = unhex_digit(s[2 * i]), lo = unhex_digit(s[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return werr_set(r->err, EINVAL, "vm.json: %s.%s: not lowercase hex",
					r->where, k);
		b[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

static yajl_val rarray(struct rd *r, yajl_val o, const char *k, size_t max, size_t *n)
{
	yajl_val v = field(o, k);

	if (!v || !YAJL_IS_ARRAY(v)) {
		werr_set(r->err, EINVAL, "vm.json: %s.%s: missing or not an array", r->where, k);
		return NULL;
	}
	if (v->u.array.len > max) {
		werr_set(r->err, EINVAL, "vm.json: %s.%s: %zu entries, at most %zu", r->where, k,
			 v->u.array.len, max);
		return NULL;
	}
	*n = v->u.array.len;
	return v;
}

static void at(struct rd *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void at(struct rd *r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(r->where, sizeof(r->where), fmt, ap);
	va_end(ap);
}

static int read_virtio(struct rd *r, yajl_val o, const char *name, struct vmm_snap_virtio *t)
{
	yajl_val qs;
	size_t n;

	at(r, "%s", name);
	if (!o || !YAJL_IS_OBJECT(o))
		return werr_set(r->err, EINVAL, "vm.json: %s: missing or not an object", name);
	if (RINT(r, o, "dev_features_sel", t->dev_features_sel) < 0 ||
	    RINT(r, o, "drv_features_sel", t->drv_features_sel) < 0 ||
	    rhex(r, o, "drv_features", &t->drv_features) < 0 ||
	    RINT(r, o, "queue_sel", t->queue_sel) < 0 || RINT(r, o, "status", t->status) < 0 ||
	    RINT(r, o, "isr", t->isr) < 0 || RINT(r, o, "config_gen", t->config_gen) < 0)
		return -EINVAL;
	qs = rarray(r, o, "queues", VMM_SNAP_MAX_QUEUES, &n);
	if (!qs)
		return -EINVAL;
	if (n != VMM_SNAP_MAX_QUEUES)
		return werr_set(r->err, EINVAL, "vm.json: %s.queues: %zu entries, want %d", name, n,
				VMM_SNAP_MAX_QUEUES);
	for (size_t i = 0; i < n; i++) {
		yajl_val q = qs->u.array.values[i];
		struct vmm_snap_virtq *v = &t->vq[i];

		at(r, "%s.queues[%zu]", name, i);
		if (RINT(r, q, "num", v->num) < 0 || rbool(r, q, "ready", &v->ready) < 0 ||
		    rbool(r, q, "broken", &v->broken) < 0 || rhex(r, q, "desc", &v->desc) < 0 ||
		    rhex(r, q, "avail", &v->avail) < 0 || rhex(r, q, "used", &v->used) < 0 ||
		    RINT(r, q, "last_avail", v->last_avail) < 0 ||
		    RINT(r, q, "used_idx", v->used_idx) < 0)
			return -EINVAL;
	}
	return 0;
}

static int read_vcpu(struct rd *r, yajl_val o, unsigned i, struct vmm_snap_vcpu *c)
{
	yajl_val msrs;
	size_t n;

	at(r, "vcpus[%u]", i);
	if (rblob(r, o, "regs", &c->regs, sizeof(c->regs)) < 0 ||
	    rblob(r, o, "sregs", &c->sregs, sizeof(c->sregs)) < 0 ||
	    rblob(r, o, "xsave", &c->xsave, sizeof(c->xsave)) < 0 ||
	    rblob(r, o, "xcrs", &c->xcrs, sizeof(c->xcrs)) < 0 ||
	    rblob(r, o, "lapic", &c->lapic, sizeof(c->lapic)) < 0 ||
	    rblob(r, o, "vcpu_events", &c->events, sizeof(c->events)) < 0 ||
	    rblob(r, o, "mp_state", &c->mp_state, sizeof(c->mp_state)) < 0 ||
	    rblob(r, o, "debugregs", &c->debugregs, sizeof(c->debugregs)) < 0)
		return -EINVAL;
	msrs = rarray(r, o, "msrs", VMM_SNAP_MAX_MSRS, &n);
	if (!msrs)
		return -EINVAL;
	c->n_msrs = (unsigned)n;
	for (size_t j = 0; j < n; j++) {
		uint64_t idx;

		at(r, "vcpus[%u].msrs[%zu]", i, j);
		if (rhex(r, msrs->u.array.values[j], "index", &idx) < 0 ||
		    rhex(r, msrs->u.array.values[j], "value", (uint64_t *)&c->msrs[j].data) < 0)
			return -EINVAL;
		if (idx > 0xffffffffu)
			return werr_set(r->err, EINVAL, "vm.json: %s.index: above 32 bits",
					r->where);
		c->msrs[j].index = (uint32_t)idx;
	}
	return 0;
}

static int read_console(struct rd *r, yajl_val o, struct vmm_snap *s)
{
	yajl_val a;
	size_t n;

	if (YAJL_IS_NULL(o))
		return 0;
	s->has_console = true;
	if (read_virtio(r, field(o, "virtio"), "console.virtio", &s->console.t) < 0)
		return -EINVAL;
	at(r, "console");
	a = rarray(r, o, "ports", VMM_SNAP_MAX_PORTS, &n);
	if (!a)
		return -EINVAL;
	s->console.n_ports = (unsigned)n;
	for (size_t i = 0; i < n; i++) {
		yajl_val p = a->u.array.values[i];
		struct vmm_snap_port *sp = &s->console.port[i];

		at(r, "console.ports[%zu]", i);
		if (rbool(r, p, "host_open", &sp->host_open) < 0 ||
		    rbool(r, p, "ready", &sp->ready) < 0 ||
		    rbool(r, p, "guest_open", &sp->guest_open) < 0 ||
		    RINT(r, p, "guest_closes", sp->guest_closes) < 0)
			return -EINVAL;
	}
	at(r, "console");
	a = rarray(r, o, "ctrl_pending", VMM_SNAP_MAX_CTRL, &n);
	if (!a)
		return -EINVAL;
	s->console.n_ctrl = (unsigned)n;
	for (size_t i = 0; i < n; i++) {
		yajl_val m = a->u.array.values[i];
		struct vmm_snap_ctrl *c = &s->console.ctrl[i];

		at(r, "console.ctrl_pending[%zu]", i);
		if (RINT(r, m, "id", c->id) < 0 || RINT(r, m, "event", c->event) < 0 ||
		    RINT(r, m, "value", c->value) < 0)
			return -EINVAL;
	}
	return 0;
}

static int read_all_fields(struct rd *r, yajl_val root, struct vmm_snap *s)
{
	yajl_val a, o;
	size_t n;

	at(r, "(top)");
	if (RINT(r, root, "version", s->version) < 0)
		return -EINVAL;
	if (s->version != VMM_SNAP_VERSION)
		return werr_set(r->err, EINVAL, "vm.json: version %d, this ward reads version %d",
				s->version, VMM_SNAP_VERSION);
	if (rhex(r, root, "mem_bytes", &s->mem_bytes) < 0)
		return -EINVAL;
	if (opt_hex(r, root, "token", &s->token) < 0 ||
	    opt_hex(r, root, "parent_token", &s->parent_token) < 0 ||
	    opt_bool(r, root, "pre_dump", &s->pre_dump) < 0)
		return -EINVAL;
	a = rarray(r, root, "memory", SIZE_MAX, &n);
	if (!a)
		return -EINVAL;
	s->n_ranges = n;
	s->ranges = xcalloc(n ? n : 1, sizeof(*s->ranges));
	for (size_t i = 0; i < n; i++) {
		struct vmm_snap_range *m = &s->ranges[i];
		uint64_t prev_end = i ? s->ranges[i - 1].off + s->ranges[i - 1].len : 0;

		at(r, "memory[%zu]", i);
		if (rhex(r, a->u.array.values[i], "offset", &m->off) < 0 ||
		    rhex(r, a->u.array.values[i], "bytes", &m->len) < 0)
			return -EINVAL;
		if ((m->off | m->len) & 4095 || m->len == 0 || m->off < prev_end ||
		    m->off > s->mem_bytes || m->len > s->mem_bytes - m->off)
			return werr_set(r->err, EINVAL,
					"vm.json: %s: not page aligned, empty, out of order or "
					"outside the %llu bytes of RAM",
					r->where, (unsigned long long)s->mem_bytes);
	}
	at(r, "(top)");
	a = rarray(r, root, "vcpus", VMM_MAX_VCPUS, &n);
	if (!a)
		return -EINVAL;
	if (n == 0)
		return werr_set(r->err, EINVAL, "vm.json: vcpus: empty");
	s->n_vcpus = (unsigned)n;
	s->vcpus = xcalloc(n, sizeof(*s->vcpus));
	for (size_t i = 0; i < n; i++)
		if (read_vcpu(r, a->u.array.values[i], (unsigned)i, &s->vcpus[i]) < 0)
			return -EINVAL;
	at(r, "(top)");
	if (rblob(r, root, "pic_master", &s->pic_master, sizeof(s->pic_master)) < 0 ||
	    rblob(r, root, "pic_slave", &s->pic_slave, sizeof(s->pic_slave)) < 0 ||
	    rblob(r, root, "ioapic", &s->ioapic, sizeof(s->ioapic)) < 0 ||
	    rblob(r, root, "pit2", &s->pit, sizeof(s->pit)) < 0 ||
	    rblob(r, root, "clock", &s->clock, sizeof(s->clock)) < 0)
		return -EINVAL;
	o = field(root, "uart");
	at(r, "uart");
	if (RINT(r, o, "ier", s->uart.ier) < 0 || RINT(r, o, "lcr", s->uart.lcr) < 0 ||
	    RINT(r, o, "mcr", s->uart.mcr) < 0 || RINT(r, o, "scr", s->uart.scr) < 0 ||
	    RINT(r, o, "dll", s->uart.dll) < 0 || RINT(r, o, "dlm", s->uart.dlm) < 0 ||
	    RINT(r, o, "fcr", s->uart.fcr) < 0 ||
	    rbool(r, o, "thri_pending", &s->uart.thri_pending) < 0 ||
	    RINT(r, o, "irq_level", s->uart.irq_level) < 0 ||
	    rblob(r, o, "rx", s->uart.rx, sizeof(s->uart.rx)) < 0 ||
	    rdint(r, o, "rx_head", 0, VMM_SNAP_UART_FIFO - 1, &(long long){0}) < 0 ||
	    RINT(r, o, "rx_head", s->uart.rx_head) < 0 ||
	    rdint(r, o, "rx_count", 0, VMM_SNAP_UART_FIFO, &(long long){0}) < 0 ||
	    RINT(r, o, "rx_count", s->uart.rx_count) < 0)
		return -EINVAL;
	o = field(root, "i8042");
	at(r, "i8042");
	if (RINT(r, o, "ctr", s->i8042.ctr) < 0 || RINT(r, o, "out", s->i8042.out) < 0 ||
	    rbool(r, o, "out_full", &s->i8042.out_full) < 0 ||
	    RINT(r, o, "pending_cmd", s->i8042.pending_cmd) < 0)
		return -EINVAL;
	o = field(root, "cmos");
	at(r, "cmos");
	if (RINT(r, o, "index", s->cmos.index) < 0 ||
	    rblob(r, o, "ram", s->cmos.ram, sizeof(s->cmos.ram)) < 0)
		return -EINVAL;
	at(r, "(top)");
	if (rblob(r, root, "acpi_pm_en", s->acpi_pm_en, sizeof(s->acpi_pm_en)) < 0)
		return -EINVAL;
	a = rarray(r, root, "disks", VMM_MAX_DISKS, &n);
	if (!a)
		return -EINVAL;
	s->n_disks = (unsigned)n;
	for (size_t i = 0; i < n; i++) {
		char name[48]; /* "disks[" + any size_t + "].virtio" */

		snprintf(name, sizeof(name), "disks[%zu].virtio", i);
		if (read_virtio(r, field(a->u.array.values[i], "virtio"), name, &s->disks[i]) < 0)
			return -EINVAL;
	}
	o = field(root, "console");
	if (!o)
		return werr_set(r->err, EINVAL, "vm.json: console: missing (null when none)");
	return read_console(r, o, s);
}

int vmm_snap_from_json(const char *text, size_t len, struct vmm_snap *s, struct werr **err)
{
	struct rd r = {.err = err};
	char ebuf[256];
	_cleanup_free_ char *copy = xmalloc(len + 1);
	yajl_val root;
	int rc;

	memset(s, 0, sizeof(*s));
	memcpy(copy, text, len);
	copy[len] = '\0';
	root = yajl_tree_parse(copy, ebuf, sizeof(ebuf));
	if (!root || !YAJL_IS_OBJECT(root)) {
		if (root)
			yajl_tree_free(root);
		ebuf[strcspn(ebuf, "\n")] = '\0';
		return werr_set(err, EINVAL, "vm.json: not a JSON object: %s", ebuf);
	}
	rc = read_all_fields(&r, root, s);
	yajl_tree_free(root);
	if (rc < 0)
		vmm_snap_free(s);
	return rc;
}

void vmm_snap_free(struct vmm_snap *s)
{
	free(s->ranges);
	s->ranges = NULL;
	s->n_ranges = 0;
	free(s->vcpus);
	s->vcpus = NULL;
	s->n_vcpus = 0;
}

int vmm_snap_check_parent(const struct vmm_snap *child, const char *child_path,
			  const struct vmm_snap *parent, const char *parent_path, struct werr **err)
{
	if (!child->parent_token)
		return werr_set(err, EINVAL,
				"%s has a parent image (%s), but its vm.json no "
				"\"parent_token\"",
				child_path, parent_path);
	if (!parent->token || parent->token != child->parent_token)
		return werr_set(err, EINVAL,
				"%s is not the parent of %s (vm.json \"token\" 0x%llx, the child's "
				"\"parent_token\" 0x%llx): an image of another container or "
				"another pre-dump round",
				parent_path, child_path, (unsigned long long)parent->token,
				(unsigned long long)child->parent_token);
	if (parent->mem_bytes != child->mem_bytes)
		return werr_set(err, EINVAL, "%s has %llu MiB of guest RAM, its child %s %llu MiB",
				parent_path, (unsigned long long)(parent->mem_bytes >> 20),
				child_path, (unsigned long long)(child->mem_bytes >> 20));
	return 0;
}
