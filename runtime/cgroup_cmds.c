/* ward pause | resume | ps | update: the commands that act on a container's cgroup. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ctype.h>
#include <strings.h>
#include <unistd.h>

#include "lib/util.h"
#include "runtime/cgroup.h"
#include "runtime/commands.h"
#include "runtime/log.h"
#include "runtime/spec_json.h"
#include "runtime/spec_parse.h"

/* Load a container's state and open its cgroup; refuses a stopped container. */
static int open_live(const struct global_opts *g, const char *id, struct cstate *st,
		     struct cgroup **cg, struct werr **err)
{
	int r = state_load(g->root, id, st, err);

	if (r < 0)
		return r;
	if (st->status == ST_STOPPED)
		return werr_set(err, ESRCH, "container not running");
	return container_cgroup_open(st, cg, err);
}

static int pause_resume(const struct global_opts *g, int argc, char **argv, bool freeze)
{
	_cleanup_werr_ struct werr *err = NULL;
	_cleanup_cgroup_ struct cgroup *cg = NULL;
	_cleanup_close_ int lock = -1;
	struct cstate st;
	const char *id;
	int r;

	optind = 1;
	if (argc > 1 && argv[1][0] == '-') {
		log_error("%s: unknown flag %s", argv[0], argv[1]);
		return 1;
	}
	id = cmd_want_id(argc, argv, argv[0]);
	if (!id)
		return 1;
	lock = state_lock(g->root, id, &err);
	if (lock < 0)
		return cmd_fail(&err);
	r = open_live(g, id, &st, &cg, &err);
	if (r == 0 && freeze && st.status != ST_RUNNING && st.status != ST_CREATED)
		r = werr_set(&err, EINVAL, "container not running");
	if (r == 0 && !freeze && st.status != ST_PAUSED)
		r = werr_set(&err, EINVAL, "container not paused");
	if (r == 0)
		r = cgroup_freeze(cg, freeze, &err);
	cstate_free(&st);
	return r < 0 ? cmd_fail(&err) : 0;
}

int cmd_pause(const struct global_opts *g, int argc, char **argv)
{
	return pause_resume(g, argc, argv, true);
}

int cmd_resume(const struct global_opts *g, int argc, char **argv)
{
	return pause_resume(g, argc, argv, false);
}

static bool pid_in(pid_t p, const pid_t *pids, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (pids[i] == p)
			return true;
	return false;
}

/* runc's table: run ps(1) with the given options (default -ef) and keep the header and the
 * lines whose PID column is one of the container's. */
static int ps_table(char **ps_args, int n_args, const pid_t *pids, size_t n)
{
	_cleanup_free_ char *cmd = xstrdup("ps");
	char line[4096];
	int pid_col = -1, rc;
	FILE *f;

	if (n_args == 0)
		cmd = (free(cmd), xstrdup("ps -ef"));
	for (int i = 0; i < n_args; i++) {
		char *q = cmd;

		if (strchr(ps_args[i], '\'')) {
			log_error("ps: option %s: quotes are not allowed", ps_args[i]);
			return 1;
		}
		cmd = xasprintf("%s '%s'", q, ps_args[i]);
		free(q);
	}
	f = popen(cmd, "r");
	if (!f) {
		log_error("ps: run %s: %s", cmd, strerror(errno));
		return 1;
	}
	while (fgets(line, sizeof(line), f)) {
		if (pid_col < 0) {
			_cleanup_free_ char *hdr = xstrdup(line);
			char *save = NULL;
			int col = 0;

			for (char *t = strtok_r(hdr, " \t\n", &save); t;
			     t = strtok_r(NULL, " \t\n", &save), col++)
				if (strcmp(t, "PID") == 0)
					pid_col = col;
			if (pid_col < 0) {
				pclose(f);
				log_error("ps: no PID column in the output of %s", cmd);
				return 1;
			}
			fputs(line, stdout);
			continue;
		}
		_cleanup_free_ char *copy = xstrdup(line);
		char *save = NULL, *t = strtok_r(copy, " \t\n", &save);

		for (int col = 0; t && col < pid_col; col++)
			t = strtok_r(NULL, " \t\n", &save);
		if (t && pid_in((pid_t)atoi(t), pids, n))
			fputs(line, stdout);
	}
	rc = pclose(f);
	return rc == 0 ? 0 : 1;
}

int cmd_ps(const struct global_opts *g, int argc, char **argv)
{
	_cleanup_werr_ struct werr *err = NULL;
	_cleanup_cgroup_ struct cgroup *cg = NULL;
	_cleanup_free_ pid_t *pids = NULL;
	static const struct option opts[] = { { "format", required_argument, NULL, 'f' },
					      { NULL, 0, NULL, 0 } };
	const char *format = "table", *id;
	struct cstate st;
	size_t n = 0;
	int c, r;

	optind = 0;
	while ((c = getopt_long(argc, argv, "+f:", opts, NULL)) != -1) {
		if (c != 'f') {
			log_error("ps: invalid flags (usage: ward ps [--format table|json] <id> "
				  "[ps options])");
			return 1;
		}
		format = optarg;
	}
	if (strcmp(format, "table") != 0 && strcmp(format, "json") != 0) {
		log_error("ps: --format %s: expected table or json", format);
		return 1;
	}
	id = cmd_want_id(argc, argv, "ps");
	if (!id)
		return 1;
	/* a stopped container can still have processes in its cgroup (daemons its init left
	 * behind): list them as runc does */
	r = state_load(g->root, id, &st, &err);
	if (r == 0)
		r = container_cgroup_open(&st, &cg, &err);
	if (r == 0)
		r = cgroup_pids(cg, &pids, &n, &err);
	cstate_free(&st);
	if (r < 0)
		return cmd_fail(&err);
	if (strcmp(format, "json") == 0) {
		printf("[");
		for (size_t i = 0; i < n; i++)
			printf("%s%d", i ? "," : "", pids[i]);
		printf("]\n");
		return 0;
	}
	if (strcmp(format, "table") == 0 && optind + 1 < argc && strcmp(argv[optind + 1], "--") == 0)
		optind++;
	fflush(stdout);
	return ps_table(argv + optind + 1, argc - optind - 1, pids, n);
}

/* ---- update --------------------------------------------------------------------------- */

/* runc's RAM sizes: "1024", "64k", "64M", "1g", "1.5GiB" (binary units), or -1. */
static int parse_ram(const char *flag, const char *s, int64_t *out)
{
	static const char units[] = "bkmgtp";
	char *end;
	double v;
	const char *u;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s)
		goto bad;
	if (v == -1 && !*end) {
		*out = -1;
		return 0;
	}
	if (v < 0)
		goto bad;
	if (*end) {
		u = strchr(units, (char)tolower((unsigned char)*end));
		if (!u)
			goto bad;
		for (long i = 0; i < u - units; i++)
			v *= 1024;
		end++;
		if (*end == 'i' || *end == 'I')
			end++;
		if ((*end == 'b' || *end == 'B') && u != units)
			end++;
		if (*end)
			goto bad;
	}
	if (v > (double)INT64_MAX)
		goto bad;
	*out = (int64_t)v;
	return 0;
bad:
	log_error("update: --%s %s: expected a size such as 64M, 1G or -1", flag, s);
	return -1;
}

static int parse_num(const char *flag, const char *s, int64_t min, int64_t *out)
{
	long long v;

	if (parse_int64(s, &v) < 0 || v < min) {
		log_error("update: --%s %s: expected an integer%s", flag, s,
			  min >= 0 ? " >= 0" : "");
		return -1;
	}
	*out = v;
	return 0;
}

/* The --resources document, parsed into res; *json gets its text (caller frees). */
static int read_resources(const char *file, struct cgroup_resources *res, char **json,
			  struct werr **err)
{
	_cleanup_free_ char *text = NULL;
	_cleanup_free_ char *what = xasprintf("--resources %s", file);
	struct jctx c = { .what = what, .err = err };
	size_t len = 0;
	int r;

	if (strcmp(file, "-") == 0) {
		size_t cap = 4096;
		ssize_t got;

		text = xmalloc(cap);
		while ((got = read(0, text + len, cap - len - 1)) > 0) {
			len += (size_t)got;
			if (cap - len < 2)
				text = xrealloc(text, cap *= 2);
		}
		if (got < 0)
			return werr_sys(err, errno, "--resources -: read stdin");
		text[len] = 0;
	} else {
		r = read_file(file, &text, &len, NULL);
		if (r < 0)
			return werr_sys(err, -r, "--resources %s", file);
	}
	r = jparse_object(&c, text, len, spec_parse_resources, res);
	if (r == 0) {
		*json = text;
		text = NULL;
	}
	return r;
}

#define SET_I64(field, val) ((field).set = true, (field).v = (val))
#define SET_U64(field, val) ((field).set = true, (field).v = (uint64_t)(val))

int cmd_update(const struct global_opts *g, int argc, char **argv)
{
	_cleanup_werr_ struct werr *err = NULL;
	_cleanup_cgroup_ struct cgroup *cg = NULL;
	_cleanup_close_ int lock = -1;
	enum {
		O_RES = 'r',
		O_BLKIO = 256,
		O_CPU_PERIOD,
		O_CPU_QUOTA,
		O_CPU_BURST,
		O_RT_PERIOD,
		O_RT_RUNTIME,
		O_SHARES,
		O_CPUS,
		O_MEMS,
		O_KMEM,
		O_KMEM_TCP,
		O_MEM,
		O_MEM_RES,
		O_SWAP,
		O_PIDS,
	};
	static const struct option opts[] = {
		{ "resources", required_argument, NULL, O_RES },
		{ "r", required_argument, NULL, O_RES },
		{ "blkio-weight", required_argument, NULL, O_BLKIO },
		{ "cpu-period", required_argument, NULL, O_CPU_PERIOD },
		{ "cpu-quota", required_argument, NULL, O_CPU_QUOTA },
		{ "cpu-burst", required_argument, NULL, O_CPU_BURST },
		{ "cpu-rt-period", required_argument, NULL, O_RT_PERIOD },
		{ "cpu-rt-runtime", required_argument, NULL, O_RT_RUNTIME },
		{ "cpu-share", required_argument, NULL, O_SHARES },
		{ "cpu-shares", required_argument, NULL, O_SHARES },
		{ "cpuset-cpus", required_argument, NULL, O_CPUS },
		{ "cpuset-mems", required_argument, NULL, O_MEMS },
		{ "kernel-memory", required_argument, NULL, O_KMEM },
		{ "kernel-memory-tcp", required_argument, NULL, O_KMEM_TCP },
		{ "memory", required_argument, NULL, O_MEM },
		{ "memory-reservation", required_argument, NULL, O_MEM_RES },
		{ "memory-swap", required_argument, NULL, O_SWAP },
		{ "pids-limit", required_argument, NULL, O_PIDS },
		{ NULL, 0, NULL, 0 },
	};
	struct cgroup_resources res = { 0 };
	_cleanup_free_ char *json = NULL;
	const char *file = NULL, *id;
	bool flags = false;
	struct cstate st;
	int64_t v;
	int c, r = 0;

	optind = 0;
	while (r == 0 && (c = getopt_long_only(argc, argv, "+r:", opts, NULL)) != -1) {
		flags |= c != O_RES;
		switch (c) {
		case O_RES:
			file = optarg;
			break;
		case O_BLKIO:
			r = parse_num("blkio-weight", optarg, 0, &v);
			SET_U64(res.block_io.weight, v);
			break;
		case O_CPU_PERIOD:
			r = parse_num("cpu-period", optarg, 0, &v);
			SET_U64(res.cpu.period, v);
			break;
		case O_CPU_QUOTA:
			r = parse_num("cpu-quota", optarg, -1, &v);
			SET_I64(res.cpu.quota, v);
			break;
		case O_CPU_BURST:
			r = parse_num("cpu-burst", optarg, 0, &v);
			SET_U64(res.cpu.burst, v);
			break;
		case O_RT_PERIOD:
			r = parse_num("cpu-rt-period", optarg, 0, &v);
			SET_U64(res.cpu.realtime_period, v);
			break;
		case O_RT_RUNTIME:
			r = parse_num("cpu-rt-runtime", optarg, -1, &v);
			SET_I64(res.cpu.realtime_runtime, v);
			break;
		case O_SHARES:
			r = parse_num("cpu-share", optarg, 0, &v);
			SET_U64(res.cpu.shares, v);
			break;
		case O_CPUS:
			free(res.cpu.cpus);
			res.cpu.cpus = xstrdup(optarg);
			break;
		case O_MEMS:
			free(res.cpu.mems);
			res.cpu.mems = xstrdup(optarg);
			break;
		case O_KMEM:
		case O_KMEM_TCP:
			log_warn("update: --kernel-memory%s is ignored (deprecated by the kernel)",
				 c == O_KMEM_TCP ? "-tcp" : "");
			break;
		case O_MEM:
			r = parse_ram("memory", optarg, &v);
			SET_I64(res.memory.limit, v);
			break;
		case O_MEM_RES:
			r = parse_ram("memory-reservation", optarg, &v);
			SET_I64(res.memory.reservation, v);
			break;
		case O_SWAP:
			r = parse_ram("memory-swap", optarg, &v);
			SET_I64(res.memory.swap, v);
			break;
		case O_PIDS:
			r = parse_num("pids-limit", optarg, -1, &v);
			SET_I64(res.pids.limit, v);
			break;
		default:
			log_error("update: invalid flags (see ward update --help)");
			r = -1;
		}
	}
	if (r < 0)
		goto out;
	id = cmd_want_id(argc, argv, "update");
	if (!id) {
		r = -1;
		goto out;
	}
	if (file && flags) {
		log_error("update: --resources and the single-value flags cannot be combined");
		r = -1;
		goto out;
	}
	if (file && (r = read_resources(file, &res, &json, &err)) < 0)
		goto fail;
	if (res.n_devices) {
		r = werr_set(&err, EINVAL, "--resources %s: devices cannot be updated (as with "
					   "runc); recreate the container", file);
		goto fail;
	}
	lock = state_lock(g->root, id, &err);
	if (lock < 0) {
		r = lock;
		goto fail;
	}
	r = open_live(g, id, &st, &cg, &err);
	cstate_free(&st);
	if (r == 0)
		r = cgroup_apply(cg, &res, true, &err);
	/* what the kernel took is recorded, for a checkpoint to carry it into its image */
	if (r == 0) {
		_cleanup_free_ char *dir = state_dir(g->root, id);

		if (!json)
			json = cgroup_update_flags_json(&res);
		r = cgroup_update_record(dir, json, &err);
	}
fail:
	if (r < 0)
		cmd_fail(&err);
out:
	cgroup_resources_free(&res);
	return r < 0 ? 1 : 0;
}
