/* tmpfs contents in the image: a tar (libarchive, pax) per tmpfs mount of the container, made
 * while the tree is frozen, unpacked into the new container's tmpfs before its processes come
 * back. Paths are resolved inside the container's root (openat2 RESOLVE_IN_ROOT), archives never
 * cross into other mounts, and extraction refuses absolute paths, ".." and symlinked parents. */
#include "checkpoint/mounts.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <yajl/yajl_gen.h>
#include <yajl/yajl_tree.h>

#include "checkpoint/internal.h"
#include "checkpoint/inventory.h"
#include "lib/util.h"

/* dest inside root (a directory fd), as a directory fd on a tmpfs. */
static int open_tmpfs(int root, const char *dest, struct werr **err)
{
	struct open_how how = {.flags = O_RDONLY | O_DIRECTORY | O_CLOEXEC,
			       .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS};
	struct statfs sf;
	int fd = (int)syscall(SYS_openat2, root, dest, &how, sizeof(how));

	if (fd < 0)
		return werr_sys(err, errno, "open the tmpfs at %s", dest);
	if (fstatfs(fd, &sf) < 0 || sf.f_type != TMPFS_MAGIC) {
		close(fd);
		return werr_set(err, ENOTSUP, "%s is not a tmpfs", dest);
	}
	return fd;
}

static const char *copy_data(struct archive *in, struct archive *out)
{
	for (;;) {
		const void *buf;
		size_t len;
		la_int64_t off;
		int r = archive_read_data_block(in, &buf, &len, &off);

		if (r == ARCHIVE_EOF)
			return NULL;
		if (r < ARCHIVE_OK)
			return archive_error_string(in);
		if (archive_write_data_block(out, buf, len, off) < ARCHIVE_OK)
			return archive_error_string(out);
	}
}

/* In a child, cwd the tmpfs: "." and below into out as a pax archive. */
static const char *write_tar(int out)
{
	struct archive *disk = archive_read_disk_new(), *tar = archive_write_new();
	struct archive_entry *e;
	const char *msg = NULL;
	int r;

	archive_write_set_format_pax_restricted(tar);
	archive_read_disk_set_behavior(disk, ARCHIVE_READDISK_NO_TRAVERSE_MOUNTS |
						     ARCHIVE_READDISK_RESTORE_ATIME);
	if (archive_write_open_fd(tar, out) < ARCHIVE_OK)
		return archive_error_string(tar);
	if (archive_read_disk_open(disk, ".") < ARCHIVE_OK)
		return archive_error_string(disk);
	while (!msg) {
		e = archive_entry_new();
		r = archive_read_next_header2(disk, e);
		if (r == ARCHIVE_EOF) {
			archive_entry_free(e);
			break;
		}
		if (r < ARCHIVE_WARN) {
			msg = archive_error_string(disk);
		} else {
			archive_read_disk_descend(disk);
			if (archive_write_header(tar, e) < ARCHIVE_OK)
				msg = archive_error_string(tar);
			else if (archive_entry_filetype(e) == AE_IFREG &&
				 archive_entry_size(e) > 0) {
				_cleanup_close_ int fd =
					open(archive_entry_sourcepath(e), O_RDONLY | O_NOFOLLOW);
				char buf[65536];
				ssize_t n;

				if (fd < 0)
					msg = "cannot open a file";
				while (!msg && (n = read(fd, buf, sizeof(buf))) > 0)
					if (archive_write_data(tar, buf, (size_t)n) < 0)
						msg = archive_error_string(tar);
			}
		}
		archive_entry_free(e);
	}
	if (!msg && archive_write_close(tar) < ARCHIVE_OK)
		msg = archive_error_string(tar);
	return msg ? strdup(msg) : NULL; /* the child exits right after */
}

static int dump_one(int dirfd, int root, const char *dest, const char *name, struct werr **err)
{
	_cleanup_close_ int d = open_tmpfs(root, dest, err), out = -1;
	int p[2], st;
	char msg[256] = "";
	pid_t kid;
	ssize_t n;

	if (d < 0)
		return -EIO;
	out = openat(dirfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (out < 0)
		return werr_sys(err, errno, "create %s", name);
	if (pipe2(p, O_CLOEXEC) < 0)
		return werr_sys(err, errno, "pipe");
	kid = fork();
	if (kid == 0) {
		const char *m = fchdir(d) < 0 ? "fchdir" : write_tar(out);

		if (m && write(p[1], m, strlen(m)) < 0)
			_exit(2);
		_exit(m ? 1 : 0);
	}
	close(p[1]);
	n = kid > 0 ? read(p[0], msg, sizeof(msg) - 1) : 0;
	close(p[0]);
	if (kid < 0)
		return werr_sys(err, errno, "fork");
	while (waitpid(kid, &st, 0) < 0 && errno == EINTR)
		;
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		msg[n > 0 ? n : 0] = '\0';
		return werr_set(err, EIO, "archive the tmpfs at %s: %s", dest, msg);
	}
	return 0;
}

int ck_mounts_dump(const char *dir, pid_t pid, char *const *dests, size_t n, char ***files,
		   struct werr **err)
{
	_cleanup_close_ int dirfd = -1, root = -1;
	char path[64];
	yajl_gen g;
	const unsigned char *buf;
	size_t len, nf = 0;
	int r = 0;

	*files = xcalloc(n + 2, sizeof(char *));
	if (n == 0)
		return 0;
	if (mkdir_p(dir, 0700, err) < 0)
		return -EIO;
	dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	snprintf(path, sizeof(path), "/proc/%d/root", pid);
	root = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0 || root < 0)
		return werr_sys(err, errno, "open %s", dirfd < 0 ? dir : path);
	g = yajl_gen_alloc(NULL);
	yajl_gen_map_open(g);
	yajl_gen_string(g, (const unsigned char *)"tmpfs", 5);
	yajl_gen_array_open(g);
	for (size_t i = 0; i < n && r == 0; i++) {
		char *name = xasprintf("tmpfs-%zu.tar", i);

		(*files)[nf++] = name;
		r = dump_one(dirfd, root, dests[i], name, err);
		yajl_gen_map_open(g);
		yajl_gen_string(g, (const unsigned char *)"destination", 11);
		yajl_gen_string(g, (const unsigned char *)dests[i], strlen(dests[i]));
		yajl_gen_string(g, (const unsigned char *)"archive", 7);
		yajl_gen_string(g, (const unsigned char *)name, strlen(name));
		yajl_gen_map_close(g);
	}
	yajl_gen_array_close(g);
	yajl_gen_map_close(g);
	yajl_gen_get_buf(g, &buf, &len);
	if (r == 0) {
		_cleanup_free_ char *text = xasprintf("%.*s", (int)len, (const char *)buf);

		r = ck_write_text(dirfd, "mounts.json", text, err);
		(*files)[nf++] = xstrdup("mounts.json");
	}
	yajl_gen_free(g);
	return r;
}

static int unpack(int tar_fd, int dest_fd, const char *dest, struct werr **err)
{
	struct archive *in = archive_read_new(), *out = archive_write_disk_new();
	struct archive_entry *e;
	const char *msg = NULL;
	int cwd = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC), r;

	archive_read_support_format_tar(in);
	archive_write_disk_set_options(
		out, ARCHIVE_EXTRACT_TIME | ARCHIVE_EXTRACT_PERM | ARCHIVE_EXTRACT_OWNER |
			     ARCHIVE_EXTRACT_SECURE_SYMLINKS | ARCHIVE_EXTRACT_SECURE_NODOTDOT |
			     ARCHIVE_EXTRACT_SECURE_NOABSOLUTEPATHS);
	if (fchdir(dest_fd) < 0)
		msg = "fchdir";
	else if (archive_read_open_fd(in, tar_fd, 65536) < ARCHIVE_OK)
		msg = archive_error_string(in);
	while (!msg && (r = archive_read_next_header(in, &e)) != ARCHIVE_EOF) {
		if (r < ARCHIVE_WARN)
			msg = archive_error_string(in);
		else if (archive_write_header(out, e) < ARCHIVE_WARN)
			msg = archive_error_string(out);
		else if (archive_entry_size(e) > 0)
			msg = copy_data(in, out);
		if (!msg && archive_write_finish_entry(out) < ARCHIVE_WARN)
			msg = archive_error_string(out);
	}
	r = msg ? werr_set(err, EIO, "unpack the tmpfs at %s: %s", dest, msg) : 0;
	archive_write_free(out);
	archive_read_free(in);
	if (cwd >= 0) {
		if (fchdir(cwd) < 0 && r == 0)
			r = werr_sys(err, errno, "fchdir back");
		close(cwd);
	}
	return r;
}

int ck_mounts_restore(int dirfd, struct werr **err)
{
	_cleanup_free_ char *inv_text = NULL, *text = NULL;
	struct ck_inventory inv = {0};
	const char *tp[] = {"tmpfs", NULL};
	_cleanup_close_ int root = -1;
	yajl_val o, a;
	char ebuf[128];
	int r = 0;

	if (read_file_at(dirfd, "inventory.json", &inv_text, NULL, err) < 0 ||
	    ck_inventory_parse(inv_text, &inv, err) < 0)
		return -EINVAL;
	if (!ck_inventory_has(&inv, "mounts.json")) {
		ck_inventory_free(&inv);
		return 0;
	}
	if (read_file_at(dirfd, "mounts.json", &text, NULL, err) < 0) {
		ck_inventory_free(&inv);
		return -EIO;
	}
	o = yajl_tree_parse(text, ebuf, sizeof(ebuf));
	a = o ? yajl_tree_get(o, tp, yajl_t_array) : NULL;
	root = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (!a)
		r = werr_set(err, EINVAL, "mounts.json: no \"tmpfs\" array");
	for (size_t i = 0; r == 0 && i < a->u.array.len; i++) {
		const char *dp[] = {"destination", NULL}, *ap[] = {"archive", NULL};
		yajl_val d = yajl_tree_get(a->u.array.values[i], dp, yajl_t_string);
		yajl_val n = yajl_tree_get(a->u.array.values[i], ap, yajl_t_string);
		const char *dest = d ? YAJL_GET_STRING(d) : NULL,
			   *name = n ? YAJL_GET_STRING(n) : NULL;
		_cleanup_close_ int tar = -1, dfd = -1;

		if (!dest || !name || strchr(name, '/') || !ck_inventory_has(&inv, name)) {
			r = werr_set(err, EINVAL, "mounts.json: entry %zu: bad or unlisted", i);
			break;
		}
		tar = openat(dirfd, name, O_RDONLY | O_CLOEXEC);
		if (tar < 0) {
			r = werr_sys(err, errno, "open %s", name);
			break;
		}
		dfd = open_tmpfs(root, dest, err);
		r = dfd < 0 ? -EIO : unpack(tar, dfd, dest, err);
	}
	if (o)
		yajl_tree_free(o);
	ck_inventory_free(&inv);
	return r;
}
