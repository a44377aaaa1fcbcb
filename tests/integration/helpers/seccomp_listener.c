/* seccomp_listener SOCKET STATE_OUT ERRNO: a runtime-spec seccomp agent for the tests.
 * Listens on SOCKET (printing "ready" once it does), takes one connection, writes the
 * container process state JSON it carries to STATE_OUT, then answers every notification on
 * the fd that came with it: with -ERRNO, or with success (0, the syscall not done) when ERRNO
 * is 0. Each answered syscall number is appended to STATE_OUT.calls. Exits when the filtered
 * processes are gone. */
#include <errno.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static int die(const char *what)
{
	fprintf(stderr, "seccomp_listener: %s: %s\n", what, strerror(errno));
	exit(1);
}

/* Where a JSON document that starts in buf ends: depth goes back to 0 outside a string. */
struct scan {
	int depth;
	bool in_string, escaped, started;
};

static bool complete(struct scan *sc, const char *buf, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char ch = buf[i];

		if (sc->in_string) {
			if (sc->escaped)
				sc->escaped = false;
			else if (ch == '\\')
				sc->escaped = true;
			else if (ch == '"')
				sc->in_string = false;
		} else if (ch == '"') {
			sc->in_string = true;
		} else if (ch == '{' || ch == '[') {
			sc->depth++;
			sc->started = true;
		} else if (ch == '}' || ch == ']') {
			sc->depth--;
		}
	}
	return sc->started && sc->depth == 0;
}

/* One connection: the JSON (possibly over several reads) and the fd with the first bytes. It
 * stops at the end of the document, not at EOF: a runtime may close the connection late. */
static int receive(int conn, FILE *out)
{
	char buf[65536], control[CMSG_SPACE(sizeof(int))];
	struct scan sc = {0};
	int fd = -1;

	for (;;) {
		struct iovec iov = {.iov_base = buf, .iov_len = sizeof(buf)};
		struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control,
				     .msg_controllen = sizeof(control)};
		ssize_t n = recvmsg(conn, &msg, MSG_CMSG_CLOEXEC);

		if (n < 0)
			die("recvmsg");
		if (n == 0)
			break;
		for (struct cmsghdr *cm = CMSG_FIRSTHDR(&msg); cm; cm = CMSG_NXTHDR(&msg, cm))
			if (cm->cmsg_type == SCM_RIGHTS)
				memcpy(&fd, CMSG_DATA(cm), sizeof(int));
		fwrite(buf, 1, (size_t)n, out);
		if (complete(&sc, buf, (size_t)n))
			break;
	}
	return fd;
}

int main(int argc, char **argv)
{
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	char calls_path[4096];
	FILE *out, *calls;
	int lsock, conn, fd, answer;

	if (argc != 4) {
		fprintf(stderr, "usage: %s SOCKET STATE_OUT ERRNO\n", argv[0]);
		return 2;
	}
	answer = atoi(argv[3]);
	snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", argv[1]);
	lsock = socket(AF_UNIX, SOCK_STREAM, 0);
	if (lsock < 0 || bind(lsock, (struct sockaddr *)&addr, sizeof(addr)) < 0 ||
	    listen(lsock, 1) < 0)
		die("listen");
	printf("ready\n");
	fflush(stdout);
	conn = accept(lsock, NULL, NULL);
	if (conn < 0)
		die("accept");
	out = fopen(argv[2], "w");
	if (!out)
		die(argv[2]);
	fd = receive(conn, out);
	fclose(out);
	close(conn);
	if (fd < 0) {
		fprintf(stderr, "seccomp_listener: no fd came with the state\n");
		return 1;
	}
	snprintf(calls_path, sizeof(calls_path), "%s.calls", argv[2]);
	for (;;) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		struct seccomp_notif req;
		struct seccomp_notif_resp resp;

		if (poll(&p, 1, -1) < 0 && errno != EINTR)
			die("poll");
		if (p.revents & (POLLHUP | POLLERR))
			return 0;
		if (!(p.revents & POLLIN))
			continue;
		memset(&req, 0, sizeof(req));
		if (ioctl(fd, SECCOMP_IOCTL_NOTIF_RECV, &req) < 0) {
			if (errno == EINTR || errno == ENOENT)
				continue;
			die("SECCOMP_IOCTL_NOTIF_RECV");
		}
		memset(&resp, 0, sizeof(resp));
		resp.id = req.id;
		resp.error = answer ? -answer : 0;
		resp.val = 0;
		calls = fopen(calls_path, "a");
		if (calls) {
			fprintf(calls, "%d\n", req.data.nr);
			fclose(calls);
		}
		if (ioctl(fd, SECCOMP_IOCTL_NOTIF_SEND, &resp) < 0 && errno != ENOENT)
			die("SECCOMP_IOCTL_NOTIF_SEND");
	}
}
