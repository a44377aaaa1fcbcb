/* The status port (vmm_shim/dev_status.c): a guest write reports the workload's status and
 * stops the VM; guest reads return the signals the host posted for the workload, each once. */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "vmm_shim/dev.h"

static int stops, stop_status;

static void fake_stop(void *opaque, enum vmm_stop_reason reason, int status)
{
	stops++;
	stop_status = status;
}

static unsigned marks, last_mark;

static void fake_mark(void *opaque, unsigned mark)
{
	marks++;
	last_mark = mark;
}

static int guest_reads(struct status_port *s)
{
	uint8_t b = 0xaa;

	status_port_ops.read(s, 0, &b, 1);
	return b;
}

static void two_signals_posted_before_the_guest_polls_both_arrive(void **state)
{
	_Atomic unsigned pending = 0;
	struct status_port s = {.pending_signals = &pending};

	assert_int_equal(guest_reads(&s), 0);
	/* what the VMM's handler does for a TERM and then an INT */
	atomic_fetch_or(&pending, 1u << SIGTERM);
	atomic_fetch_or(&pending, 1u << SIGINT);
	assert_int_equal(guest_reads(&s), SIGINT);
	assert_int_equal(guest_reads(&s), SIGTERM);
	assert_int_equal(guest_reads(&s), 0);
}

static void without_a_signal_source_reads_are_zero(void **state)
{
	struct status_port s = {0};

	assert_int_equal(guest_reads(&s), 0);
}

static void a_write_reports_the_low_byte_and_stops(void **state)
{
	struct status_port s = {.hooks = {.stop = fake_stop}};
	uint8_t v[4] = {7, 1, 0, 0};

	stops = 0;
	status_port_ops.write(&s, 0, v, 4);
	assert_int_equal(stops, 1);
	assert_int_equal(stop_status, 7);
}

static void a_write_to_the_mark_port_is_a_mark_not_a_stop(void **state)
{
	struct status_port s = {.hooks = {.stop = fake_stop, .mark = fake_mark}};
	uint8_t v = 3;

	stops = 0;
	marks = 0;
	status_port_ops.write(&s, VMM_MARK_PORT - VMM_STATUS_PORT, &v, 1);
	assert_int_equal(stops, 0);
	assert_int_equal(marks, 1);
	assert_int_equal(last_mark, 3);
}

static void a_mark_without_a_mark_hook_is_dropped(void **state)
{
	struct status_port s = {.hooks = {.stop = fake_stop}};
	uint8_t v = 1;

	stops = 0;
	status_port_ops.write(&s, VMM_MARK_PORT - VMM_STATUS_PORT, &v, 1);
	assert_int_equal(stops, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(two_signals_posted_before_the_guest_polls_both_arrive),
		cmocka_unit_test(without_a_signal_source_reads_are_zero),
		cmocka_unit_test(a_write_reports_the_low_byte_and_stops),
		cmocka_unit_test(a_write_to_the_mark_port_is_a_mark_not_a_stop),
		cmocka_unit_test(a_mark_without_a_mark_hook_is_dropped),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
