/* The VMM's boot profile (vmm_shim/vm_trace.c): milestone lines with the wall clock, exits
 * counted per device and summed, and nothing at all when tracing is off. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "vmm_shim/vm_trace.h"

static int out[2];

static int setup(void **state)
{
	return pipe(out);
}

static int teardown(void **state)
{
	close(out[0]);
	close(out[1]);
	return 0;
}

static char *drain(void)
{
	static char buf[4096];
	ssize_t n;

	close(out[1]);
	n = read(out[0], buf, sizeof(buf) - 1);
	buf[n > 0 ? n : 0] = '\0';
	out[1] = -1;
	return buf;
}

static void an_event_is_one_line_with_the_wall_clock(void **state)
{
	struct vm_trace t;
	long long sec = 0;
	long usec = -1;
	char what[64] = "";
	time_t before = time(NULL);

	vm_trace_init(&t, out[1]);
	vm_trace_event(&t, "guest mark %u", 2);
	vm_trace_destroy(&t);
	assert_int_equal(sscanf(drain(), "ward-vmm trace: %lld.%6ld %63[^\n]", &sec, &usec, what),
			 3);
	assert_true(sec >= before && sec <= time(NULL));
	assert_true(usec >= 0 && usec < 1000000);
	assert_string_equal(what, "guest mark 2");
}

static void exits_are_counted_per_device_and_summed(void **state)
{
	static const char uart[] = "uart", mmio[] = "virtio-mmio";
	struct vm_trace t;
	char *line;

	vm_trace_init(&t, out[1]);
	vm_trace_exit(&t, uart);
	vm_trace_exit(&t, mmio);
	vm_trace_exit(&t, uart);
	vm_trace_exit(&t, uart);
	vm_trace_summary(&t);
	vm_trace_destroy(&t);
	line = strstr(drain(), " exits ");
	assert_non_null(line);
	assert_string_equal(line, " exits uart=3 virtio-mmio=1 total=4\n");
}

static void off_writes_nothing(void **state)
{
	struct vm_trace t;

	vm_trace_init(&t, 0);
	vm_trace_event(&t, "vmm start");
	vm_trace_exit(&t, "uart");
	vm_trace_summary(&t);
	vm_trace_destroy(&t);
	assert_string_equal(drain(), "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(an_event_is_one_line_with_the_wall_clock, setup,
						teardown),
		cmocka_unit_test_setup_teardown(exits_are_counted_per_device_and_summed, setup,
						teardown),
		cmocka_unit_test_setup_teardown(off_writes_nothing, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
