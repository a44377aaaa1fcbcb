/* ward exec, the process that enters the container: it waits for its cgroup, joins the init's
 * namespaces (user first, mount last), forks into the pid namespace, then sets up the process
 * as the init does (terminal, rlimits, user, capabilities, cwd, seccomp) and executes it.
 * Errors travel to the parent as SYNC_ERROR; success shows as end of file on the sync socket
 * (close-on-exec). */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "lib/util.h"
#include "runtime/console.h"
#include "runtime/container.h"
#include "runtime/exec.h"
#include "runtime/process.h"
#include "runtime/signals.h"

#ifndef KEYCTL_JOIN_SESSION_KEYRING
#define KEYCTL_JOIN_SESSION_KEYRING 1
#endif

__attribute__((noreturn)) static void child_fail(struct exec_ctx *c, struct werr **err)
{
	sync_send(c->sync_fd, SYNC_ERROR, 0, *err ? (*err)->msg : "exec failed");
	_exit(1);
}

static int wait_cgroup(struct exec_ctx *c, struct werr **err)
{
	if (!c->cgroup_wait)
		return 0;
	return sync_wait_ack(c->sync_fd, "cgroup placement from the parent", NULL, err);
}

static int join_namespaces(struct exec_ctx *c, struct werr **err)
{
	int r = ns_join_fds(c->ns_fds, NULL, err);

	for (int t = 0; t < NS_COUNT; t++)
		if (c->ns_fds[t] >= 0 && t != NS_PID)
			close(c->ns_fds[t]);
	return r;
}

/* Joining a pid namespace only moves our children into it. The child goes on only once the
 * parent knows its pid (the seccomp listener's state names it). */
static void fork_into_pid_ns(struct exec_ctx *c)
{
	int gate[2];
	pid_t child;
	char byte;

	if (c->ns_fds[NS_PID] < 0)
		return;
	close(c->ns_fds[NS_PID]);
	if (pipe2(gate, O_CLOEXEC) < 0) {
		sync_send(c->sync_fd, SYNC_ERROR, 0, "pipe for the pid namespace fork failed");
		_exit(1);
	}
	child = fork();
	if (child < 0) {
		sync_send(c->sync_fd, SYNC_ERROR, 0,
			  "fork into the container's pid namespace failed");
		_exit(1);
	}
	if (child > 0) {
		sync_send(c->sync_fd, SYNC_PID, child, NULL);
		_exit(0); /* closes gate[1]: the child's read returns */
	}
	close(gate[1]);
	while (read(gate[0], &byte, 1) < 0 && errno == EINTR)
		;
	close(gate[0]);
}

static int setup_terminal(struct exec_ctx *c, struct werr **err)
{
	const struct spec_process *p = c->proc;
	_cleanup_close_ int master = -1;
	_cleanup_close_ int slave = -1;
	_cleanup_free_ char *slave_path = NULL;
	int r;

	r = console_open_for(p, &master, &slave, &slave_path, err);
	if (r < 0)
		return r;
	r = console_send_fd(c->console_sock, master, "/dev/ptmx", err);
	if (r < 0)
		return r;
	close(c->console_sock);
	c->console_sock = -1;
	return console_make_controlling(slave, err);
}

static int check_executable(const struct spec_process *p, struct werr **err)
{
	_cleanup_free_ char *path = NULL;

	if (!p->args || !p->args[0])
		return werr_set(err, EINVAL, "exec: process args cannot be empty");
	return process_find_executable(p->env, p->args[0], &path, err);
}

/* The session keyring is not namespaced: without a new one the process would hold the
 * caller's keys (the init joins one too; runc's exec does the same). */
static int join_new_keyring(struct exec_ctx *c, struct werr **err)
{
	if (c->new_keyring && syscall(SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, NULL) < 0 &&
	    errno != ENOSYS)
		return werr_sys(err, errno, "join a new session keyring");
	return 0;
}

static int setup(struct exec_ctx *c, struct werr **err)
{
	const struct spec_process *p = c->proc;
	int r;

	r = join_new_keyring(c, err);
	if (r < 0)
		return r;
	if (p->terminal) {
		r = setup_terminal(c, err);
		if (r < 0)
			return r;
	}
	r = process_apply_sched_oom(p, NULL, err);
	if (r == 0)
		r = process_apply_rlimits(p, err);
	/* Without no_new_privs the filter needs CAP_SYS_ADMIN: load it before the caps go. */
	if (r == 0 && !p->no_new_privileges)
		r = sync_load_seccomp(c->sync_fd, c->seccomp, err);
	if (r == 0)
		r = process_set_user_caps(p, err);
	/* a uid change makes the process dumpable again where fs.suid_dumpable=1 */
	if (r == 0)
		prctl(PR_SET_DUMPABLE, 0);
	if (r == 0)
		process_set_home(c->proc);
	if (r == 0)
		r = process_chdir(p, err);
	if (r == 0)
		r = check_executable(p, err);
	if (r == 0)
		r = process_close_fds(c->preserve_fds, err);
	/* ward exec tells "set up, about to execve" from a child that died on the way; sent
	 * before the no_new_privs filter, which may refuse the socket calls */
	if (r == 0)
		sync_send(c->sync_fd, SYNC_READY, 0, NULL);
	if (r == 0 && p->no_new_privileges)
		r = sync_load_seccomp(c->sync_fd, c->seccomp, err);
	return r;
}

void exec_child(struct exec_ctx *c)
{
	_cleanup_werr_ struct werr *err = NULL;

	signals_reset();
	/* Until execve (which resets it) nothing in the container may ptrace us or open our
	 * /proc/<pid>/fd: we carry ward's host fds (cgroup directories, namespaces) till then. */
	prctl(PR_SET_DUMPABLE, 0);
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (wait_cgroup(c, &err) < 0 || join_namespaces(c, &err) < 0)
		child_fail(c, &err);
	fork_into_pid_ns(c);
	/* Execve keeps it: a detached process must outlive ward exec. */
	prctl(PR_SET_PDEATHSIG, 0);
	if (setup(c, &err) < 0)
		child_fail(c, &err);
	process_exec(c->proc, &err);
	child_fail(c, &err);
}
