/* SysV IPC namespace contents: dumped by a child that joins the tree's IPC namespace and walks
 * every index with MSG_STAT_ANY/SEM_STAT_ANY/SHM_STAT_ANY (no permission check, unlike *_STAT);
 * messages are copied without being consumed (msgrcv MSG_COPY, CONFIG_CHECKPOINT_RESTORE),
 * semaphore values with GETALL, shm contents through a read-only shmat. Restore's child joins
 * the new namespace and creates each object after writing its id to /proc/sys/kernel/
 * {msg,sem,shm}_next_id (per IPC namespace, read at open; needs CAP_SYS_ADMIN or
 * CAP_CHECKPOINT_RESTORE over the namespace). */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <yajl/yajl_gen.h>
#include <yajl/yajl_tree.h>

#include "checkpoint/fdx.h"
#include "checkpoint/sysvipc.h"
#include "lib/jgen.h"
#include "lib/util.h"

#ifndef MSG_COPY
#define MSG_COPY 040000
#endif
#ifndef MSG_STAT_ANY
#define MSG_STAT_ANY 13
#endif
#ifndef SEM_STAT_ANY
#define SEM_STAT_ANY 20
#endif
#ifndef SHM_STAT_ANY
#define SHM_STAT_ANY 15
#endif

union semun {
	int val;
	struct semid_ds *buf;
	unsigned short *array;
};

static const char *const kind_names[] = {"msg", "sem", "shm"};

void ck_ipc_free(struct ck_ipc *ipc)
{
	for (size_t i = 0; i < ipc->n; i++) {
		struct ck_ipc_obj *o = &ipc->objs[i];

		for (size_t k = 0; k < o->nmsgs; k++)
			free(o->msgs[k].data);
		free(o->msgs);
		free(o->semvals);
	}
	free(ipc->objs);
	memset(ipc, 0, sizeof(*ipc));
}

static struct ck_ipc_obj *add_obj(struct ck_ipc *ipc, enum ck_ipc_kind kind, int id,
				  const struct ipc_perm *perm)
{
	struct ck_ipc_obj *o;

	ipc->objs = xrealloc(ipc->objs, (ipc->n + 1) * sizeof(*ipc->objs));
	o = &ipc->objs[ipc->n++];
	memset(o, 0, sizeof(*o));
	o->kind = kind;
	o->id = id;
	o->key = perm->__key;
	o->uid = perm->uid;
	o->gid = perm->gid;
	o->mode = perm->mode & 0777;
	return o;
}

/* ---- dump, in the namespace ---- */

static int dump_msgs(struct ck_ipc *ipc, struct werr **err)
{
	struct msginfo info;
	int max = msgctl(0, MSG_INFO, (struct msqid_ds *)&info);

	for (int i = 0; i <= max; i++) {
		struct msqid_ds ds;
		int id = msgctl(i, MSG_STAT_ANY, &ds);
		struct ck_ipc_obj *o;
		_cleanup_free_ struct {
			long mtype;
			char text[];
		} *buf = NULL;

		if (id < 0)
			continue;
		o = add_obj(ipc, CK_IPC_MSG, id, &ds.msg_perm);
		o->qbytes = ds.msg_qbytes;
		buf = xmalloc(sizeof(long) + ds.__msg_cbytes + 1);
		o->msgs = xcalloc(ds.msg_qnum + 1, sizeof(*o->msgs));
		for (size_t k = 0; k < ds.msg_qnum; k++, o->nmsgs++) {
			ssize_t n = msgrcv(id, buf, ds.__msg_cbytes + 1, (long)k,
					   IPC_NOWAIT | MSG_COPY | MSG_NOERROR);

			if (n < 0)
				return werr_sys(err, errno, "SysV message queue %d: copy message %zu",
						id, k);
			o->msgs[k].mtype = buf->mtype;
			o->msgs[k].len = (size_t)n;
			o->msgs[k].data = xmalloc((size_t)n + 1);
			memcpy(o->msgs[k].data, buf->text, (size_t)n);
		}
	}
	return 0;
}

static int dump_sems(struct ck_ipc *ipc, struct werr **err)
{
	struct seminfo info;
	int max = semctl(0, 0, SEM_INFO, (union semun){.buf = (struct semid_ds *)&info});

	for (int i = 0; i <= max; i++) {
		struct semid_ds ds;
		int id = semctl(i, 0, SEM_STAT_ANY, (union semun){.buf = &ds});
		struct ck_ipc_obj *o;

		if (id < 0)
			continue;
		o = add_obj(ipc, CK_IPC_SEM, id, &ds.sem_perm);
		o->nsems = ds.sem_nsems;
		o->semvals = xcalloc(o->nsems + 1, sizeof(*o->semvals));
		if (semctl(id, 0, GETALL, (union semun){.array = o->semvals}) < 0)
			return werr_sys(err, errno, "SysV semaphore set %d: GETALL", id);
	}
	return 0;
}

static int dump_shms(int dirfd, struct ck_ipc *ipc, struct werr **err)
{
	struct shminfo info;
	int max = shmctl(0, SHM_INFO, (struct shmid_ds *)&info);

	for (int i = 0; i <= max; i++) {
		struct shmid_ds ds;
		int id = shmctl(i, SHM_STAT_ANY, &ds);
		_cleanup_free_ char *name = NULL;
		_cleanup_close_ int fd = -1;
		struct ck_ipc_obj *o;
		void *at;
		int r;

		if (id < 0)
			continue;
		o = add_obj(ipc, CK_IPC_SHM, id, &ds.shm_perm);
		o->size = ds.shm_segsz;
		name = xasprintf("sysvshm-%d.img", id);
		fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		if (fd < 0)
			return werr_sys(err, errno, "create %s", name);
		at = shmat(id, NULL, SHM_RDONLY);
		if (at == (void *)-1)
			return werr_sys(err, errno, "SysV shared memory %d: shmat", id);
		r = write_all(fd, at, o->size);
		shmdt(at);
		if (r < 0)
			return werr_sys(err, -r, "write %s", name);
	}
	return 0;
}

static int dump_in_ns(int dirfd, struct werr **err)
{
	struct ck_ipc ipc = {0};
	int r = dump_msgs(&ipc, err);

	if (r == 0)
		r = dump_sems(&ipc, err);
	if (r == 0)
		r = dump_shms(dirfd, &ipc, err);
	if (r == 0 && ipc.n) {
		_cleanup_free_ char *text = ck_ipc_to_json(&ipc);

		r = write_file_atomic(dirfd, "sysvipc.json", text, strlen(text), 0600, err);
	}
	ck_ipc_free(&ipc);
	return r;
}

/* ---- restore, in the namespace ---- */

static int set_next_id(enum ck_ipc_kind kind, int id, struct werr **err)
{
	char path[64], val[16];

	snprintf(path, sizeof(path), "/proc/sys/kernel/%s_next_id", kind_names[kind]);
	snprintf(val, sizeof(val), "%d", id);
	return write_file(path, val, strlen(val), err);
}

static int create_msg(const struct ck_ipc_obj *o, struct werr **err)
{
	int id = msgget(o->key, IPC_CREAT | IPC_EXCL | (int)o->mode);
	struct msqid_ds ds;

	if (id < 0 || id != o->id)
		return id < 0 ? werr_sys(err, errno, "msgget") : -EEXIST;
	for (size_t k = 0; k < o->nmsgs; k++) {
		_cleanup_free_ long *buf = xmalloc(sizeof(long) + o->msgs[k].len + 1);

		buf[0] = o->msgs[k].mtype;
		memcpy(buf + 1, o->msgs[k].data, o->msgs[k].len);
		if (msgsnd(id, buf, o->msgs[k].len, IPC_NOWAIT) < 0)
			return werr_sys(err, errno, "msgsnd message %zu", k);
	}
	if (msgctl(id, IPC_STAT, &ds) < 0)
		return werr_sys(err, errno, "msgctl IPC_STAT");
	ds.msg_perm.uid = o->uid;
	ds.msg_perm.gid = o->gid;
	ds.msg_qbytes = o->qbytes;
	return msgctl(id, IPC_SET, &ds) < 0 ? werr_sys(err, errno, "msgctl IPC_SET") : 0;
}

static int create_sem(const struct ck_ipc_obj *o, struct werr **err)
{
	int id = semget(o->key, (int)o->nsems, IPC_CREAT | IPC_EXCL | (int)o->mode);
	struct semid_ds ds;

	if (id < 0 || id != o->id)
		return id < 0 ? werr_sys(err, errno, "semget") : -EEXIST;
	if (semctl(id, 0, SETALL, (union semun){.array = o->semvals}) < 0)
		return werr_sys(err, errno, "semctl SETALL");
	if (semctl(id, 0, IPC_STAT, (union semun){.buf = &ds}) < 0)
		return werr_sys(err, errno, "semctl IPC_STAT");
	ds.sem_perm.uid = o->uid;
	ds.sem_perm.gid = o->gid;
	if (semctl(id, 0, IPC_SET, (union semun){.buf = &ds}) < 0)
		return werr_sys(err, errno, "semctl IPC_SET");
	return 0;
}

static int create_shm(int dirfd, const struct ck_ipc_obj *o, struct werr **err)
{
	int id = shmget(o->key, o->size, IPC_CREAT | IPC_EXCL | (int)o->mode);
	_cleanup_free_ char *name = xasprintf("sysvshm-%d.img", o->id);
	_cleanup_close_ int fd = -1;
	struct shmid_ds ds;
	void *at;
	ssize_t n;

	if (id < 0 || id != o->id)
		return id < 0 ? werr_sys(err, errno, "shmget") : -EEXIST;
	fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return werr_sys(err, errno, "open %s", name);
	at = shmat(id, NULL, 0);
	if (at == (void *)-1)
		return werr_sys(err, errno, "shmat");
	n = read_all(fd, at, o->size);
	shmdt(at);
	if (n != (ssize_t)o->size)
		return werr_set(err, EIO, "%s: %zd bytes, want %llu", name, n,
				(unsigned long long)o->size);
	if (shmctl(id, IPC_STAT, &ds) < 0)
		return werr_sys(err, errno, "shmctl IPC_STAT");
	ds.shm_perm.uid = o->uid;
	ds.shm_perm.gid = o->gid;
	return shmctl(id, IPC_SET, &ds) < 0 ? werr_sys(err, errno, "shmctl IPC_SET") : 0;
}

static int restore_in_ns(int dirfd, const struct ck_ipc *ipc, struct werr **err)
{
	for (size_t i = 0; i < ipc->n; i++) {
		const struct ck_ipc_obj *o = &ipc->objs[i];
		int r = set_next_id(o->kind, o->id, err);

		if (r == 0)
			r = o->kind == CK_IPC_MSG   ? create_msg(o, err)
			    : o->kind == CK_IPC_SEM ? create_sem(o, err)
						    : create_shm(dirfd, o, err);
		if (r == -EEXIST)
			return werr_set(err, EEXIST, "SysV %s %d (key 0x%x) came up with another id",
					kind_names[o->kind], o->id, (unsigned)o->key);
		if (r < 0)
			return werr_wrap(err, "SysV %s %d (key 0x%x)", kind_names[o->kind], o->id,
					 (unsigned)o->key);
	}
	return 0;
}

/* ---- a child in host_pid's IPC namespace ---- */

static int ipc_ns_ino(pid_t pid, ino_t *ino, struct werr **err)
{
	char path[64];
	struct stat st;

	if (pid)
		snprintf(path, sizeof(path), "/proc/%d/ns/ipc", pid);
	else
		snprintf(path, sizeof(path), "/proc/self/ns/ipc");
	if (stat(path, &st) < 0)
		return werr_sys(err, errno, "stat %s", path);
	*ino = st.st_ino;
	return 0;
}

/* Whether host_pid has an IPC namespace other than ours. */
static int own_ns(pid_t host_pid, bool *own, struct werr **err)
{
	ino_t a, b;

	if (ipc_ns_ino(0, &a, err) < 0 || ipc_ns_ino(host_pid, &b, err) < 0)
		return -EIO;
	*own = a != b;
	return 0;
}

/* Run dump_in_ns (ipc NULL) or restore_in_ns in a child that joined host_pid's IPC namespace;
 * its error message comes back through a pipe. */
static int in_ns(pid_t host_pid, int dirfd, const struct ck_ipc *ipc, struct werr **err)
{
	char path[64], msg[512] = "";
	int p[2], st;
	ssize_t n = 0, got;
	pid_t kid;

	snprintf(path, sizeof(path), "/proc/%d/ns/ipc", host_pid);
	if (pipe2(p, O_CLOEXEC) < 0)
		return werr_sys(err, errno, "pipe");
	kid = fork();
	if (kid < 0) {
		close(p[0]);
		close(p[1]);
		return werr_sys(err, errno, "fork");
	}
	if (kid == 0) {
		struct werr *e = NULL;
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		int r = fd < 0 ? werr_sys(&e, errno, "open %s", path)
		      : setns(fd, CLONE_NEWIPC) < 0 ? werr_sys(&e, errno, "setns %s", path)
		      : ipc ? restore_in_ns(dirfd, ipc, &e)
			    : dump_in_ns(dirfd, &e);

		if (r < 0 && e)
			write_all(p[1], e->msg, strlen(e->msg));
		_exit(r < 0 ? 1 : 0);
	}
	close(p[1]);
	while ((got = read(p[0], msg + n, sizeof(msg) - 1 - (size_t)n)) > 0 ||
	       (got < 0 && errno == EINTR))
		n += got > 0 ? got : 0;
	close(p[0]);
	while (waitpid(kid, &st, 0) < 0)
		if (errno != EINTR)
			return werr_sys(err, errno, "wait for the IPC namespace's helper");
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		return werr_set(err, EIO, "%s", n > 0 ? msg : "the IPC namespace's helper failed");
	return 0;
}

int ck_ipc_dump(int dirfd, pid_t host_pid, struct ck_inventory *inv, bool *saved,
		struct werr **err)
{
	_cleanup_free_ char *text = NULL;
	struct ck_ipc ipc = {0};
	bool own;

	*saved = false;
	if (own_ns(host_pid, &own, err) < 0)
		return werr_wrap(err, "SysV IPC");
	if (!own)
		return 0;
	unlinkat(dirfd, "sysvipc.json", 0); /* a reused directory's is not this dump's */
	if (in_ns(host_pid, dirfd, NULL, err) < 0)
		return werr_wrap(err, "SysV IPC");
	if (faccessat(dirfd, "sysvipc.json", F_OK, 0) < 0)
		return 0;
	if (read_file_at(dirfd, "sysvipc.json", &text, NULL, err) < 0 ||
	    ck_ipc_from_json(text, &ipc, err) < 0)
		return werr_wrap(err, "SysV IPC");
	ck_inventory_add(inv, xstrdup("sysvipc.json"), NULL);
	for (size_t i = 0; i < ipc.n; i++)
		if (ipc.objs[i].kind == CK_IPC_SHM)
			ck_inventory_add(inv, xasprintf("sysvshm-%d.img", ipc.objs[i].id), NULL);
	ck_ipc_free(&ipc);
	*saved = true;
	return 0;
}

int ck_ipc_load(int dirfd, const struct ck_inventory *inv, struct ck_ipc *ipc, struct werr **err)
{
	_cleanup_free_ char *text = NULL;

	memset(ipc, 0, sizeof(*ipc));
	if (!ck_inventory_has(inv, "sysvipc.json"))
		return 0;
	if (read_file_at(dirfd, "sysvipc.json", &text, NULL, err) < 0 ||
	    ck_ipc_from_json(text, ipc, err) < 0)
		return werr_wrap(err, "image");
	for (size_t i = 0; i < ipc->n; i++) {
		_cleanup_free_ char *name = xasprintf("sysvshm-%d.img", ipc->objs[i].id);

		if (ipc->objs[i].kind == CK_IPC_SHM && !ck_inventory_has(inv, name))
			return werr_set(err, ENOENT, "image: %s is not in the inventory", name);
	}
	return 0;
}

int ck_ipc_restore(int dirfd, const struct ck_ipc *ipc, pid_t host_pid, struct werr **err)
{
	bool own;

	if (!ipc->n)
		return 0;
	if (own_ns(host_pid, &own, err) < 0)
		return werr_wrap(err, "SysV IPC");
	if (!own)
		return werr_set(err, EINVAL,
				"the image has SysV IPC objects of the container's own IPC "
				"namespace, but the restored tree shares the restorer's");
	if (in_ns(host_pid, dirfd, ipc, err) < 0)
		return werr_wrap(err, "SysV IPC");
	return 0;
}

/* ---- sysvipc.json ---- */

static void gen_obj(yajl_gen g, const struct ck_ipc_obj *o)
{
	yajl_gen_map_open(g);
	jkint(g, "id", o->id);
	jkint(g, "key", o->key);
	jkint(g, "uid", o->uid);
	jkint(g, "gid", o->gid);
	jkint(g, "mode", o->mode);
	if (o->kind == CK_IPC_MSG) {
		jkint(g, "qbytes", (long long)o->qbytes);
		jstr(g, "messages");
		yajl_gen_array_open(g);
		for (size_t k = 0; k < o->nmsgs; k++) {
			_cleanup_free_ char *hex = xmalloc(2 * o->msgs[k].len + 1);

			for (size_t i = 0; i < o->msgs[k].len; i++)
				snprintf(hex + 2 * i, 3, "%02x", o->msgs[k].data[i]);
			hex[2 * o->msgs[k].len] = '\0';
			yajl_gen_map_open(g);
			jkint(g, "type", o->msgs[k].mtype);
			jstr(g, "data");
			jstr(g, hex);
			yajl_gen_map_close(g);
		}
		yajl_gen_array_close(g);
	} else if (o->kind == CK_IPC_SEM) {
		jstr(g, "values");
		yajl_gen_array_open(g);
		for (size_t k = 0; k < o->nsems; k++)
			yajl_gen_integer(g, o->semvals[k]);
		yajl_gen_array_close(g);
	} else {
		jkint(g, "size", (long long)o->size);
	}
	yajl_gen_map_close(g);
}

char *ck_ipc_to_json(const struct ck_ipc *ipc)
{
	yajl_gen g = ck_json_new();

	yajl_gen_map_open(g);
	for (int kind = CK_IPC_MSG; kind <= CK_IPC_SHM; kind++) {
		jstr(g, kind_names[kind]);
		yajl_gen_array_open(g);
		for (size_t i = 0; i < ipc->n; i++)
			if (ipc->objs[i].kind == (enum ck_ipc_kind)kind)
				gen_obj(g, &ipc->objs[i]);
		yajl_gen_array_close(g);
	}
	yajl_gen_map_close(g);
	return ck_json_finish(g);
}

static long long num(yajl_val o, const char *key, long long min, long long max, bool *ok)
{
	const char *path[] = {key, NULL};
	yajl_val v = yajl_tree_get(o, path, yajl_t_number);

	if (!v || !YAJL_IS_INTEGER(v) || YAJL_GET_INTEGER(v) < min || YAJL_GET_INTEGER(v) > max) {
		*ok = false;
		return 0;
	}
	return YAJL_GET_INTEGER(v);
}

static int unhex(const char *hex, struct ck_ipc_msg *m)
{
	size_t n = strlen(hex);

	if (n % 2)
		return -EINVAL;
	m->len = n / 2;
	m->data = xmalloc(m->len + 1);
	for (size_t i = 0; i < m->len; i++) {
		unsigned v;

		if (sscanf(hex + 2 * i, "%2x", &v) != 1)
			return -EINVAL;
		m->data[i] = (uint8_t)v;
	}
	return 0;
}

static int parse_msgs(yajl_val e, struct ck_ipc_obj *o)
{
	const char *mp[] = {"messages", NULL}, *dp[] = {"data", NULL};
	yajl_val a = yajl_tree_get(e, mp, yajl_t_array);
	bool ok = true;

	if (!a)
		return -EINVAL;
	o->qbytes = (uint64_t)num(e, "qbytes", 0, INT32_MAX, &ok);
	o->msgs = xcalloc(a->u.array.len + 1, sizeof(*o->msgs));
	for (size_t k = 0; k < a->u.array.len; k++, o->nmsgs++) {
		yajl_val m = a->u.array.values[k], d = yajl_tree_get(m, dp, yajl_t_string);

		o->msgs[k].mtype = (long)num(m, "type", 1, INT64_MAX, &ok);
		if (!d || unhex(YAJL_GET_STRING(d), &o->msgs[k]) < 0) {
			o->nmsgs++;
			return -EINVAL;
		}
	}
	return ok ? 0 : -EINVAL;
}

static int parse_sems(yajl_val e, struct ck_ipc_obj *o)
{
	const char *vp[] = {"values", NULL};
	yajl_val a = yajl_tree_get(e, vp, yajl_t_array);

	if (!a || a->u.array.len == 0)
		return -EINVAL;
	o->semvals = xcalloc(a->u.array.len, sizeof(*o->semvals));
	for (size_t k = 0; k < a->u.array.len; k++, o->nsems++) {
		yajl_val v = a->u.array.values[k];

		if (!YAJL_IS_INTEGER(v) || YAJL_GET_INTEGER(v) < 0 ||
		    YAJL_GET_INTEGER(v) > 32767) /* SEMVMX */
			return -EINVAL;
		o->semvals[k] = (uint16_t)YAJL_GET_INTEGER(v);
	}
	return 0;
}

static int parse_obj(yajl_val e, enum ck_ipc_kind kind, struct ck_ipc_obj *o)
{
	bool ok = true;

	o->kind = kind;
	o->id = (int)num(e, "id", 0, INT32_MAX, &ok);
	o->key = (int)num(e, "key", INT32_MIN, INT32_MAX, &ok);
	o->uid = (uint32_t)num(e, "uid", 0, UINT32_MAX, &ok);
	o->gid = (uint32_t)num(e, "gid", 0, UINT32_MAX, &ok);
	o->mode = (uint32_t)num(e, "mode", 0, 0777, &ok);
	if (kind == CK_IPC_SHM)
		o->size = (uint64_t)num(e, "size", 1, INT64_MAX, &ok);
	if (!ok)
		return -EINVAL;
	return kind == CK_IPC_MSG ? parse_msgs(e, o) : kind == CK_IPC_SEM ? parse_sems(e, o) : 0;
}

static int parse_tree(yajl_val t, struct ck_ipc *ipc, struct werr **err)
{
	memset(ipc, 0, sizeof(*ipc));
	if (!t || !YAJL_IS_OBJECT(t))
		return werr_set(err, EINVAL, "sysvipc.json: not a JSON object");
	for (int kind = CK_IPC_MSG; kind <= CK_IPC_SHM; kind++) {
		const char *path[] = {kind_names[kind], NULL};
		yajl_val a = yajl_tree_get(t, path, yajl_t_array);

		if (!a)
			return werr_set(err, EINVAL, "sysvipc.json: no \"%s\"", kind_names[kind]);
		for (size_t i = 0; i < a->u.array.len; i++) {
			struct ck_ipc_obj *o;

			ipc->objs = xrealloc(ipc->objs, (ipc->n + 1) * sizeof(*ipc->objs));
			o = &ipc->objs[ipc->n++];
			memset(o, 0, sizeof(*o));
			if (parse_obj(a->u.array.values[i], (enum ck_ipc_kind)kind, o) < 0) {
				ck_ipc_free(ipc);
				return werr_set(err, EINVAL, "sysvipc.json: bad \"%s\" entry %zu",
						kind_names[kind], i);
			}
		}
	}
	return 0;
}

int ck_ipc_from_json(const char *text, struct ck_ipc *ipc, struct werr **err)
{
	char ebuf[256] = "";
	yajl_val t = yajl_tree_parse(text, ebuf, sizeof(ebuf));
	int r = parse_tree(t, ipc, err);

	if (!t)
		return werr_set(err, EINVAL, "sysvipc.json: not JSON: %s", ebuf);
	yajl_tree_free(t);
	return r;
}
