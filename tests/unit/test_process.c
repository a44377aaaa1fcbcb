/* The container process set-up: PATH lookup, exec errors, rlimits, capabilities and the user
 * switch (in forked children), hooks and console fd passing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/personality.h>
#include <sys/resource.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lib/util.h"
#include "runtime/console.h"
#include "runtime/hooks.h"
#include "runtime/process.h"

static char tmpdir[] = "/tmp/ward-test-process-XXXXXX";

static char *tmp_path(const char *name)
{
	return xasprintf("%s/%s", tmpdir, name);
}

static void make_file(const char *path, const char *content, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);

	assert_true(fd >= 0);
	assert_int_equal(write_all(fd, content, strlen(content)), 0);
	close(fd);
	assert_int_equal(chmod(path, mode), 0);
}

static int setup_tmpdir(void **state)
{
	char *d1, *d2, *f1, *f2;

	if (!mkdtemp(tmpdir))
		return -1;
	d1 = tmp_path("noexec");
	d2 = tmp_path("bin");
	f1 = tmp_path("noexec/tool");
	f2 = tmp_path("bin/tool");
	mkdir(d1, 0755);
	mkdir(d2, 0755);
	make_file(f1, "#!/bin/sh\n", 0644);
	make_file(f2, "#!/bin/sh\n", 0755);
	free(d1);
	free(d2);
	free(f1);
	free(f2);
	return 0;
}

static int teardown_tmpdir(void **state)
{
	char *cmd = xasprintf("rm -rf %s", tmpdir);
	int r = system(cmd);

	free(cmd);
	return r == 0 ? 0 : -1;
}

/* Run fn in a forked child; the child's exit status is fn's result (0 = behaved). */
static int in_child(int (*fn)(void *), void *arg)
{
	pid_t pid = fork();
	int status;

	assert_true(pid >= 0);
	if (pid == 0)
		_exit(fn(arg));
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	return WEXITSTATUS(status);
}

static unsigned long long status_field(const char *field)
{
	char line[256];
	unsigned long long v = ~0ULL;
	size_t flen = strlen(field);
	FILE *f = fopen("/proc/self/status", "re");

	if (!f)
		return v;
	while (fgets(line, sizeof(line), f))
		if (strncmp(line, field, flen) == 0 && line[flen] == ':')
			v = strtoull(line + flen + 1, NULL, 16);
	fclose(f);
	return v;
}

static void path_lookup_uses_container_path_env(void **state)
{
	char *path_env = xasprintf("PATH=/nonexistent:%s/noexec:%s/bin", tmpdir, tmpdir);
	char *env[] = {"HOME=/", path_env, NULL};
	char *ward_path = tmp_path("bin");
	char *want = tmp_path("bin/tool");
	char *no_path_env[] = {"HOME=/", NULL};
	char *got = NULL, *old_path;
	struct werr *err = NULL;
	int r;

	/* The non-executable tool earlier in PATH is skipped. */
	assert_int_equal(process_find_executable(env, "tool", &got, &err), 0);
	assert_string_equal(got, want);
	free(got);
	got = NULL;
	/* Without PATH in the container env the default is used, never ward's own PATH. */
	old_path = xstrdup(getenv("PATH"));
	setenv("PATH", ward_path, 1);
	r = process_find_executable(no_path_env, "tool", &got, &err);
	if (old_path)
		setenv("PATH", old_path, 1);
	assert_int_equal(r, -ENOENT);
	assert_null(got);
	assert_non_null(err);
	werr_free(&err);
	/* A name with a slash is not searched. */
	assert_int_equal(process_find_executable(env, "./x/tool", &got, &err), 0);
	assert_string_equal(got, "./x/tool");
	free(got);
	free(path_env);
	free(ward_path);
	free(want);
	free(old_path);
}

static void exec_error_names_missing_binary(void **state)
{
	char *path_env = xasprintf("PATH=%s/bin", tmpdir);
	char *env[] = {path_env, NULL};
	char *args[] = {"ward-no-such-binary", NULL};
	struct spec_process p = {.args = args, .env = env};
	struct werr *err = NULL;

	assert_int_equal(process_exec(&p, &err), -ENOENT);
	assert_string_equal(err->msg,
			    "exec: \"ward-no-such-binary\": executable file not found in $PATH");
	werr_free(&err);
	free(path_env);
}

static void exec_error_names_non_executable_path(void **state)
{
	char *file = tmp_path("noexec/tool");
	char *want = xasprintf("exec %s: permission denied", file);
	char *args[] = {file, NULL};
	struct spec_process p = {.args = args};
	struct werr *err = NULL;

	assert_int_equal(process_exec(&p, &err), -EACCES);
	assert_string_equal(err->msg, want);
	werr_free(&err);
	free(want);
	free(file);
}

static int raise_nofile_above_hard(void *arg)
{
	struct rlimit cur;
	struct spec_rlimit rl = {.resource = RLIMIT_NOFILE, .type = "RLIMIT_NOFILE"};
	struct spec_process p = {.rlimits = &rl, .n_rlimits = 1};
	struct werr *err = NULL;
	int r;

	if (getrlimit(RLIMIT_NOFILE, &cur) < 0)
		return 10;
	/* Only possible with CAP_SYS_RESOURCE: drop it so the test means the same everywhere. */
	if (cap_drop_bound(CAP_SYS_RESOURCE) < 0 && errno != EINVAL)
		return 11;
	{
		cap_t c = cap_get_proc();
		cap_value_t v = CAP_SYS_RESOURCE;

		cap_set_flag(c, CAP_EFFECTIVE, 1, &v, CAP_CLEAR);
		cap_set_flag(c, CAP_PERMITTED, 1, &v, CAP_CLEAR);
		if (cap_set_proc(c) < 0)
			return 12;
		cap_free(c);
	}
	rl.soft = rl.hard = cur.rlim_max + 1;
	r = process_apply_rlimits(&p, &err);
	if (r != -EPERM || !err)
		return 1;
	if (!strstr(err->msg, "setrlimit RLIMIT_NOFILE (soft ") ||
	    !strstr(err->msg, "Operation not permitted"))
		return 2;
	werr_free(&err);
	return 0;
}

static void rlimit_raise_above_hard_fails_naming_rlimit(void **state)
{
	assert_int_equal(in_child(raise_nofile_above_hard, NULL), 0);
}

static int apply_sched_oom(void *arg)
{
	char *flags[] = {"ADDR_NO_RANDOMIZE", NULL};
	char *bad_flags[] = {"NO_SUCH_PERSONALITY", NULL};
	struct spec_personality pers = {.set = true, .domain = PER_LINUX, .flags = flags};
	struct spec_process p = {
		.has_oom_score_adj = true,
		.oom_score_adj = 500,
		.scheduler = {.set = true, .policy = SCHED_BATCH, .nice = 5},
		.io_priority = {.set = true, .klass = 2, .priority = 4},
	};
	struct werr *err = NULL;
	char *adj = NULL;

	if (process_apply_sched_oom(&p, &pers, &err) < 0) {
		fprintf(stderr, "child: %s\n", err->msg);
		return 1;
	}
	if (read_file("/proc/self/oom_score_adj", &adj, NULL, NULL) < 0 || atoi(adj) != 500)
		return 2;
	free(adj);
	if (personality(0xffffffff) != (PER_LINUX | ADDR_NO_RANDOMIZE))
		return 3;
	errno = 0;
	if (sched_getscheduler(0) != SCHED_BATCH || getpriority(PRIO_PROCESS, 0) != 5)
		return 4;
	if (syscall(SYS_ioprio_get, 1, 0) != ((2 << 13) | 4))
		return 5;
	pers.flags = bad_flags;
	p = (struct spec_process){0};
	if (process_apply_sched_oom(&p, &pers, &err) != -EINVAL ||
	    strcmp(err->msg, "personality: unknown flag \"NO_SUCH_PERSONALITY\"") != 0)
		return 6;
	werr_free(&err);
	return 0;
}

static void sched_oom_personality_io_applied_in_child(void **state)
{
	assert_int_equal(in_child(apply_sched_oom, NULL), 0);
}

static int setgroups_denied_in_userns(void *arg)
{
	struct spec_process p = {.has_caps = false};
	struct werr *err = NULL;

	if (unshare(CLONE_NEWUSER) < 0)
		return 10;
	if (write_file("/proc/self/setgroups", "deny", 4, NULL) < 0 ||
	    write_file("/proc/self/uid_map", "0 0 1", 5, NULL) < 0 ||
	    write_file("/proc/self/gid_map", "0 0 1", 5, NULL) < 0)
		return 11;
	if (process_set_user_caps(&p, &err) < 0) {
		fprintf(stderr, "child: %s\n", err->msg);
		return 1;
	}
	/* Without a capabilities object every set ends up empty. */
	if (status_field("CapEff") != 0 || status_field("CapBnd") != 0)
		return 2;
	return 0;
}

static void user_ns_with_setgroups_denied_is_not_an_error(void **state)
{
	assert_int_equal(in_child(setgroups_denied_in_userns, NULL), 0);
}

static void caps_mask_ignores_unknown_and_newer_caps(void **state)
{
	char *names[] = {"CAP_KILL", "CAP_CHOWN", "CAP_NO_SUCH_THING", NULL};
	char *newer[] = {"CAP_CHECKPOINT_RESTORE", "CAP_NET_RAW", NULL};

	assert_int_equal(process_caps_mask(names, 40), (1ULL << CAP_KILL) | (1ULL << CAP_CHOWN));
	assert_int_equal(process_caps_mask(newer, 39), 1ULL << CAP_NET_RAW);
	assert_int_equal(process_caps_mask(newer, 40),
			 (1ULL << CAP_NET_RAW) | (1ULL << CAP_CHECKPOINT_RESTORE));
	assert_int_equal(process_caps_mask(NULL, 40), 0);
}

static int apply_kill_chown(void *arg)
{
	char *caps[] = {"CAP_KILL", "CAP_CHOWN", NULL};
	struct spec_process p = {
		.has_caps = true,
		.caps = {.bounding = caps, .effective = caps, .permitted = caps},
	};
	unsigned long long want = (1ULL << CAP_KILL) | (1ULL << CAP_CHOWN);
	struct werr *err = NULL;

	if (process_set_user_caps(&p, &err) < 0) {
		fprintf(stderr, "child: %s\n", err->msg);
		return 1;
	}
	if (status_field("CapEff") != want || status_field("CapBnd") != want ||
	    status_field("CapPrm") != want || status_field("CapInh") != 0 ||
	    status_field("CapAmb") != 0)
		return 2;
	if (umask(0) != 0022)
		return 3;
	return 0;
}

static void caps_applied_in_child_match_config(void **state)
{
	assert_int_equal(in_child(apply_kill_chown, NULL), 0);
}

static int switch_to_1000_with_bind(void *arg)
{
	char *caps[] = {"CAP_NET_BIND_SERVICE", NULL};
	uint32_t gids[] = {1001, 1002};
	struct spec_process p = {
		.has_caps = true,
		.caps = {caps, caps, caps, caps, caps},
		.user = {.uid = 1000,
			 .gid = 1000,
			 .additional_gids = gids,
			 .n_additional_gids = 2,
			 .has_umask = true,
			 .umask = 077},
		.no_new_privileges = true,
	};
	unsigned long long want = 1ULL << CAP_NET_BIND_SERVICE;
	struct werr *err = NULL;
	gid_t groups[8];

	if (process_set_user_caps(&p, &err) < 0) {
		fprintf(stderr, "child: %s\n", err->msg);
		return 1;
	}
	if (getuid() != 1000 || geteuid() != 1000 || getgid() != 1000 || getegid() != 1000)
		return 2;
	if (getgroups(8, groups) != 2 || groups[0] != 1001 || groups[1] != 1002)
		return 3;
	if (status_field("CapEff") != want || status_field("CapBnd") != want ||
	    status_field("CapPrm") != want || status_field("CapInh") != want ||
	    status_field("CapAmb") != want)
		return 4;
	if (status_field("NoNewPrivs") != 1 || umask(0) != 077)
		return 5;
	return 0;
}

static void user_switch_keeps_listed_caps(void **state)
{
	assert_int_equal(in_child(switch_to_1000_with_bind, NULL), 0);
}

static int mark_fds_cloexec(void *arg)
{
	int keep = dup(STDERR_FILENO), marked = dup(STDERR_FILENO);
	struct werr *err = NULL;

	/* keep is 3 when the test runs with only stdio open; preserve exactly that far. */
	if (process_close_fds(keep - 2, &err) < 0)
		return 1;
	if (fcntl(keep, F_GETFD) & FD_CLOEXEC)
		return 2;
	if (!(fcntl(marked, F_GETFD) & FD_CLOEXEC))
		return 3;
	return 0;
}

static void close_fds_marks_all_but_preserved_cloexec(void **state)
{
	assert_int_equal(in_child(mark_fds_cloexec, NULL), 0);
}

static void chdir_error_quotes_cwd_like_runc(void **state)
{
	struct spec_process p = {.cwd = "/ward-no-such-dir"};
	struct werr *err = NULL;

	assert_int_equal(process_chdir(&p, &err), -ENOENT);
	assert_string_equal(err->msg, "chdir to cwd (\"/ward-no-such-dir\") set in config.json "
				      "failed: No such file or directory");
	werr_free(&err);
}

static int chdir_outside_the_root(void *arg)
{
	char *root = tmp_path("root");
	struct spec_process p = {.cwd = "."};
	struct werr *err = NULL;
	int outside;

	if (mkdir(root, 0755) < 0 && errno != EEXIST)
		return 10;
	outside = open(tmpdir, O_RDONLY | O_DIRECTORY);
	if (outside < 0 || chroot(root) < 0)
		return 11;
	/* A directory fd leaked from the host puts the cwd outside the new root. */
	if (fchdir(outside) < 0)
		return 12;
	if (process_chdir(&p, &err) != -ENOENT && process_chdir(&p, &err) != -EPERM)
		return 1;
	if (!strstr(err->msg, "cwd (\".\")"))
		return 2;
	/* Inside the root the same call is fine. */
	werr_free(&err);
	p.cwd = "/";
	if (process_chdir(&p, &err) < 0)
		return 3;
	return 0;
}

static void chdir_refuses_cwd_outside_the_root(void **state)
{
	assert_int_equal(in_child(chdir_outside_the_root, NULL), 0);
}

static char *slurp(const char *path, size_t *len)
{
	char *buf = NULL;

	assert_int_equal(read_file(path, &buf, len, NULL), 0);
	return buf;
}

static void hooks_receive_state_on_stdin(void **state)
{
	const char *json = "{\"ociVersion\":\"1.2.0\",\"id\":\"c1\",\"status\":\"created\"}";
	char *out = tmp_path("state.json");
	char *cmd = xasprintf("cat > %s", out);
	char *args[] = {"sh", "-c", cmd, NULL};
	struct spec_hook h = {.path = "/bin/sh", .args = args};
	struct werr *err = NULL;
	char *got;

	assert_int_equal(hooks_run("prestart", &h, 1, json, &err), 0);
	assert_null(err);
	got = slurp(out, NULL);
	assert_string_equal(got, json);
	free(got);
	free(cmd);
	free(out);
}

static void hooks_get_state_larger_than_a_pipe(void **state)
{
	size_t n = 1 << 20, len = 0;
	char *json = xmalloc(n + 1);
	char *out = tmp_path("big.json");
	char *cmd = xasprintf("sleep 0.2; cat > %s", out);
	char *args[] = {"sh", "-c", cmd, NULL};
	char *ignore_args[] = {"true", NULL};
	struct spec_hook h[] = {
		{.path = "/bin/sh", .args = args, .has_timeout = true, .timeout = 10},
		/* Never reads stdin: ward must survive the broken pipe. */
		{.path = "/bin/true", .args = ignore_args},
	};
	struct werr *err = NULL;
	char *got;

	memset(json, 'x', n);
	json[n] = '\0';
	assert_int_equal(hooks_run("poststart", h, 2, json, &err), 0);
	got = slurp(out, &len);
	assert_int_equal(len, n);
	assert_memory_equal(got, json, n);
	free(got);
	free(cmd);
	free(out);
	free(json);
}

static void hook_env_is_only_what_config_gives(void **state)
{
	char *out = tmp_path("env");
	char *cmd = xasprintf("/bin/cat /proc/$$/environ > %s", out);
	char *args[] = {"sh", "-c", cmd, NULL};
	char *env[] = {"FOO=bar", "HOOK=1", NULL};
	struct spec_hook h = {.path = "/bin/sh", .args = args, .env = env};
	struct werr *err = NULL;
	size_t len;
	char *got;

	setenv("WARD_PARENT_ONLY", "1", 1);
	assert_int_equal(hooks_run("createRuntime", &h, 1, "{}", &err), 0);
	got = slurp(out, &len);
	assert_int_equal(len, sizeof("FOO=bar\0HOOK=1"));
	assert_memory_equal(got, "FOO=bar\0HOOK=1", len);
	free(got);
	/* No env in the config: an empty environment, not ward's. */
	h.env = NULL;
	assert_int_equal(hooks_run("createRuntime", &h, 1, "{}", &err), 0);
	got = slurp(out, &len);
	assert_int_equal(len, 0);
	free(got);
	free(cmd);
	free(out);
}

static void hook_timeout_kills_and_reports(void **state)
{
	char *args[] = {"sleep", "10", NULL};
	struct spec_hook h = {
		.path = "/bin/sleep", .args = args, .has_timeout = true, .timeout = 1};
	struct werr *err = NULL;
	struct timespec a, b;

	clock_gettime(CLOCK_MONOTONIC, &a);
	assert_int_equal(hooks_run("poststop", &h, 1, "{}", &err), -ETIMEDOUT);
	clock_gettime(CLOCK_MONOTONIC, &b);
	assert_string_equal(err->msg, "poststop hook #0 (/bin/sleep): timed out after 1 seconds");
	assert_true(b.tv_sec - a.tv_sec < 3);
	/* Killed and reaped: no child left behind. */
	assert_int_equal(waitpid(-1, NULL, WNOHANG), -1);
	assert_int_equal(errno, ECHILD);
	werr_free(&err);
}

static void hook_failure_names_kind_index_path(void **state)
{
	char *marker = tmp_path("third-ran");
	char *cmd = xasprintf("touch %s", marker);
	char *args[] = {"sh", "-c", cmd, NULL};
	struct spec_hook h[] = {
		{.path = "/bin/true"},
		{.path = "/bin/false"},
		{.path = "/bin/sh", .args = args},
	};
	struct spec_hook missing = {.path = "/ward/no/such/hook"};
	struct werr *err = NULL;

	assert_int_equal(hooks_run("prestart", h, 3, "{}", &err), -EIO);
	assert_string_equal(err->msg, "prestart hook #1 (/bin/false): exit status 1");
	assert_int_equal(access(marker, F_OK), -1);
	werr_free(&err);
	assert_int_equal(hooks_run("startContainer", &missing, 1, "{}", &err), -ENOENT);
	assert_string_equal(err->msg, "startContainer hook #0 (/ward/no/such/hook): exec: "
				      "No such file or directory");
	werr_free(&err);
	free(cmd);
	free(marker);
}

static void console_fd_passes_over_socketpair(void **state)
{
	int master = -1, got = -1, slave, sv[2];
	char *slave_path = NULL, buf[64] = {0};
	struct werr *err = NULL;
	ssize_t n;

	assert_int_equal(console_open_pty(&master, &slave_path, &err), 0);
	assert_true(strncmp(slave_path, "/dev/pts/", 9) == 0);
	slave = open(slave_path, O_RDWR | O_NOCTTY | O_CLOEXEC);
	assert_true(slave >= 0);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	assert_int_equal(console_send_fd(sv[0], master, "/dev/ptmx", &err), 0);
	close(master);
	assert_int_equal(console_recv_fd(sv[1], &got, &err), 0);
	assert_true(got >= 0);
	assert_int_equal(console_set_size(got, 24, 80, &err), 0);
	assert_int_equal(write_all(got, "hello\n", 6), 0);
	n = read(slave, buf, sizeof(buf) - 1);
	assert_int_equal(n, 6);
	assert_string_equal(buf, "hello\n");
	/* Nothing to receive: an error, not a bogus fd. */
	close(sv[0]);
	assert_int_equal(console_recv_fd(sv[1], &master, &err), -EBADMSG);
	werr_free(&err);
	close(sv[1]);
	close(got);
	close(slave);
	free(slave_path);
}

static void console_open_for_applies_the_console_size(void **state)
{
	struct spec_process p = {.has_console_size = true, .console_height = 33, .console_width = 101};
	int master = -1, slave = -1;
	char *slave_path = NULL;
	struct werr *err = NULL;
	struct winsize ws = {0};

	assert_int_equal(console_open_for(&p, &master, &slave, &slave_path, &err), 0);
	assert_true(strncmp(slave_path, "/dev/pts/", 9) == 0);
	assert_int_equal(ioctl(slave, TIOCGWINSZ, &ws), 0);
	assert_int_equal(ws.ws_row, 33);
	assert_int_equal(ws.ws_col, 101);
	close(master);
	close(slave);
	free(slave_path);
}

static void console_connect_error_names_socket(void **state)
{
	struct werr *err = NULL;

	assert_int_equal(console_connect("/ward/no/such.sock", &err), -ENOENT);
	assert_string_equal(err->msg, "connect to console socket /ward/no/such.sock: No such file "
				      "or directory");
	werr_free(&err);
}

static void passwd_home_is_the_uids_home_field(void **state)
{
	static const char passwd[] = "root:x:0:0:root:/root:/bin/sh\n"
				     "# a comment\n"
				     "short:x:7\n"
				     "daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n"
				     "nohome:x:5:5:::/bin/sh\n"
				     "user:x:1000:1000:A User,,,:/home/user:/bin/bash";
	char *h;

	(void)state;
	h = process_passwd_home(passwd, 0);
	assert_string_equal(h, "/root");
	free(h);
	h = process_passwd_home(passwd, 1);
	assert_string_equal(h, "/usr/sbin");
	free(h);
	h = process_passwd_home(passwd, 1000); /* last line, no newline */
	assert_string_equal(h, "/home/user");
	free(h);
	assert_null(process_passwd_home(passwd, 5)); /* empty home */
	assert_null(process_passwd_home(passwd, 7)); /* too few fields */
	assert_null(process_passwd_home(passwd, 100));
	assert_null(process_passwd_home("", 0));
	assert_null(process_passwd_home("x:x:10x:0::/h:\n", 10)); /* not a number */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(passwd_home_is_the_uids_home_field),
		cmocka_unit_test(path_lookup_uses_container_path_env),
		cmocka_unit_test(exec_error_names_missing_binary),
		cmocka_unit_test(exec_error_names_non_executable_path),
		cmocka_unit_test(rlimit_raise_above_hard_fails_naming_rlimit),
		cmocka_unit_test(sched_oom_personality_io_applied_in_child),
		cmocka_unit_test(caps_mask_ignores_unknown_and_newer_caps),
		cmocka_unit_test(user_ns_with_setgroups_denied_is_not_an_error),
		cmocka_unit_test(caps_applied_in_child_match_config),
		cmocka_unit_test(user_switch_keeps_listed_caps),
		cmocka_unit_test(close_fds_marks_all_but_preserved_cloexec),
		cmocka_unit_test(chdir_error_quotes_cwd_like_runc),
		cmocka_unit_test(chdir_refuses_cwd_outside_the_root),
		cmocka_unit_test(hooks_receive_state_on_stdin),
		cmocka_unit_test(hooks_get_state_larger_than_a_pipe),
		cmocka_unit_test(hook_env_is_only_what_config_gives),
		cmocka_unit_test(hook_timeout_kills_and_reports),
		cmocka_unit_test(hook_failure_names_kind_index_path),
		cmocka_unit_test(console_fd_passes_over_socketpair),
		cmocka_unit_test(console_open_for_applies_the_console_size),
		cmocka_unit_test(console_connect_error_names_socket),
	};

	return cmocka_run_group_tests(tests, setup_tmpdir, teardown_tmpdir);
}
