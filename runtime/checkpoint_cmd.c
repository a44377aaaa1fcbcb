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
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>
#include <yajl/yajl_gen.h>

#include "checkpoint/checkpoint.h"
#include "checkpoint/mounts.h"
#include "checkpoint/page_server.h"
#include "lib/util.h"
#include "runtime/cgroup.h"
#include "runtime/commands.h"
#include "runtime/container.h"
#include "runtime/foreground.h"
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

/* The container's own files that the image carries besides the processes: container.json,
 * the config it was created with, and the updates made since (`ward update`), which restore
 * applies again. */
static const char *const own_files[] = {"container.json", "config.json", "cgroup-updates.jsonl"};

/* Copy the state dir's config.json and updates.jsonl (if any) into the image; *n: how many of
 * own_files the image has. */
static int copy_state_files(const char *root, const struct cstate *st, const char *dir,
			    size_t *n, struct werr **err)
{
	static const char *const from[] = {"config.json", "updates.jsonl"};
	_cleanup_free_ char *sdir = state_dir(root, st->id);

	*n = 1;
	for (size_t i = 0; i < ARRAY_SIZE(from); i++) {
		_cleanup_free_ char *src = xasprintf("%s/%s", sdir, from[i]);
		_cleanup_free_ char *dst = xasprintf("%s/%s", dir, own_files[i + 1]);
		_cleanup_free_ char *text = NULL;
		size_t len;
		int r = read_file(src, &text, &len, NULL);

		if (r == -ENOENT && i > 0) { /* never updated: not a reused directory's either */
			if (unlink(dst) < 0 && errno != ENOENT)
				return werr_sys(err, errno, "checkpoint: remove %s", dst);
			break;
		}
		if (r < 0)
			return werr_sys(err, -r, "checkpoint: read %s", src);
		_cleanup_close_ int fd = open(dst, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

		if (fd < 0 || write_all(fd, text, len) < 0)
			return werr_sys(err, errno, "checkpoint: write %s", dst);
		*n = i + 2;
	}
	return 0;
}

/* The bundle's tmpfs mounts but /dev (which create makes anew), archived into the image while the
 * cgroup is frozen (ck_dump freezes it again and thaws it once the tree is seized). *extra gets
 * every file the inventory must vouch for besides the processes'. */
static int dump_tmpfs(const struct cstate *st, struct cgroup *cg, const char *dir, size_t n_own,
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
	*extra = xcalloc(n_own + nf + 1, sizeof(char *));
	for (size_t i = 0; i < n_own; i++)
		(*extra)[i] = own_files[i];
	for (size_t i = 0; i < nf; i++)
		(*extra)[n_own + i] = files[i]; /* freed with the process */
	free(files);
	return r;
}

/* The container's terminal, if create gave it one: the pty slave bound on its /dev/console
 * (a Unix98 pty slave: majors 136-143), as device numbers (ck_dump_opts.console_*). */
static void find_console(pid_t init, struct ck_dump_opts *o)
{
	char path[64];
	struct stat sb;

	snprintf(path, sizeof(path), "/proc/%d/root/dev/console", init);
	if (stat(path, &sb) == 0 && S_ISCHR(sb.st_mode) && major(sb.st_rdev) >= 136 &&
	    major(sb.st_rdev) <= 143) {
		o->console_dev = sb.st_dev;
		o->console_rdev = sb.st_rdev;
	}
}

/* mountinfo's lines as "MOUNTPOINT (FSTYPE)" (the mount point as the kernel escapes it);
 * *n of them, in a NULL-terminated array. */
static char **mount_keys(char *text, size_t *n)
{
	char **keys = xcalloc(1, sizeof(char *));
	char *save = NULL;

	*n = 0;
	for (char *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		char mnt[4096], fstype[256];
		const char *sep = strstr(l, " - ");

		if (!sep || sscanf(l, "%*s %*s %*s %*s %4095s", mnt) != 1 ||
		    sscanf(sep + 3, "%255s", fstype) != 1)
			continue;
		keys = xrealloc(keys, (*n + 2) * sizeof(char *));
		keys[(*n)++] = xasprintf("%s (%s)", mnt, fstype);
		keys[*n] = NULL;
	}
	return keys;
}

/* Mounts made or removed in the container since create are not saved (restore makes the
 * bundle's): refuse rather than bring the container back without them. No record (a container
 * of an older ward) is no check. */
static int check_mounts(const char *root, const struct cstate *st, struct werr **err)
{
	_cleanup_free_ char *dir = state_dir(root, st->id);
	_cleanup_free_ char *rec_path = xasprintf("%s/mountinfo", dir);
	_cleanup_free_ char *now_path = xasprintf("/proc/%d/mountinfo", st->pid);
	_cleanup_free_ char *rec = NULL, *now = NULL;
	char **was, **is;
	size_t nwas, nis, len;
	int r = 0;

	if (read_file(rec_path, &rec, &len, NULL) < 0)
		return 0;
	if (read_file(now_path, &now, &len, err) < 0)
		return werr_wrap(err, "checkpoint: the container's mounts");
	was = mount_keys(rec, &nwas);
	is = mount_keys(now, &nis);
	for (size_t i = 0; i < nis && r == 0; i++) {
		size_t j = 0;

		while (j < nwas && (!was[j] || strcmp(was[j], is[i])))
			j++;
		if (j == nwas) {
			r = werr_set(err, ENOTSUP,
				     "checkpoint: %s was mounted in the container after create: mounts "
				     "made at run time are not saved",
				     is[i]);
		} else {
			free(was[j]);
			was[j] = NULL; /* matched once */
		}
	}
	for (size_t j = 0; j < nwas && r == 0; j++)
		if (was[j])
			r = werr_set(err, ENOTSUP,
				     "checkpoint: %s was unmounted in the container after create: "
				     "restore would mount it again",
				     was[j]);
	for (size_t j = 0; j < nwas; j++)
		free(was[j]);
	free(was);
	strv_free(is);
	return r;
}

/* runc's checkpoint/restore flags that ward refuses, each with the reason. */
static int refuse_flag(const char *cmd, const char *flag, const char *why)
{
	log_error("%s: --%s: %s", cmd, flag, why);
	return -1;
}

/* getopt's own message ("unrecognized option") names no command: ours does, and says where
 * the list is. */
static int bad_flag(const char *cmd, int argc, char **argv)
{
	const char *arg = optind > 0 && optind <= argc ? argv[optind - 1] : "?";

	log_error("%s: unknown option or missing value: %s (see ward %s --help)", cmd, arg, cmd);
	return -1;
}

static int check_cgroups_mode(const char *cmd, const char *mode)
{
	static const char *const modes[] = {"soft", "full", "strict", "ignore"};

	for (size_t i = 0; i < ARRAY_SIZE(modes); i++)
		if (strcmp(mode, modes[i]) == 0)
			return 0;
	log_error("%s: --manage-cgroups-mode %s: expected soft, full, strict or ignore", cmd, mode);
	return -1;
}

static int check_empty_ns(const char *cmd, const char *ns)
{
	static const char *const names[] = {"network", "net", "ipc", "uts", "mount", "pid",
					    "user", "cgroup", "time"};

	for (size_t i = 0; i < ARRAY_SIZE(names); i++)
		if (strcmp(ns, names[i]) == 0)
			return 0;
	log_error("%s: --empty-ns %s: not a namespace (network, ipc, uts, mount, pid, user, "
		  "cgroup, time)",
		  cmd, ns);
	return -1;
}

static const char *const not_tcp = "established TCP connections are not supported by ward "
				   "(listening sockets are saved; a connection is refused "
				   "naming its process and fd)";
static const char *const not_ext_unix = "external UNIX sockets are not supported by ward";
static const char *const not_shell_job = "shell jobs are not supported: ward saves the "
					 "container's own terminal (process.terminal), not another one";
static const char *const not_lazy = "lazy pages are not supported by ward; for a short "
				    "downtime use --pre-dump rounds (ward migrate)";

static void checkpoint_help(void)
{
	printf("usage: ward checkpoint [options] <container-id>\n\n"
	       "  --image-path DIR            write the image to DIR (required)\n"
	       "  --work-path DIR             accepted; ward writes no work files (logs: --log)\n"
	       "  --parent-path DIR           a previous --pre-dump image: save only pages "
	       "written since\n"
	       "  --leave-running             leave the container running afterwards\n"
	       "  --pre-dump                  save memory and track writes; the container runs "
	       "on\n"
	       "  --page-server ADDR:PORT     send the image to `ward page-server` at "
	       "ADDR:PORT\n"
	       "                              (metadata also stays in --image-path)\n"
	       "  --file-locks                save the file locks the container holds (POSIX, "
	       "flock, OFD;\n"
	       "                              restore takes them again); without it a "
	       "container holding\n"
	       "                              any is refused\n"
	       "  --manage-cgroups-mode MODE  soft|full|strict|ignore: accepted, all the same "
	       "(the image\n"
	       "                              keeps the config and the updates; restore chooses)\n"
	       "  --empty-ns NS               accepted: no namespace is saved; restore makes the "
	       "bundle's\n"
	       "  --auto-dedup                accepted; no effect (images share nothing to "
	       "deduplicate)\n"
	       "  refused: --tcp-established --ext-unix-sk --shell-job --lazy-pages "
	       "--status-fd\n");
}

/* Without --file-locks: a lock in /proc/locks held by any process of pid's pid namespace (the
 * container's tree), found before the container is frozen. The engine refuses too, per fd. */
static int check_file_locks(pid_t pid, struct werr **err)
{
	_cleanup_free_ char *text = NULL;
	char want[64], path[64], ns[64];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/ns/pid", pid);
	n = readlink(path, want, sizeof(want) - 1);
	if (n < 0)
		return werr_sys(err, errno, "readlink %s", path);
	want[n] = '\0';
	if (read_file("/proc/locks", &text, NULL, err) < 0)
		return -EIO;
	for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
		char kind[16], type[16];
		int holder;

		/* "1: POSIX  ADVISORY  WRITE 1234 08:01:5678 0 EOF"; " -> " lines are waiters. */
		if (strstr(line, "->") ||
		    sscanf(line, "%*d: %15s %*s %15s %d", kind, type, &holder) != 3)
			continue;
		snprintf(path, sizeof(path), "/proc/%d/ns/pid", holder);
		n = readlink(path, ns, sizeof(ns) - 1);
		if (n < 0)
			continue;
		ns[n] = '\0';
		if (strcmp(ns, want) == 0)
			return werr_set(err, ENOTSUP,
					"checkpoint: process %d holds a file lock (%s %s): file "
					"locks are saved only with --file-locks",
					holder, kind, type);
	}
	return 0;
}

/* A VM-isolated container: its VMM saves the guest (runtime/vm_ck.c). */
static int checkpoint_vm(const char *root, const struct cstate *st, struct ck_dump_opts *o,
			 struct ck_stats *stats, struct werr **err)
{
	struct vm_ck_opts vo = {.leave_running = o->leave_running,
				.track = o->track,
				.parent = o->parent,
				.page_server = o->page_server};
	struct vm_ck_stats vs = {0};
	double t0 = ck_now_ms();
	int r;

	r = write_container_json(o->dir, st, err);
	if (r == 0)
		r = vm_checkpoint(root, st->id, o->dir, &vo, &vs, err);
	if (r < 0 && !vs.image_written) {
		_cleanup_free_ char *cj = xasprintf("%s/container.json", o->dir);

		unlink(cj);
		rmdir(o->dir); /* only when empty: a directory the caller had keeps its files */
		return r;
	}
	stats->nprocs = 1;
	stats->pages_bytes = vs.mem_bytes;
	stats->frozen_ms = vs.paused_ms;
	stats->total_ms = ck_now_ms() - t0;
	log_debug("checkpoint %s: micro-VM%s, %.1f MiB of guest memory written, vCPUs paused %u "
		  "ms, %.0f ms in all",
		  st->id, o->track ? " pre-dump" : o->parent ? " (pages since the parent)" : "",
		  (double)vs.mem_bytes / 1048576, vs.paused_ms, stats->total_ms);
	if (!o->leave_running && !o->track) { /* the VMM has stopped, even if sending failed */
		_cleanup_werr_ struct werr *e2 = NULL;
		int r2 = container_delete(root, st->id, true, r < 0 ? &e2 : err);

		r = r < 0 ? r : r2;
	}
	return r;
}

int checkpoint_container(const char *root, const char *id, struct ck_dump_opts *o,
			 struct ck_stats *stats, struct werr **err)
{
	const char **extra = NULL;
	_cleanup_cgroup_ struct cgroup *cg = NULL;
	struct cstate st;
	double t_tmpfs = 0;
	size_t n_own = 0;
	char phases[256];
	int r;

	r = state_load(root, id, &st, err);
	if (r < 0)
		return r;
	if (st.status != ST_RUNNING)
		r = werr_set(err, EINVAL, "checkpoint: container %s is %s, not running", id,
			     cstatus_name(st.status));
	if (r == 0 && vm_state_is_vm(&st)) {
		r = checkpoint_vm(root, &st, o, stats, err);
		cstate_free(&st);
		return r;
	}
	if (r == 0)
		r = check_mounts(root, &st, err);
	if (r == 0 && !o->file_locks)
		r = check_file_locks(st.pid, err);
	if (r == 0)
		r = container_cgroup_open(&st, &cg, err);
	if (r == 0)
		r = write_container_json(o->dir, &st, err);
	if (r == 0)
		r = copy_state_files(root, &st, o->dir, &n_own, err);
	if (r == 0) {
		t_tmpfs = ck_now_ms();
		r = dump_tmpfs(&st, cg, o->dir, n_own, &extra, err);
		t_tmpfs = ck_now_ms() - t_tmpfs;
	}
	if (r == 0) {
		o->extra_files = extra;
		o->root = st.pid;
		find_console(st.pid, o);
		o->freeze = freeze_cb;
		o->freeze_arg = cg;
		r = ck_dump(o, stats, err);
		if (r < 0) /* frozen by dump_tmpfs; ck_dump may have failed before its own thaw */
			cgroup_freeze(cg, false, NULL);
		stats->phase_ms[CK_PH_TMPFS] = t_tmpfs;
	}
	o->extra_files = NULL;
	for (size_t i = n_own; extra && extra[i]; i++)
		free((char *)extra[i]);
	free(extra);
	if (r == 0) {
		ck_phases_format(stats->phase_ms, phases, sizeof(phases));
		log_debug("checkpoint %s: %d processes, %d threads, %.1f MiB of pages, %.1f MiB "
			  "image in %.0f ms (stopped %.0f ms); phases (ms): %s",
			  id, stats->nprocs, stats->nthreads, (double)stats->pages_bytes / 1048576,
			  (double)stats->image_bytes / 1048576, stats->total_ms, stats->frozen_ms,
			  phases);
	}
	/* Killed by the dump: the container goes, as runc's checkpoint destroys it. */
	if (r == 0 && !o->leave_running && !o->track)
		r = container_delete(root, id, true, err);
	cstate_free(&st);
	return r;
}

/* "pre3" for /x/y/pre3/: the image's name on a page server. */
static const char *image_name(const char *dir)
{
	static char buf[256];
	size_t len = strlen(dir);
	const char *b;

	while (len > 1 && dir[len - 1] == '/')
		len--;
	snprintf(buf, sizeof(buf), "%.*s", (int)len, dir);
	b = strrchr(buf, '/');
	return b ? b + 1 : buf;
}

int cmd_checkpoint(const struct global_opts *g, int argc, char **argv)
{
	static const struct option opts[] = {
		{"image-path", required_argument, NULL, 'i'},
		{"leave-running", no_argument, NULL, 'l'},
		{"work-path", required_argument, NULL, 'w'},
		{"pre-dump", no_argument, NULL, 'P'},
		{"parent-path", required_argument, NULL, 'p'},
		{"page-server", required_argument, NULL, 'S'},
		{"file-locks", no_argument, NULL, 'F'},
		{"manage-cgroups-mode", required_argument, NULL, 'm'},
		{"empty-ns", required_argument, NULL, 'e'},
		{"auto-dedup", no_argument, NULL, 'a'},
		{"tcp-established", no_argument, NULL, 'T'},
		{"ext-unix-sk", no_argument, NULL, 'U'},
		{"shell-job", no_argument, NULL, 'J'},
		{"lazy-pages", no_argument, NULL, 'Z'},
		{"status-fd", required_argument, NULL, 's'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	static const char *const cmd = "checkpoint";
	_cleanup_werr_ struct werr *err = NULL;
	struct ck_dump_opts o = {0};
	struct ck_ps_conn *ps = NULL;
	const char *page_server = NULL;
	struct ck_stats stats = {0};
	const char *id;
	int c, r;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (c) {
		case 'i':
			o.dir = optarg;
			break;
		case 'l':
			o.leave_running = true;
			break;
		case 'P':
			o.track = true; /* pre-copy: the container runs on, its writes tracked */
			break;
		case 'p':
			o.parent = optarg;
			break;
		case 'S':
			page_server = optarg;
			break;
		case 'm':
			if (check_cgroups_mode(cmd, optarg) < 0)
				return 1;
			break;
		case 'e':
			if (check_empty_ns(cmd, optarg) < 0)
				return 1;
			break;
		case 'F':
			o.file_locks = true;
			break;
		case 'w': /* no work files */
		case 'a': /* nothing to deduplicate */
			break;
		case 'T':
			return -refuse_flag(cmd, "tcp-established", not_tcp);
		case 'U':
			return -refuse_flag(cmd, "ext-unix-sk", not_ext_unix);
		case 'J':
			return -refuse_flag(cmd, "shell-job", not_shell_job);
		case 'Z':
			return -refuse_flag(cmd, "lazy-pages", not_lazy);
		case 's':
			return -refuse_flag(cmd, "status-fd", "only for --lazy-pages, which ward "
							      "does not support");
		case 'h':
			checkpoint_help();
			return 0;
		default:
			return -bad_flag(cmd, argc, argv);
		}
	}
	if (!o.dir) {
		log_error("checkpoint: --image-path is required");
		return 1;
	}
	id = cmd_want_id(argc, argv, cmd);
	if (!id)
		return 1;
	if (page_server && ck_ps_connect(page_server, image_name(o.dir), &ps, &err) < 0)
		return cmd_fail(&err);
	o.page_server = ps;
	r = checkpoint_container(g->root, id, &o, &stats, &err);
	if (r == 0 && ps)
		r = ck_ps_finish(ps, !o.track, &err);
	if (r == 0 && ps)
		log_debug("checkpoint %s: %llu bytes sent to the page server %s", id,
			  (unsigned long long)ck_ps_bytes(ps), page_server);
	ck_ps_close(ps);
	return r < 0 ? cmd_fail(&err) : 0;
}

void container_restore_init(struct init_ctx *c)
{
	_cleanup_werr_ struct werr *err = NULL;

	/* create made the terminal the init's stdio (setup_console) */
	if (!c->spec->process.terminal || ck_restore_set_tty(c->opts->restore, 0, &err) == 0)
		ck_restore_become_root(c->opts->restore, &err);
	fprintf(stderr, "ward init: %s\n", err ? err->msg : "restore failed");
	_exit(127);
}

/* The restored processes get the image's credentials, capabilities and seccomp filters (the
 * ones they had at dump time), not the bundle's: the init becomes the image's root before it
 * would load linux.seccomp. *terminal and *seccomp: what the bundle asks for. */
static int check_bundle(const char *path, bool *terminal, bool *seccomp, struct werr **err)
{
	_cleanup_free_ char *text = NULL;
	_cleanup_spec_ struct spec *spec = NULL;
	size_t len;

	if (read_file(path, &text, &len, err) < 0 || spec_parse(text, len, path, &spec, err) < 0)
		return -EINVAL;
	*terminal = spec->process.terminal;
	*seccomp = spec->linux_.has_seccomp;
	return 0;
}

/* A bundle with linux.seccomp whose image holds no filter (an unfiltered container's) is
 * refused rather than run unfiltered. */
static int check_seccomp(const char *path, bool seccomp, const struct ck_restore *r,
			 struct werr **err)
{
	if (seccomp && !ck_restore_has_seccomp(r))
		return werr_set(err, ENOTSUP,
				"restore: %s has linux.seccomp, but the image's processes have no "
				"seccomp filter to restore",
				path);
	return 0;
}

/* The image's terminal and the bundle's must go together: create makes the new one. */
static int check_terminal(const struct create_opts *o, bool terminal, bool image_tty,
			  struct werr **err)
{
	const char *bundle = o->bundle ? o->bundle : ".";

	if (o->console_socket && !terminal && !image_tty)
		return werr_set(err, EINVAL,
				"restore: --console-socket: neither the image nor %s/config.json "
				"has a terminal (process.terminal is false)",
				bundle);
	if (image_tty && !terminal)
		return werr_set(err, EINVAL,
				"restore: the image has the container's terminal: %s/config.json "
				"needs process.terminal: true",
				bundle);
	if (!image_tty && terminal)
		return werr_set(err, EINVAL,
				"restore: %s/config.json has process.terminal but the image has no "
				"terminal (the container was checkpointed without one)",
				bundle);
	if (image_tty && !o->console_socket && !o->foreground)
		return werr_set(err, EINVAL,
				"restore: the image has the container's terminal: --console-socket "
				"is required with --detach (the new terminal's master is sent there)");
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

/* A micro-VM image: create the container with the image's disk; its VMM loads the rest. */
static pid_t restore_vm(struct create_opts *o, const char *image, struct ck_stats *stats,
			struct werr **err)
{
	double t0 = ck_now_ms();
	pid_t pid;

	o->vm_restore_image = image;
	o->isolation_vm = true; /* the image is a micro-VM's, whatever the bundle's annotation */
	pid = container_create(o, err);
	o->vm_restore_image = NULL;
	if (pid > 0 && mark_running(o->root, o->id, err) < 0) {
		_cleanup_werr_ struct werr *e2 = NULL;

		container_delete(o->root, o->id, true, &e2);
		pid = -1;
	}
	stats->nprocs = 1;
	stats->total_ms = ck_now_ms() - t0;
	if (pid > 0)
		log_debug("restore %s: micro-VM container running in %.0f ms (its VMM loaded the "
			  "image)",
			  o->id, stats->total_ms);
	return pid < 0 ? -EIO : pid;
}

int restore_container(struct create_opts *o, const char *image, struct ck_stats *stats,
		      struct werr **err)
{
	_cleanup_free_ char *bundle_cfg = NULL, *updates = NULL;
	struct ck_restore *r = NULL;
	bool is_vm, terminal = false, seccomp = false;
	pid_t pid;

	if (vm_image_check(image, &is_vm, err) < 0)
		return -EINVAL;
	if (is_vm)
		return restore_vm(o, image, stats, err);
	/* The bundle's config.json, as with runc: the image's copy is never used in its place
	 * (its hooks would run on the host; an image is not a bundle). */
	bundle_cfg = xasprintf("%s/config.json", o->bundle ? o->bundle : ".");
	if (check_bundle(bundle_cfg, &terminal, &seccomp, err) < 0 ||
	    ck_restore_open(image, &r, err) < 0)
		return -EINVAL;
	if (check_terminal(o, terminal, ck_restore_has_tty(r), err) < 0 ||
	    check_seccomp(bundle_cfg, seccomp, r, err) < 0) {
		ck_restore_free(r);
		return -EINVAL;
	}
	o->restore = r;
	if (!o->restore_updates_off && ck_restore_lists_updates(r))
		o->restore_updates = updates = xasprintf("%s/cgroup-updates.jsonl", image);
	pid = container_create(o, err);
	o->restore_updates = NULL;
	if (pid > 0 && (ck_restore_finish(r, pid, stats, err) < 0 ||
			mark_running(o->root, o->id, err) < 0)) {
		_cleanup_werr_ struct werr *e2 = NULL;

		container_delete(o->root, o->id, true, &e2);
		pid = -1;
	}
	ck_restore_free(r);
	o->restore = NULL;
	if (pid > 0)
		log_debug("restore %s: %d processes, %d threads in %.0f ms", o->id, stats->nprocs,
			  stats->nthreads, stats->total_ms);
	return pid < 0 ? -EIO : pid;
}

static void restore_help(void)
{
	printf("usage: ward restore [options] <container-id>\n\n"
	       "  --image-path DIR            the image (required)\n"
	       "  --bundle DIR, -b DIR        the bundle (default .)\n"
	       "  --detach, -d                do not wait for the container\n"
	       "  --pid-file FILE             write the init's pid to FILE\n"
	       "  --console-socket PATH       the new terminal's master goes there (an image of a "
	       "container\n"
	       "                              with process.terminal; required with -d)\n"
	       "  --no-pivot                  as create --no-pivot\n"
	       "  --work-path DIR             accepted; ward writes no work files\n"
	       "  --file-locks                accepted; the locks an image holds (checkpoint "
	       "--file-locks)\n"
	       "                              are always taken again\n"
	       "  --manage-cgroups-mode MODE  soft|full|strict: the bundle's cgroup with the "
	       "image's\n"
	       "                              `ward update`s applied again; ignore: the bundle's "
	       "only\n"
	       "  --empty-ns NS               accepted: every namespace is the bundle's, new\n"
	       "  --auto-dedup, --no-subreaper  accepted; no effect\n"
	       "  refused: --tcp-established --ext-unix-sk --shell-job "
	       "--lazy-pages\n"
	       "           --lsm-profile --lsm-mount-context\n");
}

int cmd_restore(const struct global_opts *g, int argc, char **argv)
{
	static const struct option opts[] = {
		{"image-path", required_argument, NULL, 'i'},
		{"bundle", required_argument, NULL, 'b'},
		{"detach", no_argument, NULL, 'd'},
		{"pid-file", required_argument, NULL, 'p'},
		{"work-path", required_argument, NULL, 'w'},
		{"no-pivot", no_argument, NULL, 'N'},
		{"no-subreaper", no_argument, NULL, 'R'},
		{"file-locks", no_argument, NULL, 'F'},
		{"manage-cgroups-mode", required_argument, NULL, 'm'},
		{"empty-ns", required_argument, NULL, 'e'},
		{"auto-dedup", no_argument, NULL, 'a'},
		{"console-socket", required_argument, NULL, 'C'},
		{"tcp-established", no_argument, NULL, 'T'},
		{"ext-unix-sk", no_argument, NULL, 'U'},
		{"shell-job", no_argument, NULL, 'J'},
		{"lazy-pages", no_argument, NULL, 'Z'},
		{"lsm-profile", required_argument, NULL, 'L'},
		{"lsm-mount-context", required_argument, NULL, 'M'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	static const char *const cmd = "restore";
	_cleanup_werr_ struct werr *err = NULL;
	struct create_opts o = {.root = g->root, .console_recv_fd = -1};
	const char *image = NULL;
	struct ck_stats stats = {0};
	bool detach = false;
	int sv[2] = {-1, -1};
	pid_t pid, relay = -1;
	int c, st;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":b:dh", opts, NULL)) != -1) {
		switch (c) {
		case 'i':
			image = optarg;
			break;
		case 'b':
			o.bundle = optarg;
			break;
		case 'd':
			detach = true;
			break;
		case 'p':
			o.pid_file = optarg;
			break;
		case 'N':
			o.no_pivot = true;
			break;
		case 'm':
			if (check_cgroups_mode(cmd, optarg) < 0)
				return 1;
			o.restore_updates_off = strcmp(optarg, "ignore") == 0;
			break;
		case 'e':
			if (check_empty_ns(cmd, optarg) < 0)
				return 1;
			break;
		case 'w':
		case 'R': /* ward uses no subreaper */
		case 'F':
		case 'a':
			break;
		case 'C':
			o.console_socket = optarg;
			break;
		case 'T':
			return -refuse_flag(cmd, "tcp-established", not_tcp);
		case 'U':
			return -refuse_flag(cmd, "ext-unix-sk", not_ext_unix);
		case 'J':
			return -refuse_flag(cmd, "shell-job", not_shell_job);
		case 'Z':
			return -refuse_flag(cmd, "lazy-pages", not_lazy);
		case 'L':
			return -refuse_flag(cmd, "lsm-profile", "ward applies no LSM profile");
		case 'M':
			return -refuse_flag(cmd, "lsm-mount-context",
					    "ward applies no LSM mount context");
		case 'h':
			restore_help();
			return 0;
		default:
			return -bad_flag(cmd, argc, argv);
		}
	}
	if (!image) {
		log_error("restore: --image-path is required");
		return 1;
	}
	o.id = cmd_want_id(argc, argv, cmd);
	if (!o.id)
		return 1;
	o.foreground = !detach;
	/* In the foreground with a terminal and no console socket: relayed, as run does. */
	if (!detach && !o.console_socket &&
	    socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0)
		o.console_recv_fd = sv[1];
	pid = restore_container(&o, image, &stats, &err);
	if (sv[1] >= 0)
		close(sv[1]);
	if (pid > 0 && o.terminal && sv[0] >= 0)
		relay = foreground_console_relay(sv[0]);
	if (sv[0] >= 0)
		close(sv[0]);
	if (pid < 0)
		return cmd_fail(&err);
	if (detach)
		return 0;
	/* In the foreground: wait for the restored init, exit with its status (as run does). */
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return 1;
	if (relay > 0)
		waitpid(relay, NULL, 0);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}
