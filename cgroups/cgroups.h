/* cgroups/: one manager interface over cgroup v2 (primary) and v1 (hybrid and legacy hosts).
 * runtime/ parses config.json into struct cgroup_resources and drives a struct cgroup through
 * create -> add pid -> apply -> (update, freeze, stats, kill) -> destroy. Nothing here prints. */
#ifndef WARD_CGROUPS_H
#define WARD_CGROUPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "lib/err.h"

struct opt_i64 {
	bool set;
	int64_t v;
};
struct opt_u64 {
	bool set;
	uint64_t v;
};

struct cg_device_rule {
	bool allow;
	char type; /* 'a', 'c', 'b' */
	struct opt_i64 major, minor; /* unset = wildcard */
	char *access;		     /* "rwm" subset, may be NULL */
};

struct cg_weight_device {
	int64_t major, minor;
	struct opt_u64 weight, leaf_weight;
};

struct cg_throttle_device {
	int64_t major, minor;
	uint64_t rate;
};

struct cg_hugepage_limit {
	char *page_size;
	uint64_t limit;
};

struct cg_net_priority {
	char *name;
	uint32_t priority;
};

struct cg_kv {
	char *key;
	char *value;
};

struct cgroup_resources {
	struct cg_device_rule *devices;
	size_t n_devices;
	struct {
		struct opt_i64 limit, reservation, swap, kernel, kernel_tcp;
		struct opt_u64 swappiness;
		bool disable_oom_killer, use_hierarchy, check_before_update;
	} memory;
	struct {
		struct opt_u64 shares, period, realtime_period, burst;
		struct opt_i64 quota, realtime_runtime, idle;
		char *cpus, *mems;
	} cpu;
	struct {
		struct opt_i64 limit;
	} pids;
	struct {
		struct opt_u64 weight, leaf_weight;
		struct cg_weight_device *weight_device;
		size_t n_weight_device;
		struct cg_throttle_device *throttle_read_bps, *throttle_write_bps,
			*throttle_read_iops, *throttle_write_iops;
		size_t n_throttle_read_bps, n_throttle_write_bps, n_throttle_read_iops,
			n_throttle_write_iops;
	} block_io;
	struct cg_hugepage_limit *hugepage_limits;
	size_t n_hugepage_limits;
	struct {
		struct opt_u64 class_id;
		struct cg_net_priority *priorities;
		size_t n_priorities;
	} network;
	struct cg_kv *unified;
	size_t n_unified;
	struct cg_kv *rdma; /* key = device, value = "hca_handles=N hca_objects=M" */
	size_t n_rdma;
};

void cgroup_resources_free(struct cgroup_resources *r);

/* ---- host detection ----------------------------------------------------------------- */

enum cgroup_mode {
	CGROUP_UNIFIED, /* cgroup2 only, mounted at /sys/fs/cgroup */
	CGROUP_HYBRID,	/* v1 controllers + a cgroup2 at /sys/fs/cgroup/unified (no controllers) */
	CGROUP_LEGACY,	/* v1 only */
};

#define CGROUP_MOUNT "/sys/fs/cgroup"
#define CGROUP_UNIFIED_MOUNT "/sys/fs/cgroup/unified" /* the hybrid host's cgroup2 */

/* statfs on /sys/fs/cgroup (and /sys/fs/cgroup/unified). Cached after the first call. */
int cgroup_detect_mode(enum cgroup_mode *mode, struct werr **err);
const char *cgroup_mode_name(enum cgroup_mode mode); /* "unified", "hybrid", "legacy" */

/* ---- paths ------------------------------------------------------------------------------ */

/* The container's cgroup path inside a hierarchy, always absolute ("/ward/c1"):
 *   cgroupsPath absolute      -> itself (cleaned: no "..", no "//")
 *   cgroupsPath relative      -> joined to the parent of ward's own cgroup2 cgroup (the "0::"
 *                                line of /proc/self/cgroup; "/" when there is none), as runc
 *                                does on v2 (ward's own cgroup has processes). The same path is
 *                                used in every v1 hierarchy: ward's own v1 cgroups (e.g. the
 *                                host's memory:/process_api/...) are never descended into.
 *   cgroupsPath empty/NULL    -> "/ward/<id>"
 * Errors name "linux.cgroupsPath". */
int cgroup_resolve_path(const char *cgroups_path, const char *id, char **out, struct werr **err);

/* ---- the manager ------------------------------------------------------------------------ */

struct cgroup_backend;

struct cgroup {
	enum cgroup_mode mode;
	char *path; /* absolute inside each hierarchy, from cgroup_resolve_path */
	const struct cgroup_backend *be;
	void *priv; /* backend state (open dir fds, controller list) */
};

/* Per-period PSI line ("some avg10=0.00 avg60=0.00 avg300=0.00 total=0"). */
struct cg_psi_line {
	double avg10, avg60, avg300;
	uint64_t total; /* microseconds */
};
struct cg_psi {
	bool present;
	struct cg_psi_line some, full;
};

struct cg_mem_entry {
	uint64_t limit, usage, max, failcnt; /* bytes; an unlimited limit is UINT64_MAX */
};

struct cg_blkio_entry {
	uint64_t major, minor;
	char op[16]; /* "Read", "Write", "Sync", "Async", "Discard", "Total" */
	uint64_t value;
};

struct cg_hugetlb_stat {
	char *page_size; /* "2MB", "1GB" as runc prints them */
	uint64_t usage, max, failcnt;
};

struct cg_raw_stat {
	char *key;
	uint64_t value;
};

/* runc's "cpuset" stats: v1 cpuset.cpus/mems and flags; v2 the effective lists (flags 0). */
struct cg_cpuset_stat {
	bool present;
	uint64_t *cpus, *mems;
	size_t n_cpus, n_mems;
	uint64_t cpu_exclusive, mem_hardwall, mem_exclusive, memory_migrate, memory_spread_page,
		memory_spread_slab, memory_pressure, sched_load_balance;
	int64_t sched_relax_domain_level;
};

/* Everything `ward events --stats` prints. Units follow runc: CPU times in nanoseconds,
 * memory in bytes. Fields a backend cannot read stay 0 (and *_present false). */
struct cgroup_stats {
	struct {
		uint64_t total, user, kernel; /* ns */
		uint64_t *percpu;	      /* ns; v1 cpuacct.usage_percpu only */
		size_t n_percpu;
		uint64_t *percpu_kernel, *percpu_user; /* ns; v1 cpuacct.usage_percpu_sys/_user */
		size_t n_percpu_kernel, n_percpu_user;
		uint64_t periods, throttled_periods, throttled_time; /* throttled_time in ns */
	} cpu;
	struct {
		uint64_t cache;
		struct cg_mem_entry usage, swap, kernel, kernel_tcp;
		struct cg_raw_stat *raw; /* memory.stat as is */
		size_t n_raw;
		uint64_t oom_events;	 /* memory.events "oom" (v2 only: v1 has just a flag) */
		uint64_t oom_kill_events; /* memory.events "oom_kill" / v1 oom_control oom_kill */
	} memory;
	struct {
		uint64_t current, limit; /* limit 0 = unlimited */
	} pids;
	struct {
		struct cg_blkio_entry *service_bytes, *serviced;
		size_t n_service_bytes, n_serviced;
	} blkio;
	struct cg_hugetlb_stat *hugetlb;
	size_t n_hugetlb;
	struct cg_cpuset_stat cpuset;
	struct cg_psi psi_cpu, psi_memory, psi_io; /* v2 files (on hybrid: from the unified dir) */
	uint64_t cpu_usage_usec_v2; /* cpu.stat usage_usec, for the demand estimate; 0 if absent */
	bool cpu_usage_v2_present;
};
void cgroup_stats_free(struct cgroup_stats *st);

/* Make the cgroup directories (every needed hierarchy/controller) for `path` and enable the
 * controllers a container needs (v2: in each ancestor's cgroup.subtree_control). An existing
 * cgroup with no processes is reused; one with processes is refused ("cgroup X is in use").
 * `res` may be NULL; it tells the backend which controllers are needed. */
int cgroup_create(struct cgroup **out, const char *path, const struct cgroup_resources *res,
		  struct werr **err);
/* Attach to an existing container cgroup (later commands: pause, update, events...). */
int cgroup_open(struct cgroup **out, const char *path, struct werr **err);
void cgroup_free(struct cgroup *cg);
static inline void cgroup_freep(struct cgroup **cg)
{
	cgroup_free(*cg);
}
#define _cleanup_cgroup_ __attribute__((cleanup(cgroup_freep)))

/* A directory fd for clone3(CLONE_INTO_CGROUP), or -1 when the host has no usable one
 * (v1 controllers must then be joined with cgroup_add_pid). Owned by the cgroup. */
int cgroup_clone_fd(const struct cgroup *cg);
/* Move pid (a whole process) into the cgroup in every hierarchy. */
int cgroup_add_pid(struct cgroup *cg, pid_t pid, struct werr **err);
/* Write the resources. update=true: only what is set in res is touched (ward update);
 * the `unified` map is written last. Errors name the cgroup file and the value. */
int cgroup_apply(struct cgroup *cg, const struct cgroup_resources *res, bool update,
		 struct werr **err);
/* Freeze (true) or thaw; returns only once the kernel reports the new state (bounded wait,
 * then an error naming the cgroup). */
int cgroup_freeze(struct cgroup *cg, bool frozen, struct werr **err);
int cgroup_is_frozen(struct cgroup *cg, bool *frozen, struct werr **err);
/* The pids in the cgroup (and its descendants), sorted. */
int cgroup_pids(struct cgroup *cg, pid_t **pids, size_t *n, struct werr **err);
/* Signal every process in the cgroup; SIGKILL uses cgroup.kill where the kernel has it. */
int cgroup_kill(struct cgroup *cg, int sig, struct werr **err);
int cgroup_stats(struct cgroup *cg, struct cgroup_stats *st, struct werr **err);
/* Kill what is left, then remove the directories (bounded retry, never hangs). A cgroup that
 * is already gone is not an error. */
int cgroup_destroy(struct cgroup *cg, struct werr **err);

/* ---- pure helpers (unit-tested) ---------------------------------------------------------- */

/* OCI cpu.shares (2..262144) -> cgroup v2 cpu.weight (1..10000), the quadratic mapping crun
 * adopted so that 1024 shares -> 100 (the linear one gives 39). 0 -> 0 (unset). */
uint64_t cgroup_shares_to_weight(uint64_t shares);
/* OCI blkio weight (10..1000) -> io.weight (1..10000). */
uint64_t cgroup_blkio_to_io_weight(uint64_t weight);
/* A cpuset list ("0-3,8,10-11") -> the numbers in it; -EINVAL on a malformed list. */
int cgroup_parse_cpulist(const char *s, uint64_t **out, size_t *n);
/* OCI memory.swap is memory+swap; v2 memory.swap.max is swap alone: swap - limit.
 * Writes "max" for -1; errors (naming linux.resources.memory.swap) when swap < limit. */
int cgroup_swap_max(const struct opt_i64 *limit, const struct opt_i64 *swap, char *buf, size_t n,
		    struct werr **err);

#endif
