/* The whole OCI runtime-spec 1.2 config.json as C structs. Only runtime/ sees this;
 * libraries receive the narrow piece they need (ns_config, rootfs_config, ...). */
#ifndef WARD_RUNTIME_SPEC_H
#define WARD_RUNTIME_SPEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cgroups/cgroups.h"
#include "lib/err.h"
#include "ns/ns.h"
#include "rootfs/rootfs.h"
#include "seccomp/seccomp.h"

struct spec_rlimit {
	int resource;	/* RLIMIT_* */
	char *type;	/* "RLIMIT_NOFILE" as written */
	uint64_t soft, hard;
};

struct spec_caps {
	/* Each a NULL-terminated list of "CAP_*" names, NULL when absent from the config. */
	char **bounding, **effective, **inheritable, **permitted, **ambient;
};

struct spec_user {
	uint32_t uid, gid;
	bool has_umask;
	uint32_t umask;
	uint32_t *additional_gids;
	size_t n_additional_gids;
	char *username;
};

struct spec_scheduler {
	bool set;
	int policy; /* SCHED_* */
	int32_t nice, priority;
	uint32_t flags; /* SCHED_FLAG_* */
	uint64_t runtime, deadline, period;
};

struct spec_io_priority {
	bool set;
	int klass; /* IOPRIO_CLASS_RT=1, BE=2, IDLE=3 */
	int priority;
};

struct spec_process {
	bool terminal;
	bool has_console_size;
	uint32_t console_height, console_width;
	struct spec_user user;
	char **args; /* NULL-terminated, at least one element (validated) */
	char **env;  /* NULL-terminated, may be empty */
	char *cwd;   /* absolute (validated) */
	struct spec_caps caps;
	bool has_caps;
	struct spec_rlimit *rlimits;
	size_t n_rlimits;
	bool no_new_privileges;
	char *apparmor_profile, *selinux_label;
	bool has_oom_score_adj;
	int oom_score_adj;
	struct spec_scheduler scheduler;
	struct spec_io_priority io_priority;
	char *exec_cpu_affinity_initial, *exec_cpu_affinity_final;
};

struct spec_hook {
	char *path;
	char **args; /* NULL-terminated, may be NULL */
	char **env;  /* NULL-terminated, may be NULL */
	bool has_timeout;
	int timeout; /* seconds, > 0 */
};

struct spec_hooks {
	struct spec_hook *prestart, *create_runtime, *create_container, *start_container,
		*poststart, *poststop;
	size_t n_prestart, n_create_runtime, n_create_container, n_start_container, n_poststart,
		n_poststop;
};

struct spec_personality {
	bool set;
	unsigned long domain; /* PER_LINUX or PER_LINUX32 */
	char **flags;	      /* NULL-terminated, may be NULL */
};

struct spec_linux {
	struct ns_config ns;
	struct device_spec *devices;
	size_t n_devices;
	char *cgroups_path;
	bool has_resources;
	struct cgroup_resources resources;
	struct kv *sysctl;
	size_t n_sysctl;
	bool has_seccomp;
	struct seccomp_config seccomp;
	char *rootfs_propagation;
	char **masked_paths;   /* NULL-terminated, may be NULL */
	char **readonly_paths; /* NULL-terminated, may be NULL */
	char *mount_label;
	struct spec_personality personality;
	char *intel_rdt_clos_id;
};

struct spec {
	char *oci_version;
	bool has_process;
	struct spec_process process;
	char *root_path; /* as written (relative to the bundle or absolute) */
	bool root_readonly;
	char *hostname, *domainname;
	struct mount_spec *mounts;
	size_t n_mounts;
	struct spec_hooks hooks;
	struct kv *annotations;
	size_t n_annotations;
	bool has_linux;
	struct spec_linux linux_;
};

/* Parse a config.json text. Errors name the file (as given in `what`) and the JSON path:
 * "config.json: linux.namespaces[2].type: unknown namespace \"foo\"". */
int spec_parse(const char *json, size_t len, const char *what, struct spec **out,
	       struct werr **err);
/* Read and parse <bundle>/config.json. */
int spec_load(const char *bundle, struct spec **out, struct werr **err);
/* Parse an OCI "process" object alone (ward exec --process). */
int spec_parse_process(const char *json, size_t len, const char *what,
		       struct spec_process *out, struct werr **err);
void spec_process_free(struct spec_process *p);
void spec_free(struct spec *s);
static inline void spec_freep(struct spec **s)
{
	if (*s)
		spec_free(*s);
}
#define _cleanup_spec_ __attribute__((cleanup(spec_freep)))

/* Name <-> number tables used by the parser and the CLI. */
int spec_rlimit_from_name(const char *name); /* "RLIMIT_NOFILE" -> RLIMIT_NOFILE, -1 */
int spec_cap_from_name(const char *name);    /* "CAP_SYS_ADMIN" -> CAP_SYS_ADMIN, -1 */

/* Default config.json of `ward spec` (--rootless gives the rootless variant). Caller frees. */
char *spec_default_json(bool rootless);
/* The OCI features document of `ward features`. Caller frees. */
char *spec_features_json(void);

#endif
