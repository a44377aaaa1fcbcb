/* ward exec into a VM-isolated container: the request goes over the container's control socket
 * (<state dir>/vm.sock, relayed by the VMM to the guest's virtio-console) to ward-init, which
 * runs the process in the guest; its stdout, stderr and exit status come back the same way
 * (framing: vmm_shim/guest/ward_ctl.h). */
#include "runtime/vm.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "lib/util.h"
#include "vmm_shim/guest/ward_ctl.h"

int vm_socket_listen(int state_dirfd, const char *name, struct werr **err)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	int fd;

	snprintf(a.sun_path, sizeof(a.sun_path), "/proc/self/fd/%d/%s", state_dirfd, name);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return werr_sys(err, errno, "micro-VM: socket %s", name);
	/* whoever can connect runs processes as any user in the guest (or takes its memory):
	 * root only, whatever the caller's umask (the state directory is 0711), and mode set
	 * before listen so that no connection gets in first */
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 ||
	    fchmodat(state_dirfd, name, 0600, 0) < 0 || listen(fd, 8) < 0) {
		int e = errno;

		close(fd);
		return werr_sys(err, e, "micro-VM: bind the socket %s in the state directory", name);
	}
	return fd;
}

int vm_control_listen(int state_dirfd, struct werr **err)
{
	return vm_socket_listen(state_dirfd, VM_CONTROL_SOCKET, err);
}

int vm_socket_connect(const char *root, const char *id, const char *name, const char *what,
		      struct werr **err)
{
	_cleanup_free_ char *dir = state_dir(root, id);
	_cleanup_close_ int dirfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	int fd;

	if (dirfd < 0)
		return werr_sys(err, errno, "open %s", dir);
	/* through the directory's fd: a state dir path can be longer than sun_path */
	snprintf(a.sun_path, sizeof(a.sun_path), "/proc/self/fd/%d/%s", dirfd, name);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return werr_sys(err, errno, "socket");
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		int e = errno;

		close(fd);
		return werr_sys(err, e, "connect to the micro-VM's %s socket %s/%s", what, dir,
				name);
	}
	return fd;
}

static int send_frame(int fd, char type, const void *p, size_t len)
{
	uint8_t hdr[WCTL_HDR];

	wctl_header(hdr, type, (uint32_t)len);
	if (write_all(fd, hdr, sizeof(hdr)) < 0 || (len && write_all(fd, p, len) < 0))
		return -errno;
	return 0;
}

/* cwd, uid, gid, argc, argv..., env... each NUL-terminated */
static char *exec_payload(const struct spec_process *p, size_t *len)
{
	size_t n = 0, cap = 256, argc = strv_len(p->args);
	char *buf = xmalloc(cap);
	char num[3][24];
	const char *fixed[4];

	snprintf(num[0], sizeof(num[0]), "%u", p->user.uid);
	snprintf(num[1], sizeof(num[1]), "%u", p->user.gid);
	snprintf(num[2], sizeof(num[2]), "%zu", argc);
	fixed[0] = p->cwd ? p->cwd : "/";
	fixed[1] = num[0];
	fixed[2] = num[1];
	fixed[3] = num[2];
	for (size_t i = 0; i < 4 + argc + strv_len(p->env); i++) {
		const char *s = i < 4	       ? fixed[i]
				: i < 4 + argc ? p->args[i - 4]
					       : p->env[i - 4 - argc];
		size_t l = strlen(s) + 1;

		while (n + l > cap)
			buf = xrealloc(buf, cap *= 2);
		memcpy(buf + n, s, l);
		n += l;
	}
	*len = n;
	return buf;
}

struct relay {
	uint8_t in[WCTL_HDR + WCTL_MAX_PAYLOAD];
	size_t have;
	bool done;
	int status;
};

/* Frames from the guest: output to our stdout/stderr, F to stderr, X ends it. */
static void guest_frames(struct relay *rl)
{
	uint32_t len;
	char type;
	long f;

	while (!rl->done && (f = wctl_frame(rl->in, rl->have, &type, &len)) > 0) {
		const uint8_t *p = rl->in + WCTL_HDR;
		char text[16];

		switch (type) {
		case 'O':
			write_all(STDOUT_FILENO, p, len);
			break;
		case 'R':
			write_all(STDERR_FILENO, p, len);
			break;
		case 'F':
			fprintf(stderr, "ward: exec in the micro-VM: %.*s\n", (int)len,
				(const char *)p);
			break;
		case 'X':
			snprintf(text, sizeof(text), "%.*s", (int)(len < 15 ? len : 15),
				 (const char *)p);
			rl->status = atoi(text);
			rl->done = true;
			break;
		}
		memmove(rl->in, rl->in + f, rl->have - (size_t)f);
		rl->have -= (size_t)f;
	}
}

int vm_exec(const char *root, const char *id, const struct spec_process *p, struct werr **err)
{
	static const int fwd[] = {SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2};
	_cleanup_close_ int sock = -1;
	_cleanup_close_ int sfd = -1;
	_cleanup_free_ char *payload = NULL;
	_cleanup_free_ struct relay *rl = xcalloc(1, sizeof(*rl));
	bool stdin_open = true;
	sigset_t mask, old;
	size_t len;
	int r;

	sock = vm_socket_connect(root, id, VM_CONTROL_SOCKET, "control", err);
	if (sock < 0)
		return sock;
	payload = exec_payload(p, &len);
	if (len > WCTL_MAX_PAYLOAD)
		return werr_set(err, E2BIG,
				"exec in the micro-VM: args and env take %zu bytes, at most %d",
				len, WCTL_MAX_PAYLOAD);
	r = send_frame(sock, 'E', payload, len);
	if (r < 0)
		return werr_sys(err, -r, "exec in the micro-VM: send the request");
	/* the signals a caller stops a process with go to the process in the guest */
	sigemptyset(&mask);
	for (size_t i = 0; i < ARRAY_SIZE(fwd); i++)
		sigaddset(&mask, fwd[i]);
	sigprocmask(SIG_BLOCK, &mask, &old);
	sfd = signalfd(-1, &mask, SFD_CLOEXEC);
	while (!rl->done) {
		struct pollfd pf[3] = {{.fd = sock, .events = POLLIN},
				       {.fd = sfd, .events = POLLIN},
				       {.fd = stdin_open ? STDIN_FILENO : -1, .events = POLLIN}};
		uint8_t buf[16384];
		ssize_t n;

		if (poll(pf, 3, -1) < 0) {
			if (errno == EINTR)
				continue;
			r = werr_sys(err, errno, "poll");
			break;
		}
		if (pf[1].revents & POLLIN) {
			struct signalfd_siginfo si;

			if (read(sfd, &si, sizeof(si)) == sizeof(si)) {
				uint8_t sig = (uint8_t)si.ssi_signo;

				send_frame(sock, 'K', &sig, 1);
			}
		}
		if (pf[2].revents) {
			n = read(STDIN_FILENO, buf, sizeof(buf));
			if (n > 0) {
				send_frame(sock, 'I', buf, (size_t)n);
			} else if (n == 0 || errno != EINTR) {
				send_frame(sock, 'C', NULL, 0);
				stdin_open = false;
			}
		}
		if (pf[0].revents) {
			n = read(sock, rl->in + rl->have, sizeof(rl->in) - rl->have);
			if (n <= 0) {
				r = werr_set(
					err, EPIPE,
					"exec in the micro-VM: the control channel closed before "
					"the process's exit status came (the VM stopped?)");
				break;
			}
			rl->have += (size_t)n;
			guest_frames(rl);
		}
	}
	sigprocmask(SIG_SETMASK, &old, NULL);
	return r < 0 ? r : rl->status;
}
