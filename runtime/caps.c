/* The container user and its five capability sets, in the order runc uses: the bounding set
 * is cut while still root, KEEPCAPS carries the permitted set across the uid change, then
 * libcap sets effective/permitted/inheritable and finally ambient. */
#include "runtime/process.h"

#include <errno.h>
#include <grp.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/util.h"

struct cap_masks {
	uint64_t bounding, effective, inheritable, permitted, ambient;
};

static void cap_freep(cap_t *c)
{
	if (*c)
		cap_free(*c);
}
#define _cleanup_cap_ __attribute__((cleanup(cap_freep)))

uint64_t process_caps_mask(char *const *names, int last_cap)
{
	uint64_t mask = 0;

	for (char *const *n = names; n && *n; n++) {
		int cap = spec_cap_from_name(*n);

		if (cap < 0 || cap > last_cap || cap > 63)
			continue;
		mask |= UINT64_C(1) << cap;
	}
	return mask;
}

static int kernel_last_cap(void)
{
	_cleanup_free_ char *buf = NULL;
	long long v;

	if (read_file("/proc/sys/kernel/cap_last_cap", &buf, NULL, NULL) < 0)
		return CAP_LAST_CAP;
	buf[strcspn(buf, "\n")] = '\0';
	if (parse_int64(buf, &v) < 0 || v < 0)
		return CAP_LAST_CAP;
	return v > 63 ? 63 : (int)v;
}

static const char *cap_label(int cap, char *buf, size_t size)
{
	char *name = cap_to_name((cap_value_t)cap);

	snprintf(buf, size, "%s", name ? name : "?");
	cap_free(name);
	return buf;
}

static int drop_bounding(uint64_t keep, int last_cap, struct werr **err)
{
	char name[64];

	for (int cap = 0; cap <= last_cap; cap++) {
		if (keep & (UINT64_C(1) << cap))
			continue;
		if (cap_get_bound((cap_value_t)cap) != 1)
			continue;
		if (cap_drop_bound((cap_value_t)cap) < 0)
			return werr_sys(err, errno, "capabilities: drop %s from the bounding set",
					cap_label(cap, name, sizeof(name)));
	}
	return 0;
}

static bool setgroups_denied(void)
{
	_cleanup_free_ char *buf = NULL;

	if (read_file("/proc/self/setgroups", &buf, NULL, NULL) < 0)
		return false;
	return strncmp(buf, "deny", 4) == 0;
}

static int switch_user(const struct spec_user *u, struct werr **err)
{
	_cleanup_free_ gid_t *gids = NULL;

	if (u->n_additional_gids > 0) {
		gids = xcalloc(u->n_additional_gids, sizeof(*gids));
		for (size_t i = 0; i < u->n_additional_gids; i++)
			gids[i] = u->additional_gids[i];
	}
	if (setgroups(u->n_additional_gids, gids) < 0) {
		int e = errno;

		/* In a user namespace with setgroups denied there is nothing to clear. */
		if (!(e == EPERM && u->n_additional_gids == 0 && setgroups_denied()))
			return werr_sys(err, e, "setgroups (%zu additionalGids)",
					u->n_additional_gids);
	}
	if (setresgid(u->gid, u->gid, u->gid) < 0)
		return werr_sys(err, errno, "setresgid %u", u->gid);
	if (setresuid(u->uid, u->uid, u->uid) < 0)
		return werr_sys(err, errno, "setresuid %u", u->uid);
	return 0;
}

static int set_flag_from_mask(cap_t c, cap_flag_t flag, uint64_t mask)
{
	cap_value_t list[64];
	int n = 0;

	for (int cap = 0; cap < 64; cap++)
		if (mask & (UINT64_C(1) << cap))
			list[n++] = cap;
	if (n == 0)
		return 0;
	return cap_set_flag(c, flag, n, list, CAP_SET);
}

static int set_proc_caps(const struct cap_masks *m, struct werr **err)
{
	_cleanup_cap_ cap_t c = cap_init();

	if (!c)
		return werr_sys(err, errno, "capabilities: cap_init");
	if (set_flag_from_mask(c, CAP_EFFECTIVE, m->effective) < 0 ||
	    set_flag_from_mask(c, CAP_PERMITTED, m->permitted) < 0 ||
	    set_flag_from_mask(c, CAP_INHERITABLE, m->inheritable) < 0)
		return werr_sys(err, errno, "capabilities: build the capability set");
	if (cap_set_proc(c) < 0)
		return werr_sys(err, errno,
				"capabilities: set effective 0x%llx, permitted 0x%llx, "
				"inheritable 0x%llx",
				(unsigned long long)m->effective, (unsigned long long)m->permitted,
				(unsigned long long)m->inheritable);
	return 0;
}

static int set_ambient(const struct cap_masks *m, struct werr **err)
{
	/* The kernel only allows ambient caps that are both permitted and inheritable (crun
	 * skips the others the same way). */
	uint64_t amb = m->ambient & m->permitted & m->inheritable;
	char name[64];

	if (cap_reset_ambient() < 0 && (errno != EINVAL || amb))
		return werr_sys(err, errno, "capabilities: clear the ambient set");
	for (int cap = 0; cap < 64; cap++) {
		if (!(amb & (UINT64_C(1) << cap)))
			continue;
		if (cap_set_ambient((cap_value_t)cap, CAP_SET) < 0)
			return werr_sys(err, errno, "capabilities: raise ambient %s",
					cap_label(cap, name, sizeof(name)));
	}
	return 0;
}

int process_set_user_caps(const struct spec_process *p, struct werr **err)
{
	int last_cap = kernel_last_cap();
	struct cap_masks m = {0};
	int r;

	if (p->has_caps) {
		m.bounding = process_caps_mask(p->caps.bounding, last_cap);
		m.effective = process_caps_mask(p->caps.effective, last_cap);
		m.inheritable = process_caps_mask(p->caps.inheritable, last_cap);
		m.permitted = process_caps_mask(p->caps.permitted, last_cap);
		m.ambient = process_caps_mask(p->caps.ambient, last_cap);
	}
	/* Cutting the bounding set needs CAP_SETPCAP in the effective set: do it as root. */
	r = drop_bounding(m.bounding, last_cap, err);
	if (r < 0)
		return r;
	if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
		return werr_sys(err, errno, "prctl PR_SET_KEEPCAPS");
	r = switch_user(&p->user, err);
	if (r < 0)
		return r;
	if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0)
		return werr_sys(err, errno, "prctl PR_SET_KEEPCAPS");
	r = set_proc_caps(&m, err);
	if (r < 0)
		return r;
	r = set_ambient(&m, err);
	if (r < 0)
		return r;
	umask(p->user.has_umask ? (mode_t)p->user.umask : 0022);
	if (p->no_new_privileges && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return werr_sys(err, errno, "prctl PR_SET_NO_NEW_PRIVS");
	return 0;
}
