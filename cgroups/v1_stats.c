/* cgroup v1 backend: statistics (not written yet). */
#include "cgroups/v1_int.h"

int cgv1_stats(struct cgroup *cg, struct cgroup_stats *st, struct werr **err)
{
	return 0;
}
