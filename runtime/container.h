/* Container lifecycle: create (parent side), the init process, start, kill, delete, run. */
#ifndef WARD_RUNTIME_CONTAINER_H
#define WARD_RUNTIME_CONTAINER_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "lib/err.h"
#include "runtime/spec.h"
#include "runtime/state.h"

struct create_opts {
	const char *root;   /* --root */
	const char *id;
	const char *bundle; /* --bundle, default "." */
	const char *console_socket;
	const char *pid_file;
	bool no_pivot;
	bool no_new_keyring;
	int preserve_fds;   /* extra fds after stdio (LISTEN_FDS added by the caller) */
	/* Set by `run` in the foreground: keep the init our child, receive the console. */
	bool foreground;
	int console_recv_fd; /* run -t without --console-socket: our end of a socketpair, or -1 */
	bool terminal;	     /* out: process.terminal of the created container */
	bool isolation_vm;   /* --isolation vm: as the annotation org.ward.isolation=vm */
	/* ward restore: the init becomes this image's root process instead of waiting for start
	 * (runtime/checkpoint_cmd.c); NULL for create/run. */
	struct ck_restore *restore;
	/* ward restore of a micro-VM image (runtime/vm_ck.c): its directory; the VMM starts from
	 * it instead of booting. NULL otherwise. */
	const char *vm_restore_image;
	/* ward restore: the image's cgroup-updates.jsonl, applied right after the cgroup is made
	 * (NULL: none). */
	const char *restore_updates;
	bool restore_updates_off; /* restore --manage-cgroups-mode ignore: the bundle's only */
};

struct vm_plan;

/* What the parent hands the init process (a clone of this process). */
struct init_ctx {
	const struct create_opts *opts;
	struct spec *spec;
	const char *rootfs;    /* absolute host path */
	const char *bundle;    /* absolute host path */
	const char *state_dir;
	int sync_fd;	       /* child's end of the sync socketpair */
	int state_dirfd;
	int console_sock;      /* connected --console-socket, or -1 */
	bool new_userns;
	bool clone_has_pid, clone_has_user;
	bool late_userns;      /* unshare the new user ns after joining host-owned paths */
	const char *created, *owner; /* for the hooks' state JSON */
	unsigned long unshare_flags; /* namespaces the child must unshare itself */
	bool cgroup_wait;	     /* wait for SYNC_ACK: the parent is placing us in the cgroup */
	pid_t host_pid;		     /* the init's pid as the host sees it (for hook state) */
	struct seccomp_filter *seccomp; /* built by the parent, loaded by the init, or NULL */
	int *idmapped_trees;    /* per mount: host-made idmapped tree or -1 (NULL: none) */
	struct vm_plan *vm;	/* VM isolation (runtime/vm.h), or NULL for a jail */
};

/* Sync messages between ward create and the init process (SOCK_SEQPACKET). */
enum sync_type {
	SYNC_USERNS_MAP = 1, /* child: write my id maps;   parent: SYNC_ACK */
	SYNC_PID,	     /* child: the init is this pid (after a second fork) */
	SYNC_HOOKS,	     /* child: run prestart + createRuntime; parent: SYNC_ACK */
	SYNC_READY,	     /* child: waiting for start */
	SYNC_ERROR,	     /* child: failed; text = message */
	SYNC_ACK,
	SYNC_SECCOMP,	     /* child: the seccomp listener fd (SCM_RIGHTS); parent: SYNC_ACK */
};
struct sync_msg {
	uint32_t type;
	int32_t value;
	char text[3800];
};
/* The child's messages (write(2): a child dead of SIGPIPE is one whose parent is gone). */
int sync_send(int fd, enum sync_type type, int value, const char *text);
/* The parent's SYNC_ACK (MSG_NOSIGNAL: a child that died meanwhile must not kill ward). */
int sync_ack(int fd, int value);
int sync_recv(int fd, struct sync_msg *m);
/* Wait for the other side's SYNC_ACK (its value in *value when not NULL); anything else is an
 * error "waiting for <what>". */
int sync_wait_ack(int fd, const char *what, int *value, struct werr **err);
/* Load a seccomp filter (NULL: none) into this process; with a NOTIFY rule, send the listener
 * fd over the sync socket (SYNC_SECCOMP) and go on once the parent has passed it to
 * listenerPath (its SYNC_ACK). Used by the container init and by exec. */
struct seccomp_filter;
int sync_load_seccomp(int fd, struct seccomp_filter *f, struct werr **err);
/* sync_send/sync_recv with one fd attached (SCM_RIGHTS); sync_recv_fd sets *passed to it or
 * -1. */
int sync_send_fd(int fd, enum sync_type type, int value, int pass);
int sync_recv_fd(int fd, struct sync_msg *m, int *passed);

/* Write pid into path atomically and without a newline, as runc does. */
int write_pid_file(const char *path, pid_t pid, struct werr **err);
/* Cross-section and host checks of a config before create makes anything. */
int container_validate(const struct spec *s, struct werr **err);
/* ward create: returns the init pid (>0) or <0 with err. */
pid_t container_create(struct create_opts *o, struct werr **err);
/* The init process body; never returns. */
__attribute__((noreturn)) void container_init(struct init_ctx *c);
/* ward restore's init once set up: rebuilt into the image's root (checkpoint_cmd.c). */
__attribute__((noreturn)) void container_restore_init(struct init_ctx *c);
int container_start(const char *root, const char *id, struct werr **err);
int container_kill(const char *root, const char *id, int sig, bool all, struct werr **err);
int container_delete(const char *root, const char *id, bool force, struct werr **err);
/* Send sig to every process of the container (its pid namespace when it has one). */
int container_signal_all(const struct cstate *st, int sig);
/* Load the config.json copy that create kept in the state directory. */
int container_load_spec(const char *root, const char *id, struct spec **out, struct werr **err);
/* Run the named hooks of a container with its state JSON; the first failure stops them. */
int container_run_hooks(const char *kind, const struct spec_hook *hooks, size_t n,
			const struct cstate *st, enum cstatus status, struct werr **err);
/* poststart/poststop: a failing hook is logged as a warning and the rest still run. */
void container_run_hooks_warn(const char *kind, const struct spec_hook *hooks, size_t n,
			      const struct cstate *st, enum cstatus status);

#endif
