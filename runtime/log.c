#include "runtime/log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lib/util.h"

static int log_fd = -1;
static bool log_json;
static bool log_debug_on;

int log_init(const char *path, const char *format, bool debug)
{
	log_debug_on = debug;
	if (format && strcmp(format, "json") == 0)
		log_json = true;
	else if (format && strcmp(format, "text") != 0)
		return -EINVAL;
	if (path) {
		log_fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
		if (log_fd < 0)
			return -errno;
	}
	return 0;
}

char *json_quote(const char *s)
{
	size_t n = strlen(s), used = 0;
	char *out = xmalloc(n * 6 + 3);

	out[used++] = '"';
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\') {
			out[used++] = '\\';
			out[used++] = (char)*p;
		} else if (*p == '\n') {
			out[used++] = '\\';
			out[used++] = 'n';
		} else if (*p < 0x20) {
			used += (size_t)sprintf(out + used, "\\u%04x", *p);
		} else {
			out[used++] = (char)*p;
		}
	}
	out[used++] = '"';
	out[used] = '\0';
	return out;
}

static const char *level_name(enum log_level l)
{
	static const char *names[] = { "error", "warning", "info", "debug" };

	return names[l];
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	_cleanup_free_ char *msg = NULL;
	_cleanup_free_ char *line = NULL;
	char when[64];
	va_list ap;

	if (level == LOG_DEBUG && !log_debug_on)
		return;
	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	va_end(ap);
	if (!msg)
		return;
	/* Whole seconds, as runc's log lines (logrus, time.RFC3339). */
	{
		time_t t = time(NULL);
		struct tm tm;

		gmtime_r(&t, &tm);
		strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	}
	if (log_json) {
		_cleanup_free_ char *q = json_quote(msg);

		line = xasprintf("{\"level\":\"%s\",\"msg\":%s,\"time\":\"%s\"}\n",
				 level_name(level), q, when);
	} else {
		_cleanup_free_ char *q = json_quote(msg);

		line = xasprintf("time=\"%s\" level=%s msg=%s\n", when, level_name(level), q);
	}
	if (log_fd >= 0)
		(void)write_all(log_fd, line, strlen(line));
	/*
	 * Without a log file every line goes to stderr. With one, as with runc, only errors reach
	 * stderr too, as the bare message (callers such as conmon prefix it with the runtime's
	 * name); warnings stay in the file: under conmon the runtime's stderr can be the
	 * container's, and containerd's go-runc parses `state` from stdout and stderr together.
	 */
	if (level == LOG_ERROR || log_fd < 0) {
		const char *prefix = level == LOG_ERROR ? "" : level == LOG_WARN ? "warning: " : "";

		if (log_json && log_fd < 0) {
			(void)write_all(STDERR_FILENO, line, strlen(line));
		} else {
			_cleanup_free_ char *plain = xasprintf("%s%s%s\n", log_fd >= 0 ? "" : "ward: ",
							       prefix, msg);

			(void)write_all(STDERR_FILENO, plain, strlen(plain));
		}
	}
}
