/* The container's cgroup as runtime/ sees it: the effective device rules, creation at create
 * time, and opening it again from state.json for the later commands. */
#include "runtime/cgroup.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lib/util.h"

/* What every container may use even under a deny-all device rule (runc's list): mknod of
 * anything, the standard character devices, the console and the pty devices. */
static const struct cg_device_rule default_devices[] = {
	{ true, 'c', { false, 0 }, { false, 0 }, (char *)"m" },
	{ true, 'b', { false, 0 }, { false, 0 }, (char *)"m" },
	{ true, 'c', { true, 1 }, { true, 3 }, (char *)"rwm" },	 /* null */
	{ true, 'c', { true, 1 }, { true, 8 }, (char *)"rwm" },	 /* random */
	{ true, 'c', { true, 1 }, { true, 7 }, (char *)"rwm" },	 /* full */
	{ true, 'c', { true, 5 }, { true, 0 }, (char *)"rwm" },	 /* tty */
	{ true, 'c', { true, 1 }, { true, 5 }, (char *)"rwm" },	 /* zero */
	{ true, 'c', { true, 1 }, { true, 9 }, (char *)"rwm" },	 /* urandom */
	{ true, 'c', { true, 5 }, { true, 1 }, (char *)"rwm" },	 /* console */
	{ true, 'c', { true, 136 }, { false, 0 }, (char *)"rwm" }, /* pts/N */
	{ true, 'c', { true, 5 }, { true, 2 }, (char *)"rwm" },	 /* ptmx */
};

struct cg_device_rule *container_device_rules(const struct spec *s, size_t *n)
{
	const struct cgroup_resources *r = &s->linux_.resources;
	size_t nd = sizeof(default_devices) / sizeof(default_devices[0]);
	struct cg_device_rule *rules;
	size_t k = 0;

	rules = xcalloc(1 + r->n_devices + nd + s->linux_.n_devices, sizeof(*rules));
	/* The last matching rule wins: deny-all (so a config without rules is not given every host
	 * device, as in runc), the config's rules, then the defaults and the devices the config
	 * creates, so a config-wide deny cannot take away what the container needs. */
	rules[k++] = (struct cg_device_rule){ false, 'a', { false, 0 }, { false, 0 }, (char *)"rwm" };
	for (size_t i = 0; i < r->n_devices; i++)
		rules[k++] = r->devices[i];
	for (size_t i = 0; i < nd; i++)
		rules[k++] = default_devices[i];
	for (size_t i = 0; i < s->linux_.n_devices; i++) {
		const struct device_spec *d = &s->linux_.devices[i];

		if (d->type == 'p')
			continue;
		rules[k++] = (struct cg_device_rule){ true, d->type == 'b' ? 'b' : 'c',
						      { true, d->major }, { true, d->minor },
						      (char *)"rwm" };
	}
	*n = k;
	return rules;
}

int container_cgroup_create(const struct spec *s, const char *id, struct cgroup **out,
			    struct werr **err)
{
	_cleanup_free_ char *path = NULL;
	_cleanup_free_ struct cg_device_rule *rules = NULL;
	struct cgroup_resources eff = s->linux_.resources;
	struct cgroup *cg = NULL;
	int r;

	r = cgroup_resolve_path(s->linux_.cgroups_path, id, &path, err);
	if (r < 0)
		return r;
	rules = container_device_rules(s, &eff.n_devices);
	eff.devices = rules;
	r = cgroup_create(&cg, path, &eff, err);
	if (r < 0)
		return r;
	r = cgroup_apply(cg, &eff, false, err);
	if (r < 0) {
		cgroup_destroy(cg, NULL);
		cgroup_free(cg);
		return werr_wrap(err, "config.json: linux.resources");
	}
	*out = cg;
	return 0;
}

int container_cgroup_open(const struct cstate *st, struct cgroup **out, struct werr **err)
{
	if (!st->cgroup_path)
		return werr_set(err, ENOENT, "container %s has no cgroup", st->id);
	return cgroup_open(out, st->cgroup_path, err);
}

bool container_cgroup_frozen(const struct cstate *st)
{
	_cleanup_cgroup_ struct cgroup *cg = NULL;
	bool frozen = false;

	if (cgroup_open(&cg, st->cgroup_path, NULL) < 0)
		return false;
	return cgroup_is_frozen(cg, &frozen, NULL) == 0 && frozen;
}

int container_cgroup_destroy(const struct cstate *st, struct werr **err)
{
	_cleanup_cgroup_ struct cgroup *cg = NULL;
	_cleanup_werr_ struct werr *e = NULL;

	if (!st->cgroup_path)
		return 0;
	if (cgroup_open(&cg, st->cgroup_path, &e) < 0)
		return 0; /* already gone */
	return cgroup_destroy(cg, err);
}
