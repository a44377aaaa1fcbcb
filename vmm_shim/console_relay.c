#include "vmm_shim/console_relay.h"

#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <sys/socket.h>
#include <unistd.h>

#define CHUNK 16384

/* Bytes read from a host fd that the guest has not taken yet. */
struct pending {
	uint8_t buf[CHUNK];
	size_t off, len;
};

struct relay_state {
	struct console_relay *r;
	struct pending in[2]; /* [0]: the exec client's, [1]: stdin's */
	int conn;	      /* the exec client, or -1 */
	bool conn_sent;	      /* it gave the guest at least one byte */
	bool await_guest;     /* no next client until the guest closed the port ... */
	unsigned closes_at;   /* ... i.e. its close count passes this */
	bool stdin_open, stdin_eof;
};

/* Hand pending input to port p, as much as the guest takes now (dropped if the queue broke). */
static void deliver(struct relay_state *s, unsigned p, struct pending *in)
{
	long n;

	if (in->off == in->len)
		return;
	n = virtio_console_input(s->r->con, p, in->buf + in->off, in->len - in->off);
	if (n < 0) {
		in->off = in->len = 0;
		return;
	}
	in->off += (size_t)n;
	if (p == RELAY_PORT_CTL && n > 0)
		s->conn_sent = true;
	if (in->off == in->len)
		in->off = in->len = 0;
}

static void client_gone(struct relay_state *s)
{
	struct virtio_console *c = s->r->con;

	virtio_console_set_out(c, RELAY_PORT_CTL, -1);
	virtio_console_set_host_open(c, RELAY_PORT_CTL, false);
	if (s->conn_sent) {
		/* the guest has to see this client's end before the next one's bytes */
		virtio_console_guest_open(c, RELAY_PORT_CTL, &s->closes_at);
		s->await_guest = true;
	}
	s->in[0].off = s->in[0].len = 0;
	close(s->conn);
	s->conn = -1;
}

static void client_new(struct relay_state *s)
{
	int fd = accept4(s->r->listen_fd, NULL, NULL, SOCK_CLOEXEC);

	if (fd < 0)
		return;
	s->conn = fd;
	s->conn_sent = false;
	virtio_console_set_out(s->r->con, RELAY_PORT_CTL, fd);
	virtio_console_set_host_open(s->r->con, RELAY_PORT_CTL, true);
}

/* Read what fd has into in; false at end-of-file or on an error. */
static bool fill(int fd, struct pending *in)
{
	ssize_t n = read(fd, in->buf, sizeof(in->buf));

	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return true;
	if (n <= 0)
		return false;
	in->off = 0;
	in->len = (size_t)n;
	return true;
}

static void start(struct relay_state *s)
{
	struct console_relay *r = s->r;

	s->conn = -1;
	if (!r->stdio)
		return;
	s->stdin_open = r->stdio_fd[0] >= 0;
	virtio_console_set_out(r->con, RELAY_PORT_STDOUT, r->stdio_fd[1]);
	virtio_console_set_out(r->con, RELAY_PORT_STDERR, r->stdio_fd[2]);
	virtio_console_set_host_open(r->con, RELAY_PORT_STDOUT, true);
	virtio_console_set_host_open(r->con, RELAY_PORT_STDERR, true);
	virtio_console_set_host_open(r->con, RELAY_PORT_STDIN, s->stdin_open);
}

void *console_relay_run(void *arg)
{
	struct relay_state s = {.r = arg};
	struct console_relay *r = s.r;
	struct virtio_console *c = r->con;

	start(&s);
	for (;;) {
		struct pollfd pf[8];
		int n = 0, i_stdin = -1, i_listen = -1, i_conn = -1;
		bool held[RELAY_PORTS] = {false};
		unsigned closes;
		bool ctl_open = virtio_console_guest_open(c, RELAY_PORT_CTL, &closes);

		deliver(&s, RELAY_PORT_CTL, &s.in[0]);
		if (r->stdio) {
			deliver(&s, RELAY_PORT_STDIN, &s.in[1]);
			if (s.stdin_eof && s.in[1].len == 0) {
				/* after the last byte: the guest reads end-of-file */
				virtio_console_set_host_open(c, RELAY_PORT_STDIN, false);
				s.stdin_eof = false;
			}
		}
		for (unsigned p = 0; p < c->n_ports; p++)
			held[p] = virtio_console_transmit(c, p);
		if (s.await_guest && closes != s.closes_at)
			s.await_guest = false;

		pf[n++] = (struct pollfd){.fd = r->wake_fd, .events = POLLIN};
		pf[n++] = (struct pollfd){.fd = r->kick_fd, .events = POLLIN};
		if (s.stdin_open && s.in[1].len == 0 &&
		    virtio_console_guest_open(c, RELAY_PORT_STDIN, NULL)) {
			i_stdin = n;
			pf[n++] = (struct pollfd){.fd = r->stdio_fd[0], .events = POLLIN};
		}
		if (r->listen_fd >= 0 && s.conn < 0 && !s.await_guest && ctl_open) {
			i_listen = n;
			pf[n++] = (struct pollfd){.fd = r->listen_fd, .events = POLLIN};
		}
		if (s.conn >= 0) {
			i_conn = n;
			pf[n++] = (struct pollfd){
				.fd = s.conn,
				.events = (short)((s.in[0].len ? 0 : POLLIN) |
						  (held[RELAY_PORT_CTL] ? POLLOUT : 0))};
		}
		for (unsigned p = RELAY_PORT_STDOUT; r->stdio && p <= RELAY_PORT_STDERR; p++)
			if (held[p])
				pf[n++] = (struct pollfd){.fd = r->stdio_fd[p - RELAY_PORT_STDOUT + 1],
							  .events = POLLOUT};

		if (poll(pf, (nfds_t)n, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (pf[0].revents)
			break;
		if (pf[1].revents) {
			uint64_t v;

			(void)!read(r->kick_fd, &v, sizeof(v));
		}
		if (i_stdin >= 0 && pf[i_stdin].revents && !fill(r->stdio_fd[0], &s.in[1])) {
			s.stdin_open = false;
			s.stdin_eof = true;
		}
		if (i_listen >= 0 && pf[i_listen].revents)
			client_new(&s);
		if (i_conn >= 0 && pf[i_conn].revents) {
			short ev = pf[i_conn].revents;

			if (ev & (POLLIN | POLLHUP | POLLERR)) {
				/* a client that went while its last bytes wait for the guest: they
				 * are dropped (the guest resets anyway) */
				if (s.in[0].len || !fill(s.conn, &s.in[0]))
					client_gone(&s);
			}
		}
	}
	if (s.conn >= 0)
		close(s.conn);
	return NULL;
}
