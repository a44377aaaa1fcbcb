/* Reading the image's JSON documents back (format v1). Every field is checked: a missing or
 * mistyped value is an error naming the field, never a silent zero. */
#include "checkpoint/image.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_tree.h>

#include "checkpoint/fdx.h"
#include "checkpoint/locks.h"
#include "checkpoint/timers.h"
#include "lib/util.h"

static void tree_freep(yajl_val *v)
{
	if (*v)
		yajl_tree_free(*v);
}
#define _cleanup_tree_ __attribute__((cleanup(tree_freep)))

static yajl_val parse(const char *text, const char *what, struct werr **err)
{
	char ebuf[256] = "";
	yajl_val v = yajl_tree_parse(text, ebuf, sizeof(ebuf));

	if (!v || !YAJL_IS_OBJECT(v)) {
		werr_set(err, EINVAL, "%s: not a JSON object: %s", what, ebuf);
		if (v)
			yajl_tree_free(v);
		return NULL;
	}
	return v;
}

static yajl_val get(yajl_val obj, const char *key)
{
	const char *path[] = {key, NULL};

	return yajl_tree_get(obj, path, yajl_t_any);
}

static int get_int(yajl_val obj, const char *key, long long *out, struct werr **err)
{
	yajl_val v = get(obj, key);

	if (!v || !YAJL_IS_INTEGER(v))
		return werr_set(err, EINVAL, "\"%s\": missing or not an integer", key);
	*out = YAJL_GET_INTEGER(v);
	return 0;
}

static int hex_value(yajl_val v, uint64_t *out)
{
	const char *s = YAJL_IS_STRING(v) ? YAJL_GET_STRING(v) : NULL;
	char *end;

	if (!s || strncmp(s, "0x", 2) != 0 || !s[2])
		return -1;
	errno = 0;
	*out = strtoull(s + 2, &end, 16);
	return (*end || errno) ? -1 : 0;
}

static int get_hex(yajl_val obj, const char *key, uint64_t *out, struct werr **err)
{
	yajl_val v = get(obj, key);

	if (!v || hex_value(v, out) < 0)
		return werr_set(err, EINVAL, "\"%s\": missing or not a \"0x...\" string", key);
	return 0;
}

/* A string or null (NULL). */
static int get_str(yajl_val obj, const char *key, char **out, bool nullable, struct werr **err)
{
	yajl_val v = get(obj, key);

	if (v && YAJL_IS_NULL(v) && nullable) {
		*out = NULL;
		return 0;
	}
	if (!v || !YAJL_IS_STRING(v))
		return werr_set(err, EINVAL, "\"%s\": missing or not a string", key);
	*out = xstrdup(YAJL_GET_STRING(v));
	return 0;
}

static int get_bool(yajl_val obj, const char *key, bool *out, struct werr **err)
{
	yajl_val v = get(obj, key);

	if (!v || !(YAJL_IS_TRUE(v) || YAJL_IS_FALSE(v)))
		return werr_set(err, EINVAL, "\"%s\": missing or not a boolean", key);
	*out = YAJL_IS_TRUE(v);
	return 0;
}

static yajl_val get_array(yajl_val obj, const char *key, size_t *len, struct werr **err)
{
	yajl_val v = get(obj, key);

	if (!v || !YAJL_IS_ARRAY(v)) {
		werr_set(err, EINVAL, "\"%s\": missing or not an array", key);
		return NULL;
	}
	*len = YAJL_GET_ARRAY(v)->len;
	return v;
}

#define AT(arr, i) (YAJL_GET_ARRAY(arr)->values[i])

static int unhex(const char *s, uint8_t **out, size_t *len)
{
	size_t n = strlen(s);

	if (n % 2)
		return -1;
	*out = xmalloc(n / 2 + 1);
	for (size_t i = 0; i < n / 2; i++) {
		char b[3] = {s[2 * i], s[2 * i + 1], 0};
		char *end;

		(*out)[i] = (uint8_t)strtoul(b, &end, 16);
		if (*end) {
			free(*out);
			*out = NULL;
			return -1;
		}
	}
	*len = n / 2;
	return 0;
}

static int thread_from(yajl_val o, struct ck_thread *t, struct werr **err)
{
	yajl_val regs = get(o, "regs");
	_cleanup_free_ char *xs = NULL;
	long long v;
	uint64_t h;

	if (!YAJL_IS_OBJECT(o) || !regs || !YAJL_IS_OBJECT(regs))
		return werr_set(err, EINVAL, "thread: not an object with \"regs\"");
	if (get_int(o, "tid", &v, err) < 0)
		return -EINVAL;
	t->tid = (pid_t)v;
	for (const struct ck_reg_name *r = ck_reg_names; r->name; r++)
		if (get_hex(regs, r->name, (uint64_t *)((char *)&t->regs + r->offset), err) < 0)
			return werr_wrap(err, "thread %d regs", t->tid);
	if (get_str(o, "xstate", &xs, false, err) < 0 || unhex(xs, &t->xstate, &t->xstate_len) < 0)
		return werr_set(err, EINVAL, "thread %d: bad \"xstate\"", t->tid);
	if (get_hex(o, "sigmask", &t->sigmask, err) < 0 ||
	    get_hex(o, "rseq_ptr", &t->rseq_ptr, err) < 0 || get_int(o, "rseq_len", &v, err) < 0)
		return werr_wrap(err, "thread %d", t->tid);
	t->rseq_len = (uint32_t)v;
	if (get_hex(o, "rseq_sig", &h, err) < 0)
		return werr_wrap(err, "thread %d", t->tid);
	t->rseq_sig = (uint32_t)h;
	if (get_hex(o, "robust_head", &t->robust_head, err) < 0 ||
	    get_int(o, "robust_len", &v, err) < 0)
		return werr_wrap(err, "thread %d", t->tid);
	t->robust_len = (uint64_t)v;
	if (get_hex(o, "clear_tid", &t->clear_tid, err) < 0 ||
	    get_hex(o, "altstack_sp", &t->altstack_sp, err) < 0 ||
	    get_hex(o, "altstack_size", &t->altstack_size, err) < 0 ||
	    get_int(o, "altstack_flags", &v, err) < 0)
		return werr_wrap(err, "thread %d", t->tid);
	t->altstack_flags = (int)v;
	/* Optional: the thread's seccomp chain (seccomp.json, format 3). */
	if (get(o, "seccomp_filter")) {
		if (get_int(o, "seccomp_filter", &v, err) < 0 || v <= 0 || v > UINT32_MAX)
			return werr_set(err, EINVAL, "thread %d: bad \"seccomp_filter\"", t->tid);
		t->seccomp_id = (uint32_t)v;
	}
	return 0;
}

static int ids_from(yajl_val o, const char *key, uint32_t out[4], struct werr **err)
{
	size_t n;
	yajl_val a = get_array(o, key, &n, err);

	if (!a || n != 4)
		return werr_set(err, EINVAL, "\"%s\": want 4 ids", key);
	for (size_t i = 0; i < 4; i++) {
		if (!YAJL_IS_INTEGER(AT(a, i)))
			return werr_set(err, EINVAL, "\"%s\": not an integer", key);
		out[i] = (uint32_t)YAJL_GET_INTEGER(AT(a, i));
	}
	return 0;
}

static int sigactions_from(yajl_val o, struct ck_proc *p, struct werr **err)
{
	size_t n;
	yajl_val a = get_array(o, "sigactions", &n, err);

	if (!a)
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		yajl_val s = AT(a, i);
		struct ck_sigaction *sa;
		long long sig;

		if (get_int(s, "sig", &sig, err) < 0)
			return -EINVAL;
		if (sig < 1 || sig > CK_NSIG)
			return werr_set(err, EINVAL, "sigactions: bad signal %lld", sig);
		sa = &p->sigactions[sig - 1];
		if (get_hex(s, "handler", &sa->handler, err) < 0 ||
		    get_hex(s, "flags", &sa->flags, err) < 0 ||
		    get_hex(s, "restorer", &sa->restorer, err) < 0 ||
		    get_hex(s, "mask", &sa->mask, err) < 0)
			return werr_wrap(err, "signal %lld", sig);
	}
	return 0;
}

static int core_fields(yajl_val o, struct ck_proc *p, struct werr **err)
{
	_cleanup_free_ char *comm = NULL;
	long long v;
	size_t n;
	yajl_val a;

	if (get_int(o, "pid", &v, err) < 0)
		return -EINVAL;
	p->pid = (pid_t)v;
	if (get_int(o, "ppid", &v, err) < 0)
		return -EINVAL;
	p->ppid = (pid_t)v;
	if (get_int(o, "pgid", &v, err) < 0)
		return -EINVAL;
	p->pgid = (pid_t)v;
	if (get_int(o, "sid", &v, err) < 0)
		return -EINVAL;
	p->sid = (pid_t)v;
	if (get_str(o, "comm", &comm, false, err) < 0 ||
	    get_str(o, "cwd", &p->cwd, false, err) < 0 ||
	    get_str(o, "root", &p->root, false, err) < 0 || get_int(o, "umask", &v, err) < 0)
		return -EINVAL;
	snprintf(p->comm, sizeof(p->comm), "%s", comm);
	p->umask = (unsigned)v;
	if (ids_from(o, "uids", p->uid, err) < 0 || ids_from(o, "gids", p->gid, err) < 0)
		return -EINVAL;
	if (!(a = get_array(o, "groups", &n, err)))
		return -EINVAL;
	p->groups = xcalloc(n + 1, sizeof(*p->groups));
	for (size_t i = 0; i < n; i++, p->ngroups++) {
		if (!YAJL_IS_INTEGER(AT(a, i)))
			return werr_set(err, EINVAL, "\"groups\": not an integer");
		p->groups[i] = (uint32_t)YAJL_GET_INTEGER(AT(a, i));
	}
	if (get_hex(o, "cap_inheritable", &p->cap_inh, err) < 0 ||
	    get_hex(o, "cap_permitted", &p->cap_prm, err) < 0 ||
	    get_hex(o, "cap_effective", &p->cap_eff, err) < 0 ||
	    get_hex(o, "cap_bounding", &p->cap_bnd, err) < 0 ||
	    get_hex(o, "cap_ambient", &p->cap_amb, err) < 0 ||
	    get_bool(o, "no_new_privs", &p->no_new_privs, err) < 0)
		return -EINVAL;
	if (!(a = get_array(o, "rlimits", &n, err)) || n != CK_NRLIMIT)
		return werr_set(err, EINVAL, "\"rlimits\": want %d entries", CK_NRLIMIT);
	for (size_t i = 0; i < n; i++)
		if (get_hex(AT(a, i), "cur", &p->rlim_cur[i], err) < 0 ||
		    get_hex(AT(a, i), "max", &p->rlim_max[i], err) < 0)
			return werr_wrap(err, "rlimit %zu", i);
	return sigactions_from(o, p, err);
}

int ck_core_from_json(const char *text, struct ck_proc *p, struct werr **err)
{
	_cleanup_tree_ yajl_val o = parse(text, "core", err);
	size_t n;
	yajl_val a;

	if (!o)
		return -EINVAL;
	if (core_fields(o, p, err) < 0 || ck_task_parse(o, p, err) < 0 ||
	    ck_timers_parse(o, p, err) < 0)
		return werr_wrap(err, "core");
	if (!(a = get_array(o, "threads", &n, err)) || n == 0)
		return werr_set(err, EINVAL, "core: no threads");
	p->threads = xcalloc(n, sizeof(*p->threads));
	for (size_t i = 0; i < n; i++, p->nthreads++)
		if (thread_from(AT(a, i), &p->threads[i], err) < 0)
			return werr_wrap(err, "core");
	return 0;
}

static int prot_parse(const char *s, int *prot)
{
	if (strlen(s) != 3)
		return -1;
	*prot = (s[0] == 'r' ? 1 : 0) | (s[1] == 'w' ? 2 : 0) | (s[2] == 'x' ? 4 : 0);
	return 0;
}

static int vma_from(yajl_val o, struct ck_vma *v, struct werr **err)
{
	_cleanup_free_ char *prot = NULL, *flags = NULL, *kind = NULL;

	if (get_hex(o, "start", &v->start, err) < 0 || get_hex(o, "end", &v->end, err) < 0 ||
	    get_hex(o, "offset", &v->offset, err) < 0 ||
	    get_str(o, "prot", &prot, false, err) < 0 ||
	    get_str(o, "flags", &flags, false, err) < 0 ||
	    get_bool(o, "growsdown", &v->growsdown, err) < 0 ||
	    get_str(o, "kind", &kind, false, err) < 0 ||
	    get_str(o, "path", &v->path, true, err) < 0)
		return -EINVAL;
	if (prot_parse(prot, &v->prot) < 0)
		return werr_set(err, EINVAL, "bad \"prot\" %s", prot);
	if (strcmp(flags, "shared") && strcmp(flags, "private"))
		return werr_set(err, EINVAL, "bad \"flags\" %s", flags);
	v->shared = strcmp(flags, "shared") == 0;
	if (ck_vma_kind_parse(kind, &v->kind) < 0)
		return werr_set(err, EINVAL, "bad \"kind\" %s", kind);
	if (v->start >= v->end || (v->start | v->end) & 4095)
		return werr_set(err, EINVAL, "bad range 0x%llx-0x%llx",
				(unsigned long long)v->start, (unsigned long long)v->end);
	if (v->kind == CK_VMA_FILE && !v->path)
		return werr_set(err, EINVAL, "file mapping without a path");
	if (v->kind == CK_VMA_SHMEM) {
		long long id;

		if (get_int(o, "shmem_id", &id, err) < 0)
			return -EINVAL;
		if (id <= 0 || !v->shared || v->offset & 4095)
			return werr_set(err, EINVAL, "bad shared memory view (id %lld)", id);
		v->ino = (uint64_t)id;
	}
	return 0;
}

int ck_mm_from_json(const char *text, struct ck_mm *mm, struct werr **err)
{
	_cleanup_tree_ yajl_val o = parse(text, "mm", err);
	size_t n;
	yajl_val a;

	if (!o)
		return -EINVAL;
	if (get_hex(o, "start_code", &mm->start_code, err) < 0 ||
	    get_hex(o, "end_code", &mm->end_code, err) < 0 ||
	    get_hex(o, "start_data", &mm->start_data, err) < 0 ||
	    get_hex(o, "end_data", &mm->end_data, err) < 0 ||
	    get_hex(o, "start_brk", &mm->start_brk, err) < 0 ||
	    get_hex(o, "brk", &mm->brk, err) < 0 ||
	    get_hex(o, "start_stack", &mm->start_stack, err) < 0 ||
	    get_hex(o, "arg_start", &mm->arg_start, err) < 0 ||
	    get_hex(o, "arg_end", &mm->arg_end, err) < 0 ||
	    get_hex(o, "env_start", &mm->env_start, err) < 0 ||
	    get_hex(o, "env_end", &mm->env_end, err) < 0 ||
	    get_str(o, "exe", &mm->exe, true, err) < 0)
		return werr_wrap(err, "mm");
	{
		long long v;

		if (get_int(o, "track_fd", &v, err) < 0)
			return werr_wrap(err, "mm");
		mm->track_fd = (int)v;
	}
	if (!(a = get_array(o, "auxv", &n, err)) || n > CK_AUXV_MAX)
		return werr_set(err, EINVAL, "mm: bad \"auxv\"");
	for (size_t i = 0; i < n; i++, mm->auxv_len++)
		if (hex_value(AT(a, i), &mm->auxv[i]) < 0)
			return werr_set(err, EINVAL, "mm: bad \"auxv\" word %zu", i);
	if (!(a = get_array(o, "vmas", &n, err)))
		return werr_wrap(err, "mm");
	mm->vmas = xcalloc(n + 1, sizeof(*mm->vmas));
	for (size_t i = 0; i < n; i++, mm->nvmas++) {
		if (vma_from(AT(a, i), &mm->vmas[i], err) < 0)
			return werr_wrap(err, "mm: vma %zu", i);
		if (i && mm->vmas[i].start < mm->vmas[i - 1].end)
			return werr_set(err, EINVAL, "mm: vma %zu overlaps or is out of order", i);
	}
	return 0;
}

int ck_pagemap_from_json(const char *text, struct ck_mm *mm, struct werr **err)
{
	_cleanup_tree_ yajl_val o = parse(text, "pagemap", err);
	uint64_t next_off = 0;
	long long v;
	size_t n;
	yajl_val a;

	if (!o)
		return -EINVAL;
	if (get_int(o, "page_size", &v, err) < 0 || v != 4096)
		return werr_set(err, EINVAL, "pagemap: page_size must be 4096");
	if (!(a = get_array(o, "ranges", &n, err)))
		return werr_wrap(err, "pagemap");
	mm->pages = xcalloc(n + 1, sizeof(*mm->pages));
	for (size_t i = 0; i < n; i++, mm->npages++) {
		struct ck_page_range *r = &mm->pages[i];

		if (get_hex(AT(a, i), "addr", &r->addr, err) < 0 ||
		    get_int(AT(a, i), "npages", &v, err) < 0 ||
		    get_hex(AT(a, i), "offset", &r->offset, err) < 0 ||
		    get_bool(AT(a, i), "in_parent", &r->in_parent, err) < 0)
			return werr_wrap(err, "pagemap: range %zu", i);
		r->npages = (uint64_t)v;
		if (v <= 0 || r->addr & 4095 || (!r->in_parent && r->offset != next_off) ||
		    (i && r->addr < mm->pages[i - 1].addr + mm->pages[i - 1].npages * 4096))
			return werr_set(err, EINVAL,
					"pagemap: range %zu is not contiguous in the file "
					"or overlaps the previous one",
					i);
		if (!r->in_parent)
			next_off += r->npages * 4096;
	}
	return 0;
}

static int fd_from(yajl_val o, struct ck_fd *f, struct werr **err)
{
	_cleanup_free_ char *kind = NULL;
	long long v;

	if (get_int(o, "fd", &v, err) < 0 || v < 0 || v > 1 << 20)
		return werr_set(err, EINVAL, "bad \"fd\"");
	f->fd = (int)v;
	if (get_str(o, "kind", &kind, false, err) < 0 || ck_fd_kind_parse(kind, &f->kind) < 0)
		return werr_set(err, EINVAL, "fd %d: bad \"kind\"", f->fd);
	if (get_int(o, "file_id", &v, err) < 0 || v < 0)
		return werr_wrap(err, "fd %d", f->fd);
	f->file_id = (uint32_t)v;
	if (get_int(o, "flags", &v, err) < 0 || get_bool(o, "cloexec", &f->cloexec, err) < 0)
		return werr_wrap(err, "fd %d", f->fd);
	f->flags = (int)v;
	if (f->kind >= CK_FD_EVENTFD)
		return ck_fdx_parse(o, f, err) < 0 ? werr_wrap(err, "fd %d", f->fd) : 0;
	if (f->kind == CK_FD_PIPE) {
		if (get_int(o, "pipe_id", &v, err) < 0)
			return werr_wrap(err, "fd %d", f->fd);
		f->pipe_id = (uint64_t)v;
		if (get_int(o, "pipe_size", &v, err) < 0)
			return werr_wrap(err, "fd %d", f->fd);
		f->pipe_size = (int)v;
		return 0;
	}
	if (get_str(o, "path", &f->path, false, err) < 0 || get_int(o, "pos", &v, err) < 0 ||
	    get_bool(o, "outside", &f->outside, err) < 0)
		return werr_wrap(err, "fd %d", f->fd);
	f->pos = (uint64_t)v;
	return 0;
}

int ck_fds_from_json(const char *text, struct ck_proc *p, struct werr **err)
{
	_cleanup_tree_ yajl_val o = parse(text, "fds", err);
	size_t n;
	yajl_val a;

	if (!o)
		return -EINVAL;
	if (!(a = get_array(o, "fds", &n, err)))
		return werr_wrap(err, "fds");
	p->fds = xcalloc(n + 1, sizeof(*p->fds));
	/* counted before it is read: a half-read fd is freed with the rest */
	for (size_t i = 0; i < n; i++)
		if (p->nfds++, fd_from(AT(a, i), &p->fds[i], err) < 0 ||
		    ck_locks_parse(AT(a, i), &p->fds[i], err) < 0)
			return werr_wrap(err, "fds");
	return 0;
}

/* One object of shmem.json: ranges sorted, page aligned, inside the object. */
static int shmem_obj_from(yajl_val o, struct ck_shmem *obj, struct werr **err)
{
	long long id, np;
	uint64_t next = 0;
	size_t n;
	yajl_val a;

	if (get_int(o, "id", &id, err) < 0 || get_hex(o, "size", &obj->size, err) < 0 ||
	    !(a = get_array(o, "ranges", &n, err)))
		return -EINVAL;
	if (id <= 0 || obj->size == 0 || obj->size & 4095)
		return werr_set(err, EINVAL, "bad \"id\" %lld or \"size\" 0x%llx", id,
				(unsigned long long)obj->size);
	obj->id = (uint64_t)id;
	obj->ranges = xcalloc(n + 1, sizeof(*obj->ranges));
	for (size_t i = 0; i < n; i++, obj->nranges++) {
		struct ck_shmem_range *r = &obj->ranges[i];

		if (get_hex(AT(a, i), "offset", &r->offset, err) < 0 ||
		    get_int(AT(a, i), "npages", &np, err) < 0)
			return werr_wrap(err, "range %zu", i);
		r->npages = (uint64_t)np;
		if (np <= 0 || r->offset & 4095 || r->offset < next ||
		    r->npages > (obj->size - r->offset) / 4096 || r->offset >= obj->size)
			return werr_set(err, EINVAL,
					"range %zu overlaps the previous one or is outside the "
					"object",
					i);
		next = r->offset + r->npages * 4096;
	}
	return 0;
}

int ck_shmem_from_json(const char *text, struct ck_shmem **objs, size_t *nobjs,
		       struct werr **err)
{
	_cleanup_tree_ yajl_val o = parse(text, "shmem", err);
	size_t n;
	yajl_val a;

	*objs = NULL;
	*nobjs = 0;
	if (!o)
		return -EINVAL;
	if (!(a = get_array(o, "objects", &n, err)))
		return werr_wrap(err, "shmem");
	*objs = xcalloc(n + 1, sizeof(**objs));
	/* counted before it is read: a half-read object is freed with the rest */
	for (size_t i = 0; i < n; i++) {
		if ((*nobjs)++, shmem_obj_from(AT(a, i), &(*objs)[i], err) < 0)
			return werr_wrap(err, "shmem: object %zu", i);
		for (size_t j = 0; j < i; j++)
			if ((*objs)[j].id == (*objs)[i].id)
				return werr_set(err, EINVAL, "shmem: object %llu twice",
						(unsigned long long)(*objs)[i].id);
	}
	return 0;
}
