/* ns/: id map parsing and formatting, namespace name tables. */
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "lib/err.h"
#include "ns/ns.h"

static void id_map_parses_container_host_size(void **state)
{
	struct werr *err = NULL;
	struct id_map m;

	assert_int_equal(ns_parse_id_map("0:100000:65536", &m, &err), 0);
	assert_int_equal(m.container_id, 0);
	assert_int_equal(m.host_id, 100000);
	assert_int_equal(m.size, 65536);
	assert_null(err);
}

static void id_map_rejects_malformed_text_naming_it(void **state)
{
	static const char *bad[] = { "", "1:2", "1:2:3:4", "a:b:c", "0:0:0", "-1:0:1", "0:0:1x",
				     "0:99999999999:1" };

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct werr *err = NULL;
		struct id_map m;

		assert_true(ns_parse_id_map(bad[i], &m, &err) < 0);
		assert_non_null(err);
		assert_non_null(strstr(err->msg, bad[i]));
		werr_free(&err);
	}
}

static void id_maps_format_as_kernel_uid_map_lines(void **state)
{
	struct id_map maps[] = { { 0, 1000, 1 }, { 1, 100000, 65535 } };
	char *text = ns_format_id_maps(maps, 2);

	assert_string_equal(text, "0 1000 1\n1 100000 65535\n");
	free(text);
	text = ns_format_id_maps(NULL, 0);
	assert_string_equal(text, "");
	free(text);
}

static void namespace_names_map_to_clone_flags_and_proc_files(void **state)
{
	assert_int_equal(ns_type_from_name("network"), NS_NET);
	assert_int_equal(ns_clone_flag(NS_NET), CLONE_NEWNET);
	assert_string_equal(ns_proc_name(NS_NET), "net");
	assert_int_equal(ns_type_from_name("mount"), NS_MNT);
	assert_string_equal(ns_proc_name(NS_MNT), "mnt");
	assert_int_equal(ns_clone_flag(NS_USER), CLONE_NEWUSER);
	assert_int_equal(ns_type_from_name("time"), NS_TIME);
	assert_int_equal(ns_type_from_name("foo"), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(id_map_parses_container_host_size),
		cmocka_unit_test(id_map_rejects_malformed_text_naming_it),
		cmocka_unit_test(id_maps_format_as_kernel_uid_map_lines),
		cmocka_unit_test(namespace_names_map_to_clone_flags_and_proc_files),
	};

	return cmocka_run_group_tests_name("ns", tests, NULL, NULL);
}
