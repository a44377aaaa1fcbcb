/* Parsing /proc/pid/{maps,smaps,fdinfo,stat,status,pagemap} for checkpoint. */
#include "checkpoint/procfs.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/util.h"

static enum ck_vma_kind vma_kind(const char *path, bool shared)
{
	if (!path)
		return shared ? CK_VMA_SHMEM : CK_VMA_ANON;
	if (strcmp(path, "[vdso]") == 0)
		return CK_VMA_VDSO;
	if (strncmp(path, "[vvar", 5) == 0)
		return CK_VMA_VVAR;
	if (strcmp(path, "[vsyscall]") == 0)
		return CK_VMA_VSYSCALL;
	if (path[0] == '[') /* [heap], [stack], [anon:name], [anon_shmem:name] */
		return shared ? CK_VMA_SHMEM : CK_VMA_ANON;
	if (shared && strcmp(path, "/dev/zero (deleted)") == 0)
		return CK_VMA_SHMEM;
	return CK_VMA_FILE;
}

int ck_parse_maps_line(const char *line, struct ck_vma *v)
{
	unsigned long long start, end, offset, inode;
	char perms[5], dev[16];
	int pos = 0;

	if (sscanf(line, "%llx-%llx %4s %llx %15s %llu%n", &start, &end, perms, &offset, dev,
		   &inode, &pos) != 6)
		return -EINVAL;
	if (strlen(perms) != 4 || start >= end || (start | end) & 4095)
		return -EINVAL;
	memset(v, 0, sizeof(*v));
	v->start = start;
	v->end = end;
	v->offset = offset;
	v->prot = (perms[0] == 'r' ? 1 : 0) | (perms[1] == 'w' ? 2 : 0) | (perms[2] == 'x' ? 4 : 0);
	v->shared = perms[3] == 's';
	v->ino = inode;
	line += pos;
	while (*line == ' ' || *line == '\t')
		line++;
	if (*line && *line != '\n') {
		size_t len = strcspn(line, "\n");

		v->path = xmalloc(len + 1);
		memcpy(v->path, line, len);
		v->path[len] = '\0';
	}
	v->kind = vma_kind(v->path, v->shared);
	return 0;
}

void ck_vmas_free(struct ck_vma *vmas, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(vmas[i].path);
	free(vmas);
}

int ck_parse_smaps(const char *text, struct ck_vma **vmas, size_t *n, struct werr **err)
{
	struct ck_vma *out = NULL;
	size_t len = 0, cap = 0;

	for (const char *line = text; line && *line;
	     line = strchr(line, '\n'), line = line ? line + 1 : NULL) {
		if (strncmp(line, "VmFlags:", 8) == 0) {
			const char *eol = strchr(line, '\n');
			size_t l = eol ? (size_t)(eol - line) : strlen(line);

			for (const char *p = line + 8; p + 2 <= line + l; p++)
				if (p[0] == 'g' && p[1] == 'd' && p[-1] == ' ' &&
				    (p + 2 == line + l || p[2] == ' ') && len)
					out[len - 1].growsdown = true;
			continue;
		}
		/* A VMA header starts with a hex range; field lines start with "Name:". */
		if (!strchr("0123456789abcdef", line[0]) ||
		    !memchr(line, '-', strcspn(line, " \n")))
			continue;
		if (len == cap) {
			cap = cap ? cap * 2 : 64;
			out = xrealloc(out, cap * sizeof(*out));
		}
		if (ck_parse_maps_line(line, &out[len]) < 0) {
			ck_vmas_free(out, len);
			return werr_set(err, EINVAL, "smaps: cannot parse \"%.*s\"",
					(int)strcspn(line, "\n"), line);
		}
		len++;
	}
	*vmas = out;
	*n = len;
	return 0;
}

int ck_read_vmas(pid_t pid, struct ck_vma **vmas, size_t *n, struct werr **err)
{
	return ck_read_vmas_from(pid, "smaps", vmas, n, err);
}

int ck_read_vmas_from(pid_t pid, const char *file, struct ck_vma **vmas, size_t *n,
		      struct werr **err)
{
	_cleanup_free_ char *text = NULL;
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/%s", pid, file);
	if (read_file(path, &text, NULL, err) < 0)
		return -errno;
	return ck_parse_smaps(text, vmas, n, err);
}

int ck_parse_fdinfo(const char *text, uint64_t *pos, int *flags)
{
	const char *p = strstr(text, "pos:");
	const char *f = strstr(text, "flags:");

	if (!p || !f || (p != text && p[-1] != '\n') || (f != text && f[-1] != '\n'))
		return -EINVAL;
	*pos = strtoull(p + 4, NULL, 10);
	*flags = (int)strtol(f + 6, NULL, 8);
	return 0;
}

int ck_parse_stat(const char *text, struct ck_mm *mm, pid_t *pgid, pid_t *sid)
{
	unsigned long long f[53] = {0};
	const char *p = strrchr(text, ')');
	int field = 3;

	/* The command name may hold spaces and parentheses: fields start after the last ')'. */
	if (!p || p[1] != ' ')
		return -EINVAL;
	p += 2;
	p = strchr(p, ' '); /* skip the state letter (field 3) */
	while (p && field < 52) {
		char *end;

		field++;
		f[field] = strtoull(p + 1, &end, 10);
		if (end == p + 1)
			return -EINVAL;
		p = (*end == ' ') ? end : NULL;
	}
	if (field < 51)
		return -EINVAL;
	*pgid = (pid_t)f[5];
	*sid = (pid_t)f[6];
	mm->start_code = f[26];
	mm->end_code = f[27];
	mm->start_stack = f[28];
	mm->start_data = f[45];
	mm->end_data = f[46];
	mm->start_brk = f[47];
	mm->arg_start = f[48];
	mm->arg_end = f[49];
	mm->env_start = f[50];
	mm->env_end = f[51];
	return 0;
}

/* The last number of a whitespace-separated list (the innermost pid namespace's view). */
static long last_number(const char *s)
{
	long v = 0;
	char *end;

	for (;;) {
		while (*s == ' ' || *s == '\t')
			s++;
		if (*s < '0' || *s > '9')
			return v;
		v = strtol(s, &end, 10);
		s = end;
	}
}

int ck_parse_status(const char *text, struct ck_status *st)
{
	int seen = 0;

	memset(st, 0, sizeof(*st));
	for (const char *l = text; l && *l; l = strchr(l, '\n'), l = l ? l + 1 : NULL) {
		if (sscanf(l, "Uid: %u %u %u %u", &st->uid[0], &st->uid[1], &st->uid[2],
			   &st->uid[3]) == 4)
			seen |= 1;
		else if (sscanf(l, "Gid: %u %u %u %u", &st->gid[0], &st->gid[1], &st->gid[2],
				&st->gid[3]) == 4)
			seen |= 2;
		else if (sscanf(l, "Umask: %o", &st->umask) == 1)
			seen |= 4;
		else if (strncmp(l, "NSpid:", 6) == 0)
			st->ns_pid = (pid_t)last_number(l + 6);
		else if (strncmp(l, "NSpgid:", 7) == 0)
			st->ns_pgid = (pid_t)last_number(l + 7);
		else if (strncmp(l, "NSsid:", 6) == 0)
			st->ns_sid = (pid_t)last_number(l + 6);
		else if (sscanf(l, "PPid: %d", &st->ppid) == 1)
			;
		else if (sscanf(l, "Threads: %d", &st->threads) == 1)
			;
		else if (sscanf(l, "CapInh: %" SCNx64, &st->cap_inh) == 1)
			;
		else if (sscanf(l, "CapPrm: %" SCNx64, &st->cap_prm) == 1)
			;
		else if (sscanf(l, "CapEff: %" SCNx64, &st->cap_eff) == 1)
			;
		else if (sscanf(l, "CapBnd: %" SCNx64, &st->cap_bnd) == 1)
			;
		else if (sscanf(l, "CapAmb: %" SCNx64, &st->cap_amb) == 1)
			;
		else if (sscanf(l, "NoNewPrivs: %d", &st->no_new_privs) == 1)
			;
		else if (sscanf(l, "Seccomp: %d", &st->seccomp) == 1)
			;
		else if (strncmp(l, "Groups:", 7) == 0) {
			const char *p = l + 7;
			char *end;

			for (;;) {
				unsigned long g;

				while (*p == ' ' || *p == '\t')
					p++;
				if (*p < '0' || *p > '9')
					break;
				g = strtoul(p, &end, 10);
				p = end;
				st->groups =
					xrealloc(st->groups, (st->ngroups + 1) * sizeof(uint32_t));
				st->groups[st->ngroups++] = (uint32_t)g;
			}
		}
	}
	if (seen != 7 || !st->ns_pid) {
		free(st->groups);
		st->groups = NULL;
		return -EINVAL;
	}
	return 0;
}

static bool page_wanted(uint64_t e, bool skip_file_pages)
{
	if (e & CK_PM_SWAP)
		return true;
	if (!(e & CK_PM_PRESENT))
		return false;
	return !(skip_file_pages && (e & CK_PM_FILE));
}

void ck_pages_select(const uint64_t *pm, size_t n, uint64_t start, bool skip_file_pages,
		     struct ck_page_range **ranges, size_t *nranges, size_t *cap,
		     uint64_t *next_off)
{
	for (size_t i = 0; i < n; i++) {
		uint64_t addr = start + i * 4096;
		struct ck_page_range *last = *nranges ? &(*ranges)[*nranges - 1] : NULL;

		if (!page_wanted(pm[i], skip_file_pages))
			continue;
		if (last && last->addr + last->npages * 4096 == addr) {
			last->npages++;
		} else {
			if (*nranges == *cap) {
				*cap = *cap ? *cap * 2 : 64;
				*ranges = xrealloc(*ranges, *cap * sizeof(**ranges));
			}
			(*ranges)[(*nranges)++] = (struct ck_page_range){
				.addr = addr, .npages = 1, .offset = *next_off};
		}
		*next_off += 4096;
	}
}

static bool span_has(const struct ck_span *s, size_t n, uint64_t addr)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (addr < s[mid].start)
			hi = mid;
		else if (addr >= s[mid].end)
			lo = mid + 1;
		else
			return true;
	}
	return false;
}

static void push_page(struct ck_page_range **out, size_t *n, size_t *cap, uint64_t addr,
		      bool in_parent, uint64_t *next_off)
{
	struct ck_page_range *last = *n ? &(*out)[*n - 1] : NULL;

	if (last && last->in_parent == in_parent && last->addr + last->npages * 4096 == addr) {
		last->npages++;
	} else {
		if (*n == *cap) {
			*cap = *cap ? *cap * 2 : 64;
			*out = xrealloc(*out, *cap * sizeof(**out));
		}
		(*out)[(*n)++] = (struct ck_page_range){.addr = addr,
							.npages = 1,
							.offset = in_parent ? 0 : *next_off,
							.in_parent = in_parent};
	}
	if (!in_parent)
		*next_off += 4096;
}

void ck_pages_against_parent(const struct ck_page_range *sel, size_t nsel,
			     const struct ck_span *written, size_t nw, const struct ck_mm *parent,
			     struct ck_page_range **out, size_t *nout)
{
	uint64_t next_off = 0;
	size_t cap = 0;

	*out = NULL;
	*nout = 0;
	for (size_t i = 0; i < nsel; i++)
		for (uint64_t k = 0; k < sel[i].npages; k++) {
			uint64_t a = sel[i].addr + k * 4096;
			bool old = !span_has(written, nw, a) && ck_page_offset(parent, a) >= 0;

			push_page(out, nout, &cap, a, old, &next_off);
		}
}

const struct ck_page_range *ck_page_range_at(const struct ck_mm *mm, uint64_t addr)
{
	size_t lo = 0, hi = mm->npages;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		const struct ck_page_range *r = &mm->pages[mid];

		if (addr < r->addr)
			hi = mid;
		else if (addr >= r->addr + r->npages * 4096)
			lo = mid + 1;
		else
			return r;
	}
	return NULL;
}

int64_t ck_page_offset(const struct ck_mm *mm, uint64_t addr)
{
	const struct ck_page_range *r = ck_page_range_at(mm, addr & ~4095ULL);

	return r ? (int64_t)(r->offset + ((addr & ~4095ULL) - r->addr)) : -1;
}
