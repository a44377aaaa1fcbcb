/* SysV IPC objects of a tree's own IPC namespace (sysvipc.c): message queues with their
 * messages, semaphore sets with their values, shared memory segments with their contents. Read
 * and created by a child of ward that joins the namespace (setns), as /proc/sysvipc, the *_STAT_ANY
 * calls and /proc/sys/kernel/{msg,sem,shm}_next_id all act on the caller's IPC namespace. */
#ifndef WARD_CHECKPOINT_SYSVIPC_H
#define WARD_CHECKPOINT_SYSVIPC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "checkpoint/inventory.h"
#include "lib/err.h"

enum ck_ipc_kind { CK_IPC_MSG, CK_IPC_SEM, CK_IPC_SHM };

struct ck_ipc_msg {
	long mtype;
	uint8_t *data;
	size_t len;
};

struct ck_ipc_obj {
	enum ck_ipc_kind kind;
	int id, key;
	uint32_t uid, gid, mode; /* mode: the permission bits */
	uint64_t qbytes;	 /* msg: msg_qbytes */
	struct ck_ipc_msg *msgs; /* msg: the queue, first to last */
	size_t nmsgs;
	uint16_t *semvals; /* sem: semval of each semaphore */
	size_t nsems;
	uint64_t size; /* shm: shm_segsz; contents in sysvshm-<id>.img */
};

struct ck_ipc {
	struct ck_ipc_obj *objs;
	size_t n;
};

void ck_ipc_free(struct ck_ipc *ipc);
char *ck_ipc_to_json(const struct ck_ipc *ipc);
int ck_ipc_from_json(const char *text, struct ck_ipc *ipc, struct werr **err);

/* Dump: when host_pid's IPC namespace is not the dumper's, save its objects (sysvipc.json,
 * sysvshm-<id>.img) into dirfd and list them in inv; *saved says whether there were any. A
 * tree in the dumper's IPC namespace (a container sharing the host's) saves nothing. */
int ck_ipc_dump(int dirfd, pid_t host_pid, struct ck_inventory *inv, bool *saved,
		struct werr **err);
/* Restore: read sysvipc.json if inv lists it (ipc left empty otherwise). */
int ck_ipc_load(int dirfd, const struct ck_inventory *inv, struct ck_ipc *ipc, struct werr **err);
/* Create ipc's objects, with their ids, in host_pid's IPC namespace (which must not be ours). */
int ck_ipc_restore(int dirfd, const struct ck_ipc *ipc, pid_t host_pid, struct werr **err);

#endif
