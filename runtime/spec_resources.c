/* config.json "linux.resources" -> struct cgroup_resources. */
#include "runtime/spec.h"
#include "runtime/spec_json.h"
#include "runtime/spec_parse.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "lib/util.h"

static int opt_i64(const struct jctx *c, yajl_val o, const char *path, const char *key,
		   struct opt_i64 *out)
{
	int r = j_i64(c, o, path, key, INT64_MIN, INT64_MAX, &out->v);

	out->set = r > 0;
	return r;
}

static int opt_u64(const struct jctx *c, yajl_val o, const char *path, const char *key,
		   uint64_t max, struct opt_u64 *out)
{
	int r = j_u64(c, o, path, key, max, &out->v);

	out->set = r > 0;
	return r;
}

static int device_rule_elem(const struct jctx *c, yajl_val v, const char *path, void *elem)
{
	struct cg_device_rule *d = elem;
	_cleanup_free_ char *type = NULL;

	if (jrequire(c, v, path, "allow") < 0 || j_bool(c, v, path, "allow", &d->allow) < 0 ||
	    j_str(c, v, path, "type", &type) < 0)
		return -EINVAL;
	if (type && (strlen(type) != 1 || !strchr("acb", type[0])))
		return jerr(c, path, "type", -1, "invalid device type \"%s\"", type);
	d->type = type ? type[0] : 'a';
	if (opt_i64(c, v, path, "major", &d->major) < 0 ||
	    opt_i64(c, v, path, "minor", &d->minor) < 0 ||
	    j_str(c, v, path, "access", &d->access) < 0)
		return -EINVAL;
	if (d->access && d->access[strspn(d->access, "rwm")] != '\0')
		return jerr(c, path, "access", -1, "invalid access \"%s\" (subset of \"rwm\")",
			    d->access);
	return 0;
}

static int parse_memory(const struct jctx *c, yajl_val v, const char *sp, void *arg)
{
	struct cgroup_resources *r = arg;

	if (opt_i64(c, v, sp, "limit", &r->memory.limit) < 0 ||
	    opt_i64(c, v, sp, "reservation", &r->memory.reservation) < 0 ||
	    opt_i64(c, v, sp, "swap", &r->memory.swap) < 0 ||
	    opt_i64(c, v, sp, "kernel", &r->memory.kernel) < 0 ||
	    opt_i64(c, v, sp, "kernelTCP", &r->memory.kernel_tcp) < 0 ||
	    opt_u64(c, v, sp, "swappiness", UINT64_MAX, &r->memory.swappiness) < 0 ||
	    j_bool(c, v, sp, "disableOOMKiller", &r->memory.disable_oom_killer) < 0 ||
	    j_bool(c, v, sp, "useHierarchy", &r->memory.use_hierarchy) < 0 ||
	    j_bool(c, v, sp, "checkBeforeUpdate", &r->memory.check_before_update) < 0)
		return -EINVAL;
	return 0;
}

static int parse_cpu(const struct jctx *c, yajl_val v, const char *sp, void *arg)
{
	struct cgroup_resources *r = arg;

	if (opt_u64(c, v, sp, "shares", UINT64_MAX, &r->cpu.shares) < 0 ||
	    opt_i64(c, v, sp, "quota", &r->cpu.quota) < 0 ||
	    opt_u64(c, v, sp, "burst", UINT64_MAX, &r->cpu.burst) < 0 ||
	    opt_u64(c, v, sp, "period", UINT64_MAX, &r->cpu.period) < 0 ||
	    opt_i64(c, v, sp, "realtimeRuntime", &r->cpu.realtime_runtime) < 0 ||
	    opt_u64(c, v, sp, "realtimePeriod", UINT64_MAX, &r->cpu.realtime_period) < 0 ||
	    j_str(c, v, sp, "cpus", &r->cpu.cpus) < 0 ||
	    j_str(c, v, sp, "mems", &r->cpu.mems) < 0 ||
	    opt_i64(c, v, sp, "idle", &r->cpu.idle) < 0)
		return -EINVAL;
	return 0;
}

static int parse_pids(const struct jctx *c, yajl_val v, const char *sp, void *arg)
{
	struct cgroup_resources *r = arg;

	return opt_i64(c, v, sp, "limit", &r->pids.limit) < 0 ? -EINVAL : 0;
}

/* major and minor, required in every blockIO device entry. */
static int block_device(const struct jctx *c, yajl_val v, const char *path, int64_t *major,
			int64_t *minor)
{
	if (jrequire(c, v, path, "major") < 0 || jrequire(c, v, path, "minor") < 0 ||
	    j_i64(c, v, path, "major", 0, INT64_MAX, major) < 0 ||
	    j_i64(c, v, path, "minor", 0, INT64_MAX, minor) < 0)
		return -EINVAL;
	return 0;
}

static int weight_device_elem(const struct jctx *c, yajl_val v, const char *path, void *elem)
{
	struct cg_weight_device *d = elem;

	if (block_device(c, v, path, &d->major, &d->minor) < 0 ||
	    opt_u64(c, v, path, "weight", UINT16_MAX, &d->weight) < 0 ||
	    opt_u64(c, v, path, "leafWeight", UINT16_MAX, &d->leaf_weight) < 0)
		return -EINVAL;
	return 0;
}

static int throttle_device_elem(const struct jctx *c, yajl_val v, const char *path, void *elem)
{
	struct cg_throttle_device *d = elem;

	if (block_device(c, v, path, &d->major, &d->minor) < 0 ||
	    jrequire(c, v, path, "rate") < 0 || j_u64(c, v, path, "rate", UINT64_MAX, &d->rate) < 0)
		return -EINVAL;
	return 0;
}

static int parse_throttle(const struct jctx *c, yajl_val v, const char *path, const char *key,
			  struct cg_throttle_device **list, size_t *n)
{
	return j_each(c, v, path, key, sizeof(**list), (void **)list, n, throttle_device_elem);
}

static int parse_block_io(const struct jctx *c, yajl_val v, const char *sp, void *arg)
{
	struct cgroup_resources *r = arg;
	typeof(r->block_io) *b = &r->block_io;

	if (opt_u64(c, v, sp, "weight", UINT16_MAX, &b->weight) < 0 ||
	    opt_u64(c, v, sp, "leafWeight", UINT16_MAX, &b->leaf_weight) < 0 ||
	    j_each(c, v, sp, "weightDevice", sizeof(*b->weight_device), (void **)&b->weight_device,
		   &b->n_weight_device, weight_device_elem) < 0 ||
	    parse_throttle(c, v, sp, "throttleReadBpsDevice", &b->throttle_read_bps,
			   &b->n_throttle_read_bps) < 0 ||
	    parse_throttle(c, v, sp, "throttleWriteBpsDevice", &b->throttle_write_bps,
			   &b->n_throttle_write_bps) < 0 ||
	    parse_throttle(c, v, sp, "throttleReadIOPSDevice", &b->throttle_read_iops,
			   &b->n_throttle_read_iops) < 0 ||
	    parse_throttle(c, v, sp, "throttleWriteIOPSDevice", &b->throttle_write_iops,
			   &b->n_throttle_write_iops) < 0)
		return -EINVAL;
	return 0;
}

static int hugepage_elem(const struct jctx *c, yajl_val v, const char *path, void *elem)
{
	struct cg_hugepage_limit *h = elem;

	if (jrequire(c, v, path, "pageSize") < 0 || jrequire(c, v, path, "limit") < 0 ||
	    j_str(c, v, path, "pageSize", &h->page_size) < 0 ||
	    j_u64(c, v, path, "limit", UINT64_MAX, &h->limit) < 0)
		return -EINVAL;
	return 0;
}

static int net_priority_elem(const struct jctx *c, yajl_val v, const char *path, void *elem)
{
	struct cg_net_priority *p = elem;

	if (jrequire(c, v, path, "name") < 0 || j_str(c, v, path, "name", &p->name) < 0 ||
	    jrequire(c, v, path, "priority") < 0 || j_u32(c, v, path, "priority", &p->priority) < 0)
		return -EINVAL;
	return 0;
}

static int parse_network(const struct jctx *c, yajl_val v, const char *sp, void *arg)
{
	struct cgroup_resources *r = arg;

	if (opt_u64(c, v, sp, "classID", UINT32_MAX, &r->network.class_id) < 0 ||
	    j_each(c, v, sp, "priorities", sizeof(*r->network.priorities),
		   (void **)&r->network.priorities, &r->network.n_priorities,
		   net_priority_elem) < 0)
		return -EINVAL;
	return 0;
}

/* linux.resources.rdma: {"mlx5_1": {"hcaHandles": 3, "hcaObjects": 10000}} becomes the
 * rdma.max line of the device: "hca_handle=3 hca_object=10000". */
static int parse_rdma(const struct jctx *c, yajl_val v, const char *sp, void *arg)
{
	struct cgroup_resources *r = arg;

	r->rdma = xcalloc(v->u.object.len, sizeof(*r->rdma));
	for (size_t i = 0; i < v->u.object.len; i++) {
		const char *dev = v->u.object.keys[i];
		_cleanup_free_ char *dp = NULL, *hs = NULL, *os = NULL;
		yajl_val d = NULL;
		uint32_t handles, objects;
		int h, ob;

		if (j_sub(c, v, sp, dev, &d, &dp) <= 0)
			return jerr(c, sp, dev, -1, "expected an object");
		h = j_u32(c, d, dp, "hcaHandles", &handles);
		ob = j_u32(c, d, dp, "hcaObjects", &objects);
		if (h < 0 || ob < 0)
			return -EINVAL;
		hs = h ? xasprintf("hca_handle=%u", handles) : xstrdup("");
		os = ob ? xasprintf("hca_object=%u", objects) : xstrdup("");
		r->rdma[i].key = xstrdup(dev);
		r->rdma[i].value = xasprintf("%s%s%s", hs, h && ob ? " " : "", os);
		r->n_rdma = i + 1;
	}
	return 0;
}

int spec_parse_resources(const struct jctx *c, yajl_val o, const char *path, void *arg)
{
	struct cgroup_resources *r = arg;

	if (j_each(c, o, path, "devices", sizeof(*r->devices), (void **)&r->devices, &r->n_devices,
		   device_rule_elem) < 0 ||
	    j_section(c, o, path, "memory", parse_memory, r) < 0 ||
	    j_section(c, o, path, "cpu", parse_cpu, r) < 0 ||
	    j_section(c, o, path, "pids", parse_pids, r) < 0 ||
	    j_section(c, o, path, "blockIO", parse_block_io, r) < 0 ||
	    j_each(c, o, path, "hugepageLimits", sizeof(*r->hugepage_limits),
		   (void **)&r->hugepage_limits, &r->n_hugepage_limits, hugepage_elem) < 0 ||
	    j_section(c, o, path, "network", parse_network, r) < 0 ||
	    j_section(c, o, path, "rdma", parse_rdma, r) < 0 ||
	    j_kv(c, o, path, "unified", sizeof(struct cg_kv), offsetof(struct cg_kv, key),
		 offsetof(struct cg_kv, value), (void **)&r->unified, &r->n_unified) < 0)
		return -EINVAL;
	return 0;
}
