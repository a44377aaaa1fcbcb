/* ward exec's command line (runc's flags) and the process it describes: the --process
 * document, or the container's own process with the flags applied. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/util.h"
#include "runtime/commands.h"
#include "runtime/exec.h"
#include "runtime/log.h"

static char **strv_append(char **v, const char *s)
{
	size_t n = strv_len(v);

	v = xrealloc(v, (n + 2) * sizeof(char *));
	v[n] = xstrdup(s);
	v[n + 1] = NULL;
	return v;
}

static char **strv_dup(char *const *v)
{
	size_t n = strv_len(v);
	char **out = xcalloc(n + 1, sizeof(char *));

	for (size_t i = 0; i < n; i++)
		out[i] = xstrdup(v[i]);
	return out;
}

static int parse_u32(const char *s, uint32_t *out)
{
	long long v;

	if (parse_int64(s, &v) < 0 || v < 0 || v > UINT32_MAX)
		return -1;
	*out = (uint32_t)v;
	return 0;
}

/* -e K=V replaces K where the config sets it (the last definition wins), else appends. */
static char **env_set(char **env, const char *kv)
{
	size_t klen = strcspn(kv, "=");

	for (char **e = env; e && *e; e++) {
		if (strncmp(*e, kv, klen) == 0 && ((*e)[klen] == '=' || (*e)[klen] == '\0')) {
			free(*e);
			*e = xstrdup(kv);
			return env;
		}
	}
	return strv_append(env, kv);
}

/* -u UID[:GID]: numeric, as runc; without GID the config's gid stays. */
static int apply_user(const char *s, struct spec_user *u, struct werr **err)
{
	_cleanup_free_ char *copy = xstrdup(s);
	char *colon = strchr(copy, ':');

	if (colon)
		*colon++ = '\0';
	if (parse_u32(copy, &u->uid) < 0)
		return werr_set(err, EINVAL, "--user %s: parsing %s as int for uid failed", s,
				copy);
	if (colon && parse_u32(colon, &u->gid) < 0)
		return werr_set(err, EINVAL, "--user %s: parsing %s as int for gid failed", s,
				colon);
	return 0;
}

static int apply_caps(char *const *caps, struct spec_process *p, struct werr **err)
{
	struct spec_caps *k = &p->caps;

	for (char *const *c = caps; c && *c; c++) {
		_cleanup_free_ char *name =
			strncmp(*c, "CAP_", 4) == 0 ? xstrdup(*c) : xasprintf("CAP_%s", *c);

		if (spec_cap_from_name(name) < 0)
			return werr_set(err, EINVAL, "--cap %s: unknown capability", *c);
		/* As runc: bounding, effective and permitted; never inheritable or ambient. */
		k->bounding = strv_append(k->bounding, name);
		k->effective = strv_append(k->effective, name);
		k->permitted = strv_append(k->permitted, name);
		p->has_caps = true;
	}
	return 0;
}

static int load_process_file(const char *path, struct spec_process *p, struct werr **err)
{
	_cleanup_free_ char *text = NULL;
	size_t len;
	int r;

	r = read_file(path, &text, &len, err);
	if (r < 0)
		return werr_wrap(err, "--process");
	return spec_parse_process(text, len, path, p, err);
}

int exec_build_process(const struct exec_opts *o, struct spec *spec, struct werr **err)
{
	struct spec_process *p = &spec->process;
	int r;

	if (o->process_file) {
		struct spec_process file;

		r = load_process_file(o->process_file, &file, err);
		if (r < 0)
			return r;
		spec_process_free(p);
		*p = file;
		return 0;
	}
	if (!o->args || !o->args[0])
		return werr_set(err, EINVAL, "exec: process args cannot be empty");
	strv_free(p->args);
	p->args = strv_dup(o->args);
	for (char **e = o->env; e && *e; e++)
		p->env = env_set(p->env, *e);
	if (o->cwd) {
		free(p->cwd);
		p->cwd = xstrdup(o->cwd);
	}
	if (o->user) {
		r = apply_user(o->user, &p->user, err);
		if (r < 0)
			return r;
	}
	if (o->n_gids) {
		struct spec_user *u = &p->user;

		u->additional_gids = xrealloc(
			u->additional_gids, (u->n_additional_gids + o->n_gids) * sizeof(uint32_t));
		memcpy(u->additional_gids + u->n_additional_gids, o->gids,
		       o->n_gids * sizeof(uint32_t));
		u->n_additional_gids += o->n_gids;
	}
	r = apply_caps(o->caps, p, err);
	if (r < 0)
		return r;
	p->terminal = o->tty;
	if (o->no_new_privs)
		p->no_new_privileges = true;
	return 0;
}

enum {
	OPT_CONSOLE = 256,
	OPT_CWD,
	OPT_PIDFILE,
	OPT_LABEL,
	OPT_APPARMOR,
	OPT_NNP,
	OPT_PRESERVE,
	OPT_IGNORE_PAUSED,
	OPT_PIDFD,
	OPT_CGROUP
};

static int add_gid(struct exec_opts *o, const char *s)
{
	uint32_t gid;

	if (parse_u32(s, &gid) < 0) {
		log_error("exec: --additional-gids %s: expected a number", s);
		return -1;
	}
	o->gids = xrealloc(o->gids, (o->n_gids + 1) * sizeof(uint32_t));
	o->gids[o->n_gids++] = gid;
	return 0;
}

/* Whether a "/"-separated path has a ".." component. */
static bool has_dotdot(const char *path)
{
	for (const char *c = path; c; c = strchr(c, '/')) {
		c += *c == '/';
		if (c[0] == '.' && c[1] == '.' && (c[2] == '/' || !c[2]))
			return true;
	}
	return false;
}

/* --cgroup as runc takes it, [CONTROLLERS:]PATH, PATH a sub-cgroup of the container's that
 * exists already. ward takes one PATH for every controller; "CONTROLLERS:" is refused. */
static int parse_cgroup_sub(const char *s, struct exec_opts *o)
{
	const char *colon = strchr(s, ':');
	const char *path = colon ? colon + 1 : s;

	if (colon && colon != s) {
		log_error("exec: --cgroup %s: a controller list is not supported by ward; give a "
			  "sub-cgroup PATH, joined in every hierarchy",
			  s);
		return -1;
	}
	while (*path == '/')
		path++;
	if (!*path || has_dotdot(path)) {
		log_error("exec: --cgroup %s: expected a sub-cgroup path below the container's "
			  "cgroup",
			  s);
		return -1;
	}
	if (o->cgroup_sub) {
		log_error("exec: --cgroup given twice (ward takes one sub-cgroup for every "
			  "controller)");
		return -1;
	}
	o->cgroup_sub = path;
	return 0;
}

static int parse_exec_flags(int argc, char **argv, struct exec_opts *o)
{
	static const struct option opts[] = {
		{"console-socket", required_argument, NULL, OPT_CONSOLE},
		{"cwd", required_argument, NULL, OPT_CWD},
		{"env", required_argument, NULL, 'e'},
		{"tty", no_argument, NULL, 't'},
		{"user", required_argument, NULL, 'u'},
		{"additional-gids", required_argument, NULL, 'g'},
		{"process", required_argument, NULL, 'p'},
		{"detach", no_argument, NULL, 'd'},
		{"pid-file", required_argument, NULL, OPT_PIDFILE},
		{"process-label", required_argument, NULL, OPT_LABEL},
		{"apparmor", required_argument, NULL, OPT_APPARMOR},
		{"no-new-privs", no_argument, NULL, OPT_NNP},
		{"cap", required_argument, NULL, 'c'},
		{"preserve-fds", required_argument, NULL, OPT_PRESERVE},
		{"ignore-paused", no_argument, NULL, OPT_IGNORE_PAUSED},
		{"pidfd-socket", required_argument, NULL, OPT_PIDFD},
		{"cgroup", required_argument, NULL, OPT_CGROUP},
		{NULL, 0, NULL, 0},
	};
	int c;

	optind = 0;
	while ((c = getopt_long_only(argc, argv, "+e:tu:g:p:dc:", opts, NULL)) != -1) {
		switch (c) {
		case OPT_CONSOLE:
			o->console_socket = optarg;
			break;
		case OPT_CWD:
			o->cwd = optarg;
			break;
		case 'e':
			o->env = strv_append(o->env, optarg);
			break;
		case 't':
			o->tty = true;
			break;
		case 'u':
			o->user = optarg;
			break;
		case 'g':
			if (add_gid(o, optarg) < 0)
				return -EINVAL;
			break;
		case 'p':
			o->process_file = optarg;
			break;
		case 'd':
			o->detach = true;
			break;
		case OPT_PIDFILE:
			o->pid_file = optarg;
			break;
		case OPT_LABEL:
		case OPT_APPARMOR:
			log_warn("exec: --%s is ignored (ward applies no LSM labels)",
				 c == OPT_LABEL ? "process-label" : "apparmor");
			break;
		case OPT_NNP:
			o->no_new_privs = true;
			break;
		case 'c':
			o->caps = strv_append(o->caps, optarg);
			break;
		case OPT_PRESERVE:
			if (parse_preserve_fds(optarg, &o->preserve_fds) < 0)
				return -EINVAL;
			break;
		case OPT_IGNORE_PAUSED:
			o->ignore_paused = true;
			break;
		case OPT_PIDFD:
			o->pidfd_socket = optarg;
			break;
		case OPT_CGROUP:
			if (parse_cgroup_sub(optarg, o) < 0)
				return -EINVAL;
			break;
		default:
			log_error("exec: invalid flags (see ward --help)");
			return -EINVAL;
		}
	}
	o->id = cmd_want_id(argc, argv, "exec");
	if (!o->id)
		return -EINVAL; /* a usage error: runc's 1 */
	o->args = argv + optind + 1;
	/* unlike create/run, exec does not pass socket-activation fds (runc's exec neither): an
	 * inherited LISTEN_FDS must not leak the caller's fds into the container */
	return 0;
}

int cmd_exec(const struct global_opts *g, int argc, char **argv)
{
	_cleanup_werr_ struct werr *err = NULL;
	struct exec_opts o = {.root = g->root};
	int status;

	/*
	 * runc's statuses: 1 for a flag it cannot parse, 255 for every other failure of exec
	 * itself, so that callers can tell them from the process's own status.
	 */
	status = parse_exec_flags(argc, argv, &o);
	if (status < 0) {
		status = status == -EINVAL ? 1 : EXEC_FAILED;
		goto out;
	}
	status = container_exec(&o, &err);
	if (status < 0) {
		cmd_fail(&err);
		status = EXEC_FAILED;
	}
out:
	strv_free(o.env);
	strv_free(o.caps);
	free(o.gids);
	return status;
}
