/* config.json "process" (also the document of `ward exec --process`). */
#include "runtime/spec.h"
#include "runtime/spec_json.h"
#include "runtime/spec_names.h"
#include "runtime/spec_parse.h"

#include <errno.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>

#include "lib/util.h"

/* Values fixed by the kernel ABI; not every libc exposes all of them. */
static const struct jname sched_policies[] = {
	{"SCHED_OTHER", 0}, {"SCHED_FIFO", 1}, {"SCHED_RR", 2},	      {"SCHED_BATCH", 3},
	{"SCHED_ISO", 4},   {"SCHED_IDLE", 5}, {"SCHED_DEADLINE", 6},
};

static const struct jname sched_flags[] = {
	{"SCHED_FLAG_RESET_ON_FORK", 0x01},  {"SCHED_FLAG_RECLAIM", 0x02},
	{"SCHED_FLAG_DL_OVERRUN", 0x04},     {"SCHED_FLAG_KEEP_POLICY", 0x08},
	{"SCHED_FLAG_KEEP_PARAMS", 0x10},    {"SCHED_FLAG_UTIL_CLAMP_MIN", 0x20},
	{"SCHED_FLAG_UTIL_CLAMP_MAX", 0x40},
};

static const struct jname ioprio_classes[] = {
	{"IOPRIO_CLASS_RT", 1},
	{"IOPRIO_CLASS_BE", 2},
	{"IOPRIO_CLASS_IDLE", 3},
};

static int parse_console_size(const struct jctx *c, yajl_val o, const char *sp, void *arg)
{
	struct spec_process *p = arg;

	p->has_console_size = true;
	if (j_u32(c, o, sp, "height", &p->console_height) < 0 ||
	    j_u32(c, o, sp, "width", &p->console_width) < 0)
		return -EINVAL;
	return 0;
}

static int parse_additional_gids(const struct jctx *c, yajl_val user, const char *path,
				 struct spec_user *u)
{
	_cleanup_free_ char *ap = jpath_key(path, "additionalGids");
	yajl_val a = NULL;
	int r = j_arr(c, user, path, "additionalGids", &a);

	if (r <= 0)
		return r;
	u->additional_gids = xcalloc(a->u.array.len, sizeof(uint32_t));
	for (size_t i = 0; i < a->u.array.len; i++) {
		_cleanup_free_ char *ep = jpath_idx(ap, i);
		uint64_t v;

		if (jv_u64(c, a->u.array.values[i], ep, UINT32_MAX, &v) < 0)
			return -EINVAL;
		u->additional_gids[u->n_additional_gids++] = (uint32_t)v;
	}
	return 0;
}

static int parse_user(const struct jctx *c, yajl_val o, const char *sp, void *arg)
{
	struct spec_user *u = arg;

	if (j_u32(c, o, sp, "uid", &u->uid) < 0 || j_u32(c, o, sp, "gid", &u->gid) < 0)
		return -EINVAL;
	if (j_opt_u32(c, o, sp, "umask", &u->has_umask, &u->umask) < 0 ||
	    parse_additional_gids(c, o, sp, u) < 0 || j_str(c, o, sp, "username", &u->username) < 0)
		return -EINVAL;
	return 0;
}

static int parse_args(const struct jctx *c, yajl_val proc, const char *path, struct spec_process *p)
{
	yajl_val a = jfield(proc, "args");

	if (!YAJL_IS_ARRAY(a) || a->u.array.len == 0)
		return jerr(c, path, "args", -1, "must be a non-empty array of strings");
	return j_strv(c, proc, path, "args", &p->args, NULL, NULL);
}

static int parse_caps(const struct jctx *c, yajl_val o, const char *sp, void *arg)
{
	struct spec_process *p = arg;
	struct spec_caps *k = &p->caps;

	p->has_caps = true;
	if (j_strv(c, o, sp, "bounding", &k->bounding, spec_cap_known, "capability") < 0 ||
	    j_strv(c, o, sp, "effective", &k->effective, spec_cap_known, "capability") < 0 ||
	    j_strv(c, o, sp, "inheritable", &k->inheritable, spec_cap_known, "capability") < 0 ||
	    j_strv(c, o, sp, "permitted", &k->permitted, spec_cap_known, "capability") < 0 ||
	    j_strv(c, o, sp, "ambient", &k->ambient, spec_cap_known, "capability") < 0)
		return -EINVAL;
	return 0;
}

static int rlimit_elem(const struct jctx *c, yajl_val v, const char *path, void *elem)
{
	struct spec_rlimit *rl = elem;

	if (jrequire(c, v, path, "type") < 0 || j_str(c, v, path, "type", &rl->type) < 0)
		return -EINVAL;
	rl->resource = spec_rlimit_from_name(rl->type);
	if (rl->resource < 0)
		return jerr(c, path, "type", -1, "unknown rlimit \"%s\"", rl->type);
	if (jrequire(c, v, path, "soft") < 0 || jrequire(c, v, path, "hard") < 0 ||
	    j_u64(c, v, path, "soft", UINT64_MAX, &rl->soft) < 0 ||
	    j_u64(c, v, path, "hard", UINT64_MAX, &rl->hard) < 0)
		return -EINVAL;
	return 0;
}

static int parse_rlimits(const struct jctx *c, yajl_val proc, const char *path,
			 struct spec_process *p)
{
	_cleanup_free_ char *ap = jpath_key(path, "rlimits");
	int r = j_each(c, proc, path, "rlimits", sizeof(*p->rlimits), (void **)&p->rlimits,
		       &p->n_rlimits, rlimit_elem);

	if (r <= 0)
		return r;
	for (size_t i = 0; i < p->n_rlimits; i++)
		for (size_t j = 0; j < i; j++)
			if (p->rlimits[i].resource == p->rlimits[j].resource)
				return jerr(c, ap, NULL, (long)i, "duplicate rlimit \"%s\"",
					    p->rlimits[i].type);
	return 0;
}

/* Name of the first entry of sched_flags names does not list, or NULL. */
static const char *sched_flags_mask(char **names, uint32_t *mask, size_t *bad)
{
	for (size_t i = 0; names && names[i]; i++) {
		size_t k = 0;

		while (k < ARRAY_SIZE(sched_flags) && strcmp(sched_flags[k].name, names[i]))
			k++;
		if (k == ARRAY_SIZE(sched_flags)) {
			*bad = i;
			return names[i];
		}
		*mask |= (uint32_t)sched_flags[k].value;
	}
	return NULL;
}

static int parse_sched_flags(const struct jctx *c, yajl_val o, const char *path,
			     struct spec_scheduler *s)
{
	char **names = NULL;
	const char *unknown;
	size_t bad = 0;
	int r = j_strv(c, o, path, "flags", &names, NULL, NULL);

	unknown = r > 0 ? sched_flags_mask(names, &s->flags, &bad) : NULL;
	if (unknown)
		r = jerr(c, path, "flags", (long)bad, "unknown scheduler flag \"%s\"", unknown);
	strv_free(names);
	return r;
}

static int parse_scheduler(const struct jctx *c, yajl_val o, const char *sp, void *arg)
{
	struct spec_scheduler *s = arg;
	long policy = 0;

	s->set = true;
	if (jrequire(c, o, sp, "policy") < 0 ||
	    j_enum(c, o, sp, "policy", sched_policies, ARRAY_SIZE(sched_policies),
		   "scheduler policy", &policy) < 0)
		return -EINVAL;
	s->policy = (int)policy;
	if (j_i32(c, o, sp, "nice", &s->nice) < 0 ||
	    j_i32(c, o, sp, "priority", &s->priority) < 0 || parse_sched_flags(c, o, sp, s) < 0 ||
	    j_u64(c, o, sp, "runtime", UINT64_MAX, &s->runtime) < 0 ||
	    j_u64(c, o, sp, "deadline", UINT64_MAX, &s->deadline) < 0 ||
	    j_u64(c, o, sp, "period", UINT64_MAX, &s->period) < 0)
		return -EINVAL;
	if (s->nice < -20 || s->nice > 19)
		return jerr(c, sp, "nice", -1, "%d out of range [-20, 19]", s->nice);
	return 0;
}

static int parse_io_priority(const struct jctx *c, yajl_val o, const char *sp, void *arg)
{
	struct spec_io_priority *io = arg;
	long klass = 0;
	int64_t prio = 0;

	if (jrequire(c, o, sp, "class") < 0 ||
	    j_enum(c, o, sp, "class", ioprio_classes, ARRAY_SIZE(ioprio_classes),
		   "I/O priority class", &klass) < 0 ||
	    j_i64(c, o, sp, "priority", 0, 7, &prio) < 0)
		return -EINVAL;
	io->set = true;
	io->klass = (int)klass;
	io->priority = (int)prio;
	return 0;
}

/* A CPU list as the kernel writes it: "0-3,7". */
static bool cpu_list_valid(const char *s)
{
	return *s && s[strspn(s, "0123456789,-")] == '\0';
}

static int parse_cpu_affinity(const struct jctx *c, yajl_val o, const char *sp, void *arg)
{
	struct spec_process *p = arg;

	if (j_str(c, o, sp, "initial", &p->exec_cpu_affinity_initial) < 0 ||
	    j_str(c, o, sp, "final", &p->exec_cpu_affinity_final) < 0)
		return -EINVAL;
	if (p->exec_cpu_affinity_initial && !cpu_list_valid(p->exec_cpu_affinity_initial))
		return jerr(c, sp, "initial", -1, "invalid CPU list \"%s\"",
			    p->exec_cpu_affinity_initial);
	if (p->exec_cpu_affinity_final && !cpu_list_valid(p->exec_cpu_affinity_final))
		return jerr(c, sp, "final", -1, "invalid CPU list \"%s\"",
			    p->exec_cpu_affinity_final);
	return 0;
}

static int parse_oom_score_adj(const struct jctx *c, yajl_val proc, const char *path,
			       struct spec_process *p)
{
	int64_t v;
	int r = j_i64(c, proc, path, "oomScoreAdj", -1000, 1000, &v);

	if (r > 0) {
		p->has_oom_score_adj = true;
		p->oom_score_adj = (int)v;
	}
	return r;
}

int spec_parse_process_value(const struct jctx *c, yajl_val o, const char *path, void *arg)
{
	struct spec_process *p = arg;

	if (j_bool(c, o, path, "terminal", &p->terminal) < 0 ||
	    j_section(c, o, path, "consoleSize", parse_console_size, p) < 0 ||
	    j_section(c, o, path, "user", parse_user, &p->user) < 0 ||
	    parse_args(c, o, path, p) < 0 || j_strv(c, o, path, "env", &p->env, NULL, NULL) < 0)
		return -EINVAL;
	if (jrequire(c, o, path, "cwd") < 0 || j_abspath(c, o, path, "cwd", &p->cwd) < 0)
		return -EINVAL;
	if (!p->env)
		p->env = xcalloc(1, sizeof(char *));
	if (j_section(c, o, path, "capabilities", parse_caps, p) < 0 ||
	    parse_rlimits(c, o, path, p) < 0 ||
	    j_bool(c, o, path, "noNewPrivileges", &p->no_new_privileges) < 0 ||
	    j_str(c, o, path, "apparmorProfile", &p->apparmor_profile) < 0 ||
	    j_str(c, o, path, "selinuxLabel", &p->selinux_label) < 0 ||
	    parse_oom_score_adj(c, o, path, p) < 0 ||
	    j_section(c, o, path, "scheduler", parse_scheduler, &p->scheduler) < 0 ||
	    j_section(c, o, path, "ioPriority", parse_io_priority, &p->io_priority) < 0 ||
	    j_section(c, o, path, "execCPUAffinity", parse_cpu_affinity, p) < 0)
		return -EINVAL;
	return 0;
}

int spec_parse_process(const char *json, size_t len, const char *what, struct spec_process *out,
		       struct werr **err)
{
	struct jctx c = {.what = what, .err = err};
	int r;

	memset(out, 0, sizeof(*out));
	r = jparse_object(&c, json, len, spec_parse_process_value, out);
	if (r < 0)
		spec_process_free(out);
	return r;
}

void spec_process_free(struct spec_process *p)
{
	struct spec_caps *k;

	if (!p)
		return;
	k = &p->caps;
	free(p->user.additional_gids);
	free(p->user.username);
	strv_free(p->args);
	strv_free(p->env);
	free(p->cwd);
	strv_free(k->bounding);
	strv_free(k->effective);
	strv_free(k->inheritable);
	strv_free(k->permitted);
	strv_free(k->ambient);
	for (size_t i = 0; i < p->n_rlimits; i++)
		free(p->rlimits[i].type);
	free(p->rlimits);
	free(p->apparmor_profile);
	free(p->selinux_label);
	free(p->exec_cpu_affinity_initial);
	free(p->exec_cpu_affinity_final);
	memset(p, 0, sizeof(*p));
}
