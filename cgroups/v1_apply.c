/* cgroup v1 backend: linux.resources -> the v1 controller files. Only what res sets is
 * written (create and update alike); an unset field leaves the kernel's value alone. */
#include "cgroups/v1_int.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "lib/util.h"

/* ---- pure helpers ---------------------------------------------------------------------------- */

int cgv1_device_rule(const struct cg_device_rule *r, char *buf, size_t n)
{
	char maj[24] = "*", min[24] = "*";
	const char *access = r->access && *r->access ? r->access : "rwm";

	if (r->type == 'a') {
		snprintf(buf, n, "a");
		return 0;
	}
	if (r->type != 'c' && r->type != 'b')
		return -EINVAL;
	if (strspn(access, "rwm") != strlen(access))
		return -EINVAL;
	if (r->major.set && r->major.v >= 0)
		snprintf(maj, sizeof(maj), "%" PRId64, r->major.v);
	if (r->minor.set && r->minor.v >= 0)
		snprintf(min, sizeof(min), "%" PRId64, r->minor.v);
	snprintf(buf, n, "%c %s:%s %s", r->type, maj, min, access);
	return 0;
}

bool cgv1_memsw_first(int64_t cur_limit, int64_t new_swap)
{
	if (new_swap < 0)
		return true; /* memsw unlimited first: any limit fits under it */
	if (cur_limit < 0)
		return false; /* unlimited limit never fits under a finite memsw */
	return cur_limit <= new_swap;
}

bool cgv1_cfs_period_first(int64_t cur_quota, uint64_t cur_period, int64_t new_quota,
			   uint64_t new_period)
{
	/* in between: period first -> cur_quota/new_period; quota first -> new_quota/cur_period */
	if (cur_quota < 0)
		return new_quota < 0;
	if (new_quota < 0)
		return true;
	return (unsigned __int128)cur_quota * cur_period <=
	       (unsigned __int128)new_quota * new_period;
}

void cgv1_blkio_dev(char *buf, size_t n, int64_t major, int64_t minor, uint64_t value)
{
	snprintf(buf, n, "%" PRId64 ":%" PRId64 " %" PRIu64, major, minor, value);
}

uint64_t cgv1_mem_limit(uint64_t v)
{
	/* PAGE_COUNTER_MAX is LONG_MAX / PAGE_SIZE pages: anything that high means unlimited */
	return v >= 0x7fffffffff000000ULL ? UINT64_MAX : v;
}

/* ---- writing
 * -------------------------------------------------------------------------------------- */

static int need(struct v1_priv *p, enum v1_ctrl c, const char *what, struct werr **err)
{
	if (v1_fd(p, c) >= 0)
		return 0;
	return werr_set(err, ENOTSUP, "linux.resources.%s: the %s cgroup controller is %s", what,
			cgv1_ctrl_name(c),
			p->m.of[c] < 0 ? "not mounted on this host" : "missing for this container");
}

static bool has(struct v1_priv *p, enum v1_ctrl c, const char *file)
{
	int fd = v1_fd(p, c);

	return fd >= 0 && faccessat(fd, file, F_OK, 0) == 0;
}

static int wr(struct v1_priv *p, enum v1_ctrl c, const char *file, const char *val,
	      struct werr **err)
{
	return cg_write(v1_fd(p, c), v1_dir(p, c), file, val, err);
}

static int wr_i64(struct v1_priv *p, enum v1_ctrl c, const char *file, int64_t v, struct werr **err)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%" PRId64, v);
	return wr(p, c, file, buf, err);
}

static int rd_i64(struct v1_priv *p, enum v1_ctrl c, const char *file, int64_t *v)
{
	_cleanup_free_ char *s = NULL;
	long long x;

	if (cg_read(v1_fd(p, c), v1_dir(p, c), file, &s, NULL) < 0)
		return -1;
	s[strcspn(s, "\n")] = 0;
	if (parse_int64(s, &x) < 0)
		return -1;
	*v = x;
	return 0;
}

/* Write a then b, or b then a; if the first write is refused as invalid, try the other way. */
static int wr_pair(struct v1_priv *p, enum v1_ctrl c, bool a_first, const char *fa, int64_t va,
		   const char *fb, int64_t vb, struct werr **err)
{
	const char *f1 = a_first ? fa : fb, *f2 = a_first ? fb : fa;
	int64_t v1 = a_first ? va : vb, v2 = a_first ? vb : va;
	_cleanup_werr_ struct werr *e = NULL;
	int r = wr_i64(p, c, f1, v1, &e);

	if (r == -EINVAL) {
		r = wr_i64(p, c, f2, v2, err);
		return r < 0 ? r : wr_i64(p, c, f1, v1, err);
	}
	if (r < 0) {
		if (err && !*err)
			*err = steal_ptr(e);
		return r;
	}
	return wr_i64(p, c, f2, v2, err);
}

static int apply_cpu(struct v1_priv *p, const struct cgroup_resources *res, struct werr **err)
{
	const typeof(res->cpu) *c = &res->cpu;
	bool quota = c->quota.set, period = c->period.set && c->period.v > 0;
	int64_t cur_q = -1, cur_p = 100000, cur_burst = 0;
	int r = 0;

	if (!c->shares.set && !quota && !period && !c->burst.set && !c->realtime_period.set &&
	    !c->realtime_runtime.set && !c->idle.set)
		return 0;
	r = need(p, V1_CPU, "cpu", err);
	if (r < 0)
		return r;
	if (c->shares.set && c->shares.v &&
	    (r = wr_i64(p, V1_CPU, "cpu.shares", (int64_t)c->shares.v, err)) < 0)
		return r;
	rd_i64(p, V1_CPU, "cpu.cfs_quota_us", &cur_q);
	rd_i64(p, V1_CPU, "cpu.cfs_period_us", &cur_p);
	rd_i64(p, V1_CPU, "cpu.cfs_burst_us", &cur_burst);
	/* the kernel keeps burst <= quota: a smaller burst goes in before the quota */
	if (c->burst.set && (int64_t)c->burst.v < cur_burst &&
	    (r = wr_i64(p, V1_CPU, "cpu.cfs_burst_us", (int64_t)c->burst.v, err)) < 0)
		return r;
	if (quota && period) {
		int64_t q = c->quota.v < 0 ? -1 : c->quota.v;

		r = wr_pair(p, V1_CPU,
			    cgv1_cfs_period_first(cur_q, (uint64_t)cur_p, q, c->period.v),
			    "cpu.cfs_period_us", (int64_t)c->period.v, "cpu.cfs_quota_us", q, err);
	} else if (period) {
		r = wr_i64(p, V1_CPU, "cpu.cfs_period_us", (int64_t)c->period.v, err);
	} else if (quota) {
		r = wr_i64(p, V1_CPU, "cpu.cfs_quota_us", c->quota.v < 0 ? -1 : c->quota.v, err);
	}
	if (r < 0)
		return r;
	if (c->burst.set && (int64_t)c->burst.v >= cur_burst) {
		if (!has(p, V1_CPU, "cpu.cfs_burst_us"))
			return c->burst.v ? werr_set(err, ENOTSUP,
						     "linux.resources.cpu.burst: "
						     "this kernel has no cpu.cfs_burst_us")
					  : 0;
		if ((r = wr_i64(p, V1_CPU, "cpu.cfs_burst_us", (int64_t)c->burst.v, err)) < 0)
			return r;
	}
	if (c->realtime_period.set && c->realtime_runtime.set)
		r = wr_pair(p, V1_CPU, true, "cpu.rt_period_us", (int64_t)c->realtime_period.v,
			    "cpu.rt_runtime_us", c->realtime_runtime.v, err);
	else if (c->realtime_period.set)
		r = wr_i64(p, V1_CPU, "cpu.rt_period_us", (int64_t)c->realtime_period.v, err);
	else if (c->realtime_runtime.set)
		r = wr_i64(p, V1_CPU, "cpu.rt_runtime_us", c->realtime_runtime.v, err);
	if (r < 0)
		return r;
	if (c->idle.set)
		r = wr_i64(p, V1_CPU, "cpu.idle", c->idle.v, err);
	return r;
}

static int apply_cpuset(struct v1_priv *p, const struct cgroup_resources *res, struct werr **err)
{
	int r;

	if (!res->cpu.cpus && !res->cpu.mems)
		return 0;
	r = need(p, V1_CPUSET, res->cpu.cpus ? "cpu.cpus" : "cpu.mems", err);
	if (r < 0)
		return r;
	if (res->cpu.cpus && (r = wr(p, V1_CPUSET, "cpuset.cpus", res->cpu.cpus, err)) < 0)
		return r;
	if (res->cpu.mems && (r = wr(p, V1_CPUSET, "cpuset.mems", res->cpu.mems, err)) < 0)
		return r;
	return 0;
}

static int apply_memory(struct v1_priv *p, const struct cgroup_resources *res, struct werr **err)
{
	const typeof(res->memory) *m = &res->memory;
	/* 0 means "not given" for the byte counts, as in runc */
	bool limit = m->limit.set && m->limit.v, swap = m->swap.set && m->swap.v;
	bool resv = m->reservation.set && m->reservation.v;
	int64_t lim = limit && m->limit.v < 0 ? -1 : m->limit.v;
	int64_t sw = swap && m->swap.v < 0 ? -1 : m->swap.v;
	int r = 0;

	if (!limit && !swap && !resv && !m->swappiness.set && !m->disable_oom_killer)
		return 0;
	r = need(p, V1_MEMORY, "memory", err);
	if (r < 0)
		return r;
	/* swap accounting may be off (no memsw files): then swap cannot be limited at all */
	if (swap && !has(p, V1_MEMORY, "memory.memsw.limit_in_bytes")) {
		if (sw >= 0 && (!limit || sw != lim))
			return werr_set(err, ENOTSUP,
					"linux.resources.memory.swap: swap "
					"accounting is off on this host (no "
					"memory.memsw.limit_in_bytes)");
		swap = false;
	}
	if (limit && swap) {
		uint64_t cur = UINT64_MAX;

		if (cg_read_u64(v1_fd(p, V1_MEMORY), v1_dir(p, V1_MEMORY), "memory.limit_in_bytes",
				&cur, NULL) == 0)
			cur = cgv1_mem_limit(cur);
		r = wr_pair(p, V1_MEMORY,
			    cgv1_memsw_first(cur == UINT64_MAX ? -1 : (int64_t)cur, sw),
			    "memory.memsw.limit_in_bytes", sw, "memory.limit_in_bytes", lim, err);
	} else if (limit) {
		r = wr_i64(p, V1_MEMORY, "memory.limit_in_bytes", lim, err);
	} else if (swap) {
		r = wr_i64(p, V1_MEMORY, "memory.memsw.limit_in_bytes", sw, err);
	}
	if (r < 0)
		return r;
	if (resv && (r = wr_i64(p, V1_MEMORY, "memory.soft_limit_in_bytes",
				m->reservation.v < 0 ? -1 : m->reservation.v, err)) < 0)
		return r;
	if (m->swappiness.set &&
	    (r = wr_i64(p, V1_MEMORY, "memory.swappiness", (int64_t)m->swappiness.v, err)) < 0)
		return r;
	/* kernel and kernelTCP: memory.kmem.* is deprecated (and a no-op on new kernels) */
	if (m->disable_oom_killer)
		r = wr(p, V1_MEMORY, "memory.oom_control", "1", err);
	return r;
}

static int apply_pids(struct v1_priv *p, const struct cgroup_resources *res, struct werr **err)
{
	int r;

	if (!res->pids.limit.set || res->pids.limit.v == 0) /* 0: unchanged, as runc */
		return 0;
	r = need(p, V1_PIDS, "pids", err);
	if (r < 0)
		return r;
	if (res->pids.limit.v <= 0)
		return wr(p, V1_PIDS, "pids.max", "max", err);
	return wr_i64(p, V1_PIDS, "pids.max", res->pids.limit.v, err);
}

static int wr_devs(struct v1_priv *p, const char *file, const struct cg_throttle_device *d,
		   size_t n, struct werr **err)
{
	char buf[96];
	int r;

	for (size_t i = 0; i < n; i++) {
		cgv1_blkio_dev(buf, sizeof(buf), d[i].major, d[i].minor, d[i].rate);
		if ((r = wr(p, V1_BLKIO, file, buf, err)) < 0)
			return r;
	}
	return 0;
}

/* blkio.weight went away with CFQ; BFQ has blkio.bfq.weight (same range). */
static const char *blkio_file(struct v1_priv *p, const char *cfq, const char *bfq)
{
	if (has(p, V1_BLKIO, cfq))
		return cfq;
	return bfq && has(p, V1_BLKIO, bfq) ? bfq : NULL;
}

static int apply_blkio(struct v1_priv *p, const struct cgroup_resources *res, struct werr **err)
{
	const typeof(res->block_io) *b = &res->block_io;
	const char *f;
	char buf[96];
	int r;

	if (!b->weight.set && !b->leaf_weight.set && !b->n_weight_device &&
	    !b->n_throttle_read_bps && !b->n_throttle_write_bps && !b->n_throttle_read_iops &&
	    !b->n_throttle_write_iops)
		return 0;
	r = need(p, V1_BLKIO, "blockIO", err);
	if (r < 0)
		return r;
	if (b->weight.set && b->weight.v) {
		if (!(f = blkio_file(p, "blkio.weight", "blkio.bfq.weight")))
			return werr_set(err, ENOTSUP,
					"linux.resources.blockIO.weight: neither "
					"blkio.weight nor blkio.bfq.weight exists "
					"(no CFQ/BFQ I/O scheduler)");
		if ((r = wr_i64(p, V1_BLKIO, f, (int64_t)b->weight.v, err)) < 0)
			return r;
	}
	/* leaf weights were CFQ-only: without blkio.leaf_weight there is nothing to set */
	if (b->leaf_weight.set && has(p, V1_BLKIO, "blkio.leaf_weight") &&
	    (r = wr_i64(p, V1_BLKIO, "blkio.leaf_weight", (int64_t)b->leaf_weight.v, err)) < 0)
		return r;
	for (size_t i = 0; i < b->n_weight_device; i++) {
		const struct cg_weight_device *d = &b->weight_device[i];

		if (d->weight.set) {
			f = blkio_file(p, "blkio.weight_device", "blkio.bfq.weight_device");
			if (!f)
				return werr_set(err, ENOTSUP,
						"linux.resources.blockIO.weightDevice: "
						"no blkio.weight_device on this host");
			cgv1_blkio_dev(buf, sizeof(buf), d->major, d->minor, d->weight.v);
			if ((r = wr(p, V1_BLKIO, f, buf, err)) < 0)
				return r;
		}
		if (d->leaf_weight.set && has(p, V1_BLKIO, "blkio.leaf_weight_device")) {
			cgv1_blkio_dev(buf, sizeof(buf), d->major, d->minor, d->leaf_weight.v);
			if ((r = wr(p, V1_BLKIO, "blkio.leaf_weight_device", buf, err)) < 0)
				return r;
		}
	}
	if ((r = wr_devs(p, "blkio.throttle.read_bps_device", b->throttle_read_bps,
			 b->n_throttle_read_bps, err)) < 0 ||
	    (r = wr_devs(p, "blkio.throttle.write_bps_device", b->throttle_write_bps,
			 b->n_throttle_write_bps, err)) < 0 ||
	    (r = wr_devs(p, "blkio.throttle.read_iops_device", b->throttle_read_iops,
			 b->n_throttle_read_iops, err)) < 0 ||
	    (r = wr_devs(p, "blkio.throttle.write_iops_device", b->throttle_write_iops,
			 b->n_throttle_write_iops, err)) < 0)
		return r;
	return 0;
}

static int apply_hugetlb(struct v1_priv *p, const struct cgroup_resources *res, struct werr **err)
{
	int r;

	if (!res->n_hugepage_limits)
		return 0;
	r = need(p, V1_HUGETLB, "hugepageLimits", err);
	for (size_t i = 0; r == 0 && i < res->n_hugepage_limits; i++) {
		_cleanup_free_ char *f =
			xasprintf("hugetlb.%s.limit_in_bytes", res->hugepage_limits[i].page_size);

		r = wr_i64(p, V1_HUGETLB, f, (int64_t)res->hugepage_limits[i].limit, err);
	}
	return r;
}

static int apply_net(struct v1_priv *p, const struct cgroup_resources *res, struct werr **err)
{
	char buf[128];
	int r = 0;

	if (res->network.class_id.set) {
		r = need(p, V1_NET_CLS, "network.classID", err);
		if (r == 0)
			r = wr_i64(p, V1_NET_CLS, "net_cls.classid",
				   (int64_t)res->network.class_id.v, err);
	}
	if (r == 0 && res->network.n_priorities)
		r = need(p, V1_NET_PRIO, "network.priorities", err);
	for (size_t i = 0; r == 0 && i < res->network.n_priorities; i++) {
		snprintf(buf, sizeof(buf), "%s %u", res->network.priorities[i].name,
			 res->network.priorities[i].priority);
		r = wr(p, V1_NET_PRIO, "net_prio.ifpriomap", buf, err);
	}
	return r;
}

static int apply_rdma(struct v1_priv *p, const struct cgroup_resources *res, struct werr **err)
{
	int r = 0;

	if (res->n_rdma)
		r = need(p, V1_RDMA, "rdma", err);
	for (size_t i = 0; r == 0 && i < res->n_rdma; i++) {
		_cleanup_free_ char *v = xasprintf("%s %s", res->rdma[i].key, res->rdma[i].value);

		r = wr(p, V1_RDMA, "rdma.max", v, err);
	}
	return r;
}

/* Deny everything, then replay the rules in order (the runtime merged the defaults in). */
static int apply_devices(struct v1_priv *p, const struct cgroup_resources *res, struct werr **err)
{
	char buf[64];
	int r;

	if (!res->n_devices)
		return 0;
	r = need(p, V1_DEVICES, "devices", err);
	if (r == 0)
		r = wr(p, V1_DEVICES, "devices.deny", "a", err);
	for (size_t i = 0; r == 0 && i < res->n_devices; i++) {
		const struct cg_device_rule *d = &res->devices[i];

		if (cgv1_device_rule(d, buf, sizeof(buf)) < 0)
			return werr_set(
				err, EINVAL,
				"linux.resources.devices[%zu]: bad type '%c' or access \"%s\"", i,
				d->type ? d->type : '?', d->access ? d->access : "");
		r = wr(p, V1_DEVICES, d->allow ? "devices.allow" : "devices.deny", buf, err);
	}
	return r;
}

int cgv1_apply(struct cgroup *cg, const struct cgroup_resources *res, bool update,
	       struct werr **err)
{
	struct v1_priv *p = cg->priv;
	int r;

	if (res->n_unified)
		return werr_set(err, EINVAL,
				"linux.resources.unified (\"%s\"): needs cgroup v2; "
				"this host has cgroup v1 controllers (%s)",
				res->unified[0].key, cgroup_mode_name(cg->mode));
	if ((r = apply_devices(p, res, err)) < 0 || (r = apply_memory(p, res, err)) < 0 ||
	    (r = apply_cpu(p, res, err)) < 0 || (r = apply_cpuset(p, res, err)) < 0 ||
	    (r = apply_pids(p, res, err)) < 0 || (r = apply_blkio(p, res, err)) < 0 ||
	    (r = apply_hugetlb(p, res, err)) < 0 || (r = apply_net(p, res, err)) < 0 ||
	    (r = apply_rdma(p, res, err)) < 0)
		return r;
	return 0;
}
