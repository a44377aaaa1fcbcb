/* The page server stream (see page_server.h and FORMAT.md): frames of a 24-byte header
 * (magic, type, name length, flags, payload length; little-endian) + name + payload. */
#include "checkpoint/page_server.h"

#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "checkpoint/inventory.h"
#include "checkpoint/sum.h"
#include "lib/util.h"

#define PS_MAGIC 0x31535057u /* "WPS1" */
enum { PS_HELLO = 1, PS_FILE = 2, PS_END = 3 };
enum { PS_FINAL = 1 };
enum { PS_BUF = 4 << 20, PS_NAME_MAX = 255 };

struct ps_hdr {
	uint32_t magic, type, name_len, flags;
	uint64_t len;
};

struct ps_reply {
	uint32_t magic, status; /* 0 or an errno value */
	uint64_t bytes;		/* payload bytes received for the image */
};

struct ck_ps_conn {
	int fd;
	struct ck_sum *md; /* the file being sent */
	uint64_t left;	   /* of its announced size */
	char *cur;	   /* its name */
	char **names;	   /* files sent, with sums[i] */
	char **sums;
	size_t nfiles;
	uint64_t bytes;
};

/* [A-Za-z0-9._-]+, not "." or "..": a single path component, on both ends. */
static bool name_ok(const char *s, size_t len)
{
	if (len == 0 || len > PS_NAME_MAX || (len <= 2 && strspn(s, ".") == len))
		return false;
	for (size_t i = 0; i < len; i++)
		if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-",
			    s[i]))
			return false;
	return true;
}

/* "HOST:PORT" or "[V6]:PORT" into getaddrinfo results. */
static int resolve(const char *addr, bool passive, struct addrinfo **res, struct werr **err)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = passive ? AI_PASSIVE : 0};
	_cleanup_free_ char *host = xstrdup(addr);
	char *colon = strrchr(host, ':'), *h = host;
	int r;

	if (!colon || !colon[1])
		return werr_set(err, EINVAL, "page server address %s: want HOST:PORT", addr);
	*colon = '\0';
	if (*h == '[' && colon[-1] == ']') {
		h++;
		colon[-1] = '\0';
	}
	r = getaddrinfo(*h ? h : NULL, colon + 1, &hints, res);
	if (r)
		return werr_set(err, EINVAL, "page server address %s: %s", addr, gai_strerror(r));
	return 0;
}

static void nodelay(int fd)
{
	int one = 1;

	/* The END frame and its reply are small: never let Nagle hold them back. */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

/* write_all for the stream: a peer that hung up is an error (EPIPE), not a SIGPIPE that kills
 * the sender (or a receiver answering a dead sender). */
static int send_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len > 0) {
		ssize_t r = send(fd, p, len, MSG_NOSIGNAL);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		p += r;
		len -= (size_t)r;
	}
	return 0;
}

static int send_hdr(struct ck_ps_conn *c, uint32_t type, const char *name, uint32_t flags,
		    uint64_t len, struct werr **err)
{
	size_t nl = name ? strlen(name) : 0;
	struct ps_hdr h = {htole32(PS_MAGIC), htole32(type), htole32((uint32_t)nl), htole32(flags),
			   htole64(len)};

	if (send_all(c->fd, &h, sizeof(h)) < 0 || (nl && send_all(c->fd, name, nl) < 0))
		return werr_sys(err, errno, "page server: send");
	return 0;
}

int ck_ps_connect(const char *addr, const char *image, struct ck_ps_conn **out, struct werr **err)
{
	struct addrinfo *res = NULL;
	struct ck_ps_conn *c;
	int fd = -1, e = 0;

	if (!name_ok(image, strlen(image)))
		return werr_set(err, EINVAL,
				"page server: image name \"%s\" must be one path component of "
				"[A-Za-z0-9._-]",
				image);
	if (resolve(addr, false, &res, err) < 0)
		return -EINVAL;
	for (struct addrinfo *a = res; a && fd < 0; a = a->ai_next) {
		fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, 0);
		if (fd >= 0 && connect(fd, a->ai_addr, a->ai_addrlen) < 0) {
			e = errno;
			close(fd);
			fd = -1;
		}
	}
	freeaddrinfo(res);
	if (fd < 0)
		return werr_sys(err, e ? e : errno, "page server %s: connect", addr);
	nodelay(fd);
	c = xcalloc(1, sizeof(*c));
	c->fd = fd;
	if (send_hdr(c, PS_HELLO, image, 0, 0, err) < 0) {
		ck_ps_close(c);
		return -EIO;
	}
	*out = c;
	return 0;
}

int ck_ps_file_begin(struct ck_ps_conn *c, const char *name, uint64_t size, struct werr **err)
{
	if (!name_ok(name, strlen(name)))
		return werr_set(err, EINVAL, "page server: bad file name %s", name);
	if (send_hdr(c, PS_FILE, name, 0, size, err) < 0)
		return -EIO;
	ck_sum_free(c->md);
	c->md = ck_sum_new();
	c->left = size;
	free(c->cur);
	c->cur = xstrdup(name);
	return 0;
}

int ck_ps_write(struct ck_ps_conn *c, const void *buf, size_t n, struct werr **err)
{
	if (n > c->left)
		return werr_set(err, EINVAL, "page server: %s: more bytes than announced", c->cur);
	ck_sum_update(c->md, buf, n);
	if (send_all(c->fd, buf, n) < 0)
		return werr_sys(err, errno, "page server: send %s", c->cur);
	c->left -= n;
	c->bytes += n;
	return 0;
}

int ck_ps_file_end(struct ck_ps_conn *c, struct werr **err)
{
	char *hex = xmalloc(CK_SUM_HEX + 1);

	if (c->left) {
		free(hex);
		return werr_set(err, EIO, "page server: %s: %llu bytes short", c->cur,
				(unsigned long long)c->left);
	}
	ck_sum_final(c->md, hex);
	c->md = NULL;
	c->names = xrealloc(c->names, (c->nfiles + 1) * sizeof(char *));
	c->sums = xrealloc(c->sums, (c->nfiles + 1) * sizeof(char *));
	c->names[c->nfiles] = c->cur;
	c->sums[c->nfiles++] = hex;
	c->cur = NULL;
	return 0;
}

const char *ck_ps_sum(const struct ck_ps_conn *c, const char *name)
{
	for (size_t i = 0; i < c->nfiles; i++)
		if (strcmp(c->names[i], name) == 0)
			return c->sums[i];
	return NULL;
}

int ck_ps_send_file(struct ck_ps_conn *c, int dirfd, const char *name, struct werr **err)
{
	_cleanup_close_ int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC);
	_cleanup_free_ char *buf = xmalloc(PS_BUF);
	struct stat sb;
	ssize_t n;

	if (fd < 0 || fstat(fd, &sb) < 0)
		return werr_sys(err, errno, "page server: open %s", name);
	if (ck_ps_file_begin(c, name, (uint64_t)sb.st_size, err) < 0)
		return -EIO;
	while (c->left && (n = read(fd, buf, c->left < PS_BUF ? c->left : PS_BUF)) > 0)
		if (ck_ps_write(c, buf, (size_t)n, err) < 0)
			return -EIO;
	return ck_ps_file_end(c, err);
}

int ck_ps_finish(struct ck_ps_conn *c, bool final, struct werr **err)
{
	struct ps_reply rep;

	if (send_hdr(c, PS_END, NULL, final ? PS_FINAL : 0, 0, err) < 0)
		return -EIO;
	if (read_all(c->fd, &rep, sizeof(rep)) != (ssize_t)sizeof(rep) ||
	    le32toh(rep.magic) != PS_MAGIC)
		return werr_set(err, EIO, "page server: no confirmation from the receiver");
	if (le32toh(rep.status))
		return werr_sys(err, (int)le32toh(rep.status), "page server: the receiver failed");
	if (le64toh(rep.bytes) != c->bytes)
		return werr_set(err, EIO, "page server: receiver got %llu bytes, %llu sent",
				(unsigned long long)le64toh(rep.bytes),
				(unsigned long long)c->bytes);
	return 0;
}

char *ck_ps_parent_name(const char *parent_dir)
{
	_cleanup_free_ char *abs = realpath(parent_dir, NULL);
	const char *base = abs ? abs : parent_dir;
	const char *slash = strrchr(base, '/');

	return xasprintf("../%s", slash ? slash + 1 : base);
}

void ck_ps_preset_sums(const struct ck_ps_conn *c, struct ck_inventory *inv)
{
	if (!inv->sums)
		inv->sums = xcalloc(inv->nfiles + 1, sizeof(char *));
	for (size_t i = 0; i < inv->nfiles; i++) {
		const char *s = ck_ps_sum(c, inv->files[i]);

		if (s && !inv->sums[i])
			inv->sums[i] = xstrdup(s);
	}
}

int ck_ps_send_image(struct ck_ps_conn *c, int dirfd, const struct ck_inventory *inv,
		     struct werr **err)
{
	for (size_t i = 0; i < inv->nfiles; i++)
		if (!ck_ps_sum(c, inv->files[i]) &&
		    ck_ps_send_file(c, dirfd, inv->files[i], err) < 0)
			return -EIO;
	/* Last: a receiver that holds inventory.json holds everything it lists. */
	return ck_ps_send_file(c, dirfd, "inventory.json", err);
}

uint64_t ck_ps_bytes(const struct ck_ps_conn *c)
{
	return c->bytes;
}

void ck_ps_close(struct ck_ps_conn *c)
{
	if (!c)
		return;
	if (c->fd >= 0)
		close(c->fd);
	ck_sum_free(c->md);
	for (size_t i = 0; i < c->nfiles; i++) {
		free(c->names[i]);
		free(c->sums[i]);
	}
	free(c->names);
	free(c->sums);
	free(c->cur);
	free(c);
}

int ck_ps_listen(const char *addr, int *port, struct werr **err)
{
	struct addrinfo *res = NULL;
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	int fd = -1, e = 0, one = 1;

	if (resolve(addr, true, &res, err) < 0)
		return -EINVAL;
	for (struct addrinfo *a = res; a && fd < 0; a = a->ai_next) {
		fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, 0);
		if (fd < 0)
			continue;
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(fd, a->ai_addr, a->ai_addrlen) < 0 || listen(fd, 4) < 0) {
			e = errno;
			close(fd);
			fd = -1;
		}
	}
	freeaddrinfo(res);
	if (fd < 0)
		return werr_sys(err, e ? e : errno, "page server: listen on %s", addr);
	if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0)
		*port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
						       : ((struct sockaddr_in *)&ss)->sin_port);
	return fd;
}

static int recv_hdr(int fd, struct ps_hdr *h, char *name, struct werr **err)
{
	if (read_all(fd, h, sizeof(*h)) != (ssize_t)sizeof(*h))
		return werr_set(err, EIO, "page server: the sender hung up");
	h->magic = le32toh(h->magic);
	h->type = le32toh(h->type);
	h->name_len = le32toh(h->name_len);
	h->flags = le32toh(h->flags);
	h->len = le64toh(h->len);
	if (h->magic != PS_MAGIC || h->name_len > PS_NAME_MAX)
		return werr_set(err, EPROTO, "page server: not a ward page server stream");
	if (read_all(fd, name, h->name_len) != (ssize_t)h->name_len)
		return werr_set(err, EIO, "page server: the sender hung up");
	name[h->name_len] = '\0';
	if ((h->type == PS_HELLO || h->type == PS_FILE) && !name_ok(name, h->name_len))
		return werr_set(err, EPROTO, "page server: bad name \"%s\"", name);
	return 0;
}

static int recv_file(int fd, int dirfd, const char *name, uint64_t len, char *buf,
		     struct werr **err)
{
	_cleanup_close_ int out =
		openat(dirfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	if (out < 0)
		return werr_sys(err, errno, "page server: create %s", name);
	while (len) {
		ssize_t n = read(fd, buf, len < PS_BUF ? len : PS_BUF);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return werr_set(err, EIO, "page server: %s: the sender hung up", name);
		if (write_all(out, buf, (size_t)n) < 0)
			return werr_sys(err, errno, "page server: write %s", name);
		len -= (uint64_t)n;
	}
	return 0;
}

/* One sender, one image. */
static int serve_one(int fd, const char *dir, struct ck_ps_round *rd, char *buf, struct werr **err)
{
	char name[PS_NAME_MAX + 1], image[PS_NAME_MAX + 1];
	_cleanup_close_ int dirfd = -1;
	struct ps_reply rep = {htole32(PS_MAGIC), 0, 0};
	struct ps_hdr h;
	int r;

	if (recv_hdr(fd, &h, image, err) < 0)
		return -EIO;
	if (h.type != PS_HELLO)
		return werr_set(err, EPROTO,
				"page server: stream does not start with an image name");
	_cleanup_free_ char *path = xasprintf("%s/%s", dir, image);
	if (mkdir_p(path, 0700, err) < 0)
		return -EIO;
	dirfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0)
		return werr_sys(err, errno, "page server: open %s", path);
	rd->image = NULL;
	for (;;) {
		r = recv_hdr(fd, &h, name, err);
		if (r == 0 && h.type == PS_END)
			break;
		if (r == 0 && h.type != PS_FILE)
			r = werr_set(err, EPROTO, "page server: unexpected frame %u", h.type);
		if (r == 0)
			r = recv_file(fd, dirfd, name, h.len, buf, err);
		if (r < 0) {
			rep.status = htole32((uint32_t)((*err)->code));
			send_all(fd, &rep, sizeof(rep));
			return werr_wrap(err, "image %s", image);
		}
		rd->nfiles++;
		rd->bytes += h.len;
		if (strncmp(name, "pages-", 6) == 0 || strcmp(name, "vm-mem.img") == 0)
			rd->pages_bytes += h.len;
	}
	rd->final = h.flags & PS_FINAL;
	/* Confirmed once every byte is written (to the page cache: no fsync, which would add
	 * the disk's time to a migration's downtime). */
	rep.bytes = htole64(rd->bytes);
	if (send_all(fd, &rep, sizeof(rep)) < 0)
		return werr_sys(err, errno, "page server: reply");
	rd->image = xstrdup(image);
	return 0;
}

int ck_ps_serve(int lfd, const char *dir, void (*report)(const struct ck_ps_round *, void *),
		void *arg, struct werr **err)
{
	_cleanup_free_ char *buf = xmalloc(PS_BUF);

	if (mkdir_p(dir, 0700, err) < 0)
		return -EIO;
	for (;;) {
		_cleanup_close_ int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
		struct ck_ps_round rd = {0};
		int r;

		if (fd < 0 && errno == EINTR)
			continue;
		if (fd < 0)
			return werr_sys(err, errno, "page server: accept");
		nodelay(fd);
		r = serve_one(fd, dir, &rd, buf, err);
		if (r == 0 && report)
			report(&rd, arg);
		free((char *)rd.image);
		if (r < 0)
			return r;
		if (rd.final)
			return 0;
	}
}
