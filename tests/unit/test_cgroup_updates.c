/* ward update's record (runtime/cgroup_updates.c): what checkpoint carries into an image and
 * restore applies again. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "lib/err.h"
#include "lib/util.h"
#include "runtime/cgroup.h"
#include "runtime/spec_json.h"
#include "runtime/spec_parse.h"

static int parse(const char *json, struct cgroup_resources *res)
{
	struct werr *err = NULL;
	struct jctx c = {.what = "test", .err = &err};
	int r = jparse_object(&c, json, strlen(json), spec_parse_resources, res);

	werr_free(&err);
	return r;
}

/* The flags' object reads back as the same resources, and is one line. */
static void flags_json_reads_back_as_the_same_update(void **state)
{
	struct cgroup_resources in = {0}, out = {0};
	char *json;

	in.memory.limit = (struct opt_i64){true, 100663296};
	in.memory.swap = (struct opt_i64){true, -1};
	in.cpu.quota = (struct opt_i64){true, 20000};
	in.cpu.period = (struct opt_u64){true, 100000};
	in.cpu.cpus = "0-1";
	in.pids.limit = (struct opt_i64){true, 33};
	in.block_io.weight = (struct opt_u64){true, 500};
	json = cgroup_update_flags_json(&in);
	assert_null(strchr(json, '\n'));
	assert_int_equal(parse(json, &out), 0);
	assert_true(out.memory.limit.set);
	assert_int_equal(out.memory.limit.v, 100663296);
	assert_int_equal(out.memory.swap.v, -1);
	assert_false(out.memory.reservation.set);
	assert_int_equal(out.cpu.quota.v, 20000);
	assert_int_equal(out.cpu.period.v, 100000);
	assert_false(out.cpu.shares.set);
	assert_string_equal(out.cpu.cpus, "0-1");
	assert_null(out.cpu.mems);
	assert_int_equal(out.pids.limit.v, 33);
	assert_int_equal(out.block_io.weight.v, 500);
	cgroup_resources_free(&out);
	free(json);
}

/* Each record is one line, a multi-line --resources document included; a bad line is named
 * by its file and number before anything is applied. */
static void records_are_lines_and_a_bad_one_is_named(void **state)
{
	char dir[] = "/tmp/ward-unit-upd.XXXXXX";
	struct werr *err = NULL;
	char *path, *text = NULL;
	size_t len;

	assert_non_null(mkdtemp(dir));
	assert_int_equal(cgroup_update_record(dir, "{\n\t\"pids\": {\"limit\": 44}\n}\n", &err), 0);
	assert_int_equal(cgroup_update_record(dir, "{\"memory\": {\"limit\": 1}}", &err), 0);
	path = xasprintf("%s/updates.jsonl", dir);
	assert_int_equal(read_file(path, &text, &len, NULL), 0);
	assert_string_equal(text, "{  \"pids\": {\"limit\": 44} }\n{\"memory\": {\"limit\": 1}}\n");
	free(text);
	/* (applying lines 1 and 2 needs a cgroup: a record of one bad line is checked alone) */
	unlink(path);
	assert_int_equal(cgroup_update_record(dir, "{\"pids\": {\"limit\": \"x\"}}", &err), 0);
	assert_true(cgroup_updates_apply(NULL, path, &err) < 0);
	assert_non_null(err);
	assert_non_null(strstr(err->msg, "updates.jsonl, update 1"));
	werr_free(&err);
	/* no record: nothing to apply */
	unlink(path);
	assert_int_equal(cgroup_updates_apply(NULL, path, &err), 0);
	free(path);
	rmdir(dir);
}

/* `ward update` refuses devices, so a record with them (a crafted image's) is refused before
 * anything is applied: it would replace the container's device filter. */
static void a_record_with_devices_is_refused(void **state)
{
	char dir[] = "/tmp/ward-unit-upd.XXXXXX";
	struct werr *err = NULL;
	char *path;

	assert_non_null(mkdtemp(dir));
	assert_int_equal(cgroup_update_record(
				 dir, "{\"devices\": [{\"allow\": true, \"access\": \"rwm\"}]}", &err),
			 0);
	path = xasprintf("%s/updates.jsonl", dir);
	/* (no cgroup: applying anything would crash, refusing does not touch it) */
	assert_true(cgroup_updates_apply(NULL, path, &err) < 0);
	assert_non_null(err);
	assert_non_null(strstr(err->msg, "devices"));
	assert_non_null(strstr(err->msg, "update 1"));
	werr_free(&err);
	unlink(path);
	free(path);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(flags_json_reads_back_as_the_same_update),
		cmocka_unit_test(records_are_lines_and_a_bad_one_is_named),
		cmocka_unit_test(a_record_with_devices_is_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
