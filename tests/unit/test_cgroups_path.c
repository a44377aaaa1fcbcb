/* cgroups/ path rules and runtime/'s effective device rules. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cgroups/cgroups.h"
#include "lib/err.h"
#include "runtime/cgroup.h"

static void resolve(const char *cgroups_path, const char *id, const char *want)
{
	struct werr *err = NULL;
	char *out = NULL;

	assert_int_equal(cgroup_resolve_path(cgroups_path, id, &out, &err), 0);
	assert_string_equal(out, want);
	assert_null(err);
	free(out);
}

static void default_path_is_ward_slash_id(void **state)
{
	resolve(NULL, "c1", "/ward/c1");
	resolve("", "abc.d", "/ward/abc.d");
}

static void absolute_path_is_cleaned_not_moved(void **state)
{
	resolve("/machine/pod1/ctr", "x", "/machine/pod1/ctr");
	resolve("//a///b/./c/", "x", "/a/b/c");
}

static void relative_path_lands_below_an_absolute_parent(void **state)
{
	struct werr *err = NULL;
	char *out = NULL;

	assert_int_equal(cgroup_resolve_path("pod/ctr", "x", &out, &err), 0);
	assert_true(out[0] == '/');
	assert_non_null(strstr(out, "/pod/ctr"));
	assert_int_equal(strlen(strstr(out, "/pod/ctr")), strlen("/pod/ctr"));
	free(out);
}

static void dotdot_and_systemd_paths_are_refused_naming_the_field(void **state)
{
	static const char *bad[] = { "/a/../../etc", "..", "a/../b", "system.slice:ward:c1" };

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct werr *err = NULL;
		char *out = NULL;

		assert_int_equal(cgroup_resolve_path(bad[i], "x", &out, &err), -EINVAL);
		assert_null(out);
		assert_non_null(err);
		assert_non_null(strstr(err->msg, "linux.cgroupsPath"));
		werr_free(&err);
	}
}

static void root_cgroup_is_not_a_container_cgroup(void **state)
{
	struct werr *err = NULL;
	struct cgroup *cg = NULL;

	assert_int_equal(cgroup_open(&cg, "/", &err), -EINVAL);
	assert_null(cg);
	assert_non_null(strstr(err->msg, "root cgroup"));
	werr_free(&err);
}

static void no_device_rules_still_deny_all_but_the_defaults(void **state)
{
	struct spec s = { 0 };
	struct cg_device_rule *r;
	size_t n = 0;

	r = container_device_rules(&s, &n);
	assert_non_null(r);
	assert_true(n > 1);
	assert_false(r[0].allow);
	assert_int_equal(r[0].type, 'a');
	for (size_t i = 1; i < n; i++)
		assert_true(r[i].allow);
	free(r);
}

static void device_rules_end_with_defaults_and_linux_devices(void **state)
{
	struct cg_device_rule deny = { false, 'a', { 0 }, { 0 }, (char *)"rwm" };
	struct device_spec dev = { .path = (char *)"/dev/fuse", .type = 'c', .major = 10,
				   .minor = 229 };
	struct spec s = { 0 };
	struct cg_device_rule *r;
	size_t n = 0;

	s.linux_.resources.devices = &deny;
	s.linux_.resources.n_devices = 1;
	s.linux_.devices = &dev;
	s.linux_.n_devices = 1;
	r = container_device_rules(&s, &n);
	assert_non_null(r);
	assert_true(n > 3);
	/* deny-all first, then the config's deny-all: later (default) allows override them */
	assert_false(r[0].allow);
	assert_false(r[1].allow);
	assert_int_equal(r[1].type, 'a');
	/* /dev/null is among the defaults */
	bool null_ok = false;
	for (size_t i = 1; i < n; i++)
		null_ok |= r[i].allow && r[i].type == 'c' && r[i].major.v == 1 && r[i].minor.v == 3;
	assert_true(null_ok);
	/* the config's own device comes last, allowed rwm */
	assert_true(r[n - 1].allow);
	assert_int_equal(r[n - 1].major.v, 10);
	assert_int_equal(r[n - 1].minor.v, 229);
	assert_string_equal(r[n - 1].access, "rwm");
	free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(default_path_is_ward_slash_id),
		cmocka_unit_test(absolute_path_is_cleaned_not_moved),
		cmocka_unit_test(relative_path_lands_below_an_absolute_parent),
		cmocka_unit_test(dotdot_and_systemd_paths_are_refused_naming_the_field),
		cmocka_unit_test(root_cgroup_is_not_a_container_cgroup),
		cmocka_unit_test(no_device_rules_still_deny_all_but_the_defaults),
		cmocka_unit_test(device_rules_end_with_defaults_and_linux_devices),
	};

	return cmocka_run_group_tests_name("test_cgroups_path", tests, NULL, NULL);
}
