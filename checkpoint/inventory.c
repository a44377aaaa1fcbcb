/* inventory.json: format version, ward version, tree and the files' sums (checkpoint/sum.h). */
#include "checkpoint/inventory.h"

#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <string.h>
#include <yajl/yajl_gen.h>
#include <yajl/yajl_tree.h>

#include "checkpoint/image.h"
#include "checkpoint/sum.h"
#include "lib/jgen.h"
#include "lib/util.h"

#ifndef WARD_VERSION
#define WARD_VERSION "0.0.0"
#endif

void ck_inventory_free(struct ck_inventory *inv)
{
	free(inv->ward_version);
	free(inv->parent);
	free(inv->pids);
	for (size_t i = 0; i < inv->nfiles; i++) {
		free(inv->files[i]);
		free(inv->sums[i]);
	}
	free(inv->files);
	free(inv->sums);
	memset(inv, 0, sizeof(*inv));
}

int ck_inventory_write(int dirfd, struct ck_inventory *inv, struct werr **err)
{
	yajl_gen g = yajl_gen_alloc(NULL);
	const unsigned char *buf;
	char now[64];
	size_t len;
	int r;

	/* Sums already given (files sent to a page server, not in dirfd) are kept. */
	if (!inv->sums)
		inv->sums = xcalloc(inv->nfiles + 1, sizeof(char *));
	for (size_t i = 0; i < inv->nfiles; i++) {
		if (inv->sums[i])
			continue;
		inv->sums[i] = xmalloc(CK_SUM_HEX + 1);
		if (ck_sum_file(dirfd, inv->files[i], inv->sums[i], err) < 0) {
			yajl_gen_free(g);
			return werr_wrap(err, "inventory");
		}
	}
	now_rfc3339(now, sizeof(now));
	yajl_gen_config(g, yajl_gen_beautify, 1);
	yajl_gen_config(g, yajl_gen_indent_string, " ");
	yajl_gen_map_open(g);
	jstr(g, "format");
	yajl_gen_integer(g, inv->format ? inv->format : CK_FORMAT_BASE);
	jstr(g, "ward_version");
	jstr(g, WARD_VERSION);
	jstr(g, "created");
	jstr(g, now);
	jstr(g, "root_pid");
	yajl_gen_integer(g, inv->root_pid);
	if (inv->parent) {
		jstr(g, "parent");
		jstr(g, inv->parent);
	}
	jstr(g, "pids");
	yajl_gen_array_open(g);
	for (size_t i = 0; i < inv->npids; i++)
		yajl_gen_integer(g, inv->pids[i]);
	yajl_gen_array_close(g);
	jstr(g, CK_SUM_NAME);
	yajl_gen_map_open(g);
	for (size_t i = 0; i < inv->nfiles; i++) {
		jstr(g, inv->files[i]);
		jstr(g, inv->sums[i]);
	}
	yajl_gen_map_close(g);
	yajl_gen_map_close(g);
	yajl_gen_get_buf(g, &buf, &len);
	r = write_file_atomic(dirfd, "inventory.json", buf, len, 0600, err);
	yajl_gen_free(g);
	return r;
}

int ck_inventory_parse(const char *text, struct ck_inventory *inv, struct werr **err)
{
	char ebuf[256] = "";
	yajl_val t = yajl_tree_parse(text, ebuf, sizeof(ebuf));
	const char *p_format[] = {"format", NULL}, *p_ver[] = {"ward_version", NULL};
	const char *p_root[] = {"root_pid", NULL}, *p_pids[] = {"pids", NULL};
	const char *p_sums[] = {CK_SUM_NAME, NULL}, *p_parent[] = {"parent", NULL};
	yajl_val v, a, s;
	int r = -EINVAL;

	memset(inv, 0, sizeof(*inv));
	if (!t || !YAJL_IS_OBJECT(t)) {
		werr_set(err, EINVAL, "inventory.json: not a JSON object: %s", ebuf);
		goto out;
	}
	v = yajl_tree_get(t, p_format, yajl_t_number);
	if (!v || !YAJL_IS_INTEGER(v)) {
		werr_set(err, EINVAL, "inventory.json: no \"format\"");
		goto out;
	}
	inv->format = (int)YAJL_GET_INTEGER(v);
	if (inv->format == 1) {
		werr_set(err, EINVAL,
			 "inventory.json: image format 1 (sha256 sums, written by an older ward), "
			 "this ward reads formats %d to %d only: checkpoint again with this ward",
			 CK_FORMAT_BASE, CK_FORMAT_VERSION);
		goto out;
	}
	if (inv->format < CK_FORMAT_BASE || inv->format > CK_FORMAT_VERSION) {
		werr_set(err, EINVAL,
			 "inventory.json: image format %d, this ward reads formats %d to %d only",
			 inv->format, CK_FORMAT_BASE, CK_FORMAT_VERSION);
		goto out;
	}
	v = yajl_tree_get(t, p_ver, yajl_t_string);
	inv->ward_version = xstrdup(v ? YAJL_GET_STRING(v) : "unknown");
	v = yajl_tree_get(t, p_root, yajl_t_number);
	a = yajl_tree_get(t, p_pids, yajl_t_array);
	s = yajl_tree_get(t, p_sums, yajl_t_object);
	if (!v || !YAJL_IS_INTEGER(v) || !a || !s || YAJL_GET_ARRAY(a)->len == 0) {
		werr_set(err, EINVAL,
			 "inventory.json: needs \"root_pid\", \"pids\" and \"" CK_SUM_NAME "\"");
		goto out;
	}
	inv->root_pid = (pid_t)YAJL_GET_INTEGER(v);
	v = yajl_tree_get(t, p_parent, yajl_t_string);
	if (v)
		inv->parent = xstrdup(YAJL_GET_STRING(v));
	inv->pids = xcalloc(YAJL_GET_ARRAY(a)->len, sizeof(pid_t));
	for (size_t i = 0; i < YAJL_GET_ARRAY(a)->len; i++) {
		yajl_val e = YAJL_GET_ARRAY(a)->values[i];

		if (!YAJL_IS_INTEGER(e) || YAJL_GET_INTEGER(e) <= 0) {
			werr_set(err, EINVAL, "inventory.json: bad pid in \"pids\"");
			goto out;
		}
		inv->pids[inv->npids++] = (pid_t)YAJL_GET_INTEGER(e);
	}
	if (inv->pids[0] != inv->root_pid) {
		werr_set(err, EINVAL, "inventory.json: \"pids\" must start with root_pid");
		goto out;
	}
	inv->files = xcalloc(YAJL_GET_OBJECT(s)->len + 1, sizeof(char *));
	inv->sums = xcalloc(YAJL_GET_OBJECT(s)->len + 1, sizeof(char *));
	for (size_t i = 0; i < YAJL_GET_OBJECT(s)->len; i++) {
		const char *name = YAJL_GET_OBJECT(s)->keys[i];
		yajl_val e = YAJL_GET_OBJECT(s)->values[i];
		const char *sum = YAJL_IS_STRING(e) ? YAJL_GET_STRING(e) : NULL;

		if (!sum || strlen(sum) != CK_SUM_HEX || strchr(name, '/') || name[0] == '.') {
			werr_set(err, EINVAL, "inventory.json: bad " CK_SUM_NAME " entry \"%s\"",
				 name);
			goto out;
		}
		inv->files[inv->nfiles] = xstrdup(name);
		inv->sums[inv->nfiles++] = xstrdup(sum);
	}
	r = 0;
out:
	if (t)
		yajl_tree_free(t);
	if (r < 0)
		ck_inventory_free(inv);
	return r;
}

static bool is_pages(const char *name)
{
	size_t l = strlen(name);

	return strncmp(name, "pages-", 6) == 0 && l > 10 && strcmp(name + l - 4, ".img") == 0;
}

static int load(int dirfd, struct ck_inventory *inv, bool pages, struct werr **err)
{
	_cleanup_free_ char *text = NULL;

	if (read_file_at(dirfd, "inventory.json", &text, NULL, err) < 0)
		return werr_wrap(err, "image");
	if (ck_inventory_parse(text, inv, err) < 0)
		return -EINVAL;
	for (size_t i = 0; i < inv->nfiles; i++) {
		char sum[CK_SUM_HEX + 1];

		if (!pages && is_pages(inv->files[i]))
			continue;
		if (ck_sum_file(dirfd, inv->files[i], sum, err) < 0) {
			ck_inventory_free(inv);
			return werr_wrap(err, "image");
		}
		if (strcmp(sum, inv->sums[i]) != 0) {
			werr_set(err, EINVAL,
				 "image: %s: " CK_SUM_NAME " %s does not match the inventory's %s",
				 inv->files[i], sum, inv->sums[i]);
			ck_inventory_free(inv);
			return -EINVAL;
		}
	}
	return 0;
}

int ck_inventory_load(int dirfd, struct ck_inventory *inv, struct werr **err)
{
	return load(dirfd, inv, true, err);
}

int ck_inventory_load_but_pages(int dirfd, struct ck_inventory *inv, struct werr **err)
{
	return load(dirfd, inv, false, err);
}

const char *ck_inventory_sum(const struct ck_inventory *inv, const char *name)
{
	for (size_t i = 0; i < inv->nfiles; i++)
		if (strcmp(inv->files[i], name) == 0)
			return inv->sums[i];
	return NULL;
}

int ck_inventory_has(const struct ck_inventory *inv, const char *name)
{
	for (size_t i = 0; i < inv->nfiles; i++)
		if (strcmp(inv->files[i], name) == 0)
			return 1;
	return 0;
}

void ck_inventory_add(struct ck_inventory *inv, char *name, const char *sum)
{
	inv->files = xrealloc(inv->files, (inv->nfiles + 1) * sizeof(char *));
	inv->sums = xrealloc(inv->sums, (inv->nfiles + 1) * sizeof(char *));
	inv->files[inv->nfiles] = name;
	inv->sums[inv->nfiles++] = sum && *sum ? xstrdup(sum) : NULL;
}
