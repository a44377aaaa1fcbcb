/* config.json "linux": namespaces, id mappings, time offsets, devices, paths and labels;
 * resources and seccomp have their own files. */
#include "runtime/spec.h"
#include "runtime/spec_json.h"
#include "runtime/spec_parse.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/personality.h>

#include "lib/util.h"

static const struct jname propagations[] = {
	{"private", 0}, {"rprivate", 0}, {"slave", 0},	    {"rslave", 0},
	{"shared", 0},	{"rshared", 0},	 {"unbindable", 0}, {"runbindable", 0},
};

static const struct jname domains[] = {
	{"LINUX", PER_LINUX},
	{"LINUX32", PER_LINUX32},
};

static int ns_elem(const struct jctx *c, yajl_val v, const char *path, void *elem)
{
	struct ns_entry *e = elem;
	_cleanup_free_ char *type = NULL;
	int t;

	if (jrequire(c, v, path, "type") < 0 || j_str(c, v, path, "type", &type) < 0)
		return -EINVAL;
	t = ns_type_from_name(type);
	if (t < 0)
		return jerr(c, path, "type", -1, "unknown namespace \"%s\"", type);
	e->type = (enum ns_type)t;
	if (j_abspath(c, v, path, "path", &e->path) < 0)
		return -EINVAL;
	return 0;
}

static int parse_namespaces(const struct jctx *c, yajl_val o, const char *path,
			    struct ns_config *ns)
{
	_cleanup_free_ char *ap = jpath_key(path, "namespaces");
	int r = j_each(c, o, path, "namespaces", sizeof(*ns->entries), (void **)&ns->entries,
		       &ns->n_entries, ns_elem);

	if (r <= 0)
		return r;
	for (size_t i = 0; i < ns->n_entries; i++) {
		for (size_t j = 0; j < i; j++) {
			_cleanup_free_ char *ep = NULL;

			if (ns->entries[i].type != ns->entries[j].type)
				continue;
			ep = jpath_idx(ap, i);
			return jerr(c, ep, "type", -1, "duplicate namespace \"%s\"",
				    ns_type_name(ns->entries[i].type));
		}
	}
	return 0;
}

static int parse_time_offset(const struct jctx *c, yajl_val v, const char *path, void *arg)
{
	struct time_offset *t = arg;

	t->set = true;
	if (j_i64(c, v, path, "secs", INT64_MIN, INT64_MAX, &t->secs) < 0 ||
	    j_u32(c, v, path, "nanosecs", &t->nanosecs) < 0)
		return -EINVAL;
	if (t->nanosecs >= 1000000000u)
		return jerr(c, path, "nanosecs", -1, "must be less than 1000000000");
	return 0;
}

static int parse_time_offsets(const struct jctx *c, yajl_val v, const char *path, void *arg)
{
	struct ns_config *ns = arg;

	if (j_section(c, v, path, "monotonic", parse_time_offset, &ns->monotonic) < 0 ||
	    j_section(c, v, path, "boottime", parse_time_offset, &ns->boottime) < 0)
		return -EINVAL;
	return 0;
}

static int device_elem(const struct jctx *c, yajl_val v, const char *path, void *elem)
{
	struct device_spec *d = elem;
	_cleanup_free_ char *type = NULL;

	if (jrequire(c, v, path, "type") < 0 || j_str(c, v, path, "type", &type) < 0)
		return -EINVAL;
	if (strlen(type) != 1 || !strchr("cbup", type[0]))
		return jerr(c, path, "type", -1, "invalid device type \"%s\"", type);
	d->type = type[0];
	if (jrequire(c, v, path, "path") < 0 || j_abspath(c, v, path, "path", &d->path) < 0)
		return -EINVAL;
	/* Only a fifo has no device number. */
	if (d->type != 'p' &&
	    (jrequire(c, v, path, "major") < 0 || jrequire(c, v, path, "minor") < 0))
		return -EINVAL;
	if (j_i64(c, v, path, "major", 0, INT64_MAX, &d->major) < 0 ||
	    j_i64(c, v, path, "minor", 0, INT64_MAX, &d->minor) < 0 ||
	    j_opt_u32(c, v, path, "fileMode", &d->has_file_mode, &d->file_mode) < 0 ||
	    j_opt_u32(c, v, path, "uid", &d->has_uid, &d->uid) < 0 ||
	    j_opt_u32(c, v, path, "gid", &d->has_gid, &d->gid) < 0)
		return -EINVAL;
	if (d->file_mode > 07777)
		return jerr(c, path, "fileMode", -1, "%o has bits outside 07777", d->file_mode);
	return 0;
}

static int parse_personality(const struct jctx *c, yajl_val v, const char *path, void *arg)
{
	struct spec_personality *p = arg;
	long domain = 0;

	if (jrequire(c, v, path, "domain") < 0 ||
	    j_enum(c, v, path, "domain", domains, ARRAY_SIZE(domains), "personality domain",
		   &domain) < 0 ||
	    j_strv(c, v, path, "flags", &p->flags, NULL, NULL) < 0)
		return -EINVAL;
	p->set = true;
	p->domain = (unsigned long)domain;
	return 0;
}

static int parse_intel_rdt(const struct jctx *c, yajl_val v, const char *path, void *arg)
{
	struct spec_linux *l = arg;

	return j_str(c, v, path, "closID", &l->intel_rdt_clos_id);
}

static int parse_optional_objects(const struct jctx *c, yajl_val o, const char *path,
				  struct spec_linux *l)
{
	int r = j_section(c, o, path, "resources", spec_parse_resources, &l->resources);

	if (r < 0)
		return r;
	l->has_resources = r > 0;
	r = j_section(c, o, path, "seccomp", spec_parse_seccomp, &l->seccomp);
	if (r < 0)
		return r;
	l->has_seccomp = r > 0;
	return j_section(c, o, path, "intelRdt", parse_intel_rdt, l);
}

int spec_parse_linux(const struct jctx *c, yajl_val o, const char *path, void *arg)
{
	struct spec_linux *l = arg;
	struct ns_config *ns = &l->ns;
	long unused;

	if (parse_namespaces(c, o, path, ns) < 0 ||
	    j_id_maps(c, o, path, "uidMappings", &ns->uid_maps, &ns->n_uid_maps) < 0 ||
	    j_id_maps(c, o, path, "gidMappings", &ns->gid_maps, &ns->n_gid_maps) < 0 ||
	    j_section(c, o, path, "timeOffsets", parse_time_offsets, ns) < 0 ||
	    j_each(c, o, path, "devices", sizeof(*l->devices), (void **)&l->devices, &l->n_devices,
		   device_elem) < 0 ||
	    j_str(c, o, path, "cgroupsPath", &l->cgroups_path) < 0 ||
	    parse_optional_objects(c, o, path, l) < 0 ||
	    j_kv(c, o, path, "sysctl", sizeof(struct kv), offsetof(struct kv, key),
		 offsetof(struct kv, value), (void **)&l->sysctl, &l->n_sysctl) < 0)
		return -EINVAL;
	if (j_enum(c, o, path, "rootfsPropagation", propagations, ARRAY_SIZE(propagations),
		   "propagation", &unused) < 0 ||
	    j_str(c, o, path, "rootfsPropagation", &l->rootfs_propagation) < 0 ||
	    j_strv(c, o, path, "maskedPaths", &l->masked_paths, NULL, NULL) < 0 ||
	    j_strv(c, o, path, "readonlyPaths", &l->readonly_paths, NULL, NULL) < 0 ||
	    j_str(c, o, path, "mountLabel", &l->mount_label) < 0 ||
	    j_section(c, o, path, "personality", parse_personality, &l->personality) < 0)
		return -EINVAL;
	return 0;
}

void spec_linux_free(struct spec_linux *l)
{
	for (size_t i = 0; i < l->ns.n_entries; i++)
		free(l->ns.entries[i].path);
	free(l->ns.entries);
	free(l->ns.uid_maps);
	free(l->ns.gid_maps);
	for (size_t i = 0; i < l->n_devices; i++)
		free(l->devices[i].path);
	free(l->devices);
	free(l->cgroups_path);
	cgroup_resources_free(&l->resources);
	spec_kv_free(l->sysctl, l->n_sysctl);
	seccomp_config_free(&l->seccomp);
	free(l->rootfs_propagation);
	strv_free(l->masked_paths);
	strv_free(l->readonly_paths);
	free(l->mount_label);
	strv_free(l->personality.flags);
	free(l->intel_rdt_clos_id);
	memset(l, 0, sizeof(*l));
}
