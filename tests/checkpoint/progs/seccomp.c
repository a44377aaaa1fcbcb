/* Checkpoint workload: seccomp filters.
 *   seccomp chains: chains of different length in two threads and a child, sharing their older
 *     part, installed with and without no_new_privs. The main thread installs A (getppid ->
 *     errno 42), starts a second thread (A only), installs B (getuid -> errno 43) and drops every
 *     capability (CAP_SYS_ADMIN too, no no_new_privs); it then forks a child that sets
 *     no_new_privs and installs C (getgid -> errno 44, SECCOMP_FILTER_FLAG_LOG) and D (munmap ->
 *     errno 45: a call the checkpoint engine itself injects at dump and restore). Each of the
 *     three counts ("m N", "t N", "c N" every 10 ms; the second thread drops its own capabilities
 *     first) and checks its filters on every round
 *     (prints "BAD ..." and exits 2 when a call is not denied as it should, or is denied when it
 *     should not be).
 *   seccomp strict: strict mode (only read/write/exit allowed), counting by busy waiting.
 *   seccomp notify: a filter that hands getppid to a listener (SECCOMP_RET_USER_NOTIF).
 *   seccomp threadcaps: no filter; a second thread drops its own capabilities, the leader keeps
 *     them (threads whose credentials differ: the image holds one set, so dump refuses).
 */
#include <errno.h>
#include <linux/audit.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static void say(const char *s)
{
	if (write(1, s, strlen(s)) < 0)
		_exit(3);
}

/* nr -> ret, everything else allowed. */
static int install(long nr, unsigned ret, unsigned flags)
{
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 0, 3),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (unsigned)nr, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, ret),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = {sizeof(f) / sizeof(f[0]), f};

	return (int)syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &prog);
}

/* nr must fail with errno e (e 0: must succeed). */
static int check(const char *who, long nr, int e)
{
	long r;
	char buf[96];

	errno = 0;
	r = syscall(nr);
	if (e ? (r == -1 && errno == e) : r >= 0)
		return 0;
	snprintf(buf, sizeof(buf), "BAD %s: syscall %ld gave %ld errno %d, want errno %d\n", who,
		 nr, r, errno, e);
	say(buf);
	return -1;
}

static void count(const char *who, long n)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%s %ld\n", who, n);
	say(buf);
}

static void nap(void)
{
	struct timespec ts = {0, 10000000};

	nanosleep(&ts, NULL);
}

static int drop_all_caps(void);

/* The thread drops its capabilities itself (credentials are per thread): a restore that gave it
 * the restorer's would show. */
static void *thread_main(void *arg)
{
	if (drop_all_caps() < 0)
		_exit(2);
	for (long n = 0;; n++) {
		if (check("t", SYS_getppid, 42) < 0 || check("t", SYS_getuid, 0) < 0)
			_exit(2);
		count("t", n);
		nap();
	}
	return NULL;
}

static int drop_all_caps(void)
{
	struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
	struct __user_cap_data_struct d[2] = {{0}};

	return (int)syscall(SYS_capset, &h, d);
}

static int chains(void)
{
	pthread_t t;
	pid_t child;

	if (install(SYS_getppid, SECCOMP_RET_ERRNO | 42, 0) < 0)
		return perror("seccomp A"), 1;
	if (pthread_create(&t, NULL, thread_main, NULL) != 0)
		return 1;
	if (install(SYS_getuid, SECCOMP_RET_ERRNO | 43, 0) < 0 || drop_all_caps() < 0)
		return perror("seccomp B, capset"), 1;
	child = fork();
	if (child < 0)
		return 1;
	if (child == 0) {
		if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
		    install(SYS_getgid, SECCOMP_RET_ERRNO | 44, SECCOMP_FILTER_FLAG_LOG) < 0 ||
		    install(SYS_munmap, SECCOMP_RET_ERRNO | 45, 0) < 0)
			return perror("seccomp C, D"), 1;
		for (long n = 0;; n++) {
			if (check("c", SYS_getppid, 42) < 0 || check("c", SYS_getuid, 43) < 0 ||
			    check("c", SYS_getgid, 44) < 0 || check("c", SYS_munmap, 45) < 0)
				_exit(2);
			count("c", n);
			nap();
		}
	}
	for (long n = 0;; n++) {
		if (check("m", SYS_getppid, 42) < 0 || check("m", SYS_getuid, 43) < 0 ||
		    check("m", SYS_getgid, 0) < 0)
			_exit(2);
		count("m", n);
		nap();
	}
}

/* Strict mode allows read, write, _exit and sigreturn only: count by spinning. */
static int strict(void)
{
	if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_STRICT, 0, 0, 0) < 0)
		return perror("strict"), 1;
	for (unsigned long n = 0;; n++) {
		char buf[32];
		int len = 0;

		for (volatile unsigned long spin = 0; spin < 20000000; spin++)
			;
		for (unsigned long v = n;; v /= 10) {
			memmove(buf + 1, buf, (size_t)len++);
			buf[0] = (char)('0' + v % 10);
			if (v < 10)
				break;
		}
		buf[len++] = '\n';
		if (write(1, buf, (size_t)len) != len)
			syscall(SYS_exit, 3);
	}
}

/* The listener is closed, as when it was handed to a supervisor outside (the fd itself would be
 * refused as an fd kind). */
static int notify(void)
{
	int listener;

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
	    (listener = install(SYS_getppid, SECCOMP_RET_USER_NOTIF,
				SECCOMP_FILTER_FLAG_NEW_LISTENER)) < 0)
		return perror("seccomp user notif"), 1;
	close(listener);
	for (long n = 0;; n++) {
		count("n", n);
		nap();
	}
}

static void *caps_thread(void *arg)
{
	if (drop_all_caps() < 0)
		_exit(2);
	for (long n = 0;; n++) {
		count("t", n);
		nap();
	}
	return NULL;
}

static int threadcaps(void)
{
	pthread_t t;

	if (pthread_create(&t, NULL, caps_thread, NULL) != 0)
		return 1;
	for (long n = 0;; n++) {
		count("m", n);
		nap();
	}
}

int main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "chains") == 0)
		return chains();
	if (argc > 1 && strcmp(argv[1], "strict") == 0)
		return strict();
	if (argc > 1 && strcmp(argv[1], "notify") == 0)
		return notify();
	if (argc > 1 && strcmp(argv[1], "threadcaps") == 0)
		return threadcaps();
	fprintf(stderr, "usage: seccomp chains|strict|notify|threadcaps\n");
	return 2;
}
