/* ward events: runc's stats and OOM event stream, plus PSI and a CPU demand estimate.
 *
 * The demand estimate follows the runtime demand estimation idea of Isci et al. (NOMS 2010):
 * over a window, the CPU a container would have used had it not waited is roughly
 *     demand = used / (window - waiting)
 * where "waiting" is time the container was runnable but not running: the cgroup's CPU
 * pressure ("some" stall time) or its CFS throttled time, whichever is larger (the kernel does
 * not count a throttled cgroup's tasks as stalled everywhere). An idle container has demand
 * near 0; one throttled at 0.2 CPU that would use a full CPU shows used 0.2 and demand ~1. */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lib/util.h"
#include "runtime/cgroup.h"
#include "runtime/commands.h"
#include "runtime/log.h"
#include "runtime/spec_gen.h"

struct demand_sample {
	uint64_t t_usec;	/* CLOCK_BOOTTIME */
	uint64_t used_usec;	/* CPU time used */
	uint64_t some_usec;	/* cpu.pressure some total */
	uint64_t throttled_usec;
	uint64_t throttled_periods;
};

static uint64_t boottime_usec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_BOOTTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

static void sample_of(const struct cgroup_stats *st, struct demand_sample *d)
{
	d->t_usec = boottime_usec();
	d->used_usec = st->cpu_usage_v2_present ? st->cpu_usage_usec_v2 : st->cpu.total / 1000;
	d->some_usec = st->psi_cpu.present ? st->psi_cpu.some.total : 0;
	d->throttled_usec = st->cpu.throttled_time / 1000;
	d->throttled_periods = st->cpu.throttled_periods;
}

static void gen_demand(yajl_gen g, const struct demand_sample *a, const struct demand_sample *b,
		       const char *window)
{
	double dt = (double)(b->t_usec - a->t_usec);
	double used = (double)(b->used_usec - a->used_usec);
	double some = (double)(b->some_usec - a->some_usec);
	double thr = (double)(b->throttled_usec - a->throttled_usec);
	double waiting = some > thr ? some : thr;
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	double demand;

	if (dt <= 0)
		return;
	if (waiting > dt)
		waiting = dt;
	demand = dt - waiting > dt / 1000 ? used / (dt - waiting) : (used > 0 ? (double)ncpu : 0);
	if (demand > (double)ncpu)
		demand = (double)ncpu;
	jg_kopen(g, "cpuDemand");
	jg_kstr(g, "window", window);
	jg_ku64(g, "windowUsec", (uint64_t)dt);
	jg_kdouble(g, "usedCpus", used / dt);
	jg_kdouble(g, "waitingFraction", waiting / dt);
	jg_kdouble(g, "demandCpus", demand);
	jg_kbool(g, "throttled", b->throttled_periods > a->throttled_periods);
	jg_close(g);
}

/* A number runc marks `omitempty`: left out when 0. */
static void gen_u64_nz(yajl_gen g, const char *key, uint64_t v)
{
	if (v)
		jg_ku64(g, key, v);
}

static void gen_mem_entry(yajl_gen g, const char *key, const struct cg_mem_entry *e)
{
	jg_kopen(g, key);
	jg_ku64(g, "limit", e->limit);
	gen_u64_nz(g, "usage", e->usage);
	gen_u64_nz(g, "max", e->max);
	jg_ku64(g, "failcnt", e->failcnt);
	jg_close(g);
}

static void gen_blkio_list(yajl_gen g, const char *key, const struct cg_blkio_entry *e, size_t n)
{
	if (!n)
		return;
	jg_kopen_array(g, key);
	for (size_t i = 0; i < n; i++) {
		jg_kopen(g, NULL);
		gen_u64_nz(g, "major", e[i].major);
		gen_u64_nz(g, "minor", e[i].minor);
		if (e[i].op[0])
			jg_kstr(g, "op", e[i].op);
		gen_u64_nz(g, "value", e[i].value);
		jg_close(g);
	}
	jg_close_array(g);
}

static void gen_u64_list(yajl_gen g, const char *key, const uint64_t *v, size_t n)
{
	if (!n)
		return;
	jg_kopen_array(g, key);
	for (size_t i = 0; i < n; i++)
		jg_ku64(g, NULL, v[i]);
	jg_close_array(g);
}

static int raw_key_cmp(const void *a, const void *b)
{
	return strcmp(((const struct cg_raw_stat *)a)->key, ((const struct cg_raw_stat *)b)->key);
}

static void gen_cpuset(yajl_gen g, const struct cg_cpuset_stat *c)
{
	jg_kopen(g, "cpuset");
	gen_u64_list(g, "cpus", c->cpus, c->n_cpus);
	jg_ku64(g, "cpu_exclusive", c->cpu_exclusive);
	gen_u64_list(g, "mems", c->mems, c->n_mems);
	jg_ku64(g, "mem_hardwall", c->mem_hardwall);
	jg_ku64(g, "mem_exclusive", c->mem_exclusive);
	jg_ku64(g, "memory_migrate", c->memory_migrate);
	jg_ku64(g, "memory_spread_page", c->memory_spread_page);
	jg_ku64(g, "memory_spread_slab", c->memory_spread_slab);
	jg_ku64(g, "memory_pressure", c->memory_pressure);
	jg_ku64(g, "sched_load_balance", c->sched_load_balance);
	yajl_gen_string(g, (const unsigned char *)"sched_relax_domain_level", 24);
	yajl_gen_integer(g, c->sched_relax_domain_level);
	jg_close(g);
}

static void gen_psi(yajl_gen g, const char *key, const struct cg_psi *p)
{
	const struct cg_psi_line *l[2] = { &p->some, &p->full };
	const char *names[2] = { "some", "full" };

	if (!p->present)
		return;
	jg_kopen(g, key);
	for (int i = 0; i < 2; i++) {
		jg_kopen(g, names[i]);
		jg_kdouble(g, "avg10", l[i]->avg10);
		jg_kdouble(g, "avg60", l[i]->avg60);
		jg_kdouble(g, "avg300", l[i]->avg300);
		jg_ku64(g, "total", l[i]->total);
		jg_close(g);
	}
	jg_close(g);
}

/*
 * runc's "data" object of a stats event: the field order and `omitempty` rules of runc's
 * types/events.go, so callers that decode runc's output decode ward's. Then ward's own
 * "psi" and "cpuDemand".
 */
static void gen_stats(yajl_gen g, struct cgroup_stats *st)
{
	jg_kopen(g, "cpu");
	jg_kopen(g, "usage");
	gen_u64_nz(g, "total", st->cpu.total);
	gen_u64_list(g, "percpu", st->cpu.percpu, st->cpu.n_percpu);
	gen_u64_list(g, "percpu_kernel", st->cpu.percpu_kernel, st->cpu.n_percpu_kernel);
	gen_u64_list(g, "percpu_user", st->cpu.percpu_user, st->cpu.n_percpu_user);
	jg_ku64(g, "kernel", st->cpu.kernel);
	jg_ku64(g, "user", st->cpu.user);
	jg_close(g);
	jg_kopen(g, "throttling");
	gen_u64_nz(g, "periods", st->cpu.periods);
	gen_u64_nz(g, "throttledPeriods", st->cpu.throttled_periods);
	gen_u64_nz(g, "throttledTime", st->cpu.throttled_time);
	jg_close(g);
	jg_close(g);

	gen_cpuset(g, &st->cpuset);

	jg_kopen(g, "memory");
	gen_u64_nz(g, "cache", st->memory.cache);
	gen_mem_entry(g, "usage", &st->memory.usage);
	gen_mem_entry(g, "swap", &st->memory.swap);
	gen_mem_entry(g, "kernel", &st->memory.kernel);
	gen_mem_entry(g, "kernelTCP", &st->memory.kernel_tcp);
	if (st->memory.n_raw) {
		/* runc's raw is a Go map: its keys come out sorted. */
		qsort(st->memory.raw, st->memory.n_raw, sizeof(*st->memory.raw), raw_key_cmp);
		jg_kopen(g, "raw");
		for (size_t i = 0; i < st->memory.n_raw; i++)
			jg_ku64(g, st->memory.raw[i].key, st->memory.raw[i].value);
		jg_close(g);
	}
	jg_close(g);

	jg_kopen(g, "pids");
	gen_u64_nz(g, "current", st->pids.current);
	gen_u64_nz(g, "limit", st->pids.limit);
	jg_close(g);

	jg_kopen(g, "blkio");
	gen_blkio_list(g, "ioServiceBytesRecursive", st->blkio.service_bytes,
		       st->blkio.n_service_bytes);
	gen_blkio_list(g, "ioServicedRecursive", st->blkio.serviced, st->blkio.n_serviced);
	jg_close(g);

	jg_kopen(g, "hugetlb");
	for (size_t i = 0; i < st->n_hugetlb; i++) {
		jg_kopen(g, st->hugetlb[i].page_size);
		gen_u64_nz(g, "usage", st->hugetlb[i].usage);
		gen_u64_nz(g, "max", st->hugetlb[i].max);
		jg_ku64(g, "failcnt", st->hugetlb[i].failcnt);
		jg_close(g);
	}
	jg_close(g);

	jg_kopen(g, "intel_rdt"); /* ward reads no resctrl groups: an empty object, as runc's */
	jg_close(g);
	yajl_gen_string(g, (const unsigned char *)"network_interfaces", 18);
	yajl_gen_null(g);

	if (st->psi_cpu.present || st->psi_memory.present || st->psi_io.present) {
		jg_kopen(g, "psi");
		gen_psi(g, "cpu", &st->psi_cpu);
		gen_psi(g, "memory", &st->psi_memory);
		gen_psi(g, "io", &st->psi_io);
		jg_close(g);
	}
}

static void print_event(yajl_gen g)
{
	const unsigned char *buf;
	size_t len;

	yajl_gen_get_buf(g, &buf, &len);
	fwrite(buf, 1, len, stdout);
	fputc('\n', stdout);
	fflush(stdout);
	yajl_gen_free(g);
}

static yajl_gen event_open(const char *type, const char *id)
{
	yajl_gen g = yajl_gen_alloc(NULL);

	jg_kopen(g, NULL);
	jg_kstr(g, "type", type);
	jg_kstr(g, "id", id);
	return g;
}

static void emit_stats(const char *id, struct cgroup_stats *st,
		       const struct demand_sample *from, const struct demand_sample *to,
		       const char *window)
{
	yajl_gen g = event_open("stats", id);

	jg_kopen(g, "data");
	gen_stats(g, st);
	gen_demand(g, from, to, window);
	jg_close(g);
	jg_close(g);
	print_event(g);
}

/* "5s", "100ms", "2m", "1h", "1.5s", or a plain number of seconds -> milliseconds. */
/* The unit of an --interval part at *end (advanced past it), in ms; 0 if unknown. */
static double interval_unit(const char **end)
{
	static const struct {
		const char *name;
		double ms;
	} units[] = {{"ns", 1e-6}, {"us", 1e-3}, {"\xc2\xb5s", 1e-3}, {"ms", 1},
		     {"s", 1000},  {"m", 60000}, {"h", 3600000}};

	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		size_t n = strlen(units[i].name);

		if (strncmp(*end, units[i].name, n) == 0) { /* "ms" is tried before "m" */
			*end += n;
			return units[i].ms;
		}
	}
	return 0;
}

/* --interval as runc takes it (Go durations: 5s, 500ms, 1m30s, 1.5h) or a bare number of
 * seconds; at least 1 ms, at most a year. */
static int parse_interval(const char *s, long *ms)
{
	const char *p = s;
	double total = 0;

	if (!*s)
		return -1;
	if (strspn(s, "0123456789.") == strlen(s)) /* a bare number: seconds */
		total = strtod(s, NULL) * 1000;
	else
		while (*p) {
			char *end;
			double v, unit;

			if (!isdigit((unsigned char)*p) && *p != '.')
				return -1; /* no sign, no inf/nan, no hex */
			v = strtod(p, &end);
			if (end == p)
				return -1;
			p = end;
			unit = interval_unit(&p);
			if (unit == 0)
				return -1;
			total += v * unit;
		}
	if (!isfinite(total) || total < 1 || total > 365.0 * 24 * 3600000)
		return -1;
	*ms = (long)total;
	return 0;
}

static bool still_running(const struct global_opts *g, const char *id)
{
	struct cstate st;
	bool alive;

	if (state_load(g->root, id, &st, NULL) < 0)
		return false;
	alive = st.status != ST_STOPPED;
	cstate_free(&st);
	return alive;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };

	nanosleep(&ts, NULL);
}

int cmd_events(const struct global_opts *gopt, int argc, char **argv)
{
	_cleanup_werr_ struct werr *err = NULL;
	_cleanup_cgroup_ struct cgroup *cg = NULL;
	static const struct option opts[] = { { "stats", no_argument, NULL, 's' },
					      { "interval", required_argument, NULL, 'i' },
					      { NULL, 0, NULL, 0 } };
	struct cgroup_stats st = { 0 };
	struct demand_sample prev = { 0 }, cur;
	uint64_t ooms;
	bool once = false;
	long interval = 5000, since = 0;
	const long tick = 100;
	const char *id;
	struct cstate cs;
	int c, r;

	optind = 0;
	while ((c = getopt_long_only(argc, argv, "+", opts, NULL)) != -1) {
		if (c == 's') {
			once = true;
		} else if (c == 'i' && parse_interval(optarg, &interval) == 0) {
			continue;
		} else {
			log_error("events: %s (usage: ward events [--stats] [--interval 5s] <id>)",
				  c == 'i' ? "--interval: expected a duration such as 5s or 500ms"
					   : "invalid flags");
			return 1;
		}
	}
	id = cmd_want_id(argc, argv, "events");
	if (!id)
		return 1;
	r = state_load(gopt->root, id, &cs, &err);
	if (r == 0 && cs.status == ST_STOPPED)
		r = werr_set(&err, ESRCH, "container not running");
	if (r == 0)
		r = container_cgroup_open(&cs, &cg, &err);
	if (r == 0) {
		/* the demand window of a single --stats call is the container's life so far */
		long hz = sysconf(_SC_CLK_TCK);

		prev.t_usec = cs.start_time * 1000000ULL / (unsigned long long)(hz > 0 ? hz : 100);
	}
	cstate_free(&cs);
	if (r < 0)
		return cmd_fail(&err);
	r = cgroup_stats(cg, &st, &err);
	if (r < 0)
		return cmd_fail(&err);
	sample_of(&st, &cur);
	if (once) {
		emit_stats(id, &st, &prev, &cur, "lifetime");
		cgroup_stats_free(&st);
		return 0;
	}
	/* Stream: stats every interval (demand over that interval), an "oom" event as soon as
	 * memory.events (v1: oom_control) counts a new OOM, until the container stops. */
	ooms = st.memory.oom_events + st.memory.oom_kill_events;
	prev = cur;
	cgroup_stats_free(&st);
	for (;;) {
		sleep_ms(tick);
		since += tick;
		if (cgroup_stats(cg, &st, NULL) < 0) {
			cgroup_stats_free(&st);
			break;
		}
		if (st.memory.oom_events + st.memory.oom_kill_events > ooms) {
			yajl_gen g = event_open("oom", id);

			ooms = st.memory.oom_events + st.memory.oom_kill_events;
			jg_close(g);
			print_event(g);
		}
		if (!still_running(gopt, id)) {
			cgroup_stats_free(&st);
			break;
		}
		if (since >= interval) {
			since = 0;
			sample_of(&st, &cur);
			emit_stats(id, &st, &prev, &cur, "interval");
			prev = cur;
		}
		cgroup_stats_free(&st);
	}
	return 0;
}
