/* ward create, the parent side: validate, make the state directory, clone the init process
 * with its namespaces, answer its sync requests, write state.json. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <limits.h>
#include <linux/sched.h>
#include <pwd.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>

#include "lib/util.h"
#include "runtime/cgroup.h"
#include "runtime/console.h"
#include "runtime/container.h"
#include "runtime/hooks.h"
#include "runtime/log.h"
#include "runtime/spec_gen.h"
#include "runtime/vm.h"
#include "seccomp/seccomp.h"

int sync_send(int fd, enum sync_type type, int value, const char *text)
{
	struct sync_msg m = { .type = type, .value = value };
	size_t len = offsetof(struct sync_msg, text);

	if (text) {
		snprintf(m.text, sizeof(m.text), "%s", text);
		len += strlen(m.text) + 1;
	}
	/* write(2), not send(2): a filter loaded without no_new_privs (before the capabilities
	 * go) applies to the child's last messages, and profiles that refuse sendto exist; runc's
	 * init reports with write too. */
	if (write(fd, &m, len) < 0)
		return -errno;
	return 0;
}

int sync_ack(int fd, int value)
{
	struct sync_msg m = { .type = SYNC_ACK, .value = value };

	if (send(fd, &m, offsetof(struct sync_msg, text), MSG_NOSIGNAL) < 0)
		return -errno;
	return 0;
}

int sync_send_fd(int fd, enum sync_type type, int value, int pass)
{
	struct sync_msg m = {.type = type, .value = value};
	char control[CMSG_SPACE(sizeof(int))] = {0};
	struct iovec iov = {.iov_base = &m, .iov_len = offsetof(struct sync_msg, text)};
	struct msghdr msg = {.msg_iov = &iov,
			     .msg_iovlen = 1,
			     .msg_control = control,
			     .msg_controllen = sizeof(control)};
	struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);

	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &pass, sizeof(int));
	if (sendmsg(fd, &msg, MSG_NOSIGNAL) < 0)
		return -errno;
	return 0;
}

int sync_recv_fd(int fd, struct sync_msg *m, int *passed)
{
	char control[CMSG_SPACE(sizeof(int))];
	struct iovec iov = {.iov_base = m, .iov_len = sizeof(*m) - 1};
	struct msghdr msg = {.msg_iov = &iov,
			     .msg_iovlen = 1,
			     .msg_control = control,
			     .msg_controllen = sizeof(control)};
	struct cmsghdr *cm;
	ssize_t n;

	*passed = -1;
	memset(m, 0, sizeof(*m));
	do
		n = recvmsg(fd, &msg, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	if (n == 0)
		return -EPIPE;
	for (cm = CMSG_FIRSTHDR(&msg); cm; cm = CMSG_NXTHDR(&msg, cm))
		if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS &&
		    cm->cmsg_len == CMSG_LEN(sizeof(int)))
			memcpy(passed, CMSG_DATA(cm), sizeof(int));
	return 0;
}

int sync_recv(int fd, struct sync_msg *m)
{
	int passed;
	int r = sync_recv_fd(fd, m, &passed);

	if (passed >= 0)
		close(passed); /* not expected here */
	return r;
}

int sync_load_seccomp(int fd, struct seccomp_filter *f, struct werr **err)
{
	int notify_fd = -1;
	int r;

	if (!f)
		return 0;
	r = seccomp_filter_load(f, &notify_fd, err);
	if (r < 0 || notify_fd < 0)
		return r;
	r = sync_send_fd(fd, SYNC_SECCOMP, 0, notify_fd);
	close(notify_fd);
	if (r < 0)
		return werr_sys(err, -r, "send the seccomp listener fd to ward");
	return sync_wait_ack(fd, "the seccomp listener hand-off", NULL, err);
}

int sync_wait_ack(int fd, const char *what, int *value, struct werr **err)
{
	struct sync_msg m;

	if (sync_recv(fd, &m) < 0 || m.type != SYNC_ACK)
		return werr_set(err, EPROTO, "waiting for %s", what);
	if (value)
		*value = m.value;
	return 0;
}

static void close_idmapped_trees(int *trees, size_t n)
{
	for (size_t i = 0; trees && i < n; i++)
		if (trees[i] >= 0)
			close(trees[i]);
	free(trees);
}

/* Which namespaces clone3 creates and which the child must join or unshare itself. */
static void plan_namespaces(const struct ns_config *ns, struct init_ctx *c,
			    unsigned long *clone_flags, bool *need_fork)
{
	const struct ns_entry *user = ns_find(ns, NS_USER);
	const struct ns_entry *pid = ns_find(ns, NS_PID);
	unsigned long fresh = 0;

	for (size_t i = 0; i < ns->n_entries; i++)
		if (!ns->entries[i].path && ns->entries[i].type != NS_TIME)
			fresh |= (unsigned long)ns_clone_flag(ns->entries[i].type);
	bool joins = false;

	for (size_t i = 0; i < ns->n_entries; i++)
		joins |= ns->entries[i].path && ns->entries[i].type != NS_USER;
	c->new_userns = user && !user->path;
	*clone_flags = 0;
	c->unshare_flags = 0;
	c->late_userns = false;
	if (user && user->path) {
		/* New namespaces must be owned by the joined user namespace: unshare after
		 * joining it, and a new pid namespace then needs a second fork. */
		c->unshare_flags = fresh;
	} else if (c->new_userns && joins) {
		/* Joining host-owned namespaces needs host privileges: join them first, then
		 * create the user namespace and the rest (as runc does). */
		c->unshare_flags = fresh;
		c->late_userns = true;
	} else {
		*clone_flags = fresh;
	}
	c->clone_has_user = (*clone_flags & CLONE_NEWUSER) != 0;
	c->clone_has_pid = (*clone_flags & CLONE_NEWPID) != 0;
	*need_fork = (pid && pid->path) || (c->unshare_flags & CLONE_NEWPID);
}

static pid_t clone3_into(unsigned long flags, int cgroup_fd)
{
	struct clone_args args = { .flags = flags, .exit_signal = SIGCHLD };

	if (cgroup_fd >= 0) {
		args.flags |= CLONE_INTO_CGROUP;
		args.cgroup = (uint64_t)cgroup_fd;
	}

	return (pid_t)syscall(SYS_clone3, &args, sizeof(args));
}

/* A container in its own user namespace cannot idmap host mounts: make the trees here. */
static int make_idmapped_trees(const struct spec *s, bool new_userns, int **out,
			       struct werr **err)
{
	int *trees = NULL;

	*out = NULL;
	for (size_t i = 0; new_userns && i < s->n_mounts; i++) {
		if (!rootfs_mount_wants_idmap(&s->mounts[i]))
			continue;
		if (!trees) {
			trees = xmalloc(s->n_mounts * sizeof(int));
			for (size_t j = 0; j < s->n_mounts; j++)
				trees[j] = -1;
		}
		trees[i] = rootfs_make_idmapped_tree(&s->mounts[i], &s->linux_.ns, err);
		if (trees[i] < 0) {
			close_idmapped_trees(trees, s->n_mounts);
			return werr_wrap(err, "config.json: mounts[%zu]", i);
		}
	}
	*out = trees;
	return 0;
}

static char *resolve_rootfs(const char *bundle, const char *root_path, struct werr **err)
{
	_cleanup_free_ char *joined = root_path[0] == '/' ? xstrdup(root_path)
							 : xasprintf("%s/%s", bundle, root_path);
	char *real = realpath(joined, NULL);
	struct stat st;

	if (!real) {
		werr_sys(err, errno, "rootfs %s (root.path in config.json)", joined);
		return NULL;
	}
	if (stat(real, &st) < 0 || !S_ISDIR(st.st_mode)) {
		werr_set(err, ENOTDIR, "rootfs %s (root.path in config.json) is not a directory",
			 real);
		free(real);
		return NULL;
	}
	return real;
}

static int check_terminal_opts(const struct create_opts *o, const struct spec *s,
			       struct werr **err)
{
	bool terminal = s->process.terminal;

	if (terminal && !o->console_socket && !o->foreground)
		return werr_set(err, EINVAL,
				"cannot allocate tty if ward will detach without setting console "
				"socket (--console-socket)");
	if (!terminal && o->console_socket)
		return werr_set(err, EINVAL,
				"cannot use console socket if ward will not detach or allocate tty "
				"(process.terminal is false)");
	return 0;
}

static char *owner_name(void)
{
	struct passwd *pw = getpwuid(geteuid());

	return xstrdup(pw ? pw->pw_name : "");
}

int write_pid_file(const char *path, pid_t pid, struct werr **err)
{
	_cleanup_free_ char *abs = NULL;
	_cleanup_free_ char *tmp = NULL;
	_cleanup_close_ int fd = -1;
	char buf[32];
	int n = snprintf(buf, sizeof(buf), "%d", pid);

	/* runc writes the pid file atomically (temp file + rename) and without a newline. */
	tmp = xasprintf("%s.ward-tmp", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return werr_sys(err, errno, "create pid file %s", path);
	if (write_all(fd, buf, (size_t)n) < 0 || rename(tmp, path) < 0) {
		int e = errno;

		unlink(tmp);
		return werr_sys(err, e, "write pid file %s", path);
	}
	return 0;
}

struct create_run {
	const struct create_opts *o;
	struct spec *spec;
	struct cstate st;
	pid_t child; /* the cloned process */
	pid_t init;  /* the container's init (child, or its child after a second fork) */
};

/* runtime-spec containerProcessState: the state JSON of the creating container is spliced into
 * an object generated with the other fields (yajl cannot embed a finished document). */
static char *process_state_json(const struct create_run *cr)
{
	_cleanup_free_ char *state = state_to_json(&cr->st, ST_CREATING, false);
	static const char *const fds[] = {"seccompFd"};
	yajl_gen g = jg_new();
	char *head, *end;

	jg_kopen(g, NULL);
	jg_kstr(g, "ociVersion", "1.2.0");
	jg_kstrv(g, "fds", fds, 1);
	jg_kint(g, "pid", cr->init);
	if (cr->spec->linux_.seccomp.listener_metadata)
		jg_kstr(g, "metadata", cr->spec->linux_.seccomp.listener_metadata);
	jg_close(g);
	head = jg_finish(g);
	end = strrchr(head, '}');
	*end = '\0';
	end = xasprintf("%s,\"state\":%s}", head, state);
	free(head);
	return end;
}

static int send_to_listener(struct create_run *cr, int notify_fd, struct werr **err)
{
	_cleanup_free_ char *json = NULL;

	if (notify_fd < 0)
		return werr_set(err, EPROTO, "init sent no seccomp listener fd");
	cr->st.pid = cr->init;
	json = process_state_json(cr);
	return seccomp_notify_send(cr->spec->linux_.seccomp.listener_path, notify_fd, json, err);
}

static int answer_child(struct create_run *cr, int sync_fd, struct werr **err)
{
	struct sync_msg m;
	int r;

	for (;;) {
		_cleanup_close_ int passed = -1;

		r = sync_recv_fd(sync_fd, &m, &passed);
		if (r < 0) {
			int status = 0;

			if (waitpid(cr->child, &status, WNOHANG) > 0 && WIFSIGNALED(status))
				return werr_set(err, ECHILD,
						"container init was killed by signal %d during set-up",
						WTERMSIG(status));
			return werr_set(err, ECHILD, "container init exited during set-up");
		}
		switch (m.type) {
		case SYNC_USERNS_MAP:
			r = ns_write_id_maps(cr->child, &cr->spec->linux_.ns, err);
			if (r < 0)
				return r;
			sync_ack(sync_fd, 0);
			break;
		case SYNC_PID:
			cr->init = m.value;
			waitpid(cr->child, NULL, 0);
			cr->child = 0; /* reaped: its pid may be reused */
			break;
		case SYNC_HOOKS:
			cr->st.pid = cr->init;
			r = container_run_hooks("prestart", cr->spec->hooks.prestart,
						cr->spec->hooks.n_prestart, &cr->st, ST_CREATING, err);
			if (r == 0)
				r = container_run_hooks("createRuntime",
							cr->spec->hooks.create_runtime,
							cr->spec->hooks.n_create_runtime, &cr->st,
							ST_CREATING, err);
			if (r < 0)
				return r;
			sync_ack(sync_fd, cr->init);
			break;
		case SYNC_SECCOMP:
			r = send_to_listener(cr, passed, err);
			if (r < 0)
				return r;
			sync_ack(sync_fd, 0);
			break;
		case SYNC_READY:
			return 0;
		case SYNC_ERROR:
			return werr_set(err, EINVAL, "%s", m.text);
		default:
			return werr_set(err, EPROTO, "unexpected sync message %u from init", m.type);
		}
	}
}

/* The updates a restore applied are the container's record, so that its next checkpoint
 * carries them again. */
static int keep_updates(int dirfd, const char *file, struct werr **err)
{
	_cleanup_free_ char *text = NULL;
	size_t len;
	int r = read_file(file, &text, &len, NULL);

	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return werr_sys(err, -r, "read %s", file);
	return write_file_atomic(dirfd, "updates.jsonl", text, len, 0600, err);
}

/* A restored micro-VM's init became its VMM after SYNC_READY: it reports again once the image
 * is loaded and the vCPUs started (SYNC_READY), or why loading failed (SYNC_ERROR). */
static int wait_vm_restored(int sync_fd, struct werr **err)
{
	/* Loading is reading the image into guest RAM: minutes would mean a VMM that hangs. */
	enum { LOAD_TIMEOUT_MS = 300 * 1000 };
	struct pollfd pfd = {.fd = sync_fd, .events = POLLIN};
	struct sync_msg m;
	int n;

	while ((n = poll(&pfd, 1, LOAD_TIMEOUT_MS)) < 0 && errno == EINTR)
		;
	if (n == 0)
		return werr_set(err, ETIMEDOUT,
				"restore: the micro-VM's VMM did not load the image within %d s",
				LOAD_TIMEOUT_MS / 1000);
	if (sync_recv(sync_fd, &m) < 0)
		return werr_set(err, ECHILD,
				"restore: the micro-VM's VMM exited before it loaded the image");
	if (m.type == SYNC_ERROR)
		return werr_set(err, EINVAL, "restore: %s", m.text);
	if (m.type != SYNC_READY)
		return werr_set(err, EPROTO, "unexpected sync message %u from the VMM", m.type);
	return 0;
}

/* The container's mount table as create left it (mountinfo, from the init waiting for start):
 * checkpoint refuses a container whose mounts changed since (runtime/checkpoint_cmd.c). */
static int save_mountinfo(int dirfd, pid_t init, struct werr **err)
{
	_cleanup_free_ char *path = xasprintf("/proc/%d/mountinfo", init);
	_cleanup_free_ char *text = NULL;
	size_t len;

	if (read_file(path, &text, &len, err) < 0)
		return werr_wrap(err, "the container's mounts");
	return write_file_atomic(dirfd, "mountinfo", text, len, 0600, err);
}

static void kill_init(struct create_run *cr)
{
	if (cr->init > 0 && cr->init != cr->child)
		kill(cr->init, SIGKILL);
	if (cr->child > 0) {
		kill(cr->child, SIGKILL);
		waitpid(cr->child, NULL, 0);
	}
}

static void seccomp_filter_freep(struct seccomp_filter **f)
{
	seccomp_filter_free(*f);
}

/* Built before anything exists, so that a profile libseccomp refuses leaves nothing behind;
 * the init inherits it with its copy of our memory. */
static int build_seccomp(const struct spec *s, struct seccomp_filter **out, struct werr **err)
{
	size_t skipped = 0;
	int r;

	*out = NULL;
	if (!s->linux_.has_seccomp)
		return 0;
	r = seccomp_filter_build(&s->linux_.seccomp, out, &skipped, err);
	if (r < 0)
		return r;
	if (skipped)
		log_debug("seccomp: %zu syscall name(s) unknown to libseccomp skipped", skipped);
	return 0;
}

pid_t container_create(struct create_opts *o, struct werr **err)
{
	__attribute__((cleanup(seccomp_filter_freep))) struct seccomp_filter *filter = NULL;
	_cleanup_spec_ struct spec *spec = NULL;
	_cleanup_free_ char *bundle = NULL;
	_cleanup_free_ char *rootfs = NULL;
	_cleanup_free_ char *dir = NULL;
	_cleanup_free_ char *cfg_path = NULL;
	_cleanup_free_ char *cfg_text = NULL;
	_cleanup_close_ int dirfd = -1;
	_cleanup_close_ int console_sock = -1;
	struct create_run cr = { .o = o };
	struct init_ctx ctx = { .opts = o, .console_sock = -1 };
	struct cgroup *cg = NULL;
	_cleanup_vm_plan_ struct vm_plan *vm = NULL;
	unsigned long clone_flags;
	bool need_fork;
	int sv[2] = { -1, -1 };
	char created[64];
	size_t cfg_len;
	int r;

	r = state_check_id(o->id, err);
	if (r < 0)
		return r;
	bundle = realpath(o->bundle ? o->bundle : ".", NULL);
	if (!bundle)
		return werr_sys(err, errno, "bundle %s", o->bundle ? o->bundle : ".");
	cfg_path = xasprintf("%s/config.json", bundle);
	r = read_file(cfg_path, &cfg_text, &cfg_len, err);
	if (r < 0)
		return werr_wrap(err, "bundle %s", bundle);
	r = spec_parse(cfg_text, cfg_len, "config.json", &spec, err);
	if (r < 0)
		return r;
	if (!ns_find(&spec->linux_.ns, NS_MNT) || ns_find(&spec->linux_.ns, NS_MNT)->path)
		return werr_set(err, EINVAL,
				"config.json: linux.namespaces: a new mount namespace is required");
	o->terminal = spec->process.terminal;
	r = check_terminal_opts(o, spec, err);
	if (r < 0)
		return r;
	r = container_validate(spec, err);
	if (r < 0)
		return r;
	if (o->isolation_vm)
		vm_set_annotation(spec);
	r = vm_plan_create(spec, &vm, err);
	if (r < 0)
		return r;
	if (o->vm_restore_image) {
		r = vm_restore_plan(vm, o->vm_restore_image, err);
		if (r < 0)
			return r;
	}
	/* a VM container's VMM gets its own filter; the profile is the guest's business */
	r = vm ? 0 : build_seccomp(spec, &filter, err);
	if (r < 0)
		return r;
	rootfs = resolve_rootfs(bundle, spec->root_path, err);
	if (!rootfs)
		return -EINVAL;
	r = mkdir_p(o->root, 0700, err);
	if (r < 0)
		return r;
	dir = state_dir(o->root, o->id);
	if (mkdir(dir, 0711) < 0) {
		if (errno == EEXIST)
			return werr_set(err, EEXIST, "container with id exists: %s", o->id);
		return werr_sys(err, errno, "create state directory %s", dir);
	}
	/* From here on, every failure removes the state directory again. */
	dirfd = open(dir, O_DIRECTORY | O_RDONLY | O_CLOEXEC);
	if (dirfd < 0) {
		r = werr_sys(err, errno, "open %s", dir);
		goto fail;
	}
	r = write_file_atomic(dirfd, "config.json", cfg_text, cfg_len, 0600, err);
	if (r < 0)
		goto fail;
	if (vm) {
		r = vm->restore_image ? vm_restore_root_disk(vm, dir, err)
				      : vm_make_root_disk(vm, rootfs, o->root, dir, err);
		if (r < 0)
			goto fail;
	}
	if (mkfifoat(dirfd, "exec.fifo", 0622) < 0 || fchmodat(dirfd, "exec.fifo", 0622, 0) < 0) {
		r = werr_sys(err, errno, "create exec fifo in %s", dir);
		goto fail;
	}
	if (o->console_socket) {
		console_sock = console_connect(o->console_socket, err);
		if (console_sock < 0) {
			r = console_sock;
			goto fail;
		}
	} else if (o->console_recv_fd >= 0 && spec->process.terminal) {
		console_sock = fcntl(o->console_recv_fd, F_DUPFD_CLOEXEC, 3);
	}
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
		r = werr_sys(err, errno, "socketpair");
		goto fail;
	}

	now_rfc3339(created, sizeof(created));
	cr.spec = spec;
	cr.st.id = (char *)o->id;
	cr.st.bundle = bundle;
	cr.st.rootfs = rootfs;
	cr.st.created = created;
	cr.st.owner = owner_name();
	cr.st.annotations = spec->annotations;
	cr.st.n_annotations = spec->n_annotations;

	ctx.spec = spec;
	ctx.seccomp = filter;
	ctx.rootfs = rootfs;
	ctx.bundle = bundle;
	ctx.created = created;
	ctx.owner = cr.st.owner;
	ctx.state_dir = dir;
	ctx.state_dirfd = dirfd;
	ctx.console_sock = console_sock;
	ctx.sync_fd = sv[1];
	ctx.vm = vm;
	plan_namespaces(&spec->linux_.ns, &ctx, &clone_flags, &need_fork);
	r = make_idmapped_trees(spec, ctx.new_userns, &ctx.idmapped_trees, err);
	if (r < 0)
		goto fail;

	r = container_cgroup_create(spec, o->id, &cg, err);
	if (r < 0)
		goto fail;
	if (o->restore_updates) {
		r = cgroup_updates_apply(cg, o->restore_updates, err);
		if (r == 0)
			r = keep_updates(dirfd, o->restore_updates, err);
		if (r < 0)
			goto fail;
	}
	cr.st.cgroup_path = cg->path;
	/* CLONE_INTO_CGROUP places the child in the cgroup2 hierarchy only; v1 hierarchies are
	 * joined by the parent while the child waits, and a new cgroup namespace must then be
	 * made after that (so that its root is the container's cgroup). */
	ctx.cgroup_wait = cg->mode != CGROUP_UNIFIED;
	if (ctx.cgroup_wait && (clone_flags & CLONE_NEWCGROUP)) {
		clone_flags &= ~(unsigned long)CLONE_NEWCGROUP;
		ctx.unshare_flags |= CLONE_NEWCGROUP;
	}
	log_debug("create %s: bundle %s, rootfs %s, cgroup %s (%s), clone flags 0x%lx, unshare "
		  "0x%lx%s",
		  o->id, bundle, rootfs, cg->path, cgroup_mode_name(cg->mode), clone_flags,
		  ctx.unshare_flags, need_fork ? ", second fork" : "");
	cr.child = clone3_into(clone_flags, cgroup_clone_fd(cg));
	if (cr.child < 0) {
		r = werr_sys(err, errno, "clone3 the container init");
		goto fail;
	}
	if (cr.child == 0) {
		close(sv[0]);
		container_init(&ctx);
	}
	close(sv[1]);
	sv[1] = -1;
	close_idmapped_trees(ctx.idmapped_trees, spec->n_mounts);
	ctx.idmapped_trees = NULL;
	cr.init = cr.child;
	if (ctx.cgroup_wait) {
		r = cgroup_add_pid(cg, cr.child, err);
		if (r < 0)
			goto fail_kill;
		sync_ack(sv[0], 0);
	}
	r = answer_child(&cr, sv[0], err);
	if (r == 0 && vm && vm->restore_image)
		r = wait_vm_restored(sv[0], err);
	if (r == 0 && !vm)
		r = save_mountinfo(dirfd, cr.init, err);
	if (r < 0)
		goto fail_kill;
	cr.st.start_time = process_start_time(cr.init);
	cr.st.pid = cr.init;
	cr.st.own_pid_ns = ns_find(&spec->linux_.ns, NS_PID) && !ns_find(&spec->linux_.ns, NS_PID)->path;
	cr.st.no_new_keyring = o->no_new_keyring;
	if (cr.st.start_time == 0) {
		r = werr_set(err, ESRCH, "container init %d exited right after set-up", cr.init);
		goto fail_kill;
	}
	r = state_save(o->root, &cr.st, err);
	if (r < 0)
		goto fail_kill;
	if (o->pid_file) {
		r = write_pid_file(o->pid_file, cr.init, err);
		if (r < 0)
			goto fail_kill;
	}
	close(sv[0]);
	free(cr.st.owner);
	cgroup_free(cg);
	log_debug("create %s: init pid %d is waiting for start", o->id, cr.init);
	return cr.init;

fail_kill:
	kill_init(&cr);
fail:
	if (cg) {
		cgroup_destroy(cg, NULL);
		cgroup_free(cg);
	}
	close_idmapped_trees(ctx.idmapped_trees, spec->n_mounts);
	if (sv[0] >= 0)
		close(sv[0]);
	if (sv[1] >= 0)
		close(sv[1]);
	free(cr.st.owner);
	state_remove(o->root, o->id, NULL);
	return r;
}
