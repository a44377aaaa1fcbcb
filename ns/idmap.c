/* User-namespace id maps: parsing, formatting, and writing them for a child. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>

#include "lib/util.h"
#include "ns/ns.h"

char *ns_format_id_maps(const struct id_map *maps, size_t n)
{
	size_t cap = n * 36 + 1, used = 0;
	char *buf = xmalloc(cap);

	buf[0] = '\0';
	for (size_t i = 0; i < n; i++)
		used += (size_t)snprintf(buf + used, cap - used, "%u %u %u\n", maps[i].container_id,
					 maps[i].host_id, maps[i].size);
	return buf;
}

int ns_parse_id_map(const char *s, struct id_map *out, struct werr **err)
{
	unsigned long a, b, c;
	int end = 0;

	if (sscanf(s, "%lu:%lu:%lu%n", &a, &b, &c, &end) != 3 || s[end] != '\0' ||
	    a > UINT32_MAX || b > UINT32_MAX || c == 0 || c > UINT32_MAX)
		return werr_set(err, EINVAL, "invalid id map \"%s\" (want container:host:size)", s);
	out->container_id = (uint32_t)a;
	out->host_id = (uint32_t)b;
	out->size = (uint32_t)c;
	return 0;
}

static int write_proc_file(pid_t pid, const char *name, const char *text, struct werr **err)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/%s", pid, name);
	return write_file(path, text, strlen(text), err);
}

int ns_write_id_maps(pid_t pid, const struct ns_config *c, struct werr **err)
{
	_cleanup_free_ char *uids = ns_format_id_maps(c->uid_maps, c->n_uid_maps);
	_cleanup_free_ char *gids = ns_format_id_maps(c->gid_maps, c->n_gid_maps);
	int r;

	if (c->n_uid_maps) {
		r = write_proc_file(pid, "uid_map", uids, err);
		if (r < 0)
			return werr_wrap(err, "write uid mappings");
	}
	if (c->n_gid_maps) {
		r = write_proc_file(pid, "gid_map", gids, err);
		if (r < 0)
			return werr_wrap(err, "write gid mappings");
	}
	return 0;
}
