/* Serialising a checkpointed process into the image's JSON documents (format v1).
 * 64-bit values (addresses, registers, masks) are hex strings: JSON numbers lose precision
 * above 2^53 and yajl's integers are signed. */
#include "checkpoint/image.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_gen.h>

#include "checkpoint/fdx.h"
#include "checkpoint/locks.h"
#include "checkpoint/timers.h"
#include "lib/jgen.h"
#include "lib/util.h"

#define REG(n)                                                                                     \
	{                                                                                          \
#n, offsetof(struct user_regs_struct, n)                                           \
	}
const struct ck_reg_name ck_reg_names[] = {
	REG(r15),     REG(r14),	     REG(r13), REG(r12), REG(rbp),    REG(rbx), REG(r11),
	REG(r10),     REG(r9),	     REG(r8),  REG(rax), REG(rcx),    REG(rdx), REG(rsi),
	REG(rdi),     REG(orig_rax), REG(rip), REG(cs),	 REG(eflags), REG(rsp), REG(ss),
	REG(fs_base), REG(gs_base),  REG(ds),  REG(es),	 REG(fs),     REG(gs),	{NULL, 0},
};
#undef REG

static const char *const vma_kinds[] = {"anon", "file",	    "shanon",
					  "vdso", "vvar", "vsyscall", "shmem"};
static const char *const fd_kinds[] = {"file", "chr",	  "pipe", "eventfd",
					 "epoll", "fifo", "deleted", "sock", "tty"};

const char *ck_vma_kind_name(enum ck_vma_kind k)
{
	return vma_kinds[k];
}

int ck_vma_kind_parse(const char *s, enum ck_vma_kind *out)
{
	for (size_t i = 0; i < ARRAY_SIZE(vma_kinds); i++)
		if (strcmp(s, vma_kinds[i]) == 0) {
			*out = (enum ck_vma_kind)i;
			return 0;
		}
	return -1;
}

const char *ck_fd_kind_name(enum ck_fd_kind k)
{
	return fd_kinds[k];
}

int ck_fd_kind_parse(const char *s, enum ck_fd_kind *out)
{
	for (size_t i = 0; i < ARRAY_SIZE(fd_kinds); i++)
		if (strcmp(s, fd_kinds[i]) == 0) {
			*out = (enum ck_fd_kind)i;
			return 0;
		}
	return -1;
}

static char *gen_finish(yajl_gen g)
{
	const unsigned char *buf;
	size_t len;
	char *out;

	yajl_gen_get_buf(g, &buf, &len);
	out = xmalloc(len + 2);
	memcpy(out, buf, len);
	out[len] = '\n';
	out[len + 1] = '\0';
	yajl_gen_free(g);
	return out;
}

static yajl_gen gen_new(void)
{
	yajl_gen g = yajl_gen_alloc(NULL);

	if (!g)
		abort();
	yajl_gen_config(g, yajl_gen_beautify, 1);
	yajl_gen_config(g, yajl_gen_indent_string, " ");
	return g;
}

static void gen_thread(yajl_gen g, const struct ck_thread *t)
{
	static const char hex[] = "0123456789abcdef";
	_cleanup_free_ char *xs = xmalloc(t->xstate_len * 2 + 1);

	yajl_gen_map_open(g);
	jkint(g, "tid", t->tid);
	jstr(g, "regs");
	yajl_gen_map_open(g);
	for (const struct ck_reg_name *r = ck_reg_names; r->name; r++)
		jkhex(g, r->name, *(const unsigned long long *)((const char *)&t->regs + r->offset));
	yajl_gen_map_close(g);
	for (size_t i = 0; i < t->xstate_len; i++) {
		xs[2 * i] = hex[t->xstate[i] >> 4];
		xs[2 * i + 1] = hex[t->xstate[i] & 15];
	}
	xs[2 * t->xstate_len] = '\0';
	jkstr(g, "xstate", xs);
	jkhex(g, "sigmask", t->sigmask);
	jkhex(g, "rseq_ptr", t->rseq_ptr);
	jkint(g, "rseq_len", t->rseq_len);
	jkhex(g, "rseq_sig", t->rseq_sig);
	jkhex(g, "robust_head", t->robust_head);
	jkint(g, "robust_len", (long long)t->robust_len);
	jkhex(g, "clear_tid", t->clear_tid);
	jkhex(g, "altstack_sp", t->altstack_sp);
	jkhex(g, "altstack_size", t->altstack_size);
	jkint(g, "altstack_flags", t->altstack_flags);
	if (t->seccomp_id)
		jkint(g, "seccomp_filter", t->seccomp_id);
	yajl_gen_map_close(g);
}

char *ck_core_to_json(const struct ck_proc *p)
{
	yajl_gen g = gen_new();

	yajl_gen_map_open(g);
	jkint(g, "pid", p->pid);
	jkint(g, "ppid", p->ppid);
	jkint(g, "pgid", p->pgid);
	jkint(g, "sid", p->sid);
	jkstr(g, "comm", p->comm);
	jkstr(g, "cwd", p->cwd);
	jkstr(g, "root", p->root);
	jkint(g, "umask", p->umask);
	jstr(g, "uids");
	yajl_gen_array_open(g);
	for (int i = 0; i < 4; i++)
		yajl_gen_integer(g, p->uid[i]);
	yajl_gen_array_close(g);
	jstr(g, "gids");
	yajl_gen_array_open(g);
	for (int i = 0; i < 4; i++)
		yajl_gen_integer(g, p->gid[i]);
	yajl_gen_array_close(g);
	jstr(g, "groups");
	yajl_gen_array_open(g);
	for (size_t i = 0; i < p->ngroups; i++)
		yajl_gen_integer(g, p->groups[i]);
	yajl_gen_array_close(g);
	jkhex(g, "cap_inheritable", p->cap_inh);
	jkhex(g, "cap_permitted", p->cap_prm);
	jkhex(g, "cap_effective", p->cap_eff);
	jkhex(g, "cap_bounding", p->cap_bnd);
	jkhex(g, "cap_ambient", p->cap_amb);
	jkbool(g, "no_new_privs", p->no_new_privs);
	jstr(g, "rlimits");
	yajl_gen_array_open(g);
	for (int i = 0; i < CK_NRLIMIT; i++) {
		yajl_gen_map_open(g);
		jkhex(g, "cur", p->rlim_cur[i]);
		jkhex(g, "max", p->rlim_max[i]);
		yajl_gen_map_close(g);
	}
	yajl_gen_array_close(g);
	/* Only the signals whose action is not SIG_DFL with no flags. */
	jstr(g, "sigactions");
	yajl_gen_array_open(g);
	for (int i = 0; i < CK_NSIG; i++) {
		const struct ck_sigaction *sa = &p->sigactions[i];

		if (!sa->handler && !sa->flags && !sa->mask)
			continue;
		yajl_gen_map_open(g);
		jkint(g, "sig", i + 1);
		jkhex(g, "handler", sa->handler);
		jkhex(g, "flags", sa->flags);
		jkhex(g, "restorer", sa->restorer);
		jkhex(g, "mask", sa->mask);
		yajl_gen_map_close(g);
	}
	yajl_gen_array_close(g);
	ck_task_gen(g, p);
	ck_timers_gen(g, p);
	jstr(g, "threads");
	yajl_gen_array_open(g);
	for (size_t i = 0; i < p->nthreads; i++)
		gen_thread(g, &p->threads[i]);
	yajl_gen_array_close(g);
	yajl_gen_map_close(g);
	return gen_finish(g);
}

char *ck_mm_to_json(const struct ck_mm *mm)
{
	yajl_gen g = gen_new();

	yajl_gen_map_open(g);
	jkhex(g, "start_code", mm->start_code);
	jkhex(g, "end_code", mm->end_code);
	jkhex(g, "start_data", mm->start_data);
	jkhex(g, "end_data", mm->end_data);
	jkhex(g, "start_brk", mm->start_brk);
	jkhex(g, "brk", mm->brk);
	jkhex(g, "start_stack", mm->start_stack);
	jkhex(g, "arg_start", mm->arg_start);
	jkhex(g, "arg_end", mm->arg_end);
	jkhex(g, "env_start", mm->env_start);
	jkhex(g, "env_end", mm->env_end);
	jkstr(g, "exe", mm->exe);
	jkint(g, "track_fd", mm->track_fd);
	jstr(g, "auxv");
	yajl_gen_array_open(g);
	for (size_t i = 0; i < mm->auxv_len; i++) {
		char buf[24];

		snprintf(buf, sizeof(buf), "0x%llx", (unsigned long long)mm->auxv[i]);
		jstr(g, buf);
	}
	yajl_gen_array_close(g);
	jstr(g, "vmas");
	yajl_gen_array_open(g);
	for (size_t i = 0; i < mm->nvmas; i++) {
		const struct ck_vma *v = &mm->vmas[i];
		char prot[4] = {(v->prot & 1) ? 'r' : '-', (v->prot & 2) ? 'w' : '-',
				(v->prot & 4) ? 'x' : '-', 0};

		yajl_gen_map_open(g);
		jkhex(g, "start", v->start);
		jkhex(g, "end", v->end);
		jkstr(g, "prot", prot);
		jkstr(g, "flags", v->shared ? "shared" : "private");
		jkbool(g, "growsdown", v->growsdown);
		jkhex(g, "offset", v->offset);
		jkstr(g, "kind", ck_vma_kind_name(v->kind));
		jkstr(g, "path", v->path);
		if (v->kind == CK_VMA_SHMEM)
			jkint(g, "shmem_id", (long long)v->ino);
		yajl_gen_map_close(g);
	}
	yajl_gen_array_close(g);
	yajl_gen_map_close(g);
	return gen_finish(g);
}

char *ck_pagemap_to_json(const struct ck_mm *mm)
{
	yajl_gen g = gen_new();

	yajl_gen_map_open(g);
	jkint(g, "page_size", 4096);
	jstr(g, "ranges");
	yajl_gen_array_open(g);
	for (size_t i = 0; i < mm->npages; i++) {
		yajl_gen_map_open(g);
		jkhex(g, "addr", mm->pages[i].addr);
		jkint(g, "npages", (long long)mm->pages[i].npages);
		jkhex(g, "offset", mm->pages[i].offset);
		jkbool(g, "in_parent", mm->pages[i].in_parent);
		yajl_gen_map_close(g);
	}
	yajl_gen_array_close(g);
	yajl_gen_map_close(g);
	return gen_finish(g);
}

char *ck_shmem_to_json(const struct ck_shmem *objs, size_t n)
{
	yajl_gen g = gen_new();

	yajl_gen_map_open(g);
	jstr(g, "objects");
	yajl_gen_array_open(g);
	for (size_t i = 0; i < n; i++) {
		yajl_gen_map_open(g);
		jkint(g, "id", (long long)objs[i].id);
		jkhex(g, "size", objs[i].size);
		jstr(g, "ranges");
		yajl_gen_array_open(g);
		for (size_t j = 0; j < objs[i].nranges; j++) {
			yajl_gen_map_open(g);
			jkhex(g, "offset", objs[i].ranges[j].offset);
			jkint(g, "npages", (long long)objs[i].ranges[j].npages);
			yajl_gen_map_close(g);
		}
		yajl_gen_array_close(g);
		yajl_gen_map_close(g);
	}
	yajl_gen_array_close(g);
	yajl_gen_map_close(g);
	return gen_finish(g);
}

char *ck_fds_to_json(const struct ck_proc *p)
{
	yajl_gen g = gen_new();

	yajl_gen_map_open(g);
	jstr(g, "fds");
	yajl_gen_array_open(g);
	for (size_t i = 0; i < p->nfds; i++) {
		const struct ck_fd *f = &p->fds[i];

		yajl_gen_map_open(g);
		jkint(g, "fd", f->fd);
		jkstr(g, "kind", ck_fd_kind_name(f->kind));
		jkint(g, "file_id", f->file_id);
		jkint(g, "flags", f->flags);
		jkbool(g, "cloexec", f->cloexec);
		if (f->kind >= CK_FD_EVENTFD) {
			ck_fdx_gen(g, f);
		} else if (f->kind == CK_FD_PIPE) {
			jkint(g, "pipe_id", (long long)f->pipe_id);
			jkint(g, "pipe_size", f->pipe_size);
		} else {
			jkstr(g, "path", f->path);
			jkint(g, "pos", (long long)f->pos);
			jkbool(g, "outside", f->outside);
		}
		ck_locks_gen(g, f);
		yajl_gen_map_close(g);
	}
	yajl_gen_array_close(g);
	yajl_gen_map_close(g);
	return gen_finish(g);
}

void ck_proc_free(struct ck_proc *p)
{
	if (!p)
		return;
	free(p->cwd);
	free(p->root);
	free(p->groups);
	for (size_t i = 0; i < p->nthreads; i++) {
		free(p->threads[i].xstate);
		for (size_t j = 0; j < p->threads[i].nfilters; j++)
			free(p->threads[i].filters[j].insns);
		free(p->threads[i].filters);
	}
	free(p->threads);
	free(p->sigq);
	free(p->ptimers);
	for (size_t i = 0; i < p->mm.nvmas; i++)
		free(p->mm.vmas[i].path);
	free(p->mm.vmas);
	free(p->mm.pages);
	free(p->mm.exe);
	for (size_t i = 0; i < p->nfds; i++) {
		free(p->fds[i].path);
		ck_fdx_free(p->fds[i].x);
		free(p->fds[i].locks);
	}
	free(p->fds);
	memset(p, 0, sizeof(*p));
}

yajl_gen ck_json_new(void)
{
	return gen_new();
}

char *ck_json_finish(yajl_gen g)
{
	return gen_finish(g);
}
