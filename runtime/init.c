/* The container's init process: a clone3 child of `ward create`. It finishes its namespaces,
 * builds the root filesystem, sets up the process, reports ready and waits on exec.fifo for
 * `ward start`, then execs process.args. Errors before ready travel to the parent as a
 * SYNC_ERROR message. */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "lib/util.h"
#include "rootfs/rootfs.h"
#include "runtime/console.h"
#include "runtime/container.h"
#include "runtime/hooks.h"
#include "runtime/process.h"
#include "runtime/signals.h"
#include "runtime/vm.h"
#include "seccomp/seccomp.h"

#ifndef KEYCTL_JOIN_SESSION_KEYRING
#define KEYCTL_JOIN_SESSION_KEYRING 1
#endif

__attribute__((noreturn)) static void init_fail(struct init_ctx *c, struct werr **err)
{
	sync_send(c->sync_fd, SYNC_ERROR, 0, *err ? (*err)->msg : "container init failed");
	_exit(1);
}

static int become_ns_root(struct werr **err)
{
	if (setresgid(0, 0, 0) < 0)
		return werr_sys(err, errno, "setresgid 0 in the user namespace (is gid 0 mapped?)");
	if (setresuid(0, 0, 0) < 0)
		return werr_sys(err, errno, "setresuid 0 in the user namespace (is uid 0 mapped?)");
	return 0;
}

/* The parent writes our uid_map/gid_map; then we are root in the new user namespace. */
static int request_id_maps(struct init_ctx *c, struct werr **err)
{
	int r;

	sync_send(c->sync_fd, SYNC_USERNS_MAP, 0, NULL);
	r = sync_wait_ack(c->sync_fd, "user namespace id maps", NULL, err);
	return r < 0 ? r : become_ns_root(err);
}

static int setup_namespaces(struct init_ctx *c, struct werr **err)
{
	const struct ns_config *ns = &c->spec->linux_.ns;
	const struct ns_entry *user = ns_find(ns, NS_USER);
	const struct ns_entry *time = ns_find(ns, NS_TIME);
	int r;

	if (c->clone_has_user) {
		r = request_id_maps(c, err);
		if (r < 0)
			return r;
	}
	r = ns_join_paths(ns, 0, err);
	if (r < 0)
		return r;
	if (user && user->path) {
		r = become_ns_root(err);
		if (r < 0)
			return r;
	}
	if (c->late_userns) {
		if (unshare(CLONE_NEWUSER) < 0)
			return werr_sys(err, errno, "unshare the user namespace");
		r = request_id_maps(c, err);
		if (r < 0)
			return r;
	}
	if ((c->unshare_flags & ~(unsigned long)CLONE_NEWUSER) &&
	    unshare((int)(c->unshare_flags & ~(unsigned long)CLONE_NEWUSER)) < 0)
		return werr_sys(err, errno, "unshare namespaces 0x%lx", c->unshare_flags);
	if (time && !time->path) {
		r = ns_enter_new_time(ns, err);
		if (r < 0)
			return r;
	}
	return 0;
}

/* A new pid namespace made by unshare, or one joined by path, holds only our children. */
static void fork_into_pid_ns(struct init_ctx *c)
{
	const struct ns_entry *pid = ns_find(&c->spec->linux_.ns, NS_PID);
	pid_t child;

	if (!((pid && pid->path) || (c->unshare_flags & CLONE_NEWPID)))
		return;
	child = fork();
	if (child < 0) {
		sync_send(c->sync_fd, SYNC_ERROR, 0, "fork into the pid namespace failed");
		_exit(1);
	}
	if (child > 0) {
		sync_send(c->sync_fd, SYNC_PID, child, NULL);
		_exit(0);
	}
}

static void fill_rootfs_config(const struct init_ctx *c, struct rootfs_config *rc)
{
	const struct spec *s = c->spec;

	memset(rc, 0, sizeof(*rc));
	rc->root_path = c->rootfs;
	rc->readonly = s->root_readonly;
	rc->propagation = s->linux_.rootfs_propagation;
	rc->mounts = s->mounts;
	rc->n_mounts = s->n_mounts;
	rc->devices = s->linux_.devices;
	rc->n_devices = s->linux_.n_devices;
	rc->masked_paths = s->linux_.masked_paths;
	rc->readonly_paths = s->linux_.readonly_paths;
	rc->sysctl = s->linux_.sysctl;
	rc->n_sysctl = s->linux_.n_sysctl;
	rc->new_user_ns = ns_find(&s->linux_.ns, NS_USER) != NULL;
	rc->no_pivot = c->opts->no_pivot;
	rc->mount_label = s->linux_.mount_label;
	rc->premade_trees = c->idmapped_trees;
}

/* Ask the parent to run prestart/createRuntime (runtime namespace), then run createContainer
 * here (container namespaces, before pivot_root). Returns the init's host pid. */
static int run_create_hooks(struct init_ctx *c, struct werr **err)
{
	int host_pid, r;

	sync_send(c->sync_fd, SYNC_HOOKS, 0, NULL);
	r = sync_wait_ack(c->sync_fd, "prestart/createRuntime hooks", &host_pid, err);
	return r < 0 ? r : host_pid;
}

static char *init_state_json(struct init_ctx *c, pid_t host_pid, enum cstatus status)
{
	struct cstate st = {
		.id = (char *)c->opts->id,
		.pid = host_pid,
		.rootfs = (char *)c->rootfs,
		.created = (char *)c->created,
		.owner = (char *)c->owner,
		.annotations = c->spec->annotations,
		.n_annotations = c->spec->n_annotations,
	};
	st.bundle = (char *)c->bundle;
	return state_to_json(&st, status, false);
}

static int setup_console(struct init_ctx *c, struct werr **err)
{
	const struct spec_process *p = &c->spec->process;
	_cleanup_close_ int master = -1;
	_cleanup_close_ int slave = -1;
	_cleanup_close_ int cons = -1;
	_cleanup_free_ char *slave_path = NULL;
	int r;

	r = console_open_for(p, &master, &slave, &slave_path, err);
	if (r < 0)
		return r;
	cons = open("/dev/console", O_CREAT | O_WRONLY | O_NOCTTY | O_CLOEXEC, 0600);
	if (cons >= 0 && mount(slave_path, "/dev/console", NULL, MS_BIND, NULL) < 0)
		return werr_sys(err, errno, "bind %s on /dev/console", slave_path);
	r = console_send_fd(c->console_sock, master, "/dev/ptmx", err);
	if (r < 0)
		return r;
	return console_make_controlling(slave, err);
}

/* runc checks the executable before reporting ready, so `create` fails, not `start`. */
static int check_executable(const struct spec_process *p, struct werr **err)
{
	_cleanup_free_ char *path = NULL;
	struct stat st;
	int r;

	r = process_find_executable(p->env, p->args[0], &path, err);
	if (r < 0)
		return r;
	if (stat(path, &st) < 0)
		return werr_sys(err, errno, "exec: \"%s\": stat %s", p->args[0], path);
	if (S_ISDIR(st.st_mode) || access(path, X_OK) < 0)
		return werr_set(err, EACCES, "exec: \"%s\": permission denied", p->args[0]);
	return 0;
}

/* runc creates a missing process.cwd (before the root may become read-only). */
static int make_cwd(const struct spec_process *p, struct werr **err)
{
	struct stat st;

	if (stat(p->cwd, &st) == 0 || errno != ENOENT)
		return 0;
	return mkdir_p(p->cwd, 0755, err);
}

/* Where the filter goes: without no_new_privs loading needs CAP_SYS_ADMIN, so it is loaded
 * just before the capabilities are dropped; with it, as late as possible (right before execve)
 * so that the filter need not allow ward's own syscalls, except that a NOTIFY filter must be
 * loaded while the parent is still there to pass the listener fd on. */
enum seccomp_when { SECCOMP_NONE, SECCOMP_BEFORE_CAPS, SECCOMP_BEFORE_READY, SECCOMP_BEFORE_EXEC };

static enum seccomp_when seccomp_when(const struct init_ctx *c)
{
	if (!c->seccomp)
		return SECCOMP_NONE;
	if (!c->spec->process.no_new_privileges)
		return SECCOMP_BEFORE_CAPS;
	if (seccomp_filter_wants_notify(c->seccomp))
		return SECCOMP_BEFORE_READY;
	return SECCOMP_BEFORE_EXEC;
}

static int prepare(struct init_ctx *c, int *fifo_path_fd, struct werr **err)
{
	struct spec *s = c->spec;
	struct spec_process *p = &s->process;
	struct rootfs_config rc;
	pid_t host_pid;
	int r;

	if (c->cgroup_wait) {
		r = sync_wait_ack(c->sync_fd, "cgroup placement from the parent", NULL, err);
		if (r < 0)
			return r;
	}
	r = setup_namespaces(c, err);
	if (r < 0)
		return r;
	fork_into_pid_ns(c);
	if (!c->opts->no_new_keyring &&
	    syscall(SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, NULL) < 0 && errno != ENOSYS)
		return werr_sys(err, errno, "join a new session keyring");
	if (ns_find(&s->linux_.ns, NS_UTS)) {
		r = process_set_hostname(s->hostname, s->domainname, err);
		if (r < 0)
			return r;
	} else if (s->hostname) {
		return werr_set(err, EINVAL,
				"config.json: hostname: unable to set hostname without a new UTS "
				"namespace");
	}
	r = rootfs_apply_sysctl(s->linux_.sysctl, s->linux_.n_sysctl, err);
	if (r < 0)
		return r;
	r = process_apply_sched_oom(p, &s->linux_.personality, err);
	if (r < 0)
		return r;
	r = process_apply_rlimits(p, err);
	if (r < 0)
		return r;
	fill_rootfs_config(c, &rc);
	r = rootfs_prepare(&rc, err);
	if (r < 0)
		return r;
	host_pid = run_create_hooks(c, err);
	if (host_pid < 0)
		return host_pid;
	c->host_pid = host_pid;
	if (s->hooks.n_create_container) {
		_cleanup_free_ char *json = init_state_json(c, host_pid, ST_CREATING);

		r = hooks_run("createContainer", s->hooks.create_container,
			      s->hooks.n_create_container, json, err);
		if (r < 0)
			return r;
	}
	if (c->vm) {
		r = vm_open_files(c->vm, c->state_dirfd, err);
		if (r < 0)
			return r;
	}
	r = rootfs_pivot(&rc, err);
	if (r < 0)
		return r;
	if (p->terminal) {
		r = setup_console(c, err);
		if (r < 0)
			return r;
	}
	r = make_cwd(p, err);
	if (r < 0)
		return r;
	r = rootfs_finish(&rc, err);
	if (r < 0)
		return r;
	/* Opened while still privileged; reopened for writing through procfs after start. */
	*fifo_path_fd = openat(c->state_dirfd, "exec.fifo", O_PATH | O_CLOEXEC);
	if (*fifo_path_fd < 0)
		return werr_sys(err, errno, "open exec.fifo");
	close(c->state_dirfd);
	c->state_dirfd = -1;
	/* ward restore: the image has the process's credentials, capabilities and fds. */
	if (c->opts->restore)
		return 0;
	if (seccomp_when(c) == SECCOMP_BEFORE_CAPS) {
		r = sync_load_seccomp(c->sync_fd, c->seccomp, err);
		if (r < 0)
			return r;
	}
	r = process_set_user_caps(p, err);
	if (r < 0)
		return r;
	process_set_home(p);
	if (seccomp_when(c) == SECCOMP_BEFORE_READY) {
		r = sync_load_seccomp(c->sync_fd, c->seccomp, err);
		if (r < 0)
			return r;
	}
	r = process_chdir(p, err);
	if (r < 0)
		return r;
	r = check_executable(p, err);
	if (r < 0)
		return r;
	return process_close_fds(c->opts->preserve_fds, err);
}

void container_init(struct init_ctx *c)
{
	_cleanup_werr_ struct werr *err = NULL;
	char fd_path[64];
	int fifo_path_fd = -1;
	int fifo;

	signals_reset();
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (prepare(c, &fifo_path_fd, &err) < 0)
		init_fail(c, &err);
	prctl(PR_SET_PDEATHSIG, 0);
	sync_send(c->sync_fd, SYNC_READY, 0, NULL);
	/* a restored micro-VM runs at once, as a restored jail does: no `start`; its VMM reports
	 * on the sync socket once the image is loaded */
	if (c->vm && c->vm->restore_image) {
		close(fifo_path_fd);
		c->vm->restore_report_fd = c->sync_fd;
		vm_run(c->vm);
	}
	close(c->sync_fd);
	if (c->opts->restore)
		container_restore_init(c);

	snprintf(fd_path, sizeof(fd_path), "/proc/self/fd/%d", fifo_path_fd);
	fifo = open(fd_path, O_WRONLY | O_CLOEXEC);
	if (fifo < 0) {
		fprintf(stderr, "ward init: open exec fifo: %s\n", strerror(errno));
		_exit(127);
	}
	if (c->spec->hooks.n_start_container) {
		_cleanup_free_ char *json = init_state_json(c, c->host_pid, ST_RUNNING);

		if (hooks_run("startContainer", c->spec->hooks.start_container,
			      c->spec->hooks.n_start_container, json, &err) < 0) {
			fprintf(stderr, "ward: %s\n", err->msg);
			_exit(127);
		}
	}
	/* The fifo stays open: execve closes it (O_CLOEXEC), which tells `start` the process
	 * has been executed, so poststart hooks run after it as the spec asks. */
	if (write(fifo, "0", 1) != 1)
		_exit(127);
	close(fifo_path_fd);
	if (c->vm) {
		close(fifo); /* what execve's O_CLOEXEC does for a jail: `start` returns */
		vm_run(c->vm);
	}
	if (seccomp_when(c) == SECCOMP_BEFORE_EXEC &&
	    sync_load_seccomp(c->sync_fd, c->seccomp, &err) < 0) {
		fprintf(stderr, "ward: %s\n", err->msg);
		_exit(127);
	}
	process_exec(&c->spec->process, &err);
	fprintf(stderr, "ward: %s\n", err ? err->msg : "exec failed");
	_exit(127);
}
