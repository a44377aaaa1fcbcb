/* Joining namespaces by path, and the time namespace (which needs its offsets written
 * before any task enters it). */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>

#include "lib/util.h"
#include "ns/ns.h"

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

/* The user namespace first (it grants the rights to join the rest), mount last (after it
 * the other paths may no longer resolve). */
static const enum ns_type join_order[] = { NS_USER, NS_IPC, NS_UTS, NS_NET,  NS_PID,
					   NS_CGROUP, NS_TIME, NS_MNT };

int ns_join_fds(const int fds[NS_COUNT], const char *const what[NS_COUNT], struct werr **err)
{
	for (size_t i = 0; i < ARRAY_SIZE(join_order); i++) {
		enum ns_type t = join_order[i];

		if (fds[t] < 0)
			continue;
		if (setns(fds[t], ns_clone_flag(t)) < 0)
			return werr_sys(err, errno, "join %s namespace%s%s", ns_type_name(t),
					what && what[t] ? " " : "", what && what[t] ? what[t] : "");
	}
	return 0;
}

int ns_join_paths(const struct ns_config *c, unsigned skip_mask, struct werr **err)
{
	const char *paths[NS_COUNT] = { NULL };
	int fds[NS_COUNT];
	int r = 0;

	for (size_t i = 0; i < ARRAY_SIZE(fds); i++)
		fds[i] = -1;
	/* Open them all first: once inside one mount namespace the others' paths may vanish. */
	for (size_t i = 0; i < ARRAY_SIZE(join_order); i++) {
		enum ns_type t = join_order[i];
		const struct ns_entry *e = ns_find(c, t);

		if (!e || !e->path || (skip_mask & (1u << t)))
			continue;
		paths[t] = e->path;
		fds[t] = open(e->path, O_RDONLY | O_CLOEXEC);
		if (fds[t] < 0) {
			r = werr_sys(err, errno, "open %s namespace %s", ns_type_name(t), e->path);
			goto out;
		}
	}
	r = ns_join_fds(fds, paths, err);
out:
	for (size_t i = 0; i < ARRAY_SIZE(fds); i++)
		if (fds[i] >= 0)
			close(fds[i]);
	return r;
}

static int write_offset(const char *clock, const struct time_offset *o, struct werr **err)
{
	char buf[96];
	int n;

	if (!o->set)
		return 0;
	n = snprintf(buf, sizeof(buf), "%s %lld %u\n", clock, (long long)o->secs, o->nanosecs);
	return write_file("/proc/self/timens_offsets", buf, (size_t)n, err);
}

int ns_enter_new_time(const struct ns_config *c, struct werr **err)
{
	_cleanup_close_ int fd = -1;
	int r;

	if (unshare(CLONE_NEWTIME) < 0)
		return werr_sys(err, errno, "unshare time namespace");
	r = write_offset("monotonic", &c->monotonic, err);
	if (r == 0)
		r = write_offset("boottime", &c->boottime, err);
	if (r < 0)
		return werr_wrap(err, "set time namespace offsets");
	fd = open("/proc/self/ns/time_for_children", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return werr_sys(err, errno, "open /proc/self/ns/time_for_children");
	if (setns(fd, CLONE_NEWTIME) < 0)
		return werr_sys(err, errno, "enter the new time namespace");
	return 0;
}
