/* Backend ops behind struct cgroup (cgroups.c dispatches; v2.c and v1.c implement). */
#ifndef WARD_CGROUPS_INT_H
#define WARD_CGROUPS_INT_H

#include "cgroups/cgroups.h"

struct cgroup_backend {
	const char *name;
	/* mkdir (exist_ok=true for open: then it must already exist) and fill cg->priv */
	int (*create)(struct cgroup *cg, const struct cgroup_resources *res, struct werr **err);
	int (*open)(struct cgroup *cg, struct werr **err);
	void (*free_priv)(struct cgroup *cg);
	int (*clone_fd)(const struct cgroup *cg);
	int (*add_pid)(struct cgroup *cg, pid_t pid, struct werr **err);
	int (*apply)(struct cgroup *cg, const struct cgroup_resources *res, bool update,
		     struct werr **err);
	int (*freeze)(struct cgroup *cg, bool frozen, struct werr **err);
	int (*is_frozen)(struct cgroup *cg, bool *frozen, struct werr **err);
	int (*pids)(struct cgroup *cg, pid_t **pids, size_t *n, struct werr **err);
	/* SIGKILL through cgroup.kill; -EOPNOTSUPP when not available (the caller signals pids) */
	int (*kill_all)(struct cgroup *cg, struct werr **err);
	int (*stats)(struct cgroup *cg, struct cgroup_stats *st, struct werr **err);
	/* rmdir every directory once empty; -EBUSY while processes remain */
	int (*remove)(struct cgroup *cg, struct werr **err);
};

extern const struct cgroup_backend cgroup_v2_backend; /* unified hosts */
extern const struct cgroup_backend cgroup_v1_backend; /* hybrid and legacy hosts */

/* Shared file helpers for the backends: "<dir>/<file>" with errors naming the full path. */
int cg_write(int dirfd, const char *dir, const char *file, const char *val, struct werr **err);
int cg_read(int dirfd, const char *dir, const char *file, char **out, struct werr **err);
int cg_read_u64(int dirfd, const char *dir, const char *file, uint64_t *v, struct werr **err);
/* Parse "key value\n" lines (cpu.stat, memory.stat, memory.events); missing key -> false. */
bool cg_keyed_u64(const char *text, const char *key, uint64_t *v);
/* Parse a PSI file's text. */
int cg_parse_psi(const char *text, struct cg_psi *psi);
/* rmdir dir after its child cgroups, deepest first. A directory already gone is success;
 * -EBUSY while processes remain. */
int cg_rmdir_tree(const char *dir, struct werr **err);
/* Read cgroup.procs of dir (and all descendants) into a growing array. */
int cg_read_procs_tree(const char *dir, pid_t **pids, size_t *n, struct werr **err);

#endif
