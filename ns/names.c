#include "ns/ns.h"

#include <sched.h>
#include <string.h>

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

/* Indexed by enum ns_type: the OCI name, the /proc/<pid>/ns file name, the clone flag. */
static const struct {
	const char *name;
	const char *proc;
	int flag;
} ns_table[NS_COUNT] = {
	[NS_PID] = {"pid", "pid", CLONE_NEWPID},
	[NS_NET] = {"network", "net", CLONE_NEWNET},
	[NS_MNT] = {"mount", "mnt", CLONE_NEWNS},
	[NS_IPC] = {"ipc", "ipc", CLONE_NEWIPC},
	[NS_UTS] = {"uts", "uts", CLONE_NEWUTS},
	[NS_USER] = {"user", "user", CLONE_NEWUSER},
	[NS_CGROUP] = {"cgroup", "cgroup", CLONE_NEWCGROUP},
	[NS_TIME] = {"time", "time", CLONE_NEWTIME},
};

static bool valid(enum ns_type t)
{
	return (unsigned)t < NS_COUNT;
}

int ns_type_from_name(const char *name)
{
	for (int t = 0; t < NS_COUNT; t++)
		if (strcmp(ns_table[t].name, name) == 0)
			return t;
	return -1;
}

const char *ns_type_name(enum ns_type t)
{
	return valid(t) ? ns_table[t].name : NULL;
}

int ns_clone_flag(enum ns_type t)
{
	return valid(t) ? ns_table[t].flag : 0;
}

const char *ns_proc_name(enum ns_type t)
{
	return valid(t) ? ns_table[t].proc : NULL;
}

const struct ns_entry *ns_find(const struct ns_config *c, enum ns_type t)
{
	for (size_t i = 0; c && i < c->n_entries; i++)
		if (c->entries[i].type == t)
			return &c->entries[i];
	return NULL;
}
