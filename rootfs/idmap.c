/* Idmapped bind mounts: a throwaway user namespace carries the mount's uid/gid mapping to
 * mount_setattr(MOUNT_ATTR_IDMAP) on a detached clone of the source tree. */
#include "rootfs/rootfs.h"
#include "rootfs/rootfs_int.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/wait.h>

#include "lib/util.h"

static char *format_maps(const struct id_map *maps, size_t n)
{
	char *s = xstrdup("");

	for (size_t i = 0; i < n; i++) {
		char *t = xasprintf("%s%u %u %u\n", s, maps[i].container_id, maps[i].host_id,
				    maps[i].size);

		free(s);
		s = t;
	}
	return s;
}

static int write_map(const char *pid, const char *file, const struct id_map *maps, size_t n,
		     struct werr **err)
{
	_cleanup_free_ char *path = xasprintf("/proc/%s/%s", pid, file);
	_cleanup_free_ char *text = format_maps(maps, n);

	if (n == 0)
		return 0;
	return write_file(path, text, strlen(text), err);
}

/* The child only holds the new user namespace open until the parent has taken a reference.
 * It reports its pid as /proc sees it: the parent may be in a pid namespace of its own while
 * /proc is still the host's. */
static void userns_child(int ready_w, int done_r)
{
	char pid[32] = "", c;
	ssize_t n = readlink("/proc/self", pid, sizeof(pid) - 1);

	if (n <= 0 || unshare(CLONE_NEWUSER) < 0)
		_exit(1);
	if (write(ready_w, pid, (size_t)n) != n)
		_exit(1);
	while (read(done_r, &c, 1) < 0 && errno == EINTR)
		;
	_exit(0);
}

int rootfs_userns_fd(const struct mount_spec *m, struct werr **err)
{
	int ready[2] = {-1, -1}, done[2] = {-1, -1};
	_cleanup_free_ char *ns = NULL;
	int fd = -1, r = 0;
	char procpid[32] = "";
	ssize_t n;
	pid_t pid;

	if (!m->n_uid_maps && !m->n_gid_maps) {
		fd = open("/proc/self/ns/user", O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return werr_sys(err, errno, "open /proc/self/ns/user");
		return fd;
	}
	if (pipe2(ready, O_CLOEXEC) < 0 || pipe2(done, O_CLOEXEC) < 0) {
		r = werr_sys(err, errno, "pipe");
		goto out;
	}
	pid = fork();
	if (pid < 0) {
		r = werr_sys(err, errno, "fork for the idmap user namespace");
		goto out;
	}
	if (pid == 0)
		userns_child(ready[1], done[0]);
	closep(&ready[1]);
	n = read(ready[0], procpid, sizeof(procpid) - 1);
	if (n <= 0) {
		r = werr_set(err, EPERM, "create the user namespace of an idmapped mount");
		goto reap;
	}
	procpid[n] = '\0';
	r = write_map(procpid, "uid_map", m->uid_maps, m->n_uid_maps, err);
	if (r == 0)
		r = write_map(procpid, "gid_map", m->gid_maps, m->n_gid_maps, err);
	if (r < 0) {
		werr_wrap(err, "idmapped mount on %s", m->destination);
		goto reap;
	}
	ns = xasprintf("/proc/%s/ns/user", procpid);
	fd = open(ns, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		r = werr_sys(err, errno, "open %s", ns);
reap:
	closep(&done[1]);
	kill(pid, SIGKILL);
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
out:
	closep(&ready[0]);
	closep(&ready[1]);
	closep(&done[0]);
	closep(&done[1]);
	return r < 0 ? r : fd;
}

int rootfs_idmapped_bind(const char *source, int destfd, bool recursive, int usernsfd,
			 const char *what, struct werr **err)
{
	struct mount_attr attr = {.attr_set = MOUNT_ATTR_IDMAP, .userns_fd = (__u64)usernsfd};
	unsigned int rec = recursive ? AT_RECURSIVE : 0;
	_cleanup_close_ int tree =
		open_tree(AT_FDCWD, source, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | rec);

	if (tree < 0)
		return werr_sys(err, errno, "open_tree %s for %s", source, what);
	if (mount_setattr(tree, "", AT_EMPTY_PATH | rec, &attr, sizeof(attr)) < 0)
		return werr_sys(err, errno, "idmap %s for %s", source, what);
	if (move_mount(tree, "", destfd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
		return werr_sys(err, errno, "move_mount %s onto %s", source, what);
	return 0;
}

bool rootfs_mount_wants_idmap(const struct mount_spec *m)
{
	bool idmap = m->n_uid_maps || m->n_gid_maps;

	for (char *const *o = m->options; o && *o && !idmap; o++)
		idmap = strcmp(*o, "idmap") == 0 || strcmp(*o, "ridmap") == 0;
	return idmap;
}

int rootfs_make_idmapped_tree(const struct mount_spec *m, const struct ns_config *container_ns,
			      struct werr **err)
{
	struct mount_spec maps = *m;
	struct mount_attr attr = {.attr_set = MOUNT_ATTR_IDMAP};
	_cleanup_close_ int userns = -1;
	bool recursive = false;
	int tree;

	for (char *const *o = m->options; o && *o; o++)
		recursive |= strcmp(*o, "rbind") == 0 || strcmp(*o, "ridmap") == 0;
	if (!m->n_uid_maps && !m->n_gid_maps) {
		maps.uid_maps = container_ns->uid_maps;
		maps.n_uid_maps = container_ns->n_uid_maps;
		maps.gid_maps = container_ns->gid_maps;
		maps.n_gid_maps = container_ns->n_gid_maps;
	}
	if (!m->source)
		return werr_set(err, EINVAL, "idmapped mount on %s has no source", m->destination);
	userns = rootfs_userns_fd(&maps, err);
	if (userns < 0)
		return userns;
	attr.userns_fd = (__u64)userns;
	/* CLOEXEC is fine: clone copies the fd table; no exec may inherit the tree. */
	tree = open_tree(AT_FDCWD, m->source,
			 OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | (recursive ? AT_RECURSIVE : 0));
	if (tree < 0)
		return werr_sys(err, errno, "open_tree %s for idmapped mount on %s", m->source,
				m->destination);
	if (mount_setattr(tree, "", AT_EMPTY_PATH | (recursive ? AT_RECURSIVE : 0), &attr,
			  sizeof(attr)) < 0) {
		int e = errno;

		close(tree);
		return werr_sys(err, e, "idmap %s for mount on %s", m->source, m->destination);
	}
	return tree;
}
