/* ward-init's job from the kernel command line (vmm_shim/guest/ward_init_cmdline.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "vmm_shim/guest/ward_init_cmdline.h"

static int parse(const char *line, struct winit_job *job, const char **bad)
{
	static char buf[4096];

	strcpy(buf, line);
	return winit_parse_cmdline(buf, job, bad);
}

static void args_env_and_options_come_from_ward_parameters(void **state)
{
	struct winit_job job;
	const char *bad;

	assert_int_equal(parse("console=ttyS0 reboot=k "
			       "ward.args=/bin/sh,-c,echo%20hi%2C%20there%3B%20exit%207 "
			       "ward.env=PATH=/bin,A=b%3Dc ward.cwd=/srv ward.hostname=box quiet "
			       "ward.uid=1000 ward.gid=100 ward.root=/dev/vdb ward.rootfstype=ext2 "
			       "ward.overlay=0\n",
			       &job, &bad),
			 0);
	assert_int_equal(job.n_args, 3);
	assert_string_equal(job.args[0], "/bin/sh");
	assert_string_equal(job.args[1], "-c");
	assert_string_equal(job.args[2], "echo hi, there; exit 7");
	assert_null(job.args[3]);
	assert_int_equal(job.n_env, 2);
	assert_string_equal(job.env[1], "A=b=c");
	assert_null(job.env[2]);
	assert_string_equal(job.cwd, "/srv");
	assert_string_equal(job.hostname, "box");
	assert_int_equal(job.uid, 1000);
	assert_int_equal(job.gid, 100);
	assert_string_equal(job.root, "/dev/vdb");
	assert_string_equal(job.rootfstype, "ext2");
	assert_false(job.overlay);
}

static void defaults_fill_what_is_not_given(void **state)
{
	struct winit_job job;
	const char *bad;

	assert_int_equal(parse("ward.args=true", &job, &bad), 0);
	assert_int_equal(job.n_args, 1);
	assert_string_equal(job.cwd, "/");
	assert_null(job.hostname);
	assert_string_equal(job.root, "/dev/vda");
	assert_string_equal(job.rootfstype, "ext4");
	assert_true(job.overlay);
	assert_int_equal(job.uid, 0);
	assert_int_equal(job.n_env, 1);
	assert_string_equal(job.env[0], WINIT_DEFAULT_PATH);
}

static void bad_parameters_are_named(void **state)
{
	struct winit_job job;
	const char *bad;

	assert_int_equal(parse("console=ttyS0", &job, &bad), -1);
	assert_string_equal(bad, "ward.args");
	assert_int_equal(parse("ward.args=", &job, &bad), -1);
	assert_int_equal(parse("ward.args=a%2", &job, &bad), -1);
	assert_string_equal(bad, "ward.args");
	assert_int_equal(parse("ward.args=a%00b", &job, &bad), -1); /* an encoded NUL */
	assert_int_equal(parse("ward.args=a%zz", &job, &bad), -1);
	assert_int_equal(parse("ward.args=a ward.env=NOVALUE", &job, &bad), -1);
	assert_string_equal(bad, "ward.env");
	assert_int_equal(parse("ward.args=a ward.uid=-1", &job, &bad), -1);
	assert_string_equal(bad, "ward.uid");
	assert_int_equal(parse("ward.args=a ward.uid=4294967295", &job, &bad), -1);
	assert_int_equal(parse("ward.args=a ward.overlay=yes", &job, &bad), -1);
	assert_int_equal(parse("ward.args=a ward.cwd=relative", &job, &bad), -1);
	assert_string_equal(bad, "ward.cwd");
	assert_int_equal(parse("ward.args=a ward.bogus=1", &job, &bad), -1);
	assert_string_equal(bad, "ward.bogus");
}

static void too_many_arguments_are_refused(void **state)
{
	static char line[4096];
	struct winit_job job;
	const char *bad;
	char *p = line + sprintf(line, "ward.args=x");

	for (int i = 0; i < WINIT_MAX_ARGS; i++)
		p += sprintf(p, ",y");
	assert_int_equal(winit_parse_cmdline(line, &job, &bad), -1);
}

static void rlimits_are_resource_soft_hard_triples(void **state)
{
	struct winit_job job;
	const char *bad;

	assert_int_equal(parse("ward.args=x ward.rlimits=7:10:inf,4:0:0", &job, &bad), 0);
	assert_int_equal(job.n_rlimits, 2);
	assert_int_equal(job.rlimits[0].resource, 7);
	assert_int_equal(job.rlimits[0].soft, 10);
	assert_true(job.rlimits[0].hard == ~0ull);
	assert_int_equal(job.rlimits[1].resource, 4);
	assert_int_equal(parse("ward.args=x ward.rlimits=7:10", &job, &bad), -1);
	assert_string_equal(bad, "ward.rlimits");
	assert_int_equal(parse("ward.args=x ward.rlimits=7:-1:5", &job, &bad), -1);
	assert_int_equal(parse("ward.args=x ward.rlimits=99:1:1", &job, &bad), -1);
}

static void exit_status_is_the_code_or_128_plus_the_signal(void **state)
{
	assert_int_equal(winit_exit_status(7 << 8), 7);
	assert_int_equal(winit_exit_status(0), 0);
	assert_int_equal(winit_exit_status(9), 137);
	assert_int_equal(winit_exit_status(15 | 0x80), 143); /* core dumped */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(args_env_and_options_come_from_ward_parameters),
		cmocka_unit_test(defaults_fill_what_is_not_given),
		cmocka_unit_test(bad_parameters_are_named),
		cmocka_unit_test(too_many_arguments_are_refused),
		cmocka_unit_test(rlimits_are_resource_soft_hard_triples),
		cmocka_unit_test(exit_status_is_the_code_or_128_plus_the_signal),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
