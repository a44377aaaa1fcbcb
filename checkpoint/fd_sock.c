/* Sockets: TCP and UDP over IPv4/IPv6 (unbound, bound, UDP connected, TCP listening, with their
 * address, backlog and options) and unix socketpairs whose both ends are in the tree (stream
 * pairs with their queued bytes). The dumper takes a copy of the process's socket with
 * pidfd_getfd and asks it directly (getsockname/getsockopt/TCP_INFO), and sock_diag (in the
 * socket's network namespace) for what no socket option tells: a listener's backlog and a unix
 * socket's peer. Established TCP connections and everything else are refused. Restore makes the
 * sockets in the restorer (in the tree's network namespace) and hands them to the helpers. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <linux/sockios.h>
#include <linux/unix_diag.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#include "checkpoint/fdx.h"
#include "lib/util.h"

#ifndef SIOCGSKNS
#define SIOCGSKNS 0x894C
#endif

int ck_grab_fd(pid_t host_pid, int fd, struct werr **err)
{
	_cleanup_close_ int pidfd = (int)syscall(SYS_pidfd_open, host_pid, 0);
	int s;

	if (pidfd < 0)
		return werr_sys(err, errno, "pidfd_open %d", host_pid);
	s = (int)syscall(SYS_pidfd_getfd, pidfd, fd, 0);
	if (s < 0)
		return werr_sys(err, errno, "pidfd_getfd %d fd %d", host_pid, fd);
	return s;
}

/* A NETLINK_SOCK_DIAG socket in the network namespace of the socket sfd. */
static int diag_socket(int sfd, struct werr **err)
{
	_cleanup_close_ int ns = ioctl(sfd, SIOCGSKNS), self = -1;
	struct stat a, b;
	int nl;

	if (ns < 0)
		return werr_sys(err, errno, "SIOCGSKNS");
	self = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (self < 0)
		return werr_sys(err, errno, "open /proc/self/ns/net");
	if (fstat(ns, &a) == 0 && fstat(self, &b) == 0 && a.st_ino == b.st_ino &&
	    a.st_dev == b.st_dev)
		ns = (close(ns), -1);
	if (ns >= 0 && setns(ns, CLONE_NEWNET) < 0)
		return werr_sys(err, errno, "setns into the socket's network namespace");
	nl = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
	if (ns >= 0 && setns(self, CLONE_NEWNET) < 0) {
		/* Cannot happen with the rights that setns needed; never go on elsewhere. */
		abort();
	}
	if (nl < 0)
		return werr_sys(err, errno, "socket(NETLINK_SOCK_DIAG)");
	return nl;
}

/* Send req, call cb on every answer until done (or cb returns 1). */
static int diag_query(int nl, const void *req, size_t len,
		      int (*cb)(const struct nlmsghdr *h, void *arg), void *arg, struct werr **err)
{
	static char buf[32768];

	if (send(nl, req, len, 0) != (ssize_t)len)
		return werr_sys(err, errno, "sock_diag request");
	for (;;) {
		ssize_t n = recv(nl, buf, sizeof(buf), 0);

		if (n < 0)
			return werr_sys(err, errno, "sock_diag answer");
		for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, (size_t)n);
		     h = NLMSG_NEXT(h, n)) {
			if (h->nlmsg_type == NLMSG_DONE)
				return 0;
			if (h->nlmsg_type == NLMSG_ERROR) {
				const struct nlmsgerr *e = NLMSG_DATA(h);

				return werr_sys(err, -e->error, "sock_diag");
			}
			if (cb(h, arg))
				return 0;
		}
	}
}

struct want {
	uint64_t ino;
	uint64_t value;
	bool found;
};

static int listen_cb(const struct nlmsghdr *h, void *arg)
{
	const struct inet_diag_msg *m = NLMSG_DATA(h);
	struct want *w = arg;

	if (m->idiag_inode != w->ino)
		return 0;
	w->value = m->idiag_wqueue; /* sk_max_ack_backlog for a listener */
	w->found = true;
	return 0; /* read on to NLMSG_DONE */
}

static int listen_backlog(int sfd, int family, uint64_t ino, int *backlog, struct werr **err)
{
	_cleanup_close_ int nl = diag_socket(sfd, err);
	struct {
		struct nlmsghdr h;
		struct inet_diag_req_v2 r;
	} req = {
		.h = {sizeof(req), SOCK_DIAG_BY_FAMILY, NLM_F_REQUEST | NLM_F_DUMP, 1, 0},
		.r = {.sdiag_family = (uint8_t)family,
		      .sdiag_protocol = IPPROTO_TCP,
		      .idiag_states = 1 << TCP_LISTEN},
	};
	struct want w = {.ino = ino};

	if (nl < 0 || diag_query(nl, &req, sizeof(req), listen_cb, &w, err) < 0)
		return -EIO;
	*backlog = w.found ? (int)w.value : SOMAXCONN;
	return 0;
}

static int peer_cb(const struct nlmsghdr *h, void *arg)
{
	const struct unix_diag_msg *m = NLMSG_DATA(h);
	struct want *w = arg;
	int len = (int)(h->nlmsg_len - NLMSG_LENGTH(sizeof(*m)));

	if (m->udiag_ino != w->ino)
		return 1;
	w->found = true;
	for (struct rtattr *a = (struct rtattr *)(m + 1); RTA_OK(a, len); a = RTA_NEXT(a, len))
		if (a->rta_type == UNIX_DIAG_PEER)
			w->value = *(uint32_t *)RTA_DATA(a);
	return 1; /* an exact query: one answer, no NLMSG_DONE */
}

static int unix_peer(int sfd, uint64_t ino, uint64_t *peer, struct werr **err)
{
	_cleanup_close_ int nl = diag_socket(sfd, err);
	struct {
		struct nlmsghdr h;
		struct unix_diag_req r;
	} req = {
		.h = {sizeof(req), SOCK_DIAG_BY_FAMILY, NLM_F_REQUEST, 1, 0},
		.r = {.sdiag_family = AF_UNIX,
		      .udiag_states = ~0U,
		      .udiag_ino = (uint32_t)ino,
		      .udiag_show = UDIAG_SHOW_PEER,
		      .udiag_cookie = {~0U, ~0U}},
	};
	struct want w = {.ino = ino};

	if (nl < 0 || diag_query(nl, &req, sizeof(req), peer_cb, &w, err) < 0)
		return -EIO;
	*peer = w.value;
	return 0;
}

static bool opt_on(int s, int level, int name)
{
	int v = 0;
	socklen_t l = sizeof(v);

	return getsockopt(s, level, name, &v, &l) == 0 && v != 0;
}

static int sockopt(int s, int name)
{
	int v = -1;
	socklen_t l = sizeof(v);

	getsockopt(s, SOL_SOCKET, name, &v, &l);
	return v;
}

static void addr_str(const struct sockaddr_storage *ss, char *buf, size_t size, int *port)
{
	if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)ss;

		inet_ntop(AF_INET6, &a->sin6_addr, buf, (socklen_t)size);
		*port = ntohs(a->sin6_port);
	} else {
		const struct sockaddr_in *a = (const struct sockaddr_in *)ss;

		inet_ntop(AF_INET, &a->sin_addr, buf, (socklen_t)size);
		*port = ntohs(a->sin_port);
	}
}

static int collect_inet(int s, const struct ck_proc *p, int fd, struct ck_sock *k,
			struct werr **err)
{
	struct sockaddr_storage ss = {0}, ps = {0};
	socklen_t l = sizeof(ss), pl = sizeof(ps);

	if (k->protocol != IPPROTO_TCP && k->protocol != IPPROTO_UDP)
		return werr_set(err, ENOTSUP,
				"process %d (%s) fd %d: an IP socket of protocol %d cannot be "
				"checkpointed (TCP and UDP only)",
				p->pid, p->comm, fd, k->protocol);
	if (getsockname(s, (struct sockaddr *)&ss, &l) < 0)
		return werr_sys(err, errno, "process %d fd %d: getsockname", p->pid, fd);
	addr_str(&ss, k->addr, sizeof(k->addr), &k->port);
	k->state = k->port ? CK_SK_BOUND : CK_SK_UNBOUND;
	k->reuseaddr = opt_on(s, SOL_SOCKET, SO_REUSEADDR);
	k->reuseport = opt_on(s, SOL_SOCKET, SO_REUSEPORT);
	k->keepalive = opt_on(s, SOL_SOCKET, SO_KEEPALIVE);
	k->broadcast = opt_on(s, SOL_SOCKET, SO_BROADCAST);
	k->v6only = k->family == AF_INET6 && opt_on(s, IPPROTO_IPV6, IPV6_V6ONLY);
	if (k->protocol == IPPROTO_UDP) {
		if (getpeername(s, (struct sockaddr *)&ps, &pl) == 0)
			addr_str(&ps, k->peer_addr, sizeof(k->peer_addr), &k->peer_port);
		return 0;
	}
	k->nodelay = opt_on(s, IPPROTO_TCP, TCP_NODELAY);
	{
		struct tcp_info ti = {0};
		socklen_t tl = sizeof(ti);

		if (getsockopt(s, IPPROTO_TCP, TCP_INFO, &ti, &tl) < 0)
			return werr_sys(err, errno, "process %d fd %d: TCP_INFO", p->pid, fd);
		if (ti.tcpi_state == TCP_LISTEN) {
			k->state = CK_SK_LISTEN;
			return listen_backlog(s, k->family, k->ino, &k->backlog, err);
		}
		if (ti.tcpi_state == TCP_CLOSE)
			return 0;
		if (getpeername(s, (struct sockaddr *)&ps, &pl) == 0)
			addr_str(&ps, k->peer_addr, sizeof(k->peer_addr), &k->peer_port);
		return werr_set(err, ENOTSUP,
				"process %d (%s) fd %d: %s TCP connection %s:%d -> %s:%d "
				"(socket:[%llu]) cannot be checkpointed",
				p->pid, p->comm, fd,
				ti.tcpi_state == TCP_ESTABLISHED ? "an established" : "a", k->addr,
				k->port, k->peer_addr, k->peer_port, (unsigned long long)k->ino);
	}
}

static int collect_unix(int s, const struct ck_proc *p, int fd, struct ck_sock *k,
			struct werr **err)
{
	struct sockaddr_un sa = {0};
	socklen_t l = sizeof(sa);
	int queued = 0;

	if (getsockname(s, (struct sockaddr *)&sa, &l) < 0)
		return werr_sys(err, errno, "process %d fd %d: getsockname", p->pid, fd);
	if (l > sizeof(sa_family_t))
		return werr_set(err, ENOTSUP,
				"process %d (%s) fd %d: a named unix socket (%s%s) cannot be "
				"checkpointed (socketpairs only)",
				p->pid, p->comm, fd, sa.sun_path[0] ? "" : "@",
				sa.sun_path[0] ? sa.sun_path : sa.sun_path + 1);
	if (unix_peer(s, k->ino, &k->peer_ino, err) < 0)
		return werr_wrap(err, "process %d fd %d", p->pid, fd);
	if (!k->peer_ino)
		return werr_set(err, ENOTSUP,
				"process %d (%s) fd %d: an unconnected unix socket "
				"(socket:[%llu]) cannot be checkpointed",
				p->pid, p->comm, fd, (unsigned long long)k->ino);
	k->state = CK_SK_PAIR;
	if (ioctl(s, SIOCINQ, &queued) < 0)
		return werr_sys(err, errno, "process %d fd %d: SIOCINQ", p->pid, fd);
	if (queued > 0 && k->type != SOCK_STREAM)
		return werr_set(err, ENOTSUP,
				"process %d (%s) fd %d: a unix datagram/seqpacket socket with "
				"queued data cannot be checkpointed",
				p->pid, p->comm, fd);
	k->queued = (uint64_t)queued;
	return 0;
}

int ck_sock_collect(pid_t host_pid, const struct ck_proc *p, int fd, uint64_t ino, struct ck_fd *f,
		    struct werr **err)
{
	_cleanup_close_ int s = ck_grab_fd(host_pid, fd, err);
	struct ck_sock *k = &f->x->sk;

	if (s < 0)
		return werr_wrap(err, "process %d (%s) fd %d", p->pid, p->comm, fd);
	f->kind = CK_FD_SOCK;
	k->ino = ino;
	k->family = sockopt(s, SO_DOMAIN);
	k->type = sockopt(s, SO_TYPE);
	k->protocol = sockopt(s, SO_PROTOCOL);
	if (k->family == AF_INET || k->family == AF_INET6)
		return collect_inet(s, p, fd, k, err);
	if (k->family == AF_UNIX)
		return collect_unix(s, p, fd, k, err);
	return werr_set(err, ENOTSUP,
			"process %d (%s) fd %d: a socket of family %d (socket:[%llu]) cannot be "
			"checkpointed (TCP, UDP and unix socketpairs only)",
			p->pid, p->comm, fd, k->family, (unsigned long long)ino);
}

static const struct ck_fd *find_sock(const struct ck_proc *procs, size_t n, uint64_t ino,
				     size_t *proc)
{
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < procs[i].nfds; j++)
			if (procs[i].fds[j].kind == CK_FD_SOCK &&
			    procs[i].fds[j].x->sk.ino == ino) {
				if (proc)
					*proc = i;
				return &procs[i].fds[j];
			}
	return NULL;
}

/* The bytes queued at a stream end, peeked (not consumed); fds in flight are refused. */
static int save_queue(int dirfd, const struct ck_proc *p, const struct ck_fd *f, const char *name,
		      struct werr **err)
{
	_cleanup_close_ int s = ck_grab_fd(p->host_pid, f->fd, err), out = -1;
	_cleanup_free_ char *buf = xmalloc(f->x->sk.queued);
	char ctl[CMSG_SPACE(sizeof(int) * 16)];
	struct iovec iov = {buf, f->x->sk.queued};
	struct msghdr mh = {.msg_iov = &iov,
			    .msg_iovlen = 1,
			    .msg_control = ctl,
			    .msg_controllen = sizeof(ctl)};
	ssize_t got;

	if (s < 0)
		return -EIO;
	got = recvmsg(s, &mh, MSG_PEEK | MSG_DONTWAIT);
	if (got < 0)
		return werr_sys(err, errno, "peek the queue of socket:[%llu]",
				(unsigned long long)f->x->sk.ino);
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c))
		if (c->cmsg_type == SCM_RIGHTS) {
			int *fds = (int *)CMSG_DATA(c);

			for (size_t i = 0; i < (c->cmsg_len - CMSG_LEN(0)) / sizeof(int); i++)
				close(fds[i]);
			return werr_set(err, ENOTSUP,
					"process %d (%s) fd %d: file descriptors in flight in a "
					"unix socket cannot be checkpointed",
					p->pid, p->comm, f->fd);
		}
	if ((uint64_t)got != f->x->sk.queued || (mh.msg_flags & MSG_CTRUNC))
		return werr_set(err, EIO, "process %d fd %d: peeked %zd of %llu queued bytes",
				p->pid, f->fd, got, (unsigned long long)f->x->sk.queued);
	out = openat(dirfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (out < 0 || write_all(out, buf, (size_t)got) < 0)
		return werr_sys(err, errno, "write %s", name);
	return 0;
}

int ck_sock_write(int dirfd, struct ck_proc *procs, size_t n, struct ck_inventory *inv,
		  struct werr **err)
{
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < procs[i].nfds; j++) {
			const struct ck_fd *f = &procs[i].fds[j];
			char name[64];

			if (f->kind != CK_FD_SOCK || f->x->sk.state != CK_SK_PAIR)
				continue;
			if (!find_sock(procs, n, f->x->sk.peer_ino, NULL))
				return werr_set(err, ENOTSUP,
						"process %d (%s) fd %d: a unix socket whose peer "
						"(socket:[%llu]) is outside the tree cannot be "
						"checkpointed",
						procs[i].pid, procs[i].comm, f->fd,
						(unsigned long long)f->x->sk.peer_ino);
			if (!f->x->sk.queued)
				continue;
			snprintf(name, sizeof(name), "sk-%llu.img",
				 (unsigned long long)f->x->sk.ino);
			if (ck_inventory_has(inv, name))
				continue;
			if (save_queue(dirfd, &procs[i], f, name, err) < 0)
				return -EIO;
			ck_inventory_add(inv, xstrdup(name), NULL);
		}
	return 0;
}

static int sock_addr(int family, const char *addr, int port, struct sockaddr_storage *ss,
		     socklen_t *len)
{
	memset(ss, 0, sizeof(*ss));
	if (family == AF_INET6) {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)ss;

		a->sin6_family = AF_INET6;
		a->sin6_port = htons((uint16_t)port);
		*len = sizeof(*a);
		return inet_pton(AF_INET6, addr, &a->sin6_addr) == 1 ? 0 : -1;
	}
	{
		struct sockaddr_in *a = (struct sockaddr_in *)ss;

		a->sin_family = AF_INET;
		a->sin_port = htons((uint16_t)port);
		*len = sizeof(*a);
		return inet_pton(AF_INET, addr, &a->sin_addr) == 1 ? 0 : -1;
	}
}

static int set_on(int s, int level, int name, bool on)
{
	int v = 1;

	return on ? setsockopt(s, level, name, &v, sizeof(v)) : 0;
}

static int open_inet(const struct ck_sock *k, struct werr **err)
{
	_cleanup_close_ int s = socket(k->family, k->type | SOCK_CLOEXEC, k->protocol);
	struct sockaddr_storage ss;
	socklen_t len;

	if (s < 0)
		return werr_sys(err, errno, "socket(%d, %d, %d)", k->family, k->type, k->protocol);
	if (set_on(s, SOL_SOCKET, SO_REUSEADDR, k->reuseaddr) < 0 ||
	    set_on(s, SOL_SOCKET, SO_REUSEPORT, k->reuseport) < 0 ||
	    set_on(s, SOL_SOCKET, SO_KEEPALIVE, k->keepalive) < 0 ||
	    set_on(s, SOL_SOCKET, SO_BROADCAST, k->broadcast) < 0 ||
	    (k->family == AF_INET6 && set_on(s, IPPROTO_IPV6, IPV6_V6ONLY, k->v6only) < 0) ||
	    (k->protocol == IPPROTO_TCP && set_on(s, IPPROTO_TCP, TCP_NODELAY, k->nodelay) < 0))
		return werr_sys(err, errno, "setsockopt");
	if (k->state == CK_SK_UNBOUND)
		return steal_fd(s);
	if (sock_addr(k->family, k->addr, k->port, &ss, &len) < 0)
		return werr_set(err, EINVAL, "bad address \"%s\"", k->addr);
	if (bind(s, (struct sockaddr *)&ss, len) < 0)
		return werr_sys(err, errno, "bind %s port %d", k->addr, k->port);
	if (k->state == CK_SK_LISTEN && listen(s, k->backlog) < 0)
		return werr_sys(err, errno, "listen on %s port %d", k->addr, k->port);
	if (k->peer_port) {
		if (sock_addr(k->family, k->peer_addr, k->peer_port, &ss, &len) < 0)
			return werr_set(err, EINVAL, "bad address \"%s\"", k->peer_addr);
		if (connect(s, (struct sockaddr *)&ss, len) < 0)
			return werr_sys(err, errno, "connect to %s port %d", k->peer_addr,
					k->peer_port);
	}
	return steal_fd(s);
}

/* Put back the bytes that end `f` had queued for reading by writing them into its peer w. */
static int refill(int dirfd, const struct ck_fd *f, int w, struct werr **err)
{
	_cleanup_free_ char *name = NULL, *data = NULL;
	size_t len = 0;

	if (!f || !f->x->sk.queued)
		return 0;
	name = xasprintf("sk-%llu.img", (unsigned long long)f->x->sk.ino);
	if (read_file_at(dirfd, name, &data, &len, err) < 0)
		return -EIO;
	if (len && send(w, data, len, MSG_DONTWAIT | MSG_NOSIGNAL) != (ssize_t)len)
		return werr_sys(err, errno ? errno : EIO, "refill socket:[%llu]",
				(unsigned long long)f->x->sk.ino);
	return 0;
}

int ck_sock_open(int dirfd, const struct ck_proc *procs, size_t n, const struct ck_fd *f,
		 uint32_t *other_id, int *other, struct werr **err)
{
	const struct ck_sock *k = &f->x->sk;
	const struct ck_fd *peer;
	int sv[2];

	if (k->family != AF_UNIX) {
		int s = open_inet(k, err);

		return s < 0 ? werr_wrap(err, "socket:[%llu]", (unsigned long long)k->ino) : s;
	}
	peer = find_sock(procs, n, k->peer_ino, NULL);
	if (!peer)
		return werr_set(err, EINVAL, "socket:[%llu]: its peer is not in the image",
				(unsigned long long)k->ino);
	if (socketpair(AF_UNIX, k->type | SOCK_CLOEXEC, 0, sv) < 0)
		return werr_sys(err, errno, "socketpair");
	if (refill(dirfd, f, sv[1], err) < 0 || refill(dirfd, peer, sv[0], err) < 0) {
		close(sv[0]);
		close(sv[1]);
		return -EIO;
	}
	*other_id = peer->file_id;
	*other = sv[1];
	return sv[0];
}
