/* checkpoint's per-process and per-namespace state beyond memory and fds: the /proc/pid/timers
 * parser, when timer ids can be reproduced without PR_TIMER_CREATE_RESTORE_IDS, the
 * posix_timers JSON, and sysvipc.json. */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "checkpoint/sysvipc.h"
#include "checkpoint/timers.h"
#include "lib/util.h"

static void timers_parse_every_field_and_the_thread_target(void **state)
{
	const char *text = "ID: 2\nsignal: 35/0000000000000b22\nnotify: signal/tid.29254\n"
			   "ClockID: 7\nID: 0\nsignal: 34/00007f00deadbeef\nnotify: "
			   "signal/pid.29252\nClockID: 1\nID: 5\nsignal: 0/0000000000000000\n"
			   "notify: none/pid.29252\nClockID: 0\n";
	struct ck_ptimer *t = NULL;
	size_t n = 0;

	assert_int_equal(ck_parse_timers(text, &t, &n), 0);
	assert_int_equal(n, 3);
	assert_int_equal(t[0].id, 2);
	assert_int_equal(t[0].signo, 35);
	assert_true(t[0].value == 0xb22);
	assert_int_equal(t[0].notify, SIGEV_SIGNAL | 4 /* SIGEV_THREAD_ID */);
	assert_int_equal(t[0].tid, 29254);
	assert_int_equal(t[0].clock, CLOCK_BOOTTIME);
	assert_true(t[1].value == 0x7f00deadbeefULL);
	assert_int_equal(t[1].notify, SIGEV_SIGNAL);
	assert_int_equal(t[1].tid, 0);
	assert_int_equal(t[2].notify, SIGEV_NONE);
	free(t);
}

static void timers_empty_file_is_no_timer_and_garbage_is_refused(void **state)
{
	struct ck_ptimer *t = NULL;
	size_t n = 7;

	assert_int_equal(ck_parse_timers("", &t, &n), 0);
	assert_int_equal(n, 0);
	free(t);
	assert_int_equal(ck_parse_timers("signal: 34/0\n", &t, &n), -EINVAL);
	assert_int_equal(ck_parse_timers("ID: 1\nnotify: loud/pid.3\nClockID: 1\n", &t, &n),
			 -EINVAL);
	assert_int_equal(ck_parse_timers("ID: 1\nsignal: 34/0\n", &t, &n), -EINVAL); /* no clock */
}

static void timer_ids_with_a_gap_are_not_reproducible_in_order(void **state)
{
	struct ck_ptimer dense[3] = {{.id = 2}, {.id = 0}, {.id = 1}};
	struct ck_ptimer gap[2] = {{.id = 0}, {.id = 2}};
	struct ck_ptimer twice[2] = {{.id = 0}, {.id = 0}};

	assert_true(ck_timer_ids_dense(dense, 3));
	assert_false(ck_timer_ids_dense(gap, 2));
	assert_false(ck_timer_ids_dense(twice, 2));
}

static void sysvipc_json_round_trips_every_kind(void **state)
{
	uint8_t d1[] = "first", d2[] = {0, 0xff, 7};
	struct ck_ipc_msg msgs[2] = {{1, d1, 6}, {7, d2, 3}};
	uint16_t vals[3] = {5, 0, 42};
	struct ck_ipc_obj objs[3] = {
		{.kind = CK_IPC_MSG, .id = 1, .key = 0x1234, .mode = 0640, .qbytes = 16384,
		 .msgs = msgs, .nmsgs = 2},
		{.kind = CK_IPC_SEM, .id = 32768, .key = -1, .uid = 1000, .gid = 100, .mode = 0600,
		 .semvals = vals, .nsems = 3},
		{.kind = CK_IPC_SHM, .id = 0, .key = 0, .mode = 0604, .size = 8192}};
	struct ck_ipc in = {objs, 3}, out;
	struct werr *err = NULL;
	char *text = ck_ipc_to_json(&in);

	assert_int_equal(ck_ipc_from_json(text, &out, &err), 0);
	assert_int_equal(out.n, 3);
	assert_int_equal(out.objs[0].kind, CK_IPC_MSG);
	assert_int_equal(out.objs[0].nmsgs, 2);
	assert_int_equal(out.objs[0].msgs[1].mtype, 7);
	assert_int_equal(out.objs[0].msgs[1].len, 3);
	assert_memory_equal(out.objs[0].msgs[1].data, d2, 3);
	assert_true(out.objs[0].qbytes == 16384);
	assert_int_equal(out.objs[1].id, 32768);
	assert_int_equal(out.objs[1].key, -1);
	assert_int_equal(out.objs[1].uid, 1000);
	assert_int_equal(out.objs[1].nsems, 3);
	assert_int_equal(out.objs[1].semvals[2], 42);
	assert_true(out.objs[2].size == 8192);
	assert_int_equal(out.objs[2].mode, 0604);
	ck_ipc_free(&out);
	free(text);
}

static void sysvipc_json_refuses_bad_entries(void **state)
{
	static const char *bad[] = {
		"{\"msg\": [], \"sem\": []}",
		"{\"msg\": [], \"sem\": [{\"id\": 0, \"key\": 1, \"uid\": 0, \"gid\": 0, \"mode\": "
		"420, \"values\": []}], \"shm\": []}",
		"{\"msg\": [], \"sem\": [], \"shm\": [{\"id\": -1, \"key\": 1, \"uid\": 0, \"gid\": "
		"0, \"mode\": 420, \"size\": 4096}]}",
		"{\"msg\": [{\"id\": 1, \"key\": 1, \"uid\": 0, \"gid\": 0, \"mode\": 420, "
		"\"qbytes\": 10, \"messages\": [{\"type\": 1, \"data\": \"abc\"}]}], \"sem\": [], "
		"\"shm\": []}",
		"{\"msg\": [], \"sem\": [], \"shm\": [{\"id\": 1, \"key\": 1, \"uid\": 0, \"gid\": "
		"0, \"mode\": 4096, \"size\": 4096}]}",
	};

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		struct ck_ipc out;
		struct werr *err = NULL;

		assert_int_equal(ck_ipc_from_json(bad[i], &out, &err), -EINVAL);
		assert_non_null(err);
		werr_free(&err);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(timers_parse_every_field_and_the_thread_target),
		cmocka_unit_test(timers_empty_file_is_no_timer_and_garbage_is_refused),
		cmocka_unit_test(timer_ids_with_a_gap_are_not_reproducible_in_order),
		cmocka_unit_test(sysvipc_json_round_trips_every_kind),
		cmocka_unit_test(sysvipc_json_refuses_bad_entries),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
