/* Private to the cgroup v2 backend (v2.c, v2_apply.c, v2_stats.c, bpf_devices.c) and its unit
 * tests: the per-cgroup state and the pure pieces (device program, io.max lines, io.stat). */
#ifndef WARD_CGROUPS_V2_INT_H
#define WARD_CGROUPS_V2_INT_H

#include <linux/bpf.h>

#include "cgroups/cgroups_int.h"

struct v2_priv {
	int dirfd; /* O_DIRECTORY of the container cgroup (also the clone3 cgroup fd) */
	char *dir; /* its host path, for messages and the procs walk */
};

static inline struct v2_priv *v2_priv(const struct cgroup *cg)
{
	return (struct v2_priv *)cg->priv;
}

/* Where the hierarchy is mounted: CGROUP_MOUNT unless a test points the backend at another
 * cgroup2 mount (the hybrid dev host's /sys/fs/cgroup/unified). */
void cgv2_set_mount(const char *mount);
const char *cgv2_mount(void);

int cgv2_apply(struct cgroup *cg, const struct cgroup_resources *res, bool update,
	       struct werr **err);
int cgv2_stats(struct cgroup *cg, struct cgroup_stats *st, struct werr **err);

/* ---- pure helpers (tests/unit/test_cgroups_v2.c) ---------------------------------------- */

/* One io.max line: "8:16 rbps=1048576"; rate 0 clears the limit ("rbps=max"). */
void cgv2_io_max_line(char *buf, size_t n, int64_t major, int64_t minor, const char *key,
		      uint64_t rate);
/* io.stat -> blkio entries (service_bytes: Read/Write/Discard from r/w/dbytes, serviced:
 * Read/Write/Discard from r/w/dios). Appends to st. */
void cgv2_parse_io_stat(const char *text, struct cgroup_stats *st);
/* memory.stat -> st->memory.raw (every key) and cache ("file"). */
void cgv2_parse_memory_stat(const char *text, struct cgroup_stats *st);
/* A linux.resources.unified key must name a file of the cgroup itself. */
int cgv2_check_unified_key(const char *key, struct werr **err);
/* The controllers resources need ("memory" for memory.*, the prefix of unified keys...). A
 * bitmask over cgv2_controller_names. */
extern const char *const cgv2_controller_names[];
unsigned cgv2_needed_controllers(const struct cgroup_resources *res);

/* ---- eBPF device filter (bpf_devices.c) ------------------------------------------------- */

/* The BPF_PROG_TYPE_CGROUP_DEVICE program for an ordered rule list: the last rule that matches
 * an access decides (an allow rule matches when it grants every requested access bit, a deny
 * rule when it refuses any of them); with no match the access is allowed, as in a fresh v1
 * devices cgroup (lists start with a deny-all rule). Type 'a' is every device whatever the
 * major/minor say, as the v1 kernel reads "a". Errors name linux.resources.devices[i]. */
int cg_devices_prog(const struct cg_device_rule *rules, size_t n, struct bpf_insn **insns,
		    size_t *n_insns, struct werr **err);
/* Load the program for rules and attach it to the cgroup (BPF_F_ALLOW_MULTI), then detach the
 * device programs attached there before (update). n == 0: nothing is done. */
int cg_devices_apply(int cgroup_fd, const char *dir, const struct cg_device_rule *rules, size_t n,
		     struct werr **err);

#endif
