/* linux.seccomp -> libseccomp: the filter is built from config JSON, then either loaded in a
 * forked child (the syscall's result is what is checked) or exported as libseccomp's
 * pseudo-code and read. */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "lib/util.h"
#include "runtime/spec.h"
#include "seccomp/seccomp.h"

#define HEAD                                                                                \
	"{\"ociVersion\": \"1.2.0\", \"root\": {\"path\": \"rootfs\"}, \"process\": {\"args\": " \
	"[\"sh\"], \"cwd\": \"/\"}, \"linux\": {\"seccomp\": "

/* Build the filter of a linux.seccomp object; returns build's result, *f the filter. */
static int build(const char *seccomp_json, struct seccomp_filter **f, size_t *skipped,
		 struct werr **err)
{
	_cleanup_free_ char *json = xasprintf(HEAD "%s}}", seccomp_json);
	_cleanup_spec_ struct spec *s = NULL;
	int r = spec_parse(json, strlen(json), "config.json", &s, err);

	if (r < 0)
		return r;
	return seccomp_filter_build(&s->linux_.seccomp, f, skipped, err);
}

static struct seccomp_filter *build_ok(const char *seccomp_json, size_t *skipped)
{
	struct seccomp_filter *f = NULL;
	struct werr *err = NULL;

	if (build(seccomp_json, &f, skipped, &err) < 0)
		fail_msg("unexpected error: %s", err->msg);
	assert_non_null(f);
	return f;
}

static void expect_build_error(const char *seccomp_json, const char *want)
{
	struct seccomp_filter *f = NULL;
	struct werr *err = NULL;

	assert_true(build(seccomp_json, &f, NULL, &err) < 0);
	assert_null(f);
	assert_non_null(err);
	if (!strstr(err->msg, want))
		fail_msg("error \"%s\" does not contain \"%s\"", err->msg, want);
	werr_free(&err);
}

/* libseccomp's pseudo-code of the filter. */
static char *pfc(const struct seccomp_filter *f)
{
	int fd = memfd_create("pfc", MFD_CLOEXEC);
	struct werr *err = NULL;
	char *text = NULL;
	char path[64];
	size_t len;

	assert_true(fd >= 0);
	assert_int_equal(seccomp_filter_export(f, fd, false, &err), 0);
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	assert_int_equal(read_file(path, &text, &len, NULL), 0);
	close(fd);
	return text;
}

/* Run probe() in a child under the filter (no_new_privs lets an unprivileged test load it);
 * returns the child's wait status. The probe returns the exit code. */
static int run_filtered(struct seccomp_filter *f, int (*probe)(void))
{
	int status = 0;
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0) {
		int nfd;

		if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
		    seccomp_filter_load(f, &nfd, NULL) < 0)
			_exit(100);
		_exit(probe());
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	return status;
}

static int exit_code(int status)
{
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return WEXITSTATUS(status);
}

/* getcwd's errno, or 0 when it worked. */
static int probe_getcwd(void)
{
	char buf[256];

	return syscall(SYS_getcwd, buf, sizeof(buf)) < 0 ? errno : 0;
}

/* personality(0xffffffff) only reads; personality(8) would set PER_LINUX32. Bit 0: the query
 * failed with EPERM-or-other, bit 1: the set failed with errno 77. */
static int probe_personality(void)
{
	int out = 0;

	if (syscall(SYS_personality, 0xffffffffUL) < 0)
		out |= 1;
	if (syscall(SYS_personality, 8UL) < 0 && errno == 77)
		out |= 2;
	if (syscall(SYS_personality, 9UL) < 0 && errno == 77)
		out |= 4;
	return out;
}

static void blocked_syscall_returns_the_configured_errno(void **state)
{
	struct seccomp_filter *f = build_ok(
		"{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [{\"names\": [\"getcwd\"],"
		" \"action\": \"SCMP_ACT_ERRNO\", \"errnoRet\": 38}]}",
		NULL);

	assert_int_equal(exit_code(run_filtered(f, probe_getcwd)), ENOSYS);
	seccomp_filter_free(f);
}

static void errno_action_defaults_to_eperm(void **state)
{
	struct seccomp_filter *f = build_ok(
		"{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [{\"names\": [\"getcwd\"],"
		" \"action\": \"SCMP_ACT_ERRNO\"}]}",
		NULL);

	assert_int_equal(exit_code(run_filtered(f, probe_getcwd)), EPERM);
	seccomp_filter_free(f);
}

static void default_action_applies_to_unlisted_syscalls(void **state)
{
	struct seccomp_filter *f = build_ok(
		"{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"defaultErrnoRet\": 95, \"syscalls\": ["
		/* what the probe's exit path may need, also under ASan/UBSan (which read /proc,
		 * map memory and write reports): everything but getcwd itself */
		"{\"names\": [\"exit\", \"exit_group\", \"write\", \"writev\", \"read\", "
		"\"mmap\", \"munmap\", \"mprotect\", \"madvise\", \"brk\", \"rt_sigaction\", "
		"\"rt_sigprocmask\", \"sigaltstack\", \"futex\", \"getpid\", \"gettid\", "
		"\"tgkill\", \"close\", \"openat\", \"open\", \"fstat\", \"newfstatat\", "
		"\"prctl\", \"sched_yield\", \"clock_gettime\", \"readlink\", \"readlinkat\", "
		"\"lseek\", \"getrusage\", \"pread64\", \"sched_getaffinity\"], "
		"\"action\": \"SCMP_ACT_ALLOW\"}]}",
		NULL);

	assert_int_equal(exit_code(run_filtered(f, probe_getcwd)), 95);
	seccomp_filter_free(f);
}

static void kill_process_kills_with_sigsys(void **state)
{
	struct seccomp_filter *f = build_ok(
		"{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [{\"names\": [\"getcwd\"],"
		" \"action\": \"SCMP_ACT_KILL_PROCESS\"}]}",
		NULL);
	int status = run_filtered(f, probe_getcwd);

	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), SIGSYS);
	seccomp_filter_free(f);
}

static void arg_filter_blocks_only_the_matching_argument(void **state)
{
	struct seccomp_filter *f = build_ok(
		"{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [{\"names\": "
		"[\"personality\"], \"action\": \"SCMP_ACT_ERRNO\", \"errnoRet\": 77, \"args\": "
		"[{\"index\": 0, \"value\": 8, \"op\": \"SCMP_CMP_EQ\"}]}]}",
		NULL);

	/* the query works, 8 is refused, 9 is not */
	assert_int_equal(exit_code(run_filtered(f, probe_personality)), 2);
	seccomp_filter_free(f);
}

static void masked_eq_compares_the_masked_argument(void **state)
{
	/* (arg & 0xfe) == 8 matches 8 and 9, not 0xffffffff */
	struct seccomp_filter *f = build_ok(
		"{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [{\"names\": "
		"[\"personality\"], \"action\": \"SCMP_ACT_ERRNO\", \"errnoRet\": 77, \"args\": "
		"[{\"index\": 0, \"value\": 254, \"valueTwo\": 8, \"op\": "
		"\"SCMP_CMP_MASKED_EQ\"}]}]}",
		NULL);

	assert_int_equal(exit_code(run_filtered(f, probe_personality)), 2 | 4);
	seccomp_filter_free(f);
}

static void conditions_on_one_argument_are_alternatives(void **state)
{
	struct seccomp_filter *f = build_ok(
		"{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [{\"names\": "
		"[\"personality\"], \"action\": \"SCMP_ACT_ERRNO\", \"errnoRet\": 77, \"args\": "
		"[{\"index\": 0, \"value\": 8, \"op\": \"SCMP_CMP_EQ\"},"
		" {\"index\": 0, \"value\": 9, \"op\": \"SCMP_CMP_EQ\"}]}]}",
		NULL);

	assert_int_equal(exit_code(run_filtered(f, probe_personality)), 2 | 4);
	seccomp_filter_free(f);
}

static void conditions_on_different_arguments_must_all_match(void **state)
{
	/* personality has one argument: a1 is whatever is in the register, never 12345 */
	struct seccomp_filter *f = build_ok(
		"{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [{\"names\": "
		"[\"personality\"], \"action\": \"SCMP_ACT_ERRNO\", \"errnoRet\": 77, \"args\": "
		"[{\"index\": 0, \"value\": 8, \"op\": \"SCMP_CMP_EQ\"},"
		" {\"index\": 5, \"value\": 12345, \"op\": \"SCMP_CMP_EQ\"}]}]}",
		NULL);

	assert_int_equal(exit_code(run_filtered(f, probe_personality)), 0);
	seccomp_filter_free(f);
}

/* Bit i set: dup(6 + i) was refused by the filter (errno 77) rather than failing EBADF. */
static int probe_dup(void)
{
	int out = 0;

	for (int i = 0; i < 3; i++)
		if (syscall(SYS_dup, 6 + i) < 0 && errno == 77)
			out |= 1 << i;
	return out;
}

static void every_operator_compares_as_named(void **state)
{
	static const struct {
		const char *op;
		int blocked; /* of dup(6), dup(7), dup(8) against value 7 */
	} cases[] = {
		{"NE", 1 | 4}, {"LT", 1},     {"LE", 1 | 2},	       {"EQ", 2},
		{"GE", 2 | 4}, {"GT", 4},     {"MASKED_EQ", 1 | 2}, /* (fd & 6) == 6 */
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		bool masked = strcmp(cases[i].op, "MASKED_EQ") == 0;
		_cleanup_free_ char *json = xasprintf(
			"{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [{\"names\": "
			"[\"dup\"], \"action\": \"SCMP_ACT_ERRNO\", \"errnoRet\": 77, \"args\": "
			"[{\"index\": 0, \"value\": %d, \"valueTwo\": 6, \"op\": \"SCMP_CMP_%s\"}]}]}",
			masked ? 6 : 7, cases[i].op);
		struct seccomp_filter *f = build_ok(json, NULL);
		int got = exit_code(run_filtered(f, probe_dup));

		if (got != cases[i].blocked)
			fail_msg("SCMP_CMP_%s: blocked mask %d, want %d", cases[i].op, got,
				 cases[i].blocked);
		seccomp_filter_free(f);
	}
}

static void unknown_syscall_names_are_skipped_and_counted(void **state)
{
	size_t skipped = 99;
	struct seccomp_filter *f = build_ok(
		"{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [{\"names\": [\"getcwd\","
		" \"no_such_syscall\", \"another_made_up_one\"], \"action\": \"SCMP_ACT_ERRNO\"}]}",
		&skipped);

	assert_int_equal(skipped, 2);
	assert_int_equal(exit_code(run_filtered(f, probe_getcwd)), EPERM);
	seccomp_filter_free(f);
}

static void rules_repeating_the_default_are_skipped(void **state)
{
	struct seccomp_filter *f = build_ok(
		"{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"syscalls\": [{\"names\": [\"getcwd\"],"
		" \"action\": \"SCMP_ACT_ERRNO\"}, {\"names\": [\"exit_group\"], \"action\": "
		"\"SCMP_ACT_ALLOW\"}]}",
		NULL);

	assert_int_equal(exit_code(run_filtered(f, probe_getcwd)), EPERM);
	seccomp_filter_free(f);
}

static void architectures_are_added_to_the_filter(void **state)
{
	struct seccomp_filter *f = build_ok(
		"{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"architectures\": [\"SCMP_ARCH_X86\","
		" \"SCMP_ARCH_X32\", \"SCMP_ARCH_X86_64\"], \"syscalls\": [{\"names\": "
		"[\"getcwd\"], \"action\": \"SCMP_ACT_ERRNO\"}]}",
		NULL);
	_cleanup_free_ char *text = pfc(f);

#ifdef __x86_64__
	assert_non_null(strstr(text, "filter for arch x86_64"));
	assert_non_null(strstr(text, "filter for arch x86 "));
	assert_non_null(strstr(text, "filter for arch x32"));
#endif
	assert_null(strstr(text, "filter for arch aarch64"));
	seccomp_filter_free(f);
}

static void every_action_translates(void **state)
{
	static const char *const actions[] = {
		"SCMP_ACT_KILL",  "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_KILL_THREAD",
		"SCMP_ACT_TRAP",  "SCMP_ACT_ERRNO",	   "SCMP_ACT_TRACE",
		"SCMP_ACT_LOG",	  "SCMP_ACT_NOTIFY",
	};
	static const char *const pfc_text[] = {
		"action KILL;", "action KILL_PROCESS;", "action KILL;",	   "action TRAP;",
		"action ERRNO(1);", "action TRACE(1);",	"action LOG;",	   "action 0x7fc00000;" /* NOTIFY */,
	};

	for (size_t i = 0; i < ARRAY_SIZE(actions); i++) {
		_cleanup_free_ char *json = xasprintf(
			"{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"listenerPath\": \"/run/x.sock\","
			" \"syscalls\": [{\"names\": [\"getcwd\"], \"action\": \"%s\"}]}",
			actions[i]);
		struct seccomp_filter *f = build_ok(json, NULL);
		_cleanup_free_ char *text = pfc(f);

		if (!strstr(text, pfc_text[i]))
			fail_msg("%s: \"%s\" not in\n%s", actions[i], pfc_text[i], text);
		assert_int_equal(seccomp_filter_wants_notify(f), strstr(actions[i], "NOTIFY") != 0);
		seccomp_filter_free(f);
	}
}

static void trace_carries_errno_ret_as_its_message(void **state)
{
	struct seccomp_filter *f = build_ok(
		"{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [{\"names\": [\"getcwd\"],"
		" \"action\": \"SCMP_ACT_TRACE\", \"errnoRet\": 42}]}",
		NULL);
	_cleanup_free_ char *text = pfc(f);

	assert_non_null(strstr(text, "action TRACE(42);"));
	seccomp_filter_free(f);
}

static void flags_become_filter_attributes(void **state)
{
	struct seccomp_filter *f = build_ok(
		"{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"flags\": [\"SECCOMP_FILTER_FLAG_TSYNC\","
		" \"SECCOMP_FILTER_FLAG_LOG\", \"SECCOMP_FILTER_FLAG_SPEC_ALLOW\"]}",
		NULL);

	assert_int_equal(exit_code(run_filtered(f, probe_getcwd)), 0);
	seccomp_filter_free(f);
}

static void bad_input_names_the_json_path(void **state)
{
	expect_build_error("{\"defaultAction\": \"SCMP_ACT_FOO\"}",
			   "linux.seccomp.defaultAction: unknown action \"SCMP_ACT_FOO\"");
	expect_build_error("{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"architectures\": "
			   "[\"SCMP_ARCH_VAX\"]}",
			   "linux.seccomp.architectures[0]: unknown architecture");
	expect_build_error("{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [{\"names\": "
			   "[\"dup\"], \"action\": \"SCMP_ACT_ERRNO\"}, {\"names\": [\"dup\"], "
			   "\"action\": \"SCMP_ACT_ERRNO\", \"args\": [{\"index\": 6, \"value\": 1,"
			   " \"op\": \"SCMP_CMP_EQ\"}]}]}",
			   "linux.seccomp.syscalls[1].args[0].index: 6 out of range [0, 5]");
	expect_build_error("{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [{\"names\": "
			   "[\"dup\"], \"action\": \"SCMP_ACT_ERRNO\", \"args\": [{\"index\": 0,"
			   " \"value\": 1, \"op\": \"SCMP_CMP_ABOUT\"}]}]}",
			   "linux.seccomp.syscalls[0].args[0].op: unknown operator");
	expect_build_error("{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [{\"names\": "
			   "[\"dup\"], \"action\": \"SCMP_ACT_ERRNO\", \"args\": [{\"index\": 0,"
			   " \"op\": \"SCMP_CMP_EQ\"}]}]}",
			   "linux.seccomp.syscalls[0].args[0].value: required");
	expect_build_error("{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [{\"names\": "
			   "[\"dup\"], \"action\": \"SCMP_ACT_KILL\", \"errnoRet\": 5}]}",
			   "linux.seccomp.syscalls[0].errnoRet: SCMP_ACT_KILL does not return an "
			   "errno");
	expect_build_error("{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"defaultErrnoRet\": 3}",
			   "linux.seccomp.defaultErrnoRet: SCMP_ACT_ALLOW does not return");
	expect_build_error("{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [{\"names\": "
			   "[\"mkdir\"], \"action\": \"SCMP_ACT_NOTIFY\"}]}",
			   "linux.seccomp.syscalls[0].action: SCMP_ACT_NOTIFY needs "
			   "linux.seccomp.listenerPath");
	expect_build_error("{\"defaultAction\": \"SCMP_ACT_NOTIFY\", \"listenerPath\": \"/x\"}",
			   "linux.seccomp.defaultAction: SCMP_ACT_NOTIFY cannot be the default");
	expect_build_error("{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"listenerPath\": \"/x\", "
			   "\"syscalls\": [{\"names\": [\"mkdir\", \"sendmsg\"], \"action\": "
			   "\"SCMP_ACT_NOTIFY\"}]}",
			   "linux.seccomp.syscalls[0].names[1]: SCMP_ACT_NOTIFY cannot be used for "
			   "\"sendmsg\"");
}

static void flag_the_library_lacks_is_named(void **state)
{
	struct seccomp_filter *f = NULL;
	struct werr *err = NULL;
	int r = build("{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"flags\": ["
		      "\"SECCOMP_FILTER_FLAG_LOG\", \"SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV\"]}",
		      &f, NULL, &err);

	/* libseccomp 2.6 has it; older ones must say which flag they cannot honour */
	if (r == 0) {
		seccomp_filter_free(f);
		return;
	}
	assert_non_null(strstr(err->msg, "linux.seccomp.flags[1]: "
					 "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV is not supported"));
	werr_free(&err);
}

/* Under the default profile: bit 0 unshare(CLONE_NEWUSER) refused with EPERM, bit 1
 * personality(ADDR_NO_RANDOMIZE) refused, bit 2 clone3 says ENOSYS, bit 3 getcwd works, bit 4
 * a namespace-free fork works. */
static int probe_default_profile(void)
{
	char buf[64];
	int out = 0;
	pid_t pid;

	if (syscall(SYS_unshare, 0x10000000) < 0 && errno == EPERM)
		out |= 1;
	if (syscall(SYS_personality, 0x0040000UL) < 0 && errno == EPERM)
		out |= 2;
	if (syscall(SYS_clone3, NULL, 0) < 0 && errno == ENOSYS)
		out |= 4;
	if (syscall(SYS_getcwd, buf, sizeof(buf)) > 0)
		out |= 8;
	pid = fork();
	if (pid == 0)
		_exit(0);
	if (pid > 0 && waitpid(pid, NULL, 0) == pid)
		out |= 16;
	return out;
}

static void default_profile_builds_and_refuses_the_privileged(void **state)
{
	_cleanup_free_ char *json = spec_default_json(false);
	_cleanup_spec_ struct spec *s = NULL;
	struct seccomp_filter *f = NULL;
	struct werr *err = NULL;
	size_t skipped = 0;

	assert_int_equal(spec_parse(json, strlen(json), "config.json", &s, &err), 0);
	assert_true(s->linux_.has_seccomp);
	assert_string_equal(s->linux_.seccomp.default_action, "SCMP_ACT_ERRNO");
	assert_int_equal(s->linux_.seccomp.default_errno_ret, EPERM);
	if (seccomp_filter_build(&s->linux_.seccomp, &f, &skipped, &err) < 0)
		fail_msg("default profile: %s", err->msg);
	print_message("default profile: %zu names unknown to this libseccomp\n", skipped);
	assert_int_equal(exit_code(run_filtered(f, probe_default_profile)), 31);
	seccomp_filter_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(blocked_syscall_returns_the_configured_errno),
		cmocka_unit_test(errno_action_defaults_to_eperm),
		cmocka_unit_test(default_action_applies_to_unlisted_syscalls),
		cmocka_unit_test(kill_process_kills_with_sigsys),
		cmocka_unit_test(arg_filter_blocks_only_the_matching_argument),
		cmocka_unit_test(masked_eq_compares_the_masked_argument),
		cmocka_unit_test(conditions_on_one_argument_are_alternatives),
		cmocka_unit_test(conditions_on_different_arguments_must_all_match),
		cmocka_unit_test(every_operator_compares_as_named),
		cmocka_unit_test(unknown_syscall_names_are_skipped_and_counted),
		cmocka_unit_test(rules_repeating_the_default_are_skipped),
		cmocka_unit_test(architectures_are_added_to_the_filter),
		cmocka_unit_test(every_action_translates),
		cmocka_unit_test(trace_carries_errno_ret_as_its_message),
		cmocka_unit_test(flags_become_filter_attributes),
		cmocka_unit_test(bad_input_names_the_json_path),
		cmocka_unit_test(flag_the_library_lacks_is_named),
		cmocka_unit_test(default_profile_builds_and_refuses_the_privileged),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
