/* The container process just before execve: rlimits, scheduling, hostname, cwd, fds, exec.
 * Users and capabilities live in caps.c. */
#include "runtime/process.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/personality.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "lib/util.h"

#define DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

int process_apply_rlimits(const struct spec_process *p, struct werr **err)
{
	for (size_t i = 0; i < p->n_rlimits; i++) {
		const struct spec_rlimit *rl = &p->rlimits[i];
		struct rlimit lim = {.rlim_cur = rl->soft, .rlim_max = rl->hard};

		if (setrlimit(rl->resource, &lim) < 0)
			return werr_sys(err, errno, "setrlimit %s (soft %llu, hard %llu)",
					rl->type ? rl->type : "?", (unsigned long long)rl->soft,
					(unsigned long long)rl->hard);
	}
	return 0;
}

static int apply_oom_score_adj(int adj, struct werr **err)
{
	char buf[32];
	int len = snprintf(buf, sizeof(buf), "%d", adj);

	if (write_file("/proc/self/oom_score_adj", buf, (size_t)len, err) < 0)
		return werr_wrap(err, "set oomScoreAdj %d", adj);
	return 0;
}

static const struct {
	const char *name;
	unsigned long value;
} personality_flags[] = {
	{"UNAME26", UNAME26},
	{"ADDR_NO_RANDOMIZE", ADDR_NO_RANDOMIZE},
	{"FDPIC_FUNCPTRS", FDPIC_FUNCPTRS},
	{"MMAP_PAGE_ZERO", MMAP_PAGE_ZERO},
	{"ADDR_COMPAT_LAYOUT", ADDR_COMPAT_LAYOUT},
	{"READ_IMPLIES_EXEC", READ_IMPLIES_EXEC},
	{"ADDR_LIMIT_32BIT", ADDR_LIMIT_32BIT},
	{"SHORT_INODE", SHORT_INODE},
	{"WHOLE_SECONDS", WHOLE_SECONDS},
	{"STICKY_TIMEOUTS", STICKY_TIMEOUTS},
	{"ADDR_LIMIT_3GB", ADDR_LIMIT_3GB},
};

static int apply_personality(const struct spec_personality *pers, struct werr **err)
{
	unsigned long persona = pers->domain;

	for (char **f = pers->flags; f && *f; f++) {
		size_t i;

		for (i = 0; i < ARRAY_SIZE(personality_flags); i++)
			if (strcmp(*f, personality_flags[i].name) == 0)
				break;
		if (i == ARRAY_SIZE(personality_flags))
			return werr_set(err, EINVAL, "personality: unknown flag \"%s\"", *f);
		persona |= personality_flags[i].value;
	}
	if (personality(persona) < 0)
		return werr_sys(err, errno, "personality 0x%lx", persona);
	return 0;
}

/* The kernel's struct sched_attr, version 0 layout (glibc before 2.41 does not declare it). */
struct ward_sched_attr {
	uint32_t size;
	uint32_t sched_policy;
	uint64_t sched_flags;
	int32_t sched_nice;
	uint32_t sched_priority;
	uint64_t sched_runtime;
	uint64_t sched_deadline;
	uint64_t sched_period;
};

static int apply_scheduler(const struct spec_scheduler *s, struct werr **err)
{
	struct ward_sched_attr attr = {
		.size = sizeof(attr),
		.sched_policy = (uint32_t)s->policy,
		.sched_flags = s->flags,
		.sched_nice = s->nice,
		.sched_priority = (uint32_t)s->priority,
		.sched_runtime = s->runtime,
		.sched_deadline = s->deadline,
		.sched_period = s->period,
	};

	if (syscall(SYS_sched_setattr, 0, &attr, 0) < 0)
		return werr_sys(err, errno,
				"scheduler: sched_setattr (policy %d, nice %d, priority %d)",
				s->policy, s->nice, s->priority);
	return 0;
}

#define WARD_IOPRIO_WHO_PROCESS 1
#define WARD_IOPRIO_CLASS_SHIFT 13

static int apply_io_priority(const struct spec_io_priority *io, struct werr **err)
{
	int value = (io->klass << WARD_IOPRIO_CLASS_SHIFT) | io->priority;

	if (syscall(SYS_ioprio_set, WARD_IOPRIO_WHO_PROCESS, 0, value) < 0)
		return werr_sys(err, errno, "ioPriority: ioprio_set (class %d, priority %d)",
				io->klass, io->priority);
	return 0;
}

int process_apply_sched_oom(const struct spec_process *p, const struct spec_personality *pers,
			    struct werr **err)
{
	int r;

	if (p->has_oom_score_adj) {
		r = apply_oom_score_adj(p->oom_score_adj, err);
		if (r < 0)
			return r;
	}
	if (pers && pers->set) {
		r = apply_personality(pers, err);
		if (r < 0)
			return r;
	}
	if (p->scheduler.set) {
		r = apply_scheduler(&p->scheduler, err);
		if (r < 0)
			return r;
	}
	if (p->io_priority.set) {
		r = apply_io_priority(&p->io_priority, err);
		if (r < 0)
			return r;
	}
	return 0;
}

int process_set_hostname(const char *hostname, const char *domainname, struct werr **err)
{
	if (hostname && sethostname(hostname, strlen(hostname)) < 0)
		return werr_sys(err, errno, "sethostname \"%s\"", hostname);
	if (domainname && setdomainname(domainname, strlen(domainname)) < 0)
		return werr_sys(err, errno, "setdomainname \"%s\"", domainname);
	return 0;
}

int process_chdir(const struct spec_process *p, struct werr **err)
{
	char buf[PATH_MAX];

	if (!p->cwd)
		return 0;
	if (chdir(p->cwd) < 0)
		return werr_sys(err, errno, "chdir to cwd (\"%s\") set in config.json failed",
				p->cwd);
	/* A cwd reached through a leaked host fd reads as "(unreachable)/..." (or ENOENT from
	 * newer glibc): refuse to exec there (CVE-2024-21626). */
	if (!getcwd(buf, sizeof(buf)))
		return werr_sys(err, errno, "cwd (\"%s\"): getcwd after chdir", p->cwd);
	if (buf[0] != '/')
		return werr_set(err, EPERM, "cwd (\"%s\") is outside the container root: \"%s\"",
				p->cwd, buf);
	return 0;
}

static int cloexec_from_proc(unsigned int first, struct werr **err)
{
	_cleanup_closedir_ DIR *dir = opendir("/proc/self/fd");
	struct dirent *de;

	if (!dir)
		return werr_sys(err, errno, "open /proc/self/fd");
	while ((de = readdir(dir))) {
		long long fd;
		int flags;

		if (parse_int64(de->d_name, &fd) < 0 || fd < first || fd == dirfd(dir))
			continue;
		flags = fcntl((int)fd, F_GETFD);
		if (flags < 0 || (flags & FD_CLOEXEC))
			continue;
		if (fcntl((int)fd, F_SETFD, flags | FD_CLOEXEC) < 0)
			return werr_sys(err, errno, "set close-on-exec on fd %lld", fd);
	}
	return 0;
}

int process_close_fds(int preserve_fds, struct werr **err)
{
	unsigned int first = 3 + (unsigned int)(preserve_fds > 0 ? preserve_fds : 0);

	if (syscall(SYS_close_range, first, ~0U, CLOSE_RANGE_CLOEXEC) == 0)
		return 0;
	if (errno != ENOSYS && errno != EINVAL)
		return werr_sys(err, errno, "close_range from fd %u", first);
	return cloexec_from_proc(first, err);
}

/* strerror in the lower case Go (and so runc) uses: "permission denied". */
static const char *strerror_lower(int code, char *buf, size_t size)
{
	snprintf(buf, size, "%s", strerror(code));
	if (buf[0] && !isupper((unsigned char)buf[1]))
		buf[0] = (char)tolower((unsigned char)buf[0]);
	return buf;
}

static const char *env_path(char *const *env)
{
	const char *path = NULL;

	/* The last definition wins, as with execve's own view of the environment. */
	for (char *const *e = env; e && *e; e++)
		if (strncmp(*e, "PATH=", 5) == 0)
			path = *e + 5;
	return path ? path : DEFAULT_PATH;
}

/* 0 when file is a regular file with an execute bit, else -errno. */
static int check_executable(const char *file)
{
	struct stat st;

	if (stat(file, &st) < 0)
		return -errno;
	if (S_ISDIR(st.st_mode) || !(st.st_mode & 0111))
		return -EACCES;
	return 0;
}

int process_find_executable(char *const *env, const char *name, char **out, struct werr **err)
{
	const char *path = env_path(env);

	if (!name || !*name)
		return werr_set(err, ENOENT, "exec: \"\": executable file not found in $PATH");
	if (strchr(name, '/')) {
		*out = xstrdup(name);
		return 0;
	}
	for (const char *dir = path;; dir++) {
		const char *end = strchrnul(dir, ':');
		_cleanup_free_ char *file = NULL;
		int r;

		/* An empty element means the current directory, as in execvp. */
		if (end == dir)
			file = xasprintf("./%s", name);
		else
			file = xasprintf("%.*s/%s", (int)(end - dir), dir, name);
		/* Like Go's LookPath (runc): entries that are not executable are skipped. */
		r = check_executable(file);
		if (r == 0) {
			*out = steal_ptr(file);
			return 0;
		}
		if (*end == '\0')
			break;
		dir = end;
	}
	return werr_set(err, ENOENT, "exec: \"%s\": executable file not found in $PATH", name);
}

char *process_passwd_home(const char *passwd, uid_t uid)
{
	for (const char *l = passwd; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
		size_t len = strcspn(l, "\n");
		const char *f[7];
		size_t n = 0;
		char *end;
		unsigned long long u;

		/* name:password:uid:gid:gecos:home:shell */
		for (const char *s = l; n < 7 && s <= l + len; s += strcspn(s, ":\n") + 1)
			f[n++] = s;
		if (n < 6 || !isdigit((unsigned char)*f[2]))
			continue;
		errno = 0;
		u = strtoull(f[2], &end, 10);
		if (errno || *end != ':' || u != (unsigned long long)uid)
			continue;
		len = strcspn(f[5], ":\n");
		return len ? xasprintf("%.*s", (int)len, f[5]) : NULL;
	}
	return NULL;
}

/* The container's /etc/passwd (we are inside its root by now): a regular file only, a bounded
 * read, so that the container cannot hold us on a fifo or an endless file. */
static char *container_home(uid_t uid)
{
	_cleanup_close_ int fd = open("/etc/passwd", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	_cleanup_free_ char *text = NULL;
	struct stat sb;
	size_t used = 0, cap = 1 << 20;
	char *home;

	if (fd < 0 || fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode))
		return xstrdup("/");
	text = xmalloc(cap + 1);
	while (used < cap) {
		ssize_t r = read(fd, text + used, cap - used);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		used += (size_t)r;
	}
	text[used] = '\0';
	home = process_passwd_home(text, uid);
	return home ? home : xstrdup("/");
}

static bool env_has(char *const *env, const char *key)
{
	size_t n = strlen(key);

	for (char *const *e = env; e && *e; e++)
		if (strncmp(*e, key, n) == 0 && (*e)[n] == '=')
			return true;
	return false;
}

void process_set_home(struct spec_process *p)
{
	_cleanup_free_ char *dir = NULL;
	size_t n = strv_len(p->env);

	if (env_has(p->env, "HOME"))
		return;
	dir = container_home(getuid());
	p->env = xrealloc(p->env, (n + 2) * sizeof(char *));
	p->env[n] = xasprintf("HOME=%s", dir);
	p->env[n + 1] = NULL;
}

int process_exec(const struct spec_process *p, struct werr **err)
{
	static char *const empty_env[] = {NULL};
	char *const *env = p->env ? p->env : empty_env;
	_cleanup_free_ char *file = NULL;
	char ebuf[128];
	int r;

	if (!p->args || !p->args[0])
		return werr_set(err, EINVAL, "exec: process.args is empty");
	r = process_find_executable(env, p->args[0], &file, err);
	if (r < 0)
		return r;
	execve(file, p->args, env);
	r = errno;
	return werr_set(err, r, "exec %s: %s", file, strerror_lower(r, ebuf, sizeof(ebuf)));
}
