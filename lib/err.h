/* Error values shared by every ward library: a function that fails returns a
 * negative errno-style code and fills *err with a message naming the object. */
#ifndef WARD_LIB_ERR_H
#define WARD_LIB_ERR_H

#include <stdarg.h>

struct werr {
	int code;	/* positive errno value (or EINVAL for validation errors) */
	char *msg;	/* heap-allocated, never NULL once set */
};

/* Set *err (if err != NULL and *err is NULL) and return -code.
 * A later call on an already set error keeps the first cause. */
int werr_set(struct werr **err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Like werr_set, with ": strerror(code)" appended. */
int werr_sys(struct werr **err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Prefix context onto an existing error: "ctx: old". Returns -(*err)->code. */
int werr_wrap(struct werr **err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void werr_free(struct werr **err);

static inline void werr_freep(struct werr **err)
{
	werr_free(err);
}
#define _cleanup_werr_ __attribute__((cleanup(werr_freep)))

#endif
