#include "runtime/spec_json.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/util.h"
#include "ns/ns.h"

int jerr(const struct jctx *c, const char *path, const char *key, long idx, const char *fmt, ...)
{
	_cleanup_free_ char *msg = NULL;
	_cleanup_free_ char *full = key ? jpath_key(path, key) : xstrdup(path ? path : "");
	_cleanup_free_ char *at = idx >= 0 ? xasprintf("%s[%ld]", full, idx) : xstrdup(full);
	va_list ap;

	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	va_end(ap);
	if (*at)
		return werr_set(c->err, EINVAL, "%s: %s: %s", c->what, at, msg ? msg : "?");
	return werr_set(c->err, EINVAL, "%s: %s", c->what, msg ? msg : "?");
}

char *jpath_key(const char *parent, const char *key)
{
	if (!parent || !*parent)
		return xstrdup(key);
	return xasprintf("%s.%s", parent, key);
}

char *jpath_idx(const char *parent, size_t i)
{
	return xasprintf("%s[%zu]", parent ? parent : "", i);
}

yajl_val jfield(yajl_val obj, const char *key)
{
	if (!YAJL_IS_OBJECT(obj))
		return NULL;
	for (size_t i = 0; i < obj->u.object.len; i++) {
		if (strcmp(obj->u.object.keys[i], key) != 0)
			continue;
		if (YAJL_IS_NULL(obj->u.object.values[i]))
			return NULL;
		return obj->u.object.values[i];
	}
	return NULL;
}

int jrequire(const struct jctx *c, yajl_val obj, const char *path, const char *key)
{
	if (!jfield(obj, key))
		return jerr(c, path, key, -1, "required");
	return 0;
}

/* Fetch key and check its JSON type; 0 when absent. */
static int typed(const struct jctx *c, yajl_val obj, const char *path, const char *key,
		 yajl_type type, const char *noun, yajl_val *out)
{
	yajl_val v = jfield(obj, key);

	if (!v)
		return 0;
	if (v->type != type && !(type == yajl_t_true && v->type == yajl_t_false))
		return jerr(c, path, key, -1, "expected %s", noun);
	*out = v;
	return 1;
}

int j_obj(const struct jctx *c, yajl_val obj, const char *path, const char *key, yajl_val *out)
{
	return typed(c, obj, path, key, yajl_t_object, "an object", out);
}

int j_sub(const struct jctx *c, yajl_val obj, const char *path, const char *key, yajl_val *out,
	  char **sub)
{
	int r = j_obj(c, obj, path, key, out);

	if (r > 0)
		*sub = jpath_key(path, key);
	return r;
}

int j_section(const struct jctx *c, yajl_val obj, const char *path, const char *key, jsection_fn fn,
	      void *arg)
{
	_cleanup_free_ char *sub = NULL;
	yajl_val v = NULL;
	int r = j_sub(c, obj, path, key, &v, &sub);

	if (r <= 0)
		return r;
	r = fn(c, v, sub, arg);
	return r < 0 ? r : 1;
}

int j_arr(const struct jctx *c, yajl_val obj, const char *path, const char *key, yajl_val *out)
{
	return typed(c, obj, path, key, yajl_t_array, "an array", out);
}

int j_str(const struct jctx *c, yajl_val obj, const char *path, const char *key, char **out)
{
	yajl_val v = NULL;
	int r = typed(c, obj, path, key, yajl_t_string, "a string", &v);

	if (r <= 0)
		return r;
	free(*out);
	*out = xstrdup(v->u.string);
	return 1;
}

int j_bool(const struct jctx *c, yajl_val obj, const char *path, const char *key, bool *out)
{
	yajl_val v = NULL;
	int r = typed(c, obj, path, key, yajl_t_true, "a boolean", &v);

	if (r <= 0)
		return r;
	*out = YAJL_IS_TRUE(v);
	return 1;
}

/* yajl keeps the number's text; an integer is all digits after an optional sign. */
static bool integer_text(const char *s)
{
	if (*s == '-')
		s++;
	if (!*s)
		return false;
	return s[strspn(s, "0123456789")] == '\0';
}

static int value_i64(const struct jctx *c, yajl_val v, const char *path, const char *key,
		     int64_t min, int64_t max, int64_t *out)
{
	if (!YAJL_IS_NUMBER(v) || !integer_text(v->u.number.r))
		return jerr(c, path, key, -1, "expected an integer");
	if (!YAJL_IS_INTEGER(v) || v->u.number.i < min || v->u.number.i > max) {
		if (min == 0 && v->u.number.r[0] == '-')
			return jerr(c, path, key, -1, "expected a non-negative integer");
		return jerr(c, path, key, -1, "%s out of range [%lld, %lld]", v->u.number.r,
			    (long long)min, (long long)max);
	}
	*out = v->u.number.i;
	return 1;
}

static int value_u64(const struct jctx *c, yajl_val v, const char *path, const char *key,
		     uint64_t max, uint64_t *out)
{
	unsigned long long x;
	char *end;

	if (!YAJL_IS_NUMBER(v) || !integer_text(v->u.number.r))
		return jerr(c, path, key, -1, "expected an integer");
	if (v->u.number.r[0] == '-')
		return jerr(c, path, key, -1, "expected a non-negative integer");
	errno = 0;
	x = strtoull(v->u.number.r, &end, 10);
	if (errno || *end || x > max)
		return jerr(c, path, key, -1, "%s out of range [0, %llu]", v->u.number.r,
			    (unsigned long long)max);
	*out = x;
	return 1;
}

int j_i64(const struct jctx *c, yajl_val obj, const char *path, const char *key, int64_t min,
	  int64_t max, int64_t *out)
{
	yajl_val v = jfield(obj, key);

	return v ? value_i64(c, v, path, key, min, max, out) : 0;
}

int j_u64(const struct jctx *c, yajl_val obj, const char *path, const char *key, uint64_t max,
	  uint64_t *out)
{
	yajl_val v = jfield(obj, key);

	return v ? value_u64(c, v, path, key, max, out) : 0;
}

int jv_u64(const struct jctx *c, yajl_val v, const char *path, uint64_t max, uint64_t *out)
{
	return value_u64(c, v, path, NULL, max, out);
}

int j_u32(const struct jctx *c, yajl_val obj, const char *path, const char *key, uint32_t *out)
{
	uint64_t v;
	int r = j_u64(c, obj, path, key, UINT32_MAX, &v);

	if (r > 0)
		*out = (uint32_t)v;
	return r;
}

int j_opt_u32(const struct jctx *c, yajl_val obj, const char *path, const char *key, bool *has,
	      uint32_t *out)
{
	int r = j_u32(c, obj, path, key, out);

	*has = r > 0;
	return r;
}

int j_i32(const struct jctx *c, yajl_val obj, const char *path, const char *key, int32_t *out)
{
	int64_t v;
	int r = j_i64(c, obj, path, key, INT32_MIN, INT32_MAX, &v);

	if (r > 0)
		*out = (int32_t)v;
	return r;
}

int j_abspath(const struct jctx *c, yajl_val obj, const char *path, const char *key, char **out)
{
	int r = j_str(c, obj, path, key, out);

	if (r > 0 && (*out)[0] != '/')
		return jerr(c, path, key, -1, "must be an absolute path");
	return r;
}

int j_enum(const struct jctx *c, yajl_val obj, const char *path, const char *key,
	   const struct jname *table, size_t n, const char *noun, long *out)
{
	yajl_val v = NULL;
	int r = typed(c, obj, path, key, yajl_t_string, "a string", &v);

	if (r <= 0)
		return r;
	for (size_t i = 0; i < n; i++) {
		if (strcmp(table[i].name, v->u.string) == 0) {
			*out = table[i].value;
			return 1;
		}
	}
	return jerr(c, path, key, -1, "unknown %s \"%s\"", noun, v->u.string);
}

int j_strv(const struct jctx *c, yajl_val obj, const char *path, const char *key, char ***out,
	   bool (*known)(const char *), const char *noun)
{
	yajl_val v = NULL;
	char **sv;
	size_t n;
	int r = typed(c, obj, path, key, yajl_t_array, "an array", &v);

	if (r <= 0)
		return r;
	n = v->u.array.len;
	strv_free(*out);
	*out = sv = xcalloc(n + 1, sizeof(char *));
	for (size_t i = 0; i < n; i++) {
		yajl_val e = v->u.array.values[i];

		if (!YAJL_IS_STRING(e))
			return jerr(c, path, key, (long)i, "expected a string");
		if (known && !known(e->u.string))
			return jerr(c, path, key, (long)i, "unknown %s \"%s\"", noun, e->u.string);
		sv[i] = xstrdup(e->u.string);
	}
	return 1;
}

int j_kv(const struct jctx *c, yajl_val obj, const char *path, const char *key, size_t elem_size,
	 size_t key_off, size_t val_off, void **out, size_t *n)
{
	_cleanup_free_ char *p = jpath_key(path, key);
	yajl_val v = NULL;
	char *base;
	int r = typed(c, obj, path, key, yajl_t_object, "an object", &v);

	if (r <= 0)
		return r;
	*out = base = xcalloc(v->u.object.len, elem_size);
	*n = 0;
	for (size_t i = 0; i < v->u.object.len; i++) {
		yajl_val e = v->u.object.values[i];
		char *elem = base + i * elem_size;

		if (!YAJL_IS_STRING(e))
			return jerr(c, p, v->u.object.keys[i], -1, "expected a string");
		*(char **)(elem + key_off) = xstrdup(v->u.object.keys[i]);
		*(char **)(elem + val_off) = xstrdup(e->u.string);
		*n = i + 1;
	}
	return 1;
}

int j_each(const struct jctx *c, yajl_val obj, const char *path, const char *key, size_t elem_size,
	   void **out, size_t *n, jelem_fn fn)
{
	_cleanup_free_ char *ap = jpath_key(path, key);
	yajl_val v = NULL;
	char *base;
	int r = typed(c, obj, path, key, yajl_t_array, "an array", &v);

	if (r <= 0)
		return r;
	*out = base = xcalloc(v->u.array.len, elem_size);
	*n = v->u.array.len;
	for (size_t i = 0; i < v->u.array.len; i++) {
		yajl_val e = v->u.array.values[i];
		_cleanup_free_ char *ep = jpath_idx(ap, i);

		if (!YAJL_IS_OBJECT(e))
			return jerr(c, ep, NULL, -1, "expected an object");
		r = fn(c, e, ep, base + i * elem_size);
		if (r < 0)
			return r;
	}
	return 1;
}

static int id_map_elem(const struct jctx *c, yajl_val v, const char *path, void *elem)
{
	struct id_map *m = elem;
	static const char *const keys[] = {"containerID", "hostID", "size"};
	uint32_t *dst[] = {&m->container_id, &m->host_id, &m->size};
	int r;

	for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
		r = jrequire(c, v, path, keys[i]);
		if (r < 0)
			return r;
		r = j_u32(c, v, path, keys[i], dst[i]);
		if (r < 0)
			return r;
	}
	return 0;
}

int j_id_maps(const struct jctx *c, yajl_val obj, const char *path, const char *key,
	      struct id_map **out, size_t *n)
{
	return j_each(c, obj, path, key, sizeof(**out), (void **)out, n, id_map_elem);
}

int jparse(const struct jctx *c, const char *json, size_t len, yajl_val *out)
{
	_cleanup_free_ char *text = xmalloc(len + 1);
	char ebuf[1024] = "";
	const char *reason;

	memcpy(text, json, len);
	text[len] = '\0';
	*out = yajl_tree_parse(text, ebuf, sizeof(ebuf));
	if (*out)
		return 0;
	/* yajl's message is "parse error: <reason>\n<context lines>": keep the reason. */
	ebuf[strcspn(ebuf, "\n")] = '\0';
	reason = ebuf;
	if (strncmp(reason, "parse error: ", 13) == 0)
		reason += 13;
	return werr_set(c->err, EINVAL, "%s: invalid JSON: %s", c->what,
			*reason ? reason : "syntax error");
}

int jparse_object(const struct jctx *c, const char *json, size_t len, jsection_fn fn, void *arg)
{
	yajl_val tree = NULL;
	int r = jparse(c, json, len, &tree);

	if (r < 0)
		return r;
	if (YAJL_IS_OBJECT(tree))
		r = fn(c, tree, "", arg);
	else
		r = werr_set(c->err, EINVAL, "%s: expected a JSON object", c->what);
	yajl_tree_free(tree);
	return r < 0 ? r : 0;
}
