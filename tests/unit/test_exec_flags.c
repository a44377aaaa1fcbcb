/* ward exec's process: the config's process with the flags applied, or the --process file. */
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
#include "runtime/exec.h"

static const char config[] =
	"{\"ociVersion\": \"1.2.0\", \"root\": {\"path\": \"rootfs\"},"
	" \"process\": {\"args\": [\"sleep\", \"1\"], \"cwd\": \"/\","
	"  \"env\": [\"PATH=/bin\", \"TERM=xterm\"], \"user\": {\"uid\": 5, \"gid\": 6,"
	"  \"additionalGids\": [7]}, \"capabilities\": {\"bounding\": [\"CAP_KILL\"],"
	"  \"effective\": [\"CAP_KILL\"], \"permitted\": [\"CAP_KILL\"]}},"
	" \"linux\": {\"namespaces\": [{\"type\": \"mount\"}]}}";

static struct spec *load(void)
{
	struct werr *err = NULL;
	struct spec *s = NULL;

	assert_int_equal(spec_parse(config, strlen(config), "config.json", &s, &err), 0);
	return s;
}

static char *args_sh[] = {"sh", "-c", "true", NULL};

static void flags_override_env_cwd_user_and_add_caps(void **state)
{
	char *env[] = {"TERM=dumb", "NEW=1", NULL};
	char *caps[] = {"CAP_SYS_ADMIN", "NET_RAW", NULL};
	uint32_t gids[] = {10};
	struct exec_opts o = {.args = args_sh,
			      .env = env,
			      .caps = caps,
			      .cwd = "/tmp",
			      .user = "1000",
			      .gids = gids,
			      .n_gids = 1,
			      .tty = true,
			      .no_new_privs = true};
	struct werr *err = NULL;
	struct spec *s = load();
	struct spec_process *p = &s->process;

	assert_int_equal(exec_build_process(&o, s, &err), 0);
	assert_string_equal(p->args[0], "sh");
	assert_string_equal(p->env[1], "TERM=dumb");
	assert_string_equal(p->env[2], "NEW=1");
	assert_null(p->env[3]);
	assert_string_equal(p->cwd, "/tmp");
	assert_int_equal(p->user.uid, 1000);
	assert_int_equal(p->user.gid, 6); /* no :GID keeps the config's */
	assert_int_equal(p->user.n_additional_gids, 2);
	assert_int_equal(p->user.additional_gids[1], 10);
	assert_string_equal(p->caps.bounding[1], "CAP_SYS_ADMIN");
	assert_string_equal(p->caps.effective[2], "CAP_NET_RAW");
	assert_null(p->caps.inheritable);
	assert_null(p->caps.ambient);
	assert_true(p->terminal);
	assert_true(p->no_new_privileges);
	spec_free(s);
}

static void bad_user_unknown_cap_and_no_args_fail(void **state)
{
	char *bad_cap[] = {"CAP_NOPE", NULL};
	struct exec_opts o = {.args = args_sh, .user = "bob"};
	struct werr *err = NULL;
	struct spec *s = load();

	assert_true(exec_build_process(&o, s, &err) < 0);
	assert_non_null(strstr(err->msg, "uid"));
	werr_free(&err);
	o.user = "1:x";
	assert_true(exec_build_process(&o, s, &err) < 0);
	werr_free(&err);
	o.user = NULL;
	o.caps = bad_cap;
	assert_true(exec_build_process(&o, s, &err) < 0);
	assert_non_null(strstr(err->msg, "CAP_NOPE"));
	werr_free(&err);
	o.caps = NULL;
	o.args = NULL;
	assert_true(exec_build_process(&o, s, &err) < 0);
	assert_non_null(strstr(err->msg, "args"));
	werr_free(&err);
	spec_free(s);
}

static void process_file_replaces_the_configs_process(void **state)
{
	char path[] = "/tmp/ward-unit-process.XXXXXX";
	const char *doc = "{\"args\": [\"id\"], \"cwd\": \"/etc\", \"env\": [\"X=1\"]}";
	int fd = mkstemp(path);
	struct exec_opts o = {.process_file = path, .cwd = "/ignored"};
	struct werr *err = NULL;
	struct spec *s = load();

	assert_true(fd >= 0);
	assert_int_equal(write_all(fd, doc, strlen(doc)), 0);
	close(fd);
	assert_int_equal(exec_build_process(&o, s, &err), 0);
	assert_string_equal(s->process.args[0], "id");
	assert_string_equal(s->process.cwd, "/etc");
	assert_string_equal(s->process.env[0], "X=1");
	assert_false(s->process.has_caps);
	unlink(path);
	spec_free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(flags_override_env_cwd_user_and_add_caps),
		cmocka_unit_test(bad_user_unknown_cap_and_no_args_fail),
		cmocka_unit_test(process_file_replaces_the_configs_process),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
