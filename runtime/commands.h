#ifndef WARD_RUNTIME_COMMANDS_H
#define WARD_RUNTIME_COMMANDS_H

#include <stdbool.h>

#include "lib/err.h"

struct global_opts {
	const char *root;
	const char *log;
	const char *log_format;
	bool debug;
	bool systemd_cgroup;
};

struct create_opts;
/* create's flags (and run's --detach/--keep when detach/keep are given). */
int parse_create_flags(int argc, char **argv, struct create_opts *o, bool *detach, bool *keep);

/* Each returns the process exit status. argv[0] is the command name. */
int cmd_create(const struct global_opts *g, int argc, char **argv);
int cmd_run(const struct global_opts *g, int argc, char **argv);
int cmd_start(const struct global_opts *g, int argc, char **argv);
int cmd_state(const struct global_opts *g, int argc, char **argv);
int cmd_kill(const struct global_opts *g, int argc, char **argv);
int cmd_delete(const struct global_opts *g, int argc, char **argv);
int cmd_list(const struct global_opts *g, int argc, char **argv);
int cmd_spec(const struct global_opts *g, int argc, char **argv);
int cmd_features(const struct global_opts *g, int argc, char **argv);
int cmd_pause(const struct global_opts *g, int argc, char **argv);
int cmd_resume(const struct global_opts *g, int argc, char **argv);
int cmd_ps(const struct global_opts *g, int argc, char **argv);
int cmd_update(const struct global_opts *g, int argc, char **argv);
int cmd_events(const struct global_opts *g, int argc, char **argv);
int cmd_exec(const struct global_opts *g, int argc, char **argv);
int cmd_checkpoint(const struct global_opts *g, int argc, char **argv);
int cmd_restore(const struct global_opts *g, int argc, char **argv);
int cmd_page_server(const struct global_opts *g, int argc, char **argv);
int cmd_migrate(const struct global_opts *g, int argc, char **argv);

/* checkpoint_cmd.c, shared with migrate.c. Checkpoint the running container id of root with
 * o (dir, parent, track, leave_running, page_server set by the caller); deletes it unless
 * leave_running or track. */
struct ck_dump_opts;
struct ck_stats;
int checkpoint_container(const char *root, const char *id, struct ck_dump_opts *o,
			 struct ck_stats *stats, struct werr **err);
/* Make the container o->id in o->root from image (o->bundle etc. as for create); returns the
 * init's pid. */
int restore_container(struct create_opts *o, const char *image, struct ck_stats *stats,
		      struct werr **err);

/* Shared by the commands: log *err as "ward: msg", free it, return exit status 1. */
int cmd_fail(struct werr **err);
/* The container id positional argument at optind, or NULL after logging a usage error. */
const char *cmd_want_id(int argc, char **argv, const char *cmd);

/* --preserve-fds N (0..1024, logs a usage error). */
int parse_preserve_fds(const char *s, int *out);

/* Make sure this process runs from a sealed memfd copy of the binary before it spawns anything
 * into a container (CVE-2019-5736). Re-executes itself when needed; returns only if already
 * sealed (or on failure, with an error message logged). */
int selfexe_ensure_sealed(char **argv);

#endif
