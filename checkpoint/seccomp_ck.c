/* Seccomp filters (issue 7). A thread's filters form a chain, each filter pointing at the one
 * installed before it; threads and forked children share the older part (the kernel
 * shares the very objects). Dump reads each thread's chain with PTRACE_SECCOMP_GET_FILTER (the
 * classic BPF as installed; needs CAP_SYS_ADMIN in the initial user namespace and CONFIG_
 * CHECKPOINT_RESTORE) and PTRACE_SECCOMP_GET_METADATA (its flags: the kernel keeps only
 * SECCOMP_FILTER_FLAG_LOG). The kernel offers no way to tell two filter objects apart (kcmp has
 * no type for them), so a filter is identified by what decides its behaviour: its program, its
 * flags and the filter before it. Two chains built the same way separately are stored as one,
 * which restores the same behaviour. seccomp.json holds every distinct filter once; core JSON
 * names each thread's newest filter. Restore installs each thread's chain, oldest first, with
 * seccomp(SECCOMP_SET_MODE_FILTER) injected in that thread. */
#include "checkpoint/seccomp_ck.h"

#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <yajl/yajl_gen.h>
#include <yajl/yajl_tree.h>

#include "checkpoint/fdx.h"
#include "checkpoint/internal.h"
#include "checkpoint/ptrace.h"
#include "lib/jgen.h"
#include "lib/util.h"

#define SECCOMP_FILE "seccomp.json"
#define BPF_INSN_BYTES 8 /* struct sock_filter */
#define FLAGS_KNOWN SECCOMP_FILTER_FLAG_LOG

/* Whether the program can hand a call to a user-space listener: a SECCOMP_RET_USER_NOTIF return.
 * (A return of the accumulator cannot be judged; such a filter without a listener behaves the
 * same after restore, since a listener is the only thing lost.) */
static bool notifies(const struct ck_bpf *f)
{
	for (uint32_t i = 0; i < f->len; i++) {
		struct sock_filter in;

		memcpy(&in, f->insns + (size_t)i * BPF_INSN_BYTES, sizeof(in));
		if (in.code == (BPF_RET | BPF_K) &&
		    (in.k & SECCOMP_RET_ACTION_FULL) == SECCOMP_RET_USER_NOTIF)
			return true;
	}
	return false;
}

/* Filter idx of tid's chain as PTRACE_SECCOMP_GET_FILTER counts them: 0 is the oldest (the
 * first installed), -ENOENT past the newest. */
static int read_filter(pid_t tid, unsigned long idx, struct ck_bpf *f, struct werr **err)
{
	struct __ptrace_seccomp_metadata md = {.filter_off = idx};
	long n = ptrace(PTRACE_SECCOMP_GET_FILTER, tid, idx, NULL);

	if (n < 0 && errno == ENOENT)
		return -ENOENT;
	if (n < 0)
		return werr_sys(err, errno,
				"thread %d: PTRACE_SECCOMP_GET_FILTER %lu (needs CAP_SYS_ADMIN in "
				"the initial user namespace and a ward not itself under seccomp)",
				tid, idx);
	if (n == 0 || n > BPF_MAXINSNS)
		return werr_set(err, EINVAL, "thread %d: seccomp filter %lu has %ld instructions",
				tid, idx, n);
	f->len = (uint32_t)n;
	f->insns = xmalloc((size_t)n * BPF_INSN_BYTES);
	if (ptrace(PTRACE_SECCOMP_GET_FILTER, tid, idx, f->insns) != n)
		return werr_sys(err, errno ? errno : EIO, "thread %d: read seccomp filter %lu", tid,
				idx);
	if (ptrace(PTRACE_SECCOMP_GET_METADATA, tid, sizeof(md), &md) < 0)
		return werr_sys(err, errno, "thread %d: PTRACE_SECCOMP_GET_METADATA %lu", tid, idx);
	f->flags = (uint32_t)(md.flags & FLAGS_KNOWN);
	return 0;
}

int ck_seccomp_collect(const struct ck_proc *p, struct ck_thread *t, pid_t host_tid, int mode,
		       struct werr **err)
{
	if (mode == SECCOMP_MODE_STRICT)
		return werr_set(
			err, ENOTSUP,
			"process %d (%s): thread %d is in seccomp strict mode, which cannot "
			"be checkpointed",
			p->pid, p->comm, t->tid);
	if (mode != SECCOMP_MODE_FILTER)
		return 0;
	for (unsigned long idx = 0;; idx++) {
		struct ck_bpf f = {0};
		int r = read_filter(host_tid, idx, &f, err);

		if (r == -ENOENT)
			break;
		if (r == 0 && notifies(&f))
			r = werr_set(err, ENOTSUP,
				     "thread %d has a seccomp filter returning "
				     "SECCOMP_RET_USER_NOTIF, whose listener cannot be restored",
				     t->tid);
		if (r < 0) {
			free(f.insns);
			return werr_wrap(err, "process %d (%s)", p->pid, p->comm);
		}
		t->filters = xrealloc(t->filters, (t->nfilters + 1) * sizeof(*t->filters));
		t->filters[t->nfilters++] = f;
	}
	/* The dump injects calls in the thread (ask_blob.c, task_misc.c, track.c): its filters
	 * must not deny or kill them. Dump seizes with no options: this is all of them. The
	 * suspension ends when the thread is detached. */
	if (ptrace(PTRACE_SETOPTIONS, host_tid, 0, PTRACE_O_SUSPEND_SECCOMP) < 0)
		return werr_sys(err, errno, "process %d (%s): thread %d: PTRACE_O_SUSPEND_SECCOMP",
				p->pid, p->comm, t->tid);
	return 0;
}

/* ---- the tree's distinct filters (seccomp.json) ---- */

struct filter_node {
	const struct ck_bpf *f;
	uint32_t prev; /* the filter before it in the chain, 0 none */
};

struct filter_table {
	struct filter_node *nodes; /* id i + 1 */
	size_t n;
};

static bool same_bpf(const struct ck_bpf *a, const struct ck_bpf *b)
{
	return a->flags == b->flags && a->len == b->len &&
	       memcmp(a->insns, b->insns, (size_t)a->len * BPF_INSN_BYTES) == 0;
}

/* The id of f on top of prev, added when new. */
static uint32_t intern(struct filter_table *tab, const struct ck_bpf *f, uint32_t prev)
{
	for (size_t i = 0; i < tab->n; i++)
		if (tab->nodes[i].prev == prev && same_bpf(tab->nodes[i].f, f))
			return (uint32_t)i + 1;
	tab->nodes = xrealloc(tab->nodes, (tab->n + 1) * sizeof(*tab->nodes));
	tab->nodes[tab->n++] = (struct filter_node){f, prev};
	return (uint32_t)tab->n;
}

static char *table_json(const struct filter_table *tab)
{
	static const char hex[] = "0123456789abcdef";
	yajl_gen g = ck_json_new();

	yajl_gen_map_open(g);
	jstr(g, "filters");
	yajl_gen_array_open(g);
	for (size_t i = 0; i < tab->n; i++) {
		const struct ck_bpf *f = tab->nodes[i].f;
		size_t bytes = (size_t)f->len * BPF_INSN_BYTES;
		_cleanup_free_ char *h = xmalloc(bytes * 2 + 1);

		for (size_t k = 0; k < bytes; k++) {
			h[2 * k] = hex[f->insns[k] >> 4];
			h[2 * k + 1] = hex[f->insns[k] & 15];
		}
		h[2 * bytes] = '\0';
		yajl_gen_map_open(g);
		jkint(g, "id", (long long)i + 1);
		jkint(g, "prev", tab->nodes[i].prev);
		jkint(g, "flags", f->flags);
		jkint(g, "len", f->len);
		jstr(g, "insns");
		jstr(g, h);
		yajl_gen_map_close(g);
	}
	yajl_gen_array_close(g);
	yajl_gen_map_close(g);
	return ck_json_finish(g);
}

int ck_seccomp_dump(int dirfd, struct ck_proc *procs, size_t n, struct ck_inventory *inv,
		    struct werr **err)
{
	struct filter_table tab = {0};
	_cleanup_free_ char *text = NULL;
	int r;

	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < procs[i].nthreads; j++) {
			struct ck_thread *t = &procs[i].threads[j];
			uint32_t id = 0;

			for (size_t k = 0; k < t->nfilters; k++)
				id = intern(&tab, &t->filters[k], id);
			t->seccomp_id = id;
		}
	if (tab.n == 0)
		return 0;
	text = table_json(&tab);
	free(tab.nodes);
	r = ck_write_text(dirfd, SECCOMP_FILE, text, err);
	if (r < 0)
		return r;
	ck_inventory_add(inv, xstrdup(SECCOMP_FILE), NULL);
	ck_inventory_need(inv, CK_FORMAT_SECCOMP);
	return 0;
}

/* ---- restore ---- */

struct loaded {
	struct ck_bpf *f; /* id i + 1 */
	uint32_t *prev;
	size_t n;
};

static void loaded_free(struct loaded *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->f[i].insns);
	free(l->f);
	free(l->prev);
}

static long long int_field(yajl_val o, const char *key, bool *ok)
{
	const char *path[] = {key, NULL};
	yajl_val v = yajl_tree_get(o, path, yajl_t_number);

	if (!v || !YAJL_IS_INTEGER(v) || YAJL_GET_INTEGER(v) < 0) {
		*ok = false;
		return -1;
	}
	return YAJL_GET_INTEGER(v);
}

static int unhex_insns(const char *s, struct ck_bpf *f)
{
	size_t bytes = (size_t)f->len * BPF_INSN_BYTES;

	if (!s || strlen(s) != bytes * 2)
		return -1;
	f->insns = xmalloc(bytes);
	for (size_t k = 0; k < bytes; k++) {
		char b[3] = {s[2 * k], s[2 * k + 1], 0}, *end;

		f->insns[k] = (uint8_t)strtoul(b, &end, 16);
		if (*end)
			return -1;
	}
	return 0;
}

/* One entry of "filters": ids count up from 1 and name only earlier filters as prev. */
static int filter_from(yajl_val o, size_t i, struct loaded *l, struct werr **err)
{
	const char *ip[] = {"insns", NULL};
	yajl_val h = yajl_tree_get(o, ip, yajl_t_string);
	struct ck_bpf *f = &l->f[i];
	bool ok = true;
	long long id = int_field(o, "id", &ok), prev = int_field(o, "prev", &ok);
	long long flags = int_field(o, "flags", &ok), len = int_field(o, "len", &ok);

	if (!ok || id != (long long)i + 1 || prev >= id)
		return werr_set(err, EINVAL, "seccomp.json: filter %zu: bad \"id\" or \"prev\"", i);
	if (flags & ~(long long)FLAGS_KNOWN)
		return werr_set(err, EINVAL, "seccomp.json: filter %lld: unknown flags 0x%llx", id,
				flags);
	if (len < 1 || len > BPF_MAXINSNS)
		return werr_set(err, EINVAL, "seccomp.json: filter %lld: bad \"len\" %lld", id,
				len);
	f->flags = (uint32_t)flags;
	f->len = (uint32_t)len;
	l->prev[i] = (uint32_t)prev;
	if (unhex_insns(h ? YAJL_GET_STRING(h) : NULL, f) < 0)
		return werr_set(err, EINVAL, "seccomp.json: filter %lld: bad \"insns\"", id);
	return 0;
}

static int parse_file(int dirfd, struct loaded *l, struct werr **err)
{
	_cleanup_free_ char *text = NULL;
	const char *fp[] = {"filters", NULL};
	char ebuf[256] = "";
	yajl_val o, a;
	int r = 0;

	if (read_file_at(dirfd, SECCOMP_FILE, &text, NULL, err) < 0)
		return -EIO;
	o = yajl_tree_parse(text, ebuf, sizeof(ebuf));
	a = o ? yajl_tree_get(o, fp, yajl_t_array) : NULL;
	if (!a || YAJL_GET_ARRAY(a)->len == 0) {
		if (o)
			yajl_tree_free(o);
		return werr_set(err, EINVAL, "seccomp.json: no \"filters\" %s", ebuf);
	}
	l->f = xcalloc(YAJL_GET_ARRAY(a)->len, sizeof(*l->f));
	l->prev = xcalloc(YAJL_GET_ARRAY(a)->len, sizeof(*l->prev));
	for (size_t i = 0; i < YAJL_GET_ARRAY(a)->len && r == 0; i++, l->n++)
		r = filter_from(YAJL_GET_ARRAY(a)->values[i], i, l, err);
	yajl_tree_free(o);
	return r;
}

/* t's chain from the table, oldest first: walked from the newest (prev < id: the walk ends). */
static void give_chain(const struct loaded *l, struct ck_thread *t)
{
	size_t n = 0;

	for (uint32_t id = t->seccomp_id; id; id = l->prev[id - 1])
		n++;
	t->filters = xcalloc(n + 1, sizeof(*t->filters));
	t->nfilters = n;
	for (uint32_t id = t->seccomp_id; id; id = l->prev[id - 1]) {
		const struct ck_bpf *f = &l->f[id - 1];
		struct ck_bpf *c = &t->filters[--n];

		*c = *f;
		c->insns = xmalloc((size_t)f->len * BPF_INSN_BYTES);
		memcpy(c->insns, f->insns, (size_t)f->len * BPF_INSN_BYTES);
	}
}

int ck_seccomp_load(int dirfd, const struct ck_inventory *inv, struct ck_proc *procs, size_t n,
		    struct werr **err)
{
	struct loaded l = {0};
	bool listed = ck_inventory_has(inv, SECCOMP_FILE);
	int r = 0;

	if (listed && inv->format < CK_FORMAT_SECCOMP)
		return werr_set(err, EINVAL,
				"image: format %d with seccomp.json (an image with seccomp filters is "
				"format %d)",
				inv->format, CK_FORMAT_SECCOMP);
	if (listed)
		r = parse_file(dirfd, &l, err);
	for (size_t i = 0; i < n && r == 0; i++)
		for (size_t j = 0; j < procs[i].nthreads && r == 0; j++) {
			struct ck_thread *t = &procs[i].threads[j];

			if (t->seccomp_id > l.n)
				r = werr_set(err, EINVAL,
					     "image: thread %d of process %d names seccomp filter "
					     "%u, not in seccomp.json",
					     t->tid, procs[i].pid, t->seccomp_id);
			else
				give_chain(&l, t);
		}
	loaded_free(&l);
	return r;
}

unsigned long ck_seccomp_ptrace_opts(const struct ck_proc *p)
{
	for (size_t i = 0; i < p->nthreads; i++)
		if (p->threads[i].nfilters)
			return PTRACE_O_SUSPEND_SECCOMP;
	return 0;
}

static int inject_ok(pid_t tid, uint64_t insn, const char *what, long nr, const uint64_t a[6],
		     long *ret, struct werr **err)
{
	if (ck_inject(tid, insn, nr, a, ret, err) < 0)
		return -EIO;
	if (*ret < 0 && *ret > -4096)
		return werr_sys(err, (int)-*ret, "thread %d: %s", tid, what);
	return 0;
}

/* Why here, in this order: installing a filter needs no_new_privs or CAP_SYS_ADMIN in the task's
 * user namespace. The image's process may have neither (a container that dropped CAP_SYS_ADMIN
 * without noNewPrivileges, Docker's and Podman's default), and no_new_privs cannot be set for a
 * while and cleared again: so the filters go in while the helper still holds every capability,
 * after its threads exist (a thread cloned later would inherit the leader's filters) and before
 * the credentials are restored. The calls injected after them (credentials, no_new_privs,
 * pending signals, the trampoline's munmap) are not filtered: the helpers are seized with
 * PTRACE_O_SUSPEND_SECCOMP (ck_seccomp_ptrace_opts), and threads created by the injected clone
 * inherit it. It ends with the detach: the filters act from the task's first own instruction. */
int ck_seccomp_restore(const struct ck_proc *p, const pid_t *host_tids, uint64_t insn, int memfd,
		       struct werr **err)
{
	size_t most = 0;
	uint64_t scratch;
	long ret;
	int r = 0;

	for (size_t i = 0; i < p->nthreads; i++)
		for (size_t k = 0; k < p->threads[i].nfilters; k++)
			if (p->threads[i].filters[k].len > most)
				most = p->threads[i].filters[k].len;
	if (most == 0)
		return 0;
	most = (sizeof(struct sock_fprog) + most * BPF_INSN_BYTES + 4095) & ~(size_t)4095;
	if (inject_ok(host_tids[0], insn, "mmap for seccomp filters", SYS_mmap,
		      (uint64_t[6]){0, most, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
				    (uint64_t)-1, 0},
		      &ret, err) < 0)
		return -EIO;
	scratch = (uint64_t)ret;
	for (size_t i = 0; i < p->nthreads && r == 0; i++)
		for (size_t k = 0; k < p->threads[i].nfilters && r == 0; k++) {
			const struct ck_bpf *f = &p->threads[i].filters[k];
			struct sock_fprog prog = {
				.len = (unsigned short)f->len,
				.filter =
					(struct sock_filter *)(uintptr_t)(scratch + sizeof(prog))};
			size_t bytes = (size_t)f->len * BPF_INSN_BYTES;

			if (pwrite(memfd, &prog, sizeof(prog), (off_t)scratch) != sizeof(prog) ||
			    pwrite(memfd, f->insns, bytes, (off_t)(scratch + sizeof(prog))) !=
				    (ssize_t)bytes)
				r = werr_sys(err, errno, "write a seccomp filter into %d",
					     host_tids[0]);
			else
				r = inject_ok(
					host_tids[i], insn, "seccomp(SECCOMP_SET_MODE_FILTER)",
					SYS_seccomp,
					(uint64_t[6]){SECCOMP_SET_MODE_FILTER, f->flags, scratch},
					&ret, err);
		}
	if (inject_ok(host_tids[0], insn, "munmap", SYS_munmap, (uint64_t[6]){scratch, most}, &ret,
		      r < 0 ? NULL : err) < 0 &&
	    r == 0)
		r = -EIO;
	return r;
}
