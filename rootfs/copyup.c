/* tmpcopyup: a tmpfs mounted over a directory of the image starts with that directory's
 * content (files, directories, symlinks, device nodes), owners and modes kept. */
#include "rootfs/rootfs.h"
#include "rootfs/rootfs_int.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "lib/util.h"

#define COPY_MAX_DEPTH 64

static int copy_file(int from, int to, const char *name, const struct stat *st)
{
	_cleanup_close_ int in = openat(from, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	_cleanup_close_ int out = -1;
	char buf[65536];
	ssize_t n;

	if (in < 0)
		return -errno;
	out = openat(to, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
		     st->st_mode & 07777);
	if (out < 0)
		return -errno;
	while ((n = read(in, buf, sizeof(buf))) != 0) {
		int r;

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		r = write_all(out, buf, (size_t)n);
		if (r < 0)
			return r;
	}
	return 0;
}

static int copy_dir(int from, int to, int depth, const char *what, struct werr **err);

static int copy_entry(int from, int to, const char *name, int depth, const char *what,
		      struct werr **err)
{
	struct stat st;
	int r = 0;

	if (fstatat(from, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return werr_sys(err, errno, "copy up %s: stat %s", what, name);
	if (S_ISDIR(st.st_mode)) {
		_cleanup_close_ int sub_from = -1, sub_to = -1;

		if (mkdirat(to, name, 0700) < 0)
			return werr_sys(err, errno, "copy up %s: mkdir %s", what, name);
		sub_from = openat(from, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		sub_to = openat(to, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (sub_from < 0 || sub_to < 0)
			return werr_sys(err, errno, "copy up %s: open %s", what, name);
		r = copy_dir(sub_from, sub_to, depth + 1, what, err);
		if (r < 0)
			return r;
	} else if (S_ISREG(st.st_mode)) {
		r = copy_file(from, to, name, &st);
	} else if (S_ISLNK(st.st_mode)) {
		char target[PATH_MAX];
		ssize_t len = readlinkat(from, name, target, sizeof(target) - 1);

		if (len < 0)
			return werr_sys(err, errno, "copy up %s: readlink %s", what, name);
		target[len] = '\0';
		r = symlinkat(target, to, name) < 0 ? -errno : 0;
	} else {
		r = mknodat(to, name, st.st_mode, st.st_rdev) < 0 ? -errno : 0;
	}
	if (r < 0)
		return werr_sys(err, -r, "copy up %s: %s", what, name);
	if (fchownat(to, name, st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW) < 0)
		return werr_sys(err, errno, "copy up %s: chown %s", what, name);
	if (!S_ISLNK(st.st_mode) && fchmodat(to, name, st.st_mode & 07777, 0) < 0)
		return werr_sys(err, errno, "copy up %s: chmod %s", what, name);
	return 0;
}

static int copy_dir(int from, int to, int depth, const char *what, struct werr **err)
{
	_cleanup_closedir_ DIR *d = NULL;
	int dfd = fcntl(from, F_DUPFD_CLOEXEC, 0);
	struct dirent *e;

	if (depth > COPY_MAX_DEPTH)
		return werr_set(err, ELOOP, "copy up %s: directory tree too deep", what);
	if (dfd < 0 || !(d = fdopendir(dfd))) {
		if (dfd >= 0)
			close(dfd);
		return werr_sys(err, errno, "copy up %s: read directory", what);
	}
	while ((e = readdir(d))) {
		int r;

		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		r = copy_entry(from, to, e->d_name, depth, what, err);
		if (r < 0)
			return r;
	}
	return 0;
}

int rootfs_copy_tree(int from, int to, const char *what, struct werr **err)
{
	return copy_dir(from, to, 0, what, err);
}
