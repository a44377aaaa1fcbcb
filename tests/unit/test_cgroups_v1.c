/* cgroups/ v1 backend: mountinfo discovery, device rules, write orders, blkio text, ticks. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cgroups/v1_int.h"

/* A hybrid host: cpu,cpuacct co-mounted, a named systemd hierarchy, cgroup2, a bind mount of
 * the memory hierarchy elsewhere, optional fields ("shared:9") and an escaped space. */
static const char mountinfo[] =
	"25 30 0:23 / /sys rw,nosuid,nodev,noexec,relatime shared:7 - sysfs sysfs rw\n"
	"31 25 0:27 / /sys/fs/cgroup ro,nosuid,nodev,noexec shared:9 - tmpfs tmpfs ro,mode=755\n"
	"32 31 0:28 / /sys/fs/cgroup/unified rw,nosuid shared:10 - cgroup2 cgroup2 rw,nsdelegate\n"
	"33 31 0:29 / /sys/fs/cgroup/systemd rw,nosuid shared:11 - cgroup cgroup rw,xattr,"
	"name=systemd\n"
	"36 31 0:32 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid shared:16 - cgroup cgroup "
	"rw,cpu,cpuacct\n"
	"37 31 0:33 / /sys/fs/cgroup/memory rw,nosuid shared:17 - cgroup cgroup rw,memory\n"
	"38 31 0:34 / /sys/fs/cgroup/net_cls,net_prio rw shared:18 - cgroup cgroup "
	"rw,net_cls,net_prio\n"
	"39 31 0:35 / /sys/fs/cgroup/my\\040pids rw - cgroup cgroup rw,pids\n"
	"40 31 0:36 / /sys/fs/cgroup/cpuset rw - cgroup cgroup rw,cpuset,noprefix,"
	"release_agent=/x\n"
	"90 30 0:33 /sub /mnt/memory-again rw - cgroup cgroup rw,memory\n"
	"91 30 0:50 / /mnt/cgroupish rw - cgroupfs cgroupfs rw,freezer\n";

static void mountinfo_gives_one_hierarchy_per_mount_with_its_controllers(void **state)
{
	struct v1_mounts m;

	cgv1_parse_mountinfo(mountinfo, &m);
	assert_int_equal(m.n, 5);
	assert_string_equal(m.h[m.of[V1_CPU]].mnt, "/sys/fs/cgroup/cpu,cpuacct");
	assert_int_equal(m.of[V1_CPU], m.of[V1_CPUACCT]);
	assert_int_equal(m.h[m.of[V1_CPU]].ctrls, (1u << V1_CPU) | (1u << V1_CPUACCT));
	assert_string_equal(m.h[m.of[V1_MEMORY]].mnt, "/sys/fs/cgroup/memory");
	assert_int_equal(m.of[V1_NET_CLS], m.of[V1_NET_PRIO]);
	assert_string_equal(m.h[m.of[V1_PIDS]].mnt, "/sys/fs/cgroup/my pids");
	assert_string_equal(m.h[m.of[V1_CPUSET]].mnt, "/sys/fs/cgroup/cpuset");
	cgv1_mounts_free(&m);
}

static void mountinfo_skips_named_cgroup2_unmounted_and_non_cgroup(void **state)
{
	struct v1_mounts m;

	cgv1_parse_mountinfo(mountinfo, &m);
	for (size_t i = 0; i < m.n; i++) {
		assert_null(strstr(m.h[i].mnt, "systemd"));
		assert_null(strstr(m.h[i].mnt, "unified"));
		assert_null(strstr(m.h[i].mnt, "/mnt/"));
	}
	assert_int_equal(m.of[V1_FREEZER], -1); /* only on a "cgroupfs" mount */
	assert_int_equal(m.of[V1_DEVICES], -1);
	assert_int_equal(m.of[V1_HUGETLB], -1);
	cgv1_mounts_free(&m);

	cgv1_parse_mountinfo("", &m);
	assert_int_equal(m.n, 0);
	assert_int_equal(m.of[V1_MEMORY], -1);
	cgv1_parse_mountinfo("garbage\n1 2 3\n- cgroup\n", &m);
	assert_int_equal(m.n, 0);
}

static void device_rules_format_as_devices_allow_lines(void **state)
{
	struct cg_device_rule null = {true, 'c', {true, 1}, {true, 3}, "rwm"};
	struct cg_device_rule anyblock = {false, 'b', {false, 0}, {false, 0}, "r"};
	struct cg_device_rule tty = {true, 'c', {true, 136}, {false, 0}, NULL};
	struct cg_device_rule all = {false, 'a', {true, 5}, {true, 5}, "rwm"};
	char buf[64];

	assert_int_equal(cgv1_device_rule(&null, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "c 1:3 rwm");
	assert_int_equal(cgv1_device_rule(&anyblock, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "b *:* r");
	assert_int_equal(cgv1_device_rule(&tty, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "c 136:* rwm");
	assert_int_equal(cgv1_device_rule(&all, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "a");
}

static void device_rules_refuse_unknown_type_or_access(void **state)
{
	struct cg_device_rule badtype = {true, 'p', {true, 1}, {true, 3}, "rwm"};
	struct cg_device_rule badaccess = {true, 'c', {true, 1}, {true, 3}, "rwx"};
	char buf[64];

	assert_int_equal(cgv1_device_rule(&badtype, buf, sizeof(buf)), -EINVAL);
	assert_int_equal(cgv1_device_rule(&badaccess, buf, sizeof(buf)), -EINVAL);
}

static void memsw_goes_first_when_raising_and_last_when_lowering(void **state)
{
	const int64_t M = 1 << 20;

	/* raising 32M/64M -> 128M/256M: memsw first (128M limit would exceed the old 64M memsw) */
	assert_true(cgv1_memsw_first(32 * M, 256 * M));
	/* lowering 128M/256M -> 16M/20M: limit first (20M memsw is below the old 128M limit) */
	assert_false(cgv1_memsw_first(128 * M, 20 * M));
	/* fresh cgroup (unlimited limit) -> 32M/64M: limit first */
	assert_false(cgv1_memsw_first(-1, 64 * M));
	/* memsw unlimited always fits first */
	assert_true(cgv1_memsw_first(32 * M, -1));
	assert_true(cgv1_memsw_first(-1, -1));
	assert_true(cgv1_memsw_first(64 * M, 64 * M));
}

static void cfs_order_keeps_the_in_between_ratio_lowest(void **state)
{
	/* 20% -> 50% with a longer period: quota first would give 100000/100000 in between */
	assert_true(cgv1_cfs_period_first(20000, 100000, 100000, 200000));
	/* 50% (100000/200000) -> 20% (20000/100000): quota first leaves 20000/200000 */
	assert_false(cgv1_cfs_period_first(100000, 200000, 20000, 100000));
	/* from unlimited, quota first leaves a finite ratio in between; to unlimited, period
	 * first keeps the old finite quota until the end */
	assert_false(cgv1_cfs_period_first(-1, 100000, 20000, 50000));
	assert_true(cgv1_cfs_period_first(20000, 100000, -1, 50000));
	assert_true(cgv1_cfs_period_first(-1, 100000, -1, 50000));
}

static void blkio_device_values_are_major_minor_space_value(void **state)
{
	char buf[64];

	cgv1_blkio_dev(buf, sizeof(buf), 8, 0, 1048576);
	assert_string_equal(buf, "8:0 1048576");
	cgv1_blkio_dev(buf, sizeof(buf), 254, 16, 500);
	assert_string_equal(buf, "254:16 500");
}

static void blkio_stats_parse_device_lines_and_skip_total(void **state)
{
	struct cg_blkio_entry *e = NULL;
	size_t n = 0;

	cgv1_parse_blkio("254:0 Read 4096\n254:0 Write 8192\n254:0 Sync 1\n"
			 "254:0 Async 12287\n254:0 Discard 0\n254:0 Total 12288\nTotal 12288\n",
			 &e, &n);
	assert_int_equal(n, 6);
	assert_int_equal(e[0].major, 254);
	assert_int_equal(e[0].minor, 0);
	assert_string_equal(e[0].op, "Read");
	assert_int_equal(e[0].value, 4096);
	assert_string_equal(e[1].op, "Write");
	assert_int_equal(e[1].value, 8192);
	assert_string_equal(e[5].op, "Total");
	free(e);
	cgv1_parse_blkio("Total 0\n", &e, &n);
	assert_int_equal(n, 0);
	free(e);
}

static void cpuacct_ticks_become_nanoseconds(void **state)
{
	assert_int_equal(cgv1_ticks_to_ns(18, 100), 180000000ULL);
	assert_int_equal(cgv1_ticks_to_ns(250, 250), 1000000000ULL);
	assert_int_equal(cgv1_ticks_to_ns(0, 100), 0);
}

static void v1_unlimited_memory_reads_as_uint64_max(void **state)
{
	assert_true(cgv1_mem_limit(9223372036854771712ULL) == UINT64_MAX);
	assert_int_equal(cgv1_mem_limit(33554432), 33554432);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(mountinfo_gives_one_hierarchy_per_mount_with_its_controllers),
		cmocka_unit_test(mountinfo_skips_named_cgroup2_unmounted_and_non_cgroup),
		cmocka_unit_test(device_rules_format_as_devices_allow_lines),
		cmocka_unit_test(device_rules_refuse_unknown_type_or_access),
		cmocka_unit_test(memsw_goes_first_when_raising_and_last_when_lowering),
		cmocka_unit_test(cfs_order_keeps_the_in_between_ratio_lowest),
		cmocka_unit_test(blkio_device_values_are_major_minor_space_value),
		cmocka_unit_test(blkio_stats_parse_device_lines_and_skip_total),
		cmocka_unit_test(cpuacct_ticks_become_nanoseconds),
		cmocka_unit_test(v1_unlimited_memory_reads_as_uint64_max),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
