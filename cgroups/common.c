/* File helpers shared by the cgroup backends. Every error names the full cgroup file. */
#include "cgroups/cgroups_int.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/util.h"

int cg_write(int dirfd, const char *dir, const char *file, const char *val, struct werr **err)
{
	_cleanup_close_ int fd = openat(dirfd, file, O_WRONLY | O_CLOEXEC);
	size_t len = strlen(val);
	ssize_t n;

	if (fd < 0)
		return werr_sys(err, errno, "open %s/%s", dir, file);
	/* one write(2): the kernel parses each write as one value */
	n = write(fd, val, len);
	if (n < 0)
		return werr_sys(err, errno, "write \"%s\" to %s/%s", val, dir, file);
	if ((size_t)n != len)
		return werr_set(err, EIO, "short write of \"%s\" to %s/%s", val, dir, file);
	return 0;
}

int cg_read(int dirfd, const char *dir, const char *file, char **out, struct werr **err)
{
	/* AT_FDCWD: no directory fd, the file is dir/file (not file in the cwd) */
	_cleanup_free_ char *full = dirfd == AT_FDCWD ? xasprintf("%s/%s", dir, file) : NULL;
	size_t len;
	int r = read_file_at(dirfd, full ? full : file, out, &len, NULL);

	if (r < 0)
		return werr_sys(err, -r, "read %s/%s", dir, file);
	return 0;
}

int cg_read_u64(int dirfd, const char *dir, const char *file, uint64_t *v, struct werr **err)
{
	_cleanup_free_ char *s = NULL;
	char *end;
	int r = cg_read(dirfd, dir, file, &s, err);

	if (r < 0)
		return r;
	if (strncmp(s, "max", 3) == 0) {
		*v = UINT64_MAX;
		return 0;
	}
	errno = 0;
	*v = strtoull(s, &end, 10);
	if (errno || end == s)
		return werr_set(err, EINVAL, "%s/%s: not a number: %.32s", dir, file, s);
	return 0;
}

bool cg_keyed_u64(const char *text, const char *key, uint64_t *v)
{
	size_t kl = strlen(key);

	for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
		if (strncmp(p, key, kl) == 0 && p[kl] == ' ') {
			*v = strtoull(p + kl + 1, NULL, 10);
			return true;
		}
	}
	return false;
}

static int psi_line(const char *p, struct cg_psi_line *l)
{
	return sscanf(p, " avg10=%lf avg60=%lf avg300=%lf total=%" SCNu64, &l->avg10, &l->avg60,
		      &l->avg300, &l->total) == 4
		       ? 0
		       : -EINVAL;
}

int cg_parse_psi(const char *text, struct cg_psi *psi)
{
	memset(psi, 0, sizeof(*psi));
	for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
		if (strncmp(p, "some", 4) == 0 && psi_line(p + 4, &psi->some) < 0)
			return -EINVAL;
		if (strncmp(p, "full", 4) == 0 && psi_line(p + 4, &psi->full) < 0)
			return -EINVAL;
	}
	psi->present = true;
	return 0;
}

static int pid_cmp(const void *a, const void *b)
{
	pid_t x = *(const pid_t *)a, y = *(const pid_t *)b;

	return (x > y) - (x < y);
}

static int procs_walk(const char *dir, pid_t **pids, size_t *n, size_t *cap, struct werr **err)
{
	_cleanup_free_ char *procs = NULL;
	_cleanup_closedir_ DIR *d = NULL;
	struct dirent *de;
	int r = cg_read(AT_FDCWD, dir, "cgroup.procs", &procs, NULL);

	if (r < 0) /* a child cgroup removed under us is not an error */
		return access(dir, F_OK) == 0 ? cg_read(AT_FDCWD, dir, "cgroup.procs", &procs, err)
					      : 0;
	for (char *p = procs; *p;) {
		char *end;
		long v = strtol(p, &end, 10);

		if (end == p)
			break;
		if (*n == *cap) {
			*cap = *cap ? *cap * 2 : 16;
			*pids = xrealloc(*pids, *cap * sizeof(**pids));
		}
		(*pids)[(*n)++] = (pid_t)v;
		p = end;
		while (*p == '\n')
			p++;
	}
	d = opendir(dir);
	if (!d)
		return 0;
	while ((de = readdir(d))) {
		_cleanup_free_ char *sub = NULL;

		if (de->d_type != DT_DIR || de->d_name[0] == '.')
			continue;
		sub = xasprintf("%s/%s", dir, de->d_name);
		r = procs_walk(sub, pids, n, cap, err);
		if (r < 0)
			return r;
	}
	return 0;
}

int cg_read_procs_tree(const char *dir, pid_t **pids, size_t *n, struct werr **err)
{
	size_t cap = *n;
	int r = procs_walk(dir, pids, n, &cap, err);

	if (r == 0 && *n > 1)
		qsort(*pids, *n, sizeof(**pids), pid_cmp);
	return r;
}

int cg_rmdir_tree(const char *dir, struct werr **err)
{
	_cleanup_closedir_ DIR *d = opendir(dir);
	struct dirent *de;

	if (!d)
		return errno == ENOENT ? 0 : werr_sys(err, errno, "open %s", dir);
	while ((de = readdir(d))) {
		_cleanup_free_ char *sub = NULL;
		int r;

		if (de->d_type != DT_DIR || de->d_name[0] == '.')
			continue;
		sub = xasprintf("%s/%s", dir, de->d_name);
		r = cg_rmdir_tree(sub, err);
		if (r < 0)
			return r;
	}
	if (rmdir(dir) == 0 || errno == ENOENT)
		return 0;
	if (errno == EBUSY)
		return werr_set(err, EBUSY, "cgroup %s still has processes", dir);
	return werr_sys(err, errno, "rmdir %s", dir);
}

int cgroup_parse_cpulist(const char *s, uint64_t **out, size_t *n)
{
	uint64_t *v = NULL;
	size_t cnt = 0;
	const char *p = s;

	*out = NULL;
	*n = 0;
	while (*p && *p != '\n') {
		char *end;
		unsigned long lo = strtoul(p, &end, 10), hi;

		if (end == p || lo > UINT16_MAX)
			goto bad;
		hi = lo;
		if (*end == '-') {
			p = end + 1;
			hi = strtoul(p, &end, 10);
			if (end == p || hi < lo || hi > UINT16_MAX)
				goto bad;
		}
		v = xrealloc(v, (cnt + hi - lo + 1) * sizeof(*v));
		for (unsigned long i = lo; i <= hi; i++)
			v[cnt++] = i;
		if (*end == ',')
			end++;
		else if (*end && *end != '\n')
			goto bad;
		p = end;
	}
	*out = v;
	*n = cnt;
	return 0;
bad:
	free(v);
	return -EINVAL;
}
