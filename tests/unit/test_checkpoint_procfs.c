/* checkpoint's /proc parsers and the page index: maps/smaps lines, fdinfo, stat, status, which
 * pages go into the image and where they are in pages-<pid>.img. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <cmocka.h>

#include "checkpoint/procfs.h"

static void maps_line_with_file_parses_every_field(void **state)
{
	struct ck_vma v;

	assert_int_equal(ck_parse_maps_line("7f12d86ef000-7f12d8715000 r-xp 00001000 fe:00 332383"
					    "                     /usr/lib/ld-linux-x86-64.so.2\n",
					    &v),
			 0);
	assert_true(v.start == 0x7f12d86ef000ULL && v.end == 0x7f12d8715000ULL);
	assert_true(v.offset == 0x1000);
	assert_int_equal(v.prot, PROT_READ | PROT_EXEC);
	assert_false(v.shared);
	assert_int_equal(v.kind, CK_VMA_FILE);
	assert_string_equal(v.path, "/usr/lib/ld-linux-x86-64.so.2");
	free(v.path);
}

static void maps_line_without_path_is_anonymous(void **state)
{
	struct ck_vma v;

	assert_int_equal(
		ck_parse_maps_line("7f0000000000-7f0000100000 rw-p 00000000 00:00 0 \n", &v), 0);
	assert_null(v.path);
	assert_int_equal(v.kind, CK_VMA_ANON);
	assert_int_equal(v.prot, PROT_READ | PROT_WRITE);
}

static void maps_special_names_get_their_kinds(void **state)
{
	static const struct {
		const char *line;
		enum ck_vma_kind kind;
	} cases[] = {
		{"7fb95ad89000-7fb95ad8d000 r--p 00000000 00:00 0   [vvar]", CK_VMA_VVAR},
		{"7fb95ad8d000-7fb95ad8f000 r--p 00000000 00:00 0   [vvar_vclock]", CK_VMA_VVAR},
		{"7fb95ad8f000-7fb95ad91000 r-xp 00000000 00:00 0   [vdso]", CK_VMA_VDSO},
		{"ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0  [vsyscall]",
		 CK_VMA_VSYSCALL},
		{"55d0c0000000-55d0c0021000 rw-p 00000000 00:00 0   [heap]", CK_VMA_ANON},
		{"7fffa797c000-7fffa799d000 rw-p 00000000 00:00 0   [stack]", CK_VMA_ANON},
		{"7f0000000000-7f0000001000 rw-s 00000000 00:01 1234   /dev/zero (deleted)",
		 CK_VMA_SHMEM},
		{"7f0000000000-7f0000001000 rw-s 00000000 00:01 1234   [anon_shmem:buf]",
		 CK_VMA_SHMEM},
		{"7f0000000000-7f0000001000 rw-s 00000000 fe:00 99   /var/lib/db", CK_VMA_FILE},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct ck_vma v;

		assert_int_equal(ck_parse_maps_line(cases[i].line, &v), 0);
		assert_int_equal(v.kind, cases[i].kind);
		free(v.path);
	}
}

/* The same shared memory object seen twice: the inode names it, the offset is the view's. */
static void maps_shared_anon_keeps_object_inode_and_offset(void **state)
{
	struct ck_vma v;

	assert_int_equal(ck_parse_maps_line("7f0000100000-7f0000200000 r--s 00400000 00:01 20708"
					    "                      /dev/zero (deleted)",
					    &v),
			 0);
	assert_int_equal(v.kind, CK_VMA_SHMEM);
	assert_int_equal(v.ino, 20708);
	assert_int_equal(v.offset, 0x400000);
	assert_true(v.shared);
	free(v.path);
}

static void maps_path_with_spaces_is_kept_whole(void **state)
{
	struct ck_vma v;

	assert_int_equal(
		ck_parse_maps_line("400000-401000 r--p 00000000 fe:00 1   /tmp/a b/c d\n", &v), 0);
	assert_string_equal(v.path, "/tmp/a b/c d");
	free(v.path);
}

static void malformed_maps_lines_are_rejected(void **state)
{
	struct ck_vma v;

	assert_int_equal(ck_parse_maps_line("", &v), -EINVAL);
	assert_int_equal(ck_parse_maps_line("400000 r--p 0 fe:00 1", &v), -EINVAL);
	assert_int_equal(ck_parse_maps_line("401000-400000 r--p 00000000 fe:00 1", &v), -EINVAL);
	assert_int_equal(ck_parse_maps_line("400001-401000 r--p 00000000 fe:00 1", &v), -EINVAL);
	assert_int_equal(ck_parse_maps_line("400000-401000 r-p 00000000 fe:00 1", &v), -EINVAL);
}

static void smaps_marks_growsdown_from_vmflags(void **state)
{
	const char *text = "400000-401000 r--p 00000000 fe:00 1   /bin/x\n"
			   "Size:                  4 kB\n"
			   "VmFlags: rd mr mw me dw sd\n"
			   "7ffc00000000-7ffc00021000 rw-p 00000000 00:00 0   [stack]\n"
			   "Size:                132 kB\n"
			   "VmFlags: rd wr mr mw me gd ac\n";
	struct ck_vma *v = NULL;
	size_t n = 0;

	assert_int_equal(ck_parse_smaps(text, &v, &n, NULL), 0);
	assert_int_equal(n, 2);
	assert_false(v[0].growsdown);
	assert_true(v[1].growsdown);
	assert_string_equal(v[1].path, "[stack]");
	ck_vmas_free(v, n);
}

static void fdinfo_gives_pos_and_octal_flags(void **state)
{
	uint64_t pos;
	int flags;

	assert_int_equal(ck_parse_fdinfo("pos:\t8960\nflags:\t02100001\nmnt_id:\t25\nino:\t7\n",
					 &pos, &flags),
			 0);
	assert_true(pos == 8960);
	assert_int_equal(flags, 02100001);
	assert_int_equal(ck_parse_fdinfo("mnt_id: 3\n", &pos, &flags), -EINVAL);
}

static void stat_fields_after_a_comm_with_parentheses(void **state)
{
	/* 52 fields; comm "(a) b)" holds a space and a parenthesis. */
	const char *text =
		"42 ((a) b)) S 1 42 42 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 500 "
		"1000000 200 18446744073709551615 4198400 4690049 140723000000000 0 0 0 0 0 "
		"0 0 0 0 17 1 0 0 0 0 0 4851416 4875888 356425728 140723000010000 "
		"140723000010037 140723000010037 140723000012243 0\n";
	struct ck_mm mm = {0};
	pid_t pgid = 0, sid = 0;

	assert_int_equal(ck_parse_stat(text, &mm, &pgid, &sid), 0);
	assert_int_equal(pgid, 42);
	assert_int_equal(sid, 42);
	assert_true(mm.start_code == 4198400 && mm.end_code == 4690049);
	assert_true(mm.start_stack == 140723000000000ULL);
	assert_true(mm.start_data == 4851416 && mm.end_data == 4875888);
	assert_true(mm.start_brk == 356425728);
	assert_true(mm.arg_start == 140723000010000ULL && mm.env_end == 140723000012243ULL);
}

static void status_takes_the_innermost_namespace_ids(void **state)
{
	const char *text = "Name:\tcounter\nUmask:\t0022\nState:\tS (sleeping)\nTgid:\t900\n"
			   "NSpid:\t900\t2\nNSpgid:\t880\t1\nNSsid:\t870\t1\nPPid:\t899\n"
			   "Uid:\t1000\t1001\t1002\t1003\nGid:\t10\t11\t12\t13\n"
			   "Groups:\t4 24 27 \nThreads:\t3\n";
	struct ck_status st;

	assert_int_equal(ck_parse_status(text, &st), 0);
	assert_int_equal(st.ns_pid, 2);
	assert_int_equal(st.ns_pgid, 1);
	assert_int_equal(st.ns_sid, 1);
	assert_int_equal(st.uid[1], 1001);
	assert_int_equal(st.gid[3], 13);
	assert_int_equal(st.umask, 022);
	assert_int_equal(st.ngroups, 3);
	assert_int_equal(st.groups[2], 27);
	assert_int_equal(st.threads, 3);
	free(st.groups);
	assert_int_equal(ck_parse_status("Name:\tx\n", &st), -EINVAL);
}

static void pages_select_present_and_swapped_merging_runs(void **state)
{
	uint64_t pm[] = {CK_PM_PRESENT, CK_PM_PRESENT, 0, CK_PM_SWAP, CK_PM_PRESENT, 0};
	struct ck_page_range *r = NULL;
	size_t n = 0, cap = 0;
	uint64_t off = 0;

	ck_pages_select(pm, 6, 0x10000, false, &r, &n, &cap, &off);
	assert_int_equal(n, 2);
	assert_true(r[0].addr == 0x10000 && r[0].npages == 2 && r[0].offset == 0);
	assert_true(r[1].addr == 0x13000 && r[1].npages == 2 && r[1].offset == 0x2000);
	assert_true(off == 0x4000);
	free(r);
}

static void private_file_pages_still_the_files_are_skipped(void **state)
{
	/* Present file pages are the file's own: restore maps them from the file. Only the
	 * anonymous copies made by writes go into the image. */
	uint64_t pm[] = {CK_PM_PRESENT | CK_PM_FILE, CK_PM_PRESENT, CK_PM_PRESENT | CK_PM_FILE};
	struct ck_page_range *r = NULL;
	size_t n = 0, cap = 0;
	uint64_t off = 0;

	ck_pages_select(pm, 3, 0x400000, true, &r, &n, &cap, &off);
	assert_int_equal(n, 1);
	assert_true(r[0].addr == 0x401000 && r[0].npages == 1);
	free(r);
}

static void ranges_of_two_vmas_do_not_merge_across_a_gap(void **state)
{
	uint64_t a[] = {CK_PM_PRESENT}, b[] = {CK_PM_PRESENT};
	struct ck_page_range *r = NULL;
	size_t n = 0, cap = 0;
	uint64_t off = 0;

	ck_pages_select(a, 1, 0x1000, false, &r, &n, &cap, &off);
	ck_pages_select(b, 1, 0x2000, false, &r, &n, &cap, &off); /* adjacent: merges */
	ck_pages_select(b, 1, 0x9000, false, &r, &n, &cap, &off); /* gap: new range */
	assert_int_equal(n, 2);
	assert_true(r[0].npages == 2 && r[1].addr == 0x9000 && r[1].offset == 0x2000);
	free(r);
}

static void page_offset_finds_pages_and_misses_holes(void **state)
{
	struct ck_page_range ranges[] = {{0x10000, 2, 0, false}, {0x20000, 3, 0x2000, false}};
	struct ck_mm mm = {.pages = ranges, .npages = 2};

	assert_int_equal(ck_page_offset(&mm, 0x10000), 0);
	assert_int_equal(ck_page_offset(&mm, 0x11fff), 0x1000);
	assert_int_equal(ck_page_offset(&mm, 0x12000), -1);
	assert_int_equal(ck_page_offset(&mm, 0x22000), 0x4000);
	assert_int_equal(ck_page_offset(&mm, 0x23000), -1);
	assert_int_equal(ck_page_offset(&mm, 0xf000), -1);
}

static void precopy_keeps_unwritten_parent_pages_in_the_parent(void **state)
{
	/* Now: pages 0x10000..0x15000 selected. Parent has 0x10000..0x13000. Written since:
	 * 0x11000. So 0x10000 and 0x12000 come from the parent; 0x11000 (written), 0x13000 and
	 * 0x14000 (new) are saved here, at offsets 0, 0x1000, 0x2000. */
	struct ck_page_range sel[] = {{0x10000, 5, 0, false}};
	struct ck_page_range par[] = {{0x10000, 3, 0, false}};
	struct ck_mm parent = {.pages = par, .npages = 1};
	struct ck_span written[] = {{0x11000, 0x12000}};
	struct ck_page_range *out = NULL;
	size_t n = 0;

	ck_pages_against_parent(sel, 1, written, 1, &parent, &out, &n);
	assert_int_equal(n, 4);
	assert_true(out[0].addr == 0x10000 && out[0].npages == 1 && out[0].in_parent);
	assert_true(out[1].addr == 0x11000 && out[1].npages == 1 && !out[1].in_parent &&
		    out[1].offset == 0);
	assert_true(out[2].addr == 0x12000 && out[2].npages == 1 && out[2].in_parent);
	assert_true(out[3].addr == 0x13000 && out[3].npages == 2 && !out[3].in_parent &&
		    out[3].offset == 0x1000);
	free(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(maps_line_with_file_parses_every_field),
		cmocka_unit_test(maps_line_without_path_is_anonymous),
		cmocka_unit_test(maps_special_names_get_their_kinds),
		cmocka_unit_test(maps_shared_anon_keeps_object_inode_and_offset),
		cmocka_unit_test(maps_path_with_spaces_is_kept_whole),
		cmocka_unit_test(malformed_maps_lines_are_rejected),
		cmocka_unit_test(smaps_marks_growsdown_from_vmflags),
		cmocka_unit_test(fdinfo_gives_pos_and_octal_flags),
		cmocka_unit_test(stat_fields_after_a_comm_with_parentheses),
		cmocka_unit_test(status_takes_the_innermost_namespace_ids),
		cmocka_unit_test(pages_select_present_and_swapped_merging_runs),
		cmocka_unit_test(private_file_pages_still_the_files_are_skipped),
		cmocka_unit_test(ranges_of_two_vmas_do_not_merge_across_a_gap),
		cmocka_unit_test(page_offset_finds_pages_and_misses_holes),
		cmocka_unit_test(precopy_keeps_unwritten_parent_pages_in_the_parent),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
