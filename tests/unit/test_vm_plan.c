/* VM isolation's pure logic (runtime/vm.c): guest RAM and vCPUs from the OCI resources, the
 * guest command line ward-init reads back (vmm_shim/guest/ward_init_cmdline.h), and the VMM's
 * seccomp allow-list (vmm_shim/vm_seccomp.c) in a child process. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <linux/kvm.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "runtime/vm.h"
#include "vmm_shim/guest/ward_init_cmdline.h"
#include "vmm_shim/vmm.h"

static struct spec *parse_spec(const char *json)
{
	struct spec *s = NULL;
	struct werr *err = NULL;

	if (spec_parse(json, strlen(json), "config.json", &s, &err) < 0)
		fail_msg("spec_parse: %s", err->msg);
	return s;
}

static void guest_ram_is_the_memory_limit_less_the_vmm_overhead(void **state)
{
	struct cgroup_resources r = {0};
	struct werr *err = NULL;
	unsigned mib = 0;

	assert_int_equal(vm_guest_mem_mib(NULL, &mib, &err), 0);
	assert_int_equal(mib, VM_DEFAULT_MEM_MIB);
	r.memory.limit.set = true;
	r.memory.limit.v = -1;
	assert_int_equal(vm_guest_mem_mib(&r, &mib, &err), 0);
	assert_int_equal(mib, VM_DEFAULT_MEM_MIB);
	r.memory.limit.v = 512ll << 20;
	assert_int_equal(vm_guest_mem_mib(&r, &mib, &err), 0);
	assert_int_equal(mib, 512 - VM_OVERHEAD_MIB);
	r.memory.limit.v = (long long)(VMM_MIN_MEM_MIB + VM_OVERHEAD_MIB) << 20;
	assert_int_equal(vm_guest_mem_mib(&r, &mib, &err), 0);
	assert_int_equal(mib, VMM_MIN_MEM_MIB);
	r.memory.limit.v -= 1;
	assert_true(vm_guest_mem_mib(&r, &mib, &err) < 0);
	assert_non_null(strstr(err->msg, "linux.resources.memory.limit"));
	assert_non_null(strstr(err->msg, "too small for a micro-VM"));
	werr_free(&err);
}

static void vcpus_are_the_cpu_quota_rounded_up(void **state)
{
	struct cgroup_resources r = {0};

	assert_int_equal(vm_guest_vcpus(NULL), 1);
	assert_int_equal(vm_guest_vcpus(&r), 1);
	r.cpu.quota.set = true;
	r.cpu.quota.v = -1;
	assert_int_equal(vm_guest_vcpus(&r), 1);
	r.cpu.quota.v = 50000; /* default period 100000 */
	assert_int_equal(vm_guest_vcpus(&r), 1);
	r.cpu.quota.v = 150000;
	assert_int_equal(vm_guest_vcpus(&r), 2);
	r.cpu.period.set = true;
	r.cpu.period.v = 50000;
	assert_int_equal(vm_guest_vcpus(&r), 3);
	r.cpu.quota.v = 1000000000;
	assert_int_equal(vm_guest_vcpus(&r), VMM_MAX_VCPUS);
}

static void the_guest_reads_back_exactly_the_process(void **state)
{
	struct spec *s = parse_spec(
		"{\"ociVersion\":\"1.2.0\",\"root\":{\"path\":\"rootfs\"},\"hostname\":\"my box\","
		"\"process\":{\"cwd\":\"/srv/a b\",\"user\":{\"uid\":1000,\"gid\":100},"
		"\"args\":[\"/bin/sh\",\"-c\",\"echo 100%, \\\"done\\\"; exit 7\"],"
		"\"env\":[\"PATH=/bin\",\"X=a,b=c d\"],"
		"\"rlimits\":[{\"type\":\"RLIMIT_NOFILE\",\"soft\":777,\"hard\":888},"
		"{\"type\":\"RLIMIT_CORE\",\"soft\":18446744073709551615,"
		"\"hard\":18446744073709551615}]}}");
	struct werr *err = NULL;
	struct winit_job job;
	const char *bad;
	char *cl = NULL;

	assert_int_equal(vm_guest_cmdline(s, &cl, &err), 0);
	assert_non_null(strstr(cl, "console=ttyS0"));
	assert_int_equal(winit_parse_cmdline(cl, &job, &bad), 0);
	assert_int_equal(job.n_args, 3);
	assert_string_equal(job.args[2], "echo 100%, \"done\"; exit 7");
	assert_int_equal(job.n_env, 2);
	assert_string_equal(job.env[1], "X=a,b=c d");
	assert_string_equal(job.cwd, "/srv/a b");
	assert_string_equal(job.hostname, "my box");
	assert_int_equal(job.uid, 1000);
	assert_int_equal(job.gid, 100);
	assert_int_equal(job.n_rlimits, 2);
	assert_int_equal(job.rlimits[0].resource, RLIMIT_NOFILE);
	assert_int_equal(job.rlimits[0].soft, 777);
	assert_int_equal(job.rlimits[0].hard, 888);
	assert_int_equal(job.rlimits[1].resource, RLIMIT_CORE);
	assert_true(job.rlimits[1].soft == ~0ull && job.rlimits[1].hard == ~0ull);
	free(cl);
	spec_free(s);
}

static void a_command_line_over_2_kib_is_refused(void **state)
{
	char json[8192];
	struct spec *s;
	struct werr *err = NULL;
	char *cl = NULL;
	char big[3000];

	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	snprintf(json, sizeof(json),
		 "{\"ociVersion\":\"1.2.0\",\"root\":{\"path\":\"rootfs\"},"
		 "\"process\":{\"cwd\":\"/\",\"user\":{\"uid\":0,\"gid\":0},"
		 "\"args\":[\"echo\",\"%s\"]}}",
		 big);
	s = parse_spec(json);
	assert_true(vm_guest_cmdline(s, &cl, &err) < 0);
	assert_null(cl);
	assert_non_null(strstr(err->msg, "kernel command line"));
	werr_free(&err);
	spec_free(s);
}

static void the_isolation_annotation_is_vm_jail_or_an_error(void **state)
{
	struct spec *s = parse_spec(
		"{\"ociVersion\":\"1.2.0\",\"root\":{\"path\":\"rootfs\"},"
		"\"process\":{\"cwd\":\"/\",\"user\":{\"uid\":0,\"gid\":0},\"args\":[\"true\"]},"
		"\"annotations\":{\"org.ward.isolation\":\"jail\"}}");
	struct werr *err = NULL;
	bool vm = true;

	assert_int_equal(vm_isolation_wanted(s, &vm, &err), 0);
	assert_false(vm);
	vm_set_annotation(s);
	assert_int_equal(vm_isolation_wanted(s, &vm, &err), 0);
	assert_true(vm);
	assert_int_equal(s->n_annotations, 1);
	free(s->annotations[0].value);
	s->annotations[0].value = strdup("kvm");
	assert_true(vm_isolation_wanted(s, &vm, &err) < 0);
	assert_non_null(strstr(err->msg, "org.ward.isolation"));
	werr_free(&err);
	spec_free(s);
}

/* vm.sock lets whoever connects run anything as any user in the guest: 0600 even when the
 * caller's umask is 0 (the state directory is 0711, so others can reach it). */
static void the_control_socket_is_for_its_owner_only_whatever_the_umask(void **state)
{
	char dir[] = "/tmp/ward-vmsock-XXXXXX";
	struct werr *err = NULL;
	struct stat st;
	mode_t old;
	int dfd, fd;

	assert_non_null(mkdtemp(dir));
	dfd = open(dir, O_DIRECTORY | O_RDONLY | O_CLOEXEC);
	assert_true(dfd >= 0);
	old = umask(0);
	fd = vm_control_listen(dfd, &err);
	umask(old);
	assert_true(fd >= 0);
	assert_int_equal(fstatat(dfd, VM_CONTROL_SOCKET, &st, 0), 0);
	assert_true(S_ISSOCK(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0600);
	close(fd);
	unlinkat(dfd, VM_CONTROL_SOCKET, 0);
	close(dfd);
	rmdir(dir);
}

/* Run fn in a child under the VMM's filter; its wait status. */
static int under_filter(void (*fn)(void))
{
	int status;
	pid_t pid = fork();

	if (pid == 0) {
		struct werr *err = NULL;

		if (vmm_seccomp_install(&err) < 0)
			_exit(100);
		fn();
		_exit(0);
	}
	waitpid(pid, &status, 0);
	return status;
}

static void *nothing(void *arg)
{
	return arg;
}

static __attribute__((unused)) void allowed_calls(void)
{
	pthread_t t;
	time_t now = time(NULL);
	struct tm tm;
	char c = 0;

	if (write(STDERR_FILENO, &c, 0) < 0 || getpid() <= 0)
		_exit(1);
	/* the CMOS clock's conversion: libc's time zone set-up must not open files now */
	if (!gmtime_r(&now, &tm))
		_exit(3);
	/* an ioctl the VMM makes, on a fd that is no KVM fd: fails, but is allowed */
	if (syscall(SYS_ioctl, 0, KVM_RUN, 0) == 0)
		_exit(2);
	/* threads (clone3 falls back to clone), and signals to them (the vCPU kicks) */
	if (pthread_create(&t, NULL, nothing, NULL) != 0 || pthread_join(t, NULL) != 0)
		_exit(4);
	if (pthread_kill(pthread_self(), 0) != 0)
		_exit(5);
}

static void signals_another_process(void)
{
	/* signal 0 only checks: the parent is not harmed when the filter lets it through */
	syscall(SYS_tgkill, getppid(), getppid(), 0);
}

static void signals_with_tkill(void)
{
	syscall(SYS_tkill, getpid(), 0);
}

static void makes_a_thread_in_a_new_namespace(void)
{
	/* the kernel refuses CLONE_THREAD without CLONE_SIGHAND (EINVAL), after the filter */
	syscall(SYS_clone, CLONE_THREAD | CLONE_NEWNET, 0, 0, 0, 0);
}

static void opens_a_file(void)
{
	syscall(SYS_openat, -100, "/etc/hostname", 0);
}

static void execs(void)
{
	char *argv[] = {"/bin/true", NULL};

	execv(argv[0], argv);
}

static void forks(void)
{
	/* a process, not a thread: clone without CLONE_THREAD */
	syscall(SYS_clone, 17 /* SIGCHLD */, 0, 0, 0, 0);
}

static void the_vmm_filter_allows_its_calls_and_kills_on_others(void **state)
{
	int st;

#ifndef __SANITIZE_ADDRESS__
	/* ASan's runtime makes calls of its own around threads (sigaltstack, madvise...) that
	 * the VMM's allow-list rightly refuses: the allowed set is checked in the plain build. */
	st = under_filter(allowed_calls);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
#endif
	st = under_filter(opens_a_file);
	assert_true(WIFSIGNALED(st));
	assert_int_equal(WTERMSIG(st), SIGSYS);
	st = under_filter(execs);
	assert_true(WIFSIGNALED(st));
	assert_int_equal(WTERMSIG(st), SIGSYS);
	st = under_filter(forks);
	assert_true(WIFSIGNALED(st));
	assert_int_equal(WTERMSIG(st), SIGSYS);
	st = under_filter(signals_another_process);
	assert_true(WIFSIGNALED(st));
	assert_int_equal(WTERMSIG(st), SIGSYS);
	st = under_filter(signals_with_tkill);
	assert_true(WIFSIGNALED(st));
	assert_int_equal(WTERMSIG(st), SIGSYS);
	st = under_filter(makes_a_thread_in_a_new_namespace);
	assert_true(WIFSIGNALED(st));
	assert_int_equal(WTERMSIG(st), SIGSYS);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(guest_ram_is_the_memory_limit_less_the_vmm_overhead),
		cmocka_unit_test(vcpus_are_the_cpu_quota_rounded_up),
		cmocka_unit_test(the_guest_reads_back_exactly_the_process),
		cmocka_unit_test(a_command_line_over_2_kib_is_refused),
		cmocka_unit_test(the_isolation_annotation_is_vm_jail_or_an_error),
		cmocka_unit_test(the_vmm_filter_allows_its_calls_and_kills_on_others),
		cmocka_unit_test(the_control_socket_is_for_its_owner_only_whatever_the_umask),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
