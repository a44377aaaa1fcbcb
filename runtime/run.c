/* ward run: create + start, then (unless --detach) wait for the container, forwarding
 * signals, relaying the terminal, and exit with its status (128+signal when killed). */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/util.h"
#include "runtime/commands.h"
#include "runtime/console.h"
#include "runtime/container.h"
#include "runtime/foreground.h"
#include "runtime/log.h"

/* Like runc, every signal reaches the container except these: SIGCHLD is ours, the pty relay
 * handles SIGWINCH, and faults must stay deliverable to ward itself. */
static bool ward_keeps(int sig)
{
	return sig == SIGCHLD || sig == SIGWINCH || sig == SIGSEGV || sig == SIGBUS ||
	       sig == SIGILL || sig == SIGFPE || sig == SIGTRAP || sig == SIGSYS ||
	       sig == SIGKILL || sig == SIGSTOP;
}

static int exit_status(int status)
{
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return 1;
}

void foreground_signal_mask(sigset_t *mask)
{
	sigemptyset(mask);
	sigaddset(mask, SIGCHLD);
	for (int sig = 1; sig <= SIGRTMAX; sig++)
		if (!ward_keeps(sig))
			sigaddset(mask, sig);
}

/* The terminal relay runs in its own process so the wait loop stays simple. */
pid_t foreground_console_relay(int sock)
{
	_cleanup_werr_ struct werr *err = NULL;
	int master = -1;
	pid_t pid;

	if (console_recv_fd(sock, &master, &err) < 0) {
		log_error("%s", err->msg);
		return -1;
	}
	pid = fork();
	if (pid == 0) {
		sigset_t none;

		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		_exit(console_proxy(master, &err) < 0 ? 1 : 0);
	}
	close(master);
	return pid;
}

int foreground_wait(pid_t init, pid_t relay, int sfd)
{
	int status = 0;
	bool init_done = false;

	while (!init_done) {
		struct signalfd_siginfo si;

		if (read(sfd, &si, sizeof(si)) != sizeof(si)) {
			if (errno == EINTR)
				continue;
			return 1;
		}
		if (si.ssi_signo != SIGCHLD && !ward_keeps((int)si.ssi_signo)) {
			kill(init, (int)si.ssi_signo);
			continue;
		}
		/* We are a subreaper: reap everything, note the init's status. */
		for (;;) {
			int st;
			pid_t p = waitpid(-1, &st, WNOHANG);

			if (p <= 0)
				break;
			if (p == init) {
				status = st;
				init_done = true;
			}
		}
	}
	if (relay > 0)
		waitpid(relay, NULL, 0);
	return exit_status(status);
}

int cmd_run(const struct global_opts *g, int argc, char **argv)
{
	_cleanup_werr_ struct werr *err = NULL;
	struct create_opts o = { .root = g->root };
	bool detach = false, keep = false;
	int sv[2] = { -1, -1 };
	sigset_t mask;
	pid_t init, relay = -1;
	int sfd, status;

	if (parse_create_flags(argc, argv, &o, &detach, &keep) < 0)
		return 1;
	if (!detach) {
		o.foreground = true;
		prctl(PR_SET_CHILD_SUBREAPER, 1);
		if (!o.console_socket &&
		    socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0)
			o.console_recv_fd = sv[1];
	}
	foreground_signal_mask(&mask);
	if (!detach)
		sigprocmask(SIG_BLOCK, &mask, NULL);
	init = container_create(&o, &err);
	if (sv[1] >= 0)
		close(sv[1]);
	if (init < 0) {
		log_error("%s", err->msg);
		return 1;
	}
	if (!detach && sv[0] >= 0) {
		if (o.terminal)
			relay = foreground_console_relay(sv[0]);
		close(sv[0]);
	}
	if (container_start(g->root, o.id, &err) < 0) {
		log_error("%s", err->msg);
		werr_free(&err);
		container_delete(g->root, o.id, true, NULL);
		return 1;
	}
	if (detach)
		return 0;
	sfd = signalfd(-1, &mask, SFD_CLOEXEC);
	if (sfd < 0) {
		log_error("signalfd: %s", strerror(errno));
		return 1;
	}
	status = foreground_wait(init, relay, sfd);
	close(sfd);
	if (!keep && container_delete(g->root, o.id, true, &err) < 0)
		log_warn("%s", err->msg);
	return status;
}
