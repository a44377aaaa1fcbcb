/* ns/: creating and joining namespaces, user-namespace id maps, time offsets. */
#ifndef WARD_NS_H
#define WARD_NS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "lib/err.h"

enum ns_type {
	NS_PID,
	NS_NET,
	NS_MNT,
	NS_IPC,
	NS_UTS,
	NS_USER,
	NS_CGROUP,
	NS_TIME,
	NS_COUNT
};

struct ns_entry {
	enum ns_type type;
	char *path; /* NULL: create a new one; else join this one */
};

struct id_map {
	uint32_t container_id;
	uint32_t host_id;
	uint32_t size;
};

struct time_offset {
	bool set;
	int64_t secs;
	uint32_t nanosecs;
};

struct ns_config {
	struct ns_entry *entries;
	size_t n_entries;
	struct id_map *uid_maps;
	size_t n_uid_maps;
	struct id_map *gid_maps;
	size_t n_gid_maps;
	struct time_offset monotonic, boottime;
};

/* "pid" -> NS_PID etc.; -1 if unknown. */
int ns_type_from_name(const char *name);
const char *ns_type_name(enum ns_type t);
/* CLONE_NEWPID etc. */
int ns_clone_flag(enum ns_type t);
/* /proc/self/ns/<name> file name ("pid", "net", "mnt", ...). */
const char *ns_proc_name(enum ns_type t);
const struct ns_entry *ns_find(const struct ns_config *c, enum ns_type t);

/* Format maps as the kernel's uid_map text ("0 1000 1\n..."). Caller frees. */
char *ns_format_id_maps(const struct id_map *maps, size_t n);
/* Parse "container:host:size" (CLI/idmapped mount style). */
int ns_parse_id_map(const char *s, struct id_map *out, struct werr **err);
/* Write uid_map, setgroups ("deny" when gids are mapped without privilege is not needed as root)
 * and gid_map for pid. */
int ns_write_id_maps(pid_t pid, const struct ns_config *c, struct werr **err);
/* Join every namespace in c that has a path, user namespace first, mount last.
 * Types in skip_mask (bit = 1 << type) are left alone. */
int ns_join_paths(const struct ns_config *c, unsigned skip_mask, struct werr **err);
/* The same with open namespace fds indexed by type (-1: leave that one alone); what[type]
 * names each in errors (may be NULL). */
int ns_join_fds(const int fds[NS_COUNT], const char *const what[NS_COUNT], struct werr **err);
/* Create a time namespace with the configured offsets and move the caller into it. */
int ns_enter_new_time(const struct ns_config *c, struct werr **err);

#endif
