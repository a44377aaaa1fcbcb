#include "runtime/state.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <yajl/yajl_gen.h>
#include <yajl/yajl_tree.h>

#include "lib/util.h"
#include "runtime/spec_gen.h"

const char *cstatus_name(enum cstatus s)
{
	static const char *names[] = { "creating", "created", "running", "stopped", "paused" };

	return names[s];
}

int state_check_id(const char *id, struct werr **err)
{
	if (!id || !*id)
		return werr_set(err, EINVAL, "container id cannot be empty");
	if (strcmp(id, ".") == 0 || strcmp(id, "..") == 0 || strlen(id) > 1024)
		return werr_set(err, EINVAL, "invalid container id format: %s", id);
	for (const char *p = id; *p; p++) {
		char c = *p;

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '+' || c == '-' || c == '.'))
			return werr_set(err, EINVAL, "invalid container id format: %s", id);
	}
	return 0;
}

char *state_dir(const char *root, const char *id)
{
	return xasprintf("%s/%s", root, id);
}

int process_stat(pid_t pid, char *state, pid_t *ppid, unsigned long long *start_time)
{
	_cleanup_free_ char *buf = NULL;
	char path[64];
	char *p;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	if (read_file(path, &buf, NULL, NULL) < 0)
		return -ESRCH;
	/* The command name may hold spaces and parentheses: fields start after the last ')'. */
	p = strrchr(buf, ')');
	if (!p || !p[1] || !p[2])
		return -EINVAL;
	p += 2;
	if (state)
		*state = *p;
	if (ppid)
		*ppid = (pid_t)strtol(p + 1, NULL, 10);
	for (int field = 3; field < 22 && p; field++) {
		p = strchr(p, ' ');
		if (p)
			p++;
	}
	if (start_time)
		*start_time = p ? strtoull(p, NULL, 10) : 0;
	return 0;
}

unsigned long long process_start_time(pid_t pid)
{
	unsigned long long t = 0;
	char state = 0;

	if (process_stat(pid, &state, NULL, &t) < 0 || state == 'Z' || state == 'X')
		return 0;
	return t;
}

bool process_alive(pid_t pid, unsigned long long start_time)
{
	unsigned long long t;

	if (pid <= 0)
		return false;
	t = process_start_time(pid);
	return t != 0 && t == start_time;
}

static const char *tree_str(yajl_val root, const char *key)
{
	const char *path[] = { key, NULL };
	yajl_val v = yajl_tree_get(root, path, yajl_t_string);

	return v ? YAJL_GET_STRING(v) : NULL;
}

static long long tree_int(yajl_val root, const char *key)
{
	const char *path[] = { key, NULL };
	yajl_val v = yajl_tree_get(root, path, yajl_t_number);

	return v && YAJL_IS_INTEGER(v) ? YAJL_GET_INTEGER(v) : 0;
}

static enum cstatus compute_status(const char *dir, const struct cstate *st)
{
	_cleanup_free_ char *fifo = xasprintf("%s/exec.fifo", dir);

	if (!process_alive(st->pid, st->start_time))
		return ST_STOPPED;
	/* before the fifo: a created container can be paused too (as in runc) */
	if (st->cgroup_path && container_cgroup_frozen(st))
		return ST_PAUSED;
	if (access(fifo, F_OK) == 0)
		return ST_CREATED;
	return ST_RUNNING;
}

int state_load(const char *root, const char *id, struct cstate *out, struct werr **err)
{
	_cleanup_free_ char *dir = state_dir(root, id);
	_cleanup_free_ char *path = xasprintf("%s/state.json", dir);
	_cleanup_free_ char *text = NULL;
	char ebuf[256];
	yajl_val tree, ann;
	const char *ann_path[] = { "annotations", NULL };
	int r;

	memset(out, 0, sizeof(*out));
	r = state_check_id(id, err);
	if (r < 0)
		return r;
	if (read_file(path, &text, NULL, NULL) < 0)
		return werr_set(err, ENOENT, "container \"%s\" does not exist", id);
	tree = yajl_tree_parse(text, ebuf, sizeof(ebuf));
	if (!tree)
		return werr_set(err, EINVAL, "%s: invalid JSON: %s", path, ebuf);
	out->id = xstrdup(id);
	out->pid = (pid_t)tree_int(tree, "pid");
	out->start_time = (unsigned long long)tree_int(tree, "wardStartTime");
	out->own_pid_ns = tree_int(tree, "wardOwnPidNs") != 0;
	out->no_new_keyring = tree_int(tree, "wardNoNewKeyring") != 0;
	out->bundle = xstrdup(tree_str(tree, "bundle"));
	out->rootfs = xstrdup(tree_str(tree, "rootfs"));
	out->created = xstrdup(tree_str(tree, "created"));
	out->owner = xstrdup(tree_str(tree, "owner"));
	if (tree_str(tree, "wardCgroupPath") && *tree_str(tree, "wardCgroupPath"))
		out->cgroup_path = xstrdup(tree_str(tree, "wardCgroupPath"));
	ann = yajl_tree_get(tree, ann_path, yajl_t_object);
	if (ann && YAJL_GET_OBJECT(ann)->len) {
		size_t n = YAJL_GET_OBJECT(ann)->len;

		out->annotations = xcalloc(n, sizeof(struct kv));
		for (size_t i = 0; i < n; i++) {
			yajl_val v = YAJL_GET_OBJECT(ann)->values[i];

			out->annotations[out->n_annotations].key =
				xstrdup(YAJL_GET_OBJECT(ann)->keys[i]);
			out->annotations[out->n_annotations++].value =
				xstrdup(YAJL_IS_STRING(v) ? YAJL_GET_STRING(v) : "");
		}
	}
	yajl_tree_free(tree);
	out->status = compute_status(dir, out);
	return 0;
}

static char *gen_state(const struct cstate *st, enum cstatus status, bool pretty, bool internal)
{
	yajl_gen g = yajl_gen_alloc(NULL);
	const unsigned char *buf;
	size_t len;
	char *out;

	yajl_gen_config(g, yajl_gen_beautify, pretty ? 1 : 0);
	yajl_gen_config(g, yajl_gen_indent_string, "  ");
	jg_kopen(g, NULL);
	jg_kstr(g, "ociVersion", "1.2.0");
	jg_kstr(g, "id", st->id);
	jg_kint(g, "pid", status == ST_STOPPED && !internal ? 0 : st->pid);
	jg_kstr(g, "status", cstatus_name(status));
	jg_kstr(g, "bundle", st->bundle);
	jg_kstr(g, "rootfs", st->rootfs);
	jg_kstr(g, "created", st->created);
	if (st->n_annotations || internal) {
		jg_kopen(g, "annotations");
		for (size_t i = 0; i < st->n_annotations; i++)
			jg_kstr(g, st->annotations[i].key, st->annotations[i].value);
		jg_close(g);
	}
	jg_kstr(g, "owner", st->owner);
	if (internal) {
		jg_kint(g, "wardStartTime", (long long)st->start_time);
		jg_kint(g, "wardOwnPidNs", st->own_pid_ns ? 1 : 0);
		if (st->no_new_keyring)
			jg_kint(g, "wardNoNewKeyring", 1);
		if (st->cgroup_path)
			jg_kstr(g, "wardCgroupPath", st->cgroup_path);
	}
	jg_close(g);
	yajl_gen_get_buf(g, &buf, &len);
	while (len > 0 && buf[len - 1] == '\n')
		len--; /* beautify ends with a newline; callers add their own */
	out = xmalloc(len + 1);
	memcpy(out, buf, len);
	out[len] = '\0';
	yajl_gen_free(g);
	return out;
}

char *state_to_json(const struct cstate *st, enum cstatus status, bool pretty)
{
	return gen_state(st, status, pretty, false);
}

int state_save(const char *root, const struct cstate *st, struct werr **err)
{
	_cleanup_free_ char *dir = state_dir(root, st->id);
	_cleanup_free_ char *json = gen_state(st, ST_CREATED, false, true);
	_cleanup_close_ int dfd = open(dir, O_DIRECTORY | O_RDONLY | O_CLOEXEC);

	if (dfd < 0)
		return werr_sys(err, errno, "open state directory %s", dir);
	return write_file_atomic(dfd, "state.json", json, strlen(json), 0600, err);
}

void cstate_free(struct cstate *st)
{
	free(st->id);
	free(st->bundle);
	free(st->rootfs);
	free(st->created);
	free(st->owner);
	free(st->cgroup_path);
	for (size_t i = 0; i < st->n_annotations; i++) {
		free(st->annotations[i].key);
		free(st->annotations[i].value);
	}
	free(st->annotations);
	memset(st, 0, sizeof(*st));
}

int state_lock(const char *root, const char *id, struct werr **err)
{
	_cleanup_free_ char *path = xasprintf("%s/%s/.lock", root, id);
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);

	if (fd < 0) {
		if (errno == ENOENT)
			return werr_set(err, ENOENT, "container \"%s\" does not exist", id);
		return werr_sys(err, errno, "open %s", path);
	}
	if (flock(fd, LOCK_EX) < 0) {
		int e = errno;

		close(fd);
		return werr_sys(err, e, "lock %s", path);
	}
	return fd;
}

static int remove_tree_at(int dfd, const char *name)
{
	_cleanup_close_ int fd = openat(dfd, name, O_DIRECTORY | O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	DIR *d;
	struct dirent *e;

	if (fd < 0)
		return unlinkat(dfd, name, 0) < 0 && errno != ENOENT ? -errno : 0;
	d = fdopendir(fd);
	if (!d)
		return -errno;
	fd = -1;
	while ((e = readdir(d))) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		if (e->d_type == DT_DIR)
			remove_tree_at(dirfd(d), e->d_name);
		else
			unlinkat(dirfd(d), e->d_name, 0);
	}
	closedir(d);
	return unlinkat(dfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT ? -errno : 0;
}

int state_remove(const char *root, const char *id, struct werr **err)
{
	_cleanup_close_ int rfd = open(root, O_DIRECTORY | O_RDONLY | O_CLOEXEC);
	int r;

	if (rfd < 0)
		return werr_sys(err, errno, "open %s", root);
	r = remove_tree_at(rfd, id);
	if (r < 0)
		return werr_sys(err, -r, "remove state directory %s/%s", root, id);
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

char **state_list_ids(const char *root)
{
	_cleanup_closedir_ DIR *d = opendir(root);
	struct dirent *e;
	size_t n = 0, cap = 8;
	char **ids = xcalloc(cap, sizeof(char *));

	while (d && (e = readdir(d))) {
		if (e->d_name[0] == '.' || state_check_id(e->d_name, NULL) < 0)
			continue;
		if (n + 1 >= cap) {
			cap *= 2;
			ids = xrealloc(ids, cap * sizeof(char *));
		}
		ids[n++] = xstrdup(e->d_name);
	}
	ids[n] = NULL;
	qsort(ids, n, sizeof(char *), cmp_str);
	return ids;
}
