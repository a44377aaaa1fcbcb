/* ward exec: a new process in an existing container. exec_flags.c parses the command line and
 * builds the process, exec.c is the parent side, exec_child.c the process that joins the
 * container. */
#ifndef WARD_RUNTIME_EXEC_H
#define WARD_RUNTIME_EXEC_H

/* The status of `ward exec` when exec itself fails (runc's): not the process's status. */
#define EXEC_FAILED 255

#include <stdbool.h>
#include <sys/types.h>

#include "lib/err.h"
#include "ns/ns.h"
#include "runtime/spec.h"

struct exec_opts {
	const char *root;
	const char *id;
	const char *process_file; /* --process */
	char **args;		  /* trailing COMMAND ARGS..., NULL-terminated (borrowed) */
	bool tty, detach, ignore_paused, no_new_privs;
	const char *console_socket, *pid_file, *pidfd_socket, *cwd, *user;
	const char *cgroup_sub; /* --cgroup: a sub-cgroup of the container's, relative */
	char **env;	/* -e K=V, NULL-terminated */
	char **caps;	/* --cap, NULL-terminated */
	uint32_t *gids; /* --additional-gids */
	size_t n_gids;
	int preserve_fds;
};

/* What the parent hands the joining process (a clone of the parent). */
struct exec_ctx {
	struct spec_process *proc; /* the child's copy: process_set_home may add HOME */
	int ns_fds[NS_COUNT]; /* the init's namespaces that differ from ours, or -1 */
	int sync_fd;	      /* child's end of the sync socketpair */
	int console_sock;     /* where the pty master goes, or -1 */
	bool cgroup_wait;     /* wait for SYNC_ACK: the parent is placing us in the cgroup */
	bool new_keyring;     /* join a new session keyring (the container's --no-new-keyring unset) */
	struct seccomp_filter *seccomp; /* NULL when the container has no filter */
	int preserve_fds;
};

/* Turn spec->process (the container's config.json, loaded for this exec) into the process to
 * run: the --process document, or the config's process with the flags applied (args, env, cwd,
 * user, groups, caps, tty, no_new_privs). */
int exec_build_process(const struct exec_opts *o, struct spec *spec, struct werr **err);
/* The whole exec: the exit status for the command (the process's in the foreground), or <0
 * with err. */
int container_exec(const struct exec_opts *o, struct werr **err);
/* The joining process body; never returns. */
__attribute__((noreturn)) void exec_child(struct exec_ctx *c);

#endif
