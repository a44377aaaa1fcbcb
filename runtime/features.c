/* The OCI features document (runtime-spec features.md) printed by `ward features`. */
#include "runtime/spec.h"
#include "runtime/spec_gen.h"
#include "runtime/spec_names.h"

#include "lib/util.h"

#ifndef WARD_VERSION
#define WARD_VERSION "unknown"
#endif

static const char *const hooks[] = {
	"prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop",
};

/* Exactly the options rootfs/mount_opts.c understands. */
static const char *const mount_options[] = {
	"defaults",
	"ro",
	"rw",
	"suid",
	"nosuid",
	"dev",
	"nodev",
	"exec",
	"noexec",
	"sync",
	"async",
	"dirsync",
	"remount",
	"mand",
	"nomand",
	"atime",
	"noatime",
	"diratime",
	"nodiratime",
	"relatime",
	"norelatime",
	"strictatime",
	"nostrictatime",
	"bind",
	"rbind",
	"private",
	"rprivate",
	"shared",
	"rshared",
	"slave",
	"rslave",
	"unbindable",
	"runbindable",
	"idmap",
	"ridmap",
	"nosymfollow",
	"symfollow",
	"lazytime",
	"nolazytime",
	"iversion",
	"noiversion",
	"silent",
	"loud",
	"tmpcopyup",
	"rro",
	"rrw",
	"rnosuid",
	"rsuid",
	"rnodev",
	"rdev",
	"rnoexec",
	"rexec",
	"rnodiratime",
	"rdiratime",
	"rrelatime",
	"rnorelatime",
	"rnoatime",
	"ratime",
	"rstrictatime",
	"rnostrictatime",
	"rnosymfollow",
	"rsymfollow",
};

static void gen_enabled(yajl_gen g, const char *key, bool enabled)
{
	jg_kopen(g, key);
	jg_kbool(g, "enabled", enabled);
	jg_close(g);
}

static void gen_namespaces(yajl_gen g)
{
	jg_kopen_array(g, "namespaces");
	for (int t = 0; t < NS_COUNT; t++)
		jg_str(g, ns_type_name((enum ns_type)t));
	jg_close_array(g);
}

static void gen_capabilities(yajl_gen g)
{
	jg_kopen_array(g, "capabilities");
	for (int i = 0; i < spec_cap_count(); i++)
		jg_str(g, spec_cap_name(i));
	jg_close_array(g);
}

static void gen_seccomp(yajl_gen g)
{
	const char *const *list;
	size_t n;

	jg_kopen(g, "seccomp");
	jg_kbool(g, "enabled", true);
	list = seccomp_known_actions(&n);
	jg_kstrv(g, "actions", list, n);
	list = seccomp_known_ops(&n);
	jg_kstrv(g, "operators", list, n);
	list = seccomp_known_archs(&n);
	jg_kstrv(g, "archs", list, n);
	jg_close(g);
}

static void gen_linux(yajl_gen g)
{
	jg_kopen(g, "linux");
	gen_namespaces(g);
	gen_capabilities(g);
	jg_kopen(g, "cgroup");
	jg_kbool(g, "v1", true);
	jg_kbool(g, "v2", true);
	jg_kbool(g, "systemd", false);
	jg_kbool(g, "systemdUser", false);
	jg_close(g);
	gen_seccomp(g);
	gen_enabled(g, "apparmor", false);
	gen_enabled(g, "selinux", false);
	gen_enabled(g, "intelRdt", false);
	jg_kopen(g, "mountExtensions");
	gen_enabled(g, "idmap", true);
	jg_close(g);
	jg_close(g);
}

char *spec_features_json(void)
{
	yajl_gen g = jg_new();

	jg_kopen(g, NULL);
	jg_kstr(g, "ociVersionMin", "1.0.0");
	jg_kstr(g, "ociVersionMax", "1.2.0");
	jg_kstrv(g, "hooks", hooks, ARRAY_SIZE(hooks));
	jg_kstrv(g, "mountOptions", mount_options, ARRAY_SIZE(mount_options));
	gen_linux(g);
	jg_kopen(g, "annotations");
	jg_kstr(g, "org.ward.version", WARD_VERSION);
	jg_close(g);
	jg_close(g);
	return jg_finish(g);
}
