/* OCI hooks: each one a child process fed the container state on stdin, waited for with a
 * timeout through a pidfd. */
#include "runtime/hooks.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lib/util.h"

/* Without a pidfd (kernel < 5.3) the child is polled for at this interval. */
#define HOOK_POLL_MS 50

struct hook_run {
	pid_t pid;
	int pidfd;
	int in_fd;	   /* write end of the hook's stdin, -1 once closed */
	const char *state; /* what is left to write */
	size_t left;
	int timeout; /* seconds, 0 = none */
};

static void sigaction_restore(struct sigaction *old)
{
	sigaction(SIGPIPE, old, NULL);
}

/* Only async-signal-safe calls between fork and execve. */
static void __attribute__((noreturn))
hook_child(const struct spec_hook *h, char *const *argv, char *const *envp, int in_fd, int errpipe)
{
	sigset_t none;
	int e;

	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGPIPE, SIG_DFL);
	if (in_fd == STDIN_FILENO) {
		if (fcntl(in_fd, F_SETFD, 0) < 0)
			goto fail;
	} else if (dup2(in_fd, STDIN_FILENO) < 0) {
		goto fail;
	}
	execve(h->path, argv, envp);
fail:
	e = errno;
	if (write(errpipe, &e, sizeof(e)) < 0) {
		/* nothing more can be reported */
	}
	_exit(127);
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Write as much of the state as the pipe takes; a hook that exits or closes stdin early is
 * not an error (EPIPE), so the write end is just closed. */
static void feed_state(struct hook_run *hr)
{
	while (hr->left > 0) {
		ssize_t w = write(hr->in_fd, hr->state, hr->left);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN)
				return;
			break;
		}
		hr->state += w;
		hr->left -= (size_t)w;
	}
	closep(&hr->in_fd);
}

/* 1 when the child has been reaped into *status, 0 if still running, -errno on error. */
static int try_reap(struct hook_run *hr, int *status, bool block)
{
	pid_t r;

	do
		r = waitpid(hr->pid, status, block ? 0 : WNOHANG);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		return -errno;
	return r == hr->pid;
}

/* Feed stdin and wait. 1 = exited (*status), 0 = timed out (killed and reaped), <0 error. */
static int wait_hook(struct hook_run *hr, int *status)
{
	long long deadline = hr->timeout > 0 ? now_ms() + hr->timeout * 1000LL : -1;

	for (;;) {
		struct pollfd pfd[2];
		nfds_t n = 0;
		int wait_ms = -1, r;

		if (hr->pidfd >= 0)
			pfd[n++] = (struct pollfd){.fd = hr->pidfd, .events = POLLIN};
		else
			wait_ms = HOOK_POLL_MS;
		if (hr->in_fd >= 0)
			pfd[n++] = (struct pollfd){.fd = hr->in_fd, .events = POLLOUT};
		if (deadline >= 0) {
			long long left = deadline - now_ms();

			if (left <= 0)
				break;
			if (wait_ms < 0 || left < wait_ms)
				wait_ms = (int)left;
		}
		r = poll(pfd, n, wait_ms);
		if (r < 0 && errno != EINTR)
			return -errno;
		if (hr->in_fd >= 0)
			feed_state(hr);
		r = try_reap(hr, status, false);
		if (r != 0)
			return r;
	}
	if (hr->pidfd >= 0)
		syscall(SYS_pidfd_send_signal, hr->pidfd, SIGKILL, NULL, 0);
	else
		kill(hr->pid, SIGKILL);
	try_reap(hr, status, true);
	return 0;
}

static int hook_spawn(const struct spec_hook *h, struct hook_run *hr, int *errpipe_rd,
		      struct werr **err)
{
	static char *const empty_env[] = {NULL};
	char *const default_argv[] = {h->path, NULL};
	char *const *argv = h->args && h->args[0] ? h->args : default_argv;
	char *const *envp = h->env ? h->env : empty_env;
	int in[2], ep[2];

	if (pipe2(in, O_CLOEXEC) < 0)
		return werr_sys(err, errno, "pipe");
	if (pipe2(ep, O_CLOEXEC) < 0) {
		int e = errno;

		close(in[0]);
		close(in[1]);
		return werr_sys(err, e, "pipe");
	}
	hr->pid = fork();
	if (hr->pid < 0) {
		int e = errno;

		close(in[0]);
		close(in[1]);
		close(ep[0]);
		close(ep[1]);
		return werr_sys(err, e, "fork");
	}
	if (hr->pid == 0)
		hook_child(h, argv, envp, in[0], ep[1]);
	close(in[0]);
	close(ep[1]);
	hr->in_fd = in[1];
	*errpipe_rd = ep[0];
	fcntl(hr->in_fd, F_SETFL, O_NONBLOCK);
	hr->pidfd = pidfd_open(hr->pid, 0);
	return 0;
}

static int run_one(const char *kind, size_t idx, const struct spec_hook *h, const char *state,
		   struct werr **err)
{
	struct hook_run hr = {
		.pid = -1,
		.pidfd = -1,
		.in_fd = -1,
		.state = state ? state : "",
		.left = state ? strlen(state) : 0,
		.timeout = h->has_timeout ? h->timeout : 0,
	};
	__attribute__((cleanup(sigaction_restore))) struct sigaction old_pipe;
	struct sigaction ign = {.sa_handler = SIG_IGN};
	_cleanup_close_ int errpipe = -1;
	int status = 0, exec_errno = 0, r;

	/* A hook that never reads its stdin must not kill ward with SIGPIPE. */
	sigemptyset(&ign.sa_mask);
	sigaction(SIGPIPE, &ign, &old_pipe);
	r = hook_spawn(h, &hr, &errpipe, err);
	if (r < 0)
		return werr_wrap(err, "%s hook #%zu (%s)", kind, idx, h->path);
	r = wait_hook(&hr, &status);
	closep(&hr.in_fd);
	closep(&hr.pidfd);
	if (r < 0)
		return werr_sys(err, -r, "%s hook #%zu (%s): wait", kind, idx, h->path);
	if (r == 0)
		return werr_set(err, ETIMEDOUT, "%s hook #%zu (%s): timed out after %d seconds",
				kind, idx, h->path, h->timeout);
	if (read(errpipe, &exec_errno, sizeof(exec_errno)) == sizeof(exec_errno))
		return werr_sys(err, exec_errno, "%s hook #%zu (%s): exec", kind, idx, h->path);
	if (WIFSIGNALED(status))
		return werr_set(err, EINTR, "%s hook #%zu (%s): killed by signal %d (%s)", kind,
				idx, h->path, WTERMSIG(status), strsignal(WTERMSIG(status)));
	if (WIFEXITED(status) && WEXITSTATUS(status) != 0)
		return werr_set(err, EIO, "%s hook #%zu (%s): exit status %d", kind, idx, h->path,
				WEXITSTATUS(status));
	return 0;
}

int hooks_run(const char *kind, const struct spec_hook *hooks, size_t n, const char *state_json,
	      struct werr **err)
{
	for (size_t i = 0; i < n; i++) {
		int r = run_one(kind, i, &hooks[i], state_json, err);

		if (r < 0)
			return r;
	}
	return 0;
}
