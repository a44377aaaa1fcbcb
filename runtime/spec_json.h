/* Typed field access over a yajl tree for the config.json parser. Every error names the file
 * and the JSON path ("config.json: process.user.uid: expected a non-negative integer").
 * Getters return < 0 on error, 0 when the field is absent (or JSON null), 1 when it was set. */
#ifndef WARD_RUNTIME_SPEC_JSON_H
#define WARD_RUNTIME_SPEC_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <yajl/yajl_tree.h>

#include "lib/err.h"

struct jctx {
	const char *what; /* file name used as the message prefix */
	struct werr **err;
};

/* A name <-> value pair of the enum tables ("SCHED_FIFO" -> SCHED_FIFO). */
struct jname {
	const char *name;
	long value;
};

/* Error at path[.key][[idx]] (key may be NULL, idx < 0 for none). Returns -EINVAL. */
int jerr(const struct jctx *c, const char *path, const char *key, long idx, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
/* "parent.key" ("key" at the top level) and "parent[i]". Caller frees. */
char *jpath_key(const char *parent, const char *key);
char *jpath_idx(const char *parent, size_t i);

/* The member key of obj; NULL when absent or null. */
yajl_val jfield(yajl_val obj, const char *key);
/* Fails with "required" when the field is absent. */
int jrequire(const struct jctx *c, yajl_val obj, const char *path, const char *key);

int j_obj(const struct jctx *c, yajl_val obj, const char *path, const char *key, yajl_val *out);
/* Like j_obj, and *sub gets the member's path (caller frees) when it is present. */
int j_sub(const struct jctx *c, yajl_val obj, const char *path, const char *key, yajl_val *out,
	  char **sub);
/* When key holds an object, fn parses it (with its path); 0 when absent, 1 when parsed. */
typedef int (*jsection_fn)(const struct jctx *c, yajl_val v, const char *path, void *arg);
int j_section(const struct jctx *c, yajl_val obj, const char *path, const char *key, jsection_fn fn,
	      void *arg);
int j_arr(const struct jctx *c, yajl_val obj, const char *path, const char *key, yajl_val *out);
int j_str(const struct jctx *c, yajl_val obj, const char *path, const char *key, char **out);
int j_bool(const struct jctx *c, yajl_val obj, const char *path, const char *key, bool *out);
int j_i64(const struct jctx *c, yajl_val obj, const char *path, const char *key, int64_t min,
	  int64_t max, int64_t *out);
int j_u64(const struct jctx *c, yajl_val obj, const char *path, const char *key, uint64_t max,
	  uint64_t *out);
int j_u32(const struct jctx *c, yajl_val obj, const char *path, const char *key, uint32_t *out);
/* j_u32 that also records whether the field was present. */
int j_opt_u32(const struct jctx *c, yajl_val obj, const char *path, const char *key, bool *has,
	      uint32_t *out);
int j_i32(const struct jctx *c, yajl_val obj, const char *path, const char *key, int32_t *out);
/* An absolute path string ("must be an absolute path"). */
int j_abspath(const struct jctx *c, yajl_val obj, const char *path, const char *key, char **out);
/* A string that must be one of table's names; *out gets its value. */
int j_enum(const struct jctx *c, yajl_val obj, const char *path, const char *key,
	   const struct jname *table, size_t n, const char *noun, long *out);
/* Array of strings -> NULL-terminated vector. When known is given, every element must pass it
 * (error "unknown <noun> \"X\"" at path.key[i]). */
int j_strv(const struct jctx *c, yajl_val obj, const char *path, const char *key, char ***out,
	   bool (*known)(const char *), const char *noun);
/* Object of strings -> array of elements holding a char *key at key_off and a char *value at
 * val_off (struct kv, struct cg_kv). */
int j_kv(const struct jctx *c, yajl_val obj, const char *path, const char *key, size_t elem_size,
	 size_t key_off, size_t val_off, void **out, size_t *n);

/* Array of objects: allocates n zeroed elements (stored in *out and *n before parsing, so the
 * owner's free function cleans up a partial result) and calls fn on each. */
typedef int (*jelem_fn)(const struct jctx *c, yajl_val v, const char *path, void *elem);
int j_each(const struct jctx *c, yajl_val obj, const char *path, const char *key, size_t elem_size,
	   void **out, size_t *n, jelem_fn fn);

/* The same getters for a value already in hand (array elements). */
int jv_u64(const struct jctx *c, yajl_val v, const char *path, uint64_t max, uint64_t *out);

/* Parse text into a tree; syntax errors give "<what>: invalid JSON: <reason>". */
int jparse(const struct jctx *c, const char *json, size_t len, yajl_val *out);
/* Parse text whose top level must be an object and hand that object to fn (path ""). */
int jparse_object(const struct jctx *c, const char *json, size_t len, jsection_fn fn, void *arg);

/* Deep-copy into id_map arrays (shared by mounts[] and linux.*Mappings). */
struct id_map;
int j_id_maps(const struct jctx *c, yajl_val obj, const char *path, const char *key,
	      struct id_map **out, size_t *n);

#endif
