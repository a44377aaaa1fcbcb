/* File locks (issue 7, runc's --file-locks): which locks the tree holds, through which fd, and
 * taking them again after restore. fdinfo lists, for an fd, the locks whose file is the fd's
 * open file description and whose owner is this process's fd table (POSIX) or the description
 * itself (flock, OFD): a POSIX lock shows in every fd of its process sharing that description,
 * an flock/OFD lock in every fd (of any process) sharing it. Each is kept once. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "checkpoint/locks.h"
#include "checkpoint/ptrace.h"
#include "lib/jgen.h"
#include "lib/util.h"

#ifndef F_OFD_GETLK
#define F_OFD_GETLK 36
#define F_OFD_SETLK 37
#endif

int ck_lock_parse_line(const char *line, struct ck_lock_line *out)
{
	char type[16], dev[64], start[32], end[32];
	const char *p = strchr(line, ':');
	unsigned long long s, e;
	int pid;

	memset(out, 0, sizeof(*out));
	if (!p)
		return -EINVAL;
	p++;
	while (*p == ' ' || *p == '\t')
		p++;
	if (strncmp(p, "->", 2) == 0) {
		out->blocked = true;
		p += 2;
	}
	if (sscanf(p, "%15s %15s %15s %d %63s %31s %31s", out->kind, out->mode, type, &pid, dev,
		   start, end) != 7)
		return -EINVAL;
	if (strcmp(type, "WRITE") && strcmp(type, "READ"))
		return -EINVAL;
	out->write = strcmp(type, "WRITE") == 0;
	out->pid = pid;
	if (sscanf(start, "%llu", &s) != 1)
		return -EINVAL;
	out->start = s;
	if (strcmp(end, "EOF") == 0)
		return 0;
	if (sscanf(end, "%llu", &e) != 1 || e < s)
		return -EINVAL;
	out->len = e - s + 1; /* the end column is the last byte */
	return 0;
}

static const char *kind_name(enum ck_lock_kind k)
{
	return k == CK_LOCK_POSIX ? "posix" : k == CK_LOCK_FLOCK ? "flock" : "ofd";
}

/* A lock line of an fd, as a lock to record, or refused. */
static int lock_of_line(const struct ck_proc *p, const struct ck_fd *f,
			const struct ck_lock_line *l, struct ck_lock *out, struct werr **err)
{
	if (strcmp(l->mode, "ADVISORY"))
		return werr_set(err, ENOTSUP,
				"process %d (%s) fd %d (%s): a %s lock that is not advisory (%s): "
				"not supported",
				p->pid, p->comm, f->fd, f->path ? f->path : "?", l->kind, l->mode);
	if (strcmp(l->kind, "POSIX") == 0)
		out->kind = CK_LOCK_POSIX;
	else if (strcmp(l->kind, "FLOCK") == 0)
		out->kind = CK_LOCK_FLOCK;
	else if (strcmp(l->kind, "OFDLCK") == 0)
		out->kind = CK_LOCK_OFD;
	else
		return werr_set(err, ENOTSUP,
				"process %d (%s) fd %d (%s): a %s (lease or delegation) is not "
				"supported",
				p->pid, p->comm, f->fd, f->path ? f->path : "?", l->kind);
	if (out->kind == CK_LOCK_POSIX && l->pid != p->host_pid)
		return werr_set(err, ENOTSUP,
				"process %d (%s) fd %d (%s): its fd table holds a POSIX lock of "
				"process %d (a shared fd table): not supported",
				p->pid, p->comm, f->fd, f->path ? f->path : "?", l->pid);
	out->write = l->write;
	out->start = l->start;
	out->len = l->len;
	return 0;
}

/* Whether an earlier fd already records the lines of f: the same description in the same
 * process (POSIX), or anywhere earlier in the tree (flock, OFD). */
static bool seen_desc(const struct ck_proc *procs, size_t pi, size_t fi, bool posix)
{
	uint32_t id = procs[pi].fds[fi].file_id;

	for (size_t i = posix ? pi : 0; i <= pi; i++)
		for (size_t j = 0; j < (i == pi ? fi : procs[i].nfds); j++)
			if (procs[i].fds[j].file_id == id)
				return true;
	return false;
}

static int fd_locks(struct ck_proc *procs, size_t pi, size_t fi, bool save, size_t *nlocks,
		    struct werr **err)
{
	struct ck_proc *p = &procs[pi];
	struct ck_fd *f = &p->fds[fi];
	_cleanup_free_ char *info = NULL;
	bool seen_posix = seen_desc(procs, pi, fi, true);
	bool seen_any = seen_desc(procs, pi, fi, false);
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/fdinfo/%d", p->host_pid, f->fd);
	if (read_file(path, &info, NULL, err) < 0)
		return werr_wrap(err, "process %d", p->pid);
	for (char *line = strstr(info, "\nlock:"); line; line = strstr(line + 1, "\nlock:")) {
		struct ck_lock_line l;
		struct ck_lock k;

		if (ck_lock_parse_line(line + 6, &l) < 0)
			return werr_set(err, EINVAL, "%s: cannot read a lock line", path);
		if (lock_of_line(p, f, &l, &k, err) < 0)
			return -ENOTSUP;
		if (k.kind == CK_LOCK_POSIX ? seen_posix : seen_any)
			continue;
		if (!save)
			return werr_set(err, ENOTSUP,
					"process %d (%s) fd %d (%s) holds a %s %s lock: file locks "
					"are saved only when asked for (ward checkpoint "
					"--file-locks)",
					p->pid, p->comm, f->fd, f->path ? f->path : "?",
					kind_name(k.kind), k.write ? "write" : "read");
		f->locks = xrealloc(f->locks, (f->nlocks + 1) * sizeof(*f->locks));
		f->locks[f->nlocks++] = k;
		(*nlocks)++;
	}
	return 0;
}

static bool host_pid_in(const struct ck_proc *procs, size_t n, pid_t pid, pid_t *image_pid)
{
	for (size_t i = 0; i < n; i++)
		if (procs[i].host_pid == pid) {
			*image_pid = procs[i].pid;
			return true;
		}
	return false;
}

/* A lock request of the tree still waiting (a "->" line of /proc/locks whose pid is ours). */
static int check_blocked(const struct ck_proc *procs, size_t n, struct werr **err)
{
	_cleanup_free_ char *text = NULL;

	if (read_file("/proc/locks", &text, NULL, err) < 0)
		return -EIO;
	for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
		struct ck_lock_line l;
		pid_t pid;

		if (ck_lock_parse_line(line, &l) == 0 && l.blocked &&
		    host_pid_in(procs, n, l.pid, &pid))
			return werr_set(err, ENOTSUP,
					"process %d waits for a %s lock held by another: a blocked "
					"lock request is not supported",
					pid, l.kind);
	}
	return 0;
}

int ck_locks_dump(struct ck_proc *procs, size_t n, bool save, struct ck_inventory *inv,
		  struct werr **err)
{
	size_t nlocks = 0;

	if (check_blocked(procs, n, err) < 0)
		return -ENOTSUP;
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < procs[i].nfds; j++)
			if (fd_locks(procs, i, j, save, &nlocks, err) < 0)
				return -ENOTSUP;
	if (nlocks) /* an older reader would restore the tree without them */
		ck_inventory_need(inv, CK_FORMAT_LOCKS);
	return 0;
}

/* ---- restore ---- */

static int inject(pid_t pid, uint64_t insn, long nr, uint64_t a0, uint64_t a1, uint64_t a2,
		  long *ret, struct werr **err)
{
	uint64_t a[6] = {a0, a1, a2, 0, 0, 0};

	return ck_inject(pid, insn, nr, a, ret, err);
}

/* Who holds what keeps k from being taken (F_GETLK/F_OFD_GETLK injected), for the message. */
static void holder(pid_t pid, uint64_t insn, int memfd, uint64_t data, int fd,
		   const struct ck_lock *k, char *buf, size_t size)
{
	struct flock fl = {.l_type = k->write ? F_WRLCK : F_RDLCK,
			   .l_whence = SEEK_SET,
			   .l_start = (off_t)k->start,
			   .l_len = (off_t)k->len};
	long ret;

	buf[0] = '\0';
	if (k->kind == CK_LOCK_FLOCK ||
	    pwrite(memfd, &fl, sizeof(fl), (off_t)data) != (ssize_t)sizeof(fl) ||
	    inject(pid, insn, SYS_fcntl, (uint64_t)fd,
		   k->kind == CK_LOCK_OFD ? F_OFD_GETLK : F_GETLK, data, &ret, NULL) < 0 ||
	    ret < 0 || pread(memfd, &fl, sizeof(fl), (off_t)data) != (ssize_t)sizeof(fl) ||
	    fl.l_type == F_UNLCK)
		return;
	if (fl.l_pid > 0)
		snprintf(buf, size, " (a %s lock of process %d there)",
			 fl.l_type == F_WRLCK ? "write" : "read", fl.l_pid);
	else
		snprintf(buf, size, " (a %s OFD lock there)", fl.l_type == F_WRLCK ? "write" : "read");
}

static int take(const struct ck_fd *f, const struct ck_lock *k, pid_t pid, uint64_t insn, int memfd, uint64_t data, struct werr **err)
{
	struct flock fl = {.l_type = k->write ? F_WRLCK : F_RDLCK,
			   .l_whence = SEEK_SET,
			   .l_start = (off_t)k->start,
			   .l_len = (off_t)k->len};
	char who[96];
	long ret;
	int r;

	if (k->kind == CK_LOCK_FLOCK) {
		r = inject(pid, insn, SYS_flock, (uint64_t)f->fd,
			   (k->write ? LOCK_EX : LOCK_SH) | LOCK_NB, 0, &ret, err);
	} else {
		if (pwrite(memfd, &fl, sizeof(fl), (off_t)data) != (ssize_t)sizeof(fl))
			return werr_sys(err, errno, "write memory of %d", pid);
		r = inject(pid, insn, SYS_fcntl, (uint64_t)f->fd,
			   k->kind == CK_LOCK_OFD ? F_OFD_SETLK : F_SETLK, data, &ret, err);
	}
	if (r < 0)
		return -EIO;
	if (ret == 0)
		return 0;
	if (ret == -EAGAIN || ret == -EACCES) {
		holder(pid, insn, memfd, data, f->fd, k, who, sizeof(who));
		return werr_set(err, EAGAIN,
				"fd %d: the %s %s lock on %s (from byte %llu, %s) is held by "
				"someone else now%s",
				f->fd, kind_name(k->kind),
				k->write ? "write" : "read", f->path ? f->path : "the file",
				(unsigned long long)k->start,
				k->len ? "a range" : "up to EOF", who);
	}
	return werr_sys(err, (int)-ret, "fd %d: %s lock on %s", f->fd, kind_name(k->kind),
			f->path ? f->path : "the file");
}

int ck_locks_restore(const struct ck_proc *p, pid_t host_pid, uint64_t insn, int memfd,
		     uint64_t data, struct werr **err)
{
	for (size_t i = 0; i < p->nfds; i++)
		for (size_t j = 0; j < p->fds[i].nlocks; j++)
			if (take(&p->fds[i], &p->fds[i].locks[j], host_pid, insn, memfd, data,
				 err) < 0)
				return -EIO;
	return 0;
}

/* ---- JSON ---- */

void ck_locks_gen(yajl_gen g, const struct ck_fd *f)
{
	if (!f->nlocks)
		return;
	jstr(g, "locks");
	yajl_gen_array_open(g);
	for (size_t i = 0; i < f->nlocks; i++) {
		yajl_gen_map_open(g);
		jstr(g, "type");
		jstr(g, kind_name(f->locks[i].kind));
		jstr(g, "mode");
		jstr(g, f->locks[i].write ? "write" : "read");
		jkhex(g, "start", f->locks[i].start);
		jkhex(g, "len", f->locks[i].len);
		yajl_gen_map_close(g);
	}
	yajl_gen_array_close(g);
}

static const char *str_at(yajl_val o, const char *key)
{
	const char *path[] = {key, NULL};
	yajl_val v = yajl_tree_get(o, path, yajl_t_string);

	return v ? YAJL_GET_STRING(v) : NULL;
}

static int hex_at(yajl_val o, const char *key, uint64_t *out)
{
	const char *s = str_at(o, key);
	char *end;

	if (!s || strncmp(s, "0x", 2))
		return -EINVAL;
	errno = 0;
	*out = strtoull(s + 2, &end, 16);
	return errno || end == s + 2 || *end ? -EINVAL : 0;
}

static int lock_from(yajl_val o, struct ck_lock *k)
{
	const char *type = str_at(o, "type"), *mode = str_at(o, "mode");

	if (!type || !mode || (strcmp(mode, "write") && strcmp(mode, "read")))
		return -EINVAL;
	if (strcmp(type, "posix") == 0)
		k->kind = CK_LOCK_POSIX;
	else if (strcmp(type, "flock") == 0)
		k->kind = CK_LOCK_FLOCK;
	else if (strcmp(type, "ofd") == 0)
		k->kind = CK_LOCK_OFD;
	else
		return -EINVAL;
	k->write = strcmp(mode, "write") == 0;
	if (hex_at(o, "start", &k->start) < 0 || hex_at(o, "len", &k->len) < 0 ||
	    k->start > INT64_MAX || k->len > INT64_MAX)
		return -EINVAL;
	return 0;
}

int ck_locks_parse(yajl_val fd_obj, struct ck_fd *f, struct werr **err)
{
	const char *path[] = {"locks", NULL};
	yajl_val a = yajl_tree_get(fd_obj, path, yajl_t_any);

	if (!a)
		return 0;
	if (!YAJL_IS_ARRAY(a))
		return werr_set(err, EINVAL, "fd %d: \"locks\" is not an array", f->fd);
	f->locks = xcalloc(a->u.array.len + 1, sizeof(*f->locks));
	for (size_t i = 0; i < a->u.array.len; i++, f->nlocks++)
		if (!YAJL_IS_OBJECT(a->u.array.values[i]) ||
		    lock_from(a->u.array.values[i], &f->locks[i]) < 0)
			return werr_set(err, EINVAL, "fd %d: lock %zu: bad \"type\", \"mode\", "
						     "\"start\" or \"len\"",
					f->fd, i);
	return 0;
}
