/* The container's terminal: the pty slave its runtime made at create (process.terminal), whose
 * master the caller of create holds. It is not saved by path - a restored container gets a new
 * pty from the runtime - but as a reference with the terminal's settings: termios, window size,
 * which session has it as controlling terminal and its foreground process group. Bytes queued in
 * the pty (written by the container and not yet read by the master's holder, or the other way)
 * are not saved. */
#include <asm/termbits.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "checkpoint/fdx.h"
#include "lib/util.h"

int ck_tty_collect(pid_t host_pid, const struct ck_proc *p, int fd, struct ck_fd *f,
		   struct werr **err)
{
	_cleanup_close_ int t = ck_grab_fd(host_pid, fd, err);
	struct termios2 tio;
	struct winsize ws;
	struct ck_tty *c;

	if (t < 0)
		return werr_wrap(err, "process %d (%s) fd %d: the container's terminal", p->pid,
				 p->comm, fd);
	f->kind = CK_FD_TTY;
	f->x = xcalloc(1, sizeof(*f->x));
	c = &f->x->tty;
	if (ioctl(t, TCGETS2, &tio) < 0 || ioctl(t, TIOCGWINSZ, &ws) < 0)
		return werr_sys(err, errno,
				"process %d (%s) fd %d: the container's terminal: settings", p->pid,
				p->comm, fd);
	c->iflag = tio.c_iflag;
	c->oflag = tio.c_oflag;
	c->cflag = tio.c_cflag;
	c->lflag = tio.c_lflag;
	c->line = tio.c_line;
	memcpy(c->cc, tio.c_cc, CK_TTY_NCC);
	c->ispeed = tio.c_ispeed;
	c->ospeed = tio.c_ospeed;
	c->rows = ws.ws_row;
	c->cols = ws.ws_col;
	c->xpixel = ws.ws_xpixel;
	c->ypixel = ws.ws_ypixel;
	return 0;
}

/* /proc/pid/stat's pgrp, session, tty_nr and tpgid (pids as the dumper sees them). */
static int read_stat_tty(pid_t host_pid, long v[4], struct werr **err)
{
	_cleanup_free_ char *text = NULL;
	char path[64];
	const char *e;

	snprintf(path, sizeof(path), "/proc/%d/stat", host_pid);
	if (read_file(path, &text, NULL, err) < 0)
		return -EIO;
	e = strrchr(text, ')');
	if (!e || sscanf(e + 1, " %*c %*d %ld %ld %ld %ld", &v[0], &v[1], &v[2], &v[3]) != 4)
		return werr_set(err, EINVAL, "%s: cannot parse", path);
	return 0;
}

/* The kernel's encoding of a device number in /proc/pid/stat's tty_nr. */
static long tty_nr_of(dev_t d)
{
	return (long)((minor(d) & 0xff) | (major(d) << 8) | ((minor(d) & ~0xffu) << 12));
}

const struct ck_tty *ck_tty_of(const struct ck_proc *procs, size_t n)
{
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < procs[i].nfds; j++)
			if (procs[i].fds[j].kind == CK_FD_TTY)
				return &procs[i].fds[j].x->tty;
	return NULL;
}

/* Which process's session has the terminal (tty_nr is its device; only the container's
 * processes are asked, whose terminal it is) and the foreground group, in image pids. */
int ck_tty_tree(struct ck_proc *procs, size_t n, struct werr **err)
{
	const struct ck_proc *holder = NULL;
	pid_t sid = 0, pgrp = 0;
	long tpgid = -1, want;
	char path[64];
	struct stat sb;
	size_t hi = 0, hj = 0;

	for (size_t i = 0; i < n && !holder; i++)
		for (size_t j = 0; j < procs[i].nfds && !holder; j++)
			if (procs[i].fds[j].kind == CK_FD_TTY) {
				holder = &procs[i];
				hi = i;
				hj = j;
			}
	if (!holder)
		return 0;
	snprintf(path, sizeof(path), "/proc/%d/fd/%d", holder->host_pid, holder->fds[hj].fd);
	if (stat(path, &sb) < 0)
		return werr_sys(err, errno, "stat %s", path);
	want = tty_nr_of(sb.st_rdev);
	for (size_t i = 0; i < n; i++) {
		long v[4];

		if (read_stat_tty(procs[i].host_pid, v, err) < 0)
			return -EIO;
		if (v[2] == want && !sid) {
			sid = procs[i].sid;
			tpgid = v[3];
		}
	}
	for (size_t i = 0; i < n && tpgid > 0 && !pgrp; i++) {
		long v[4];

		if (read_stat_tty(procs[i].host_pid, v, err) < 0)
			return -EIO;
		if (v[0] == tpgid)
			pgrp = procs[i].pgid;
	}
	for (size_t i = hi; i < n; i++)
		for (size_t j = 0; j < procs[i].nfds; j++)
			if (procs[i].fds[j].kind == CK_FD_TTY) {
				procs[i].fds[j].x->tty.sid = sid;
				procs[i].fds[j].x->tty.pgrp = pgrp;
			}
	return 0;
}

int ck_tty_open(int tty_fd, const struct ck_fd *f, struct werr **err)
{
	char path[64];
	int fd;

	if (tty_fd < 0)
		return werr_set(err, ENOTTY,
				"fd %d is the container's terminal, and the restored container has "
				"none (process.terminal)",
				f->fd);
	/* A description of its own, as the process had (shared where the image shares it). */
	snprintf(path, sizeof(path), "/proc/self/fd/%d", tty_fd);
	fd = open(path, (f->flags & ~(O_CREAT | O_EXCL | O_TRUNC)) | O_NOCTTY | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT) /* no /proc in the container: share the runtime's */
		fd = fcntl(tty_fd, F_DUPFD_CLOEXEC, 3);
	if (fd < 0)
		return werr_sys(err, errno, "open the new terminal for fd %d", f->fd);
	return fd;
}

static int set_settings(const struct ck_tty *t, int tty_fd)
{
	struct termios2 tio;
	struct winsize ws = {.ws_row = t->rows,
			     .ws_col = t->cols,
			     .ws_xpixel = t->xpixel,
			     .ws_ypixel = t->ypixel};

	if (ioctl(tty_fd, TCGETS2, &tio) < 0)
		return -1;
	tio.c_iflag = t->iflag;
	tio.c_oflag = t->oflag;
	tio.c_cflag = t->cflag;
	tio.c_lflag = t->lflag;
	tio.c_line = t->line;
	memcpy(tio.c_cc, t->cc, CK_TTY_NCC);
	tio.c_ispeed = t->ispeed;
	tio.c_ospeed = t->ospeed;
	if (ioctl(tty_fd, TCSETS2, &tio) < 0)
		return -1;
	return ioctl(tty_fd, TIOCSWINSZ, &ws);
}

/* The root helper is the container's init, to which create gave the terminal as controlling
 * terminal: it keeps it when its session had it, gives it up otherwise (before any other
 * session can take it), and sets the saved settings. Signal actions and the mask are the
 * image's once the helper is rebuilt: SIGHUP (sent on giving the terminal up) is ignored and
 * SIGTTOU (on setting the foreground group from the background) blocked meanwhile. */
int ck_tty_helper(const struct ck_tty *t, const struct ck_proc *p, bool root, int tty_fd)
{
	sigset_t ttou;
	pid_t pid = p->pid;

	if (!t)
		return 0;
	sigemptyset(&ttou);
	sigaddset(&ttou, SIGTTOU);
	sigprocmask(SIG_BLOCK, &ttou, NULL);
	if (root && t->sid != pid) {
		signal(SIGHUP, SIG_IGN);
		signal(SIGCONT, SIG_IGN);
		if (ioctl(tty_fd, TIOCNOTTY) < 0 && errno != ENOTTY)
			return -1;
	}
	if (root && set_settings(t, tty_fd) < 0)
		return -1;
	if (t->sid == pid && ioctl(tty_fd, TIOCSCTTY, 0) < 0)
		return -1;
	if (t->sid && p->sid == t->sid && t->pgrp == pid && p->pgid == pid &&
	    ioctl(tty_fd, TIOCSPGRP, &pid) < 0)
		return -1;
	return 0;
}
