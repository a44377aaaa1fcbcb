/* The cgroup v2 device filter: linux.resources.devices as a BPF_PROG_TYPE_CGROUP_DEVICE
 * program, loaded with bpf(2) and attached to the container's cgroup.
 *
 * The program sees struct bpf_cgroup_dev_ctx { access_type = access << 16 | type, major,
 * minor } and returns 1 to allow. Rules are checked from the last to the first, so the last
 * matching rule decides, which is how a v1 devices cgroup ends up after the rules are written
 * in order. RLIMIT_MEMLOCK is never raised (hosts may not allow it; newer kernels charge BPF
 * memory to the memory cgroup instead). */
#include "cgroups/v2_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "lib/util.h"

/* Registers after the prologue */
#define R_TYPE BPF_REG_2   /* BPF_DEVCG_DEV_* */
#define R_ACCESS BPF_REG_3 /* BPF_DEVCG_ACC_* bits */
#define R_MAJOR BPF_REG_4
#define R_MINOR BPF_REG_5
#define ACC_ALL (BPF_DEVCG_ACC_MKNOD | BPF_DEVCG_ACC_READ | BPF_DEVCG_ACC_WRITE)

static struct bpf_insn insn(__u8 code, __u8 dst, __u8 src, __s16 off, __s32 imm)
{
	return (struct bpf_insn){
		.code = code, .dst_reg = dst, .src_reg = src, .off = off, .imm = imm};
}

struct prog {
	struct bpf_insn *v;
	size_t n, cap;
};

static void emit(struct prog *p, struct bpf_insn i)
{
	if (p->n == p->cap) {
		p->cap = p->cap ? p->cap * 2 : 64;
		p->v = xrealloc(p->v, p->cap * sizeof(*p->v));
	}
	p->v[p->n++] = i;
}

static void emit_ldx_w(struct prog *p, int dst, int off)
{
	emit(p, insn(BPF_LDX | BPF_MEM | BPF_W, dst, BPF_REG_1, off, 0));
}

static void emit_exit_with(struct prog *p, int verdict)
{
	emit(p, insn(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, verdict));
	emit(p, insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0));
}

static int access_mask(const char *access, int *mask)
{
	*mask = 0;
	if (!access || !*access) {
		*mask = ACC_ALL;
		return 0;
	}
	for (const char *c = access; *c; c++) {
		switch (*c) {
		case 'r':
			*mask |= BPF_DEVCG_ACC_READ;
			break;
		case 'w':
			*mask |= BPF_DEVCG_ACC_WRITE;
			break;
		case 'm':
			*mask |= BPF_DEVCG_ACC_MKNOD;
			break;
		default:
			return -EINVAL;
		}
	}
	return 0;
}

/* The tests of one rule, as (opcode, register, immediate) jumps to "not this rule". */
struct check {
	__u8 op;
	__u8 reg;
	__s32 imm;
	bool and_access; /* r1 = access & imm first */
};

static size_t rule_checks(const struct cg_device_rule *r, int mask, struct check *c)
{
	size_t n = 0;

	if (r->type != 'a') {
		c[n++] = (struct check){BPF_JNE, R_TYPE,
					r->type == 'b' ? BPF_DEVCG_DEV_BLOCK : BPF_DEVCG_DEV_CHAR,
					false};
		if (r->major.set && r->major.v >= 0)
			c[n++] = (struct check){BPF_JNE, R_MAJOR, (__s32)r->major.v, false};
		if (r->minor.set && r->minor.v >= 0)
			c[n++] = (struct check){BPF_JNE, R_MINOR, (__s32)r->minor.v, false};
	}
	if (mask != ACC_ALL) {
		/* allow: every requested bit is granted (access & ~mask == 0);
		 * deny: some requested bit is refused (access & mask != 0) */
		if (r->allow)
			c[n++] = (struct check){BPF_JNE, BPF_REG_1, ACC_ALL & ~mask, true};
		else
			c[n++] = (struct check){BPF_JEQ, BPF_REG_1, mask, true};
	}
	return n;
}

static size_t check_len(const struct check *c)
{
	return c->and_access ? 3 : 1;
}

int cg_devices_prog(const struct cg_device_rule *rules, size_t n, struct bpf_insn **insns,
		    size_t *n_insns, struct werr **err)
{
	struct prog p = {0};
	bool catch_all = false;

	for (size_t i = 0; i < n; i++) {
		int mask;

		if (rules[i].type != 'a' && rules[i].type != 'c' && rules[i].type != 'b')
			return werr_set(
				err, EINVAL,
				"linux.resources.devices[%zu].type: \"%c\" is not a, b or c", i,
				rules[i].type ? rules[i].type : '?');
		if (access_mask(rules[i].access, &mask) < 0)
			return werr_set(
				err, EINVAL,
				"linux.resources.devices[%zu].access: \"%s\" is not a subset "
				"of \"rwm\"",
				i, rules[i].access);
		if ((rules[i].major.set && rules[i].major.v > UINT32_MAX) ||
		    (rules[i].minor.set && rules[i].minor.v > UINT32_MAX))
			return werr_set(err, EINVAL,
					"linux.resources.devices[%zu]: major/minor out of range",
					i);
	}

	emit_ldx_w(&p, R_TYPE, offsetof(struct bpf_cgroup_dev_ctx, access_type));
	emit(&p, insn(BPF_ALU64 | BPF_MOV | BPF_X, R_ACCESS, R_TYPE, 0, 0));
	emit(&p, insn(BPF_ALU | BPF_RSH | BPF_K, R_ACCESS, 0, 0, 16));
	emit(&p, insn(BPF_ALU | BPF_AND | BPF_K, R_TYPE, 0, 0, 0xffff));
	emit_ldx_w(&p, R_MAJOR, offsetof(struct bpf_cgroup_dev_ctx, major));
	emit_ldx_w(&p, R_MINOR, offsetof(struct bpf_cgroup_dev_ctx, minor));

	for (size_t i = n; i-- > 0 && !catch_all;) {
		struct check c[4];
		int mask;
		size_t nc, left = 2; /* the verdict: mov r0; exit */

		access_mask(rules[i].access, &mask);
		nc = rule_checks(&rules[i], mask, c);
		for (size_t k = 0; k < nc; k++)
			left += check_len(&c[k]);
		for (size_t k = 0; k < nc; k++) {
			left -= check_len(&c[k]);
			if (c[k].and_access) {
				emit(&p,
				     insn(BPF_ALU | BPF_MOV | BPF_X, BPF_REG_1, R_ACCESS, 0, 0));
				emit(&p,
				     insn(BPF_ALU | BPF_AND | BPF_K, BPF_REG_1, 0, 0, c[k].imm));
				emit(&p,
				     insn(BPF_JMP | c[k].op | BPF_K, BPF_REG_1, 0, (__s16)left, 0));
			} else {
				emit(&p, insn(BPF_JMP | c[k].op | BPF_K, c[k].reg, 0, (__s16)left,
					      c[k].imm));
			}
		}
		emit_exit_with(&p, rules[i].allow ? 1 : 0);
		/* a rule without tests decides everything: the rules before it are dead code
		 * (which the verifier refuses) */
		catch_all = nc == 0;
	}
	if (!catch_all)
		emit_exit_with(&p, 1);
	*insns = p.v;
	*n_insns = p.n;
	return 0;
}

static int sys_bpf(int cmd, union bpf_attr *attr)
{
	long r = syscall(SYS_bpf, cmd, attr, sizeof(*attr));

	return r < 0 ? -errno : (int)r;
}

static int prog_load(const struct bpf_insn *insns, size_t n, const char *dir, struct werr **err)
{
	union bpf_attr attr;
	_cleanup_free_ char *log = NULL;
	int fd;

	memset(&attr, 0, sizeof(attr));
	attr.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
	attr.insns = (__u64)(uintptr_t)insns;
	attr.insn_cnt = (__u32)n;
	attr.license = (__u64)(uintptr_t) "GPL";
	fd = sys_bpf(BPF_PROG_LOAD, &attr);
	if (fd >= 0)
		return fd;
	if (fd == -EPERM)
		return werr_sys(
			err, EPERM,
			"load the device filter for %s (BPF_PROG_LOAD; no CAP_SYS_ADMIN, or "
			"RLIMIT_MEMLOCK too low on a kernel older than 5.11)",
			dir);
	/* again with the verifier's log, for the message */
	log = xcalloc(1, 16384);
	attr.log_buf = (__u64)(uintptr_t)log;
	attr.log_size = 16384;
	attr.log_level = 1;
	fd = sys_bpf(BPF_PROG_LOAD, &attr);
	if (fd >= 0)
		return fd;
	log[16383] = 0;
	for (size_t i = strlen(log); i > 0 && log[i - 1] == '\n'; i--)
		log[i - 1] = 0;
	return werr_sys(err, -fd, "load the device filter for %s (BPF_PROG_LOAD%s%.300s)", dir,
			*log ? ", verifier: " : "", log);
}

/* The ids of the device programs attached to the cgroup itself, and the attach flags. */
static int prog_query(int cgfd, __u32 **ids, __u32 *n, __u32 *flags)
{
	union bpf_attr attr;
	__u32 cap = 16;

	for (;;) {
		int r;

		*ids = xrealloc(*ids, cap * sizeof(**ids));
		memset(&attr, 0, sizeof(attr));
		attr.query.target_fd = (__u32)cgfd;
		attr.query.attach_type = BPF_CGROUP_DEVICE;
		attr.query.prog_ids = (__u64)(uintptr_t)*ids;
		attr.query.prog_cnt = cap;
		r = sys_bpf(BPF_PROG_QUERY, &attr);
		if (r == -ENOSPC && cap < 4096) {
			cap *= 4;
			continue;
		}
		if (r < 0)
			return r;
		*n = attr.query.prog_cnt;
		*flags = attr.query.attach_flags;
		return 0;
	}
}

static int prog_attach(int cgfd, int progfd, __u32 flags)
{
	union bpf_attr attr;

	memset(&attr, 0, sizeof(attr));
	attr.target_fd = (__u32)cgfd;
	attr.attach_bpf_fd = (__u32)progfd;
	attr.attach_type = BPF_CGROUP_DEVICE;
	attr.attach_flags = flags;
	return sys_bpf(BPF_PROG_ATTACH, &attr);
}

static int prog_detach_id(int cgfd, __u32 id)
{
	union bpf_attr attr;
	_cleanup_close_ int fd = -1;

	memset(&attr, 0, sizeof(attr));
	attr.prog_id = id;
	fd = sys_bpf(BPF_PROG_GET_FD_BY_ID, &attr);
	if (fd < 0)
		return fd == -ENOENT ? 0 : fd;
	memset(&attr, 0, sizeof(attr));
	attr.target_fd = (__u32)cgfd;
	attr.attach_bpf_fd = (__u32)fd;
	attr.attach_type = BPF_CGROUP_DEVICE;
	return sys_bpf(BPF_PROG_DETACH, &attr);
}

int cg_devices_apply(int cgroup_fd, const char *dir, const struct cg_device_rule *rules, size_t n,
		     struct werr **err)
{
	_cleanup_free_ struct bpf_insn *insns = NULL;
	_cleanup_free_ __u32 *old = NULL;
	_cleanup_close_ int progfd = -1;
	__u32 n_old = 0, old_flags = 0;
	size_t n_insns = 0;
	int r;

	if (n == 0)
		return 0;
	r = cg_devices_prog(rules, n, &insns, &n_insns, err);
	if (r < 0)
		return r;
	progfd = prog_load(insns, n_insns, dir, err);
	if (progfd < 0)
		return progfd;
	r = prog_query(cgroup_fd, &old, &n_old, &old_flags);
	if (r < 0)
		return werr_sys(err, -r, "query the device programs of %s (BPF_PROG_QUERY)", dir);
	if (n_old > 0 && !(old_flags & BPF_F_ALLOW_MULTI)) {
		/* someone attached a single program: attaching the same way replaces it */
		r = prog_attach(cgroup_fd, progfd, old_flags);
		if (r < 0)
			return werr_sys(err, -r, "attach the device filter to %s (BPF_PROG_ATTACH)",
					dir);
		return 0;
	}
	r = prog_attach(cgroup_fd, progfd, BPF_F_ALLOW_MULTI);
	if (r < 0)
		return werr_sys(err, -r, "attach the device filter to %s (BPF_PROG_ATTACH)", dir);
	/* the new filter is in force: the old ones only narrowed it further */
	for (__u32 i = 0; i < n_old; i++) {
		r = prog_detach_id(cgroup_fd, old[i]);
		if (r < 0)
			return werr_sys(err, -r,
					"detach the previous device filter (id %u) from %s "
					"(BPF_PROG_DETACH)",
					old[i], dir);
	}
	return 0;
}
