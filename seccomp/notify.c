/* The runtime-spec seccomp listener hand-off: one connection, the container process state as
 * JSON with the listener fd attached to the first sendmsg, then close. */
#include "seccomp/seccomp.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "lib/util.h"

static int send_with_fd(int sock, const char *buf, size_t len, int fd)
{
	char control[CMSG_SPACE(sizeof(int))];
	struct iovec iov = {.iov_base = (void *)buf, .iov_len = len};
	struct msghdr msg = {
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = control,
		.msg_controllen = sizeof(control),
	};
	struct cmsghdr *cm;
	ssize_t n;

	memset(control, 0, sizeof(control));
	cm = CMSG_FIRSTHDR(&msg);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	do
		n = sendmsg(sock, &msg, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	return n < 0 ? -errno : (int)n;
}

int seccomp_notify_send(const char *listener_path, int notify_fd, const char *state_json,
			struct werr **err)
{
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	_cleanup_close_ int sock = -1;
	size_t len = strlen(state_json);
	int n;

	if (strlen(listener_path) >= sizeof(addr.sun_path))
		return werr_set(err, ENAMETOOLONG,
				"config.json: linux.seccomp.listenerPath: %s is too long for a unix "
				"socket",
				listener_path);
	strcpy(addr.sun_path, listener_path);
	sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (sock < 0)
		return werr_sys(err, errno, "seccomp listener: socket");
	if (connect(sock, (struct sockaddr *)&addr, sizeof(addr)) < 0)
		return werr_sys(err, errno, "seccomp listener: connect to %s (linux.seccomp."
				"listenerPath)", listener_path);
	/* The fd travels with the first byte(s); the rest of the JSON, if the kernel took only
	 * part of it, follows without fds as the spec allows. */
	n = send_with_fd(sock, state_json, len, notify_fd);
	if (n < 0)
		return werr_sys(err, -n, "seccomp listener: send the state to %s", listener_path);
	if ((size_t)n < len && write_all(sock, state_json + n, len - (size_t)n) < 0)
		return werr_sys(err, errno, "seccomp listener: send the state to %s",
				listener_path);
	return 0;
}
