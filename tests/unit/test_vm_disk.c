/* The root disk cache's key (runtime/vm_disk.c): a walk of the rootfs gives the sizes mkfs
 * needs and a fingerprint that changes with any change to the tree; a tree changed too recently
 * for its ctimes to tell two changes apart is never cacheable. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "runtime/vm.h"

static char dir[64];

static void put(const char *name, const char *text)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static struct vm_tree walk_it(void)
{
	struct vm_tree t;
	struct werr *err = NULL;

	if (vm_tree_walk(dir, &t, &err) < 0)
		fail_msg("vm_tree_walk: %s", err->msg);
	return t;
}

static int setup(void **state)
{
	char sub[300];

	strcpy(dir, "/tmp/ward-test-vm-disk.XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	snprintf(sub, sizeof(sub), "%s/etc", dir);
	mkdir(sub, 0755);
	put("etc/marker", "one\n");
	put("big", "");
	snprintf(sub, sizeof(sub), "%s/big", dir);
	if (truncate(sub, 10000) < 0)
		return -1;
	return 0;
}

static int teardown(void **state)
{
	char cmd[300];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd);
}

static void the_walk_counts_entries_and_4k_blocks(void **state)
{
	struct vm_tree t = walk_it();

	/* the root, etc, etc/marker, big */
	assert_int_equal(t.inodes, 4);
	assert_true(t.bytes >= 4096 + 12288);
}

static void a_tree_just_written_is_not_cacheable(void **state)
{
	assert_false(walk_it().cacheable);
}

static void an_unchanged_tree_has_the_same_fingerprint(void **state)
{
	struct vm_tree a = walk_it(), b = walk_it();

	assert_memory_equal(a.digest, b.digest, sizeof(a.digest));
}

/* The cache's safety: once the tree has settled it may be cached, and a change of a file's
 * content that keeps its size (and even its mtime) gives another fingerprint. */
static void a_settled_tree_is_cacheable_and_a_same_size_change_is_seen(void **state)
{
	struct vm_tree before, after;
	char path[300];
	struct stat st;
	struct timespec times[2];

	sleep(3);
	before = walk_it();
	assert_true(before.cacheable);
	snprintf(path, sizeof(path), "%s/etc/marker", dir);
	assert_int_equal(stat(path, &st), 0);
	put("etc/marker", "two\n");
	times[0] = st.st_atim;
	times[1] = st.st_mtim;
	assert_int_equal(utimensat(AT_FDCWD, path, times, 0), 0); /* mtime back as it was */
	after = walk_it();
	assert_memory_not_equal(before.digest, after.digest, sizeof(before.digest));
	assert_false(after.cacheable);
}

static void a_mode_change_is_seen(void **state)
{
	struct vm_tree before = walk_it(), after;
	char path[300];

	snprintf(path, sizeof(path), "%s/big", dir);
	assert_int_equal(chmod(path, 0600), 0);
	after = walk_it();
	assert_memory_not_equal(before.digest, after.digest, sizeof(before.digest));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(the_walk_counts_entries_and_4k_blocks, setup,
						teardown),
		cmocka_unit_test_setup_teardown(a_tree_just_written_is_not_cacheable, setup,
						teardown),
		cmocka_unit_test_setup_teardown(an_unchanged_tree_has_the_same_fingerprint, setup,
						teardown),
		cmocka_unit_test_setup_teardown(
			a_settled_tree_is_cacheable_and_a_same_size_change_is_seen, setup,
			teardown),
		cmocka_unit_test_setup_teardown(a_mode_change_is_seen, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
