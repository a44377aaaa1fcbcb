/* cgroups/ v2: resource conversions, io.max lines, file parsers, and the eBPF device filter,
 * whose programs are run here by a small interpreter of the instructions it emits. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cgroups/v2_int.h"
#include "lib/err.h"

/* ---- conversions -------------------------------------------------------------------------- */

static void shares_map_to_weight_with_1024_at_100(void **state)
{
	assert_int_equal(cgroup_shares_to_weight(0), 0);
	assert_int_equal(cgroup_shares_to_weight(2), 1);
	assert_int_equal(cgroup_shares_to_weight(1024), 100);
	assert_int_equal(cgroup_shares_to_weight(262144), 10000);
	assert_int_equal(cgroup_shares_to_weight(1000000), 10000);
}

static void shares_to_weight_is_monotonic_and_in_range(void **state)
{
	uint64_t prev = 0;

	for (uint64_t s = 2; s <= 262144; s += 97) {
		uint64_t w = cgroup_shares_to_weight(s);

		assert_true(w >= prev);
		assert_true(w >= 1 && w <= 10000);
		prev = w;
	}
}

static void blkio_weight_maps_onto_io_weight_range(void **state)
{
	assert_int_equal(cgroup_blkio_to_io_weight(0), 0);
	assert_int_equal(cgroup_blkio_to_io_weight(10), 1);
	assert_int_equal(cgroup_blkio_to_io_weight(1000), 10000);
	assert_int_equal(cgroup_blkio_to_io_weight(500), 1 + 490 * 9999 / 990);
}

static void swap_is_memory_plus_swap_minus_limit(void **state)
{
	struct opt_i64 lim = {true, 100 << 20}, swap = {true, 300 << 20};
	struct werr *err = NULL;
	char buf[32];

	assert_int_equal(cgroup_swap_max(&lim, &swap, buf, sizeof(buf), &err), 0);
	assert_string_equal(buf, "209715200");
	swap.v = -1;
	assert_int_equal(cgroup_swap_max(&lim, &swap, buf, sizeof(buf), &err), 0);
	assert_string_equal(buf, "max");
	swap.v = lim.v;
	assert_int_equal(cgroup_swap_max(&lim, &swap, buf, sizeof(buf), &err), 0);
	assert_string_equal(buf, "0");
	swap.set = false;
	assert_int_equal(cgroup_swap_max(&lim, &swap, buf, sizeof(buf), &err), -ENOENT);
	assert_null(err);
}

static void swap_below_limit_is_an_error_naming_the_field(void **state)
{
	struct opt_i64 lim = {true, 100 << 20}, swap = {true, 50 << 20}, none = {false, 0};
	struct werr *err = NULL;
	char buf[32];

	assert_true(cgroup_swap_max(&lim, &swap, buf, sizeof(buf), &err) < 0);
	assert_non_null(err);
	assert_non_null(strstr(err->msg, "linux.resources.memory.swap"));
	werr_free(&err);
	assert_true(cgroup_swap_max(&none, &swap, buf, sizeof(buf), &err) < 0);
	assert_non_null(strstr(err->msg, "memory.limit"));
	werr_free(&err);
}

static void io_max_lines_name_device_key_and_rate(void **state)
{
	char buf[96];

	cgv2_io_max_line(buf, sizeof(buf), 8, 16, "rbps", 1048576);
	assert_string_equal(buf, "8:16 rbps=1048576");
	cgv2_io_max_line(buf, sizeof(buf), 253, 0, "wiops", 120);
	assert_string_equal(buf, "253:0 wiops=120");
	cgv2_io_max_line(buf, sizeof(buf), 8, 0, "wbps", 0);
	assert_string_equal(buf, "8:0 wbps=max");
}

static void unified_keys_must_stay_in_the_cgroup(void **state)
{
	static const char *bad[] = {"..", "../memory.max", "a/b", "/memory.max", "", "."};
	struct werr *err = NULL;

	assert_int_equal(cgv2_check_unified_key("memory.high", &err), 0);
	assert_null(err);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_true(cgv2_check_unified_key(bad[i], &err) < 0);
		assert_non_null(strstr(err->msg, "linux.resources.unified."));
		werr_free(&err);
	}
}

static void needed_controllers_follow_the_resources(void **state)
{
	struct cg_kv kv = {"hugetlb.2MB.max", "0"};
	struct cgroup_resources r = {0};
	unsigned m;

	assert_int_equal(cgv2_needed_controllers(&r), 0);
	r.memory.limit = (struct opt_i64){true, 1 << 20};
	r.pids.limit = (struct opt_i64){true, 10};
	r.unified = &kv;
	r.n_unified = 1;
	m = cgv2_needed_controllers(&r);
	for (unsigned i = 0; cgv2_controller_names[i]; i++) {
		const char *c = cgv2_controller_names[i];
		bool want = !strcmp(c, "memory") || !strcmp(c, "pids") || !strcmp(c, "hugetlb");

		assert_int_equal(!!(m & (1u << i)), want);
	}
}

/* ---- parsers ------------------------------------------------------------------------------- */

static void psi_lines_parse_some_and_full(void **state)
{
	struct cg_psi psi;

	assert_int_equal(cg_parse_psi("some avg10=1.50 avg60=0.25 avg300=0.00 total=12345\n"
				      "full avg10=0.10 avg60=0.00 avg300=0.00 total=99\n",
				      &psi),
			 0);
	assert_true(psi.present);
	assert_true(psi.some.avg10 > 1.49 && psi.some.avg10 < 1.51);
	assert_true(psi.some.avg60 > 0.24 && psi.some.avg60 < 0.26);
	assert_int_equal(psi.some.total, 12345);
	assert_int_equal(psi.full.total, 99);
	assert_int_equal(cg_parse_psi("some avg10=x\n", &psi), -EINVAL);
}

static void keyed_u64_matches_whole_keys_only(void **state)
{
	const char *t = "usage_usec 500\nuser_usec 300\nsystem_usec 200\nnr_periods 7\n";
	uint64_t v = 0;

	assert_true(cg_keyed_u64(t, "usage_usec", &v));
	assert_int_equal(v, 500);
	assert_true(cg_keyed_u64(t, "nr_periods", &v));
	assert_int_equal(v, 7);
	assert_false(cg_keyed_u64(t, "usage", &v));
	assert_false(cg_keyed_u64(t, "nr_throttled", &v));
	assert_true(cg_keyed_u64("oom 0\noom_kill 3\n", "oom_kill", &v));
	assert_int_equal(v, 3);
}

static void io_stat_becomes_blkio_read_write_entries(void **state)
{
	struct cgroup_stats st = {0};

	cgv2_parse_io_stat("8:0 rbytes=4096 wbytes=8192 rios=1 wios=2 dbytes=0 dios=0\n"
			   "253:1 rbytes=10 wbytes=20 rios=3 wios=4\n",
			   &st);
	assert_int_equal(st.blkio.n_service_bytes, 5);
	assert_int_equal(st.blkio.n_serviced, 5);
	assert_int_equal(st.blkio.service_bytes[0].major, 8);
	assert_string_equal(st.blkio.service_bytes[0].op, "Read");
	assert_int_equal(st.blkio.service_bytes[0].value, 4096);
	assert_string_equal(st.blkio.service_bytes[1].op, "Write");
	assert_int_equal(st.blkio.service_bytes[1].value, 8192);
	assert_string_equal(st.blkio.service_bytes[2].op, "Discard");
	assert_int_equal(st.blkio.service_bytes[3].major, 253);
	assert_int_equal(st.blkio.service_bytes[3].minor, 1);
	assert_int_equal(st.blkio.service_bytes[4].value, 20);
	assert_string_equal(st.blkio.serviced[4].op, "Write");
	assert_int_equal(st.blkio.serviced[4].value, 4);
	cgroup_stats_free(&st);
}

static void memory_stat_keeps_every_key_and_file_is_cache(void **state)
{
	struct cgroup_stats st = {0};

	cgv2_parse_memory_stat("anon 100\nfile 200\nkernel_stack 16384\n", &st);
	assert_int_equal(st.memory.n_raw, 3);
	assert_string_equal(st.memory.raw[0].key, "anon");
	assert_int_equal(st.memory.raw[2].value, 16384);
	assert_int_equal(st.memory.cache, 200);
	cgroup_stats_free(&st);
}

/* ---- device filter ------------------------------------------------------------------------- */

/* Run a generated program on one access; only the instructions cg_devices_prog emits are
 * known here, anything else fails the test. */
static int run_prog(const struct bpf_insn *p, size_t n, int type, int access, uint32_t major,
		    uint32_t minor)
{
	struct bpf_cgroup_dev_ctx ctx = {(uint32_t)(access << 16 | type), major, minor};
	uint64_t r[11] = {0};

	for (size_t pc = 0, steps = 0; pc < n && steps < 10000; pc++, steps++) {
		const struct bpf_insn *i = &p[pc];
		uint64_t *d = &r[i->dst_reg];
		bool jump = false;

		switch (i->code) {
		case BPF_LDX | BPF_MEM | BPF_W:
			assert_int_equal(i->src_reg, BPF_REG_1);
			*d = *(const uint32_t *)((const char *)&ctx + i->off);
			break;
		case BPF_ALU64 | BPF_MOV | BPF_X:
			*d = r[i->src_reg];
			break;
		case BPF_ALU | BPF_MOV | BPF_X:
			*d = (uint32_t)r[i->src_reg];
			break;
		case BPF_ALU64 | BPF_MOV | BPF_K:
			*d = (uint64_t)(int64_t)i->imm;
			break;
		case BPF_ALU | BPF_RSH | BPF_K:
			*d = (uint32_t)*d >> i->imm;
			break;
		case BPF_ALU | BPF_AND | BPF_K:
			*d = (uint32_t)*d & (uint32_t)i->imm;
			break;
		case BPF_JMP | BPF_JNE | BPF_K:
			jump = *d != (uint64_t)(int64_t)i->imm;
			break;
		case BPF_JMP | BPF_JEQ | BPF_K:
			jump = *d == (uint64_t)(int64_t)i->imm;
			break;
		case BPF_JMP | BPF_EXIT:
			return (int)r[0];
		default:
			fail_msg("unexpected opcode 0x%x at %zu", i->code, pc);
		}
		if (jump) {
			assert_true(i->off >= 0); /* forward only: no loops */
			pc += (size_t)i->off;
		}
	}
	fail_msg("program fell off its end");
	return -1;
}

#define C BPF_DEVCG_DEV_CHAR
#define B BPF_DEVCG_DEV_BLOCK
#define RD BPF_DEVCG_ACC_READ
#define WR BPF_DEVCG_ACC_WRITE
#define MK BPF_DEVCG_ACC_MKNOD

struct prog {
	struct bpf_insn *v;
	size_t n;
};

static struct prog gen(const struct cg_device_rule *rules, size_t n)
{
	struct werr *err = NULL;
	struct prog p = {0};

	assert_int_equal(cg_devices_prog(rules, n, &p.v, &p.n, &err), 0);
	assert_null(err);
	return p;
}

static struct cg_device_rule rule(bool allow, char type, int64_t major, int64_t minor,
				  const char *access)
{
	return (struct cg_device_rule){
		allow, type, {major >= 0, major}, {minor >= 0, minor}, (char *)access};
}

static void device_filter_denies_all_but_allowed_nodes(void **state)
{
	struct cg_device_rule rules[] = {
		rule(false, 'a', -1, -1, "rwm"), rule(true, 'c', 1, 3, "rwm"), /* /dev/null */
		rule(true, 'c', 136, -1, "rw"),				       /* /dev/pts/N */
	};
	struct prog p = gen(rules, 3);

	assert_int_equal(run_prog(p.v, p.n, C, RD | WR, 1, 3), 1);
	assert_int_equal(run_prog(p.v, p.n, C, MK, 1, 3), 1);
	assert_int_equal(run_prog(p.v, p.n, C, RD, 1, 5), 0);	     /* /dev/zero */
	assert_int_equal(run_prog(p.v, p.n, B, RD, 1, 3), 0);	     /* block 1:3 is not char 1:3 */
	assert_int_equal(run_prog(p.v, p.n, C, RD | WR, 136, 7), 1); /* any minor */
	assert_int_equal(run_prog(p.v, p.n, C, MK, 136, 7), 0);	     /* no mknod granted */
	assert_int_equal(run_prog(p.v, p.n, C, RD, 8, 0), 0);
	/* prologue 6, deny-all: verdict 2 and nothing after (it decides everything), null: 3
	 * checks + 2, pts: type, major, 3 for access + 2 */
	assert_int_equal(p.n, 6 + 2 + 5 + 7);
	free(p.v);
}

static void device_filter_last_matching_rule_wins(void **state)
{
	struct cg_device_rule rules[] = {
		rule(true, 'c', 1, 5, "rwm"),
		rule(false, 'c', 1, 5, "w"), /* later deny of writing only */
		rule(false, 'b', -1, -1, "rwm"),
		rule(true, 'b', 8, 0, "r"),
	};
	struct prog p = gen(rules, 4);

	assert_int_equal(run_prog(p.v, p.n, C, RD, 1, 5), 1);
	assert_int_equal(run_prog(p.v, p.n, C, WR, 1, 5), 0);
	assert_int_equal(run_prog(p.v, p.n, C, RD | WR, 1, 5), 0); /* any refused bit denies */
	assert_int_equal(run_prog(p.v, p.n, B, RD, 8, 0), 1);	   /* allowed after the deny */
	assert_int_equal(run_prog(p.v, p.n, B, RD | WR, 8, 0), 0);
	assert_int_equal(run_prog(p.v, p.n, B, RD, 8, 1), 0);
	/* nothing matched: allowed, as a fresh v1 cgroup is */
	assert_int_equal(run_prog(p.v, p.n, C, RD, 4, 1), 1);
	free(p.v);
}

static void device_filter_compares_type_major_minor_as_given(void **state)
{
	struct cg_device_rule rules[] = {rule(false, 'c', 10, 200, "rwm")};
	struct prog p = gen(rules, 1);
	bool seen_major = false, seen_minor = false, seen_type = false;

	for (size_t i = 0; i < p.n; i++) {
		if (p.v[i].code != (BPF_JMP | BPF_JNE | BPF_K))
			continue;
		seen_type |= p.v[i].dst_reg == BPF_REG_2 && p.v[i].imm == C;
		seen_major |= p.v[i].dst_reg == BPF_REG_4 && p.v[i].imm == 10;
		seen_minor |= p.v[i].dst_reg == BPF_REG_5 && p.v[i].imm == 200;
	}
	assert_true(seen_type && seen_major && seen_minor);
	/* the last two: the default verdict (allow) */
	assert_int_equal(p.v[p.n - 2].code, BPF_ALU64 | BPF_MOV | BPF_K);
	assert_int_equal(p.v[p.n - 2].imm, 1);
	assert_int_equal(p.v[p.n - 1].code, BPF_JMP | BPF_EXIT);
	assert_int_equal(run_prog(p.v, p.n, C, RD, 10, 200), 0);
	assert_int_equal(run_prog(p.v, p.n, C, RD, 10, 201), 1);
	free(p.v);
}

static void device_filter_allow_all_after_deny_all_allows_everything(void **state)
{
	struct cg_device_rule rules[] = {rule(false, 'a', -1, -1, "rwm"),
					 rule(true, 'a', -1, -1, NULL)};
	struct prog p = gen(rules, 2);

	assert_int_equal(p.n, 6 + 2); /* the allow-all decides; the deny is dead code */
	assert_int_equal(run_prog(p.v, p.n, B, RD | WR | MK, 8, 0), 1);
	free(p.v);
}

static void device_filter_rejects_bad_type_and_access_naming_the_rule(void **state)
{
	struct cg_device_rule bad_type[] = {rule(true, 'c', 1, 3, "rwm"),
					    rule(true, 'x', 1, 3, "rwm")};
	struct cg_device_rule bad_acc[] = {rule(true, 'c', 1, 3, "rwx")};
	struct werr *err = NULL;
	struct bpf_insn *v = NULL;
	size_t n = 0;

	assert_true(cg_devices_prog(bad_type, 2, &v, &n, &err) < 0);
	assert_non_null(strstr(err->msg, "linux.resources.devices[1].type"));
	werr_free(&err);
	assert_true(cg_devices_prog(bad_acc, 1, &v, &n, &err) < 0);
	assert_non_null(strstr(err->msg, "linux.resources.devices[0].access"));
	werr_free(&err);
	assert_null(v);
}

static void cpulist_parses_ranges_and_singles(void **state)
{
	uint64_t *v;
	size_t n;

	(void)state;
	assert_int_equal(cgroup_parse_cpulist("0-2,5,7-8\n", &v, &n), 0);
	assert_int_equal(n, 6);
	assert_int_equal(v[0], 0);
	assert_int_equal(v[2], 2);
	assert_int_equal(v[3], 5);
	assert_int_equal(v[5], 8);
	free(v);
	assert_int_equal(cgroup_parse_cpulist("\n", &v, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(cgroup_parse_cpulist("3-1", &v, &n), -EINVAL);
	assert_int_equal(cgroup_parse_cpulist("1,x", &v, &n), -EINVAL);
	assert_int_equal(cgroup_parse_cpulist("70000", &v, &n), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(shares_map_to_weight_with_1024_at_100),
		cmocka_unit_test(shares_to_weight_is_monotonic_and_in_range),
		cmocka_unit_test(blkio_weight_maps_onto_io_weight_range),
		cmocka_unit_test(swap_is_memory_plus_swap_minus_limit),
		cmocka_unit_test(swap_below_limit_is_an_error_naming_the_field),
		cmocka_unit_test(io_max_lines_name_device_key_and_rate),
		cmocka_unit_test(unified_keys_must_stay_in_the_cgroup),
		cmocka_unit_test(needed_controllers_follow_the_resources),
		cmocka_unit_test(psi_lines_parse_some_and_full),
		cmocka_unit_test(keyed_u64_matches_whole_keys_only),
		cmocka_unit_test(io_stat_becomes_blkio_read_write_entries),
		cmocka_unit_test(memory_stat_keeps_every_key_and_file_is_cache),
		cmocka_unit_test(device_filter_denies_all_but_allowed_nodes),
		cmocka_unit_test(device_filter_last_matching_rule_wins),
		cmocka_unit_test(device_filter_compares_type_major_minor_as_given),
		cmocka_unit_test(device_filter_allow_all_after_deny_all_allows_everything),
		cmocka_unit_test(device_filter_rejects_bad_type_and_access_naming_the_rule),
		cmocka_unit_test(cpulist_parses_ranges_and_singles),
	};

	return cmocka_run_group_tests_name("cgroups_v2", tests, NULL, NULL);
}
