/* seccomp/: OCI linux.seccomp -> libseccomp filter (issue 4 builds the filter). */
#ifndef WARD_SECCOMP_H
#define WARD_SECCOMP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/err.h"

struct seccomp_arg {
	uint32_t index;
	uint64_t value, value_two;
	char *op; /* SCMP_CMP_NE ... kept as text; validated by the parser */
};

struct seccomp_rule {
	char **names; /* NULL-terminated */
	char *action;
	bool has_errno_ret;
	uint32_t errno_ret;
	struct seccomp_arg *args;
	size_t n_args;
};

struct seccomp_config {
	char *default_action;
	bool has_default_errno_ret;
	uint32_t default_errno_ret;
	char **architectures; /* NULL-terminated, may be NULL */
	char **flags;	      /* NULL-terminated, may be NULL */
	char *listener_path;
	char *listener_metadata;
	struct seccomp_rule *syscalls;
	size_t n_syscalls;
};

/* True if name is one of the OCI SCMP_ACT_* actions / SCMP_ARCH_* / SCMP_CMP_* names. */
bool seccomp_action_known(const char *name);
bool seccomp_arch_known(const char *name);
bool seccomp_op_known(const char *name);
bool seccomp_flag_known(const char *name);
/* The names those accept, for `ward features`; *n gets the count. */
const char *const *seccomp_known_actions(size_t *n);
const char *const *seccomp_known_archs(size_t *n);
const char *const *seccomp_known_ops(size_t *n);

void seccomp_config_free(struct seccomp_config *c);

/* ---- the filter (issue 4) ----------------------------------------------------------------- */

struct seccomp_filter; /* a compiled filter, ready to load */

/* Translate the OCI section into a filter. Syscall names this libseccomp/kernel does not know
 * are skipped (counted in *skipped when not NULL); everything else that is wrong fails with an
 * error naming the JSON path (linux.seccomp.syscalls[i].names[j], ...). */
int seccomp_filter_build(const struct seccomp_config *c, struct seccomp_filter **out,
			 size_t *skipped, struct werr **err);
/* True when some rule (or the default) uses SCMP_ACT_NOTIFY: loading gives a listener fd. */
bool seccomp_filter_wants_notify(const struct seccomp_filter *f);
/* Load into the calling thread (all threads with SECCOMP_FILTER_FLAG_TSYNC). *notify_fd gets
 * the listener fd (or -1). The caller must already have no_new_privs or CAP_SYS_ADMIN. */
int seccomp_filter_load(struct seccomp_filter *f, int *notify_fd, struct werr **err);
void seccomp_filter_free(struct seccomp_filter *f);
/* Write the filter to fd: libseccomp's pseudo-code text (bpf false) or the raw BPF program. */
int seccomp_filter_export(const struct seccomp_filter *f, int fd, bool bpf, struct werr **err);

/* runtime-spec "seccomp listener": connect to listener_path (a unix stream socket) and send the
 * containerProcessState JSON (state_json, built by the caller with "fds": ["seccompFd"]) with
 * notify_fd attached as SCM_RIGHTS. */
int seccomp_notify_send(const char *listener_path, int notify_fd, const char *state_json,
			struct werr **err);

/* ---- the default profile of `ward spec` (default_profile.c) ------------------------------ */

struct seccomp_profile_arg {
	uint32_t index;
	uint64_t value, value_two;
	const char *op;
};

struct seccomp_profile_rule {
	const char *const *names; /* NULL-terminated */
	const char *action;	  /* NULL: SCMP_ACT_ALLOW */
	uint32_t errno_ret;	  /* 0: none */
	struct seccomp_profile_arg args[5];
	size_t n_args;		  /* several on one index: any of them matches */
	unsigned min_kernel;	  /* KERNEL_VERSION-style 0xMMmmpp; 0: any */
};

/* The profile's rules (with the default action SCMP_ACT_ERRNO, EPERM) and the architectures
 * of this build's host. */
const struct seccomp_profile_rule *seccomp_default_rules(size_t *n);
const char *const *seccomp_default_archs(size_t *n);
/* The running kernel as 0xMMmmpp (0 when uname cannot tell). */
unsigned seccomp_running_kernel(void);

#endif
