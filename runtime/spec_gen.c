#include "runtime/spec_gen.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "lib/util.h"

yajl_gen jg_new(void)
{
	yajl_gen g = yajl_gen_alloc(NULL);

	if (!g)
		abort();
	yajl_gen_config(g, yajl_gen_beautify, 1);
	yajl_gen_config(g, yajl_gen_indent_string, "\t");
	return g;
}

char *jg_finish(yajl_gen g)
{
	const unsigned char *buf;
	size_t len;
	char *out;

	yajl_gen_get_buf(g, &buf, &len);
	while (len > 0 && buf[len - 1] == '\n')
		len--;
	out = xmalloc(len + 2);
	memcpy(out, buf, len);
	memcpy(out + len, "\n", 2);
	yajl_gen_free(g);
	return out;
}

void jg_str(yajl_gen g, const char *s)
{
	if (!s)
		s = ""; /* an absent value is written as an empty string */
	yajl_gen_string(g, (const unsigned char *)s, strlen(s));
}

void jg_kstr(yajl_gen g, const char *key, const char *value)
{
	jg_str(g, key);
	jg_str(g, value);
}

void jg_kint(yajl_gen g, const char *key, long long value)
{
	jg_str(g, key);
	yajl_gen_integer(g, value);
}

void jg_ku64(yajl_gen g, const char *key, uint64_t value)
{
	char buf[32];
	int n = snprintf(buf, sizeof(buf), "%" PRIu64, value);

	if (key)
		jg_str(g, key);
	yajl_gen_number(g, buf, (size_t)n);
}

void jg_kdouble(yajl_gen g, const char *key, double value)
{
	char buf[64];
	int n = snprintf(buf, sizeof(buf), "%.4f", value);

	jg_str(g, key);
	yajl_gen_number(g, buf, (size_t)n);
}

void jg_kbool(yajl_gen g, const char *key, bool value)
{
	jg_str(g, key);
	yajl_gen_bool(g, value);
}

void jg_kstrv(yajl_gen g, const char *key, const char *const *list, size_t n)
{
	jg_kopen_array(g, key);
	for (size_t i = 0; i < n; i++)
		jg_str(g, list[i]);
	jg_close_array(g);
}

void jg_kopen(yajl_gen g, const char *key)
{
	if (key)
		jg_str(g, key);
	yajl_gen_map_open(g);
}

void jg_close(yajl_gen g)
{
	yajl_gen_map_close(g);
}

void jg_kopen_array(yajl_gen g, const char *key)
{
	if (key)
		jg_str(g, key);
	yajl_gen_array_open(g);
}

void jg_close_array(yajl_gen g)
{
	yajl_gen_array_close(g);
}
