/* POSIX timers: /proc/pid/timers gives each timer's id, signal, sigev_value, notification and
 * clock; its remaining time and interval only the process can ask (timer_gettime, injected).
 * Restore creates them in the helper with PR_TIMER_CREATE_RESTORE_IDS on (timer_create then
 * takes the id from *timerid), or, on a kernel without it, in id order, which reproduces ids
 * 0..n-1 only (dump refuses anything else there). */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "checkpoint/ptrace.h"
#include "checkpoint/timers.h"
#include "lib/jgen.h"
#include "lib/util.h"

#ifndef SIGEV_THREAD_ID
#define SIGEV_THREAD_ID 4
#endif

/* ---- /proc/pid/timers (fs/proc/base.c show_timer) ---- */

static int notify_parse(const char *s, int *notify, int *tid)
{
	static const struct {
		const char *name;
		int notify;
	} kinds[] = {{"signal", SIGEV_SIGNAL}, {"none", SIGEV_NONE}, {"thread", SIGEV_THREAD}};
	char kind[16], whom[8];

	if (sscanf(s, "%15[a-z]/%7[a-z].%d", kind, whom, tid) != 3)
		return -EINVAL;
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (!strcmp(kind, kinds[i].name)) {
			*notify = kinds[i].notify;
			if (!strcmp(whom, "tid"))
				*notify |= SIGEV_THREAD_ID;
			else if (strcmp(whom, "pid"))
				return -EINVAL;
			return 0;
		}
	return -EINVAL;
}

int ck_parse_timers(const char *text, struct ck_ptimer **out, size_t *n)
{
	struct ck_ptimer *t = NULL, *cur = NULL;
	size_t cnt = 0;

	for (const char *line = text; line && *line; line = strchr(line, '\n'), line += !!line) {
		unsigned long long v;
		int a, tid;

		if (sscanf(line, "ID: %d", &a) == 1) {
			t = xrealloc(t, (cnt + 1) * sizeof(*t));
			cur = &t[cnt++];
			memset(cur, 0, sizeof(*cur));
			cur->id = a;
			cur->clock = -1;
			continue;
		}
		if (!cur || *line == '\n')
			goto bad;
		if (sscanf(line, "signal: %d/%llx", &a, &v) == 2) {
			cur->signo = a;
			cur->value = v;
		} else if (!strncmp(line, "notify: ", 8)) {
			if (notify_parse(line + 8, &cur->notify, &tid) < 0)
				goto bad;
			cur->tid = cur->notify & SIGEV_THREAD_ID ? tid : 0;
		} else if (sscanf(line, "ClockID: %d", &a) == 1) {
			cur->clock = a;
		} else {
			goto bad;
		}
	}
	for (size_t i = 0; i < cnt; i++)
		if (t[i].clock < 0 || t[i].id < 0)
			goto bad;
	*out = t;
	*n = cnt;
	return 0;
bad:
	free(t);
	return -EINVAL;
}

bool ck_timer_ids_dense(const struct ck_ptimer *t, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (t[i].id < 0 || (size_t)t[i].id >= n)
			return false;
	for (size_t i = 0; i < n; i++)
		for (size_t j = i + 1; j < n; j++)
			if (t[i].id == t[j].id)
				return false;
	return true;
}

static int by_id(const void *a, const void *b)
{
	const struct ck_ptimer *x = a, *y = b;

	return (x->id > y->id) - (x->id < y->id);
}

/* ---- in the stopped task ---- */

/* nr(a0..a3) injected in tid; the result in *ret (may be NULL); a failure is an error. */
static int call(pid_t tid, uint64_t insn, const char *what, long nr, uint64_t a0, uint64_t a1,
		uint64_t a2, uint64_t a3, long *ret, struct werr **err)
{
	uint64_t a[6] = {a0, a1, a2, a3, 0, 0}; /* prctl wants the unused ones 0 */
	long r;

	if (ck_inject(tid, insn, nr, a, &r, err) < 0)
		return -EIO;
	if (r < 0 && r > -4096)
		return werr_sys(err, (int)-r, "%s in %d", what, tid);
	if (ret)
		*ret = r;
	return 0;
}

static uint64_t ts_ns(const struct timespec *ts)
{
	return (uint64_t)ts->tv_sec * 1000000000ULL + (uint64_t)ts->tv_nsec;
}

static struct timespec ns_ts(uint64_t ns)
{
	return (struct timespec){(time_t)(ns / 1000000000ULL), (long)(ns % 1000000000ULL)};
}

/* The image tid of the thread /proc named (host view), or 0. */
static pid_t image_tid(const struct ck_proc *p, pid_t host_tid)
{
	for (size_t i = 0; i < p->nthreads; i++)
		if (p->threads[i].host_tid == host_tid)
			return p->threads[i].tid;
	return 0;
}

static int read_values(struct ck_proc *p, uint64_t insn, struct werr **err)
{
	pid_t leader = p->threads[0].host_tid;
	_cleanup_close_ int memfd = ck_mem_open(leader, err);
	long scratch;
	int r = 0;

	if (memfd < 0 || call(leader, insn, "mmap", SYS_mmap, 0, 4096, PROT_READ | PROT_WRITE,
			      MAP_PRIVATE | MAP_ANONYMOUS, &scratch, err) < 0)
		return -EIO;
	for (size_t i = 0; i < p->nptimers && r == 0; i++) {
		struct ck_ptimer *t = &p->ptimers[i];
		struct itimerspec its;
		long over;

		r = call(leader, insn, "timer_gettime", SYS_timer_gettime, (uint64_t)t->id,
			 (uint64_t)scratch, 0, 0, NULL, err);
		if (r == 0 && pread(memfd, &its, sizeof(its), scratch) != sizeof(its))
			r = werr_sys(err, errno ? errno : EIO, "read timer %d", t->id);
		if (r == 0)
			r = call(leader, insn, "timer_getoverrun", SYS_timer_getoverrun,
				 (uint64_t)t->id, 0, 0, 0, &over, err);
		if (r == 0) {
			t->value_ns = ts_ns(&its.it_value);
			t->interval_ns = ts_ns(&its.it_interval);
			t->overrun = (int)over;
		}
	}
	if (call(leader, insn, "munmap", SYS_munmap, (uint64_t)scratch, 4096, 0, 0, NULL,
		 r < 0 ? NULL : err) < 0 &&
	    r == 0)
		r = -EIO;
	if (ck_set_regs(leader, &p->threads[0].regs, r < 0 ? NULL : err) < 0 && r == 0)
		r = -EIO;
	return r;
}

int ck_timers_collect(struct ck_proc *p, uint64_t insn, struct werr **err)
{
	_cleanup_free_ char *text = NULL;
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/timers", p->host_pid);
	if (read_file(path, &text, NULL, err) < 0)
		return werr_wrap(err, "POSIX timers");
	if (ck_parse_timers(text, &p->ptimers, &p->nptimers) < 0)
		return werr_set(err, EINVAL, "%s: cannot read it", path);
	if (!p->nptimers)
		return 0;
	qsort(p->ptimers, p->nptimers, sizeof(*p->ptimers), by_id);
	if (prctl(PR_TIMER_CREATE_RESTORE_IDS, PR_TIMER_CREATE_RESTORE_IDS_GET, 0, 0, 0) < 0 &&
	    !ck_timer_ids_dense(p->ptimers, p->nptimers))
		return werr_set(err, ENOTSUP,
				"POSIX timer ids not 0..%zu (timer %d), and this kernel has no "
				"PR_TIMER_CREATE_RESTORE_IDS to create them with those ids",
				p->nptimers - 1, p->ptimers[p->nptimers - 1].id);
	for (size_t i = 0; i < p->nptimers; i++) {
		struct ck_ptimer *t = &p->ptimers[i];

		if (!(t->notify & SIGEV_THREAD_ID))
			continue;
		t->tid = image_tid(p, t->tid);
		if (!t->tid)
			return werr_set(err, ESRCH, "POSIX timer %d: target thread not in the process",
					t->id);
	}
	return read_values(p, insn, err);
}

static int put(int memfd, uint64_t addr, const void *buf, size_t len, pid_t pid, struct werr **err)
{
	if (pwrite(memfd, buf, len, (off_t)addr) != (ssize_t)len)
		return werr_sys(err, errno ? errno : EIO, "write memory of %d", pid);
	return 0;
}

/* Create t (its sigevent at data, the id at data + 64). */
static int create_one(pid_t leader, uint64_t insn, int memfd, uint64_t data, bool by_id,
		      const struct ck_ptimer *t, struct werr **err)
{
	struct sigevent ev;
	int id = t->id;

	memset(&ev, 0, sizeof(ev));
	memcpy(&ev.sigev_value, &t->value, sizeof(t->value));
	ev.sigev_signo = t->signo;
	ev.sigev_notify = t->notify;
	ev._sigev_un._tid = t->tid;
	if (put(memfd, data, &ev, sizeof(ev), leader, err) < 0 ||
	    put(memfd, data + 64, &id, sizeof(id), leader, err) < 0 ||
	    call(leader, insn, "timer_create", SYS_timer_create, (uint64_t)t->clock, data,
		 data + 64, 0, NULL, err) < 0)
		return werr_wrap(err, "POSIX timer %d", t->id);
	if (pread(memfd, &id, sizeof(id), (off_t)(data + 64)) != sizeof(id))
		return werr_sys(err, errno ? errno : EIO, "read memory of %d", leader);
	if (id != t->id)
		return werr_set(err, EEXIST, "POSIX timer %d came up as %d%s", t->id, id,
				by_id ? "" : " (no PR_TIMER_CREATE_RESTORE_IDS)");
	return 0;
}

static int arm_one(pid_t leader, uint64_t insn, int memfd, uint64_t data,
		   const struct ck_ptimer *t, struct werr **err)
{
	struct itimerspec its = {ns_ts(t->interval_ns), ns_ts(t->value_ns)};

	if (!t->value_ns)
		return 0;
	if (put(memfd, data, &its, sizeof(its), leader, err) < 0 ||
	    call(leader, insn, "timer_settime", SYS_timer_settime, (uint64_t)t->id, 0, data, 0,
		 NULL, err) < 0)
		return werr_wrap(err, "POSIX timer %d", t->id);
	return 0;
}

int ck_timers_restore(const struct ck_proc *p, const pid_t *host_tids, uint64_t insn, int memfd,
		      uint64_t data, struct werr **err)
{
	pid_t leader = host_tids[0];
	uint64_t a[6] = {PR_TIMER_CREATE_RESTORE_IDS, PR_TIMER_CREATE_RESTORE_IDS_ON, 0, 0, 0, 0};
	long ret;
	bool by_id;
	int r = 0;

	if (!p->nptimers)
		return 0;
	if (ck_inject(leader, insn, SYS_prctl, a, &ret, err) < 0)
		return -EIO;
	by_id = ret == 0;
	for (size_t i = 0; i < p->nptimers && r == 0; i++)
		r = create_one(leader, insn, memfd, data, by_id, &p->ptimers[i], err);
	if (by_id && call(leader, insn, "prctl(PR_TIMER_CREATE_RESTORE_IDS)", SYS_prctl,
			  PR_TIMER_CREATE_RESTORE_IDS, PR_TIMER_CREATE_RESTORE_IDS_OFF, 0, 0, NULL,
			  r < 0 ? NULL : err) < 0 &&
	    r == 0)
		r = -EIO;
	for (size_t i = 0; i < p->nptimers && r == 0; i++)
		r = arm_one(leader, insn, memfd, data, &p->ptimers[i], err);
	return r;
}

/* ---- JSON ---- */

void ck_timers_gen(yajl_gen g, const struct ck_proc *p)
{
	if (!p->nptimers)
		return;
	jstr(g, "posix_timers");
	yajl_gen_array_open(g);
	for (size_t i = 0; i < p->nptimers; i++) {
		const struct ck_ptimer *t = &p->ptimers[i];
		char hex[19];

		snprintf(hex, sizeof(hex), "0x%llx", (unsigned long long)t->value);
		yajl_gen_map_open(g);
		jkint(g, "id", t->id);
		jkint(g, "clock", t->clock);
		jkint(g, "signo", t->signo);
		jkint(g, "notify", t->notify);
		jkint(g, "tid", t->tid);
		jstr(g, "sigval");
		jstr(g, hex);
		jkint(g, "interval_ns", (long long)t->interval_ns);
		jkint(g, "value_ns", (long long)t->value_ns);
		jkint(g, "overrun", t->overrun);
		yajl_gen_map_close(g);
	}
	yajl_gen_array_close(g);
}

static long long num(yajl_val o, const char *key, long long max, bool *ok)
{
	const char *path[] = {key, NULL};
	yajl_val v = yajl_tree_get(o, path, yajl_t_number);

	if (!v || !YAJL_IS_INTEGER(v) || YAJL_GET_INTEGER(v) < 0 || YAJL_GET_INTEGER(v) > max) {
		*ok = false;
		return 0;
	}
	return YAJL_GET_INTEGER(v);
}

static int parse_one(yajl_val e, struct ck_ptimer *t)
{
	const char *sp[] = {"sigval", NULL};
	yajl_val s = yajl_tree_get(e, sp, yajl_t_string);
	const char *hex = s ? YAJL_GET_STRING(s) : NULL;
	char *end = NULL;
	bool ok = true;
	int kind;

	t->id = (int)num(e, "id", INT32_MAX, &ok);
	t->clock = (int)num(e, "clock", INT32_MAX, &ok);
	t->signo = (int)num(e, "signo", INT32_MAX, &ok);
	t->notify = (int)num(e, "notify", INT32_MAX, &ok);
	t->tid = (pid_t)num(e, "tid", INT32_MAX, &ok);
	t->interval_ns = (uint64_t)num(e, "interval_ns", INT64_MAX, &ok);
	t->value_ns = (uint64_t)num(e, "value_ns", INT64_MAX, &ok);
	t->overrun = (int)num(e, "overrun", INT32_MAX, &ok);
	if (!hex || strncmp(hex, "0x", 2))
		return -EINVAL;
	errno = 0;
	t->value = strtoull(hex + 2, &end, 16);
	kind = t->notify & ~SIGEV_THREAD_ID;
	if (!ok || errno || *end || !hex[2] || kind > SIGEV_THREAD ||
	    (t->notify & SIGEV_THREAD_ID && (kind != SIGEV_SIGNAL || t->tid <= 0)) ||
	    (kind != SIGEV_NONE && (t->signo < 1 || t->signo > CK_NSIG)))
		return -EINVAL;
	return 0;
}

int ck_timers_parse(yajl_val core, struct ck_proc *p, struct werr **err)
{
	const char *path[] = {"posix_timers", NULL};
	yajl_val a = yajl_tree_get(core, path, yajl_t_array);

	if (!a)
		return 0;
	p->ptimers = xcalloc(a->u.array.len + 1, sizeof(*p->ptimers));
	for (size_t i = 0; i < a->u.array.len; i++, p->nptimers++)
		if (parse_one(a->u.array.values[i], &p->ptimers[i]) < 0)
			return werr_set(err, EINVAL, "\"posix_timers\": bad entry %zu", i);
	for (size_t i = 1; i < p->nptimers; i++)
		if (p->ptimers[i].id <= p->ptimers[i - 1].id)
			return werr_set(err, EINVAL, "\"posix_timers\": ids not ascending");
	return 0;
}
