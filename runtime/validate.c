/* Checks on a parsed config that need more than one section of it, or the host: done by
 * create before anything exists, so a refusal leaves nothing behind. */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include "lib/util.h"
#include "runtime/container.h"
#include "runtime/log.h"

/* The sysctls of a namespace: IPC ones, and the net.* tree. Everything else is host-wide. */
static const char *const ipc_sysctls[] = { "kernel.msgmax", "kernel.msgmnb", "kernel.msgmni",
					   "kernel.sem", "kernel.shmall", "kernel.shmmax",
					   "kernel.shmmni", "kernel.shm_rmid_forced" };

/* A namespace of the container that is not the host's: new, or joined by a path that names
 * another namespace than ward's own. */
static bool owns_ns(const struct ns_config *ns, enum ns_type t)
{
	const struct ns_entry *e = ns_find(ns, t);
	_cleanup_free_ char *self = NULL;
	struct stat a, b;

	if (!e)
		return false;
	if (!e->path)
		return true;
	self = xasprintf("/proc/self/ns/%s", ns_proc_name(t));
	if (stat(e->path, &a) < 0 || stat(self, &b) < 0)
		return true; /* the join itself will report the path */
	return a.st_ino != b.st_ino || a.st_dev != b.st_dev;
}

static int check_sysctl(const struct spec *s, struct werr **err)
{
	const struct ns_config *ns = &s->linux_.ns;

	for (size_t i = 0; i < s->linux_.n_sysctl; i++) {
		const char *key = s->linux_.sysctl[i].key;
		bool ipc = strncmp(key, "fs.mqueue.", 10) == 0;
		enum ns_type need;

		for (size_t j = 0; j < ARRAY_SIZE(ipc_sysctls) && !ipc; j++)
			ipc = strcmp(key, ipc_sysctls[j]) == 0;
		if (ipc)
			need = NS_IPC;
		else if (strncmp(key, "net.", 4) == 0)
			need = NS_NET;
		else if (strcmp(key, "kernel.hostname") == 0 || strcmp(key, "kernel.domainname") == 0)
			need = NS_UTS;
		else
			return werr_set(err, EINVAL,
					"config.json: linux.sysctl: \"%s\" is not in a separate kernel "
					"namespace (refusing to change the host's value)",
					key);
		if (!owns_ns(ns, need))
			return werr_set(err, EINVAL,
					"config.json: linux.sysctl: \"%s\" needs the container's own %s "
					"namespace",
					key, ns_type_name(need));
	}
	return 0;
}

int container_validate(const struct spec *s, struct werr **err)
{
	int r = check_sysctl(s, err);

	if (r < 0)
		return r;
	if (s->linux_.has_seccomp && s->linux_.seccomp.listener_metadata &&
	    !s->linux_.seccomp.listener_path)
		log_warn("config.json: linux.seccomp.listenerMetadata is ignored without "
			 "listenerPath");
	/* Honest about what this version does not enforce yet. */
	if (s->linux_.has_resources)
		log_debug("config.json: linux.resources are not applied by this version of ward");
	return 0;
}
