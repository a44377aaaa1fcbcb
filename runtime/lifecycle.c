/* start, kill, delete: the commands that act on an existing container. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "lib/util.h"
#include "runtime/cgroup.h"
#include "runtime/container.h"
#include "runtime/hooks.h"
#include "runtime/log.h"

int container_load_spec(const char *root, const char *id, struct spec **out, struct werr **err)
{
	_cleanup_free_ char *path = xasprintf("%s/%s/config.json", root, id);
	_cleanup_free_ char *text = NULL;
	size_t len;
	int r;

	r = read_file(path, &text, &len, err);
	if (r < 0)
		return r;
	return spec_parse(text, len, path, out, err);
}

int container_run_hooks(const char *kind, const struct spec_hook *hooks, size_t n,
			const struct cstate *st, enum cstatus status, struct werr **err)
{
	_cleanup_free_ char *json = NULL;

	if (n == 0)
		return 0;
	json = state_to_json(st, status, false);
	return hooks_run(kind, hooks, n, json, err);
}

void container_run_hooks_warn(const char *kind, const struct spec_hook *hooks, size_t n,
			      const struct cstate *st, enum cstatus status)
{
	_cleanup_free_ char *json = NULL;

	if (n == 0)
		return;
	json = state_to_json(st, status, false);
	for (size_t i = 0; i < n; i++) {
		_cleanup_werr_ struct werr *err = NULL;
		_cleanup_free_ char *kind_i = xasprintf("%s", kind);

		if (hooks_run(kind_i, &hooks[i], 1, json, &err) < 0)
			log_warn("%s (hook #%zu)", err->msg, i);
	}
}

static int pidfd_open_pid(pid_t pid)
{
	return (int)syscall(SYS_pidfd_open, pid, 0);
}

/* Wait until the init has gone (it is not our child, so no waitpid), at most timeout_ms. */
static bool wait_gone(const struct cstate *st, int timeout_ms)
{
	_cleanup_close_ int pfd = pidfd_open_pid(st->pid);
	struct pollfd p = { .fd = pfd, .events = POLLIN };

	if (pfd < 0)
		return true;
	if (!process_alive(st->pid, st->start_time))
		return true;
	return poll(&p, 1, timeout_ms) > 0 || !process_alive(st->pid, st->start_time);
}

/* 1 byte means the init passed its last check; EOF after it means execve happened (or the init
 * died after the byte, which the caller sees as a stopped container). */
static int wait_exec_fifo(int fifo, int pfd, struct werr **err)
{
	bool got_byte = false;

	for (;;) {
		struct pollfd p[2] = { { .fd = fifo, .events = POLLIN },
				       { .fd = pfd, .events = POLLIN } };
		char byte;
		ssize_t n;

		if (poll(p, pfd >= 0 ? 2 : 1, -1) < 0) {
			if (errno == EINTR)
				continue;
			return werr_sys(err, errno, "poll exec fifo");
		}
		n = read(fifo, &byte, 1);
		if (n == 1) {
			got_byte = true;
			continue;
		}
		if (n == 0 && got_byte)
			return 0;
		if (n < 0 && errno != EAGAIN && errno != EINTR)
			return werr_sys(err, errno, "read exec fifo");
		if (p[1].revents & POLLIN) {
			if (got_byte)
				return 0;
			return werr_set(err, ESRCH, "cannot start a container that has stopped");
		}
		if (n == 0)
			usleep(200); /* no writer yet: a FIFO reports hang-up before the open */
	}
}

int container_start(const char *root, const char *id, struct werr **err)
{
	_cleanup_close_ int lock = -1;
	_cleanup_close_ int fifo = -1;
	_cleanup_close_ int pfd = -1;
	_cleanup_spec_ struct spec *spec = NULL;
	_cleanup_free_ char *fifo_path = NULL;
	struct cstate st;
	int r;

	lock = state_lock(root, id, err);
	if (lock < 0)
		return lock;
	r = state_load(root, id, &st, err);
	if (r < 0)
		return r;
	if (st.status != ST_CREATED) {
		if (st.status == ST_STOPPED)
			r = werr_set(err, EINVAL, "cannot start a container that has stopped");
		else if (st.status == ST_PAUSED)
			r = werr_set(err, EINVAL, "cannot start a container in the paused state");
		else
			r = werr_set(err, EINVAL, "cannot start an already running container");
		goto out;
	}
	fifo_path = xasprintf("%s/%s/exec.fifo", root, id);
	fifo = open(fifo_path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fifo < 0) {
		r = werr_sys(err, errno, "open %s", fifo_path);
		goto out;
	}
	/* Wait for the init's byte, then for end-of-file: the init's end closes on execve. */
	pfd = pidfd_open_pid(st.pid);
	r = wait_exec_fifo(fifo, pfd, err);
	if (r < 0)
		goto out;
	unlink(fifo_path);
	log_debug("start %s: init %d released", id, st.pid);
	if (container_load_spec(root, id, &spec, NULL) == 0)
		container_run_hooks_warn("poststart", spec->hooks.poststart,
					 spec->hooks.n_poststart, &st, ST_RUNNING);
	r = 0;
out:
	cstate_free(&st);
	return r;
}

/* Every process in the init's pid namespace (only when the container created it: a namespace
 * joined by path belongs to someone else too). */
static int signal_pid_ns(const struct cstate *st, int sig)
{
	char path[64];
	struct stat init_ns, ns;
	_cleanup_closedir_ DIR *d = NULL;
	struct dirent *e;
	int sent = 0;

	snprintf(path, sizeof(path), "/proc/%d/ns/pid", st->pid);
	if (stat(path, &init_ns) < 0)
		return -errno;
	d = opendir("/proc");
	while (d && (e = readdir(d))) {
		long long pid;

		if (parse_int64(e->d_name, &pid) < 0)
			continue;
		snprintf(path, sizeof(path), "/proc/%lld/ns/pid", pid);
		if (stat(path, &ns) == 0 && ns.st_ino == init_ns.st_ino && ns.st_dev == init_ns.st_dev)
			if (kill((pid_t)pid, sig) == 0)
				sent++;
	}
	return sent;
}

/* The init and its descendants, for containers sharing a pid namespace (until cgroups give the
 * exact set). Walks /proc until no new descendant turns up. */
static int signal_descendants(const struct cstate *st, int sig)
{
	size_t n = 1, cap = 64;
	pid_t *tree = xmalloc(cap * sizeof(pid_t));
	bool grew = true;
	int sent = 0;

	tree[0] = st->pid;
	while (grew) {
		_cleanup_closedir_ DIR *d = opendir("/proc");
		struct dirent *e;

		grew = false;
		while (d && (e = readdir(d))) {
			long long pid;
			pid_t ppid;
			bool known = false;

			if (parse_int64(e->d_name, &pid) < 0)
				continue;
			for (size_t i = 0; i < n && !known; i++)
				known = tree[i] == (pid_t)pid;
			if (known)
				continue;
			if (process_stat((pid_t)pid, NULL, &ppid, NULL) < 0)
				continue;
			for (size_t i = 0; i < n; i++) {
				if (tree[i] != ppid)
					continue;
				if (n == cap)
					tree = xrealloc(tree, (cap *= 2) * sizeof(pid_t));
				tree[n++] = (pid_t)pid;
				grew = true;
				break;
			}
		}
	}
	for (size_t i = 0; i < n; i++)
		if (kill(tree[i], sig) == 0)
			sent++;
	free(tree);
	return sent;
}

int container_signal_all(const struct cstate *st, int sig)
{
	if (st->own_pid_ns)
		return signal_pid_ns(st, sig);
	return signal_descendants(st, sig);
}

/* kill --all: every process in the container's cgroup. A paused container is thawed after a
 * SIGKILL so the kill is delivered on v1 too (its freezer holds even fatal signals). */
static int kill_cgroup(const struct cstate *st, int sig, struct werr **err)
{
	_cleanup_cgroup_ struct cgroup *cg = NULL;
	int r = container_cgroup_open(st, &cg, err);

	if (r < 0)
		return r;
	r = cgroup_kill(cg, sig, err);
	if (r == 0 && sig == SIGKILL && st->status == ST_PAUSED)
		r = cgroup_freeze(cg, false, err);
	return r;
}

/* kill --all of a stopped container succeeds, as runc's does (the runc v2 shim sends it for
 * `ctr task delete --force`): whatever is left in its cgroup, if that still exists, gets it. */
static int kill_stopped_cgroup(const struct cstate *st, int sig, struct werr **err)
{
	_cleanup_cgroup_ struct cgroup *cg = NULL;

	if (!st->cgroup_path || cgroup_open(&cg, st->cgroup_path, NULL) < 0)
		return 0;
	return cgroup_kill(cg, sig, err);
}

int container_kill(const char *root, const char *id, int sig, bool all, struct werr **err)
{
	struct cstate st;
	int r;

	r = state_load(root, id, &st, err);
	if (r < 0)
		return r;
	if (st.status == ST_STOPPED) {
		r = all ? kill_stopped_cgroup(&st, sig, err)
			: werr_set(err, ESRCH, "container not running");
		goto out;
	}
	if (all && st.cgroup_path) {
		r = kill_cgroup(&st, sig, err);
		goto out;
	} else if (all)
		r = container_signal_all(&st, sig) < 0 ? -errno : 0;
	else
		r = kill(st.pid, sig);
	if (r < 0)
		r = werr_sys(err, errno, "kill container %s", id);
	else
		r = 0;
out:
	cstate_free(&st);
	return r;
}

int container_delete(const char *root, const char *id, bool force, struct werr **err)
{
	_cleanup_close_ int lock = -1;
	_cleanup_spec_ struct spec *spec = NULL;
	struct cstate st;
	int r;

	r = state_load(root, id, &st, err);
	if (r == -ENOENT && state_check_id(id, NULL) == 0) {
		/* An interrupted create leaves a directory without state.json; its init died with
		 * it (PDEATHSIG). runc's delete removes such a directory too. */
		_cleanup_free_ char *dir = state_dir(root, id);
		struct stat sb;

		if (stat(dir, &sb) == 0 && S_ISDIR(sb.st_mode)) {
			werr_free(err);
			log_debug("delete %s: removing the directory of an unfinished create", id);
			return state_remove(root, id, err);
		}
	}
	if (r == -ENOENT && force) {
		/* runc: --force on a container that does not exist is success (the runc v2 shim's
		 * cleanup relies on it) */
		werr_free(err);
		return 0;
	}
	if (r < 0)
		return r;
	lock = state_lock(root, id, err);
	if (lock < 0) {
		cstate_free(&st);
		return lock;
	}
	if ((st.status == ST_RUNNING || st.status == ST_PAUSED) && !force) {
		r = werr_set(err, EBUSY, "cannot delete container %s that is not stopped: %s", id,
			     cstatus_name(st.status));
		goto out;
	}
	if (st.status == ST_PAUSED) {
		_cleanup_cgroup_ struct cgroup *cg = NULL;

		if (container_cgroup_open(&st, &cg, NULL) == 0)
			cgroup_freeze(cg, false, NULL);
	}
	if (st.status != ST_STOPPED) {
		container_signal_all(&st, SIGKILL);
		if (!wait_gone(&st, 10000)) {
			r = werr_set(err, EBUSY, "container %s: init %d did not die after SIGKILL", id,
				     st.pid);
			goto out;
		}
	}
	r = container_cgroup_destroy(&st, err);
	if (r < 0)
		goto out;
	container_load_spec(root, id, &spec, NULL);
	r = state_remove(root, id, err);
	if (r < 0)
		goto out;
	log_debug("delete %s: state removed", id);
	if (spec)
		container_run_hooks_warn("poststop", spec->hooks.poststop, spec->hooks.n_poststop,
					 &st, ST_STOPPED);
out:
	cstate_free(&st);
	return r;
}
