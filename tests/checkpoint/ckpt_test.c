/* The checkpoint engine's tests: each runs in a fresh pid and mount namespace (this program's
 * child is the namespace's init), starts a small static workload, checkpoints it (killing it),
 * restores it at the same pids and checks what the workload observably does afterwards.
 *   ckpt_test PROGS_DIR [TEST...]
 * Prints one line per test and "checkpoint: N passed, M failed". */
#include <errno.h>
#include <fcntl.h>
#include <dirent.h>
#include <ftw.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "checkpoint/checkpoint.h"
#include "lib/util.h"

static const char *progs;
static char tmpdir[128];

struct t {
	char out[512], img[512], msg[512];
	struct ck_stats ds, rs;
	int extra_fd; /* passed to the workload as fd 5 when >= 0 */
	bool file_locks; /* dump() saves file locks */
};

static int fail(struct t *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(struct t *t, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(t->msg, sizeof(t->msg), fmt, ap);
	va_end(ap);
	return -1;
}

static void nap_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000};

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static pid_t spawn(struct t *t, char *const argv[])
{
	pid_t pid = fork();

	if (pid == 0) {
		int out = open(t->out, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		int null = open("/dev/null", O_RDONLY);

		dup2(null, 0);
		dup2(out, 1);
		dup2(out, 2);
		if (t->extra_fd >= 0)
			dup2(t->extra_fd, 5);
		for (int fd = 3; fd < 1024; fd++)
			if (fd != 5 || t->extra_fd < 0)
				close(fd);
		execv(argv[0], argv);
		_exit(127);
	}
	return pid;
}

static char *prog(const char *name)
{
	return xasprintf("%s/%s", progs, name);
}

static char *slurp(const char *path)
{
	char *s = NULL;

	if (read_file(path, &s, NULL, NULL) < 0)
		return xstrdup("");
	return s;
}

/* Wait until the output holds at least `lines` lines, or `text`. */
static int wait_output(struct t *t, int lines, const char *text, int timeout_ms)
{
	for (int waited = 0; waited < timeout_ms; waited += 5) {
		_cleanup_free_ char *s = slurp(t->out);
		int n = 0;

		for (char *p = s; (p = strchr(p, '\n')); p++)
			n++;
		if ((lines && n >= lines) || (text && strstr(s, text)))
			return 0;
		nap_ms(5);
	}
	return fail(t, "workload output not there after %d ms", timeout_ms);
}

static int dump(struct t *t, pid_t pid, bool leave_running)
{
	struct ck_dump_opts o = {
		.root = pid, .dir = t->img, .leave_running = leave_running, .file_locks = t->file_locks};
	_cleanup_werr_ struct werr *err = NULL;

	if (ck_dump(&o, &t->ds, &err) < 0)
		return fail(t, "checkpoint: %s", err->msg);
	/* The killed tree's processes whose parent died first are this init's now: reap them,
	 * or their pids are still taken when the restore asks for them (clone3 set_tid EEXIST). */
	for (int waited = 0; !leave_running && waited < 2000; waited += 5) {
		pid_t r;

		while ((r = waitpid(-1, NULL, WNOHANG)) > 0)
			;
		if (r < 0 && errno == ECHILD)
			break;
		nap_ms(5);
	}
	return 0;
}

static int restore(struct t *t, pid_t *root)
{
	struct ck_restore_opts o = {.dir = t->img};
	_cleanup_werr_ struct werr *err = NULL;

	if (ck_restore(&o, root, &t->rs, &err) < 0)
		return fail(t, "restore: %s", err->msg);
	return 0;
}

static bool gone(pid_t pid)
{
	return kill(pid, 0) < 0 && errno == ESRCH;
}

static int wait_exit(struct t *t, pid_t pid, int timeout_ms, int *status)
{
	for (int waited = 0; waited < timeout_ms; waited += 5) {
		pid_t r = waitpid(pid, status, WNOHANG);

		if (r == pid)
			return 0;
		nap_ms(5);
	}
	kill(pid, SIGKILL);
	waitpid(pid, status, 0);
	return fail(t, "restored process %d still running after %d ms", pid, timeout_ms);
}

/* The numbers printed must be 0, 1, 2, ... without a gap or a restart; returns the last. */
static long check_sequence(struct t *t, const char *s)
{
	long want = 0;

	for (const char *p = s; *p; p = strchr(p, '\n') + 1) {
		if (!strchr(p, '\n'))
			break; /* a partial last line: killed mid-write is not possible, but be
				  exact */
		if (strtol(p, NULL, 10) != want)
			return fail(t, "line %ld reads %ld: the counter did not continue", want,
				    strtol(p, NULL, 10));
		want++;
	}
	return want - 1;
}

/* Progress, not a rate: polls the counter's output until its count reaches want or 10 s pass (a
 * loaded machine is slow); the last count, or -1 if the sequence is broken. */
static long count_reaches(struct t *t, long want)
{
	long n = -1;

	for (int waited = 0; waited <= 10000; waited += 50) {
		_cleanup_free_ char *s = slurp(t->out);

		if ((n = check_sequence(t, s)) < 0 || n >= want)
			break;
		nap_ms(50);
	}
	return n;
}

static int t_counter_continues(struct t *t)
{
	_cleanup_free_ char *bin = prog("counter");
	char *argv[] = {bin, NULL};
	pid_t pid = spawn(t, argv), root;
	long before, after;
	int st;

	if (wait_output(t, 50, NULL, 5000) < 0 || dump(t, pid, false) < 0)
		return -1;
	if (!gone(pid))
		return fail(t,
			    "the workload still runs after a checkpoint without --leave-running");
	{
		_cleanup_free_ char *s = slurp(t->out);

		if ((before = check_sequence(t, s)) < 0)
			return -1;
	}
	nap_ms(50);
	if (restore(t, &root) < 0)
		return -1;
	if (root != pid)
		return fail(t, "restored at pid %d, not %d", root, pid);
	after = count_reaches(t, before + 20);
	kill(root, SIGKILL);
	waitpid(root, &st, 0);
	if (after < 0)
		return -1;
	if (after < before + 20)
		return fail(t, "counter at %ld before, %ld after 10 s of restored run", before,
			    after);
	snprintf(t->msg, sizeof(t->msg), "counted %ld before, on to %ld after", before, after);
	return 0;
}

static int t_leave_running(struct t *t)
{
	_cleanup_free_ char *bin = prog("counter");
	char *argv[] = {bin, NULL};
	pid_t pid = spawn(t, argv);
	long at_dump, later;
	int st;

	if (wait_output(t, 50, NULL, 5000) < 0 || dump(t, pid, true) < 0)
		return -1;
	{
		_cleanup_free_ char *s = slurp(t->out);

		at_dump = check_sequence(t, s);
	}
	later = count_reaches(t, at_dump + 20);
	if (later >= 0 && gone(pid))
		return fail(t, "the workload died after a --leave-running checkpoint");
	kill(pid, SIGKILL);
	waitpid(pid, &st, 0);
	if (later < 0)
		return -1;
	if (later < at_dump + 20)
		return fail(t, "counter stalled: %ld at dump, %ld 10 s later", at_dump, later);
	snprintf(t->msg, sizeof(t->msg), "kept counting: %ld at dump, %ld after", at_dump, later);
	return 0;
}

/* Restore a dumped bigmem and have it check its memory: it prints "ok" and exits 0. */
static int restore_bigmem_checks(struct t *t)
{
	_cleanup_free_ char *s = NULL;
	pid_t root;
	int st;

	if (restore(t, &root) < 0)
		return -1;
	kill(root, SIGUSR1);
	if (wait_exit(t, root, 20000, &st) < 0)
		return -1;
	s = slurp(t->out);
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0 || strcmp(s, "ready\nok\n") != 0)
		return fail(t, "status 0x%x, output \"%s\"", st, s);
	return 0;
}

static int t_memory_identical(struct t *t)
{
	_cleanup_free_ char *bin = prog("bigmem");
	char *argv[] = {bin, "256", NULL};
	pid_t pid = spawn(t, argv);

	if (wait_output(t, 0, "ready\n", 20000) < 0 || dump(t, pid, false) < 0 ||
	    restore_bigmem_checks(t) < 0)
		return -1;
	snprintf(t->msg, sizeof(t->msg), "256 MiB pattern, heap and sigmask intact");
	return 0;
}

/* The back half of pid's pages file out of the page cache (written out first): the restore
 * must take the front half from the cache and read the rest from the disk. *left: how many of
 * its pages are still cached. */
static int evict_back_half(struct t *t, pid_t pid, size_t *left)
{
	_cleanup_free_ char *path = xasprintf("%s/pages-%d.img", t->img, pid);
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat sb;
	unsigned char *vec;
	void *m;
	off_t half;

	if (fd < 0 || fstat(fd, &sb) < 0 || sb.st_size < (8 << 20))
		return fail(t, "%s: missing or under 8 MiB", path);
	half = sb.st_size / 2 & ~(off_t)4095;
	if (fdatasync(fd) < 0 || posix_fadvise(fd, half, 0, POSIX_FADV_DONTNEED) != 0)
		return fail(t, "%s: cannot drop its cached pages: %s", path, strerror(errno));
	m = mmap(NULL, (size_t)sb.st_size, PROT_READ, MAP_SHARED, fd, 0);
	if (m == MAP_FAILED)
		return fail(t, "map %s: %s", path, strerror(errno));
	vec = xmalloc((size_t)sb.st_size / 4096 + 1);
	*left = 0;
	if (mincore(m, (size_t)sb.st_size, vec) == 0)
		for (off_t i = half / 4096; i < sb.st_size / 4096; i++)
			*left += vec[i] & 1;
	free(vec);
	munmap(m, (size_t)sb.st_size);
	return 0;
}

/* A pages file partly in the page cache (as a dump that turned to O_DIRECT part way leaves it):
 * both halves restored alike. */
static int t_memory_half_cached(struct t *t)
{
	_cleanup_free_ char *bin = prog("bigmem");
	char *argv[] = {bin, "64", NULL};
	pid_t pid = spawn(t, argv);
	size_t left = 0;

	if (wait_output(t, 0, "ready\n", 20000) < 0 || dump(t, pid, false) < 0 ||
	    evict_back_half(t, pid, &left) < 0)
		return -1;
	if (left > 16)
		return fail(t, "%zu pages of the back half still cached", left);
	if (restore_bigmem_checks(t) < 0)
		return -1;
	snprintf(t->msg, sizeof(t->msg),
		 "64 MiB pattern intact, back half of the pages file read from the disk");
	return 0;
}

static int t_file_offset_continues(struct t *t)
{
	_cleanup_free_ char *bin = prog("fileoff"), *in = xasprintf("%s/input", tmpdir);
	_cleanup_free_ char *data = xmalloc(65536), *a = NULL, *b = NULL;
	char *argv[] = {bin, in, NULL};
	pid_t pid, root;
	size_t la = 0, lb = 0, at_dump;
	int st;

	for (int i = 0; i < 65536; i++)
		data[i] = (char)('a' + (i * 7 + i / 64) % 26);
	{
		_cleanup_close_ int fd = open(in, O_WRONLY | O_CREAT | O_TRUNC, 0600);

		if (fd < 0 || write_all(fd, data, 65536) < 0)
			return fail(t, "cannot write %s", in);
	}
	pid = spawn(t, argv);
	nap_ms(300);
	if (dump(t, pid, false) < 0)
		return -1;
	{
		struct stat sb;

		stat(t->out, &sb);
		at_dump = (size_t)sb.st_size;
	}
	if (at_dump == 0 || at_dump >= 65536)
		return fail(t, "copied %zu bytes at checkpoint time (want some, not all)", at_dump);
	if (restore(t, &root) < 0 || wait_exit(t, root, 20000, &st) < 0)
		return -1;
	if (read_file(in, &a, &la, NULL) < 0 || read_file(t->out, &b, &lb, NULL) < 0)
		return fail(t, "cannot read the files back");
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0 || la != lb || memcmp(a, b, la) != 0)
		return fail(t, "status 0x%x, output %zu bytes vs input %zu (differs)", st, lb, la);
	snprintf(t->msg, sizeof(t->msg), "%zu of 65536 bytes copied at checkpoint, all equal after",
		 at_dump);
	return 0;
}

static int t_pipe_parent_child(struct t *t)
{
	_cleanup_free_ char *bin = prog("pipepair");
	char *argv[] = {bin, "400", NULL};
	pid_t pid = spawn(t, argv), root;
	int st;

	nap_ms(400);
	if (dump(t, pid, false) < 0)
		return -1;
	if (t->ds.nprocs != 2)
		return fail(t, "dumped %d processes, want 2", t->ds.nprocs);
	while (waitpid(-1, NULL, WNOHANG) > 0) /* the killed child, reparented to us */
		;
	if (restore(t, &root) < 0 || wait_exit(t, root, 20000, &st) < 0)
		return -1;
	{
		_cleanup_free_ char *s = slurp(t->out);

		if (!WIFEXITED(st) || WEXITSTATUS(st) != 0 || !strstr(s, "child got 400\n"))
			return fail(t, "status 0x%x, output \"%s\"", st, s);
	}
	snprintf(t->msg, sizeof(t->msg), "400 numbers through the pipe, in order, none lost");
	return 0;
}

/* The last complete "a b c" line of the threads workload's output. */
static int last_counts(const char *s, unsigned long c[3])
{
	const char *end = strrchr(s, '\n'), *line;

	if (!end)
		return -1;
	for (line = end; line > s && line[-1] != '\n'; line--)
		;
	if (line == end && line > s) /* empty last line cannot happen: each ends in \n */
		return -1;
	for (line = end - 1; line > s && line[-1] != '\n'; line--)
		;
	return sscanf(line, "%lu %lu %lu", &c[0], &c[1], &c[2]) == 3 ? 0 : -1;
}

static int t_threads_all_resume(struct t *t)
{
	_cleanup_free_ char *bin = prog("threads");
	char *argv[] = {bin, NULL};
	pid_t pid = spawn(t, argv), root;
	unsigned long before[3], after[3];
	int st;

	if (wait_output(t, 10, NULL, 5000) < 0 || dump(t, pid, false) < 0)
		return -1;
	if (t->ds.nthreads != 4)
		return fail(t, "dumped %d threads, want 4", t->ds.nthreads);
	{
		_cleanup_free_ char *s = slurp(t->out);

		if (last_counts(s, before) < 0)
			return fail(t, "no counts before: \"%s\"", s);
	}
	if (restore(t, &root) < 0)
		return -1;
	/* Progress, not a rate: every counting thread moves 50 on within 10 s. */
	for (int waited = 0; waited < 10000; waited += 50) {
		_cleanup_free_ char *s = slurp(t->out);
		int i = 0;

		if (last_counts(s, after) == 0)
			while (i < 3 && after[i] >= before[i] + 50)
				i++;
		if (i == 3)
			break;
		nap_ms(50);
	}
	{
		_cleanup_free_ char *task = xasprintf("/proc/%d/task", root);
		_cleanup_closedir_ DIR *d = opendir(task);
		struct dirent *e;
		int n = 0;

		while (d && (e = readdir(d)))
			n += e->d_name[0] != '.';
		if (n != 4)
			return fail(t, "restored process has %d threads, want 4", n);
	}
	kill(root, SIGKILL);
	waitpid(root, &st, 0);
	{
		_cleanup_free_ char *s = slurp(t->out);

		if (last_counts(s, after) < 0)
			return fail(t, "no counts after");
	}
	for (int i = 0; i < 3; i++)
		if (after[i] < before[i] + 50)
			return fail(t, "thread %d: %lu before, %lu 10 s after restore", i,
				    before[i], after[i]);
	snprintf(t->msg, sizeof(t->msg), "4 threads; counts %lu/%lu/%lu -> %lu/%lu/%lu", before[0],
		 before[1], before[2], after[0], after[1], after[2]);
	return 0;
}

/* Pre-copy: a tracked dump while the workload runs, 1 MiB changed, then a final dump that
 * saves only what changed since (the rest is read from the first image on restore). */
static int t_precopy_saves_only_what_changed(struct t *t)
{
	_cleanup_free_ char *bin = prog("precopy"), *pre = xasprintf("%s.pre", t->img);
	char *argv[] = {bin, "128", NULL};
	pid_t pid = spawn(t, argv), root;
	_cleanup_werr_ struct werr *err = NULL;
	struct ck_dump_opts o = {.root = pid, .dir = pre, .track = true};
	struct ck_stats pre_st;
	int st;

	if (wait_output(t, 0, "ready\n", 20000) < 0)
		return -1;
	if (ck_dump(&o, &pre_st, &err) < 0)
		return fail(t, "pre-dump: %s", err->msg);
	if (gone(pid))
		return fail(t, "the workload died after the pre-dump");
	kill(pid, SIGUSR1);
	if (wait_output(t, 0, "changed\n", 5000) < 0)
		return -1;
	o = (struct ck_dump_opts){.root = pid, .dir = t->img, .parent = pre};
	if (ck_dump(&o, &t->ds, &err) < 0)
		return fail(t, "final dump: %s", err->msg);
	if (t->ds.pages_bytes > (4u << 20) || pre_st.pages_bytes < (128u << 20))
		return fail(t, "pre-dump saved %.1f MiB, final %.1f MiB: want >= 128 and <= 4",
			    (double)pre_st.pages_bytes / 1048576,
			    (double)t->ds.pages_bytes / 1048576);
	{ /* a damaged parent is refused by its sum, then the repaired chain restores */
		_cleanup_free_ char *pages = xasprintf("%s/pages-%d.img", pre, pid);
		int fd = open(pages, O_RDWR);
		char c = 0;
		bool got = fd >= 0 && pread(fd, &c, 1, 40960) == 1;
		char x = (char)~c;

		if (!got || pwrite(fd, &x, 1, 40960) != 1) {
			if (fd >= 0)
				close(fd);
			return fail(t, "cannot damage %s", pages);
		}
		if (restore(t, &root) == 0) {
			close(fd);
			return fail(t, "restored from a damaged parent image (pid %d)", root);
		}
		if (!strstr(t->msg, "xxh128") || !strstr(t->msg, "pages-")) {
			close(fd);
			return fail(t, "refusal does not name the sum and file: %s", t->msg);
		}
		if (pwrite(fd, &c, 1, 40960) != 1) {
			close(fd);
			return fail(t, "cannot repair %s", pages);
		}
		close(fd);
	}
	if (restore(t, &root) < 0)
		return -1;
	kill(root, SIGUSR2);
	if (wait_exit(t, root, 20000, &st) < 0)
		return -1;
	{
		_cleanup_free_ char *s = slurp(t->out);

		if (!WIFEXITED(st) || WEXITSTATUS(st) != 0 || !strstr(s, "changed\nok\n"))
			return fail(t, "status 0x%x, output \"%s\"", st, s);
	}
	snprintf(t->msg, sizeof(t->msg),
		 "pre-dump %.1f MiB in %.0f ms (stopped %.0f ms), final dump %.2f MiB",
		 (double)pre_st.pages_bytes / 1048576, pre_st.total_ms, pre_st.frozen_ms,
		 (double)t->ds.pages_bytes / 1048576);
	return 0;
}

/* After a refused checkpoint the counting workload pid is alive and still counting; then it is
 * killed. */
static int runs_on_after_refusal(struct t *t, pid_t pid)
{
	int st;

	nap_ms(100);
	if (gone(pid))
		return fail(t, "the workload died after a refused checkpoint");
	{
		_cleanup_free_ char *s1 = slurp(t->out), *s2 = NULL;

		nap_ms(200);
		s2 = slurp(t->out);
		if (strlen(s2) <= strlen(s1))
			return fail(t, "the workload stopped counting after a refused checkpoint");
	}
	kill(pid, SIGKILL);
	waitpid(pid, &st, 0);
	return 0;
}

static int t_socket_refused_left_running(struct t *t)
{
	_cleanup_free_ char *bin = prog("counter");
	char *argv[] = {bin, NULL};
	struct ck_dump_opts o = {.root = 0, .dir = t->img};
	_cleanup_werr_ struct werr *err = NULL;
	int sv[2];
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
		return fail(t, "socketpair: %s", strerror(errno));
	t->extra_fd = sv[0];
	pid = spawn(t, argv);
	t->extra_fd = -1;
	if (wait_output(t, 20, NULL, 5000) < 0)
		return -1;
	o.root = pid;
	if (ck_dump(&o, NULL, &err) == 0)
		return fail(t, "a socket fd was checkpointed");
	if (!strstr(err->msg, "fd 5") || !strstr(err->msg, "socket:") ||
	    !strstr(err->msg, "counter"))
		return fail(t, "message does not name the process and fd: %s", err->msg);
	if (runs_on_after_refusal(t, pid) < 0)
		return -1;
	snprintf(t->msg, sizeof(t->msg), "%s", err->msg);
	return 0;
}

/* The tcp workload's clients, after restore: one connection to each listener, one datagram. */
static int tcp_clients(struct t *t)
{
	_cleanup_free_ char *s = slurp(t->out);
	int p4, p6, pu;

	if (sscanf(s, "ready %d %d %d", &p4, &p6, &pu) != 3)
		return fail(t, "no ports in \"%s\"", s);
	for (int v6 = 0; v6 < 2; v6++) {
		struct sockaddr_in6 a6 = {.sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT,
					  .sin6_port = htons((uint16_t)p6)};
		struct sockaddr_in a4 = {.sin_family = AF_INET, .sin_port = htons((uint16_t)p4),
					 .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
		_cleanup_close_ int c = socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM, 0);
		char buf[16] = {0};

		if (connect(c, v6 ? (struct sockaddr *)&a6 : (struct sockaddr *)&a4,
			    v6 ? sizeof(a6) : sizeof(a4)) < 0)
			return fail(t, "connect to the restored IPv%d listener: %s", v6 ? 6 : 4,
				    strerror(errno));
		if (read(c, buf, sizeof(buf) - 1) != 6 || strcmp(buf, v6 ? "hello6" : "hello4"))
			return fail(t, "IPv%d listener answered \"%s\"", v6 ? 6 : 4, buf);
	}
	{
		struct sockaddr_in a4 = {.sin_family = AF_INET, .sin_port = htons((uint16_t)pu),
					 .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
		_cleanup_close_ int u = socket(AF_INET, SOCK_DGRAM, 0);
		struct timeval tv = {5, 0};
		char buf[16] = {0};

		setsockopt(u, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		if (sendto(u, "hi", 2, 0, (struct sockaddr *)&a4, sizeof(a4)) != 2 ||
		    recv(u, buf, sizeof(buf) - 1, 0) != 3 || strcmp(buf, "udp"))
			return fail(t, "no UDP answer from the restored socket");
	}
	return 0;
}

/* The restored workload exits 0 within 10 s having printed "ok ...": the test's message is
 * prefix + what follows "ok ". */
static int exits_ok(struct t *t, pid_t root, const char *prefix)
{
	_cleanup_free_ char *s = NULL;
	char *ok;
	int st;

	if (wait_exit(t, root, 10000, &st) < 0)
		return -1;
	s = slurp(t->out);
	ok = strstr(s, "\nok ");
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0 || !ok)
		return fail(t, "status 0x%x, output \"%s\"", st, s);
	ok[strcspn(ok + 1, "\n") + 1] = '\0';
	snprintf(t->msg, sizeof(t->msg), "%s%s", prefix, ok + 4);
	return 0;
}

/* fdkinds MODE ARG: set up, checkpoint (killing it), restore, SIGUSR1, then clients (if any),
 * and the workload must say ok. */
static int fd_kind(struct t *t, const char *mode, const char *arg, int (*clients)(struct t *))
{
	_cleanup_free_ char *bin = prog("fdkinds");
	char *argv[] = {bin, (char *)mode, (char *)arg, NULL};
	pid_t pid = spawn(t, argv), root;
	int st;

	if (wait_output(t, 0, "ready", 5000) < 0 || dump(t, pid, false) < 0)
		return -1;
	if (!gone(pid))
		return fail(t, "the workload still runs after the checkpoint");
	if (restore(t, &root) < 0)
		return -1;
	kill(root, SIGUSR1);
	if (clients && clients(t) < 0) {
		kill(root, SIGKILL);
		waitpid(root, &st, 0);
		return -1;
	}
	return exits_ok(t, root, "");
}

static int t_devices_and_dir(struct t *t)
{
	return fd_kind(t, "devices", tmpdir, NULL);
}

static int t_deleted_file(struct t *t)
{
	_cleanup_free_ char *path = xasprintf("%s/deleted-file", tmpdir);

	return fd_kind(t, "deleted", path, NULL);
}

static int t_fifo(struct t *t)
{
	_cleanup_free_ char *path = xasprintf("%s/fifo", tmpdir);
	int r = fd_kind(t, "fifo", path, NULL);

	unlink(path);
	return r;
}

static int t_eventfd(struct t *t)
{
	return fd_kind(t, "eventfd", NULL, NULL);
}

static int t_epoll(struct t *t)
{
	return fd_kind(t, "epoll", NULL, NULL);
}

static int t_socketpair(struct t *t)
{
	return fd_kind(t, "socketpair", NULL, NULL);
}

static int t_tcp_udp_listeners(struct t *t)
{
	return fd_kind(t, "tcp", NULL, tcp_clients);
}

static int t_itimers(struct t *t)
{
	return fd_kind(t, "itimers", NULL, NULL);
}

static int t_pending_signals(struct t *t)
{
	return fd_kind(t, "signals", NULL, NULL);
}

static int t_umask_altstack(struct t *t)
{
	return fd_kind(t, "umask", NULL, NULL);
}

static int t_established_tcp_refused(struct t *t)
{
	_cleanup_free_ char *bin = prog("fdkinds");
	char *argv[] = {bin, "tcpconn", NULL};
	struct ck_dump_opts o = {.dir = t->img};
	_cleanup_werr_ struct werr *err = NULL;
	pid_t pid = spawn(t, argv);
	int st;

	if (wait_output(t, 0, "ready", 5000) < 0)
		return -1;
	o.root = pid;
	if (ck_dump(&o, NULL, &err) == 0)
		return fail(t, "an established TCP connection was checkpointed");
	if (!strstr(err->msg, "established TCP connection") || !strstr(err->msg, "(fdkinds) fd"))
		return fail(t, "message does not name the process, fd and kind: %s", err->msg);
	kill(pid, SIGUSR1);
	if (wait_exit(t, pid, 5000, &st) < 0)
		return -1;
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		return fail(t, "the workload did not run on after the refusal (status 0x%x)", st);
	snprintf(t->msg, sizeof(t->msg), "%s", err->msg);
	return 0;
}

static int t_corrupt_image_refused(struct t *t)
{
	_cleanup_free_ char *bin = prog("counter");
	char *argv[] = {bin, NULL};
	pid_t pid = spawn(t, argv), root = -1;
	_cleanup_free_ char *pages = NULL;
	int fd;

	if (wait_output(t, 20, NULL, 5000) < 0 || dump(t, pid, false) < 0)
		return -1;
	pages = xasprintf("%s/pages-%d.img", t->img, pid);
	fd = open(pages, O_WRONLY);
	if (fd < 0 || pwrite(fd, "X", 1, 100) != 1)
		return fail(t, "cannot corrupt %s", pages);
	close(fd);
	if (restore(t, &root) == 0)
		return fail(t, "restored from a corrupted image (pid %d)", root);
	if (!strstr(t->msg, "xxh128") || !strstr(t->msg, "pages-"))
		return -1;
	if (!gone(pid))
		return fail(t, "something runs at pid %d after a refused restore", pid);
	snprintf(t->msg, sizeof(t->msg), "refused: %.200s", strstr(t->msg, "pages-"));
	return 0;
}

/* The inode of every "/dev/zero (deleted)" VMA of pid (at most 16): how many. */
static int shmem_inodes(pid_t pid, unsigned long *ino, int max)
{
	_cleanup_free_ char *path = xasprintf("/proc/%d/maps", pid), *s = slurp(path);
	int n = 0;

	for (char *l = s; l && *l && n < max; l = strchr(l, '\n'), l = l ? l + 1 : NULL) {
		unsigned long inode;

		if (sscanf(l, "%*s %*s %*s %*s %lu", &inode) == 1 &&
		    strstr(l, "/dev/zero (deleted)") && strchr(l, '\n') > strstr(l, "/dev/zero"))
			ino[n++] = inode;
	}
	return n;
}

/* The only child of pid, or -1. */
static pid_t only_child(pid_t pid)
{
	_cleanup_free_ char *path = xasprintf("/proc/%d/task/%d/children", pid, pid);
	_cleanup_free_ char *s = slurp(path);

	return *s ? (pid_t)atoi(s) : -1;
}

/* Bytes of the image's shmem-*.img files, and how many there are. */
static long shmem_files(const char *img, int *count)
{
	_cleanup_closedir_ DIR *d = opendir(img);
	struct dirent *e;
	long bytes = 0;

	*count = 0;
	while (d && (e = readdir(d))) {
		_cleanup_free_ char *path = xasprintf("%s/%s", img, e->d_name);
		struct stat sb;

		if (strncmp(e->d_name, "shmem-", 6) == 0 && stat(path, &sb) == 0) {
			bytes += (long)sb.st_size;
			(*count)++;
		}
	}
	return bytes;
}

/* A parent and child playing ping-pong through MAP_SHARED|MAP_ANONYMOUS memory (progs/shmem):
 * after restore they still share it (the game goes on, a write by one is seen by the other),
 * the pattern is intact through every view, the object was saved once, and the kernel shows
 * the same object (inode) in every VMA of both. */
static int t_shared_memory_between_processes(struct t *t)
{
	_cleanup_free_ char *bin = prog("shmem");
	char *argv[] = {bin, "pair", NULL};
	pid_t pid = spawn(t, argv), root, child;
	unsigned long pi[16], ci[16];
	int st, np, nc, files;
	long bytes;

	if (wait_output(t, 0, "round 100\n", 20000) < 0 || dump(t, pid, false) < 0)
		return -1;
	if (t->ds.nprocs != 2)
		return fail(t, "dumped %d processes, want 2", t->ds.nprocs);
	while (waitpid(-1, NULL, WNOHANG) > 0) /* the killed child, reparented to us */
		;
	bytes = shmem_files(t->img, &files);
	if (files != 1 || bytes != (long)(6 << 20) + 4096)
		return fail(t, "%d shmem files of %ld bytes, want 1 of 6 MiB + 4 KiB (saved once)",
			    files, bytes);
	if (t->ds.pages_bytes > (1 << 20))
		return fail(t, "%llu bytes in pages files: the shared memory is in them too",
			    (unsigned long long)t->ds.pages_bytes);
	if (restore(t, &root) < 0)
		return -1;
	child = only_child(root);
	np = shmem_inodes(root, pi, 16);
	nc = child > 0 ? shmem_inodes(child, ci, 16) : 0;
	if (np != 4 || nc != 5) {
		kill(root, SIGKILL);
		return fail(t, "%d and %d /dev/zero (deleted) VMAs in parent and child, want 4 and 5",
			    np, nc);
	}
	for (int i = 0; i < nc; i++)
		if (ci[i] != pi[0] || (i < np && pi[i] != pi[0])) {
			kill(root, SIGKILL);
			return fail(t, "the VMAs map different objects (inode %lu and %lu)", pi[0],
				    i < np && pi[i] != pi[0] ? pi[i] : ci[i]);
		}
	{
		_cleanup_free_ char *s = slurp(t->out);
		char *last = strrchr(s, 'r'), want[32];

		/* a few more rounds: the child answers the restored parent */
		snprintf(want, sizeof(want), "round %ld\n",
			 (last && strncmp(last, "round ", 6) == 0 ? atol(last + 6) : 100) + 150);
		if (wait_output(t, 0, want, 20000) < 0) {
			kill(root, SIGKILL);
			return fail(t, "no \"%.20s\" after restore: %.200s", want, s);
		}
	}
	kill(root, SIGUSR1);
	if (wait_exit(t, root, 20000, &st) < 0)
		return -1;
	{
		_cleanup_free_ char *s = slurp(t->out);

		if (!WIFEXITED(st) || WEXITSTATUS(st) != 0 || !strstr(s, "ok after"))
			return fail(t, "status 0x%x, output ends \"%s\"", st,
				    strlen(s) > 120 ? s + strlen(s) - 120 : s);
	}
	snprintf(t->msg, sizeof(t->msg),
		 "one object (inode %lu) in 4 + 5 VMAs, saved once (%ld bytes), ping-pong goes on",
		 pi[0], bytes);
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* /proc/pid/timers with its 4-line entries sorted (the kernel lists them in hash order). */
static char *timers_sorted(pid_t pid)
{
	_cleanup_free_ char *path = xasprintf("/proc/%d/timers", pid);
	_cleanup_free_ char *s = slurp(path);
	char *ent[64], *out = xstrdup("");
	size_t n = 0;

	for (char *p = strstr(s, "ID: "); p && n < 64; p = strstr(p + 1, "\nID: ")) {
		char *q = p[0] == '\n' ? p + 1 : p, *end = strstr(q, "\nID: ");

		ent[n++] = end ? xasprintf("%.*s\n", (int)(end - q), q) : xstrdup(q);
	}
	qsort(ent, n, sizeof(ent[0]), cmp_str);
	for (size_t i = 0; i < n; i++) {
		char *o = xasprintf("%s%s", out, ent[i]);

		free(out);
		free(ent[i]);
		out = o;
	}
	return out;
}

/* Two POSIX timers (one periodic to the process, one to the second thread, a gap in the ids
 * between them): /proc/pid/timers shows the same after restore, and both go on firing. */
static int t_posix_timers(struct t *t)
{
	_cleanup_free_ char *bin = prog("ptimers");
	_cleanup_free_ char *before = NULL, *after = NULL;
	char *argv[] = {bin, NULL};
	pid_t pid = spawn(t, argv), root;
	int st;

	if (wait_output(t, 0, "ready", 5000) < 0)
		return -1;
	before = timers_sorted(pid);
	if (!strstr(before, "ID: 0\n") || !strstr(before, "ID: 2\n") || !strstr(before, "tid."))
		return fail(t, "the workload's timers are not there: \"%s\"", before);
	if (dump(t, pid, false) < 0)
		return -1;
	{
		_cleanup_free_ char *path = xasprintf("%s/inventory.json", t->img);
		_cleanup_free_ char *inv = slurp(path);

		if (!strstr(inv, "\"format\": 3"))
			return fail(t, "an image with POSIX timers is not format 3 (an older ward "
				       "would drop them)");
	}
	if (restore(t, &root) < 0)
		return -1;
	after = timers_sorted(root);
	if (strcmp(before, after)) {
		kill(root, SIGKILL);
		waitpid(root, &st, 0);
		return fail(t, "/proc/pid/timers was \"%s\", after restore \"%s\"", before, after);
	}
	kill(root, SIGUSR1);
	return exits_ok(t, root, "same /proc/pid/timers; ");
}

/* SysV shared memory attached: refused naming the process, which runs on. */
static int t_sysv_shm_refused(struct t *t)
{
	_cleanup_free_ char *bin = prog("shmem");
	char *argv[] = {bin, "sysv", NULL};
	struct ck_dump_opts o = {.root = 0, .dir = t->img};
	_cleanup_werr_ struct werr *err = NULL;
	pid_t pid = spawn(t, argv);

	if (wait_output(t, 5, NULL, 5000) < 0)
		return -1;
	o.root = pid;
	if (ck_dump(&o, NULL, &err) == 0)
		return fail(t, "a process with SysV shared memory was checkpointed");
	if (!strstr(err->msg, "SysV shared memory in use") || !strstr(err->msg, "(shmem)"))
		return fail(t, "message does not name the process and SysV shm: %s", err->msg);
	if (runs_on_after_refusal(t, pid) < 0)
		return -1;
	snprintf(t->msg, sizeof(t->msg), "%s", err->msg);
	return 0;
}

/* Seccomp mode and filter count of each task: the main thread, the other thread of pid, and its
 * only child (/proc/.../status "Seccomp:" and "Seccomp_filters:"), as "m2/2 t2/1 c2/4" ("+caps"
 * after a task with effective capabilities), and the number of VMAs of both processes. */
static void seccomp_state(pid_t pid, char *buf, size_t size)
{
	_cleanup_free_ char *task = xasprintf("/proc/%d/task", pid);
	_cleanup_closedir_ DIR *d = opendir(task);
	pid_t tids[3] = {pid, 0, only_child(pid)};
	const char *who = "mtc";
	struct dirent *e;
	size_t len = 0;

	while (d && (e = readdir(d)))
		if (atoi(e->d_name) > 0 && atoi(e->d_name) != pid)
			tids[1] = atoi(e->d_name);
	buf[0] = '\0';
	for (int i = 0; i < 4 && len < size; i++) {
		if (i == 3) { /* the VMAs: a call the dump injects denied would leave one */
			_cleanup_free_ char *pm = xasprintf("/proc/%d/maps", pid);
			_cleanup_free_ char *cm = xasprintf("/proc/%d/maps", tids[2]);
			_cleanup_free_ char *a = slurp(pm), *b = slurp(cm);
			int n[2] = {0, 0};

			for (char *q = a; (q = strchr(q, '\n')); q++)
				n[0]++;
			for (char *q = b; (q = strchr(q, '\n')); q++)
				n[1]++;
			len += (size_t)snprintf(buf + len, size - len, " vmas %d/%d", n[0], n[1]);
			break;
		}
		_cleanup_free_ char *path =
			xasprintf("/proc/%d/task/%d/status", i == 2 ? tids[2] : pid, tids[i]);
		_cleanup_free_ char *st = slurp(path);
		char *m = strstr(st, "\nSeccomp:"), *f = strstr(st, "\nSeccomp_filters:");
		char *e = strstr(st, "\nCapEff:");

		len += (size_t)snprintf(buf + len, size - len, "%s%c%d/%d%s", i ? " " : "", who[i],
					m ? atoi(m + 9) : -1, f ? atoi(f + 17) : -1,
					e && strtoull(e + 8, NULL, 16) == 0 ? "" : "+caps");
	}
}

/* The number on the last line of s that starts with prefix, or -1. */
static long last_count(const char *s, const char *prefix)
{
	long n = -1;

	for (const char *p = s; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		if (strncmp(p, prefix, strlen(prefix)) == 0 && strchr(p, '\n'))
			n = atol(p + strlen(prefix));
	return n;
}

/* Files of the image that hold str, counted by occurrences in one file. */
static int occurrences(const char *path, const char *str)
{
	_cleanup_free_ char *s = slurp(path);
	int n = 0;

	for (char *p = s; (p = strstr(p, str)); p += strlen(str))
		n++;
	return n;
}

/* progs/seccomp chains: two threads and a child with chains of 2, 1 and 4 filters sharing their
 * older part. After restore each task has the same mode and number of filters, every filter
 * still denies its call with its errno (the workload checks on every round) and all count on;
 * the image holds the 4 distinct filters once. */
static int t_seccomp_filters(struct t *t)
{
	_cleanup_free_ char *bin = prog("seccomp");
	_cleanup_free_ char *inv = xasprintf("%s/inventory.json", t->img);
	_cleanup_free_ char *sj = xasprintf("%s/seccomp.json", t->img);
	char *argv[] = {bin, "chains", NULL};
	pid_t pid = spawn(t, argv), root, child;
	char before[96], after[96];
	long m0, t0, c0;
	int nfilters;

	if (wait_output(t, 0, "c 20\n", 10000) < 0)
		return -1;
	seccomp_state(pid, before, sizeof(before));
	if (strncmp(before, "m2/2 t2/1 c2/4 vmas", 19) != 0)
		return fail(t, "the workload's seccomp state is %s, want m2/2 t2/1 c2/4", before);
	if (dump(t, pid, false) < 0)
		return -1;
	while (waitpid(-1, NULL, WNOHANG) > 0) /* the killed child, reparented to us */
		;
	nfilters = occurrences(sj, "\"insns\"");
	if (nfilters != 4 || occurrences(inv, "\"format\": 4") != 1)
		return fail(t, "%d filters in seccomp.json (want 4, each once), format 4: %d",
			    nfilters, occurrences(inv, "\"format\": 4"));
	{
		_cleanup_free_ char *s = slurp(t->out);

		m0 = last_count(s, "m ");
		t0 = last_count(s, "t ");
		c0 = last_count(s, "c ");
	}
	if (restore(t, &root) < 0)
		return -1;
	child = only_child(root);
	seccomp_state(root, after, sizeof(after));
	if (strcmp(before, after) != 0) {
		kill(root, SIGKILL);
		kill(child, SIGKILL);
		return fail(t, "seccomp state %s before, %s after restore", before, after);
	}
	for (int waited = 0; waited < 10000; waited += 50) {
		_cleanup_free_ char *s = slurp(t->out);

		if (strstr(s, "BAD") ||
		    (last_count(s, "m ") > m0 + 20 && last_count(s, "t ") > t0 + 20 &&
		     last_count(s, "c ") > c0 + 20))
			break;
		nap_ms(50);
	}
	kill(root, SIGKILL);
	if (child > 0)
		kill(child, SIGKILL);
	{
		_cleanup_free_ char *s = slurp(t->out);
		char *bad = strstr(s, "BAD");

		if (bad)
			return fail(t, "after restore: %.150s", bad);
		if (last_count(s, "m ") <= m0 + 20 || last_count(s, "t ") <= t0 + 20 ||
		    last_count(s, "c ") <= c0 + 20)
			return fail(t, "counts %ld/%ld/%ld before, %ld/%ld/%ld after restore", m0,
				    t0, c0, last_count(s, "m "), last_count(s, "t "),
				    last_count(s, "c "));
		snprintf(
			t->msg, sizeof(t->msg),
			"seccomp %s kept, 4 filters saved once (format 4), errnos 42/43/44/45 still returned, "
			"counts %ld/%ld/%ld -> %ld/%ld/%ld",
			after, m0, t0, c0, last_count(s, "m "), last_count(s, "t "),
			last_count(s, "c "));
	}
	return 0;
}

/* A strict-mode process and one whose filter has a user-space listener are refused naming
 * the process and why; they run on. */
static int seccomp_refused(struct t *t, const char *mode, const char *ready, const char *why)
{
	_cleanup_free_ char *bin = prog("seccomp");
	char *argv[] = {bin, (char *)mode, NULL};
	struct ck_dump_opts o = {.root = 0, .dir = t->img};
	_cleanup_werr_ struct werr *err = NULL;
	pid_t pid = spawn(t, argv);
	char name[32];

	if (wait_output(t, ready ? 0 : 3, ready, 10000) < 0)
		return -1;
	o.root = pid;
	if (ck_dump(&o, NULL, &err) == 0)
		return fail(t, "the process (seccomp %s) was checkpointed", mode);
	snprintf(name, sizeof(name), "process %d (seccomp)", pid);
	if (!strstr(err->msg, why) || !strstr(err->msg, name))
		return fail(t, "message does not name the process (%s) and %s: %s", name, why,
			    err->msg);
	if (runs_on_after_refusal(t, pid) < 0)
		return -1;
	snprintf(t->msg, sizeof(t->msg), "%s", err->msg);
	return 0;
}

static int t_seccomp_strict_refused(struct t *t)
{
	return seccomp_refused(t, "strict", NULL, "seccomp strict mode");
}

static int t_seccomp_listener_refused(struct t *t)
{
	return seccomp_refused(t, "notify", NULL, "SECCOMP_RET_USER_NOTIF");
}

/* Credentials are per thread and the image holds one set: a thread that dropped its own
 * capabilities (the leader kept them) is refused, not restored with the leader's. */
static int t_thread_creds_refused(struct t *t)
{
	return seccomp_refused(t, "threadcaps", "\nt 1\n", "credentials other than the leader's");
}


/* ---- file locks ---- */

static int cmp_line(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The /proc/locks lines (without their ordinal) of the locks workload's three files in dir,
 * sorted, one a line: the kind, type, holder pid, file and range of every lock held there. */
static char *locks_held(const char *dir)
{
	static const char *const names[] = {"posix", "flock", "ofd"};
	_cleanup_free_ char *text = slurp("/proc/locks");
	char *lines[64], *out = xstrdup("");
	unsigned long ino[3];
	size_t n = 0;

	for (int i = 0; i < 3; i++) {
		_cleanup_free_ char *path = xasprintf("%s/%s", dir, names[i]);
		struct stat sb;

		ino[i] = stat(path, &sb) == 0 ? (unsigned long)sb.st_ino : 0;
	}
	for (char *line = strtok(text, "\n"); line && n < 64; line = strtok(NULL, "\n")) {
		char dev[64];
		const char *colon;

		if (sscanf(line, "%*d: %*s %*s %*s %*d %63s", dev) != 1 ||
		    !(colon = strrchr(dev, ':')))
			continue;
		for (int i = 0; i < 3; i++)
			if (ino[i] && strtoul(colon + 1, NULL, 10) == ino[i])
				lines[n++] = strchr(line, ':') + 1;
	}
	qsort(lines, n, sizeof(char *), cmp_line);
	for (size_t i = 0; i < n; i++) {
		char *o = xasprintf("%s%s\n", out, lines[i]);

		free(out);
		out = o;
	}
	return out;
}

/* From outside the tree: the POSIX write lock on bytes 100..199 is pid's, the flock is held, the
 * OFD read lock is there; "" when so, else what is missing. */
static const char *probe_locks(const char *dir, pid_t pid)
{
	_cleanup_free_ char *pp = xasprintf("%s/posix", dir), *fp = xasprintf("%s/flock", dir);
	_cleanup_free_ char *op = xasprintf("%s/ofd", dir);
	_cleanup_close_ int p = open(pp, O_RDWR), f = open(fp, O_RDWR), o = open(op, O_RDWR);
	struct flock wr = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 150, .l_len = 1};
	struct flock ow = {.l_type = F_WRLCK, .l_whence = SEEK_SET};

	if (p < 0 || f < 0 || o < 0)
		return "a lock file cannot be opened";
	if (fcntl(p, F_GETLK, &wr) < 0 || wr.l_type != F_WRLCK || wr.l_pid != pid ||
	    wr.l_start != 100 || wr.l_len != 100)
		return "F_GETLK does not see the POSIX write lock on bytes 100..199 held by the root";
	if (flock(f, LOCK_EX | LOCK_NB) == 0 || errno != EWOULDBLOCK)
		return "flock(LOCK_EX|LOCK_NB) from outside got the lock";
	if (fcntl(o, F_OFD_GETLK, &ow) < 0 || ow.l_type != F_RDLCK)
		return "F_OFD_GETLK does not see the OFD read lock";
	return "";
}

static pid_t start_locks(struct t *t, char *dir, size_t size)
{
	_cleanup_free_ char *bin = prog("locks");
	char *argv[] = {bin, dir, NULL};

	snprintf(dir, size, "%s.files", t->img);
	if (mkdir(dir, 0700) < 0)
		return fail(t, "mkdir %s: %s", dir, strerror(errno));
	return spawn(t, argv);
}

/* A POSIX write lock on a range, an flock (its description shared with a child) and an OFD read
 * lock: after restore /proc/locks lists the same locks of the same pids, a process outside sees
 * them held, and the flock stays held by the child alone once the root is gone. */
static int t_file_locks(struct t *t)
{
	_cleanup_free_ char *before = NULL, *after = NULL;
	char dir[600];
	const char *why;
	pid_t pid, root, kid;
	int st;

	pid = start_locks(t, dir, sizeof(dir));
	if (pid < 0 || wait_output(t, 3, NULL, 5000) < 0)
		return -1;
	before = locks_held(dir);
	if (strlen(before) < 10 || (why = probe_locks(dir, pid))[0])
		return fail(t, "the workload's locks are not there: \"%s\"", before);
	t->file_locks = true;
	if (dump(t, pid, false) < 0)
		return -1;
	{
		_cleanup_free_ char *path = xasprintf("%s/inventory.json", t->img);
		_cleanup_free_ char *inv = slurp(path);

		if (!strstr(inv, "\"format\": 5"))
			return fail(t, "an image with file locks is not format 5 (an older ward would "
				       "drop them)");
	}
	if (restore(t, &root) < 0)
		return -1;
	after = locks_held(dir);
	why = probe_locks(dir, root);
	kid = only_child(root);
	if (strcmp(before, after) || why[0]) {
		kill(root, SIGKILL);
		waitpid(root, &st, 0);
		return fail(t, "/proc/locks was\n%safter restore\n%s%s", before, after, why);
	}
	if (count_reaches(t, 40) < 40) {
		kill(root, SIGKILL);
		return fail(t, "the counter did not go on after restore");
	}
	kill(root, SIGKILL);
	waitpid(root, &st, 0);
	{
		_cleanup_free_ char *fp = xasprintf("%s/flock", dir);
		_cleanup_close_ int f = open(fp, O_RDWR);
		bool held = flock(f, LOCK_EX | LOCK_NB) < 0;

		kill(kid, SIGKILL);
		if (kid <= 0 || !held)
			return fail(t, "the flock was not held through the child's shared "
				       "description once the root was gone");
	}
	snprintf(t->msg, sizeof(t->msg), "same /proc/locks, held as seen from outside");
	return 0;
}

/* Without file_locks the tree is refused, naming process, fd and file and the option, and runs on. */
static int t_file_locks_refused_without_option(struct t *t)
{
	struct ck_dump_opts o = {.root = 0, .dir = t->img};
	_cleanup_werr_ struct werr *err = NULL;
	char dir[600];
	pid_t pid = start_locks(t, dir, sizeof(dir));

	if (pid < 0 || wait_output(t, 3, NULL, 5000) < 0)
		return -1;
	o.root = pid;
	if (ck_dump(&o, NULL, &err) == 0)
		return fail(t, "a tree holding file locks was checkpointed without file_locks");
	if (!strstr(err->msg, "--file-locks") || !strstr(err->msg, "(locks)") ||
	    !strstr(err->msg, "fd "))
		return fail(t, "message does not name the process, fd and option: %s", err->msg);
	if (runs_on_after_refusal(t, pid) < 0)
		return -1;
	snprintf(t->msg, sizeof(t->msg), "%s", err->msg);
	return 0;
}

/* Someone outside takes the flock while the tree is away: the restore fails naming the file and
 * the process, and no process of the tree is left. */
static int t_file_lock_taken_meanwhile_fails_restore(struct t *t)
{
	_cleanup_free_ char *fp = NULL;
	_cleanup_werr_ struct werr *err = NULL;
	struct ck_restore_opts ro = {.dir = t->img};
	_cleanup_close_ int f = -1;
	char dir[600];
	pid_t pid = start_locks(t, dir, sizeof(dir)), root;

	if (pid < 0 || wait_output(t, 3, NULL, 5000) < 0)
		return -1;
	t->file_locks = true;
	if (dump(t, pid, false) < 0)
		return -1;
	waitpid(pid, NULL, 0);
	fp = xasprintf("%s/flock", dir);
	f = open(fp, O_RDWR);
	if (f < 0 || flock(f, LOCK_EX | LOCK_NB) < 0)
		return fail(t, "the flock is still held after the dump killed the tree");
	if (ck_restore(&ro, &root, NULL, &err) == 0) {
		kill(root, SIGKILL);
		return fail(t, "restored although the flock is held by someone else");
	}
	if (!strstr(err->msg, fp) || !strstr(err->msg, "held by someone else") ||
	    !strstr(err->msg, "process "))
		return fail(t, "message does not name the file and process: %s", err->msg);
	nap_ms(50);
	if (!gone(pid))
		return fail(t, "process %d of the tree is left after the failed restore", pid);
	snprintf(t->msg, sizeof(t->msg), "%s", err->msg);
	return 0;
}

static const struct {
	const char *name;
	int (*fn)(struct t *);
	bool stats;
} tests[] = {
	{"counter_continues_after_restore", t_counter_continues, true},
	{"memory_256mib_identical_after_restore", t_memory_identical, true},
	{"memory_half_in_page_cache_identical_after_restore", t_memory_half_cached, true},
	{"file_offset_continues_after_restore", t_file_offset_continues, true},
	{"pipe_between_parent_and_child_survives", t_pipe_parent_child, true},
	{"threads_all_resume_after_restore", t_threads_all_resume, true},
	{"precopy_final_dump_saves_only_what_changed", t_precopy_saves_only_what_changed, true},
	{"leave_running_keeps_the_tree_going", t_leave_running, false},
	{"socket_fd_refused_naming_process_and_fd", t_socket_refused_left_running, false},
	{"corrupt_image_refused_by_checksum", t_corrupt_image_refused, false},
	{"devices_and_directory_fds_work_after_restore", t_devices_and_dir, false},
	{"deleted_file_restored_unlinked_with_contents", t_deleted_file, false},
	{"fifo_keeps_queued_bytes", t_fifo, false},
	{"eventfd_keeps_counter_and_flags", t_eventfd, false},
	{"epoll_keeps_targets_and_data", t_epoll, false},
	{"unix_socketpair_keeps_queued_bytes", t_socketpair, false},
	{"tcp_and_udp_listeners_accept_after_restore", t_tcp_udp_listeners, false},
	{"established_tcp_refused_naming_process_and_fd", t_established_tcp_refused, false},
	{"itimers_keep_running_after_restore", t_itimers, false},
	{"pending_signals_requeued_after_restore", t_pending_signals, false},
	{"umask_and_sigaltstack_kept", t_umask_altstack, false},
	{"shared_memory_stays_shared_between_processes", t_shared_memory_between_processes, true},
	{"sysv_shm_refused_naming_the_process", t_sysv_shm_refused, false},
	{"posix_timers_same_ids_and_keep_firing", t_posix_timers, false},
	{"seccomp_filters_kept_per_thread_and_child", t_seccomp_filters, true},
	{"seccomp_strict_mode_refused_naming_the_process", t_seccomp_strict_refused, false},
	{"seccomp_listener_refused_naming_the_process", t_seccomp_listener_refused, false},
	{"thread_with_other_credentials_refused_naming_the_process", t_thread_creds_refused, false},
	{"file_locks_same_after_restore_and_held_from_outside", t_file_locks, false},
	{"file_locks_refused_without_file_locks_option", t_file_locks_refused_without_option,
	 false},
	{"file_lock_taken_meanwhile_fails_restore_naming_file", t_file_lock_taken_meanwhile_fails_restore,
	 false},
};

/* The namespace's init: run one test, print its line, exit 0 on success. */
static int run_one(size_t i)
{
	struct t t = {.extra_fd = -1};
	int r;

	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
	    mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0) {
		printf("FAIL %s: mount /proc: %s\n", tests[i].name, strerror(errno));
		return 1;
	}
	snprintf(t.out, sizeof(t.out), "%s/%s.out", tmpdir, tests[i].name);
	snprintf(t.img, sizeof(t.img), "%s/%s.img", tmpdir, tests[i].name);
	r = tests[i].fn(&t);
	if (r == 0 && tests[i].stats)
		printf("ok   %s: %s [checkpoint %.0f ms (stopped %.0f ms), image %.1f MiB "
		       "(pages %.1f MiB), restore %.0f ms]\n",
		       tests[i].name, t.msg, t.ds.total_ms, t.ds.frozen_ms,
		       (double)t.ds.image_bytes / 1048576, (double)t.ds.pages_bytes / 1048576,
		       t.rs.total_ms);
	else
		printf("%s %s: %s\n", r == 0 ? "ok  " : "FAIL", tests[i].name, t.msg);
	fflush(stdout);
	return r == 0 ? 0 : 1;
}

/* The namespace's init ignores SIGALRM (pid 1 gets no signal it has no handler for): its
 * parent, outside, kills it when a test hangs, and with it the whole namespace. */
static pid_t hung_init;
#define TEST_TIMEOUT_S 120

static void kill_hung_init(int sig)
{
	(void)sig;
	kill(hung_init, SIGKILL);
}

static int in_namespaces(size_t i)
{
	pid_t a = fork(), init;
	int st;

	if (a < 0)
		return 1;
	if (a == 0) {
		if (unshare(CLONE_NEWPID | CLONE_NEWNS) < 0) {
			printf("FAIL %s: unshare: %s\n", tests[i].name, strerror(errno));
			_exit(1);
		}
		init = fork();
		if (init == 0)
			_exit(run_one(i));
		hung_init = init;
		signal(SIGALRM, kill_hung_init);
		alarm(TEST_TIMEOUT_S);
		while (waitpid(init, &st, 0) < 0 && errno == EINTR)
			;
		if (!WIFEXITED(st)) {
			printf("FAIL %s: the namespace's init died (status 0x%x)%s\n", tests[i].name,
			       st, WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL ? ", killed: hung" : "");
			_exit(1);
		}
		_exit(WEXITSTATUS(st));
	}
	if (waitpid(a, &st, 0) < 0)
		return 1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 1;
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	return remove(path);
}

int main(int argc, char **argv)
{
	int passed = 0, failed = 0;

	if (argc < 2) {
		fprintf(stderr, "usage: ckpt_test PROGS_DIR [TEST...]\n");
		return 2;
	}
	progs = argv[1];
	setvbuf(stdout, NULL, _IOLBF, 0);
	/* CKPT_TMPDIR=/dev/shm measures the engine rather than the disk. */
	snprintf(tmpdir, sizeof(tmpdir), "%s/ward-ckpt-XXXXXX",
		 getenv("CKPT_TMPDIR") ? getenv("CKPT_TMPDIR") : "/tmp");
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 2;
	}
	for (size_t i = 0; i < ARRAY_SIZE(tests); i++) {
		bool wanted = argc == 2;

		for (int a = 2; a < argc && !wanted; a++)
			wanted = strstr(tests[i].name, argv[a]) != NULL;
		if (!wanted)
			continue;
		if (in_namespaces(i) == 0)
			passed++;
		else
			failed++;
	}
	if (!getenv("CKPT_KEEP"))
		nftw(tmpdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	else
		printf("kept %s\n", tmpdir);
	printf("checkpoint: %d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
