/* The section parsers of config.json, one file each; only runtime/spec*.c use this. */
#ifndef WARD_RUNTIME_SPEC_PARSE_H
#define WARD_RUNTIME_SPEC_PARSE_H

#include "runtime/spec.h"
#include "runtime/spec_json.h"

/* Each a jsection_fn: parses the object at path into arg (struct spec_process, spec_linux,
 * cgroup_resources, seccomp_config); a partial result is freed by the owner. */
int spec_parse_process_value(const struct jctx *c, yajl_val o, const char *path, void *arg);
int spec_parse_linux(const struct jctx *c, yajl_val o, const char *path, void *arg);
int spec_parse_resources(const struct jctx *c, yajl_val o, const char *path, void *arg);
int spec_parse_seccomp(const struct jctx *c, yajl_val o, const char *path, void *arg);
void spec_linux_free(struct spec_linux *l);
void spec_kv_free(struct kv *kv, size_t n);

#endif
