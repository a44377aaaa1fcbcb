/* cgroups/: one manager interface over cgroup v2 (primary) and v1 (hybrid hosts).
 * Issue 3 fills in the backends; the resource description lives here so runtime/
 * can parse config.json into it. */
#ifndef WARD_CGROUPS_H
#define WARD_CGROUPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

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

#endif
