/* config.json "linux.seccomp" -> struct seccomp_config; names are checked here so that a
 * typo fails `ward create` with its JSON path, before any filter is built. */
#include "runtime/spec.h"
#include "runtime/spec_json.h"
#include "runtime/spec_parse.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lib/util.h"

static int known_string(const struct jctx *c, yajl_val o, const char *path, const char *key,
			bool required, bool (*known)(const char *), const char *noun, char **out)
{
	int r;

	if (required && jrequire(c, o, path, key) < 0)
		return -EINVAL;
	r = j_str(c, o, path, key, out);
	if (r > 0 && !known(*out))
		return jerr(c, path, key, -1, "unknown %s \"%s\"", noun, *out);
	return r;
}

static int arg_elem(const struct jctx *c, yajl_val v, const char *path, void *elem)
{
	struct seccomp_arg *a = elem;

	if (jrequire(c, v, path, "index") < 0 || j_u32(c, v, path, "index", &a->index) < 0 ||
	    jrequire(c, v, path, "value") < 0 ||
	    j_u64(c, v, path, "value", UINT64_MAX, &a->value) < 0 ||
	    j_u64(c, v, path, "valueTwo", UINT64_MAX, &a->value_two) < 0 ||
	    known_string(c, v, path, "op", true, seccomp_op_known, "operator", &a->op) < 0)
		return -EINVAL;
	/* Syscalls take at most six arguments. */
	if (a->index > 5)
		return jerr(c, path, "index", -1, "%u out of range [0, 5]", a->index);
	return 0;
}

static int rule_elem(const struct jctx *c, yajl_val v, const char *path, void *elem)
{
	struct seccomp_rule *s = elem;
	yajl_val names = jfield(v, "names");

	if (!YAJL_IS_ARRAY(names) || names->u.array.len == 0)
		return jerr(c, path, "names", -1, "must be a non-empty array of strings");
	if (j_strv(c, v, path, "names", &s->names, NULL, NULL) < 0 ||
	    known_string(c, v, path, "action", true, seccomp_action_known, "action", &s->action) <
		    0 ||
	    j_opt_u32(c, v, path, "errnoRet", &s->has_errno_ret, &s->errno_ret) < 0 ||
	    j_each(c, v, path, "args", sizeof(*s->args), (void **)&s->args, &s->n_args, arg_elem) <
		    0)
		return -EINVAL;
	return 0;
}

int spec_parse_seccomp(const struct jctx *c, yajl_val o, const char *path, void *arg)
{
	struct seccomp_config *s = arg;

	if (known_string(c, o, path, "defaultAction", true, seccomp_action_known, "action",
			 &s->default_action) < 0 ||
	    j_opt_u32(c, o, path, "defaultErrnoRet", &s->has_default_errno_ret,
		      &s->default_errno_ret) < 0 ||
	    j_strv(c, o, path, "architectures", &s->architectures, seccomp_arch_known,
		   "architecture") < 0 ||
	    j_strv(c, o, path, "flags", &s->flags, seccomp_flag_known, "flag") < 0 ||
	    j_abspath(c, o, path, "listenerPath", &s->listener_path) < 0 ||
	    j_str(c, o, path, "listenerMetadata", &s->listener_metadata) < 0 ||
	    j_each(c, o, path, "syscalls", sizeof(*s->syscalls), (void **)&s->syscalls,
		   &s->n_syscalls, rule_elem) < 0)
		return -EINVAL;
	return 0;
}
