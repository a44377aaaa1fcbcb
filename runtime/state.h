/* The state store: <root>/<id>/state.json (atomic rename), exec.fifo while created,
 * config.json (the copy create saw, for delete's poststop hooks), a flock per container. */
#ifndef WARD_RUNTIME_STATE_H
#define WARD_RUNTIME_STATE_H

#include <stdbool.h>
#include <sys/types.h>

#include "lib/err.h"
#include "runtime/spec.h"

enum cstatus { ST_CREATING, ST_CREATED, ST_RUNNING, ST_STOPPED, ST_PAUSED };

struct cstate {
	char *id;
	pid_t pid;
	unsigned long long start_time; /* /proc/<pid>/stat field 22, guards against pid reuse */
	char *bundle;
	char *rootfs;
	char *created; /* RFC 3339 */
	char *owner;
	struct kv *annotations;
	size_t n_annotations;
	bool own_pid_ns;     /* the container created its pid namespace (kill --all may sweep it) */
	bool no_new_keyring; /* created with --no-new-keyring: exec keeps the caller's keyring too */
	char *cgroup_path;   /* the container's cgroup ("/ward/<id>"), NULL if it has none */
	enum cstatus status; /* computed by state_load, not stored */
};

const char *cstatus_name(enum cstatus s);
/* runc's id rule: letters, digits, '_', '+', '-', '.'; not "." or "..". */
int state_check_id(const char *id, struct werr **err);
char *state_dir(const char *root, const char *id);
/* Load <root>/<id>/state.json; -ENOENT with "container \"x\" does not exist". */
int state_load(const char *root, const char *id, struct cstate *out, struct werr **err);
int state_save(const char *root, const struct cstate *st, struct werr **err);
/* The state JSON runc prints (and hooks read): status given explicitly. Caller frees. */
char *state_to_json(const struct cstate *st, enum cstatus status, bool pretty);
void cstate_free(struct cstate *st);
/* Exclusive lock on <root>/<id>/.lock; returns the fd (close to release). */
int state_lock(const char *root, const char *id, struct werr **err);
/* True if pid is alive, not a zombie, and its start time matches. */
bool process_alive(pid_t pid, unsigned long long start_time);
unsigned long long process_start_time(pid_t pid);
/* Fields of /proc/<pid>/stat: state letter, parent pid, start time (any may be NULL). */
int process_stat(pid_t pid, char *state, pid_t *ppid, unsigned long long *start_time);
/* True when the container's cgroup is frozen (ward pause); runtime/cgroup.c. */
bool container_cgroup_frozen(const struct cstate *st);
/* Remove <root>/<id> and everything in it. */
int state_remove(const char *root, const char *id, struct werr **err);
/* Ids of every container under root, sorted. NULL-terminated; caller frees with strv_free. */
char **state_list_ids(const char *root);

#endif
