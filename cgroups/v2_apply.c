/* linux.resources -> cgroup v2 files. Each function writes what is set in res and nothing
 * else, so the same code serves create (everything given) and `ward update` (a few fields).
 * The v1-only knobs (swappiness, kernel memory, net_cls/net_prio, blkio leaf weights) have no
 * v2 file and are ignored, as runc does. */
#include "cgroups/v2_int.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/util.h"

struct target {
	int fd;
	const char *dir;
};

static int put(const struct target *t, const char *file, const char *val, struct werr **err)
{
	return cg_write(t->fd, t->dir, file, val, err);
}

static int put_fmt(const struct target *t, const char *file, struct werr **err, const char *fmt,
		   ...) __attribute__((format(printf, 4, 5)));
static int put_fmt(const struct target *t, const char *file, struct werr **err, const char *fmt,
		   ...)
{
	_cleanup_free_ char *val = NULL;
	va_list ap;

	va_start(ap, fmt);
	if (vasprintf(&val, fmt, ap) < 0)
		val = NULL;
	va_end(ap);
	if (!val)
		return werr_set(err, ENOMEM, "out of memory");
	return put(t, file, val, err);
}

/* -1 (or any negative value) is "max" in the OCI fields that allow it */
static int put_i64_or_max(const struct target *t, const char *file, int64_t v, struct werr **err)
{
	if (v < 0)
		return put(t, file, "max", err);
	return put_fmt(t, file, err, "%" PRId64, v);
}

static int apply_cpu(const struct target *t, const struct cgroup_resources *res, bool update,
		     struct werr **err)
{
	int r;

	if (res->cpu.shares.set && res->cpu.shares.v > 0) {
		r = put_fmt(t, "cpu.weight", err, "%" PRIu64,
			    cgroup_shares_to_weight(res->cpu.shares.v));
		if (r < 0)
			return r;
	}
	if (res->cpu.quota.set || (res->cpu.period.set && res->cpu.period.v > 0)) {
		_cleanup_free_ char *quota = NULL;

		if (res->cpu.quota.set && res->cpu.quota.v > 0)
			quota = xasprintf("%" PRId64, res->cpu.quota.v);
		else if (res->cpu.quota.set || !update)
			quota = xstrdup("max");
		else {
			/* only the period changes: keep the quota that is there */
			r = cg_read(t->fd, t->dir, "cpu.max", &quota, err);
			if (r < 0)
				return r;
			quota[strcspn(quota, " \n")] = 0;
		}
		if (res->cpu.period.set && res->cpu.period.v > 0)
			r = put_fmt(t, "cpu.max", err, "%s %" PRIu64, quota, res->cpu.period.v);
		else
			r = put(t, "cpu.max", quota, err);
		if (r < 0)
			return r;
	}
	if (res->cpu.burst.set) {
		r = put_fmt(t, "cpu.max.burst", err, "%" PRIu64, res->cpu.burst.v);
		if (r < 0)
			return r;
	}
	if (res->cpu.idle.set) {
		r = put_fmt(t, "cpu.idle", err, "%" PRId64, res->cpu.idle.v);
		if (r < 0)
			return r;
	}
	if (res->cpu.cpus && *res->cpu.cpus) {
		r = put(t, "cpuset.cpus", res->cpu.cpus, err);
		if (r < 0)
			return r;
	}
	if (res->cpu.mems && *res->cpu.mems) {
		r = put(t, "cpuset.mems", res->cpu.mems, err);
		if (r < 0)
			return r;
	}
	return 0;
}

/* The memory limit swap is computed against: the one given, or on update the one in force. */
static struct opt_i64 limit_for_swap(const struct target *t, const struct cgroup_resources *res,
				     bool update)
{
	struct opt_i64 lim = res->memory.limit;
	uint64_t cur;

	if (!lim.set && update && cg_read_u64(t->fd, t->dir, "memory.max", &cur, NULL) == 0) {
		lim.set = true;
		lim.v = cur == UINT64_MAX ? -1 : (int64_t)cur;
	}
	return lim;
}

static int apply_memory(const struct target *t, const struct cgroup_resources *res, bool update,
			struct werr **err)
{
	struct opt_i64 lim = limit_for_swap(t, res, update);
	char swap[32];
	int r;

	/* v2 swap is its own limit, not memory+swap: the order of the writes does not matter */
	if (res->memory.swap.set && res->memory.swap.v != 0) {
		r = cgroup_swap_max(&lim, &res->memory.swap, swap, sizeof(swap), err);
		if (r < 0)
			return r;
		if (faccessat(t->fd, "memory.swap.max", F_OK, 0) < 0 && strcmp(swap, "max") == 0)
			; /* no swap accounting: unlimited is what there is */
		else if ((r = put(t, "memory.swap.max", swap, err)) < 0)
			return r;
	}
	if (res->memory.limit.set && res->memory.limit.v != 0) {
		r = put_i64_or_max(t, "memory.max", res->memory.limit.v, err);
		if (r < 0)
			return r;
	}
	if (res->memory.reservation.set) {
		r = put_i64_or_max(t, "memory.low", res->memory.reservation.v, err);
		if (r < 0)
			return r;
	}
	return 0;
}

void cgv2_io_max_line(char *buf, size_t n, int64_t major, int64_t minor, const char *key,
		      uint64_t rate)
{
	if (rate == 0)
		snprintf(buf, n, "%" PRId64 ":%" PRId64 " %s=max", major, minor, key);
	else
		snprintf(buf, n, "%" PRId64 ":%" PRId64 " %s=%" PRIu64, major, minor, key, rate);
}

static int apply_io_max(const struct target *t, const struct cg_throttle_device *d, size_t n,
			const char *key, struct werr **err)
{
	for (size_t i = 0; i < n; i++) {
		char line[96];
		int r;

		cgv2_io_max_line(line, sizeof(line), d[i].major, d[i].minor, key, d[i].rate);
		r = put(t, "io.max", line, err);
		if (r < 0)
			return r;
	}
	return 0;
}

static int apply_io(const struct target *t, const struct cgroup_resources *res, struct werr **err)
{
	const typeof(res->block_io) *b = &res->block_io;
	int r;

	if (b->weight.set && b->weight.v > 0) {
		/* io.weight comes from iocost; with only BFQ there is io.bfq.weight (1..1000,
		 * the blkio scale) */
		if (faccessat(t->fd, "io.weight", F_OK, 0) < 0 &&
		    faccessat(t->fd, "io.bfq.weight", F_OK, 0) == 0)
			r = put_fmt(t, "io.bfq.weight", err, "%" PRIu64, b->weight.v);
		else
			r = put_fmt(t, "io.weight", err, "default %" PRIu64,
				    cgroup_blkio_to_io_weight(b->weight.v));
		if (r < 0)
			return r;
	}
	for (size_t i = 0; i < b->n_weight_device; i++) {
		const struct cg_weight_device *d = &b->weight_device[i];

		if (!d->weight.set)
			continue;
		r = put_fmt(t, "io.weight", err, "%" PRId64 ":%" PRId64 " %" PRIu64, d->major,
			    d->minor, cgroup_blkio_to_io_weight(d->weight.v));
		if (r < 0)
			return r;
	}
	if ((r = apply_io_max(t, b->throttle_read_bps, b->n_throttle_read_bps, "rbps", err)) < 0 ||
	    (r = apply_io_max(t, b->throttle_write_bps, b->n_throttle_write_bps, "wbps", err)) <
		    0 ||
	    (r = apply_io_max(t, b->throttle_read_iops, b->n_throttle_read_iops, "riops", err)) <
		    0 ||
	    (r = apply_io_max(t, b->throttle_write_iops, b->n_throttle_write_iops, "wiops", err)) <
		    0)
		return r;
	return 0;
}

static int apply_hugetlb_rdma(const struct target *t, const struct cgroup_resources *res,
			      struct werr **err)
{
	for (size_t i = 0; i < res->n_hugepage_limits; i++) {
		const struct cg_hugepage_limit *h = &res->hugepage_limits[i];
		_cleanup_free_ char *file = NULL;
		int r;

		if (!h->page_size || !*h->page_size || strchr(h->page_size, '/') ||
		    strstr(h->page_size, ".."))
			return werr_set(
				err, EINVAL,
				"linux.resources.hugepageLimits[%zu].pageSize: \"%s\" is not "
				"a page size like 2MB",
				i, h->page_size ? h->page_size : "");
		file = xasprintf("hugetlb.%s.max", h->page_size);
		r = put_fmt(t, file, err, "%" PRIu64, h->limit);
		if (r < 0)
			return r;
	}
	for (size_t i = 0; i < res->n_rdma; i++) {
		int r = put_fmt(t, "rdma.max", err, "%s %s", res->rdma[i].key, res->rdma[i].value);

		if (r < 0)
			return r;
	}
	return 0;
}

int cgv2_check_unified_key(const char *key, struct werr **err)
{
	if (!key || !*key || strchr(key, '/') || strcmp(key, ".") == 0 || strcmp(key, "..") == 0)
		return werr_set(err, EINVAL,
				"linux.resources.unified.%s: not a file of the container's cgroup",
				key ? key : "");
	return 0;
}

static int apply_unified(const struct target *t, const struct cgroup_resources *res,
			 struct werr **err)
{
	for (size_t i = 0; i < res->n_unified; i++) {
		const struct cg_kv *kv = &res->unified[i];
		int r = cgv2_check_unified_key(kv->key, err);

		if (r < 0)
			return r;
		r = put(t, kv->key, kv->value ? kv->value : "", err);
		if (r == -ENOENT)
			return werr_wrap(err,
					 "linux.resources.unified.%s (is its controller "
					 "enabled?)",
					 kv->key);
		if (r < 0)
			return werr_wrap(err, "linux.resources.unified.%s", kv->key);
	}
	return 0;
}

int cgv2_apply(struct cgroup *cg, const struct cgroup_resources *res, bool update,
	       struct werr **err)
{
	struct target t = {v2_priv(cg)->dirfd, v2_priv(cg)->dir};
	int r;

	for (size_t i = 0; i < res->n_unified; i++) {
		r = cgv2_check_unified_key(res->unified[i].key, err);
		if (r < 0)
			return r;
	}
	if ((r = apply_cpu(&t, res, update, err)) < 0 ||
	    (r = apply_memory(&t, res, update, err)) < 0)
		return r;
	if (res->pids.limit.set && res->pids.limit.v != 0) { /* 0: unchanged, as runc */
		r = res->pids.limit.v < 0
			    ? put(&t, "pids.max", "max", err)
			    : put_fmt(&t, "pids.max", err, "%" PRId64, res->pids.limit.v);
		if (r < 0)
			return r;
	}
	if ((r = apply_io(&t, res, err)) < 0 || (r = apply_hugetlb_rdma(&t, res, err)) < 0)
		return r;
	r = cg_devices_apply(t.fd, t.dir, res->devices, res->n_devices, err);
	if (r < 0)
		return r;
	return apply_unified(&t, res, err);
}
