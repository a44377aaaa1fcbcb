/* Cleanup attributes and small safe-I/O helpers used by every library. */
#ifndef WARD_LIB_UTIL_H
#define WARD_LIB_UTIL_H

#include <dirent.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/types.h>
#include <unistd.h>

#include "lib/err.h"

static inline void freep(void *p)
{
	free(*(void **)p);
}
static inline void closep(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}
static inline void fclosep(FILE **f)
{
	if (*f)
		fclose(*f);
}
static inline void closedirp(DIR **d)
{
	if (*d)
		closedir(*d);
}
#define _cleanup_free_ __attribute__((cleanup(freep)))
#define _cleanup_close_ __attribute__((cleanup(closep)))
#define _cleanup_fclose_ __attribute__((cleanup(fclosep)))
#define _cleanup_closedir_ __attribute__((cleanup(closedirp)))

/* Hand ownership out of a cleanup variable. */
#define steal_fd(fd) ({ int _t = (fd); (fd) = -1; _t; })
#define steal_ptr(p) ({ __typeof__(p) _t = (p); (p) = NULL; _t; })

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Allocation that aborts on OOM: ward cannot do anything useful without memory. */
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void strv_free(char **v);
size_t strv_len(char *const *v);

/* Read a whole file (at dirfd-relative path, AT_FDCWD allowed). *out is NUL-terminated. */
int read_file_at(int dirfd, const char *path, char **out, size_t *len, struct werr **err);
static inline int read_file(const char *path, char **out, size_t *len, struct werr **err)
{
	return read_file_at(-100 /* AT_FDCWD */, path, out, len, err);
}
/* Write buf to an existing file (O_WRONLY|O_TRUNC unless flags given). */
int write_file_at(int dirfd, const char *path, const void *buf, size_t len, struct werr **err);
static inline int write_file(const char *path, const void *buf, size_t len, struct werr **err)
{
	return write_file_at(-100, path, buf, len, err);
}
/* Write to dir/name via a temp file + rename, so readers never see a partial file. */
int write_file_atomic(int dirfd, const char *name, const void *buf, size_t len, mode_t mode,
		      struct werr **err);
/* Loop over short writes/EINTR. Returns 0 or -errno. */
int write_all(int fd, const void *buf, size_t len);
ssize_t read_all(int fd, void *buf, size_t len);

/* mkdir -p on a host path (not inside a container root: see rootfs/ for that). */
int mkdir_p(const char *path, mode_t mode, struct werr **err);

/* The current UTC time as RFC 3339 with nanoseconds ("2026-01-02T03:04:05.123456789Z"). */
void now_rfc3339(char *buf, size_t len);

/* Parse a whole decimal string; 0 or -EINVAL/-ERANGE. */
int parse_int64(const char *s, long long *out);

#endif
