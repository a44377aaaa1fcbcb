#include "seccomp/seccomp.h"

#include <stdlib.h>
#include <string.h>

#include "lib/util.h"

static const char *const actions[] = {
	"SCMP_ACT_KILL",  "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_KILL_THREAD",
	"SCMP_ACT_TRAP",  "SCMP_ACT_ERRNO",	   "SCMP_ACT_TRACE",
	"SCMP_ACT_ALLOW", "SCMP_ACT_LOG",	   "SCMP_ACT_NOTIFY",
};

/* Every architecture named by the runtime-spec's linux.seccomp.architectures. */
static const char *const archs[] = {
	"SCMP_ARCH_X86",     "SCMP_ARCH_X86_64",   "SCMP_ARCH_X32",	    "SCMP_ARCH_ARM",
	"SCMP_ARCH_AARCH64", "SCMP_ARCH_MIPS",	   "SCMP_ARCH_MIPS64",	    "SCMP_ARCH_MIPS64N32",
	"SCMP_ARCH_MIPSEL",  "SCMP_ARCH_MIPSEL64", "SCMP_ARCH_MIPSEL64N32", "SCMP_ARCH_PPC",
	"SCMP_ARCH_PPC64",   "SCMP_ARCH_PPC64LE",  "SCMP_ARCH_S390",	    "SCMP_ARCH_S390X",
	"SCMP_ARCH_PARISC",  "SCMP_ARCH_PARISC64", "SCMP_ARCH_RISCV64",	    "SCMP_ARCH_LOONGARCH64",
};

static const char *const ops[] = {
	"SCMP_CMP_NE", "SCMP_CMP_LT", "SCMP_CMP_LE",	    "SCMP_CMP_EQ",
	"SCMP_CMP_GE", "SCMP_CMP_GT", "SCMP_CMP_MASKED_EQ",
};

static const char *const flags[] = {
	"SECCOMP_FILTER_FLAG_TSYNC",
	"SECCOMP_FILTER_FLAG_LOG",
	"SECCOMP_FILTER_FLAG_SPEC_ALLOW",
	"SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV",
};

static bool in(const char *const *list, size_t n, const char *name)
{
	for (size_t i = 0; name && i < n; i++)
		if (strcmp(list[i], name) == 0)
			return true;
	return false;
}

bool seccomp_action_known(const char *name)
{
	return in(actions, ARRAY_SIZE(actions), name);
}

bool seccomp_arch_known(const char *name)
{
	return in(archs, ARRAY_SIZE(archs), name);
}

bool seccomp_op_known(const char *name)
{
	return in(ops, ARRAY_SIZE(ops), name);
}

bool seccomp_flag_known(const char *name)
{
	return in(flags, ARRAY_SIZE(flags), name);
}

const char *const *seccomp_known_actions(size_t *n)
{
	*n = ARRAY_SIZE(actions);
	return actions;
}

const char *const *seccomp_known_archs(size_t *n)
{
	*n = ARRAY_SIZE(archs);
	return archs;
}

const char *const *seccomp_known_ops(size_t *n)
{
	*n = ARRAY_SIZE(ops);
	return ops;
}

void seccomp_config_free(struct seccomp_config *c)
{
	if (!c)
		return;
	free(c->default_action);
	strv_free(c->architectures);
	strv_free(c->flags);
	free(c->listener_path);
	free(c->listener_metadata);
	for (size_t i = 0; i < c->n_syscalls; i++) {
		struct seccomp_rule *r = &c->syscalls[i];

		strv_free(r->names);
		free(r->action);
		for (size_t j = 0; j < r->n_args; j++)
			free(r->args[j].op);
		free(r->args);
	}
	free(c->syscalls);
	memset(c, 0, sizeof(*c));
}
