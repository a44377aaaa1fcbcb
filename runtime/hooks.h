#ifndef WARD_RUNTIME_HOOKS_H
#define WARD_RUNTIME_HOOKS_H

#include <stddef.h>

#include "lib/err.h"
#include "runtime/spec.h"

/* Run hooks in order. Each gets state_json on stdin, its own args/env (env empty when not
 * given, as runc), and is killed after timeout seconds. The first failing hook stops the
 * run; the error names the hook kind, index and path and its exit status or signal
 * ("prestart hook #0 (/bin/false): exit status 1"). `kind` is e.g. "prestart". */
int hooks_run(const char *kind, const struct spec_hook *hooks, size_t n, const char *state_json,
	      struct werr **err);

#endif
