/* ward-init's job, read from the kernel command line (/proc/cmdline; the kernel does not hand
 * dotted parameters to init). Header-only so that the static guest binary and the host's unit
 * test (tests/unit/test_ward_init.c) compile the same code.
 *
 *   ward.args=ITEM,ITEM,...   the workload's argv (required)
 *   ward.env=ITEM,...         its environment, NAME=VALUE items (default: PATH only)
 *   ward.cwd=PATH             working directory (default /)
 *   ward.hostname=NAME        hostname (default: left as the kernel's)
 *   ward.uid=N ward.gid=N     credentials (default 0)
 *   ward.root=DEV             the rootfs block device (default /dev/vda)
 *   ward.rootfstype=TYPE      its filesystem (default ext4)
 *   ward.overlay=0|1          1 (default): a tmpfs overlay makes the read-only root writable
 *   ward.stdio=console|ports  the workload's stdin/stdout/stderr: the serial console (default),
 *                             or the virtio-console ports ward.stdin, ward.stdout, ward.stderr
 *   ward.rlimits=R:S:H,...    the workload's rlimits: resource number R (RLIMIT_*), soft and
 *                             hard limit in decimal, "inf" for RLIM_INFINITY
 *
 * Values are percent-encoded: %XX is the byte 0xXX, so a space is %20 and a comma inside a list
 * item is %2C. Everything else on the command line is the kernel's. */
#ifndef WARD_INIT_CMDLINE_H
#define WARD_INIT_CMDLINE_H

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#define WINIT_MAX_ARGS 256
#define WINIT_MAX_ENV 256
#define WINIT_MAX_RLIMITS 16
#define WINIT_DEFAULT_PATH "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

struct winit_rlimit {
	int resource;
	unsigned long long soft, hard; /* ~0ull: infinity */
};

struct winit_job {
	char *args[WINIT_MAX_ARGS + 1];
	int n_args;
	char *env[WINIT_MAX_ENV + 1];
	int n_env;
	const char *cwd, *hostname, *root, *rootfstype;
	bool overlay;
	bool stdio_ports;
	uid_t uid;
	gid_t gid;
	struct winit_rlimit rlimits[WINIT_MAX_RLIMITS];
	int n_rlimits;
};

static inline int winit_hex(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decode %XX in place; -1 on a malformed escape or an encoded NUL. */
static inline int winit_unescape(char *s)
{
	char *out = s;

	for (; *s; s++) {
		if (*s == '%') {
			int hi = winit_hex(s[1]), lo = hi < 0 ? -1 : winit_hex(s[2]);

			if (lo < 0 || (hi == 0 && lo == 0))
				return -1;
			*out++ = (char)(hi << 4 | lo);
			s += 2;
		} else {
			*out++ = *s;
		}
	}
	*out = '\0';
	return 0;
}

/* Split s on ',' into out[0..max) (NULL-terminated), each item decoded: the count, or -1. */
static inline int winit_split_list(char *s, char **out, int max)
{
	int n = 0;

	while (*s) {
		char *comma = strchr(s, ',');

		if (n >= max)
			return -1;
		if (comma)
			*comma = '\0';
		if (winit_unescape(s) < 0)
			return -1;
		out[n++] = s;
		if (!comma)
			break;
		s = comma + 1;
	}
	out[n] = NULL;
	return n;
}

static inline int winit_parse_id(const char *s, unsigned *out)
{
	char *end;
	unsigned long v;

	if (!*s || *s == '-')
		return -1;
	v = strtoul(s, &end, 10);
	if (*end || v > 0xfffffffeul)
		return -1;
	*out = (unsigned)v;
	return 0;
}

static inline int winit_parse_limit(const char *s, const char *end, unsigned long long *out)
{
	char *e;

	if (end - s == 3 && strncmp(s, "inf", 3) == 0) {
		*out = ~0ull;
		return 0;
	}
	if (s == end || *s < '0' || *s > '9')
		return -1;
	*out = strtoull(s, &e, 10);
	return e == end ? 0 : -1;
}

/* "R:S:H,R:S:H" into job->rlimits; -1 when malformed or too many. */
static inline int winit_parse_rlimits(char *s, struct winit_job *job)
{
	char *items[WINIT_MAX_RLIMITS + 1];
	int n = winit_split_list(s, items, WINIT_MAX_RLIMITS);

	if (n < 0)
		return -1;
	for (int i = 0; i < n; i++) {
		struct winit_rlimit *l = &job->rlimits[i];
		char *c1 = strchr(items[i], ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
		unsigned long long res;

		if (!c2 || winit_parse_limit(items[i], c1, &res) < 0 || res > 64 ||
		    winit_parse_limit(c1 + 1, c2, &l->soft) < 0 ||
		    winit_parse_limit(c2 + 1, c2 + strlen(c2), &l->hard) < 0)
			return -1;
		l->resource = (int)res;
	}
	job->n_rlimits = n;
	return 0;
}

/* Parse cmdline (modified in place; job points into it). 0, or -1 with *bad naming the
 * offending parameter. */
static inline int winit_parse_cmdline(char *cmdline, struct winit_job *job, const char **bad)
{
	char *save = NULL, *tok;

	memset(job, 0, sizeof(*job));
	job->cwd = "/";
	job->root = "/dev/vda";
	job->rootfstype = "ext4";
	job->overlay = true;
	*bad = NULL;
	for (tok = strtok_r(cmdline, " \t\n", &save); tok; tok = strtok_r(NULL, " \t\n", &save)) {
		char *val = strchr(tok, '=');
		const char *key = tok;
		unsigned id;

		if (strncmp(tok, "ward.", 5) != 0 || !val)
			continue;
		*val++ = '\0';
		*bad = key;
		if (strcmp(key, "ward.args") == 0) {
			job->n_args = winit_split_list(val, job->args, WINIT_MAX_ARGS);
			if (job->n_args < 0)
				return -1;
		} else if (strcmp(key, "ward.env") == 0) {
			job->n_env = winit_split_list(val, job->env, WINIT_MAX_ENV);
			if (job->n_env < 0)
				return -1;
			for (int i = 0; i < job->n_env; i++)
				if (!strchr(job->env[i], '=') || job->env[i][0] == '=')
					return -1;
		} else if (strcmp(key, "ward.uid") == 0 || strcmp(key, "ward.gid") == 0) {
			if (winit_parse_id(val, &id) < 0)
				return -1;
			if (key[5] == 'u')
				job->uid = id;
			else
				job->gid = id;
		} else if (strcmp(key, "ward.rlimits") == 0) {
			if (winit_parse_rlimits(val, job) < 0)
				return -1;
		} else if (strcmp(key, "ward.stdio") == 0) {
			if (strcmp(val, "console") != 0 && strcmp(val, "ports") != 0)
				return -1;
			job->stdio_ports = val[0] == 'p';
		} else if (strcmp(key, "ward.overlay") == 0) {
			if (strcmp(val, "0") != 0 && strcmp(val, "1") != 0)
				return -1;
			job->overlay = val[0] == '1';
		} else {
			const char **field = strcmp(key, "ward.cwd") == 0	 ? &job->cwd
					     : strcmp(key, "ward.hostname") == 0 ? &job->hostname
					     : strcmp(key, "ward.root") == 0	 ? &job->root
					     : strcmp(key, "ward.rootfstype") == 0
						     ? &job->rootfstype
						     : NULL;
			if (!field || winit_unescape(val) < 0 || !*val)
				return -1;
			*field = val;
		}
	}
	*bad = "ward.args";
	if (job->n_args == 0 || job->args[0][0] == '\0')
		return -1;
	if (job->cwd[0] != '/') {
		*bad = "ward.cwd";
		return -1;
	}
	*bad = NULL;
	if (job->n_env == 0) {
		job->env[0] = (char *)WINIT_DEFAULT_PATH;
		job->env[1] = NULL;
		job->n_env = 1;
	}
	return 0;
}

/* The exit status a shell would report: the code, or 128 + the signal. */
static inline int winit_exit_status(int wstatus)
{
	if ((wstatus & 0x7f) == 0)
		return (wstatus >> 8) & 0xff;
	return 128 + (wstatus & 0x7f);
}

#endif
