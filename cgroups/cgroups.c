/* The manager: host detection, the container's cgroup path, and dispatch to the v2 or v1
 * backend. Backends only touch files; the policy (retry, fallbacks) lives here. */
#include "cgroups/cgroups_int.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statfs.h>
#include <time.h>
#include <unistd.h>
#include <linux/magic.h>

#include "lib/util.h"

int cgroup_detect_mode(enum cgroup_mode *mode, struct werr **err)
{
	static int cached = -1;
	struct statfs s;

	if (cached >= 0) {
		*mode = (enum cgroup_mode)cached;
		return 0;
	}
	if (statfs(CGROUP_MOUNT, &s) < 0)
		return werr_sys(err, errno, "statfs %s", CGROUP_MOUNT);
	if (s.f_type == CGROUP2_SUPER_MAGIC)
		cached = CGROUP_UNIFIED;
	else if (s.f_type == TMPFS_MAGIC)
		cached = statfs(CGROUP_UNIFIED_MOUNT, &s) == 0 && s.f_type == CGROUP2_SUPER_MAGIC
				 ? CGROUP_HYBRID
				 : CGROUP_LEGACY;
	else
		return werr_set(err, ENOTSUP, "%s is neither cgroup2 nor a tmpfs of v1 hierarchies",
				CGROUP_MOUNT);
	*mode = (enum cgroup_mode)cached;
	return 0;
}

const char *cgroup_mode_name(enum cgroup_mode mode)
{
	switch (mode) {
	case CGROUP_UNIFIED:
		return "unified";
	case CGROUP_HYBRID:
		return "hybrid";
	case CGROUP_LEGACY:
		break;
	}
	return "legacy";
}

/* Join base and rel, dropping empty and "." components; ".." is refused (a path that climbs
 * out of where it is put is never what a config means). */
static int clean_join(const char *base, const char *rel, char **out, struct werr **err)
{
	_cleanup_free_ char *all = xasprintf("%s/%s", base, rel);
	char *res = xmalloc(strlen(all) + 2), *save = NULL;
	size_t len = 0;

	for (char *c = strtok_r(all, "/", &save); c; c = strtok_r(NULL, "/", &save)) {
		if (strcmp(c, ".") == 0)
			continue;
		if (strcmp(c, "..") == 0) {
			free(res);
			return werr_set(err, EINVAL, "linux.cgroupsPath: \"..\" is not allowed: %s",
					rel);
		}
		res[len++] = '/';
		strcpy(res + len, c);
		len += strlen(c);
	}
	if (len == 0)
		res[len++] = '/';
	res[len] = 0;
	*out = res;
	return 0;
}

/* The parent of ward's own cgroup2 cgroup ("0::/a/b" -> "/a"). */
static char *own_v2_parent(void)
{
	_cleanup_free_ char *text = NULL;
	size_t len;
	char *line, *slash;

	if (read_file("/proc/self/cgroup", &text, &len, NULL) < 0)
		return xstrdup("/");
	line = strstr(text, "0::");
	if (!line || (line != text && line[-1] != '\n'))
		return xstrdup("/");
	line += 3;
	line[strcspn(line, "\n")] = 0;
	slash = strrchr(line, '/');
	if (!slash || slash == line)
		return xstrdup("/");
	*slash = 0;
	return xstrdup(line);
}

int cgroup_resolve_path(const char *cgroups_path, const char *id, char **out, struct werr **err)
{
	_cleanup_free_ char *base = NULL;

	if (!cgroups_path || !*cgroups_path) {
		_cleanup_free_ char *rel = xasprintf("ward/%s", id);

		return clean_join("", rel, out, err);
	}
	if (strchr(cgroups_path, ':') && cgroups_path[0] != '/')
		return werr_set(err, EINVAL,
				"linux.cgroupsPath \"%s\" looks like a systemd slice:prefix:name "
				"path; ward manages cgroupfs paths (no --systemd-cgroup support)",
				cgroups_path);
	base = cgroups_path[0] == '/' ? xstrdup("") : own_v2_parent();
	return clean_join(base, cgroups_path, out, err);
}

static int manager_new(struct cgroup **out, const char *path, struct werr **err)
{
	struct cgroup *cg;
	enum cgroup_mode mode;
	int r = cgroup_detect_mode(&mode, err);

	if (r < 0)
		return r;
	if (strcmp(path, "/") == 0)
		return werr_set(err, EINVAL, "linux.cgroupsPath: the root cgroup cannot be a "
					     "container's cgroup");
	cg = xcalloc(1, sizeof(*cg));
	cg->mode = mode;
	cg->path = xstrdup(path);
	cg->be = mode == CGROUP_UNIFIED ? &cgroup_v2_backend : &cgroup_v1_backend;
	*out = cg;
	return 0;
}

int cgroup_create(struct cgroup **out, const char *path, const struct cgroup_resources *res,
		  struct werr **err)
{
	struct cgroup *cg = NULL;
	int r = manager_new(&cg, path, err);

	if (r < 0)
		return r;
	r = cg->be->create(cg, res, err);
	if (r < 0) {
		cgroup_free(cg);
		return r;
	}
	*out = cg;
	return 0;
}

int cgroup_open(struct cgroup **out, const char *path, struct werr **err)
{
	struct cgroup *cg = NULL;
	int r = manager_new(&cg, path, err);

	if (r < 0)
		return r;
	r = cg->be->open(cg, err);
	if (r < 0) {
		cgroup_free(cg);
		return r;
	}
	*out = cg;
	return 0;
}

void cgroup_free(struct cgroup *cg)
{
	if (!cg)
		return;
	if (cg->be && cg->priv)
		cg->be->free_priv(cg);
	free(cg->path);
	free(cg);
}

int cgroup_clone_fd(const struct cgroup *cg)
{
	return cg->be->clone_fd(cg);
}

int cgroup_add_pid(struct cgroup *cg, pid_t pid, struct werr **err)
{
	return cg->be->add_pid(cg, pid, err);
}

int cgroup_apply(struct cgroup *cg, const struct cgroup_resources *res, bool update,
		 struct werr **err)
{
	return res ? cg->be->apply(cg, res, update, err) : 0;
}

int cgroup_freeze(struct cgroup *cg, bool frozen, struct werr **err)
{
	return cg->be->freeze(cg, frozen, err);
}

int cgroup_is_frozen(struct cgroup *cg, bool *frozen, struct werr **err)
{
	return cg->be->is_frozen(cg, frozen, err);
}

int cgroup_pids(struct cgroup *cg, pid_t **pids, size_t *n, struct werr **err)
{
	*pids = NULL;
	*n = 0;
	return cg->be->pids(cg, pids, n, err);
}

int cgroup_kill(struct cgroup *cg, int sig, struct werr **err)
{
	_cleanup_free_ pid_t *pids = NULL;
	size_t n = 0;
	int r;

	if (sig == SIGKILL) {
		r = cg->be->kill_all(cg, NULL);
		if (r == 0)
			return 0;
	}
	r = cgroup_pids(cg, &pids, &n, err);
	if (r < 0)
		return r;
	for (size_t i = 0; i < n; i++)
		if (kill(pids[i], sig) < 0 && errno != ESRCH)
			return werr_sys(err, errno, "kill %d (in cgroup %s)", pids[i], cg->path);
	return 0;
}

int cgroup_stats(struct cgroup *cg, struct cgroup_stats *st, struct werr **err)
{
	memset(st, 0, sizeof(*st));
	return cg->be->stats(cg, st, err);
}

void cgroup_stats_free(struct cgroup_stats *st)
{
	free(st->cpu.percpu);
	free(st->cpu.percpu_kernel);
	free(st->cpu.percpu_user);
	for (size_t i = 0; i < st->memory.n_raw; i++)
		free(st->memory.raw[i].key);
	free(st->memory.raw);
	free(st->blkio.service_bytes);
	free(st->blkio.serviced);
	for (size_t i = 0; i < st->n_hugetlb; i++)
		free(st->hugetlb[i].page_size);
	free(st->hugetlb);
	free(st->cpuset.cpus);
	free(st->cpuset.mems);
	memset(st, 0, sizeof(*st));
}

/* Kill whatever is left, then rmdir; a frozen cgroup is thawed first so SIGKILL is delivered.
 * Processes take a moment to leave after SIGKILL (exit_mm, zombies reaped by their parent):
 * retry for up to ~5 s, then give up with an error naming the cgroup. */
int cgroup_destroy(struct cgroup *cg, struct werr **err)
{
	struct timespec ts = {0, 1000 * 1000};
	bool frozen = false;
	int r = -EBUSY;

	if (cg->be->is_frozen(cg, &frozen, NULL) == 0 && frozen)
		cg->be->freeze(cg, false, NULL);
	for (int i = 0; i < 500; i++) {
		_cleanup_werr_ struct werr *e = NULL;

		r = cg->be->remove(cg, &e);
		if (r != -EBUSY)
			break;
		cgroup_kill(cg, SIGKILL, NULL);
		nanosleep(&ts, NULL);
		if (ts.tv_nsec < 10 * 1000 * 1000)
			ts.tv_nsec *= 2;
	}
	if (r == -EBUSY)
		return werr_set(err, EBUSY, "cgroup %s still has processes after SIGKILL; left it",
				cg->path);
	return r < 0 ? cg->be->remove(cg, err) : 0;
}

uint64_t cgroup_shares_to_weight(uint64_t shares)
{
	double l, e;

	if (shares == 0)
		return 0;
	if (shares <= 2)
		return 1;
	if (shares >= 262144)
		return 10000;
	l = log2((double)shares);
	e = (l * l + 125 * l) / 612.0 - 7.0 / 34.0;
	/* ceil, but 1024 must give exactly 100 despite rounding noise in pow() */
	return (uint64_t)ceil(pow(10, e) - 1e-9);
}

uint64_t cgroup_blkio_to_io_weight(uint64_t weight)
{
	if (weight == 0)
		return 0;
	if (weight < 10) /* the OCI range is 10..1000: clamp rather than wrap */
		weight = 10;
	if (weight > 1000)
		weight = 1000;
	return 1 + (weight - 10) * 9999 / 990;
}

int cgroup_swap_max(const struct opt_i64 *limit, const struct opt_i64 *swap, char *buf, size_t n,
		    struct werr **err)
{
	if (!swap->set)
		return -ENOENT;
	if (swap->v == -1) {
		snprintf(buf, n, "max");
		return 0;
	}
	if (!limit->set || limit->v == -1)
		return werr_set(err, EINVAL,
				"linux.resources.memory.swap (%lld) needs linux.resources.memory."
				"limit: on cgroup v2 swap is set as swap minus limit",
				(long long)swap->v);
	if (swap->v < limit->v)
		return werr_set(err, EINVAL,
				"linux.resources.memory.swap (%lld) is less than memory.limit (%lld); "
				"swap is memory plus swap",
				(long long)swap->v, (long long)limit->v);
	snprintf(buf, n, "%lld", (long long)(swap->v - limit->v));
	return 0;
}
