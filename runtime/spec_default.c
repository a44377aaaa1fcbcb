/* The config.json `ward spec` writes: the same container runc's `spec` describes (a shell in
 * ./rootfs with a small capability set), and its rootless variant. */
#include "runtime/spec.h"
#include "runtime/spec_gen.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "lib/util.h"
#include "seccomp/seccomp.h"

#define MAX_OPTS 6

struct default_mount {
	const char *destination, *type, *source;
	const char *options[MAX_OPTS + 1]; /* NULL-terminated */
};

static const struct default_mount mounts[] = {
	{"/proc", "proc", "proc", {NULL}},
	{"/dev", "tmpfs", "tmpfs", {"nosuid", "strictatime", "mode=755", "size=65536k"}},
	{"/dev/pts",
	 "devpts",
	 "devpts",
	 {"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"}},
	{"/dev/shm", "tmpfs", "shm", {"nosuid", "noexec", "nodev", "mode=1777", "size=65536k"}},
	{"/dev/mqueue", "mqueue", "mqueue", {"nosuid", "noexec", "nodev"}},
	{"/sys", "sysfs", "sysfs", {"nosuid", "noexec", "nodev", "ro"}},
	{"/sys/fs/cgroup", "cgroup", "cgroup", {"nosuid", "noexec", "nodev", "relatime", "ro"}},
};

/* Without privilege sysfs cannot be mounted fresh: bind the host's instead. */
static const struct default_mount rootless_sys = {
	"/sys", "none", "/sys", {"rbind", "nosuid", "noexec", "nodev", "ro"}};

static const char *const default_caps[] = {"CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"};
static const char *const default_env[] = {
	"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
	"TERM=xterm",
};
static const char *const masked_paths[] = {
	"/proc/acpi",	       "/proc/asound",	   "/proc/kcore",	"/proc/keys",
	"/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug",
	"/sys/firmware",       "/proc/scsi",
};
static const char *const readonly_paths[] = {
	"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger",
};

static void gen_process(yajl_gen g)
{
	static const char *const sets[] = {"bounding", "effective", "permitted", "ambient"};
	static const char *const args[] = {"sh"};

	jg_kopen(g, "process");
	jg_kbool(g, "terminal", true);
	jg_kopen(g, "user");
	jg_kint(g, "uid", 0);
	jg_kint(g, "gid", 0);
	jg_close(g);
	jg_kstrv(g, "args", args, ARRAY_SIZE(args));
	jg_kstrv(g, "env", default_env, ARRAY_SIZE(default_env));
	jg_kstr(g, "cwd", "/");
	jg_kopen(g, "capabilities");
	for (size_t i = 0; i < ARRAY_SIZE(sets); i++)
		jg_kstrv(g, sets[i], default_caps, ARRAY_SIZE(default_caps));
	jg_close(g);
	jg_kopen_array(g, "rlimits");
	jg_kopen(g, NULL);
	jg_kstr(g, "type", "RLIMIT_NOFILE");
	jg_kint(g, "hard", 1024);
	jg_kint(g, "soft", 1024);
	jg_close(g);
	jg_close_array(g);
	jg_kbool(g, "noNewPrivileges", true);
	jg_close(g);
}

/* Rootless containers drop uid=/gid= options: those ids need not exist in the user ns. */
static void gen_mount(yajl_gen g, const struct default_mount *m, bool rootless)
{
	jg_kopen(g, NULL);
	jg_kstr(g, "destination", m->destination);
	jg_kstr(g, "type", m->type);
	jg_kstr(g, "source", m->source);
	if (m->options[0]) {
		jg_kopen_array(g, "options");
		for (const char *const *o = m->options; *o; o++)
			if (!rootless || (strncmp(*o, "uid=", 4) && strncmp(*o, "gid=", 4)))
				jg_str(g, *o);
		jg_close_array(g);
	}
	jg_close(g);
}

static void gen_mounts(yajl_gen g, bool rootless)
{
	jg_kopen_array(g, "mounts");
	for (size_t i = 0; i < ARRAY_SIZE(mounts); i++) {
		bool sys = strcmp(mounts[i].destination, "/sys") == 0;

		gen_mount(g, rootless && sys ? &rootless_sys : &mounts[i], rootless);
	}
	jg_close_array(g);
}

static void gen_id_map(yajl_gen g, const char *key, unsigned host_id)
{
	jg_kopen_array(g, key);
	jg_kopen(g, NULL);
	jg_kint(g, "containerID", 0);
	jg_kint(g, "hostID", host_id);
	jg_kint(g, "size", 1);
	jg_close(g);
	jg_close_array(g);
}

static void gen_seccomp_rule(yajl_gen g, const struct seccomp_profile_rule *r)
{
	size_t n = 0;

	while (r->names[n])
		n++;
	jg_kopen(g, NULL);
	jg_kstrv(g, "names", r->names, n);
	jg_kstr(g, "action", r->action ? r->action : "SCMP_ACT_ALLOW");
	if (r->errno_ret)
		jg_kint(g, "errnoRet", r->errno_ret);
	if (r->n_args) {
		jg_kopen_array(g, "args");
		for (size_t i = 0; i < r->n_args; i++) {
			jg_kopen(g, NULL);
			jg_kint(g, "index", r->args[i].index);
			jg_ku64(g, "value", r->args[i].value);
			if (r->args[i].value_two)
				jg_ku64(g, "valueTwo", r->args[i].value_two);
			jg_kstr(g, "op", r->args[i].op);
			jg_close(g);
		}
		jg_close_array(g);
	}
	jg_close(g);
}

/* seccomp/default_profile.c has the list and the reasons. */
static void gen_seccomp(yajl_gen g)
{
	unsigned kernel = seccomp_running_kernel();
	const struct seccomp_profile_rule *rules;
	const char *const *archs;
	size_t n;

	jg_kopen(g, "seccomp");
	jg_kstr(g, "defaultAction", "SCMP_ACT_ERRNO");
	jg_kint(g, "defaultErrnoRet", 1); /* EPERM */
	archs = seccomp_default_archs(&n);
	if (n)
		jg_kstrv(g, "architectures", archs, n);
	jg_kopen_array(g, "syscalls");
	rules = seccomp_default_rules(&n);
	for (size_t i = 0; i < n; i++)
		if (!rules[i].min_kernel || kernel >= rules[i].min_kernel)
			gen_seccomp_rule(g, &rules[i]);
	jg_close_array(g);
	jg_close(g);
}

static void gen_linux(yajl_gen g, bool rootless)
{
	static const char *const ns_root[] = {"pid", "network", "ipc", "uts", "mount", "cgroup"};
	static const char *const ns_rootless[] = {"pid", "ipc", "uts", "mount", "cgroup", "user"};
	const char *const *ns = rootless ? ns_rootless : ns_root;
	size_t n_ns = rootless ? ARRAY_SIZE(ns_rootless) : ARRAY_SIZE(ns_root);

	jg_kopen(g, "linux");
	if (rootless) {
		gen_id_map(g, "uidMappings", geteuid());
		gen_id_map(g, "gidMappings", getegid());
	} else {
		/* Deny every device; the default devices are allowed by the runtime itself. */
		jg_kopen(g, "resources");
		jg_kopen_array(g, "devices");
		jg_kopen(g, NULL);
		jg_kbool(g, "allow", false);
		jg_kstr(g, "access", "rwm");
		jg_close(g);
		jg_close_array(g);
		jg_close(g);
	}
	jg_kopen_array(g, "namespaces");
	for (size_t i = 0; i < n_ns; i++) {
		jg_kopen(g, NULL);
		jg_kstr(g, "type", ns[i]);
		jg_close(g);
	}
	jg_close_array(g);
	jg_kstrv(g, "maskedPaths", masked_paths, ARRAY_SIZE(masked_paths));
	jg_kstrv(g, "readonlyPaths", readonly_paths, ARRAY_SIZE(readonly_paths));
	gen_seccomp(g);
	jg_close(g);
}

char *spec_default_json(bool rootless)
{
	yajl_gen g = jg_new();

	jg_kopen(g, NULL);
	jg_kstr(g, "ociVersion", "1.2.0");
	gen_process(g);
	jg_kopen(g, "root");
	jg_kstr(g, "path", "rootfs");
	jg_kbool(g, "readonly", true);
	jg_close(g);
	jg_kstr(g, "hostname", "ward");
	gen_mounts(g, rootless);
	gen_linux(g, rootless);
	jg_close(g);
	return jg_finish(g);
}
