/* The runc-compatible commands that need no waiting: create, start, state, kill, delete,
 * list, spec, features. `run` lives in run.c. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/util.h"
#include "runtime/commands.h"
#include "runtime/container.h"
#include "runtime/log.h"
#include "runtime/signals.h"

#define MAX_PRESERVE_FDS 1024

int cmd_fail(struct werr **err)
{
	log_error("%s", *err ? (*err)->msg : "failed");
	werr_free(err);
	return 1;
}

/* The one positional argument every per-container command takes. */
const char *cmd_want_id(int argc, char **argv, const char *cmd)
{
	if (optind >= argc) {
		log_error("%s: missing container id (usage: ward %s [options] <container-id>)", cmd,
			  cmd);
		return NULL;
	}
	return argv[optind];
}

int parse_preserve_fds(const char *s, int *out)
{
	long long v;

	if (parse_int64(s, &v) < 0 || v < 0 || v > MAX_PRESERVE_FDS) {
		log_error("--preserve-fds %s: expected a number from 0 to %d", s, MAX_PRESERVE_FDS);
		return -1;
	}
	*out = (int)v;
	return 0;
}

/* Socket-activation fds (LISTEN_FDS) travel with stdio, as with runc. */
static int listen_fds(void)
{
	const char *s = getenv("LISTEN_FDS");
	long long v;

	if (s && parse_int64(s, &v) == 0 && v > 0 && v < MAX_PRESERVE_FDS)
		return (int)v;
	return 0;
}

enum { OPT_CONSOLE = 256, OPT_PIDFILE, OPT_NOPIVOT, OPT_NOKEYRING, OPT_PRESERVE, OPT_KEEP,
       OPT_NOSUBREAPER, OPT_ISOLATION };

/* Flags shared by create and run; run adds --detach and --keep. */
int parse_create_flags(int argc, char **argv, struct create_opts *o, bool *detach, bool *keep)
{
	static const struct option opts[] = {
		{ "bundle", required_argument, NULL, 'b' },
		{ "console-socket", required_argument, NULL, OPT_CONSOLE },
		{ "pid-file", required_argument, NULL, OPT_PIDFILE },
		{ "no-pivot", no_argument, NULL, OPT_NOPIVOT },
		{ "no-new-keyring", no_argument, NULL, OPT_NOKEYRING },
		{ "preserve-fds", required_argument, NULL, OPT_PRESERVE },
		{ "detach", no_argument, NULL, 'd' },
		{ "keep", no_argument, NULL, OPT_KEEP },
		{ "no-subreaper", no_argument, NULL, OPT_NOSUBREAPER },
		{ "isolation", required_argument, NULL, OPT_ISOLATION },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	optind = 0;
	while ((c = getopt_long_only(argc, argv, "+b:d", opts, NULL)) != -1) {
		switch (c) {
		case 'b':
			o->bundle = optarg;
			break;
		case OPT_CONSOLE:
			o->console_socket = optarg;
			break;
		case OPT_PIDFILE:
			o->pid_file = optarg;
			break;
		case OPT_NOPIVOT:
			o->no_pivot = true;
			break;
		case OPT_NOKEYRING:
			o->no_new_keyring = true;
			break;
		case OPT_PRESERVE:
			if (parse_preserve_fds(optarg, &o->preserve_fds) < 0)
				return -1;
			break;
		case 'd':
		case OPT_KEEP:
			if (!detach) {
				log_error("%s: unknown flag %s", argv[0], argv[optind - 1]);
				return -1;
			}
			if (c == 'd')
				*detach = true;
			else
				*keep = true;
			break;
		case OPT_NOSUBREAPER:
			break;
		case OPT_ISOLATION:
			/* jail: whatever the config's annotation says (the default) */
			if (strcmp(optarg, "vm") != 0 && strcmp(optarg, "jail") != 0) {
				log_error("%s: --isolation: \"%s\" is neither \"vm\" nor \"jail\"",
					  argv[0], optarg);
				return -1;
			}
			o->isolation_vm = strcmp(optarg, "vm") == 0;
			break;
		default:
			log_error("%s: invalid flags (see ward --help)", argv[0]);
			return -1;
		}
	}
	o->id = cmd_want_id(argc, argv, argv[0]);
	if (!o->id)
		return -1;
	o->preserve_fds += listen_fds();
	o->console_recv_fd = -1;
	return 0;
}

int cmd_create(const struct global_opts *g, int argc, char **argv)
{
	_cleanup_werr_ struct werr *err = NULL;
	struct create_opts o = { .root = g->root };

	if (parse_create_flags(argc, argv, &o, NULL, NULL) < 0)
		return 1;
	if (container_create(&o, &err) < 0)
		return cmd_fail(&err);
	return 0;
}

/* Commands whose only flags are booleans: parse them into *flags by letter. */
static int parse_simple(int argc, char **argv, const struct option *opts, const char *shorts,
			bool *a, bool *b)
{
	int c;

	optind = 0;
	while ((c = getopt_long_only(argc, argv, shorts, opts, NULL)) != -1) {
		if (c == 'a' || c == 'f')
			*a = true;
		else if (c == 'q' && b)
			*b = true;
		else {
			log_error("%s: invalid flags (see ward --help)", argv[0]);
			return -1;
		}
	}
	return 0;
}

int cmd_start(const struct global_opts *g, int argc, char **argv)
{
	_cleanup_werr_ struct werr *err = NULL;
	static const struct option opts[] = { { NULL, 0, NULL, 0 } };
	bool unused = false;
	const char *id;

	if (parse_simple(argc, argv, opts, "+", &unused, NULL) < 0)
		return 1;
	id = cmd_want_id(argc, argv, "start");
	if (!id)
		return 1;
	if (container_start(g->root, id, &err) < 0)
		return cmd_fail(&err);
	return 0;
}

int cmd_state(const struct global_opts *g, int argc, char **argv)
{
	_cleanup_werr_ struct werr *err = NULL;
	static const struct option opts[] = { { NULL, 0, NULL, 0 } };
	_cleanup_free_ char *json = NULL;
	bool unused = false;
	struct cstate st;
	const char *id;

	if (parse_simple(argc, argv, opts, "+", &unused, NULL) < 0)
		return 1;
	id = cmd_want_id(argc, argv, "state");
	if (!id)
		return 1;
	if (state_load(g->root, id, &st, &err) < 0)
		return cmd_fail(&err);
	/* runc's state leaves owner empty (list fills it in). */
	free(st.owner);
	st.owner = xstrdup("");
	json = state_to_json(&st, st.status, true);
	printf("%s\n", json);
	cstate_free(&st);
	return 0;
}

int cmd_kill(const struct global_opts *g, int argc, char **argv)
{
	_cleanup_werr_ struct werr *err = NULL;
	static const struct option opts[] = { { "all", no_argument, NULL, 'a' },
					      { NULL, 0, NULL, 0 } };
	bool all = false;
	const char *id;
	int sig = 15;

	if (parse_simple(argc, argv, opts, "+a", &all, NULL) < 0)
		return 1;
	id = cmd_want_id(argc, argv, "kill");
	if (!id)
		return 1;
	if (optind + 1 < argc) {
		sig = signal_parse(argv[optind + 1]);
		if (sig <= 0) {
			log_error("kill: unknown signal \"%s\"", argv[optind + 1]);
			return 1;
		}
	}
	if (container_kill(g->root, id, sig, all, &err) < 0)
		return cmd_fail(&err);
	return 0;
}

int cmd_delete(const struct global_opts *g, int argc, char **argv)
{
	_cleanup_werr_ struct werr *err = NULL;
	static const struct option opts[] = { { "force", no_argument, NULL, 'f' },
					      { NULL, 0, NULL, 0 } };
	bool force = false;
	const char *id;

	if (parse_simple(argc, argv, opts, "+f", &force, NULL) < 0)
		return 1;
	id = cmd_want_id(argc, argv, "delete");
	if (!id)
		return 1;
	if (container_delete(g->root, id, force, &err) < 0)
		return cmd_fail(&err);
	return 0;
}

static void list_table_row(const char *id, const char *pid, const char *status,
			   const char *bundle, const char *created, const char *owner)
{
	printf("%-12s %-10s %-10s %-40s %-31s %s\n", id, pid, status, bundle, created, owner);
}

int cmd_list(const struct global_opts *g, int argc, char **argv)
{
	static const struct option opts[] = { { "format", required_argument, NULL, 'f' },
					      { "quiet", no_argument, NULL, 'q' },
					      { NULL, 0, NULL, 0 } };
	const char *format = "table";
	bool quiet = false, first = true;
	char **ids;
	int c;

	optind = 0;
	while ((c = getopt_long_only(argc, argv, "+f:q", opts, NULL)) != -1) {
		if (c == 'f')
			format = optarg;
		else if (c == 'q')
			quiet = true;
		else
			return 1;
	}
	if (strcmp(format, "table") != 0 && strcmp(format, "json") != 0) {
		log_error("list: --format %s: expected table or json", format);
		return 1;
	}
	ids = state_list_ids(g->root);
	if (!quiet && strcmp(format, "table") == 0)
		list_table_row("ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER");
	for (char **id = ids; *id; id++) {
		struct cstate st;

		if (state_load(g->root, *id, &st, NULL) < 0)
			continue;
		if (quiet) {
			printf("%s\n", st.id);
		} else if (strcmp(format, "json") == 0) {
			_cleanup_free_ char *json = state_to_json(&st, st.status, false);

			printf("%s%s", first ? "[" : ",", json);
		} else {
			char pid[16];

			snprintf(pid, sizeof(pid), "%d", st.status == ST_STOPPED ? 0 : st.pid);
			list_table_row(st.id, pid, cstatus_name(st.status), st.bundle, st.created,
				       st.owner);
		}
		first = false;
		cstate_free(&st);
	}
	if (!quiet && strcmp(format, "json") == 0)
		printf(first ? "null\n" : "]\n");
	strv_free(ids);
	return 0;
}

int cmd_spec(const struct global_opts *g, int argc, char **argv)
{
	_cleanup_werr_ struct werr *err = NULL;
	static const struct option opts[] = { { "bundle", required_argument, NULL, 'b' },
					      { "rootless", no_argument, NULL, 'R' },
					      { NULL, 0, NULL, 0 } };
	_cleanup_free_ char *json = NULL;
	_cleanup_free_ char *path = NULL;
	_cleanup_close_ int fd = -1;
	const char *bundle = ".";
	bool rootless = false;
	int c;

	optind = 0;
	while ((c = getopt_long_only(argc, argv, "+b:", opts, NULL)) != -1) {
		if (c == 'b')
			bundle = optarg;
		else if (c == 'R')
			rootless = true;
		else
			return 1;
	}
	path = xasprintf("%s/config.json", bundle);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0) {
		if (errno == EEXIST)
			log_error("spec: File %s exists. Remove it first", path);
		else
			log_error("spec: create %s: %s", path, strerror(errno));
		return 1;
	}
	json = spec_default_json(rootless);
	if (write_all(fd, json, strlen(json)) < 0) {
		log_error("spec: write %s: %s", path, strerror(errno));
		return 1;
	}
	return 0;
}

int cmd_features(const struct global_opts *g, int argc, char **argv)
{
	_cleanup_free_ char *json = spec_features_json();

	printf("%s\n", json);
	return 0;
}
