/* Terminals: the pty made inside the container, passed to the caller over a unix socket
 * (SCM_RIGHTS, as runc's --console-socket), and the copy loop of `ward run` without one. */
#include "runtime/console.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include "lib/util.h"

int console_open_pty(int *master, char **slave_path, struct werr **err)
{
	_cleanup_close_ int fd = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
	char name[128];
	int r;

	if (fd < 0)
		return werr_sys(err, errno, "open /dev/ptmx");
	/* No grantpt: it would chown the slave through a helper that is not in containers,
	 * and devpts mounted with the right gid/mode makes it unnecessary. */
	if (unlockpt(fd) < 0)
		return werr_sys(err, errno, "unlockpt /dev/ptmx");
	r = ptsname_r(fd, name, sizeof(name));
	if (r != 0)
		return werr_sys(err, r, "ptsname of /dev/ptmx");
	*slave_path = xstrdup(name);
	*master = steal_fd(fd);
	return 0;
}

int console_open_for(const struct spec_process *p, int *master, int *slave, char **slave_path,
		     struct werr **err)
{
	_cleanup_close_ int m = -1;
	_cleanup_close_ int sl = -1;
	_cleanup_free_ char *path = NULL;
	int r;

	r = console_open_pty(&m, &path, err);
	if (r < 0)
		return r;
	sl = open(path, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (sl < 0)
		return werr_sys(err, errno, "open %s", path);
	if (p->has_console_size) {
		r = console_set_size(m, p->console_height, p->console_width, err);
		if (r < 0)
			return r;
	}
	*master = steal_fd(m);
	*slave = steal_fd(sl);
	*slave_path = steal_ptr(path);
	return 0;
}

int console_set_size(int fd, uint32_t height, uint32_t width, struct werr **err)
{
	struct winsize ws = {.ws_row = (unsigned short)height, .ws_col = (unsigned short)width};

	if (ioctl(fd, TIOCSWINSZ, &ws) < 0)
		return werr_sys(err, errno, "set console size %ux%u", width, height);
	return 0;
}

int console_connect(const char *socket_path, struct werr **err)
{
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	_cleanup_close_ int fd = -1;

	if (strlen(socket_path) >= sizeof(addr.sun_path))
		return werr_set(err, ENAMETOOLONG, "console socket %s: path too long", socket_path);
	strcpy(addr.sun_path, socket_path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return werr_sys(err, errno, "console socket %s: socket", socket_path);
	if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0)
		return werr_sys(err, errno, "connect to console socket %s", socket_path);
	return steal_fd(fd);
}

int console_send_fd(int sock, int fd, const char *name, struct werr **err)
{
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} ctl;
	const char *payload = name && *name ? name : "/dev/ptmx";
	struct iovec iov = {.iov_base = (void *)payload, .iov_len = strlen(payload)};
	struct msghdr msg = {
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = ctl.buf,
		.msg_controllen = sizeof(ctl.buf),
	};
	struct cmsghdr *cm;
	ssize_t r;

	memset(&ctl, 0, sizeof(ctl));
	cm = CMSG_FIRSTHDR(&msg);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	do
		r = sendmsg(sock, &msg, MSG_NOSIGNAL);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		return werr_sys(err, errno, "send %s over the console socket", payload);
	return 0;
}

static void close_passed_fds(struct cmsghdr *cm, int *got)
{
	size_t n = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);

	for (size_t i = 0; i < n; i++) {
		int fd;

		memcpy(&fd, CMSG_DATA(cm) + i * sizeof(int), sizeof(int));
		if (*got < 0)
			*got = fd;
		else
			close(fd);
	}
}

int console_recv_fd(int sock, int *fd, struct werr **err)
{
	union {
		char buf[CMSG_SPACE(4 * sizeof(int))];
		struct cmsghdr align;
	} ctl;
	char name[4096];
	struct iovec iov = {.iov_base = name, .iov_len = sizeof(name)};
	struct msghdr msg = {
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = ctl.buf,
		.msg_controllen = sizeof(ctl.buf),
	};
	int got = -1;
	ssize_t r;

	do
		r = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		return werr_sys(err, errno, "receive a terminal fd from the console socket");
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(&msg); cm; cm = CMSG_NXTHDR(&msg, cm))
		if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS)
			close_passed_fds(cm, &got);
	if (got < 0)
		return werr_set(err, EBADMSG, "console socket: message carries no fd%s",
				(msg.msg_flags & MSG_CTRUNC) ? " (control data truncated)" : "");
	*fd = got;
	return 0;
}

int console_make_controlling(int slave_fd, struct werr **err)
{
	if (setsid() < 0)
		return werr_sys(err, errno, "setsid");
	if (ioctl(slave_fd, TIOCSCTTY, 0) < 0)
		return werr_sys(err, errno, "make the console the controlling terminal");
	for (int i = 0; i <= 2; i++)
		if (dup2(slave_fd, i) < 0)
			return werr_sys(err, errno, "dup the console to fd %d", i);
	return 0;
}

/* stdin -> master bytes not yet taken by the (non-blocking) master. */
struct proxy {
	int master;
	bool stdin_open;
	char buf[4096];
	size_t off, len;
};

static void copy_window_size(int from, int to)
{
	struct winsize ws;

	if (ioctl(from, TIOCGWINSZ, &ws) == 0)
		ioctl(to, TIOCSWINSZ, &ws);
}

/* 1 when the container side is gone, 0 to go on, <0 on error. */
static int master_to_stdout(struct proxy *px, struct werr **err)
{
	char buf[8192];

	for (;;) {
		ssize_t n = read(px->master, buf, sizeof(buf));
		int r;

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return 0;
		/* EIO: every slave fd is closed, the container's terminal is gone. */
		if (n <= 0)
			return 1;
		r = write_all(STDOUT_FILENO, buf, (size_t)n);
		if (r < 0)
			return werr_sys(err, -r, "console: write to stdout");
	}
}

static int stdin_to_master(struct proxy *px, bool readable, struct werr **err)
{
	if (readable && px->len == 0) {
		ssize_t n = read(STDIN_FILENO, px->buf, sizeof(px->buf));

		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			return 0;
		if (n <= 0) {
			px->stdin_open = false;
			return 0;
		}
		px->off = 0;
		px->len = (size_t)n;
	}
	while (px->len > 0) {
		ssize_t w = write(px->master, px->buf + px->off, px->len);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && errno == EAGAIN)
			return 0;
		if (w < 0)
			return errno == EIO ? 1 : werr_sys(err, errno, "console: write to the pty");
		px->off += (size_t)w;
		px->len -= (size_t)w;
	}
	return 0;
}

static int proxy_loop(struct proxy *px, int sigfd, struct werr **err)
{
	for (;;) {
		struct pollfd pfd[3] = {
			{.fd = px->master, .events = POLLIN | (px->len ? POLLOUT : 0)},
			{.fd = px->stdin_open && !px->len ? STDIN_FILENO : -1, .events = POLLIN},
			{.fd = sigfd, .events = POLLIN},
		};
		int r;

		if (poll(pfd, 3, -1) < 0) {
			if (errno == EINTR)
				continue;
			return werr_sys(err, errno, "console: poll");
		}
		if (pfd[2].revents & POLLIN) {
			struct signalfd_siginfo si;

			while (read(sigfd, &si, sizeof(si)) == sizeof(si))
				;
			copy_window_size(STDIN_FILENO, px->master);
		}
		if (pfd[0].revents) {
			r = master_to_stdout(px, err);
			if (r != 0)
				return r < 0 ? r : 0;
		}
		if (pfd[1].revents || (pfd[0].revents & POLLOUT)) {
			r = stdin_to_master(px, pfd[1].revents != 0, err);
			if (r != 0)
				return r < 0 ? r : 0;
		}
	}
}

int console_proxy(int master, struct werr **err)
{
	struct proxy px = {.master = master, .stdin_open = true};
	struct termios saved, raw;
	bool is_raw = false;
	sigset_t winch, old_mask;
	_cleanup_close_ int sigfd = -1;
	int flags, r;

	if (isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &saved) == 0) {
		raw = saved;
		cfmakeraw(&raw);
		if (tcsetattr(STDIN_FILENO, TCSANOW, &raw) < 0)
			return werr_sys(err, errno, "console: set stdin to raw mode");
		is_raw = true;
		copy_window_size(STDIN_FILENO, master);
	}
	sigemptyset(&winch);
	sigaddset(&winch, SIGWINCH);
	sigprocmask(SIG_BLOCK, &winch, &old_mask);
	if (is_raw)
		sigfd = signalfd(-1, &winch, SFD_CLOEXEC | SFD_NONBLOCK);
	flags = fcntl(master, F_GETFL);
	if (flags < 0 || fcntl(master, F_SETFL, flags | O_NONBLOCK) < 0)
		r = werr_sys(err, errno, "console: make the pty master non-blocking");
	else
		r = proxy_loop(&px, sigfd, err);
	if (is_raw)
		tcsetattr(STDIN_FILENO, TCSANOW, &saved);
	sigprocmask(SIG_SETMASK, &old_mask, NULL);
	return r;
}
