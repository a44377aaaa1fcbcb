/* ward checkpoint | restore: the command line over the checkpoint engine (checkpoint/).
 * checkpoint freezes the container's cgroup and dumps its process tree; without --leave-running
 * the container is then deleted, as runc does. --pre-dump leaves it running with its writes
 * tracked, and a later checkpoint with --parent-path saves only what changed since. restore makes a
 * new container through the create code (namespaces, cgroup, rootfs), whose init becomes the
 * image's root process instead of waiting for `start`; ward then rebuilds the tree over ptrace and
 * the container is running. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <yajl/yajl_gen.h>

#include "checkpoint/checkpoint.h"
#include "checkpoint/mounts.h"
#include "lib/util.h"
#include "runtime/cgroup.h"
#include "runtime/commands.h"
#include "runtime/container.h"
#include "runtime/log.h"
#include "runtime/vm.h"

static int freeze_cb(void *arg, bool frozen, struct werr **err)
{
	return cgroup_freeze(arg, frozen, err);
}

/* container.json: where the image came from (informational; restore takes --bundle). */
static int write_container_json(const char *dir, const struct cstate *st, struct werr **err)
{
	yajl_gen g = yajl_gen_alloc(NULL);
	const unsigned char *buf;
	_cleanup_free_ char *path = xasprintf("%s/container.json", dir);
	size_t len;
	int r;

	yajl_gen_map_open(g);
	yajl_gen_string(g, (const unsigned char *)"id", 2);
	yajl_gen_string(g, (const unsigned char *)st->id, strlen(st->id));
	yajl_gen_string(g, (const unsigned char *)"bundle", 6);
	yajl_gen_string(g, (const unsigned char *)st->bundle, strlen(st->bundle));
	yajl_gen_map_close(g);
	yajl_gen_get_buf(g, &buf, &len);
	r = mkdir_p(dir, 0700, err);
	if (r == 0) {
		_cleanup_close_ int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

		if (fd < 0 || write_all(fd, buf, len) < 0)
			r = werr_sys(err, errno, "write %s", path);
	}
	yajl_gen_free(g);
	return r;
}

/* The bundle's tmpfs mounts but /dev (which create makes anew), archived into the image while the
 * cgroup is frozen (ck_dump freezes it again and thaws it once the tree is seized). *extra gets
 * every file the inventory must vouch for besides the processes'. */
static int dump_tmpfs(const struct cstate *st, struct cgroup *cg, const char *dir,
		      const char ***extra, struct werr **err)
{
	_cleanup_spec_ struct spec *spec = NULL;
	_cleanup_free_ char **dests = NULL;
	char **files = NULL;
	size_t n = 0, nf = 0;
	int r = 0;

	if (spec_load(st->bundle, &spec, err) < 0)
		return werr_wrap(err, "checkpoint: the bundle's tmpfs mounts");
	dests = xcalloc(spec->n_mounts + 1, sizeof(char *));
	for (size_t i = 0; i < spec->n_mounts; i++)
		if (spec->mounts[i].type && strcmp(spec->mounts[i].type, "tmpfs") == 0 &&
		    strcmp(spec->mounts[i].destination, "/dev") != 0)
			dests[n++] = spec->mounts[i].destination;
	if (n && (r = cgroup_freeze(cg, true, err)) == 0 &&
	    (r = ck_mounts_dump(dir, st->pid, dests, n, &files, err)) < 0)
		cgroup_freeze(cg, false, NULL);
	while (files && files[nf])
		nf++;
	*extra = xcalloc(nf + 2, sizeof(char *));
	(*extra)[0] = "container.json";
	for (size_t i = 0; i < nf; i++)
		(*extra)[i + 1] = files[i]; /* freed with the process */
	free(files);
	return r;
}

int cmd_checkpoint(const struct global_opts *g, int argc, char **argv)
{
	static const struct option opts[] = {
		{"image-path", required_argument, NULL, 'i'},
		{"leave-running", no_argument, NULL, 'l'},
		{"work-path", required_argument, NULL, 'w'},
		{"pre-dump", no_argument, NULL, 'P'},
		{"parent-path", required_argument, NULL, 'p'},
		{NULL, 0, NULL, 0},
	};
	const char **extra_tmpfs = NULL;
	_cleanup_werr_ struct werr *err = NULL;
	_cleanup_cgroup_ struct cgroup *cg = NULL;
	struct ck_dump_opts o = {0};
	struct ck_stats stats;
	struct cstate st;
	const char *id;
	int c, r;

	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 'i')
			o.dir = optarg;
		else if (c == 'l')
			o.leave_running = true;
		else if (c == 'P')
			o.track = true; /* pre-copy: the container runs on, its writes tracked */
		else if (c == 'p')
			o.parent = optarg;
		else if (c != 'w')
			return 1;
	}
	if (!o.dir) {
		log_error("checkpoint: --image-path is required");
		return 1;
	}
	id = cmd_want_id(argc, argv, "checkpoint");
	if (!id)
		return 1;
	r = state_load(g->root, id, &st, &err);
	if (r < 0)
		return cmd_fail(&err);
	if (st.status != ST_RUNNING)
		r = werr_set(&err, EINVAL, "checkpoint: container %s is %s, not running", id,
			     cstatus_name(st.status));
	if (r == 0 && vm_state_is_vm(&st))
		r = werr_set(&err, ENOTSUP,
			     "checkpoint of a micro-VM container is not supported yet (container "
			     "%s has %s=vm); it keeps running",
			     id, VM_ANNOTATION);
	if (r == 0)
		r = container_cgroup_open(&st, &cg, &err);
	if (r == 0)
		r = write_container_json(o.dir, &st, &err);
	if (r == 0)
		r = dump_tmpfs(&st, cg, o.dir, &extra_tmpfs, &err);
	if (r == 0) {
		o.extra_files = extra_tmpfs;
		o.root = st.pid;
		o.freeze = freeze_cb;
		o.freeze_arg = cg;
		r = ck_dump(&o, &stats, &err);
		if (r < 0) /* frozen by dump_tmpfs; ck_dump may have failed before its own thaw */
			cgroup_freeze(cg, false, NULL);
	}
	if (r == 0)
		log_debug("checkpoint %s: %d processes, %d threads, %.1f MiB in %.0f ms (stopped "
			  "%.0f ms)",
			  id, stats.nprocs, stats.nthreads, (double)stats.image_bytes / 1048576,
			  stats.total_ms, stats.frozen_ms);
	/* Killed by the dump: the container goes, as runc's checkpoint destroys it. */
	if (r == 0 && !o.leave_running && !o.track)
		r = container_delete(g->root, id, true, &err);
	cstate_free(&st);
	for (size_t i = 1; extra_tmpfs && extra_tmpfs[i]; i++)
		free((char *)extra_tmpfs[i]);
	free(extra_tmpfs);
	return r < 0 ? cmd_fail(&err) : 0;
}

void container_restore_init(struct init_ctx *c)
{
	_cleanup_werr_ struct werr *err = NULL;

	ck_restore_become_root(c->opts->restore, &err);
	fprintf(stderr, "ward init: %s\n", err ? err->msg : "restore failed");
	_exit(127);
}

/* The restored processes get the image's credentials and capabilities, but the bundle's
 * seccomp filter would not be loaded (the init becomes the image's root before that point):
 * refuse rather than run them unfiltered. */
static int check_bundle(const char *bundle, struct werr **err)
{
	_cleanup_free_ char *path = xasprintf("%s/config.json", bundle ? bundle : ".");
	_cleanup_free_ char *text = NULL;
	_cleanup_spec_ struct spec *spec = NULL;
	size_t len;

	if (read_file(path, &text, &len, err) < 0 || spec_parse(text, len, path, &spec, err) < 0)
		return -EINVAL;
	if (spec->linux_.has_seccomp)
		return werr_set(
			err, ENOTSUP,
			"restore: %s has linux.seccomp, which ward does not apply to restored "
			"processes yet",
			path);
	if (spec->process.terminal)
		return werr_set(err, ENOTSUP, "restore: %s has process.terminal: not supported",
				path);
	return 0;
}

/* The restored container is running: it will not go through `start`. */
static int mark_running(const char *root, const char *id, struct werr **err)
{
	_cleanup_free_ char *fifo = xasprintf("%s/%s/exec.fifo", root, id);

	if (unlink(fifo) < 0 && errno != ENOENT)
		return werr_sys(err, errno, "remove %s", fifo);
	return 0;
}

int cmd_restore(const struct global_opts *g, int argc, char **argv)
{
	static const struct option opts[] = {
		{"image-path", required_argument, NULL, 'i'},
		{"bundle", required_argument, NULL, 'b'},
		{"detach", no_argument, NULL, 'd'},
		{"pid-file", required_argument, NULL, 'p'},
		{"work-path", required_argument, NULL, 'w'},
		{NULL, 0, NULL, 0},
	};
	_cleanup_werr_ struct werr *err = NULL;
	struct create_opts o = {.root = g->root, .console_recv_fd = -1};
	const char *image = NULL;
	struct ck_restore *r = NULL;
	struct ck_stats stats = {0};
	bool detach = false;
	pid_t pid;
	int c, st;

	optind = 1;
	while ((c = getopt_long(argc, argv, "b:d", opts, NULL)) != -1) {
		if (c == 'i')
			image = optarg;
		else if (c == 'b')
			o.bundle = optarg;
		else if (c == 'd')
			detach = true;
		else if (c == 'p')
			o.pid_file = optarg;
		else if (c != 'w')
			return 1;
	}
	if (!image) {
		log_error("restore: --image-path is required");
		return 1;
	}
	o.id = cmd_want_id(argc, argv, "restore");
	if (!o.id)
		return 1;
	if (check_bundle(o.bundle, &err) < 0 || ck_restore_open(image, &r, &err) < 0)
		return cmd_fail(&err);
	o.restore = r;
	o.foreground = !detach;
	pid = container_create(&o, &err);
	if (pid > 0 && (ck_restore_finish(r, pid, &stats, &err) < 0 ||
			mark_running(g->root, o.id, &err) < 0)) {
		_cleanup_werr_ struct werr *e2 = NULL;

		container_delete(g->root, o.id, true, &e2);
		pid = -1;
	}
	ck_restore_free(r);
	if (pid < 0)
		return cmd_fail(&err);
	log_debug("restore %s: %d processes, %d threads in %.0f ms", o.id, stats.nprocs,
		  stats.nthreads, stats.total_ms);
	if (detach)
		return 0;
	/* In the foreground: wait for the restored init, exit with its status (as run does). */
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return 1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}
