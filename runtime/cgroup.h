/* runtime/ side of cgroups: effective resources of a spec, the container's cgroup. */
#ifndef WARD_RUNTIME_CGROUP_H
#define WARD_RUNTIME_CGROUP_H

#include "cgroups/cgroups.h"
#include "runtime/spec.h"
#include "runtime/state.h"

/* linux.resources.devices + runc's default allowed devices + linux.devices, in the order the
 * backends evaluate them (last match wins), after a deny-all rule (also when the config gives
 * no device rules, as in runc).
 * The rules borrow strings from s; free only the array. */
struct cg_device_rule *container_device_rules(const struct spec *s, size_t *n);
/* Create the container's cgroup (linux.cgroupsPath or /ward/<id>) and apply linux.resources. */
int container_cgroup_create(const struct spec *s, const char *id, struct cgroup **out,
			    struct werr **err);
int container_cgroup_open(const struct cstate *st, struct cgroup **out, struct werr **err);
/* Kill what is left in the cgroup and remove it; no cgroup is not an error. */
int container_cgroup_destroy(const struct cstate *st, struct werr **err);

/* `ward update`'s record (runtime/cgroup_updates.c). The flags of an update as an OCI
 * linux.resources object on one line (caller frees). */
char *cgroup_update_flags_json(const struct cgroup_resources *res);
/* Append one update (a linux.resources object) to STATE_DIR/updates.jsonl. */
int cgroup_update_record(const char *state_dir, const char *json, struct werr **err);
/* Apply every update recorded in FILE (updates.jsonl, or an image's copy), in order; a missing
 * FILE is no update. Errors name the file and the update's line. */
int cgroup_updates_apply(struct cgroup *cg, const char *file, struct werr **err);

#endif
