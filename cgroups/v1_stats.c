/* cgroup v1 backend: statistics in runc's `events --stats` shape. A file the kernel does not
 * have (swap accounting off, no hugetlb...) is skipped, never an error. */
#include "cgroups/v1_int.h"

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/util.h"

uint64_t cgv1_ticks_to_ns(uint64_t ticks, long hz)
{
	if (hz <= 0)
		hz = 100;
	return ticks * (1000000000ULL / (uint64_t)hz);
}

int cgv1_parse_blkio(const char *text, struct cg_blkio_entry **out, size_t *n)
{
	struct cg_blkio_entry *v = NULL;
	size_t cnt = 0;

	for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
		struct cg_blkio_entry e = {0};
		char op[16];

		if (sscanf(p, "%" SCNu64 ":%" SCNu64 " %15s %" SCNu64, &e.major, &e.minor, op,
			   &e.value) != 4)
			continue; /* "Total N", blank lines */
		snprintf(e.op, sizeof(e.op), "%s", op);
		v = xrealloc(v, (cnt + 1) * sizeof(*v));
		v[cnt++] = e;
	}
	*out = v;
	*n = cnt;
	return 0;
}

static bool rd_u64(struct v1_priv *p, enum v1_ctrl c, const char *file, uint64_t *v)
{
	int fd = v1_fd(p, c);

	return fd >= 0 && cg_read_u64(fd, v1_dir(p, c), file, v, NULL) == 0;
}

static char *rd(struct v1_priv *p, enum v1_ctrl c, const char *file)
{
	char *s = NULL;
	int fd = v1_fd(p, c);

	if (fd < 0 || cg_read(fd, v1_dir(p, c), file, &s, NULL) < 0)
		return NULL;
	return s;
}

/* A cpuacct file holding one number per cpu. */
static void u64_list(struct v1_priv *p, const char *file, uint64_t **out, size_t *n)
{
	_cleanup_free_ char *text = rd(p, V1_CPUACCT, file);
	uint64_t v;

	for (char *s = text, *end; s && *s; s = end) {
		v = strtoull(s, &end, 10);
		if (end == s)
			break;
		*out = xrealloc(*out, (*n + 1) * sizeof(v));
		(*out)[(*n)++] = v;
	}
}

static void cpu_stats(struct v1_priv *p, struct cgroup_stats *st)
{
	_cleanup_free_ char *acct = rd(p, V1_CPUACCT, "cpuacct.stat");
	_cleanup_free_ char *cpu = rd(p, V1_CPU, "cpu.stat");
	long hz = sysconf(_SC_CLK_TCK);
	uint64_t v;

	rd_u64(p, V1_CPUACCT, "cpuacct.usage", &st->cpu.total);
	if (acct && cg_keyed_u64(acct, "user", &v))
		st->cpu.user = cgv1_ticks_to_ns(v, hz);
	if (acct && cg_keyed_u64(acct, "system", &v))
		st->cpu.kernel = cgv1_ticks_to_ns(v, hz);
	u64_list(p, "cpuacct.usage_percpu", &st->cpu.percpu, &st->cpu.n_percpu);
	u64_list(p, "cpuacct.usage_percpu_sys", &st->cpu.percpu_kernel, &st->cpu.n_percpu_kernel);
	u64_list(p, "cpuacct.usage_percpu_user", &st->cpu.percpu_user, &st->cpu.n_percpu_user);
	if (cpu) {
		cg_keyed_u64(cpu, "nr_periods", &st->cpu.periods);
		cg_keyed_u64(cpu, "nr_throttled", &st->cpu.throttled_periods);
		cg_keyed_u64(cpu, "throttled_time", &st->cpu.throttled_time);
	}
}

static void mem_entry(struct v1_priv *p, const char *prefix, struct cg_mem_entry *e)
{
	static const char *const names[] = {"usage_in_bytes", "max_usage_in_bytes",
					    "limit_in_bytes", "failcnt"};
	uint64_t *dst[] = {&e->usage, &e->max, &e->limit, &e->failcnt};

	for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
		_cleanup_free_ char *f = xasprintf("%s%s", prefix, names[i]);

		rd_u64(p, V1_MEMORY, f, dst[i]);
	}
}

static void memory_stats(struct v1_priv *p, struct cgroup_stats *st)
{
	_cleanup_free_ char *stat = rd(p, V1_MEMORY, "memory.stat");
	_cleanup_free_ char *oom = rd(p, V1_MEMORY, "memory.oom_control");

	if (v1_fd(p, V1_MEMORY) < 0)
		return;
	mem_entry(p, "memory.", &st->memory.usage);
	mem_entry(p, "memory.memsw.", &st->memory.swap);
	mem_entry(p, "memory.kmem.", &st->memory.kernel);
	mem_entry(p, "memory.kmem.tcp.", &st->memory.kernel_tcp);
	for (char *s = stat, *nl; s && *s; s = nl ? nl + 1 : NULL) {
		char *sp = strchr(s, ' ');

		nl = strchr(s, '\n');
		if (!sp || (nl && sp > nl))
			continue;
		st->memory.raw =
			xrealloc(st->memory.raw, (st->memory.n_raw + 1) * sizeof(*st->memory.raw));
		st->memory.raw[st->memory.n_raw].key = xasprintf("%.*s", (int)(sp - s), s);
		st->memory.raw[st->memory.n_raw].value = strtoull(sp + 1, NULL, 10);
		st->memory.n_raw++;
	}
	if (stat && !cg_keyed_u64(stat, "cache", &st->memory.cache))
		cg_keyed_u64(stat, "total_cache", &st->memory.cache);
	/* under_oom is a 0/1 flag, not a count: only oom_kill counts OOM events on v1 */
	if (oom)
		cg_keyed_u64(oom, "oom_kill", &st->memory.oom_kill_events);
}

static void pids_stats(struct v1_priv *p, struct cgroup_stats *st)
{
	rd_u64(p, V1_PIDS, "pids.current", &st->pids.current);
	if (rd_u64(p, V1_PIDS, "pids.max", &st->pids.limit) && st->pids.limit == UINT64_MAX)
		st->pids.limit = 0;
}

static void blkio_stats(struct v1_priv *p, struct cgroup_stats *st)
{
	_cleanup_free_ char *bytes = rd(p, V1_BLKIO, "blkio.throttle.io_service_bytes_recursive");
	_cleanup_free_ char *ios = rd(p, V1_BLKIO, "blkio.throttle.io_serviced_recursive");

	if (!bytes)
		bytes = rd(p, V1_BLKIO, "blkio.throttle.io_service_bytes");
	if (!ios)
		ios = rd(p, V1_BLKIO, "blkio.throttle.io_serviced");
	if (bytes)
		cgv1_parse_blkio(bytes, &st->blkio.service_bytes, &st->blkio.n_service_bytes);
	if (ios)
		cgv1_parse_blkio(ios, &st->blkio.serviced, &st->blkio.n_serviced);
}

/* One entry per hugetlb.<size>.usage_in_bytes file. */
static void hugetlb_stats(struct v1_priv *p, struct cgroup_stats *st)
{
	int fd = v1_fd(p, V1_HUGETLB), dfd;
	_cleanup_closedir_ DIR *d = NULL;
	struct dirent *de;

	if (fd < 0 || (dfd = dup(fd)) < 0)
		return;
	d = fdopendir(dfd);
	if (!d) {
		close(dfd);
		return;
	}
	while ((de = readdir(d))) {
		const char *name = de->d_name, *dot;
		struct cg_hugetlb_stat *h;
		_cleanup_free_ char *size = NULL, *f = NULL;

		if (strncmp(name, "hugetlb.", 8) != 0 || !(dot = strchr(name + 8, '.')) ||
		    strcmp(dot, ".usage_in_bytes") != 0)
			continue;
		size = xasprintf("%.*s", (int)(dot - name - 8), name + 8);
		st->hugetlb = xrealloc(st->hugetlb, (st->n_hugetlb + 1) * sizeof(*st->hugetlb));
		h = &st->hugetlb[st->n_hugetlb++];
		memset(h, 0, sizeof(*h));
		rd_u64(p, V1_HUGETLB, name, &h->usage);
		f = xasprintf("hugetlb.%s.max_usage_in_bytes", size);
		rd_u64(p, V1_HUGETLB, f, &h->max);
		free(f);
		f = xasprintf("hugetlb.%s.failcnt", size);
		rd_u64(p, V1_HUGETLB, f, &h->failcnt);
		h->page_size = steal_ptr(size);
	}
}

/* Hybrid: the controller-less cgroup2 still accounts PSI and CPU time. */
static void unified_stats(struct v1_priv *p, struct cgroup_stats *st)
{
	static const char *const files[] = {"cpu.pressure", "memory.pressure", "io.pressure"};
	struct cg_psi *dst[] = {&st->psi_cpu, &st->psi_memory, &st->psi_io};
	_cleanup_free_ char *cpu = NULL;

	if (p->ufd < 0)
		return;
	for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
		_cleanup_free_ char *s = NULL;

		if (cg_read(p->ufd, p->udir, files[i], &s, NULL) == 0 &&
		    cg_parse_psi(s, dst[i]) < 0)
			memset(dst[i], 0, sizeof(*dst[i]));
	}
	if (cg_read(p->ufd, p->udir, "cpu.stat", &cpu, NULL) == 0)
		st->cpu_usage_v2_present = cg_keyed_u64(cpu, "usage_usec", &st->cpu_usage_usec_v2);
}

static void cpuset_stats(struct v1_priv *p, struct cgroup_stats *st)
{
	struct cg_cpuset_stat *c = &st->cpuset;
	_cleanup_free_ char *cpus = rd(p, V1_CPUSET, "cpuset.cpus");
	_cleanup_free_ char *mems = rd(p, V1_CPUSET, "cpuset.mems");
	static const char *const names[] = {
		"cpuset.cpu_exclusive", "cpuset.mem_hardwall", "cpuset.mem_exclusive",
		"cpuset.memory_migrate", "cpuset.memory_spread_page", "cpuset.memory_spread_slab",
		"cpuset.memory_pressure", "cpuset.sched_load_balance"};
	uint64_t *dst[] = {&c->cpu_exclusive, &c->mem_hardwall, &c->mem_exclusive,
			   &c->memory_migrate, &c->memory_spread_page, &c->memory_spread_slab,
			   &c->memory_pressure, &c->sched_load_balance};

	if (!cpus || !mems)
		return;
	c->present = true;
	(void)cgroup_parse_cpulist(cpus, &c->cpus, &c->n_cpus);
	(void)cgroup_parse_cpulist(mems, &c->mems, &c->n_mems);
	for (size_t i = 0; i < ARRAY_SIZE(names); i++)
		rd_u64(p, V1_CPUSET, names[i], dst[i]);
	/* Signed (the kernel's default is -1): read as text. */
	_cleanup_free_ char *relax = rd(p, V1_CPUSET, "cpuset.sched_relax_domain_level");
	c->sched_relax_domain_level = relax ? strtoll(relax, NULL, 10) : 0;
}

int cgv1_stats(struct cgroup *cg, struct cgroup_stats *st, struct werr **err)
{
	struct v1_priv *p = cg->priv;

	cpu_stats(p, st);
	cpuset_stats(p, st);
	memory_stats(p, st);
	pids_stats(p, st);
	blkio_stats(p, st);
	hugetlb_stats(p, st);
	unified_stats(p, st);
	return 0;
}
