/* ward page-server | migrate: pre-copy migration over TCP (checkpoint/page_server.h).
 *
 * page-server receives images into --image-path/<image name>/ until a final one arrives.
 * migrate moves a running container from --root to --to-root (two hosts, or two state
 * directories of one): it starts a receiver (a fork of itself, listening on --address), sends
 * pre-copy rounds while the container runs (each round only the pages written since the last,
 * tracked by userfaultfd write-protect), until the rounds stop shrinking or --rounds, then the
 * final round (frozen: the remaining pages and every other state), and restores the container
 * from what the receiver got, under --to-root. */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "checkpoint/checkpoint.h"
#include "checkpoint/page_server.h"
#include "lib/util.h"
#include "runtime/commands.h"
#include "runtime/container.h"
#include "runtime/log.h"

static void report_round(const struct ck_ps_round *rd, void *arg)
{
	printf("page-server: image %s: %d files, %llu bytes (%llu of pages)%s\n", rd->image,
	       rd->nfiles, (unsigned long long)rd->bytes, (unsigned long long)rd->pages_bytes,
	       rd->final ? ", final" : "");
	fflush(stdout);
}

int cmd_page_server(const struct global_opts *g, int argc, char **argv)
{
	static const struct option opts[] = {
		{"image-path", required_argument, NULL, 'i'},
		{"address", required_argument, NULL, 'a'},
		{"port-file", required_argument, NULL, 'p'},
		{NULL, 0, NULL, 0},
	};
	_cleanup_werr_ struct werr *err = NULL;
	_cleanup_close_ int lfd = -1;
	const char *dir = NULL, *addr = NULL, *port_file = NULL;
	int c, port = 0;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		if (c == 'i')
			dir = optarg;
		else if (c == 'a')
			addr = optarg;
		else if (c == 'p')
			port_file = optarg;
		else {
			log_error("page-server: unknown option or missing value: %s (usage: ward "
				  "page-server --image-path DIR --address HOST:PORT [--port-file "
				  "FILE])",
				  argv[optind - 1]);
			return 1;
		}
	}
	if (!dir || !addr) {
		log_error("page-server: --image-path and --address are required");
		return 1;
	}
	lfd = ck_ps_listen(addr, &port, &err);
	if (lfd < 0)
		return cmd_fail(&err);
	if (port_file) {
		_cleanup_free_ char *s = xasprintf("%d\n", port);
		_cleanup_free_ char *tmp = xasprintf("%s.tmp", port_file);
		_cleanup_close_ int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

		/* Renamed into place: a reader never sees half a number. */
		if (fd < 0 || write_all(fd, s, strlen(s)) < 0 || rename(tmp, port_file) < 0) {
			log_error("page-server: write %s: %s", port_file, strerror(errno));
			return 1;
		}
	}
	printf("page-server: listening on port %d\n", port);
	fflush(stdout);
	if (ck_ps_serve(lfd, dir, report_round, NULL, &err) < 0)
		return cmd_fail(&err);
	return 0;
}

static int rm_one(const char *path, const struct stat *sb, int type, struct FTW *ftw)
{
	return remove(path) < 0 && errno != ENOENT ? -1 : 0;
}

static void rm_rf(const char *path)
{
	nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

struct migration {
	const char *root, *id, *addr; /* addr: where the receiver listens, HOST:PORT */
	char *src, *dst;	      /* metadata images here, the receiver's images there */
	int rounds;
	pid_t receiver;
	bool source_gone; /* the final round stopped the container: keep the images */
	bool file_locks;  /* --file-locks: save the container's file locks */
};

/* One round: dump into src/name and send it; parent NULL for the first. */
static int send_round(struct migration *m, const char *name, const char *parent, bool final,
		      struct ck_stats *st, struct werr **err)
{
	_cleanup_free_ char *dir = xasprintf("%s/%s", m->src, name);
	_cleanup_free_ char *pdir = parent ? xasprintf("%s/%s", m->src, parent) : NULL;
	struct ck_dump_opts o = {
		.dir = dir, .parent = pdir, .track = !final, .file_locks = m->file_locks};
	struct ck_ps_conn *ps = NULL;
	int r;

	if (ck_ps_connect(m->addr, name, &ps, err) < 0)
		return -EIO;
	o.page_server = ps;
	r = checkpoint_container(m->root, m->id, &o, st, err);
	if (r == 0)
		r = ck_ps_finish(ps, final, err);
	ck_ps_close(ps);
	return r;
}

/* The receiver: a child serving on lfd until the final image. */
static pid_t start_receiver(struct migration *m, const char *host, struct werr **err)
{
	_cleanup_close_ int lfd = -1;
	int port = 0;
	pid_t pid;

	lfd = ck_ps_listen(host, &port, err);
	if (lfd < 0)
		return -EIO;
	/* host is "HOST:0" or "HOST:PORT": the sender connects to the port actually bound. */
	m->addr = xasprintf("%.*s:%d", (int)(strrchr(host, ':') - host), host, port);
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0)
		return werr_sys(err, errno, "fork the page server");
	if (pid == 0) {
		_cleanup_werr_ struct werr *e = NULL;

		if (ck_ps_serve(lfd, m->dst, NULL, NULL, &e) < 0) {
			log_error("migrate: receiver: %s", e->msg);
			_exit(1);
		}
		_exit(0);
	}
	return pid;
}

static int wait_receiver(pid_t pid, struct werr **err)
{
	int st;

	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return werr_sys(err, errno, "wait for the page server");
	if (!WIFEXITED(st) || WEXITSTATUS(st))
		return werr_set(err, EIO, "the page server failed");
	return 0;
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static double mib(uint64_t b)
{
	return (double)b / 1048576;
}

/* Pre-copy rounds while the container runs; the name of the last one in *last. */
static int precopy(struct migration *m, char **last, struct werr **err)
{
	uint64_t prev = UINT64_MAX;

	*last = NULL;
	for (int i = 1; i <= m->rounds; i++) {
		_cleanup_free_ char *name = xasprintf("pre%d", i);
		struct ck_stats st = {0};
		double t0 = now_ms();

		if (send_round(m, name, *last, false, &st, err) < 0) {
			return werr_wrap(err, "pre-copy round %d", i);
		}
		printf("migrate %s: round %d: %llu bytes (%.1f MiB) of pages in %.0f ms, stopped "
		       "%.0f ms\n",
		       m->id, i, (unsigned long long)st.pages_bytes, mib(st.pages_bytes),
		       now_ms() - t0, st.frozen_ms);
		fflush(stdout);
		free(*last);
		*last = name;
		name = NULL;
		/* The dirty set stopped shrinking (or is tiny): more rounds would not help. */
		if (st.pages_bytes >= prev || st.pages_bytes <= 64 * 4096)
			break;
		prev = st.pages_bytes;
	}
	return 0;
}

static bool container_exists(const char *root, const char *id)
{
	_cleanup_werr_ struct werr *e = NULL;
	struct cstate st = {0};

	if (state_load(root, id, &st, &e) < 0)
		return false;
	cstate_free(&st);
	return true;
}

static int migrate(struct migration *m, struct create_opts *co, struct werr **err)
{
	_cleanup_free_ char *last = NULL, *image = NULL;
	struct ck_stats fin = {0}, rst = {0};
	char phases[256];
	double t0;

	if (precopy(m, &last, err) < 0)
		return -EIO;
	t0 = now_ms();
	if (send_round(m, "final", last, true, &fin, err) < 0) {
		/* a micro-VM's VMM stops once its image is written, before it is sent */
		m->source_gone = !container_exists(m->root, m->id);
		if (m->source_gone)
			return werr_wrap(err,
					 "final round (the container has stopped; its image stays "
					 "in %s/final)",
					 m->src);
		return werr_wrap(err, "final round");
	}
	if (wait_receiver(m->receiver, err) < 0)
		return -EIO;
	m->receiver = 0;
	m->source_gone = true;
	printf("migrate %s: final round: %llu bytes (%.1f MiB) of pages, frozen %.0f ms\n", m->id,
	       (unsigned long long)fin.pages_bytes, mib(fin.pages_bytes), fin.frozen_ms);
	ck_phases_format(fin.phase_ms, phases, sizeof(phases));
	log_debug("migrate %s: final round phases (ms): %s", m->id, phases);
	image = xasprintf("%s/final", m->dst);
	if (restore_container(co, image, &rst, err) < 0)
		return werr_wrap(err, "restore under %s (the image stays in %s)", co->root, image);
	printf("migrate %s: restored under %s in %.0f ms; downtime %.0f ms (frozen %.0f ms)\n",
	       m->id, co->root, rst.total_ms, now_ms() - t0, fin.frozen_ms);
	return 0;
}

/* Checked before any round, so that the restore at the end cannot fail on it once the source
 * is gone: a terminal moves to a new pty whose master goes to --console-socket. */
static int check_console(const struct create_opts *co, struct werr **err)
{
	_cleanup_spec_ struct spec *spec = NULL;

	if (spec_load(co->bundle, &spec, err) < 0)
		return -EINVAL;
	if (spec->process.terminal && !co->console_socket)
		return werr_set(
			err, EINVAL,
			"migrate: the container has a terminal (process.terminal): "
			"--console-socket is required (the new terminal's master goes there)");
	if (!spec->process.terminal && co->console_socket)
		return werr_set(err, EINVAL,
				"migrate: --console-socket: the container has no terminal "
				"(process.terminal is false)");
	return 0;
}

int cmd_migrate(const struct global_opts *g, int argc, char **argv)
{
	static const struct option opts[] = {
		{"to-root", required_argument, NULL, 't'},
		{"bundle", required_argument, NULL, 'b'},
		{"rounds", required_argument, NULL, 'n'},
		{"address", required_argument, NULL, 'a'},
		{"work-path", required_argument, NULL, 'w'},
		{"pid-file", required_argument, NULL, 'p'},
		{"console-socket", required_argument, NULL, 'C'},
		{"file-locks", no_argument, NULL, 'F'},
		{NULL, 0, NULL, 0},
	};
	_cleanup_werr_ struct werr *err = NULL;
	struct migration m = {.root = g->root, .rounds = 5};
	struct create_opts co = {.console_recv_fd = -1};
	const char *address = "127.0.0.1:0", *work = NULL;
	_cleanup_free_ char *tmp = NULL;
	struct cstate st = {0};
	bool keep;
	long long v;
	int c, r;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":b:", opts, NULL)) != -1) {
		switch (c) {
		case 't':
			co.root = optarg;
			break;
		case 'b':
			co.bundle = optarg;
			break;
		case 'n':
			if (parse_int64(optarg, &v) < 0 || v < 0 || v > 100) {
				log_error("migrate: --rounds %s: expected 0 to 100", optarg);
				return 1;
			}
			m.rounds = (int)v;
			break;
		case 'a':
			address = optarg;
			break;
		case 'w':
			work = optarg;
			break;
		case 'p':
			co.pid_file = optarg;
			break;
		case 'C':
			co.console_socket = optarg;
			break;
		case 'F':
			m.file_locks = true;
			break;
		default:
			log_error(
				"migrate: unknown option or missing value: %s (usage: ward migrate "
				"--to-root DIR [--bundle DIR] [--rounds N] [--address HOST:PORT] "
				"[--work-path DIR] [--pid-file FILE] [--console-socket SOCK] "
				"[--file-locks] <container-id>)",
				argv[optind - 1]);
			return 1;
		}
	}
	if (!co.root || co.root[0] != '/') {
		log_error("migrate: --to-root DIR (absolute) is required");
		return 1;
	}
	m.id = co.id = cmd_want_id(argc, argv, "migrate");
	if (!m.id)
		return 1;
	if (strcmp(co.root, g->root) == 0) {
		log_error("migrate: --to-root is the container's own --root %s", g->root);
		return 1;
	}
	if (state_load(co.root, m.id, &st, &err) == 0) {
		cstate_free(&st);
		log_error("migrate: a container %s exists already under %s", m.id, co.root);
		return 1;
	}
	werr_free(&err);
	if (state_load(g->root, m.id, &st, &err) < 0)
		return cmd_fail(&err);
	if (!co.bundle)
		co.bundle = tmp = xstrdup(st.bundle);
	cstate_free(&st);
	if (check_console(&co, &err) < 0)
		return cmd_fail(&err);
	keep = work != NULL;
	if (!work) {
		static char tmpl[] = "/tmp/ward-migrate-XXXXXX";

		if (!mkdtemp(tmpl)) {
			log_error("migrate: mkdtemp: %s", strerror(errno));
			return 1;
		}
		work = tmpl;
	}
	m.src = xasprintf("%s/src", work);
	m.dst = xasprintf("%s/dst", work);
	r = mkdir_p(m.src, 0700, &err);
	if (r == 0)
		r = m.receiver = start_receiver(&m, address, &err);
	if (r > 0)
		r = migrate(&m, &co, &err);
	if (m.receiver > 0) { /* a round failed: the container runs on at the source */
		kill(m.receiver, SIGKILL);
		waitpid(m.receiver, NULL, 0);
	}
	/* Once the source is gone, a failure keeps the images (restore can use them). */
	if (!keep && (r == 0 || !m.source_gone))
		rm_rf(work);
	free(m.src);
	free(m.dst);
	free((char *)m.addr);
	return r < 0 ? cmd_fail(&err) : 0;
}
