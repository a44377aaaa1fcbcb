/* Small yajl_gen helpers for the JSON documents ward writes (`ward spec`, `ward features`). */
#ifndef WARD_RUNTIME_SPEC_GEN_H
#define WARD_RUNTIME_SPEC_GEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <yajl/yajl_gen.h>

/* A generator that indents with tabs, like runc's output. */
yajl_gen jg_new(void);
/* The text produced, ending in one newline (caller frees); frees the generator. */
char *jg_finish(yajl_gen g);

void jg_str(yajl_gen g, const char *s);
void jg_kstr(yajl_gen g, const char *key, const char *value);
void jg_kint(yajl_gen g, const char *key, long long value);
void jg_kbool(yajl_gen g, const char *key, bool value);
/* An unsigned 64-bit number (key NULL: a bare array element); a double with 4 decimals. */
void jg_ku64(yajl_gen g, const char *key, uint64_t value);
void jg_kdouble(yajl_gen g, const char *key, double value);
/* key: [list[0], ... list[n-1]] (key NULL: the array alone). */
void jg_kstrv(yajl_gen g, const char *key, const char *const *list, size_t n);
/* key: { (key NULL: the object alone), and its end. */
void jg_kopen(yajl_gen g, const char *key);
void jg_close(yajl_gen g);
/* key: [ and its end. */
void jg_kopen_array(yajl_gen g, const char *key);
void jg_close_array(yajl_gen g);

#endif
