/* The cgroup v1 backend's private state and its pure helpers (unit-tested). */
#ifndef WARD_CGROUPS_V1_INT_H
#define WARD_CGROUPS_V1_INT_H

#include "cgroups/cgroups_int.h"

/* The v1 controllers ward uses. */
enum v1_ctrl {
	V1_CPU,
	V1_CPUACCT,
	V1_CPUSET,
	V1_MEMORY,
	V1_PIDS,
	V1_BLKIO,
	V1_DEVICES,
	V1_FREEZER,
	V1_HUGETLB,
	V1_NET_CLS,
	V1_NET_PRIO,
	V1_RDMA,
	V1_NCTRL
};
const char *cgv1_ctrl_name(enum v1_ctrl c);

/* One mounted v1 hierarchy; co-mounted controllers ("cpu,cpuacct") share one. */
struct v1_hier {
	char *mnt;	/* mount point, e.g. /sys/fs/cgroup/cpu,cpuacct */
	unsigned ctrls; /* bit (1 << enum v1_ctrl) per controller it carries */
};

struct v1_mounts {
	struct v1_hier h[V1_NCTRL];
	size_t n;
	int of[V1_NCTRL]; /* controller -> index in h, -1 when not mounted */
};

/* Fill m from /proc/<pid>/mountinfo text: every "cgroup" mount whose super options name a
 * controller of enum v1_ctrl (named hierarchies such as name=systemd are skipped). The first
 * mount of a controller wins (later ones are bind mounts of the same hierarchy). */
void cgv1_parse_mountinfo(const char *text, struct v1_mounts *m);
void cgv1_mounts_free(struct v1_mounts *m);

/* Per container: the cgroup directory in each hierarchy (same index as v1_mounts.h). */
struct v1_priv {
	struct v1_mounts m;
	char *dir[V1_NCTRL];
	int fd[V1_NCTRL]; /* O_DIRECTORY fd of dir[i], -1 if that directory is missing */
	char *udir;	  /* hybrid: the cgroup2 directory under CGROUP_UNIFIED_MOUNT */
	int ufd;	  /* -1 in legacy mode */
};

/* The hierarchy carrying controller c: its directory fd (or -1) and name. */
static inline int v1_fd(const struct v1_priv *p, enum v1_ctrl c)
{
	return p->m.of[c] < 0 ? -1 : p->fd[p->m.of[c]];
}
static inline const char *v1_dir(const struct v1_priv *p, enum v1_ctrl c)
{
	return p->m.of[c] < 0 ? "" : p->dir[p->m.of[c]];
}

/* devices.allow/deny text of one OCI rule: "a", or "c 1:3 rwm" with '*' for an unset
 * major/minor and "rwm" for no access. -EINVAL for an unknown type or access letter. */
int cgv1_device_rule(const struct cg_device_rule *r, char *buf, size_t n);

/* Both memory.limit_in_bytes and memory.memsw.limit_in_bytes are written and the kernel
 * keeps limit <= memsw at every step: write memsw first when the current limit already
 * fits under the new memsw (raising), limit first otherwise (lowering). -1 = unlimited. */
bool cgv1_memsw_first(int64_t cur_limit, int64_t new_swap);

/* cpu.cfs_quota_us and cpu.cfs_period_us: write the period first when that leaves the
 * smaller quota/period ratio in between (a parent's ratio caps the child's). -1 = no quota. */
bool cgv1_cfs_period_first(int64_t cur_quota, uint64_t cur_period, int64_t new_quota,
			   uint64_t new_period);

/* "MAJ:MIN value" for blkio.throttle.* and weight_device files. */
void cgv1_blkio_dev(char *buf, size_t n, int64_t major, int64_t minor, uint64_t value);

/* cpuacct.stat "user N\nsystem N" are in USER_HZ ticks: ticks -> ns. */
uint64_t cgv1_ticks_to_ns(uint64_t ticks, long hz);

/* blkio.throttle.io_service_bytes / io_serviced text ("8:0 Read 4096" lines; the "Total N"
 * summary line is skipped) -> a new array. */
int cgv1_parse_blkio(const char *text, struct cg_blkio_entry **out, size_t *n);

/* A v1 memory counter as ward reports it: the kernel's "unlimited" (PAGE_COUNTER_MAX pages,
 * 0x7ffffffffffff000 on 4 KiB pages) becomes UINT64_MAX. */
uint64_t cgv1_mem_limit(uint64_t v);

/* v1_apply.c / v1_stats.c */
int cgv1_apply(struct cgroup *cg, const struct cgroup_resources *res, bool update,
	       struct werr **err);
int cgv1_stats(struct cgroup *cg, struct cgroup_stats *st, struct werr **err);

#endif
