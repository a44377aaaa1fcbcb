/* The section parsers of config.json, one file each; only runtime/spec*.c use this. */
#ifndef WARD_RUNTIME_SPEC_PARSE_H
#define WARD_RUNTIME_SPEC_PARSE_H

#include "runtime/spec.h"
#include "runtime/spec_json.h"

/* Each parses the object at path into out; a partial result is freed by the owner. */
int spec_parse_process_value(const struct jctx *c, yajl_val o, const char *path,
			     struct spec_process *out);
int spec_parse_linux(const struct jctx *c, yajl_val o, const char *path, struct spec_linux *out);
int spec_parse_resources(const struct jctx *c, yajl_val o, const char *path,
			 struct cgroup_resources *out);
int spec_parse_seccomp(const struct jctx *c, yajl_val o, const char *path,
		       struct seccomp_config *out);
void spec_linux_free(struct spec_linux *l);

#endif
