/* ward exec, the parent side: check the container, open the init's namespaces, clone the
 * joining process into the container's cgroup, follow it over the sync socket until it has
 * executed, then hand out its pid (pid file, pidfd socket) and wait for it in the foreground. */
#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/util.h"
#include "runtime/cgroup.h"
#include "runtime/console.h"
#include "runtime/container.h"
#include "runtime/exec.h"
#include "runtime/foreground.h"
#include "runtime/log.h"
#include "runtime/spec_gen.h"
#include "runtime/vm.h"

/* The parent's view of one exec, for cleanup on every path. */
struct exec_run {
	int ns_fds[NS_COUNT];
	int sync[2];
	int console[2]; /* [0] ours (receives the master), [1] the child's */
	int pidfd_sock;
	struct cgroup *cg;
	struct seccomp_filter *seccomp;
	pid_t child; /* the clone; exits after forking into the pid namespace */
	pid_t proc;  /* the process that executes (child, or its child) */
};

static void exec_run_close(struct exec_run *x)
{
	for (int t = 0; t < NS_COUNT; t++)
		if (x->ns_fds[t] >= 0)
			close(x->ns_fds[t]);
	for (int i = 0; i < 2; i++) {
		if (x->sync[i] >= 0)
			close(x->sync[i]);
		if (x->console[i] >= 0)
			close(x->console[i]);
	}
	if (x->pidfd_sock >= 0)
		close(x->pidfd_sock);
	cgroup_free(x->cg);
	seccomp_filter_free(x->seccomp);
}

static void kill_exec(struct exec_run *x)
{
	if (x->proc > 0 && x->proc != x->child) {
		kill(x->proc, SIGKILL);
		waitpid(x->proc, NULL, 0);
	}
	if (x->child > 0) {
		kill(x->child, SIGKILL);
		waitpid(x->child, NULL, 0);
	}
}

static int check_status(const struct exec_opts *o, const struct cstate *st, struct werr **err)
{
	if (st->status == ST_STOPPED)
		return werr_set(err, EINVAL, "cannot exec in a stopped container");
	if (vm_state_is_vm(st) && (o->detach || o->tty || o->console_socket || o->pid_file ||
				   o->pidfd_socket || o->preserve_fds))
		return werr_set(err, ENOTSUP,
				"container %s runs in a micro-VM: exec there supports neither "
				"--detach, --tty, --console-socket, --pid-file, --pidfd-socket nor "
				"--preserve-fds",
				st->id);
	if (st->status == ST_PAUSED && !o->ignore_paused)
		return werr_set(
			err, EINVAL,
			"cannot exec in a paused container (use --ignore-paused to override)");
	return 0;
}

static bool same_file(int fd, const char *path)
{
	struct stat a, b;

	return fstat(fd, &a) == 0 && stat(path, &b) == 0 && a.st_dev == b.st_dev &&
	       a.st_ino == b.st_ino;
}

/* Every namespace of the init that is not already ours (joining our own user namespace would
 * fail, the others would be no-ops). Opened here, where the pid is checked against reuse. */
static int open_init_namespaces(const struct cstate *st, int fds[NS_COUNT], struct werr **err)
{
	for (int t = 0; t < NS_COUNT; t++) {
		char path[64], self[64];

		snprintf(path, sizeof(path), "/proc/%d/ns/%s", st->pid, ns_proc_name(t));
		snprintf(self, sizeof(self), "/proc/self/ns/%s", ns_proc_name(t));
		fds[t] = open(path, O_RDONLY | O_CLOEXEC);
		if (fds[t] < 0) {
			if (errno == ENOENT && access(self, F_OK) < 0)
				continue; /* a namespace type this kernel does not have */
			return werr_sys(err, errno, "open %s", path);
		}
		if (same_file(fds[t], self)) {
			close(fds[t]);
			fds[t] = -1;
		}
	}
	if (!process_alive(st->pid, st->start_time))
		return werr_set(err, ESRCH, "cannot exec in a stopped container");
	return 0;
}

static int check_terminal_flags(const struct exec_opts *o, const struct spec_process *p,
				struct werr **err)
{
	if (p->terminal && o->detach && !o->console_socket)
		return werr_set(err, EINVAL,
				"cannot allocate tty if ward will detach without setting console "
				"socket (--console-socket)");
	if ((!o->detach || !p->terminal) && o->console_socket)
		return werr_set(
			err, EINVAL,
			"cannot use console socket if ward will not detach or allocate tty");
	return 0;
}

static pid_t clone3_into(int cgroup_fd)
{
	struct clone_args args = {.exit_signal = SIGCHLD};

	if (cgroup_fd >= 0) {
		args.flags |= CLONE_INTO_CGROUP;
		args.cgroup = (uint64_t)cgroup_fd;
	}
	return (pid_t)syscall(SYS_clone3, &args, sizeof(args));
}

/* runtime-spec containerProcessState for the seccomp listener. */
static char *listener_state(const struct cstate *st, const struct spec *spec, pid_t pid)
{
	static const char *const fds[] = {"seccompFd"};
	_cleanup_free_ char *state = state_to_json(st, st->status, false);
	_cleanup_free_ char *head = NULL;
	yajl_gen g = jg_new();
	char *end;

	jg_kopen(g, NULL);
	jg_kstr(g, "ociVersion", "1.2.0");
	jg_kstrv(g, "fds", fds, 1);
	jg_kint(g, "pid", pid);
	if (spec->linux_.seccomp.listener_metadata)
		jg_kstr(g, "metadata", spec->linux_.seccomp.listener_metadata);
	jg_close(g);
	head = jg_finish(g);
	end = strrchr(head, '}');
	if (end)
		*end = '\0';
	return xasprintf("%s,\"state\":%s}", head, state);
}

static int forward_notify_fd(const struct cstate *st, const struct spec *spec, pid_t pid, int fd,
			     struct werr **err)
{
	_cleanup_free_ char *json = listener_state(st, spec, pid);
	_cleanup_close_ int nfd = fd;

	if (!spec->linux_.seccomp.listener_path)
		return werr_set(err, EINVAL,
				"linux.seccomp: SCMP_ACT_NOTIFY needs linux.seccomp.listenerPath");
	return seccomp_notify_send(spec->linux_.seccomp.listener_path, nfd, json, err);
}

/* Follow the child until its process has executed (end of file on the sync socket, which is
 * close-on-exec) or reported an error. */
static int follow_child(struct exec_run *x, const struct cstate *st, const struct spec *spec,
			struct werr **err)
{
	bool ready = false;

	for (;;) {
		struct sync_msg m;
		int fd, r;

		r = sync_recv_fd(x->sync[0], &m, &fd);
		if (r == -EPIPE && ready)
			return 0;
		if (r == -EPIPE)
			return werr_set(err, ECHILD, "unable to start container process: it exited "
						     "during set-up");
		if (r < 0)
			return werr_sys(err, -r, "exec: read the sync socket");
		switch (m.type) {
		case SYNC_PID:
			x->proc = m.value;
			waitpid(x->child, NULL, 0);
			x->child = 0; /* reaped; its child is now ours (subreaper) */
			break;
		case SYNC_READY:
			ready = true;
			break;
		case SYNC_SECCOMP:
			r = forward_notify_fd(st, spec, x->proc, fd, err);
			if (r < 0)
				return r;
			sync_ack(x->sync[0], 0);
			break;
		case SYNC_ERROR:
			if (fd >= 0)
				close(fd);
			return werr_set(err, EINVAL, "unable to start container process: %s",
					m.text);
		default:
			if (fd >= 0)
				close(fd);
			return werr_set(err, EPROTO, "exec: unexpected sync message %u", m.type);
		}
	}
}

/* runc 1.2's --pidfd-socket: a pidfd of the new process, over SCM_RIGHTS. */
static int send_pidfd(struct exec_run *x, struct werr **err)
{
	_cleanup_close_ int pidfd = (int)syscall(SYS_pidfd_open, x->proc, 0);

	if (pidfd < 0)
		return werr_sys(err, errno, "pidfd_open %d", x->proc);
	return console_send_fd(x->pidfd_sock, pidfd, "pidfd", err);
}

static int prepare(const struct exec_opts *o, struct exec_run *x, const struct cstate *st,
		   const struct spec *spec, struct werr **err)
{
	int r;

	r = check_terminal_flags(o, &spec->process, err);
	if (r < 0)
		return r;
	r = open_init_namespaces(st, x->ns_fds, err);
	if (r < 0)
		return r;
	if (o->cgroup_sub) {
		_cleanup_free_ char *path = NULL;

		if (!st->cgroup_path)
			return werr_set(err, EINVAL, "--cgroup %s: the container has no cgroup",
					o->cgroup_sub);
		path = xasprintf("%s/%s", st->cgroup_path, o->cgroup_sub);
		r = cgroup_open(&x->cg, path, err);
		if (r < 0)
			return werr_wrap(err, "--cgroup %s (create it first)", o->cgroup_sub);
	} else if (st->cgroup_path) {
		r = container_cgroup_open(st, &x->cg, err);
		if (r < 0)
			return r;
	}
	if (spec->linux_.has_seccomp) {
		r = seccomp_filter_build(&spec->linux_.seccomp, &x->seccomp, NULL, err);
		if (r < 0)
			return r;
	}
	if (o->console_socket) {
		x->console[1] = console_connect(o->console_socket, err);
		if (x->console[1] < 0)
			return x->console[1];
	} else if (spec->process.terminal &&
		   socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, x->console) < 0) {
		return werr_sys(err, errno, "socketpair for the terminal");
	}
	if (o->pidfd_socket) {
		x->pidfd_sock = console_connect(o->pidfd_socket, err);
		if (x->pidfd_sock < 0)
			return werr_wrap(err, "--pidfd-socket");
	}
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, x->sync) < 0)
		return werr_sys(err, errno, "socketpair");
	return 0;
}

static int spawn(const struct exec_opts *o, struct exec_run *x, const struct cstate *st,
		 struct spec *spec, struct werr **err)
{
	struct exec_ctx ctx = {
		.proc = &spec->process,
		.sync_fd = x->sync[1],
		.console_sock = x->console[1],
		.seccomp = x->seccomp,
		.preserve_fds = o->preserve_fds,
		.new_keyring = !st->no_new_keyring,
	};
	int cgfd = x->cg ? cgroup_clone_fd(x->cg) : -1;
	int r;

	memcpy(ctx.ns_fds, x->ns_fds, sizeof(ctx.ns_fds));
	/* v1 hierarchies (and hosts without CLONE_INTO_CGROUP) are joined by us while the child
	 * waits, before it forks into the pid namespace. */
	ctx.cgroup_wait = x->cg && (cgfd < 0 || x->cg->mode != CGROUP_UNIFIED);
	x->child = clone3_into(cgfd);
	if (x->child < 0 && cgfd >= 0 && (errno == EINVAL || errno == ENOSYS || errno == E2BIG)) {
		ctx.cgroup_wait = true;
		x->child = clone3_into(-1);
	}
	if (x->child < 0)
		return werr_sys(err, errno, "clone3 the exec process");
	if (x->child == 0) {
		close(x->sync[0]);
		if (x->console[0] >= 0)
			close(x->console[0]);
		exec_child(&ctx);
	}
	x->proc = x->child;
	close(x->sync[1]);
	x->sync[1] = -1;
	if (x->console[1] >= 0) {
		close(x->console[1]);
		x->console[1] = -1;
	}
	if (ctx.cgroup_wait) {
		r = cgroup_add_pid(x->cg, x->child, err);
		if (r < 0)
			return r;
		sync_ack(x->sync[0], 0);
	}
	return 0;
}

static int wait_foreground(struct exec_run *x, const sigset_t *mask)
{
	pid_t relay = -1;
	int sfd, status;

	if (x->console[0] >= 0) {
		relay = foreground_console_relay(x->console[0]);
		close(x->console[0]);
		x->console[0] = -1;
	}
	sfd = signalfd(-1, mask, SFD_CLOEXEC);
	if (sfd < 0) {
		log_error("signalfd: %s", strerror(errno));
		return 1;
	}
	status = foreground_wait(x->proc, relay, sfd);
	close(sfd);
	return status;
}

static int run_exec(const struct exec_opts *o, struct exec_run *x, const struct cstate *st,
		    struct spec *spec, struct werr **err)
{
	sigset_t mask, old;
	int r;

	r = prepare(o, x, st, spec, err);
	if (r < 0)
		return r;
	/* The executed process becomes our child once the pid-namespace fork's parent exits. */
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	foreground_signal_mask(&mask);
	sigprocmask(SIG_BLOCK, &mask, &old);
	r = spawn(o, x, st, spec, err);
	if (r == 0)
		r = follow_child(x, st, spec, err);
	if (r == 0 && o->pid_file)
		r = write_pid_file(o->pid_file, x->proc, err);
	if (r == 0 && x->pidfd_sock >= 0)
		r = send_pidfd(x, err);
	if (r < 0) {
		kill_exec(x);
		sigprocmask(SIG_SETMASK, &old, NULL);
		return r;
	}
	log_debug("exec %s: process %d is running", o->id, x->proc);
	if (o->detach) {
		sigprocmask(SIG_SETMASK, &old, NULL);
		return 0;
	}
	return wait_foreground(x, &mask);
}

int container_exec(const struct exec_opts *o, struct werr **err)
{
	_cleanup_spec_ struct spec *spec = NULL;
	struct exec_run x = {.sync = {-1, -1}, .console = {-1, -1}, .pidfd_sock = -1};
	struct cstate st;
	int r;

	for (int t = 0; t < NS_COUNT; t++)
		x.ns_fds[t] = -1;
	r = state_load(o->root, o->id, &st, err);
	if (r < 0)
		return werr_wrap(err, "exec failed");
	r = check_status(o, &st, err);
	if (r == 0)
		r = container_load_spec(o->root, o->id, &spec, err);
	if (r == 0)
		r = exec_build_process(o, spec, err);
	if (r == 0 && vm_state_is_vm(&st) && o->cgroup_sub)
		r = werr_set(err, EINVAL,
			     "--cgroup: a process of a VM-isolated container runs in its guest");
	else if (r == 0 && vm_state_is_vm(&st))
		r = vm_exec(o->root, o->id, &spec->process, err);
	else if (r == 0)
		r = run_exec(o, &x, &st, spec, err);
	exec_run_close(&x);
	cstate_free(&st);
	return r < 0 ? werr_wrap(err, "exec failed") : r;
}
