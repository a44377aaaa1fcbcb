/* ward-init: PID 1 of ward's micro-VM guest, a static program in the guest's initramfs (/init).
 *
 * It mounts /dev, /proc; loads the kernel modules the initramfs carries (/lib/modules/ward/ORDER
 * lists NAME.ko files in load order, see below); reads its job from the kernel command line
 * (ward_init_cmdline.h); mounts the rootfs read-only from the virtio-blk disk with a tmpfs
 * overlay on top for writes; moves into it (mount --move + chroot: pivot_root does not work on
 * an initramfs root); mounts /proc, /sys, /dev, /tmp there; sets the hostname; runs the workload
 * as its child with the console as stdio; forwards SIGTERM/SIGINT/SIGHUP/SIGQUIT/SIGUSR1/SIGUSR2
 * to it, and the signals the host posts (a read of the status port returns the pending one;
 * polled every POLL_MS); reaps every orphan; and reports the workload's exit status (128 + signal
 * when killed) through the VMM's status port 0xff0.
 *
 * `ward exec`: requests arrive on the virtio-console port ward.ctl (the VMM relays a host socket
 * to it; the protocol and its connection boundary are in ward_ctl.h); ward-init runs each
 * process as its child with pipes for its stdio and sends its output and exit status back.
 *
 * With ward.stdio=ports the workload's stdin, stdout and stderr are the virtio-console ports
 * ward.stdin, ward.stdout, ward.stderr themselves (end-of-file on stdin is the port's host end
 * closing); the serial console then carries only the kernel's and ward-init's own messages.
 *
 * The console is made a plain byte pipe (no echo, no "\n" -> "\r\n"): the workload's output
 * reaches the container's stdout as written. If the port does nothing, it reboots (reboot=k: the
 * VMM's i8042 reset). When it cannot set up the job it prints why and reports 125.
 *
 * Module order file: /lib/modules/ward/order, one module name per line (without .ko), each
 * loaded from /lib/modules/ward/NAME.ko with finit_module; "already loaded" is fine. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <grp.h>
#include <poll.h>
#include <stdbool.h>
#include <sys/io.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "ward_ctl.h"
#include "ward_init_cmdline.h"

#define STATUS_PORT 0x0ff0 /* VMM_STATUS_PORT in vmm_shim/vmm.h */
#define MARK_PORT 0x0ff1   /* VMM_MARK_PORT: progress marks, for a boot profile */
#define EXIT_SETUP 125
#define MODULE_DIR "/lib/modules/ward"
#define ROOT_WAIT_MS 10000
#define POLL_MS 50
#define CTL_CHUNK 16384 /* the most output one frame carries */
#define PORT_DIR "/sys/class/virtio-ports"

static volatile sig_atomic_t workload_pid;

/* Progress marks (one port write each; the VMM timestamps them when tracing): where the time
 * between the kernel's start and the workload's goes. */
enum mark { MARK_INIT = 1, MARK_MODULES, MARK_ROOT, MARK_STDIO, MARK_WORKLOAD };
static bool can_mark;

static void mark(enum mark m)
{
	if (can_mark)
		outb((unsigned char)m, MARK_PORT);
}

static void say(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("ward-init: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

static void report(int status)
{
	sync();
	if (iopl(3) == 0)
		outb((unsigned char)status, STATUS_PORT);
	else
		say("iopl: %m; rebooting without reporting status %d", status);
	reboot(RB_AUTOBOOT);
	for (;;)
		pause();
}

static void fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("ward-init: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	report(EXIT_SETUP);
}

static void mount_or_fail(const char *src, const char *dst, const char *type, unsigned long flags,
			  const char *data)
{
	mkdir(dst, 0755);
	if (mount(src, dst, type, flags, data) < 0)
		fail("mount %s on %s (%s): %m", src, dst, type);
}

static void console_stdio(void)
{
	int fd;

	if (fcntl(0, F_GETFD) >= 0 && fcntl(1, F_GETFD) >= 0 && fcntl(2, F_GETFD) >= 0)
		return;
	fd = open("/dev/console", O_RDWR | O_NOCTTY);
	if (fd < 0)
		return; /* nowhere to say anything; the status port still works */
	for (int i = 0; i < 3; i++)
		if (fcntl(i, F_GETFD) < 0)
			dup2(fd, i);
	if (fd > 2)
		close(fd);
}

static void load_modules(void)
{
	FILE *f = fopen(MODULE_DIR "/order", "re");
	char name[128], path[256];

	if (!f)
		return;
	while (fgets(name, sizeof(name), f)) {
		int fd;

		name[strcspn(name, "\r\n")] = '\0';
		if (!name[0])
			continue;
		snprintf(path, sizeof(path), MODULE_DIR "/%s.ko", name);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			fail("module %s: %m", path);
		if (syscall(SYS_finit_module, fd, "", 0) < 0 && errno != EEXIST)
			fail("loading module %s: %m%s", name,
			     errno == ENOENT
				     ? " (unknown symbols: is a module it needs listed after it?)"
				     : "");
		close(fd);
	}
	fclose(f);
}

static char *read_cmdline(void)
{
	static char buf[8192];
	int fd = open("/proc/cmdline", O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		fail("open /proc/cmdline: %m");
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n < 0)
		fail("read /proc/cmdline: %m");
	buf[n] = '\0';
	return buf;
}

static void wait_for(const char *dev)
{
	struct timespec ts = {0, 10 * 1000 * 1000};
	struct stat st;

	for (int ms = 0; stat(dev, &st) < 0; ms += 10) {
		if (ms >= ROOT_WAIT_MS)
			fail("no root device %s after %d s", dev, ROOT_WAIT_MS / 1000);
		nanosleep(&ts, NULL);
	}
}

/* The rootfs at /newroot: the disk read-only, under a tmpfs overlay unless told otherwise. */
static void mount_root(const struct winit_job *job)
{
	wait_for(job->root);
	if (!job->overlay) {
		mount_or_fail(job->root, "/newroot", job->rootfstype, MS_RDONLY, NULL);
		return;
	}
	mount_or_fail(job->root, "/lower", job->rootfstype, MS_RDONLY, NULL);
	mount_or_fail("rw", "/rw", "tmpfs", 0, "mode=0755");
	mkdir("/rw/upper", 0755);
	mkdir("/rw/work", 0755);
	mount_or_fail("overlay", "/newroot", "overlay", 0,
		      "lowerdir=/lower,upperdir=/rw/upper,workdir=/rw/work");
}

/* Become the rootfs: move it over /, chroot there; then the kernel filesystems inside it. */
static void enter_root(void)
{
	if (chdir("/newroot") < 0 || mount(".", "/", NULL, MS_MOVE, NULL) < 0 || chroot(".") < 0 ||
	    chdir("/") < 0)
		fail("switching to the rootfs: %m");
	mount_or_fail("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
	mount_or_fail("sysfs", "/sys", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
	mount_or_fail("dev", "/dev", "devtmpfs", MS_NOSUID, "mode=0755");
	mount_or_fail("tmp", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777");
}

/* No echo of the input, no output processing: the serial line carries the workload's bytes. */
static void console_plain(void)
{
	struct termios t;

	if (tcgetattr(STDIN_FILENO, &t) < 0)
		return;
	t.c_lflag &= ~(tcflag_t)(ECHO | ECHOE | ECHOK | ECHONL | ECHOCTL | ECHOKE);
	t.c_oflag &= ~(tcflag_t)OPOST;
	t.c_iflag &= ~(tcflag_t)(ICRNL | IXON);
	tcsetattr(STDIN_FILENO, TCSANOW, &t);
}

/* The virtio-console port called name (the VMM names them, see ward_ctl.h), opened with
 * flags: -1 while it is not there (yet). */
static int open_port(const char *name, int flags)
{
	DIR *d = opendir(PORT_DIR);
	struct dirent *e;
	int fd = -1;

	if (!d)
		return -1;
	while (fd < 0 && (e = readdir(d))) {
		char path[300], got[64] = "";
		FILE *f;

		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), PORT_DIR "/%s/name", e->d_name);
		f = fopen(path, "re");
		if (!f)
			continue;
		if (fgets(got, sizeof(got), f))
			got[strcspn(got, "\n")] = '\0';
		fclose(f);
		if (strcmp(got, name) != 0)
			continue;
		snprintf(path, sizeof(path), "/dev/%s", e->d_name);
		fd = open(path, flags | O_NOCTTY | O_CLOEXEC);
	}
	closedir(d);
	return fd;
}

/* The workload's stdin, stdout, stderr: the ports, as they come up (the driver adds them after
 * a few messages with the VMM). */
static void open_stdio_ports(int fds[3])
{
	static const char *const names[3] = {WCTL_PORT_STDIN, WCTL_PORT_STDOUT, WCTL_PORT_STDERR};
	struct timespec ts = {0, 10 * 1000 * 1000};

	for (int ms = 0;; ms += 10) {
		bool all = true;

		for (int i = 0; i < 3; i++) {
			if (fds[i] < 0)
				fds[i] = open_port(names[i], i == 0 ? O_RDONLY : O_WRONLY);
			all &= fds[i] >= 0;
		}
		if (all)
			return;
		if (ms >= ROOT_WAIT_MS)
			fail("no virtio-console port %s after %d s", fds[0] < 0   ? names[0]
								: fds[1] < 0 ? names[1]
									     : names[2],
			     ROOT_WAIT_MS / 1000);
		nanosleep(&ts, NULL);
	}
}

/* A signal the host wants the workload to get (0: none; an unclaimed port reads 0xff). */
static int host_signal(bool have_port)
{
	int sig;

	if (!have_port)
		return 0;
	sig = inb(STATUS_PORT);
	return sig > 0 && sig < NSIG ? sig : 0;
}

static void forward(int sig)
{
	if (workload_pid > 0)
		kill(workload_pid, sig);
}

static void noop(int sig)
{
}

/* The I/O privilege level is inherited across fork and execve: a workload must not get ward-init's
 * (it could write the status port, or program the guest's PIC and PIT, even as a user). */
static void drop_ports(void)
{
	if (iopl(0) < 0)
		_exit(EXIT_SETUP);
}

/* ---- the control channel: processes for `ward exec` ------------------------------------ */

struct ctl {
	int fd; /* the ward.ctl port (non-blocking), or -1 */
	int tries;
	bool got;   /* bytes came from the current client: its end must reset us */
	bool quiet; /* no client: leave the port out of the next wait (it polls as hung up) */
	uint8_t in[WCTL_HDR + WCTL_MAX_PAYLOAD + 1];
	size_t have;
	pid_t pid; /* the exec'd process, 0 when none */
	int to_stdin, from_out, from_err;
	bool exited;
	int status;
};

static struct ctl ctl = {.fd = -1, .to_stdin = -1, .from_out = -1, .from_err = -1};

static void write_full(int fd, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		p += n;
		len -= (size_t)n;
	}
}

/* One frame, in one write (a port write is one buffer, all or nothing): waits while the
 * client does not read; dropped once it has gone (the port hangs up). */
static void ctl_send(char type, const void *p, uint32_t len)
{
	static uint8_t buf[WCTL_HDR + CTL_CHUNK];
	size_t n = WCTL_HDR + (len < CTL_CHUNK ? len : CTL_CHUNK);

	if (ctl.fd < 0)
		return;
	wctl_header(buf, type, (uint32_t)(n - WCTL_HDR));
	memcpy(buf + WCTL_HDR, p, n - WCTL_HDR);
	for (;;) {
		struct pollfd pf = {.fd = ctl.fd, .events = POLLOUT};
		ssize_t w = write(ctl.fd, buf, n);

		if (w >= 0 || (errno != EAGAIN && errno != EINTR))
			return;
		if (poll(&pf, 1, POLL_MS) > 0 && (pf.revents & (POLLHUP | POLLERR)))
			return;
	}
}

/* The port shows up once virtio_console has probed: try for a while, quietly. */
static void ctl_open(void)
{
	if (ctl.fd >= 0 || ctl.tries > 200)
		return;
	ctl.tries++;
	ctl.fd = open_port(WCTL_PORT_CTL, O_RDWR | O_NONBLOCK);
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/* The client went: its process (group) is killed and reaped, its half frame forgotten, and
 * the port closed and reopened, which tells the VMM that the next client may come. */
static void ctl_reset(void)
{
	if (ctl.pid && !ctl.exited) {
		kill(-ctl.pid, SIGKILL);
		kill(ctl.pid, SIGKILL);
		while (waitpid(ctl.pid, NULL, 0) < 0 && errno == EINTR)
			;
	}
	ctl.pid = 0;
	close_fd(&ctl.to_stdin);
	close_fd(&ctl.from_out);
	close_fd(&ctl.from_err);
	ctl.have = 0;
	ctl.got = false;
	close_fd(&ctl.fd);
	ctl.tries = 0;
	ctl_open();
}

static void ctl_fail(const char *msg)
{
	ctl_send('F', msg, (uint32_t)strlen(msg));
	ctl_send('X', "125", 3);
}

static void exec_child(const char *cwd, unsigned uid, unsigned gid, char **argv, char **envp,
		       const sigset_t *old, int in, int out, int err)
{
	extern char **environ;

	drop_ports();
	dup2(in, 0);
	dup2(out, 1);
	dup2(err, 2);
	setsid();
	if (setgid(gid) < 0 || setgroups(0, NULL) < 0 || setuid(uid) < 0) {
		say("credentials %u:%u: %m", uid, gid);
		_exit(EXIT_SETUP);
	}
	if (chdir(cwd) < 0) {
		say("chdir %s: %m", cwd);
		_exit(EXIT_SETUP);
	}
	sigprocmask(SIG_SETMASK, old, NULL);
	environ = envp; /* execvpe searches the caller's PATH: make it the process's */
	execvpe(argv[0], argv, envp);
	say("exec %s: %m", argv[0]);
	_exit(errno == ENOENT ? 127 : 126);
}

static void ctl_exec(char *payload, uint32_t len, const sigset_t *old)
{
	static char *argv[WCTL_MAX_STRINGS + 1], *envp[WCTL_MAX_STRINGS + 1];
	int in[2], out[2], err[2];
	const char *cwd;
	unsigned uid, gid;
	pid_t pid;

	if (ctl.pid) {
		ctl_fail("another exec is still running in this micro-VM");
		return;
	}
	if (wctl_parse_exec(payload, len, &cwd, &uid, &gid, argv, envp) < 0) {
		ctl_fail("malformed exec request");
		return;
	}
	if (pipe2(in, O_CLOEXEC) < 0 || pipe2(out, O_CLOEXEC) < 0 || pipe2(err, O_CLOEXEC) < 0) {
		ctl_fail("pipe failed in the guest");
		return;
	}
	pid = fork();
	if (pid == 0)
		exec_child(cwd, uid, gid, argv, envp, old, in[0], out[1], err[1]);
	close(in[0]);
	close(out[1]);
	close(err[1]);
	if (pid < 0) {
		close(in[1]);
		close(out[0]);
		close(err[0]);
		ctl_fail("fork failed in the guest");
		return;
	}
	ctl.pid = pid;
	ctl.exited = false;
	ctl.to_stdin = in[1];
	ctl.from_out = out[0];
	ctl.from_err = err[0];
}

static void ctl_frame(char type, uint8_t *p, uint32_t len, const sigset_t *old)
{
	switch (type) {
	case 'E':
		ctl_exec((char *)p, len, old);
		break;
	case 'I':
		if (ctl.to_stdin >= 0)
			write_full(ctl.to_stdin, p, len);
		break;
	case 'C':
		close_fd(&ctl.to_stdin);
		break;
	case 'K':
		/* not once reaped (it waits for its output to drain): the pid may be reused */
		if (ctl.pid && !ctl.exited && len == 1)
			kill(ctl.pid, p[0]);
		break;
	}
}

static void ctl_read(const sigset_t *old)
{
	ssize_t n = read(ctl.fd, ctl.in + ctl.have, sizeof(ctl.in) - 1 - ctl.have);
	uint32_t len;
	char type;
	long f;

	if (n == 0) {
		/* end-of-file: no client (any more) */
		if (ctl.got)
			ctl_reset();
		else
			ctl.quiet = true;
		return;
	}
	if (n < 0)
		return;
	ctl.got = true;
	ctl.have += (size_t)n;
	while ((f = wctl_frame(ctl.in, ctl.have, &type, &len)) > 0) {
		ctl_frame(type, ctl.in + WCTL_HDR, len, old);
		memmove(ctl.in, ctl.in + f, ctl.have - (size_t)f);
		ctl.have -= (size_t)f;
	}
	if (f < 0)
		ctl.have = 0; /* not our framing: drop it */
}

static void ctl_pump(int *fd, char type)
{
	static uint8_t buf[CTL_CHUNK];
	ssize_t n = read(*fd, buf, sizeof(buf));

	if (n > 0)
		ctl_send(type, buf, (uint32_t)n);
	else if (n == 0 || errno != EINTR)
		close_fd(fd);
}

/* The exec'd process is done once it exited and its output is drained. */
static void ctl_finish(void)
{
	char text[16];

	if (!ctl.pid || !ctl.exited || ctl.from_out >= 0 || ctl.from_err >= 0)
		return;
	snprintf(text, sizeof(text), "%d", ctl.status);
	ctl_send('X', text, (uint32_t)strlen(text));
	close_fd(&ctl.to_stdin);
	ctl.pid = 0;
}

/* Wait up to POLL_MS for the control channel, the exec'd process's output, or a signal. */
static void wait_events(const sigset_t *unblocked)
{
	struct timespec ts = {0, POLL_MS * 1000 * 1000};
	struct pollfd p[3];
	int n = 0, i_ctl = -1, i_out = -1, i_err = -1;

	ctl_open();
	if (ctl.fd >= 0 && !ctl.quiet) {
		i_ctl = n;
		p[n++] = (struct pollfd){.fd = ctl.fd, .events = POLLIN};
	}
	ctl.quiet = false;
	if (ctl.from_out >= 0) {
		i_out = n;
		p[n++] = (struct pollfd){.fd = ctl.from_out, .events = POLLIN};
	}
	if (ctl.from_err >= 0) {
		i_err = n;
		p[n++] = (struct pollfd){.fd = ctl.from_err, .events = POLLIN};
	}
	if (ppoll(p, (nfds_t)n, &ts, unblocked) <= 0)
		return;
	if (i_ctl >= 0 && p[i_ctl].revents)
		ctl_read(unblocked);
	if (i_out >= 0 && p[i_out].revents)
		ctl_pump(&ctl.from_out, 'O');
	if (i_err >= 0 && p[i_err].revents)
		ctl_pump(&ctl.from_err, 'R');
}

static void run_child(const struct winit_job *job, const sigset_t *old, const int stdio[3])
{
	extern char **environ;

	drop_ports();
	for (int i = 0; i < 3; i++)
		if (stdio[i] >= 0 && dup2(stdio[i], i) < 0)
			_exit(EXIT_SETUP);
	setsid();
	if (setgid(job->gid) < 0 || setgroups(0, NULL) < 0 || setuid(job->uid) < 0) {
		say("credentials %u:%u: %m", job->uid, job->gid);
		_exit(EXIT_SETUP);
	}
	for (int i = 0; i < job->n_rlimits; i++) {
		const struct winit_rlimit *l = &job->rlimits[i];
		struct rlimit rl = {.rlim_cur = l->soft == ~0ull ? RLIM_INFINITY : l->soft,
				    .rlim_max = l->hard == ~0ull ? RLIM_INFINITY : l->hard};

		if (setrlimit(l->resource, &rl) < 0) {
			say("rlimit %d %llu:%llu: %m", l->resource, l->soft, l->hard);
			_exit(EXIT_SETUP);
		}
	}
	if (chdir(job->cwd) < 0) {
		say("chdir %s: %m", job->cwd);
		_exit(EXIT_SETUP);
	}
	sigprocmask(SIG_SETMASK, old, NULL);
	/* execvpe searches the caller's PATH: make it the workload's */
	environ = (char **)job->env;
	execvpe(job->args[0], job->args, job->env);
	say("exec %s: %m", job->args[0]);
	_exit(errno == ENOENT ? 127 : 126);
}

int main(void)
{
	static const int fwd[] = {SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2};
	struct sigaction sa = {.sa_handler = forward};
	struct winit_job job;
	const char *bad;
	struct sigaction chld_sa = {0};
	sigset_t all, old, wait_mask;
	bool have_port;
	int stdio[3] = {-1, -1, -1};
	pid_t pid;
	int wstatus;

	if (getpid() != 1) {
		fprintf(stderr, "ward-init: not PID 1; this is the micro-VM guest's init\n");
		return EXIT_SETUP;
	}
	can_mark = iopl(3) == 0;
	mark(MARK_INIT);
	mkdir("/dev", 0755);
	mount("dev", "/dev", "devtmpfs", MS_NOSUID, "mode=0755");
	console_stdio();
	mount_or_fail("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
	if (winit_parse_cmdline(read_cmdline(), &job, &bad) < 0)
		fail("bad or missing %s on the kernel command line",
		     bad ? bad : "ward.* parameter");
	load_modules();
	mark(MARK_MODULES);
	mount_root(&job);
	umount2("/proc", MNT_DETACH);
	enter_root();
	console_stdio();
	mark(MARK_ROOT);
	if (job.hostname && sethostname(job.hostname, strlen(job.hostname)) < 0)
		fail("sethostname %s: %m", job.hostname);

	if (job.stdio_ports)
		open_stdio_ports(stdio);
	else
		console_plain();
	mark(MARK_STDIO);
	have_port = iopl(3) == 0;
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < sizeof(fwd) / sizeof(fwd[0]); i++)
		sigaction(fwd[i], &sa, NULL);
	sigfillset(&all);
	sigprocmask(SIG_SETMASK, &all, &old);
	pid = fork();
	if (pid < 0)
		fail("fork: %m");
	if (pid == 0)
		run_child(&job, &old, stdio);
	workload_pid = pid;
	mark(MARK_WORKLOAD);
	/* SIGCHLD stays blocked but for the wait in ppoll, which it interrupts (a no-op handler:
	 * an ignored signal would not); every POLL_MS the status port is asked for a signal */
	chld_sa.sa_handler = noop;
	sigemptyset(&chld_sa.sa_mask);
	sigaction(SIGCHLD, &chld_sa, NULL);
	wait_mask = old;
	sigaddset(&wait_mask, SIGCHLD);
	sigprocmask(SIG_SETMASK, &wait_mask, NULL);
	for (;;) {
		pid_t r;
		int sig;

		while ((r = waitpid(-1, &wstatus, WNOHANG)) > 0) {
			if (r == pid)
				report(winit_exit_status(wstatus));
			if (r == ctl.pid) {
				ctl.exited = true;
				ctl.status = winit_exit_status(wstatus);
			}
		}
		if (r < 0 && errno != EINTR && errno != ECHILD)
			fail("wait: %m");
		ctl_finish();
		sig = host_signal(have_port);
		if (sig)
			kill(pid, sig);
		wait_events(&old);
	}
}
