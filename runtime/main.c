/* ward: the command line. Global flags, then a command with runc's flags and semantics. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <seccomp.h>

#include "runtime/commands.h"
#include "runtime/log.h"

#ifndef WARD_VERSION
#define WARD_VERSION "0.0.0"
#endif
#ifndef WARD_COMMIT
#define WARD_COMMIT "unknown"
#endif

struct command {
	const char *name;
	int (*fn)(const struct global_opts *g, int argc, char **argv);
	bool enters_container; /* runs from a sealed copy of the binary (CVE-2019-5736) */
	const char *summary;
};

static int not_yet(const struct global_opts *g, int argc, char **argv)
{
	log_error("%s: not implemented yet in this version of ward", argv[0]);
	return 1;
}

static const struct command commands[] = {
	{ "create", cmd_create, true, "create a container" },
	{ "start", cmd_start, false, "start a created container (runs process.args)" },
	{ "run", cmd_run, true, "create and start a container, wait for it unless --detach" },
	{ "state", cmd_state, false, "print the state of a container as JSON" },
	{ "kill", cmd_kill, false, "send a signal to the container's init (or --all)" },
	{ "delete", cmd_delete, false, "delete a container (--force kills it first)" },
	{ "list", cmd_list, false, "list containers (-q, --format table|json)" },
	{ "spec", cmd_spec, false, "write a default config.json" },
	{ "features", cmd_features, false, "print the OCI features document" },
	{ "ps", cmd_ps, false, "list the processes of a container" },
	{ "exec", cmd_exec, true, "run a new process in a running (or created) container" },
	{ "pause", cmd_pause, false, "freeze every process of a container" },
	{ "resume", cmd_resume, false, "thaw a paused container" },
	{ "update", cmd_update, false, "change the resource limits of a container" },
	{ "events", cmd_events, false, "resource stats, PSI, CPU demand and OOM events" },
	{ "checkpoint", cmd_checkpoint, false, "checkpoint a container (--image-path DIR)" },
	{ "restore", cmd_restore, true, "restore a container from --image-path DIR" },
	{ "migrate", cmd_migrate, true, "move a running container to --to-root DIR (pre-copy)" },
	{ "page-server", cmd_page_server, false, "receive checkpoint images over TCP" },
};

static void usage(FILE *f)
{
	fprintf(f, "usage: ward [global options] COMMAND [options] [arguments]\n\n"
		   "global options:\n"
		   "  --root DIR              state directory (default /run/ward)\n"
		   "  --log FILE              also write log lines to FILE\n"
		   "  --log-format text|json  log line format (default text)\n"
		   "  --debug                 log debug messages\n"
		   "  --systemd-cgroup        use systemd for cgroups (needs a running systemd)\n"
		   "  --version, -v           print the version\n\ncommands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %-11s %s\n", commands[i].name, commands[i].summary);
}

static void print_version(void)
{
	const struct scmp_version *sv = seccomp_version();

	/* runc's lines (callers read the first); "go:" has no counterpart in ward. */
	printf("ward version %s\ncommit: %s\nspec: 1.2.0\n", WARD_VERSION, WARD_COMMIT);
	if (sv)
		printf("libseccomp: %u.%u.%u\n", sv->major, sv->minor, sv->micro);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "root", required_argument, NULL, 'r' },
		{ "log", required_argument, NULL, 'l' },
		{ "log-format", required_argument, NULL, 'f' },
		{ "debug", no_argument, NULL, 'd' },
		{ "systemd-cgroup", no_argument, NULL, 's' },
		{ "criu", required_argument, NULL, 'c' },
		{ "rootless", required_argument, NULL, 'R' },
		{ "version", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct global_opts g = { .root = "/run/ward" };
	int c;

	while ((c = getopt_long_only(argc, argv, "+vh", opts, NULL)) != -1) {
		switch (c) {
		case 'r':
			g.root = optarg;
			break;
		case 'l':
			g.log = optarg;
			break;
		case 'f':
			g.log_format = optarg;
			break;
		case 'd':
			g.debug = true;
			break;
		case 's':
			g.systemd_cgroup = true;
			break;
		case 'c':
		case 'R':
			break; /* accepted for runc compatibility */
		case 'v':
			print_version();
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 1;
		}
	}
	if (log_init(g.log, g.log_format, g.debug) < 0) {
		fprintf(stderr, "ward: cannot use --log %s --log-format %s\n", g.log ? g.log : "-",
			g.log_format ? g.log_format : "text");
		return 1;
	}
	if (optind >= argc) {
		usage(stderr);
		return 1;
	}
	if (g.root[0] != '/') {
		log_error("--root %s: must be an absolute path", g.root);
		return 1;
	}
	if (g.systemd_cgroup && access("/run/systemd/system", F_OK) != 0) {
		log_error("--systemd-cgroup: systemd is not running on this host "
			  "(/run/systemd/system is missing); run without --systemd-cgroup");
		return 1;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		const struct command *cmd = &commands[i];

		if (strcmp(argv[optind], cmd->name) != 0)
			continue;
		if (cmd->enters_container && cmd->fn != not_yet && selfexe_ensure_sealed(argv) < 0)
			return 1;
		optind++;
		return cmd->fn(&g, argc - optind + 1, argv + optind - 1);
	}
	log_error("unknown command \"%s\" (see ward --help)", argv[optind]);
	return 1;
}
