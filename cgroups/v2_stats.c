/* cgroup v2 files -> struct cgroup_stats, in the units and shapes `runc events --stats` uses.
 * A file that is missing (its controller not enabled, or an older kernel) leaves its fields
 * zero; only a cgroup that cannot be read at all is an error. */
#include "cgroups/v2_int.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/util.h"

static char *read_opt(int fd, const char *file)
{
	char *s = NULL;
	size_t len;

	return read_file_at(fd, file, &s, &len, NULL) < 0 ? NULL : s;
}

static bool read_u64_opt(int fd, const char *file, uint64_t *v)
{
	return cg_read_u64(fd, "", file, v, NULL) == 0;
}

static void add_blkio(struct cg_blkio_entry **v, size_t *n, uint64_t major, uint64_t minor,
		      const char *op, uint64_t value)
{
	*v = xrealloc(*v, (*n + 1) * sizeof(**v));
	(*v)[*n] = (struct cg_blkio_entry){.major = major, .minor = minor, .value = value};
	snprintf((*v)[*n].op, sizeof((*v)[*n].op), "%s", op);
	(*n)++;
}

void cgv2_parse_io_stat(const char *text, struct cgroup_stats *st)
{
	static const struct {
		const char *key, *op;
		bool bytes;
	} map[] = {
		{"rbytes", "Read", true}, {"wbytes", "Write", true}, {"dbytes", "Discard", true},
		{"rios", "Read", false},  {"wios", "Write", false},  {"dios", "Discard", false},
	};

	for (const char *line = text; line && *line;) {
		const char *end = strchr(line, '\n');
		_cleanup_free_ char *l =
			xasprintf("%.*s", end ? (int)(end - line) : (int)strlen(line), line);
		unsigned long long maj, min;
		char *save = NULL, *tok;

		line = end ? end + 1 : NULL;
		if (sscanf(l, "%llu:%llu", &maj, &min) != 2)
			continue;
		strtok_r(l, " ", &save);
		while ((tok = strtok_r(NULL, " ", &save))) {
			char *eq = strchr(tok, '=');

			if (!eq)
				continue;
			*eq = 0;
			for (size_t i = 0; i < ARRAY_SIZE(map); i++) {
				uint64_t v;

				if (strcmp(tok, map[i].key) != 0)
					continue;
				v = strtoull(eq + 1, NULL, 10);
				if (map[i].bytes)
					add_blkio(&st->blkio.service_bytes,
						  &st->blkio.n_service_bytes, maj, min, map[i].op,
						  v);
				else
					add_blkio(&st->blkio.serviced, &st->blkio.n_serviced, maj,
						  min, map[i].op, v);
			}
		}
	}
}

void cgv2_parse_memory_stat(const char *text, struct cgroup_stats *st)
{
	for (const char *line = text; line && *line;) {
		const char *sp = strchr(line, ' ');
		const char *end = strchr(line, '\n');
		struct cg_raw_stat *e;

		if (!sp || (end && sp > end)) {
			line = end ? end + 1 : NULL;
			continue;
		}
		st->memory.raw =
			xrealloc(st->memory.raw, (st->memory.n_raw + 1) * sizeof(*st->memory.raw));
		e = &st->memory.raw[st->memory.n_raw++];
		e->key = xasprintf("%.*s", (int)(sp - line), line);
		e->value = strtoull(sp + 1, NULL, 10);
		if (strcmp(e->key, "file") == 0)
			st->memory.cache = e->value;
		line = end ? end + 1 : NULL;
	}
}

static void stats_cpu(int fd, struct cgroup_stats *st)
{
	_cleanup_free_ char *s = read_opt(fd, "cpu.stat");
	uint64_t v;

	if (!s)
		return;
	if (cg_keyed_u64(s, "usage_usec", &v)) {
		st->cpu.total = v * 1000;
		st->cpu_usage_usec_v2 = v;
		st->cpu_usage_v2_present = true;
	}
	if (cg_keyed_u64(s, "user_usec", &v))
		st->cpu.user = v * 1000;
	if (cg_keyed_u64(s, "system_usec", &v))
		st->cpu.kernel = v * 1000;
	cg_keyed_u64(s, "nr_periods", &st->cpu.periods);
	cg_keyed_u64(s, "nr_throttled", &st->cpu.throttled_periods);
	if (cg_keyed_u64(s, "throttled_usec", &v))
		st->cpu.throttled_time = v * 1000;
}

static uint64_t sat_add(uint64_t a, uint64_t b)
{
	return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

static void stats_memory(int fd, struct cgroup_stats *st)
{
	_cleanup_free_ char *stat = read_opt(fd, "memory.stat");
	_cleanup_free_ char *events = read_opt(fd, "memory.events");
	struct cg_mem_entry *u = &st->memory.usage, *sw = &st->memory.swap;

	if (stat)
		cgv2_parse_memory_stat(stat, st);
	read_u64_opt(fd, "memory.current", &u->usage);
	if (!read_u64_opt(fd, "memory.max", &u->limit))
		u->limit = UINT64_MAX;
	read_u64_opt(fd, "memory.peak", &u->max);
	if (events) {
		cg_keyed_u64(events, "max", &u->failcnt);
		cg_keyed_u64(events, "oom", &st->memory.oom_events);
		cg_keyed_u64(events, "oom_kill", &st->memory.oom_kill_events);
	}
	/* runc reports swap as memory+swap (the v1 memsw meaning), so consumers see one shape */
	if (read_u64_opt(fd, "memory.swap.current", &sw->usage)) {
		sw->usage = sat_add(sw->usage, u->usage);
		if (!read_u64_opt(fd, "memory.swap.max", &sw->limit))
			sw->limit = UINT64_MAX;
		sw->limit = sat_add(sw->limit, u->limit);
		read_u64_opt(fd, "memory.swap.peak", &sw->max);
	}
}

static void stats_pids(int fd, struct cgroup_stats *st)
{
	uint64_t max;

	read_u64_opt(fd, "pids.current", &st->pids.current);
	if (read_u64_opt(fd, "pids.max", &max))
		st->pids.limit = max == UINT64_MAX ? 0 : max;
}

/* Page sizes from the hugetlb.<size>.current files ("hugetlb.2MB.rsvd.current" excluded). */
static void stats_hugetlb(int fd, struct cgroup_stats *st)
{
	_cleanup_closedir_ DIR *d = NULL;
	struct dirent *de;
	int dfd = dup(fd);

	if (dfd < 0)
		return;
	d = fdopendir(dfd);
	if (!d) {
		close(dfd);
		return;
	}
	while ((de = readdir(d))) {
		const char *name = de->d_name, *size = name + strlen("hugetlb.");
		size_t len = strlen(name);
		struct cg_hugetlb_stat *h;
		_cleanup_free_ char *f = NULL, *ev = NULL;

		if (strncmp(name, "hugetlb.", 8) != 0 || len < 16 ||
		    strcmp(name + len - 8, ".current") != 0 || strchr(size, '.') != name + len - 8)
			continue;
		st->hugetlb = xrealloc(st->hugetlb, (st->n_hugetlb + 1) * sizeof(*st->hugetlb));
		h = &st->hugetlb[st->n_hugetlb++];
		memset(h, 0, sizeof(*h));
		h->page_size = xasprintf("%.*s", (int)(name + len - 8 - size), size);
		read_u64_opt(fd, name, &h->usage);
		f = xasprintf("hugetlb.%s.max", h->page_size);
		read_u64_opt(fd, f, &h->max);
		free(f);
		f = xasprintf("hugetlb.%s.events", h->page_size);
		ev = read_opt(fd, f);
		if (ev)
			cg_keyed_u64(ev, "max", &h->failcnt);
	}
}

static void stats_psi(int fd, const char *file, struct cg_psi *psi)
{
	_cleanup_free_ char *s = read_opt(fd, file);

	if (!s || cg_parse_psi(s, psi) < 0)
		memset(psi, 0, sizeof(*psi));
}

static void stats_cpuset(int fd, struct cgroup_stats *st)
{
	_cleanup_free_ char *cpus = read_opt(fd, "cpuset.cpus.effective");
	_cleanup_free_ char *mems = read_opt(fd, "cpuset.mems.effective");

	if (!cpus || !mems)
		return;
	st->cpuset.present = true;
	(void)cgroup_parse_cpulist(cpus, &st->cpuset.cpus, &st->cpuset.n_cpus);
	(void)cgroup_parse_cpulist(mems, &st->cpuset.mems, &st->cpuset.n_mems);
}

int cgv2_stats(struct cgroup *cg, struct cgroup_stats *st, struct werr **err)
{
	struct v2_priv *p = v2_priv(cg);
	_cleanup_free_ char *io = NULL;

	if (faccessat(p->dirfd, "cgroup.procs", F_OK, 0) < 0)
		return werr_sys(err, errno, "cgroup %s (%s)", cg->path, p->dir);
	stats_cpu(p->dirfd, st);
	stats_cpuset(p->dirfd, st);
	stats_memory(p->dirfd, st);
	stats_pids(p->dirfd, st);
	io = read_opt(p->dirfd, "io.stat");
	if (io)
		cgv2_parse_io_stat(io, st);
	stats_hugetlb(p->dirfd, st);
	stats_psi(p->dirfd, "cpu.pressure", &st->psi_cpu);
	stats_psi(p->dirfd, "memory.pressure", &st->psi_memory);
	stats_psi(p->dirfd, "io.pressure", &st->psi_io);
	return 0;
}
