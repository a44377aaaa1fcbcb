#include "lib/err.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *vformat(const char *fmt, va_list ap)
{
	char *s = NULL;

	if (vasprintf(&s, fmt, ap) < 0)
		return NULL;
	return s;
}

static int set_msg(struct werr **err, int code, char *msg)
{
	if (code <= 0)
		code = EINVAL;
	if (!err || *err) {
		free(msg);
		return -code;
	}
	*err = calloc(1, sizeof(**err));
	if (!*err) {
		free(msg);
		return -code;
	}
	(*err)->code = code;
	(*err)->msg = msg ? msg : strdup("out of memory");
	return -code;
}

int werr_set(struct werr **err, int code, const char *fmt, ...)
{
	va_list ap;
	char *msg;

	va_start(ap, fmt);
	msg = vformat(fmt, ap);
	va_end(ap);
	return set_msg(err, code, msg);
}

int werr_sys(struct werr **err, int code, const char *fmt, ...)
{
	va_list ap;
	char *msg, *full = NULL;

	va_start(ap, fmt);
	msg = vformat(fmt, ap);
	va_end(ap);
	if (msg && asprintf(&full, "%s: %s", msg, strerror(code)) < 0)
		full = NULL;
	free(msg);
	return set_msg(err, code, full);
}

int werr_wrap(struct werr **err, const char *fmt, ...)
{
	va_list ap;
	char *ctx, *full = NULL;

	if (!err || !*err)
		return -EINVAL;
	va_start(ap, fmt);
	ctx = vformat(fmt, ap);
	va_end(ap);
	if (ctx && asprintf(&full, "%s: %s", ctx, (*err)->msg) >= 0) {
		free((*err)->msg);
		(*err)->msg = full;
	}
	free(ctx);
	return -(*err)->code;
}

void werr_free(struct werr **err)
{
	if (!err || !*err)
		return;
	free((*err)->msg);
	free(*err);
	*err = NULL;
}
