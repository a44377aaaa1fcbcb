/* cgroup v2 backend: not written yet (a helper is writing it); every op fails clearly. */
#include "cgroups/cgroups_int.h"

#include <errno.h>

static int nyi(struct werr **err)
{
	return werr_set(err, ENOSYS, "cgroup v2 backend not written yet");
}
static int create_(struct cgroup *cg, const struct cgroup_resources *res, struct werr **err) { return nyi(err); }
static int open_(struct cgroup *cg, struct werr **err) { return nyi(err); }
static void free_priv(struct cgroup *cg) {}
static int clone_fd(const struct cgroup *cg) { return -1; }
static int add_pid(struct cgroup *cg, pid_t pid, struct werr **err) { return nyi(err); }
static int apply(struct cgroup *cg, const struct cgroup_resources *r, bool u, struct werr **err) { return nyi(err); }
static int freeze(struct cgroup *cg, bool f, struct werr **err) { return nyi(err); }
static int is_frozen(struct cgroup *cg, bool *f, struct werr **err) { return nyi(err); }
static int pids(struct cgroup *cg, pid_t **p, size_t *n, struct werr **err) { return nyi(err); }
static int kill_all(struct cgroup *cg, struct werr **err) { return -EOPNOTSUPP; }
static int stats(struct cgroup *cg, struct cgroup_stats *st, struct werr **err) { return nyi(err); }
static int remove_(struct cgroup *cg, struct werr **err) { return nyi(err); }

const struct cgroup_backend cgroup_v2_backend = {
	.name = "v2", .create = create_, .open = open_, .free_priv = free_priv,
	.clone_fd = clone_fd, .add_pid = add_pid, .apply = apply, .freeze = freeze,
	.is_frozen = is_frozen, .pids = pids, .kill_all = kill_all, .stats = stats,
	.remove = remove_,
};
