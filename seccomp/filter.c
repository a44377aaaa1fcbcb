/* OCI linux.seccomp -> libseccomp: not written yet (issue 4); a config with a seccomp section
 * fails clearly instead of running unfiltered. */
#include "seccomp/seccomp.h"

#include <errno.h>

int seccomp_filter_build(const struct seccomp_config *c, struct seccomp_filter **out,
			 size_t *skipped, struct werr **err)
{
	*out = NULL;
	return werr_set(err, ENOSYS, "linux.seccomp: not supported by this build yet");
}

bool seccomp_filter_wants_notify(const struct seccomp_filter *f)
{
	return false;
}

int seccomp_filter_load(struct seccomp_filter *f, int *notify_fd, struct werr **err)
{
	*notify_fd = -1;
	return werr_set(err, ENOSYS, "seccomp: not supported by this build yet");
}

void seccomp_filter_free(struct seccomp_filter *f)
{
}

int seccomp_notify_send(const char *listener_path, int notify_fd, const char *state_json,
			struct werr **err)
{
	return werr_set(err, ENOSYS, "seccomp listener: not supported by this build yet");
}
