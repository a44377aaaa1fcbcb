/* fd kinds beyond files, devices and pipes: eventfd (counter, semaphore flag), epoll (targets
 * from fdinfo), FIFOs (named pipes, with their queued bytes like pipes) and deleted files (their
 * contents saved, restored as an unlinked file); the JSON of every extra kind (sockets are in
 * fd_sock.c). */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <linux/kcmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "checkpoint/fdx.h"
#include "lib/jgen.h"
#include "lib/util.h"

static int collect_eventfd(const char *info, struct ck_fd *f)
{
	const char *c = strstr(info, "eventfd-count:");
	const char *s = strstr(info, "eventfd-semaphore:");

	if (!c)
		return -EINVAL;
	f->kind = CK_FD_EVENTFD;
	f->x->count = strtoull(c + 14, NULL, 16);
	f->x->semaphore = s && strtol(s + 18, NULL, 10) != 0;
	return 0;
}

/* "tfd: %8d events: %8x data: %16llx pos:..." lines; each target must still be the file the
 * process has at that number (KCMP_EPOLL_TFD), since restore registers it by number. */
static int collect_epoll(pid_t host_pid, const struct ck_proc *p, int fd, const char *info,
			 struct ck_fd *f, struct werr **err)
{
	f->kind = CK_FD_EPOLL;
	for (const char *l = strstr(info, "tfd:"); l; l = strstr(l + 4, "tfd:")) {
		struct ck_epoll_tfd t;
		struct {
			uint32_t efd, tfd, toff;
		} slot;
		unsigned long long data;

		if (sscanf(l, "tfd: %d events: %x data: %llx", &t.tfd, &t.events, &data) != 3)
			return werr_set(err, EINVAL, "process %d fd %d: cannot parse epoll fdinfo",
					p->pid, fd);
		t.data = data;
		slot.efd = (uint32_t)fd;
		slot.tfd = (uint32_t)t.tfd;
		slot.toff = 0;
		if (syscall(SYS_kcmp, host_pid, host_pid, KCMP_EPOLL_TFD, t.tfd, &slot) != 0)
			return werr_set(err, ENOTSUP,
					"process %d (%s) fd %d: epoll target fd %d is closed or "
					"another file now: cannot be checkpointed",
					p->pid, p->comm, fd, t.tfd);
		f->x->tfds = xrealloc(f->x->tfds, (f->x->ntfds + 1) * sizeof(t));
		f->x->tfds[f->x->ntfds++] = t;
	}
	return 0;
}

int ck_fdx_collect(pid_t host_pid, const struct ck_proc *p, int fd, const char *link,
		   const char *fdinfo, struct ck_fd *f, struct werr **err)
{
	char path[64];
	struct stat sb;
	unsigned long long ino;
	size_t l = strlen(link);
	int r = -ENOENT;

	snprintf(path, sizeof(path), "/proc/%d/fd/%d", host_pid, fd);
	if (stat(path, &sb) < 0)
		return werr_sys(err, errno, "stat %s", path);
	f->x = xcalloc(1, sizeof(*f->x));
	if (strcmp(link, "anon_inode:[eventfd]") == 0) {
		r = collect_eventfd(fdinfo, f);
		if (r < 0)
			r = werr_set(err, EINVAL, "process %d fd %d: no eventfd-count in fdinfo",
				     p->pid, fd);
	} else if (strcmp(link, "anon_inode:[eventpoll]") == 0) {
		r = collect_epoll(host_pid, p, fd, fdinfo, f, err);
	} else if (sscanf(link, "socket:[%llu]", &ino) == 1) {
		r = ck_sock_collect(host_pid, p, fd, ino, f, err);
	} else if (link[0] == '/' && S_ISFIFO(sb.st_mode)) {
		f->kind = CK_FD_FIFO;
		f->path = xstrdup(link);
		f->pipe_id = (uint64_t)sb.st_ino;
		r = 0;
	} else if (link[0] == '/' && S_ISREG(sb.st_mode) && l > 10 &&
		   strcmp(link + l - 10, " (deleted)") == 0) {
		f->kind = CK_FD_DELETED;
		f->path = xasprintf("%.*s", (int)(l - 10), link);
		f->x->mode = sb.st_mode & 07777;
		f->x->size = (uint64_t)sb.st_size;
		r = 0;
	}
	if (r < 0) {
		ck_fdx_free(f->x);
		f->x = NULL;
	}
	return r;
}

/* The bytes queued in a FIFO (without consuming them, like ck_write_pipe), or a deleted file's
 * contents, into name. */
static int copy_fd_data(int dirfd, pid_t host_pid, int fd, bool fifo, const char *name,
			struct werr **err)
{
	_cleanup_close_ int in = -1, tr = -1, tw = -1, out = -1;
	char path[64];
	int tmp[2];

	snprintf(path, sizeof(path), "/proc/%d/fd/%d", host_pid, fd);
	in = open(path, O_RDONLY | O_CLOEXEC | (fifo ? O_NONBLOCK : 0));
	if (in < 0)
		return werr_sys(err, errno, "open %s", path);
	out = openat(dirfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (out < 0)
		return werr_sys(err, errno, "create %s", name);
	if (fifo) {
		int size = fcntl(in, F_GETPIPE_SZ);

		if (pipe2(tmp, O_CLOEXEC | O_NONBLOCK) < 0)
			return werr_sys(err, errno, "pipe");
		tr = tmp[0];
		tw = tmp[1];
		if (size > 0)
			fcntl(tw, F_SETPIPE_SZ, size);
		if (tee(in, tw, (size_t)1 << 30, SPLICE_F_NONBLOCK) < 0 && errno != EAGAIN)
			return werr_sys(err, errno, "tee from the FIFO %s", path);
		close(in);
		in = steal_fd(tr);
	}
	for (;;) {
		char buf[65536];
		ssize_t n = read(in, buf, sizeof(buf));

		if (n < 0 && errno == EAGAIN)
			break;
		if (n < 0)
			return werr_sys(err, errno, "read %s", path);
		if (n == 0)
			break;
		if (write_all(out, buf, (size_t)n) < 0)
			return werr_sys(err, errno, "write %s", name);
	}
	return 0;
}

int ck_fdx_write(int dirfd, struct ck_proc *procs, size_t n, struct ck_inventory *inv,
		 struct werr **err)
{
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < procs[i].nfds; j++) {
			struct ck_fd *f = &procs[i].fds[j];
			char name[64];

			if (f->kind == CK_FD_FIFO)
				snprintf(name, sizeof(name), "fifo-%llu.img",
					 (unsigned long long)f->pipe_id);
			else if (f->kind == CK_FD_DELETED)
				snprintf(name, sizeof(name), "deleted-%u.img", f->file_id);
			else
				continue;
			if (ck_inventory_has(inv, name))
				continue;
			if (copy_fd_data(dirfd, procs[i].host_pid, f->fd, f->kind == CK_FD_FIFO,
					 name, err) < 0)
				return werr_wrap(err, "process %d fd %d", procs[i].pid, f->fd);
			ck_inventory_add(inv, xstrdup(name), NULL);
		}
	if (ck_tty_tree(procs, n, err) < 0)
		return -EIO;
	return ck_sock_write(dirfd, procs, n, inv, err);
}

/* A FIFO opened again with its queued bytes: a read-write keeper opens it without blocking and
 * refills it; the description itself is opened non-blocking (the helper sets the saved flags). */
static int open_fifo(int dirfd, const struct ck_fd *f, struct werr **err)
{
	_cleanup_free_ char *name = xasprintf("fifo-%llu.img", (unsigned long long)f->pipe_id);
	_cleanup_free_ char *data = NULL;
	_cleanup_close_ int keep = open(f->path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
	size_t len = 0;
	int fd;

	if (keep < 0)
		return werr_sys(err, errno, "open FIFO %s", f->path);
	if (read_file_at(dirfd, name, &data, &len, err) < 0)
		return -EIO;
	fd = open(f->path, (f->flags & ~(O_CREAT | O_EXCL | O_TRUNC)) | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return werr_sys(err, errno, "open FIFO %s", f->path);
	/* Only once: a FIFO shared by several descriptions is refilled by the first. */
	if (len && fcntl(keep, F_GETPIPE_SZ) > 0) {
		int queued = 0;

		if (ioctl(keep, FIONREAD, &queued) == 0 && queued == 0 &&
		    write_all(keep, data, len) < 0) {
			close(fd);
			return werr_sys(err, errno, "refill FIFO %s", f->path);
		}
	}
	return fd;
}

/* An unlinked file with the saved contents, in the directory the file was in (else /tmp). */
static int open_deleted(int dirfd, const struct ck_fd *f, struct werr **err)
{
	_cleanup_free_ char *name = xasprintf("deleted-%u.img", f->file_id);
	_cleanup_free_ char *data = NULL, *dir = xstrdup(f->path);
	_cleanup_close_ int tmp = -1;
	char proc[64];
	size_t len = 0;
	int fd;

	if (read_file_at(dirfd, name, &data, &len, err) < 0)
		return -EIO;
	tmp = open(dirname(dir), O_TMPFILE | O_RDWR | O_CLOEXEC, f->x->mode);
	if (tmp < 0)
		tmp = open("/tmp", O_TMPFILE | O_RDWR | O_CLOEXEC, f->x->mode);
	if (tmp < 0)
		return werr_sys(err, errno, "make an unlinked file for %s", f->path);
	if (write_all(tmp, data, len) < 0)
		return werr_sys(err, errno, "write the unlinked file for %s", f->path);
	if (fchmod(tmp, f->x->mode) < 0)
		return werr_sys(err, errno, "chmod the unlinked file for %s", f->path);
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", tmp);
	fd = open(proc, (f->flags & ~(O_CREAT | O_EXCL | O_TRUNC)) | O_CLOEXEC);
	if (fd < 0)
		return werr_sys(err, errno, "reopen the unlinked file for %s", f->path);
	if (lseek(fd, (off_t)f->pos, SEEK_SET) < 0) {
		close(fd);
		return werr_sys(err, errno, "seek the unlinked file for %s", f->path);
	}
	return fd;
}

int ck_fdx_open(int dirfd, const struct ck_proc *procs, size_t n, const struct ck_fd *f,
		uint32_t *other_id, int *other, struct werr **err)
{
	int fd = -1;

	*other_id = 0;
	*other = -1;
	switch (f->kind) {
	case CK_FD_EVENTFD:
		fd = eventfd(0, EFD_CLOEXEC | (f->x->semaphore ? EFD_SEMAPHORE : 0));
		if (fd < 0)
			return werr_sys(err, errno, "eventfd");
		if (f->x->count && write(fd, &f->x->count, 8) != 8) {
			close(fd);
			return werr_sys(err, errno, "eventfd: set the counter");
		}
		return fd;
	case CK_FD_EPOLL:
		fd = epoll_create1(EPOLL_CLOEXEC);
		return fd < 0 ? werr_sys(err, errno, "epoll_create1") : fd;
	case CK_FD_FIFO:
		return open_fifo(dirfd, f, err);
	case CK_FD_DELETED:
		return open_deleted(dirfd, f, err);
	case CK_FD_SOCK:
		return ck_sock_open(dirfd, procs, n, f, other_id, other, err);
	default:
		return werr_set(err, EINVAL, "fd %d: not an extra kind", f->fd);
	}
}

int ck_fdx_helper(const struct ck_proc *p)
{
	for (size_t i = 0; i < p->nfds; i++) {
		const struct ck_fd *f = &p->fds[i];

		if (f->kind != CK_FD_EPOLL)
			continue;
		for (size_t k = 0; k < f->x->ntfds; k++) {
			struct epoll_event ev = {.events = f->x->tfds[k].events,
						 .data.u64 = f->x->tfds[k].data};

			/* A description shared with a process set up before is filled already. */
			if (epoll_ctl(f->fd, EPOLL_CTL_ADD, f->x->tfds[k].tfd, &ev) < 0 &&
			    errno != EEXIST)
				return -1;
		}
	}
	return 0;
}

void ck_fdx_free(struct ck_fdx *x)
{
	if (!x)
		return;
	free(x->tfds);
	free(x);
}

/* ---- JSON ---- */

static const char *const sk_states[] = {"unbound", "bound", "listen", "pair"};

static void gen_sock(yajl_gen g, const struct ck_sock *s)
{
	jkint(g, "family", s->family);
	jkint(g, "type", s->type);
	jkint(g, "protocol", s->protocol);
	jstr(g, "state");
	jstr(g, sk_states[s->state]);
	jstr(g, "addr");
	jstr(g, s->addr);
	jkint(g, "port", s->port);
	jstr(g, "peer_addr");
	jstr(g, s->peer_addr);
	jkint(g, "peer_port", s->peer_port);
	jkint(g, "backlog", s->backlog);
	jkbool(g, "reuseaddr", s->reuseaddr);
	jkbool(g, "reuseport", s->reuseport);
	jkbool(g, "keepalive", s->keepalive);
	jkbool(g, "nodelay", s->nodelay);
	jkbool(g, "v6only", s->v6only);
	jkbool(g, "broadcast", s->broadcast);
	jkint(g, "sock_ino", (long long)s->ino);
	jkint(g, "peer_ino", (long long)s->peer_ino);
	jkint(g, "queued", (long long)s->queued);
}

static void gen_tty(yajl_gen g, const struct ck_tty *t)
{
	char cc[2 * CK_TTY_NCC + 1];

	for (int i = 0; i < CK_TTY_NCC; i++)
		snprintf(cc + 2 * i, 3, "%02x", t->cc[i]);
	jkint(g, "iflag", t->iflag);
	jkint(g, "oflag", t->oflag);
	jkint(g, "cflag", t->cflag);
	jkint(g, "lflag", t->lflag);
	jkint(g, "line", t->line);
	jstr(g, "cc");
	jstr(g, cc);
	jkint(g, "ispeed", t->ispeed);
	jkint(g, "ospeed", t->ospeed);
	jkint(g, "rows", t->rows);
	jkint(g, "cols", t->cols);
	jkint(g, "xpixel", t->xpixel);
	jkint(g, "ypixel", t->ypixel);
	jkint(g, "sid", t->sid);
	jkint(g, "pgrp", t->pgrp);
}

void ck_fdx_gen(yajl_gen g, const struct ck_fd *f)
{
	const struct ck_fdx *x = f->x;

	switch (f->kind) {
	case CK_FD_EVENTFD:
		jkhex(g, "count", x->count);
		jkbool(g, "semaphore", x->semaphore);
		break;
	case CK_FD_EPOLL:
		jstr(g, "targets");
		yajl_gen_array_open(g);
		for (size_t i = 0; i < x->ntfds; i++) {
			yajl_gen_map_open(g);
			jkint(g, "tfd", x->tfds[i].tfd);
			jkint(g, "events", x->tfds[i].events);
			jkhex(g, "data", x->tfds[i].data);
			yajl_gen_map_close(g);
		}
		yajl_gen_array_close(g);
		break;
	case CK_FD_FIFO:
		jstr(g, "path");
		jstr(g, f->path);
		jkint(g, "pipe_id", (long long)f->pipe_id);
		break;
	case CK_FD_DELETED:
		jstr(g, "path");
		jstr(g, f->path);
		jkint(g, "pos", (long long)f->pos);
		jkint(g, "mode", x->mode);
		jkint(g, "size", (long long)x->size);
		break;
	case CK_FD_SOCK:
		gen_sock(g, &x->sk);
		break;
	case CK_FD_TTY:
		gen_tty(g, &x->tty);
		break;
	default:
		break;
	}
}

static yajl_val get(yajl_val o, const char *key, yajl_type t)
{
	const char *path[] = {key, NULL};

	return yajl_tree_get(o, path, t);
}

static int pint(yajl_val o, const char *key, long long *v, struct werr **err)
{
	yajl_val x = get(o, key, yajl_t_number);

	if (!x || !YAJL_IS_INTEGER(x))
		return werr_set(err, EINVAL, "\"%s\": missing or not an integer", key);
	*v = YAJL_GET_INTEGER(x);
	return 0;
}

static int phex(yajl_val o, const char *key, uint64_t *v, struct werr **err)
{
	yajl_val x = get(o, key, yajl_t_string);
	const char *s = x ? YAJL_GET_STRING(x) : NULL;
	char *end;

	if (!s || strncmp(s, "0x", 2) != 0)
		return werr_set(err, EINVAL, "\"%s\": missing or not a \"0x...\" string", key);
	errno = 0;
	*v = strtoull(s + 2, &end, 16);
	if (*end || errno || end == s + 2)
		return werr_set(err, EINVAL, "\"%s\": not a \"0x...\" string", key);
	return 0;
}

static int pbool(yajl_val o, const char *key, bool *v, struct werr **err)
{
	yajl_val x = get(o, key, yajl_t_any);

	if (!x || !(YAJL_IS_TRUE(x) || YAJL_IS_FALSE(x)))
		return werr_set(err, EINVAL, "\"%s\": missing or not a boolean", key);
	*v = YAJL_IS_TRUE(x);
	return 0;
}

static int pstr(yajl_val o, const char *key, char *buf, size_t size, struct werr **err)
{
	yajl_val x = get(o, key, yajl_t_string);
	const char *v = x ? YAJL_GET_STRING(x) : NULL;

	if (!v || strlen(v) >= size)
		return werr_set(err, EINVAL, "\"%s\": missing, not a string or too long", key);
	snprintf(buf, size, "%s", v);
	return 0;
}

static int parse_sock(yajl_val o, struct ck_sock *s, struct werr **err)
{
	char state[16];
	long long v[8];

	if (pint(o, "family", &v[0], err) < 0 || pint(o, "type", &v[1], err) < 0 ||
	    pint(o, "protocol", &v[2], err) < 0 || pint(o, "port", &v[3], err) < 0 ||
	    pint(o, "peer_port", &v[4], err) < 0 || pint(o, "backlog", &v[5], err) < 0 ||
	    pint(o, "sock_ino", &v[6], err) < 0 || pint(o, "peer_ino", &v[7], err) < 0 ||
	    pstr(o, "state", state, sizeof(state), err) < 0 ||
	    pstr(o, "addr", s->addr, sizeof(s->addr), err) < 0 ||
	    pstr(o, "peer_addr", s->peer_addr, sizeof(s->peer_addr), err) < 0 ||
	    pbool(o, "reuseaddr", &s->reuseaddr, err) < 0 ||
	    pbool(o, "reuseport", &s->reuseport, err) < 0 ||
	    pbool(o, "keepalive", &s->keepalive, err) < 0 ||
	    pbool(o, "nodelay", &s->nodelay, err) < 0 || pbool(o, "v6only", &s->v6only, err) < 0 ||
	    pbool(o, "broadcast", &s->broadcast, err) < 0)
		return -EINVAL;
	s->family = (int)v[0];
	s->type = (int)v[1];
	s->protocol = (int)v[2];
	s->port = (int)v[3];
	s->peer_port = (int)v[4];
	s->backlog = (int)v[5];
	s->ino = (uint64_t)v[6];
	s->peer_ino = (uint64_t)v[7];
	if (pint(o, "queued", &v[0], err) < 0 || v[0] < 0)
		return -EINVAL;
	s->queued = (uint64_t)v[0];
	for (size_t i = 0; i < ARRAY_SIZE(sk_states); i++)
		if (strcmp(state, sk_states[i]) == 0) {
			s->state = (enum ck_sock_state)i;
			return 0;
		}
	return werr_set(err, EINVAL, "\"state\": unknown \"%s\"", state);
}

/* An integer field of the terminal, in [0, max]. */
static int tty_int(yajl_val o, const char *key, long long max, long long *v, struct werr **err)
{
	if (pint(o, key, v, err) < 0)
		return -EINVAL;
	if (*v < 0 || *v > max)
		return werr_set(err, EINVAL, "\"%s\": out of range", key);
	return 0;
}

static int parse_tty(yajl_val o, struct ck_tty *t, struct werr **err)
{
	static const char *const u32[] = {"iflag", "oflag", "cflag", "lflag", "ispeed", "ospeed"};
	static const char *const u16[] = {"rows", "cols", "xpixel", "ypixel"};
	uint32_t *u32f[] = {&t->iflag, &t->oflag, &t->cflag, &t->lflag, &t->ispeed, &t->ospeed};
	uint16_t *u16f[] = {&t->rows, &t->cols, &t->xpixel, &t->ypixel};
	char cc[2 * CK_TTY_NCC + 1];
	long long v;

	for (size_t i = 0; i < ARRAY_SIZE(u32); i++) {
		if (tty_int(o, u32[i], UINT32_MAX, &v, err) < 0)
			return -EINVAL;
		*u32f[i] = (uint32_t)v;
	}
	for (size_t i = 0; i < ARRAY_SIZE(u16); i++) {
		if (tty_int(o, u16[i], UINT16_MAX, &v, err) < 0)
			return -EINVAL;
		*u16f[i] = (uint16_t)v;
	}
	if (tty_int(o, "line", UINT8_MAX, &v, err) < 0)
		return -EINVAL;
	t->line = (uint8_t)v;
	if (tty_int(o, "sid", INT32_MAX, &v, err) < 0)
		return -EINVAL;
	t->sid = (pid_t)v;
	if (tty_int(o, "pgrp", INT32_MAX, &v, err) < 0)
		return -EINVAL;
	t->pgrp = (pid_t)v;
	if (pstr(o, "cc", cc, sizeof(cc), err) < 0)
		return -EINVAL;
	for (int i = 0; i < CK_TTY_NCC; i++) {
		unsigned b;

		if (sscanf(cc + 2 * i, "%2x", &b) != 1)
			return werr_set(err, EINVAL, "\"cc\": not %d hex bytes", CK_TTY_NCC);
		t->cc[i] = (uint8_t)b;
	}
	if (strlen(cc) != 2 * CK_TTY_NCC)
		return werr_set(err, EINVAL, "\"cc\": not %d hex bytes", CK_TTY_NCC);
	return 0;
}

static int parse_path(yajl_val o, struct ck_fd *f, struct werr **err)
{
	yajl_val x = get(o, "path", yajl_t_string);
	const char *v = x ? YAJL_GET_STRING(x) : NULL;

	if (!v || v[0] != '/')
		return werr_set(err, EINVAL, "\"path\": missing or not absolute");
	f->path = xstrdup(v);
	return 0;
}

int ck_fdx_parse(yajl_val o, struct ck_fd *f, struct werr **err)
{
	struct ck_fdx *x = f->x = xcalloc(1, sizeof(*f->x));
	yajl_val a;
	long long v;

	switch (f->kind) {
	case CK_FD_EVENTFD:
		return phex(o, "count", &x->count, err) < 0 ||
				       pbool(o, "semaphore", &x->semaphore, err) < 0
			       ? -EINVAL
			       : 0;
	case CK_FD_EPOLL:
		a = get(o, "targets", yajl_t_array);
		if (!a)
			return werr_set(err, EINVAL, "\"targets\": missing or not an array");
		x->tfds = xcalloc(a->u.array.len + 1, sizeof(*x->tfds));
		for (size_t i = 0; i < a->u.array.len; i++, x->ntfds++) {
			yajl_val t = a->u.array.values[i];
			long long tfd, ev;

			if (pint(t, "tfd", &tfd, err) < 0 || pint(t, "events", &ev, err) < 0 ||
			    phex(t, "data", &x->tfds[i].data, err) < 0 || tfd < 0)
				return werr_wrap(err, "epoll target %zu", i);
			x->tfds[i].tfd = (int)tfd;
			x->tfds[i].events = (uint32_t)ev;
		}
		return 0;
	case CK_FD_FIFO:
		if (parse_path(o, f, err) < 0 || pint(o, "pipe_id", &v, err) < 0)
			return -EINVAL;
		f->pipe_id = (uint64_t)v;
		return 0;
	case CK_FD_DELETED:
		if (parse_path(o, f, err) < 0 || pint(o, "pos", &v, err) < 0)
			return -EINVAL;
		f->pos = (uint64_t)v;
		if (pint(o, "mode", &v, err) < 0)
			return -EINVAL;
		x->mode = (unsigned)v & 07777;
		if (pint(o, "size", &v, err) < 0)
			return -EINVAL;
		x->size = (uint64_t)v;
		return 0;
	case CK_FD_SOCK:
		return parse_sock(o, &x->sk, err);
	case CK_FD_TTY:
		return parse_tty(o, &x->tty, err);
	default:
		return werr_set(err, EINVAL, "not an extra kind");
	}
}
