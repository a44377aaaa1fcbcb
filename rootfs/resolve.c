/* Resolving and creating paths inside the container root without ever leaving it: every
 * lookup goes through openat2(RESOLVE_IN_ROOT), so "..", absolute symlinks and symlinks to
 * ../../.. are all clamped to the root, as the kernel does for a chrooted process. */
#include "rootfs/rootfs.h"
#include "rootfs/rootfs_int.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "lib/util.h"

#define MAX_SYMLINKS 40

int rootfs_openat2_in_root(int rootfd, const char *path, int flags)
{
	struct open_how how = {
		.flags = (unsigned long long)(flags | O_CLOEXEC),
		.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
	};
	const char *p = (path && *path) ? path : ".";
	int fd;

	/* EAGAIN: a rename raced with the lookup; the kernel asks us to try again. */
	for (int i = 0; i < 64; i++) {
		fd = (int)syscall(SYS_openat2, rootfd, p, &how, sizeof(how));
		if (fd >= 0 || errno != EAGAIN)
			break;
	}
	return fd < 0 ? -errno : fd;
}

int rootfs_open_in_root(int rootfd, const char *path, int flags, struct werr **err)
{
	int fd = rootfs_openat2_in_root(rootfd, path, flags | O_PATH);

	if (fd < 0)
		return werr_sys(err, -fd, "open %s in container root", path);
	return fd;
}

/* Split path into its components, dropping empty ones and "."; ".." is kept (the kernel
 * clamps it at the root). Returns a NULL-terminated vector. */
static char **split_path(const char *path)
{
	_cleanup_free_ char *copy = xstrdup(path);
	size_t n = 0, cap = 8;
	char **v = xcalloc(cap, sizeof(*v));
	char *save = NULL;

	for (char *c = strtok_r(copy, "/", &save); c; c = strtok_r(NULL, "/", &save)) {
		if (strcmp(c, ".") == 0)
			continue;
		if (n + 2 > cap) {
			cap *= 2;
			v = xrealloc(v, cap * sizeof(*v));
		}
		v[n++] = xstrdup(c);
	}
	v[n] = NULL;
	return v;
}

static char *join_rest(const char *head, char **comps, size_t from)
{
	char *s = xstrdup(head);

	for (size_t i = from; comps[i]; i++) {
		char *t = xasprintf("%s/%s", s, comps[i]);

		free(s);
		s = t;
	}
	return s;
}

/* Create name in the directory parentfd; EEXIST is fine (somebody else won the race). */
static int create_entry(int parentfd, const char *name, bool as_file)
{
	if (as_file) {
		int fd = openat(parentfd, name,
				O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0644);

		if (fd < 0)
			return errno == EEXIST ? 0 : -errno;
		close(fd);
		return 0;
	}
	if (mkdirat(parentfd, name, 0755) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

/* Why a walk stopped before the end: a dangling symlink whose target has to be created. */
#define WALK_RESTART 1

/* One pass over path; returns an O_PATH fd, -errno, or WALK_RESTART with *restart set to the
 * path to walk instead (the symlink's target followed by the rest of path). */
static int mkdir_walk(int rootfd, const char *path, bool as_file, char **restart, struct werr **err)
{
	char **comps = split_path(path);
	_cleanup_free_ char *prefix = xstrdup("");
	_cleanup_close_ int parent = rootfs_openat2_in_root(rootfd, "/", O_PATH | O_DIRECTORY);
	int r = 0;

	if (parent < 0) {
		r = werr_sys(err, -parent, "open container root");
		goto out;
	}
	for (size_t i = 0; comps[i]; i++) {
		bool want_file = as_file && !comps[i + 1];
		_cleanup_free_ char *next = xasprintf("%s/%s", prefix, comps[i]);
		int fd = rootfs_openat2_in_root(rootfd, next, O_PATH);
		struct stat st;

		if (fd == -ENOENT) {
			if (fstatat(parent, comps[i], &st, AT_SYMLINK_NOFOLLOW) == 0 &&
			    S_ISLNK(st.st_mode)) {
				/* A dangling symlink: create its target instead, looked up
				 * again from the root so that it cannot point out of it. */
				char target[PATH_MAX];
				ssize_t len =
					readlinkat(parent, comps[i], target, sizeof(target) - 1);
				_cleanup_free_ char *base = NULL;

				if (len < 0) {
					r = werr_sys(err, errno, "readlink %s in container root",
						     next);
					goto out;
				}
				target[len] = '\0';
				base = target[0] == '/' ? xstrdup(target)
							: xasprintf("%s/%s", prefix, target);
				*restart = join_rest(base, comps, i + 1);
				r = WALK_RESTART;
				goto out;
			}
			r = create_entry(parent, comps[i], want_file);
			if (r < 0) {
				r = werr_sys(err, -r, "%s %s in container root",
					     want_file ? "create" : "mkdir", next);
				goto out;
			}
			fd = rootfs_openat2_in_root(rootfd, next, O_PATH);
		}
		if (fd < 0) {
			r = werr_sys(err, -fd, "open %s in container root", next);
			goto out;
		}
		if (fstat(fd, &st) < 0 || S_ISDIR(st.st_mode) == want_file) {
			close(fd);
			r = werr_set(err, want_file ? EISDIR : ENOTDIR, "%s in container root %s",
				     next, want_file ? "is a directory" : "is not a directory");
			goto out;
		}
		free(prefix);
		prefix = steal_ptr(next);
		closep(&parent);
		parent = fd;
	}
	r = steal_fd(parent);
out:
	strv_free(comps);
	return r;
}

int rootfs_mkdir_in_root(int rootfd, const char *path, bool as_file, struct werr **err)
{
	_cleanup_free_ char *cur = xstrdup(path ? path : "");

	for (int links = 0; links <= MAX_SYMLINKS; links++) {
		char *next = NULL;
		int r = mkdir_walk(rootfd, cur, as_file, &next, err);

		if (r != WALK_RESTART)
			return r;
		free(cur);
		cur = next;
	}
	return werr_sys(err, ELOOP, "create %s in container root", path);
}
