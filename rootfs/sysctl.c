/* linux.sysctl: each key is written through /proc/sys; keys are checked so that none can name
 * a file outside /proc/sys. */
#include "rootfs/rootfs.h"

#include <errno.h>
#include <string.h>

#include "lib/util.h"

/* "net.ipv4.ip_forward" -> "/proc/sys/net/ipv4/ip_forward"; NULL if the key is not a plain
 * dotted name. */
static char *sysctl_path(const char *key)
{
	char *path, *p;

	if (!key || !*key || strchr(key, '/'))
		return NULL;
	path = xasprintf("/proc/sys/%s", key);
	for (p = path + strlen("/proc/sys/"); *p; p++)
		if (*p == '.')
			*p = '/';
	/* Empty, "." or ".." components (from "a..b", ".a", "a.") are all refused. */
	if (strstr(path, "//") || path[strlen(path) - 1] == '/' ||
	    path[strlen("/proc/sys/")] == '/') {
		free(path);
		return NULL;
	}
	return path;
}

int rootfs_apply_sysctl(const struct kv *sysctl, size_t n, struct werr **err)
{
	for (size_t i = 0; i < n; i++) {
		_cleanup_free_ char *path = sysctl_path(sysctl[i].key);
		const char *value = sysctl[i].value ? sysctl[i].value : "";
		int r;

		if (!path)
			return werr_set(err, EINVAL, "sysctl \"%s\": invalid key",
					sysctl[i].key ? sysctl[i].key : "");
		r = write_file(path, value, strlen(value), err);
		if (r < 0)
			return werr_wrap(err, "sysctl %s", sysctl[i].key);
	}
	return 0;
}
