/* config.json: the top level (ociVersion, root, mounts, hooks, annotations) and loading it
 * from a bundle; process and linux live in spec_process.c and spec_linux.c. */
#include "runtime/spec.h"
#include "runtime/spec_json.h"
#include "runtime/spec_parse.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "lib/util.h"

static int parse_root(const struct jctx *c, yajl_val top, struct spec *s)
{
	yajl_val o = NULL;
	int r = j_obj(c, top, NULL, "root", &o);

	if (r < 0)
		return r;
	if (r == 0)
		return jerr(c, NULL, "root", -1, "required");
	if (jrequire(c, o, "root", "path") < 0 || j_str(c, o, "root", "path", &s->root_path) < 0 ||
	    j_bool(c, o, "root", "readonly", &s->root_readonly) < 0)
		return -EINVAL;
	if (!*s->root_path)
		return jerr(c, "root", "path", -1, "must not be empty");
	return 0;
}

static int mount_elem(const struct jctx *c, yajl_val v, const char *path, void *elem)
{
	struct mount_spec *m = elem;

	if (jrequire(c, v, path, "destination") < 0 ||
	    j_str(c, v, path, "destination", &m->destination) < 0 ||
	    j_str(c, v, path, "source", &m->source) < 0 ||
	    j_str(c, v, path, "type", &m->type) < 0 ||
	    j_strv(c, v, path, "options", &m->options, NULL, NULL) < 0 ||
	    j_id_maps(c, v, path, "uidMappings", &m->uid_maps, &m->n_uid_maps) < 0 ||
	    j_id_maps(c, v, path, "gidMappings", &m->gid_maps, &m->n_gid_maps) < 0)
		return -EINVAL;
	if (!*m->destination)
		return jerr(c, path, "destination", -1, "must not be empty");
	if (!m->options)
		m->options = xcalloc(1, sizeof(char *));
	return 0;
}

static int hook_elem(const struct jctx *c, yajl_val v, const char *path, void *elem)
{
	struct spec_hook *h = elem;
	int64_t timeout;
	int r;

	if (jrequire(c, v, path, "path") < 0 || j_abspath(c, v, path, "path", &h->path) < 0 ||
	    j_strv(c, v, path, "args", &h->args, NULL, NULL) < 0 ||
	    j_strv(c, v, path, "env", &h->env, NULL, NULL) < 0)
		return -EINVAL;
	r = j_i64(c, v, path, "timeout", INT64_MIN, INT64_MAX, &timeout);
	if (r <= 0)
		return r;
	if (timeout <= 0)
		return jerr(c, path, "timeout", -1, "must be greater than zero");
	if (timeout > INT32_MAX)
		return jerr(c, path, "timeout", -1, "%lld out of range", (long long)timeout);
	h->has_timeout = true;
	h->timeout = (int)timeout;
	return 0;
}

/* The six hook lists, by JSON name and place in struct spec_hooks. */
static const struct {
	const char *name;
	size_t list, count;
} hook_lists[] = {
#define HOOK(json, member)                                                                         \
	{                                                                                          \
		json, offsetof(struct spec_hooks, member), offsetof(struct spec_hooks, n_##member) \
	}
	HOOK("prestart", prestart),
	HOOK("createRuntime", create_runtime),
	HOOK("createContainer", create_container),
	HOOK("startContainer", start_container),
	HOOK("poststart", poststart),
	HOOK("poststop", poststop),
#undef HOOK
};

static struct spec_hook **hook_list(struct spec_hooks *h, size_t i)
{
	return (struct spec_hook **)((char *)h + hook_lists[i].list);
}

static size_t *hook_count(struct spec_hooks *h, size_t i)
{
	return (size_t *)((char *)h + hook_lists[i].count);
}

static int parse_hooks(const struct jctx *c, yajl_val top, struct spec_hooks *h)
{
	yajl_val o = NULL;
	int r = j_obj(c, top, NULL, "hooks", &o);

	if (r <= 0)
		return r;
	for (size_t i = 0; i < ARRAY_SIZE(hook_lists); i++) {
		r = j_each(c, o, "hooks", hook_lists[i].name, sizeof(struct spec_hook),
			   (void **)hook_list(h, i), hook_count(h, i), hook_elem);
		if (r < 0)
			return r;
	}
	return 0;
}

static int parse_top(const struct jctx *c, yajl_val top, const char *path, void *arg)
{
	struct spec *s = arg;
	int r;

	if (jrequire(c, top, NULL, "ociVersion") < 0 ||
	    j_str(c, top, NULL, "ociVersion", &s->oci_version) < 0 || parse_root(c, top, s) < 0 ||
	    j_str(c, top, NULL, "hostname", &s->hostname) < 0 ||
	    j_str(c, top, NULL, "domainname", &s->domainname) < 0 ||
	    j_each(c, top, NULL, "mounts", sizeof(*s->mounts), (void **)&s->mounts, &s->n_mounts,
		   mount_elem) < 0 ||
	    parse_hooks(c, top, &s->hooks) < 0 ||
	    j_kv(c, top, NULL, "annotations", sizeof(struct kv), offsetof(struct kv, key),
		 offsetof(struct kv, value), (void **)&s->annotations, &s->n_annotations) < 0)
		return -EINVAL;
	/* runc cannot start a container without a process, so neither can ward. */
	r = j_section(c, top, NULL, "process", spec_parse_process_value, &s->process);
	if (r == 0)
		return jerr(c, NULL, "process", -1, "required");
	if (r < 0)
		return r;
	s->has_process = true;
	r = j_section(c, top, NULL, "linux", spec_parse_linux, &s->linux_);
	s->has_linux = r > 0;
	return r < 0 ? r : 0;
}

int spec_parse(const char *json, size_t len, const char *what, struct spec **out, struct werr **err)
{
	struct jctx c = {.what = what, .err = err};
	_cleanup_spec_ struct spec *s = xcalloc(1, sizeof(*s));
	int r = jparse_object(&c, json, len, parse_top, s);

	if (r < 0)
		return r;
	*out = steal_ptr(s);
	return 0;
}

int spec_load(const char *bundle, struct spec **out, struct werr **err)
{
	_cleanup_free_ char *path = xasprintf("%s/config.json", bundle);
	_cleanup_free_ char *text = NULL;
	_cleanup_werr_ struct werr *read_err = NULL;
	size_t len = 0;
	int r;

	r = read_file(path, &text, &len, &read_err);
	if (r < 0)
		return werr_sys(err, -r, "bundle %s: config.json", bundle);
	r = spec_parse(text, len, "config.json", out, err);
	if (r < 0)
		return werr_wrap(err, "bundle %s", bundle);
	return 0;
}

static void free_mount(struct mount_spec *m)
{
	free(m->destination);
	free(m->source);
	free(m->type);
	strv_free(m->options);
	free(m->uid_maps);
	free(m->gid_maps);
}

static void free_hooks(struct spec_hooks *h)
{
	for (size_t i = 0; i < ARRAY_SIZE(hook_lists); i++) {
		struct spec_hook *list = *hook_list(h, i);

		for (size_t j = 0; j < *hook_count(h, i); j++) {
			free(list[j].path);
			strv_free(list[j].args);
			strv_free(list[j].env);
		}
		free(list);
	}
}

void spec_kv_free(struct kv *kv, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(kv[i].key);
		free(kv[i].value);
	}
	free(kv);
}

void spec_free(struct spec *s)
{
	if (!s)
		return;
	free(s->oci_version);
	spec_process_free(&s->process);
	free(s->root_path);
	free(s->hostname);
	free(s->domainname);
	for (size_t i = 0; i < s->n_mounts; i++)
		free_mount(&s->mounts[i]);
	free(s->mounts);
	free_hooks(&s->hooks);
	spec_kv_free(s->annotations, s->n_annotations);
	spec_linux_free(&s->linux_);
	free(s);
}
