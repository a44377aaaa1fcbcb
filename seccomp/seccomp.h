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

#endif
