/* Signal names as `ward kill` accepts them: with or without SIG, any case, numbers, RT. */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "runtime/signals.h"

static void names_parse_with_and_without_sig_prefix(void **state)
{
	assert_int_equal(signal_parse("KILL"), SIGKILL);
	assert_int_equal(signal_parse("SIGKILL"), SIGKILL);
	assert_int_equal(signal_parse("TERM"), SIGTERM);
	assert_int_equal(signal_parse("SIGWINCH"), SIGWINCH);
	assert_int_equal(signal_parse("SYS"), SIGSYS);
}

static void names_parse_in_any_case(void **state)
{
	assert_int_equal(signal_parse("kill"), SIGKILL);
	assert_int_equal(signal_parse("sigterm"), SIGTERM);
	assert_int_equal(signal_parse("SigHup"), SIGHUP);
}

static void aliases_parse_to_their_signal(void **state)
{
	assert_int_equal(signal_parse("IOT"), SIGABRT);
	assert_int_equal(signal_parse("SIGCLD"), SIGCHLD);
	assert_int_equal(signal_parse("POLL"), SIGIO);
}

static void numbers_parse_from_1_to_64(void **state)
{
	assert_int_equal(signal_parse("9"), 9);
	assert_int_equal(signal_parse("1"), 1);
	assert_int_equal(signal_parse("64"), 64);
	assert_int_equal(signal_parse("0"), -1);
	assert_int_equal(signal_parse("65"), -1);
	assert_int_equal(signal_parse("-9"), -1);
	assert_int_equal(signal_parse("9x"), -1);
}

static void realtime_signals_parse_with_offsets(void **state)
{
	assert_int_equal(signal_parse("RTMIN"), SIGRTMIN);
	assert_int_equal(signal_parse("RTMIN+3"), SIGRTMIN + 3);
	assert_int_equal(signal_parse("SIGRTMAX-2"), SIGRTMAX - 2);
	assert_int_equal(signal_parse("sigrtmax"), SIGRTMAX);
	assert_int_equal(signal_parse("RTMAX+1"), -1);
	assert_int_equal(signal_parse("RTMIN-1"), -1);
	assert_int_equal(signal_parse("RTMIN+"), -1);
	assert_int_equal(signal_parse("RTMIN+-1"), -1);
	assert_int_equal(signal_parse("RTMINX"), -1);
}

static void unknown_names_are_rejected(void **state)
{
	assert_int_equal(signal_parse("FOO"), -1);
	assert_int_equal(signal_parse("SIGFOO"), -1);
	assert_int_equal(signal_parse("SIG"), -1);
	assert_int_equal(signal_parse(""), -1);
	assert_int_equal(signal_parse(NULL), -1);
}

static void numbers_have_canonical_names(void **state)
{
	assert_string_equal(signal_name(9), "SIGKILL");
	assert_string_equal(signal_name(SIGABRT), "SIGABRT");
	assert_string_equal(signal_name(SIGCHLD), "SIGCHLD");
	assert_string_equal(signal_name(SIGRTMIN), "SIGRTMIN");
	assert_string_equal(signal_name(SIGRTMIN + 2), "SIGRTMIN+2");
	assert_null(signal_name(0));
	assert_null(signal_name(200));
}

static void every_named_signal_round_trips(void **state)
{
	for (int sig = 1; sig <= SIGRTMAX; sig++) {
		const char *name = signal_name(sig);

		if (name)
			assert_int_equal(signal_parse(name), sig);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(names_parse_with_and_without_sig_prefix),
		cmocka_unit_test(names_parse_in_any_case),
		cmocka_unit_test(aliases_parse_to_their_signal),
		cmocka_unit_test(numbers_parse_from_1_to_64),
		cmocka_unit_test(realtime_signals_parse_with_offsets),
		cmocka_unit_test(unknown_names_are_rejected),
		cmocka_unit_test(numbers_have_canonical_names),
		cmocka_unit_test(every_named_signal_round_trips),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
