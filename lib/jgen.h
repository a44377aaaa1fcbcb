/* The small yajl_gen helpers the image and snapshot writers share (checkpoint/, vmm_shim/):
 * a string, and "key": value pairs. 64-bit values that JSON numbers would round go as
 * "0x..." strings. */
#ifndef WARD_LIB_JGEN_H
#define WARD_LIB_JGEN_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <yajl/yajl_gen.h>

static inline void jstr(yajl_gen g, const char *s)
{
	yajl_gen_string(g, (const unsigned char *)s, strlen(s));
}

/* "k": v, or "k": null when v is NULL. */
static inline void jkstr(yajl_gen g, const char *k, const char *v)
{
	jstr(g, k);
	if (v)
		jstr(g, v);
	else
		yajl_gen_null(g);
}

static inline void jkint(yajl_gen g, const char *k, long long v)
{
	jstr(g, k);
	yajl_gen_integer(g, v);
}

static inline void jkbool(yajl_gen g, const char *k, bool v)
{
	jstr(g, k);
	yajl_gen_bool(g, v);
}

static inline void jkhex(yajl_gen g, const char *k, uint64_t v)
{
	char buf[24];

	snprintf(buf, sizeof(buf), "0x%llx", (unsigned long long)v);
	jkstr(g, k, buf);
}

#endif
