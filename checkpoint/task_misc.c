/* Per-process state beyond core: interval timers (getitimer/setitimer injected in the task) and
 * pending signals, per thread and shared (PTRACE_PEEKSIGINFO at dump, re-queued at restore by
 * rt_sigqueueinfo / rt_tgsigqueueinfo injected in the task itself, which the kernel allows for
 * any si_code when a task signals itself). */
#include <errno.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <unistd.h>

#include "checkpoint/fdx.h"
#include "checkpoint/ptrace.h"
#include "lib/jgen.h"
#include "lib/util.h"

#ifndef PTRACE_PEEKSIGINFO
#define PTRACE_PEEKSIGINFO 0x4209
#endif
#ifndef PTRACE_PEEKSIGINFO_SHARED
#define PTRACE_PEEKSIGINFO_SHARED 1
#endif

struct peek_args {
	uint64_t off;
	uint32_t flags;
	int32_t nr;
};

/* si_signo of a siginfo_t kept as bytes (not aligned for a siginfo_t access). */
static int info_signo(const uint8_t *info)
{
	int sig;

	memcpy(&sig, info + offsetof(siginfo_t, si_signo), sizeof(sig));
	return sig;
}

static int peek_queue(struct ck_proc *p, pid_t host_tid, pid_t tid, bool shared, struct werr **err)
{
	for (uint64_t off = 0;; off++) {
		struct peek_args a = {off, shared ? PTRACE_PEEKSIGINFO_SHARED : 0, 1};
		uint8_t info[128];
		long n = ptrace(PTRACE_PEEKSIGINFO, host_tid, &a, info);

		if (n < 0)
			return werr_sys(err, errno, "ptrace peeksiginfo %d", host_tid);
		if (n == 0)
			return 0;
		if (info_signo(info) == SIGKILL)
			continue;
		p->sigq = xrealloc(p->sigq, (p->nsigq + 1) * sizeof(*p->sigq));
		p->sigq[p->nsigq].tid = shared ? 0 : tid;
		memcpy(p->sigq[p->nsigq++].info, info, sizeof(info));
	}
}

int ck_task_collect_signals(struct ck_proc *p, struct werr **err)
{
	if (peek_queue(p, p->threads[0].host_tid, 0, true, err) < 0)
		return -EIO;
	for (size_t i = 0; i < p->nthreads; i++)
		if (peek_queue(p, p->threads[i].host_tid, p->threads[i].tid, false, err) < 0)
			return -EIO;
	return 0;
}

static int inj(pid_t tid, uint64_t insn, long nr, uint64_t a0, uint64_t a1, uint64_t a2,
	       uint64_t a3, struct werr **err)
{
	uint64_t a[6] = {a0, a1, a2, a3, 0, 0};
	long ret;

	if (ck_inject(tid, insn, nr, a, &ret, err) < 0)
		return -EIO;
	if (ret < 0 && ret > -4096)
		return werr_sys(err, (int)-ret, "injected system call %ld in %d", nr, tid);
	return 0;
}

int ck_task_collect_itimers(struct ck_proc *p, uint64_t insn, struct werr **err)
{
	pid_t leader = p->threads[0].host_tid;
	_cleanup_close_ int memfd = ck_mem_open(leader, err);
	uint64_t scratch;
	long ret;
	int r = 0;
	uint64_t a[6] = {0, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, 0, 0};

	if (memfd < 0 || ck_inject(leader, insn, SYS_mmap, a, &ret, err) < 0)
		return -EIO;
	if (ret < 0 && ret > -4096)
		return werr_sys(err, (int)-ret, "process %d: injected mmap", p->pid);
	scratch = (uint64_t)ret;
	for (int w = 0; w < 3 && r == 0; w++) {
		struct itimerval it;

		r = inj(leader, insn, SYS_getitimer, (uint64_t)w, scratch, 0, 0, err);
		if (r == 0 && pread(memfd, &it, sizeof(it), (off_t)scratch) != sizeof(it))
			r = werr_sys(err, errno, "process %d: read itimer", p->pid);
		if (r == 0) {
			p->itimers[w].interval_us = (uint64_t)it.it_interval.tv_sec * 1000000 +
						    (uint64_t)it.it_interval.tv_usec;
			p->itimers[w].value_us = (uint64_t)it.it_value.tv_sec * 1000000 +
						 (uint64_t)it.it_value.tv_usec;
		}
	}
	if (inj(leader, insn, SYS_munmap, scratch, 4096, 0, 0, r < 0 ? NULL : err) < 0 && r == 0)
		r = -EIO;
	if (ck_set_regs(leader, &p->threads[0].regs, r < 0 ? NULL : err) < 0 && r == 0)
		r = -EIO;
	return r;
}

int ck_task_restore(const struct ck_proc *p, const pid_t *host_tids, uint64_t insn, int memfd,
		    uint64_t data, struct werr **err)
{
	uint64_t all = ~0ULL;

	/* Nothing is delivered before the registers and the real mask are set. */
	for (size_t i = 0; i < p->nthreads; i++)
		if (ptrace(PTRACE_SETSIGMASK, host_tids[i], 8, &all) < 0)
			return werr_sys(err, errno, "ptrace setsigmask %d", host_tids[i]);
	for (int w = 0; w < 3; w++) {
		const struct ck_itimer *t = &p->itimers[w];
		struct itimerval it = {
			{(time_t)(t->interval_us / 1000000),
			 (suseconds_t)(t->interval_us % 1000000)},
			{(time_t)(t->value_us / 1000000), (suseconds_t)(t->value_us % 1000000)}};

		if (!t->value_us)
			continue;
		if (pwrite(memfd, &it, sizeof(it), (off_t)data) != sizeof(it))
			return werr_sys(err, errno, "write memory of %d", host_tids[0]);
		if (inj(host_tids[0], insn, SYS_setitimer, (uint64_t)w, data, 0, 0, err) < 0)
			return werr_wrap(err, "setitimer(%d)", w);
	}
	for (size_t k = 0; k < p->nsigq; k++) {
		const struct ck_sigq *q = &p->sigq[k];
		int sig = info_signo(q->info);
		size_t i = 0;

		if (q->tid)
			for (i = 0; i < p->nthreads && p->threads[i].tid != q->tid; i++)
				;
		if (i == p->nthreads)
			return werr_set(err, EINVAL,
					"pending signal %d for thread %d, not in the "
					"process",
					sig, q->tid);
		if (pwrite(memfd, q->info, sizeof(q->info), (off_t)data) != sizeof(q->info))
			return werr_sys(err, errno, "write memory of %d", host_tids[0]);
		if (q->tid ? inj(host_tids[i], insn, SYS_rt_tgsigqueueinfo, (uint64_t)p->pid,
				 (uint64_t)q->tid, (uint64_t)sig, data, err)
			   : inj(host_tids[0], insn, SYS_rt_sigqueueinfo, (uint64_t)p->pid,
				 (uint64_t)sig, data, 0, err))
			return werr_wrap(err, "queue pending signal %d", sig);
	}
	return 0;
}

/* ---- JSON (in core-<pid>.json) ---- */

void ck_task_gen(yajl_gen g, const struct ck_proc *p)
{
	jstr(g, "itimers");
	yajl_gen_array_open(g);
	for (int w = 0; w < 3; w++) {
		yajl_gen_map_open(g);
		jstr(g, "interval_us");
		yajl_gen_integer(g, (long long)p->itimers[w].interval_us);
		jstr(g, "value_us");
		yajl_gen_integer(g, (long long)p->itimers[w].value_us);
		yajl_gen_map_close(g);
	}
	yajl_gen_array_close(g);
	jstr(g, "pending_signals");
	yajl_gen_array_open(g);
	for (size_t k = 0; k < p->nsigq; k++) {
		char hex[2 * 128 + 1];

		for (int i = 0; i < 128; i++)
			snprintf(hex + 2 * i, 3, "%02x", p->sigq[k].info[i]);
		yajl_gen_map_open(g);
		jstr(g, "tid");
		yajl_gen_integer(g, p->sigq[k].tid);
		jstr(g, "siginfo");
		jstr(g, hex);
		yajl_gen_map_close(g);
	}
	yajl_gen_array_close(g);
}

static long long int_at(yajl_val o, const char *key, bool *ok)
{
	const char *path[] = {key, NULL};
	yajl_val v = yajl_tree_get(o, path, yajl_t_number);

	if (!v || !YAJL_IS_INTEGER(v) || YAJL_GET_INTEGER(v) < 0) {
		*ok = false;
		return 0;
	}
	return YAJL_GET_INTEGER(v);
}

int ck_task_parse(yajl_val o, struct ck_proc *p, struct werr **err)
{
	const char *ip[] = {"itimers", NULL}, *sp[] = {"pending_signals", NULL};
	yajl_val a = yajl_tree_get(o, ip, yajl_t_array);
	bool ok = true;

	if (a && a->u.array.len != 3)
		return werr_set(err, EINVAL, "\"itimers\": want 3 entries");
	for (size_t w = 0; a && w < 3; w++) {
		p->itimers[w].interval_us =
			(uint64_t)int_at(a->u.array.values[w], "interval_us", &ok);
		p->itimers[w].value_us = (uint64_t)int_at(a->u.array.values[w], "value_us", &ok);
	}
	if (!ok)
		return werr_set(err, EINVAL, "\"itimers\": bad entry");
	a = yajl_tree_get(o, sp, yajl_t_array);
	if (!a)
		return 0;
	p->sigq = xcalloc(a->u.array.len + 1, sizeof(*p->sigq));
	for (size_t k = 0; k < a->u.array.len; k++, p->nsigq++) {
		yajl_val e = a->u.array.values[k];
		const char *hp[] = {"siginfo", NULL};
		yajl_val h = yajl_tree_get(e, hp, yajl_t_string);
		const char *hex = h ? YAJL_GET_STRING(h) : NULL;
		int sig;

		p->sigq[k].tid = (pid_t)int_at(e, "tid", &ok);
		if (!ok || !hex || strlen(hex) != 256)
			return werr_set(err, EINVAL, "\"pending_signals\": bad entry %zu", k);
		for (int i = 0; i < 128; i++) {
			unsigned v;

			if (sscanf(hex + 2 * i, "%2x", &v) != 1)
				return werr_set(err, EINVAL, "\"pending_signals\": bad hex");
			p->sigq[k].info[i] = (uint8_t)v;
		}
		sig = info_signo(p->sigq[k].info);
		if (sig < 1 || sig > CK_NSIG)
			return werr_set(err, EINVAL, "\"pending_signals\": bad signal %d", sig);
	}
	return 0;
}
