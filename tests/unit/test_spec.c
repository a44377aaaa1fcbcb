/* config.json parsing: every section lands in its struct member, and every kind of bad
 * input is rejected with the file name and the JSON path of the offending value. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/personality.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <yajl/yajl_tree.h>

#include "lib/util.h"
#include "runtime/spec.h"

static const char full_config[] =
	"{\"ociVersion\": \"1.2.0\", \"unknownTop\": {\"x\": [1, 2]},"
	" \"process\": {\"terminal\": true, \"consoleSize\": {\"height\": 24, \"width\": 80},"
	"  \"user\": {\"uid\": 1000, \"gid\": 100, \"umask\": 18, \"additionalGids\": [5, 6],"
	"   \"username\": \"alice\"},"
	"  \"args\": [\"sh\", \"-c\", \"true\"], \"env\": [\"PATH=/bin\", \"A=b\"], \"cwd\": "
	"\"/srv\","
	"  \"capabilities\": {\"bounding\": [\"CAP_KILL\", \"CAP_BPF\"],"
	"   \"effective\": [\"CAP_KILL\"], \"inheritable\": [], \"permitted\": [\"CAP_KILL\"],"
	"   \"ambient\": [\"CAP_CHECKPOINT_RESTORE\"]},"
	"  \"rlimits\": [{\"type\": \"RLIMIT_NOFILE\", \"soft\": 1024, \"hard\": 4096},"
	"   {\"type\": \"RLIMIT_CORE\", \"soft\": 18446744073709551615, \"hard\": 0}],"
	"  \"noNewPrivileges\": true, \"apparmorProfile\": \"prof\", \"oomScoreAdj\": -500,"
	"  \"selinuxLabel\": \"lbl\", \"ioPriority\": {\"class\": \"IOPRIO_CLASS_IDLE\","
	"   \"priority\": 4},"
	"  \"scheduler\": {\"policy\": \"SCHED_DEADLINE\", \"nice\": -3, \"priority\": 7,"
	"   \"flags\": [\"SCHED_FLAG_RESET_ON_FORK\", \"SCHED_FLAG_RECLAIM\"],"
	"   \"runtime\": 10, \"deadline\": 20, \"period\": 30},"
	"  \"execCPUAffinity\": {\"initial\": \"0-3,7\", \"final\": \"1\"}},"
	" \"root\": {\"path\": \"rootfs\", \"readonly\": true},"
	" \"hostname\": \"box\", \"domainname\": \"example.org\","
	" \"mounts\": [{\"destination\": \"/proc\", \"type\": \"proc\", \"source\": \"proc\"},"
	"  {\"destination\": \"/data\", \"source\": \"/srv/data\", \"options\": [\"rbind\", "
	"\"ro\"],"
	"   \"uidMappings\": [{\"containerID\": 0, \"hostID\": 100000, \"size\": 65536}],"
	"   \"gidMappings\": [{\"containerID\": 0, \"hostID\": 200000, \"size\": 1000}]}],"
	" \"hooks\": {\"prestart\": [{\"path\": \"/bin/pre\", \"args\": [\"pre\", \"x\"],"
	"   \"env\": [\"K=V\"], \"timeout\": 5}],"
	"  \"createRuntime\": [{\"path\": \"/bin/cr\"}], \"createContainer\": [{\"path\": "
	"\"/bin/cc\"}],"
	"  \"startContainer\": [{\"path\": \"/bin/sc\"}], \"poststart\": [{\"path\": \"/bin/ps\"}],"
	"  \"poststop\": [{\"path\": \"/bin/p1\"}, {\"path\": \"/bin/p2\"}]},"
	" \"annotations\": {\"org.example.key\": \"value\"},"
	" \"linux\": {\"namespaces\": [{\"type\": \"pid\"}, {\"type\": \"network\","
	"   \"path\": \"/run/netns/x\"}, {\"type\": \"mount\"}, {\"type\": \"user\"},"
	"   {\"type\": \"time\"}],"
	"  \"uidMappings\": [{\"containerID\": 0, \"hostID\": 1000, \"size\": 1}],"
	"  \"gidMappings\": [{\"containerID\": 0, \"hostID\": 1001, \"size\": 2}],"
	"  \"timeOffsets\": {\"monotonic\": {\"secs\": -10, \"nanosecs\": 5},"
	"   \"boottime\": {\"secs\": 3600}},"
	"  \"devices\": [{\"type\": \"c\", \"path\": \"/dev/fuse\", \"major\": 10, \"minor\": 229,"
	"   \"fileMode\": 438, \"uid\": 0, \"gid\": 0}, {\"type\": \"p\", \"path\": "
	"\"/dev/fifo\"}],"
	"  \"cgroupsPath\": \"/ward/box\","
	"  \"resources\": {\"devices\": [{\"allow\": false, \"access\": \"rwm\"},"
	"    {\"allow\": true, \"type\": \"c\", \"major\": 10, \"minor\": 229, \"access\": "
	"\"rw\"}],"
	"   \"memory\": {\"limit\": 536870912, \"reservation\": 1024, \"swap\": -1,"
	"    \"swappiness\": 10, \"disableOOMKiller\": true, \"checkBeforeUpdate\": true},"
	"   \"cpu\": {\"shares\": 512, \"quota\": 50000, \"period\": 100000, \"burst\": 1000,"
	"    \"realtimeRuntime\": 950, \"realtimePeriod\": 1000, \"cpus\": \"0-1\", \"mems\": "
	"\"0\","
	"    \"idle\": 1},"
	"   \"pids\": {\"limit\": 64},"
	"   \"blockIO\": {\"weight\": 500, \"leafWeight\": 300,"
	"    \"weightDevice\": [{\"major\": 8, \"minor\": 0, \"weight\": 600}],"
	"    \"throttleReadBpsDevice\": [{\"major\": 8, \"minor\": 0, \"rate\": 1048576}],"
	"    \"throttleWriteBpsDevice\": [{\"major\": 8, \"minor\": 16, \"rate\": 2}],"
	"    \"throttleReadIOPSDevice\": [{\"major\": 8, \"minor\": 0, \"rate\": 3}],"
	"    \"throttleWriteIOPSDevice\": [{\"major\": 8, \"minor\": 0, \"rate\": 4}]},"
	"   \"hugepageLimits\": [{\"pageSize\": \"2MB\", \"limit\": 209715200}],"
	"   \"network\": {\"classID\": 1048577, \"priorities\": [{\"name\": \"eth0\","
	"    \"priority\": 500}]},"
	"   \"rdma\": {\"mlx5_1\": {\"hcaHandles\": 3, \"hcaObjects\": 10000}},"
	"   \"unified\": {\"memory.high\": \"1G\"}},"
	"  \"intelRdt\": {\"closID\": \"guaranteed\"},"
	"  \"sysctl\": {\"net.ipv4.ip_forward\": \"1\"},"
	"  \"seccomp\": {\"defaultAction\": \"SCMP_ACT_ERRNO\", \"defaultErrnoRet\": 1,"
	"   \"architectures\": [\"SCMP_ARCH_X86_64\", \"SCMP_ARCH_AARCH64\"],"
	"   \"flags\": [\"SECCOMP_FILTER_FLAG_LOG\"], \"listenerPath\": \"/run/seccomp.sock\","
	"   \"listenerMetadata\": \"meta\","
	"   \"syscalls\": [{\"names\": [\"read\", \"write\"], \"action\": \"SCMP_ACT_ALLOW\"},"
	"    {\"names\": [\"personality\"], \"action\": \"SCMP_ACT_ERRNO\", \"errnoRet\": 38,"
	"     \"args\": [{\"index\": 0, \"value\": 8, \"valueTwo\": 0, \"op\": "
	"\"SCMP_CMP_EQ\"}]}]},"
	"  \"rootfsPropagation\": \"rslave\", \"maskedPaths\": [\"/proc/kcore\"],"
	"  \"readonlyPaths\": [\"/proc/sys\", \"/proc/bus\"], \"mountLabel\": \"mlbl\","
	"  \"personality\": {\"domain\": \"LINUX32\", \"flags\": []}}}";

#define MINIMAL_HEAD "{\"ociVersion\": \"1.2.0\", \"root\": {\"path\": \"rootfs\"}, "
#define MINIMAL_PROCESS "\"process\": {\"args\": [\"sh\"], \"cwd\": \"/\"}"

static struct spec *parse_ok(const char *json)
{
	struct werr *err = NULL;
	struct spec *s = NULL;
	int r = spec_parse(json, strlen(json), "config.json", &s, &err);

	if (r < 0)
		fail_msg("unexpected error: %s", err->msg);
	assert_int_equal(r, 0);
	assert_non_null(s);
	return s;
}

/* The parse fails, and the message contains want. */
static void expect_error(const char *json, const char *want)
{
	_cleanup_werr_ struct werr *err = NULL;
	struct spec *s = NULL;
	int r = spec_parse(json, strlen(json), "config.json", &s, &err);

	assert_true(r < 0);
	assert_null(s);
	assert_non_null(err);
	if (!strstr(err->msg, want))
		fail_msg("message \"%s\" lacks \"%s\"", err->msg, want);
}

/* An otherwise minimal config with the given linux object. */
static void expect_linux_error(const char *linux_json, const char *want)
{
	_cleanup_free_ char *json =
		xasprintf(MINIMAL_HEAD MINIMAL_PROCESS ", \"linux\": %s}", linux_json);

	expect_error(json, want);
}

static void expect_process_error(const char *process_json, const char *want)
{
	_cleanup_free_ char *json = xasprintf(MINIMAL_HEAD "\"process\": %s}", process_json);

	expect_error(json, want);
}

static void full_config_process_lands_in_struct(void **state)
{
	_cleanup_spec_ struct spec *s = parse_ok(full_config);
	struct spec_process *p = &s->process;

	assert_string_equal(s->oci_version, "1.2.0");
	assert_true(s->has_process);
	assert_true(p->terminal);
	assert_true(p->has_console_size);
	assert_int_equal(p->console_height, 24);
	assert_int_equal(p->console_width, 80);
	assert_int_equal(p->user.uid, 1000);
	assert_int_equal(p->user.gid, 100);
	assert_true(p->user.has_umask);
	assert_int_equal(p->user.umask, 022);
	assert_int_equal(p->user.n_additional_gids, 2);
	assert_int_equal(p->user.additional_gids[1], 6);
	assert_string_equal(p->user.username, "alice");
	assert_int_equal(strv_len(p->args), 3);
	assert_string_equal(p->args[2], "true");
	assert_string_equal(p->env[1], "A=b");
	assert_string_equal(p->cwd, "/srv");
	assert_true(p->has_caps);
	assert_string_equal(p->caps.bounding[1], "CAP_BPF");
	assert_int_equal(strv_len(p->caps.inheritable), 0);
	assert_string_equal(p->caps.ambient[0], "CAP_CHECKPOINT_RESTORE");
	assert_int_equal(p->n_rlimits, 2);
	assert_int_equal(p->rlimits[0].resource, RLIMIT_NOFILE);
	assert_int_equal(p->rlimits[0].hard, 4096);
	assert_true(p->rlimits[1].soft == UINT64_MAX);
	assert_true(p->no_new_privileges);
	assert_string_equal(p->apparmor_profile, "prof");
	assert_string_equal(p->selinux_label, "lbl");
	assert_true(p->has_oom_score_adj);
	assert_int_equal(p->oom_score_adj, -500);
	assert_true(p->io_priority.set);
	assert_int_equal(p->io_priority.klass, 3);
	assert_int_equal(p->io_priority.priority, 4);
	assert_true(p->scheduler.set);
	assert_int_equal(p->scheduler.policy, 6);
	assert_int_equal(p->scheduler.nice, -3);
	assert_int_equal(p->scheduler.flags, 0x03);
	assert_int_equal(p->scheduler.period, 30);
	assert_string_equal(p->exec_cpu_affinity_initial, "0-3,7");
	assert_string_equal(p->exec_cpu_affinity_final, "1");
}

static void full_config_top_level_lands_in_struct(void **state)
{
	_cleanup_spec_ struct spec *s = parse_ok(full_config);

	assert_string_equal(s->root_path, "rootfs");
	assert_true(s->root_readonly);
	assert_string_equal(s->hostname, "box");
	assert_string_equal(s->domainname, "example.org");
	assert_int_equal(s->n_mounts, 2);
	assert_string_equal(s->mounts[0].type, "proc");
	assert_null(s->mounts[1].type);
	assert_string_equal(s->mounts[1].options[0], "rbind");
	assert_int_equal(s->mounts[1].n_uid_maps, 1);
	assert_int_equal(s->mounts[1].uid_maps[0].host_id, 100000);
	assert_int_equal(s->mounts[1].gid_maps[0].size, 1000);
	assert_int_equal(s->hooks.n_prestart, 1);
	assert_string_equal(s->hooks.prestart[0].path, "/bin/pre");
	assert_string_equal(s->hooks.prestart[0].args[1], "x");
	assert_string_equal(s->hooks.prestart[0].env[0], "K=V");
	assert_true(s->hooks.prestart[0].has_timeout);
	assert_int_equal(s->hooks.prestart[0].timeout, 5);
	assert_false(s->hooks.create_runtime[0].has_timeout);
	assert_string_equal(s->hooks.create_container[0].path, "/bin/cc");
	assert_string_equal(s->hooks.start_container[0].path, "/bin/sc");
	assert_string_equal(s->hooks.poststart[0].path, "/bin/ps");
	assert_int_equal(s->hooks.n_poststop, 2);
	assert_string_equal(s->hooks.poststop[1].path, "/bin/p2");
	assert_int_equal(s->n_annotations, 1);
	assert_string_equal(s->annotations[0].key, "org.example.key");
	assert_string_equal(s->annotations[0].value, "value");
}

static void full_config_linux_lands_in_struct(void **state)
{
	_cleanup_spec_ struct spec *s = parse_ok(full_config);
	struct spec_linux *l = &s->linux_;

	assert_true(s->has_linux);
	assert_int_equal(l->ns.n_entries, 5);
	assert_int_equal(l->ns.entries[1].type, NS_NET);
	assert_string_equal(l->ns.entries[1].path, "/run/netns/x");
	assert_null(l->ns.entries[0].path);
	assert_non_null(ns_find(&l->ns, NS_TIME));
	assert_null(ns_find(&l->ns, NS_IPC));
	assert_int_equal(l->ns.uid_maps[0].host_id, 1000);
	assert_int_equal(l->ns.gid_maps[0].size, 2);
	assert_true(l->ns.monotonic.set);
	assert_int_equal(l->ns.monotonic.secs, -10);
	assert_int_equal(l->ns.monotonic.nanosecs, 5);
	assert_int_equal(l->ns.boottime.secs, 3600);
	assert_int_equal(l->n_devices, 2);
	assert_int_equal(l->devices[0].type, 'c');
	assert_int_equal(l->devices[0].minor, 229);
	assert_true(l->devices[0].has_file_mode);
	assert_int_equal(l->devices[0].file_mode, 0666);
	assert_false(l->devices[1].has_uid);
	assert_string_equal(l->cgroups_path, "/ward/box");
	assert_string_equal(l->intel_rdt_clos_id, "guaranteed");
	assert_string_equal(l->sysctl[0].key, "net.ipv4.ip_forward");
	assert_string_equal(l->rootfs_propagation, "rslave");
	assert_string_equal(l->masked_paths[0], "/proc/kcore");
	assert_string_equal(l->readonly_paths[1], "/proc/bus");
	assert_string_equal(l->mount_label, "mlbl");
	assert_true(l->personality.set);
	assert_int_equal(l->personality.domain, PER_LINUX32);
}

static void full_config_resources_land_in_struct(void **state)
{
	_cleanup_spec_ struct spec *s = parse_ok(full_config);
	struct cgroup_resources *r = &s->linux_.resources;

	assert_true(s->linux_.has_resources);
	assert_int_equal(r->n_devices, 2);
	assert_false(r->devices[0].allow);
	assert_int_equal(r->devices[0].type, 'a');
	assert_false(r->devices[0].major.set);
	assert_int_equal(r->devices[1].minor.v, 229);
	assert_string_equal(r->devices[1].access, "rw");
	assert_true(r->memory.limit.set);
	assert_int_equal(r->memory.limit.v, 536870912);
	assert_int_equal(r->memory.swap.v, -1);
	assert_false(r->memory.kernel.set);
	assert_true(r->memory.disable_oom_killer);
	assert_int_equal(r->memory.swappiness.v, 10);
	assert_int_equal(r->cpu.shares.v, 512);
	assert_int_equal(r->cpu.quota.v, 50000);
	assert_int_equal(r->cpu.burst.v, 1000);
	assert_string_equal(r->cpu.cpus, "0-1");
	assert_int_equal(r->cpu.idle.v, 1);
	assert_int_equal(r->pids.limit.v, 64);
	assert_int_equal(r->block_io.weight.v, 500);
	assert_int_equal(r->block_io.weight_device[0].weight.v, 600);
	assert_false(r->block_io.weight_device[0].leaf_weight.set);
	assert_int_equal(r->block_io.throttle_read_bps[0].rate, 1048576);
	assert_int_equal(r->block_io.throttle_write_bps[0].minor, 16);
	assert_int_equal(r->block_io.throttle_read_iops[0].rate, 3);
	assert_int_equal(r->block_io.throttle_write_iops[0].rate, 4);
	assert_string_equal(r->hugepage_limits[0].page_size, "2MB");
	assert_int_equal(r->network.class_id.v, 1048577);
	assert_string_equal(r->network.priorities[0].name, "eth0");
	assert_string_equal(r->rdma[0].key, "mlx5_1");
	assert_string_equal(r->rdma[0].value, "hca_handle=3 hca_object=10000");
	assert_string_equal(r->unified[0].key, "memory.high");
	assert_string_equal(r->unified[0].value, "1G");
}

static void full_config_seccomp_lands_in_struct(void **state)
{
	_cleanup_spec_ struct spec *s = parse_ok(full_config);
	struct seccomp_config *c = &s->linux_.seccomp;

	assert_true(s->linux_.has_seccomp);
	assert_string_equal(c->default_action, "SCMP_ACT_ERRNO");
	assert_true(c->has_default_errno_ret);
	assert_int_equal(c->default_errno_ret, 1);
	assert_string_equal(c->architectures[1], "SCMP_ARCH_AARCH64");
	assert_string_equal(c->flags[0], "SECCOMP_FILTER_FLAG_LOG");
	assert_string_equal(c->listener_path, "/run/seccomp.sock");
	assert_string_equal(c->listener_metadata, "meta");
	assert_int_equal(c->n_syscalls, 2);
	assert_string_equal(c->syscalls[0].names[1], "write");
	assert_false(c->syscalls[0].has_errno_ret);
	assert_int_equal(c->syscalls[1].errno_ret, 38);
	assert_int_equal(c->syscalls[1].n_args, 1);
	assert_int_equal(c->syscalls[1].args[0].value, 8);
	assert_string_equal(c->syscalls[1].args[0].op, "SCMP_CMP_EQ");
}

static void minimal_config_parses_with_defaults(void **state)
{
	_cleanup_spec_ struct spec *s = parse_ok(MINIMAL_HEAD MINIMAL_PROCESS "}");

	assert_string_equal(s->process.args[0], "sh");
	assert_non_null(s->process.env);
	assert_null(s->process.env[0]);
	assert_false(s->process.terminal);
	assert_false(s->process.has_caps);
	assert_false(s->root_readonly);
	assert_false(s->has_linux);
	assert_int_equal(s->n_mounts, 0);
	assert_null(s->hostname);
}

static void unknown_fields_are_ignored_at_every_level(void **state)
{
	_cleanup_spec_ struct spec *s = parse_ok(
		"{\"ociVersion\": \"1.0.0\", \"foo\": 1, \"root\": {\"path\": \"r\", \"bar\": []},"
		" \"process\": {\"args\": [\"a\"], \"cwd\": \"/\", \"baz\": {\"q\": null},"
		"  \"user\": {\"uid\": 1, \"x\": true}},"
		" \"linux\": {\"newThing\": {}, \"namespaces\": [{\"type\": \"ipc\", \"extra\": "
		"1}],"
		"  \"resources\": {\"future\": {\"a\": 1}, \"pids\": {\"limit\": 5, \"more\": 2}}},"
		" \"windows\": {\"layerFolders\": []}, \"hostname\": null}");

	assert_int_equal(s->process.user.uid, 1);
	assert_int_equal(s->linux_.ns.entries[0].type, NS_IPC);
	assert_int_equal(s->linux_.resources.pids.limit.v, 5);
	assert_null(s->hostname);
}

static void invalid_json_is_reported_as_such(void **state)
{
	expect_error("{\"ociVersion\": ", "config.json: invalid JSON: ");
	expect_error("{\"ociVersion\": \"1.2.0\",}", "config.json: invalid JSON: ");
	expect_error("", "config.json: invalid JSON");
	expect_error("[1]", "config.json: expected a JSON object");
}

static void missing_required_fields_are_named(void **state)
{
	expect_error("{\"root\": {\"path\": \"r\"}, " MINIMAL_PROCESS "}",
		     "config.json: ociVersion: required");
	expect_error("{\"ociVersion\": \"1.2.0\", \"root\": {}, " MINIMAL_PROCESS "}",
		     "config.json: root.path: required");
	expect_error("{\"ociVersion\": \"1.2.0\", " MINIMAL_PROCESS "}",
		     "config.json: root: required");
	expect_error(MINIMAL_HEAD "\"hostname\": \"x\"}", "config.json: process: required");
	expect_error(MINIMAL_HEAD MINIMAL_PROCESS ", \"mounts\": [{\"destination\": \"/a\"}, {}]}",
		     "config.json: mounts[1].destination: required");
	expect_process_error("{\"args\": [\"sh\"]}", "config.json: process.cwd: required");
}

static void bad_namespaces_are_rejected(void **state)
{
	expect_linux_error("{\"namespaces\": [{\"type\": \"pid\"}, {\"type\": \"ipc\"},"
			   " {\"type\": \"foo\"}]}",
			   "config.json: linux.namespaces[2].type: unknown namespace \"foo\"");
	expect_linux_error("{\"namespaces\": [{\"type\": \"pid\"}, {\"type\": \"pid\"}]}",
			   "config.json: linux.namespaces[1].type: duplicate namespace \"pid\"");
	expect_linux_error("{\"namespaces\": [{}]}",
			   "config.json: linux.namespaces[0].type: required");
	expect_linux_error("{\"namespaces\": [\"pid\"]}",
			   "config.json: linux.namespaces[0]: expected an object");
}

static void bad_process_fields_are_rejected(void **state)
{
	expect_process_error("{\"args\": [], \"cwd\": \"/\"}",
			     "config.json: process.args: must be a non-empty array of strings");
	expect_process_error("{\"cwd\": \"/\"}",
			     "config.json: process.args: must be a non-empty array of strings");
	expect_process_error("{\"args\": [\"sh\", 3], \"cwd\": \"/\"}",
			     "config.json: process.args[1]: expected a string");
	expect_process_error("{\"args\": [\"sh\"], \"cwd\": \"srv\"}",
			     "config.json: process.cwd: must be an absolute path");
	expect_process_error("{\"args\": [\"sh\"], \"cwd\": \"/\", \"user\": {\"uid\": -1}}",
			     "config.json: process.user.uid: expected a non-negative integer");
	expect_process_error(
		"{\"args\": [\"sh\"], \"cwd\": \"/\", \"user\": {\"gid\": 4294967296}}",
		"config.json: process.user.gid: 4294967296 out of range");
	expect_process_error(
		"{\"args\": [\"sh\"], \"cwd\": \"/\","
		" \"rlimits\": [{\"type\": \"RLIMIT_FOO\", \"soft\": 1, \"hard\": 1}]}",
		"config.json: process.rlimits[0].type: unknown rlimit \"RLIMIT_FOO\"");
	expect_process_error("{\"args\": [\"sh\"], \"cwd\": \"/\", \"rlimits\": ["
			     " {\"type\": \"RLIMIT_AS\", \"soft\": 1, \"hard\": 1},"
			     " {\"type\": \"RLIMIT_AS\", \"soft\": 2, \"hard\": 2}]}",
			     "config.json: process.rlimits[1]: duplicate rlimit \"RLIMIT_AS\"");
	expect_process_error("{\"args\": [\"sh\"], \"cwd\": \"/\", \"capabilities\":"
			     " {\"bounding\": [\"CAP_KILL\", \"CAP_FOO\"]}}",
			     "config.json: process.capabilities.bounding[1]: unknown capability "
			     "\"CAP_FOO\"");
	expect_process_error(
		"{\"args\": [\"sh\"], \"cwd\": \"/\", \"scheduler\": {\"policy\": \"X\"}}",
		"config.json: process.scheduler.policy: unknown scheduler policy \"X\"");
	expect_process_error(
		"{\"args\": [\"sh\"], \"cwd\": \"/\", \"ioPriority\": {\"class\": \"Y\"}}",
		"config.json: process.ioPriority.class: unknown I/O priority class");
	expect_process_error(
		"{\"args\": [\"sh\"], \"cwd\": \"/\", \"scheduler\": {\"policy\":"
		" \"SCHED_FIFO\", \"flags\": [\"SCHED_FLAG_RECLAIM\", \"SCHED_FLAG_NO\"]}}",
		"config.json: process.scheduler.flags[1]: unknown scheduler flag");
	expect_process_error("{\"args\": [\"sh\"], \"cwd\": \"/\", \"oomScoreAdj\": 1001}",
			     "config.json: process.oomScoreAdj: 1001 out of range");
}

static void wrong_json_types_are_named(void **state)
{
	expect_process_error("{\"args\": [\"sh\"], \"cwd\": \"/\", \"terminal\": \"yes\"}",
			     "config.json: process.terminal: expected a boolean");
	expect_process_error("{\"args\": [\"sh\"], \"cwd\": 1}",
			     "config.json: process.cwd: expected a string");
	expect_process_error("{\"args\": [\"sh\"], \"cwd\": \"/\", \"user\": []}",
			     "config.json: process.user: expected an object");
	expect_process_error("{\"args\": [\"sh\"], \"cwd\": \"/\", \"env\": \"A=b\"}",
			     "config.json: process.env: expected an array");
	expect_process_error("{\"args\": [\"sh\"], \"cwd\": \"/\", \"user\": {\"uid\": 1.5}}",
			     "config.json: process.user.uid: expected an integer");
	expect_error("{\"ociVersion\": 1, \"root\": {\"path\": \"r\"}, " MINIMAL_PROCESS "}",
		     "config.json: ociVersion: expected a string");
	expect_error(MINIMAL_HEAD MINIMAL_PROCESS ", \"linux\": []}",
		     "config.json: linux: expected an object");
	expect_error(MINIMAL_HEAD MINIMAL_PROCESS ", \"annotations\": {\"a\": 1}}",
		     "config.json: annotations.a: expected a string");
	expect_linux_error("{\"resources\": {\"memory\": {\"limit\": \"1G\"}}}",
			   "config.json: linux.resources.memory.limit: expected an integer");
}

static void bad_seccomp_names_are_rejected(void **state)
{
	expect_linux_error("{\"seccomp\": {\"defaultAction\": \"X\"}}",
			   "config.json: linux.seccomp.defaultAction: unknown action \"X\"");
	expect_linux_error("{\"seccomp\": {}}",
			   "config.json: linux.seccomp.defaultAction: required");
	expect_linux_error(
		"{\"seccomp\": {\"defaultAction\": \"SCMP_ACT_ALLOW\","
		" \"architectures\": [\"X\"]}}",
		"config.json: linux.seccomp.architectures[0]: unknown architecture \"X\"");
	expect_linux_error("{\"seccomp\": {\"defaultAction\": \"SCMP_ACT_ALLOW\","
			   " \"flags\": [\"SECCOMP_FILTER_FLAG_NOPE\"]}}",
			   "config.json: linux.seccomp.flags[0]: unknown flag");
	expect_linux_error(
		"{\"seccomp\": {\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": ["
		" {\"names\": [\"a\"], \"action\": \"SCMP_ACT_LOG\"},"
		" {\"names\": [\"b\"], \"action\": \"SCMP_ACT_LOG\"},"
		" {\"names\": [\"c\"], \"action\": \"SCMP_ACT_LOG\"},"
		" {\"names\": [\"d\"], \"action\": \"SCMP_ACT_KILL\", \"args\": ["
		"  {\"index\": 1, \"value\": 2, \"op\": \"X\"}]}]}}",
		"config.json: linux.seccomp.syscalls[3].args[0].op: unknown operator \"X\"");
	expect_linux_error(
		"{\"seccomp\": {\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": ["
		" {\"names\": [], \"action\": \"SCMP_ACT_LOG\"}]}}",
		"config.json: linux.seccomp.syscalls[0].names: must be a non-empty array");
	expect_linux_error("{\"seccomp\": {\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": ["
			   " {\"names\": [\"a\"], \"action\": \"SCMP_ACT_NOPE\"}]}}",
			   "config.json: linux.seccomp.syscalls[0].action: unknown action");
}

static void bad_devices_hooks_and_paths_are_rejected(void **state)
{
	expect_linux_error("{\"devices\": [{\"type\": \"x\", \"path\": \"/dev/x\"}]}",
			   "config.json: linux.devices[0].type: invalid device type \"x\"");
	expect_linux_error("{\"devices\": [{\"type\": \"c\", \"path\": \"/dev/x\", \"major\": 1}]}",
			   "config.json: linux.devices[0].minor: required");
	expect_linux_error("{\"devices\": [{\"type\": \"b\", \"path\": \"dev/x\", \"major\": 1,"
			   " \"minor\": 2}]}",
			   "config.json: linux.devices[0].path: must be an absolute path");
	expect_error(MINIMAL_HEAD MINIMAL_PROCESS
		     ", \"hooks\": {\"prestart\": [{\"path\": \"/bin/x\", \"timeout\": 0}]}}",
		     "config.json: hooks.prestart[0].timeout: must be greater than zero");
	expect_error(MINIMAL_HEAD MINIMAL_PROCESS ", \"hooks\": {\"poststop\": [{\"args\": []}]}}",
		     "config.json: hooks.poststop[0].path: required");
	expect_linux_error(
		"{\"rootfsPropagation\": \"sideways\"}",
		"config.json: linux.rootfsPropagation: unknown propagation \"sideways\"");
	expect_linux_error("{\"personality\": {\"domain\": \"BSD\"}}",
			   "config.json: linux.personality.domain: unknown personality domain");
	expect_linux_error("{\"timeOffsets\": {\"boottime\": {\"nanosecs\": 1000000000}}}",
			   "config.json: linux.timeOffsets.boottime.nanosecs: must be less than");
	expect_linux_error(
		"{\"resources\": {\"devices\": [{\"allow\": true, \"access\": \"rwx\"}]}}",
		"config.json: linux.resources.devices[0].access: invalid access");
	expect_linux_error("{\"uidMappings\": [{\"containerID\": 0, \"hostID\": 1}]}",
			   "config.json: linux.uidMappings[0].size: required");
}

static void process_document_parses_alone(void **state)
{
	static const char json[] = "{\"args\": [\"ls\"], \"cwd\": \"/tmp\", \"terminal\": true}";
	static const char bad[] = "{\"args\": [\"ls\"], \"cwd\": \"tmp\"}";
	_cleanup_werr_ struct werr *err = NULL;
	struct spec_process p;

	assert_int_equal(spec_parse_process(json, strlen(json), "process.json", &p, &err), 0);
	assert_string_equal(p.args[0], "ls");
	assert_true(p.terminal);
	spec_process_free(&p);
	assert_true(spec_parse_process(bad, strlen(bad), "process.json", &p, &err) < 0);
	assert_string_equal(err->msg, "process.json: cwd: must be an absolute path");
	assert_null(p.cwd);
}

static void load_reads_config_from_bundle_and_names_it(void **state)
{
	char dir[] = "/tmp/ward-test-spec-XXXXXX";
	_cleanup_free_ char *path = NULL;
	_cleanup_werr_ struct werr *err = NULL;
	struct spec *s = NULL;
	FILE *f;

	assert_non_null(mkdtemp(dir));
	assert_true(spec_load(dir, &s, &err) < 0);
	assert_non_null(strstr(err->msg, "config.json"));
	assert_non_null(strstr(err->msg, dir));
	werr_free(&err);
	path = xasprintf("%s/config.json", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(MINIMAL_HEAD MINIMAL_PROCESS "}", f);
	fclose(f);
	assert_int_equal(spec_load(dir, &s, &err), 0);
	assert_string_equal(s->root_path, "rootfs");
	spec_free(s);
	s = NULL;
	f = fopen(path, "w");
	fputs("{", f);
	fclose(f);
	assert_true(spec_load(dir, &s, &err) < 0);
	assert_non_null(strstr(err->msg, "config.json: invalid JSON"));
	unlink(path);
	rmdir(dir);
}

static bool has_namespace(const struct spec *s, enum ns_type t)
{
	return ns_find(&s->linux_.ns, t) != NULL;
}

static void default_spec_reparses_with_runc_namespaces(void **state)
{
	_cleanup_free_ char *json = spec_default_json(false);
	_cleanup_spec_ struct spec *s = parse_ok(json);

	assert_string_equal(s->oci_version, "1.2.0");
	assert_true(s->process.terminal);
	assert_string_equal(s->process.args[0], "sh");
	assert_int_equal(strv_len(s->process.caps.bounding), 3);
	assert_int_equal(s->process.rlimits[0].soft, 1024);
	assert_int_equal(s->n_mounts, 7);
	assert_string_equal(s->mounts[5].type, "sysfs");
	assert_true(has_namespace(s, NS_PID));
	assert_true(has_namespace(s, NS_NET));
	assert_true(has_namespace(s, NS_CGROUP));
	assert_false(has_namespace(s, NS_USER));
	assert_true(s->linux_.has_resources);
	assert_false(s->linux_.resources.devices[0].allow);
	assert_int_equal(s->linux_.ns.n_uid_maps, 0);
}

static void rootless_spec_maps_current_user_without_netns(void **state)
{
	_cleanup_free_ char *json = spec_default_json(true);
	_cleanup_spec_ struct spec *s = parse_ok(json);

	assert_true(has_namespace(s, NS_USER));
	assert_false(has_namespace(s, NS_NET));
	assert_int_equal(s->linux_.ns.n_uid_maps, 1);
	assert_int_equal(s->linux_.ns.uid_maps[0].host_id, geteuid());
	assert_int_equal(s->linux_.ns.gid_maps[0].host_id, getegid());
	assert_string_equal(s->mounts[5].options[0], "rbind");
	assert_null(strstr(json, "gid=5"));
	assert_false(s->linux_.has_resources);
}

static bool array_contains(yajl_val arr, const char *s)
{
	for (size_t i = 0; YAJL_IS_ARRAY(arr) && i < arr->u.array.len; i++) {
		yajl_val v = arr->u.array.values[i];

		if (YAJL_IS_STRING(v) && strcmp(v->u.string, s) == 0)
			return true;
	}
	return false;
}

static void features_document_is_valid_json_listing_what_ward_supports(void **state)
{
	_cleanup_free_ char *json = spec_features_json();
	static const char *opts[] = {"mountOptions", NULL};
	static const char *nss[] = {"linux", "namespaces", NULL};
	static const char *caps[] = {"linux", "capabilities", NULL};
	static const char *archs[] = {"linux", "seccomp", "archs", NULL};
	static const char *idmap[] = {"linux", "mountExtensions", "idmap", "enabled", NULL};
	static const char *max[] = {"ociVersionMax", NULL};
	char ebuf[256];
	yajl_val t = yajl_tree_parse(json, ebuf, sizeof(ebuf));

	assert_non_null(t);
	assert_true(array_contains(yajl_tree_get(t, opts, yajl_t_array), "rbind"));
	assert_true(array_contains(yajl_tree_get(t, opts, yajl_t_array), "ridmap"));
	assert_false(array_contains(yajl_tree_get(t, opts, yajl_t_array), "acl"));
	assert_true(array_contains(yajl_tree_get(t, nss, yajl_t_array), "time"));
	assert_true(array_contains(yajl_tree_get(t, caps, yajl_t_array), "CAP_CHECKPOINT_RESTORE"));
	assert_true(array_contains(yajl_tree_get(t, archs, yajl_t_array), "SCMP_ARCH_RISCV64"));
	assert_true(YAJL_IS_TRUE(yajl_tree_get(t, idmap, yajl_t_true)));
	assert_string_equal(YAJL_GET_STRING(yajl_tree_get(t, max, yajl_t_string)), "1.2.0");
	yajl_tree_free(t);
}

static void ns_names_round_trip(void **state)
{
	static const char *const proc[] = {"pid", "net",  "mnt",    "ipc",
					   "uts", "user", "cgroup", "time"};

	for (int t = 0; t < NS_COUNT; t++) {
		assert_int_equal(ns_type_from_name(ns_type_name((enum ns_type)t)), t);
		assert_string_equal(ns_proc_name((enum ns_type)t), proc[t]);
		assert_true(ns_clone_flag((enum ns_type)t) != 0);
	}
	assert_int_equal(ns_type_from_name("network"), NS_NET);
	assert_int_equal(ns_type_from_name("net"), -1);
	assert_null(ns_type_name(NS_COUNT));
}

static void cap_and_rlimit_tables_know_every_name(void **state)
{
	assert_int_equal(spec_cap_from_name("CAP_CHOWN"), 0);
	assert_int_equal(spec_cap_from_name("CAP_PERFMON"), 38);
	assert_int_equal(spec_cap_from_name("CAP_BPF"), 39);
	assert_int_equal(spec_cap_from_name("CAP_CHECKPOINT_RESTORE"), 40);
	assert_int_equal(spec_cap_from_name("CAP_FOO"), -1);
	assert_int_equal(spec_cap_from_name("cap_chown"), -1);
	assert_int_equal(spec_rlimit_from_name("RLIMIT_NOFILE"), RLIMIT_NOFILE);
	assert_int_equal(spec_rlimit_from_name("RLIMIT_RTTIME"), RLIMIT_RTTIME);
	assert_int_equal(spec_rlimit_from_name("NOFILE"), -1);
}

static void seccomp_name_tables_accept_spec_names_only(void **state)
{
	assert_true(seccomp_action_known("SCMP_ACT_KILL_PROCESS"));
	assert_true(seccomp_action_known("SCMP_ACT_NOTIFY"));
	assert_false(seccomp_action_known("SCMP_ACT_NOPE"));
	assert_true(seccomp_arch_known("SCMP_ARCH_PARISC64"));
	assert_false(seccomp_arch_known("x86_64"));
	assert_true(seccomp_op_known("SCMP_CMP_MASKED_EQ"));
	assert_false(seccomp_op_known("SCMP_CMP_XX"));
	assert_true(seccomp_flag_known("SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"));
	assert_false(seccomp_flag_known("SECCOMP_FILTER_FLAG_NEW_LISTENER"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(full_config_process_lands_in_struct),
		cmocka_unit_test(full_config_top_level_lands_in_struct),
		cmocka_unit_test(full_config_linux_lands_in_struct),
		cmocka_unit_test(full_config_resources_land_in_struct),
		cmocka_unit_test(full_config_seccomp_lands_in_struct),
		cmocka_unit_test(minimal_config_parses_with_defaults),
		cmocka_unit_test(unknown_fields_are_ignored_at_every_level),
		cmocka_unit_test(invalid_json_is_reported_as_such),
		cmocka_unit_test(missing_required_fields_are_named),
		cmocka_unit_test(bad_namespaces_are_rejected),
		cmocka_unit_test(bad_process_fields_are_rejected),
		cmocka_unit_test(wrong_json_types_are_named),
		cmocka_unit_test(bad_seccomp_names_are_rejected),
		cmocka_unit_test(bad_devices_hooks_and_paths_are_rejected),
		cmocka_unit_test(process_document_parses_alone),
		cmocka_unit_test(load_reads_config_from_bundle_and_names_it),
		cmocka_unit_test(default_spec_reparses_with_runc_namespaces),
		cmocka_unit_test(rootless_spec_maps_current_user_without_netns),
		cmocka_unit_test(features_document_is_valid_json_listing_what_ward_supports),
		cmocka_unit_test(ns_names_round_trip),
		cmocka_unit_test(cap_and_rlimit_tables_know_every_name),
		cmocka_unit_test(seccomp_name_tables_accept_spec_names_only),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
