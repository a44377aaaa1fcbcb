/* OCI linux.seccomp -> a libseccomp filter. The config was checked for unknown names by the
 * parser; what is left here is what only libseccomp and the kernel can tell (a flag they lack,
 * a rule they refuse), reported with the JSON path of the entry. */
#include "seccomp/seccomp.h"

#include <errno.h>
#include <seccomp.h>
#include <stdlib.h>
#include <string.h>

#include "lib/util.h"

#define P "config.json: linux.seccomp"

struct seccomp_filter {
	scmp_filter_ctx ctx;
	bool notify;
};

struct name_value {
	const char *name;
	uint32_t value;
};

static const struct name_value arch_table[] = {
	{"SCMP_ARCH_X86", SCMP_ARCH_X86},
	{"SCMP_ARCH_X86_64", SCMP_ARCH_X86_64},
	{"SCMP_ARCH_X32", SCMP_ARCH_X32},
	{"SCMP_ARCH_ARM", SCMP_ARCH_ARM},
	{"SCMP_ARCH_AARCH64", SCMP_ARCH_AARCH64},
	{"SCMP_ARCH_MIPS", SCMP_ARCH_MIPS},
	{"SCMP_ARCH_MIPS64", SCMP_ARCH_MIPS64},
	{"SCMP_ARCH_MIPS64N32", SCMP_ARCH_MIPS64N32},
	{"SCMP_ARCH_MIPSEL", SCMP_ARCH_MIPSEL},
	{"SCMP_ARCH_MIPSEL64", SCMP_ARCH_MIPSEL64},
	{"SCMP_ARCH_MIPSEL64N32", SCMP_ARCH_MIPSEL64N32},
	{"SCMP_ARCH_PPC", SCMP_ARCH_PPC},
	{"SCMP_ARCH_PPC64", SCMP_ARCH_PPC64},
	{"SCMP_ARCH_PPC64LE", SCMP_ARCH_PPC64LE},
	{"SCMP_ARCH_S390", SCMP_ARCH_S390},
	{"SCMP_ARCH_S390X", SCMP_ARCH_S390X},
	{"SCMP_ARCH_PARISC", SCMP_ARCH_PARISC},
	{"SCMP_ARCH_PARISC64", SCMP_ARCH_PARISC64},
	{"SCMP_ARCH_RISCV64", SCMP_ARCH_RISCV64},
};

static const struct name_value op_table[] = {
	{"SCMP_CMP_NE", SCMP_CMP_NE}, {"SCMP_CMP_LT", SCMP_CMP_LT},
	{"SCMP_CMP_LE", SCMP_CMP_LE}, {"SCMP_CMP_EQ", SCMP_CMP_EQ},
	{"SCMP_CMP_GE", SCMP_CMP_GE}, {"SCMP_CMP_GT", SCMP_CMP_GT},
	{"SCMP_CMP_MASKED_EQ", SCMP_CMP_MASKED_EQ},
};

/* flag -> libseccomp attribute, and the API level (seccomp_api_get) that has it. */
static const struct {
	const char *name;
	int attr; /* -1: this libseccomp has no attribute for it */
	unsigned api;
} flag_table[] = {
	{"SECCOMP_FILTER_FLAG_TSYNC", SCMP_FLTATR_CTL_TSYNC, 2},
	{"SECCOMP_FILTER_FLAG_LOG", SCMP_FLTATR_CTL_LOG, 3},
	{"SECCOMP_FILTER_FLAG_SPEC_ALLOW", SCMP_FLTATR_CTL_SSB, 4},
#ifdef SCMP_FLTATR_CTL_WAITKILL
	{"SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV", SCMP_FLTATR_CTL_WAITKILL, 7},
#else
	{"SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV", -1, 0},
#endif
};

/* Between loading a NOTIFY filter and the listener holding its fd, the init uses these to hand
 * the fd over: a notification on them could never be answered. */
static const char *const notify_forbidden[] = {"sendmsg", "sendto", "recvmsg", "recvfrom",
					       "socketcall"};

static bool lookup(const struct name_value *t, size_t n, const char *name, uint32_t *out)
{
	for (size_t i = 0; name && i < n; i++)
		if (strcmp(t[i].name, name) == 0) {
			*out = t[i].value;
			return true;
		}
	return false;
}

/* The libseccomp action for an OCI action name; errno_ret only for ERRNO and TRACE. */
static int action_value(const char *name, bool has_errno, uint32_t errno_ret, const char *prefix,
			const char *akey, const char *ekey, uint32_t *out, struct werr **err)
{
	uint32_t e = has_errno ? errno_ret : EPERM;
	bool takes_errno = false;

	if (strcmp(name, "SCMP_ACT_ALLOW") == 0)
		*out = SCMP_ACT_ALLOW;
	else if (strcmp(name, "SCMP_ACT_ERRNO") == 0)
		*out = SCMP_ACT_ERRNO(e), takes_errno = true;
	else if (strcmp(name, "SCMP_ACT_TRACE") == 0)
		*out = SCMP_ACT_TRACE(e), takes_errno = true;
	else if (strcmp(name, "SCMP_ACT_KILL") == 0 || strcmp(name, "SCMP_ACT_KILL_THREAD") == 0)
		*out = SCMP_ACT_KILL_THREAD;
	else if (strcmp(name, "SCMP_ACT_KILL_PROCESS") == 0)
		*out = SCMP_ACT_KILL_PROCESS;
	else if (strcmp(name, "SCMP_ACT_TRAP") == 0)
		*out = SCMP_ACT_TRAP;
	else if (strcmp(name, "SCMP_ACT_LOG") == 0)
		*out = SCMP_ACT_LOG;
	else if (strcmp(name, "SCMP_ACT_NOTIFY") == 0)
		*out = SCMP_ACT_NOTIFY;
	else
		return werr_set(err, EINVAL, "%s.%s: unknown action \"%s\"", prefix, akey, name);
	if (has_errno && !takes_errno)
		return werr_set(err, EINVAL, "%s.%s: %s does not return an errno", prefix, ekey,
				name);
	if (has_errno && errno_ret > 0xffff)
		return werr_set(err, EINVAL, "%s.%s: %u out of range [0, 65535]", prefix, ekey,
				errno_ret);
	return 0;
}

static int set_flags(scmp_filter_ctx ctx, char *const *flags, struct werr **err)
{
	unsigned api = seccomp_api_get();

	for (size_t i = 0; flags && flags[i]; i++) {
		size_t k = 0;
		int r;

		while (k < ARRAY_SIZE(flag_table) && strcmp(flag_table[k].name, flags[i]))
			k++;
		if (k == ARRAY_SIZE(flag_table))
			return werr_set(err, EINVAL, P ".flags[%zu]: unknown flag \"%s\"", i,
					flags[i]);
		if (flag_table[k].attr < 0)
			return werr_set(err, EOPNOTSUPP,
					P ".flags[%zu]: %s is not supported by libseccomp %u.%u.%u", i,
					flags[i], seccomp_version()->major,
					seccomp_version()->minor, seccomp_version()->micro);
		if (api < flag_table[k].api)
			return werr_set(err, EOPNOTSUPP,
					P ".flags[%zu]: %s is not supported by this kernel or "
					"libseccomp (API level %u, needs %u)",
					i, flags[i], api, flag_table[k].api);
		r = seccomp_attr_set(ctx, (enum scmp_filter_attr)flag_table[k].attr, 1);
		if (r < 0)
			return werr_sys(err, -r, P ".flags[%zu]: %s", i, flags[i]);
	}
	return 0;
}

static int add_archs(scmp_filter_ctx ctx, char *const *archs, struct werr **err)
{
	for (size_t i = 0; archs && archs[i]; i++) {
		uint32_t a;
		int r;

		if (!lookup(arch_table, ARRAY_SIZE(arch_table), archs[i], &a))
			return werr_set(err, EINVAL, P ".architectures[%zu]: unknown architecture "
					"\"%s\"", i, archs[i]);
		r = seccomp_arch_add(ctx, a);
		if (r < 0 && r != -EEXIST) /* the native one is already there */
			return werr_sys(err, -r, P ".architectures[%zu]: %s", i, archs[i]);
	}
	return 0;
}

static int make_conditions(const struct seccomp_rule *rule, size_t i, struct scmp_arg_cmp *cmp,
			   struct werr **err)
{
	for (size_t j = 0; j < rule->n_args; j++) {
		const struct seccomp_arg *a = &rule->args[j];
		uint32_t op;

		if (!lookup(op_table, ARRAY_SIZE(op_table), a->op, &op))
			return werr_set(err, EINVAL,
					P ".syscalls[%zu].args[%zu].op: unknown operator \"%s\"", i,
					j, a->op ? a->op : "");
		if (a->index > 5)
			return werr_set(err, EINVAL,
					P ".syscalls[%zu].args[%zu].index: %u out of range [0, 5]",
					i, j, a->index);
		cmp[j] = (struct scmp_arg_cmp){
			.arg = a->index,
			.op = (enum scmp_compare)op,
			/* MASKED_EQ: (arg & value) == valueTwo */
			.datum_a = a->value,
			.datum_b = a->value_two,
		};
	}
	return 0;
}

/* Conditions on distinct arguments all have to match (one rule); several conditions on the
 * same argument are alternatives (one rule each), since one rule cannot test an argument
 * twice. */
static bool args_distinct(const struct seccomp_rule *rule)
{
	for (size_t a = 0; a < rule->n_args; a++)
		for (size_t b = a + 1; b < rule->n_args; b++)
			if (rule->args[a].index == rule->args[b].index)
				return false;
	return true;
}

static int add_rule(scmp_filter_ctx ctx, const struct seccomp_rule *rule, size_t i,
		    uint32_t action, size_t *skipped, struct werr **err)
{
	struct scmp_arg_cmp cmp[rule->n_args ? rule->n_args : 1];
	bool together = args_distinct(rule);
	int r = make_conditions(rule, i, cmp, err);

	if (r < 0)
		return r;
	for (size_t j = 0; rule->names[j]; j++) {
		int nr = seccomp_syscall_resolve_name(rule->names[j]);

		if (nr == __NR_SCMP_ERROR) {
			(*skipped)++;
			continue;
		}
		if (together) {
			r = seccomp_rule_add_array(ctx, action, nr, (unsigned)rule->n_args, cmp);
		} else {
			r = 0;
			for (size_t k = 0; k < rule->n_args && r == 0; k++)
				r = seccomp_rule_add_array(ctx, action, nr, 1, &cmp[k]);
		}
		if (r < 0)
			return werr_sys(err, -r, P ".syscalls[%zu].names[%zu]: add rule for \"%s\"",
					i, j, rule->names[j]);
	}
	return 0;
}

static int check_notify(const struct seccomp_config *c, const struct seccomp_rule *rule, size_t i,
			struct werr **err)
{
	if (!c->listener_path)
		return werr_set(err, EINVAL,
				P ".syscalls[%zu].action: SCMP_ACT_NOTIFY needs "
				"linux.seccomp.listenerPath",
				i);
	for (size_t j = 0; rule->names[j]; j++)
		for (size_t k = 0; k < ARRAY_SIZE(notify_forbidden); k++)
			if (strcmp(rule->names[j], notify_forbidden[k]) == 0)
				return werr_set(err, EINVAL,
						P ".syscalls[%zu].names[%zu]: SCMP_ACT_NOTIFY "
						"cannot be used for \"%s\" (the runtime needs it "
						"to hand the listener fd over)",
						i, j, rule->names[j]);
	return 0;
}

static int add_rules(struct seccomp_filter *f, const struct seccomp_config *c,
		     uint32_t default_action, size_t *skipped, struct werr **err)
{
	for (size_t i = 0; i < c->n_syscalls; i++) {
		const struct seccomp_rule *rule = &c->syscalls[i];
		_cleanup_free_ char *prefix = xasprintf(P ".syscalls[%zu]", i);
		uint32_t action;
		int r;

		if (!rule->names || !rule->names[0])
			return werr_set(err, EINVAL, P ".syscalls[%zu].names: must be a non-empty "
					"array of strings", i);
		r = action_value(rule->action ? rule->action : "", rule->has_errno_ret,
				 rule->errno_ret, prefix, "action", "errnoRet", &action, err);
		if (r < 0)
			return r;
		if (action == SCMP_ACT_NOTIFY) {
			r = check_notify(c, rule, i, err);
			if (r < 0)
				return r;
			f->notify = true;
		}
		/* libseccomp refuses a rule that repeats the default; it would change nothing. */
		if (action == default_action)
			continue;
		r = add_rule(f->ctx, rule, i, action, skipped, err);
		if (r < 0)
			return r;
	}
	return 0;
}

int seccomp_filter_build(const struct seccomp_config *c, struct seccomp_filter **out,
			 size_t *skipped, struct werr **err)
{
	struct seccomp_filter *f;
	size_t n_skipped = 0;
	uint32_t def;
	int r;

	*out = NULL;
	if (!c->default_action)
		return werr_set(err, EINVAL, P ".defaultAction: required");
	r = action_value(c->default_action, c->has_default_errno_ret, c->default_errno_ret,
			 P, "defaultAction", "defaultErrnoRet", &def, err);
	if (r < 0)
		return r;
	/* Every syscall of the runtime after loading would wait for a listener that cannot
	 * have the fd yet. */
	if (def == SCMP_ACT_NOTIFY)
		return werr_set(err, EINVAL,
				P ".defaultAction: SCMP_ACT_NOTIFY cannot be the default action");
	f = xcalloc(1, sizeof(*f));
	f->ctx = seccomp_init(def);
	if (!f->ctx) {
		free(f);
		return werr_set(err, ENOMEM, "seccomp_init failed");
	}
	/* no_new_privs is process.noNewPrivileges' business, not the filter's. */
	r = seccomp_attr_set(f->ctx, SCMP_FLTATR_CTL_NNP, 0);
	if (r == 0) {
		/* Real errnos from seccomp_load; best effort on an older libseccomp. */
		seccomp_attr_set(f->ctx, SCMP_FLTATR_API_SYSRAWRC, 1);
		r = add_archs(f->ctx, c->architectures, err);
	} else {
		r = werr_sys(err, -r, "seccomp: clear the no_new_privs attribute");
	}
	if (r == 0)
		r = set_flags(f->ctx, c->flags, err);
	if (r == 0)
		r = add_rules(f, c, def, &n_skipped, err);
	if (r < 0) {
		seccomp_filter_free(f);
		return r;
	}
	if (skipped)
		*skipped = n_skipped;
	*out = f;
	return 0;
}

bool seccomp_filter_wants_notify(const struct seccomp_filter *f)
{
	return f && f->notify;
}

int seccomp_filter_load(struct seccomp_filter *f, int *notify_fd, struct werr **err)
{
	int r;

	*notify_fd = -1;
	r = seccomp_load(f->ctx);
	if (r < 0)
		return werr_sys(err, -r, "load the seccomp filter");
	if (f->notify) {
		*notify_fd = seccomp_notify_fd(f->ctx);
		if (*notify_fd < 0)
			return werr_sys(err, -*notify_fd, "seccomp listener fd");
	}
	return 0;
}

void seccomp_filter_free(struct seccomp_filter *f)
{
	if (!f)
		return;
	seccomp_release(f->ctx);
	free(f);
}

int seccomp_filter_export(const struct seccomp_filter *f, int fd, bool bpf, struct werr **err)
{
	int r = bpf ? seccomp_export_bpf(f->ctx, fd) : seccomp_export_pfc(f->ctx, fd);

	if (r < 0)
		return werr_sys(err, -r, "export the seccomp filter");
	return 0;
}
