/* rootfs_open_in_root / rootfs_mkdir_in_root: symlinks in a rootfs never lead out of it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/util.h"
#include "rootfs/rootfs.h"

struct fixture {
	char dir[64];	  /* the rootfs */
	char outside[96]; /* a host path that a symlink in the rootfs names */
	int rootfd;
};

static char *at(struct fixture *f, const char *rel)
{
	return xasprintf("%s/%s", f->dir, rel);
}

static void mk(struct fixture *f, const char *rel, bool dir)
{
	_cleanup_free_ char *p = at(f, rel);

	if (dir) {
		assert_int_equal(mkdir(p, 0755), 0);
	} else {
		int fd = open(p, O_CREAT | O_WRONLY | O_CLOEXEC, 0644);

		assert_true(fd >= 0);
		close(fd);
	}
}

static void ln(struct fixture *f, const char *target, const char *rel)
{
	_cleanup_free_ char *p = at(f, rel);

	assert_int_equal(symlink(target, p), 0);
}

static bool exists(const char *p)
{
	struct stat st;

	return lstat(p, &st) == 0;
}

static bool same_file(int fd, const char *p)
{
	struct stat a, b;

	assert_int_equal(fstat(fd, &a), 0);
	if (stat(p, &b) < 0)
		return false;
	return a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

static int setup(void **state)
{
	struct fixture *f = xcalloc(1, sizeof(*f));

	strcpy(f->dir, "/tmp/ward-resolve-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->outside, sizeof(f->outside), "%s-outside", f->dir);
	f->rootfd = open(f->dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	assert_true(f->rootfd >= 0);
	mk(f, "etc", true);
	mk(f, "etc/passwd", false);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	_cleanup_free_ char *cmd = xasprintf("rm -rf '%s' '%s'", f->dir, f->outside);

	close(f->rootfd);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

static void absolute_symlink_resolves_inside_root(void **state)
{
	struct fixture *f = *state;
	_cleanup_free_ char *want = at(f, "etc/passwd");
	int fd;

	ln(f, "/etc", "abs");
	fd = rootfs_open_in_root(f->rootfd, "/abs/passwd", 0, NULL);
	assert_true(fd >= 0);
	assert_true(same_file(fd, want));
	assert_false(same_file(fd, "/etc/passwd"));
	close(fd);
}

static void dotdot_symlink_is_clamped_at_root(void **state)
{
	struct fixture *f = *state;
	int fd;

	mk(f, "a", true);
	ln(f, "../../../../..", "a/up");
	fd = rootfs_open_in_root(f->rootfd, "a/up/../../etc", O_DIRECTORY, NULL);
	assert_true(fd >= 0);
	_cleanup_free_ char *want = at(f, "etc");
	assert_true(same_file(fd, want));
	close(fd);
	fd = rootfs_open_in_root(f->rootfd, "/../../..", O_DIRECTORY, NULL);
	assert_true(same_file(fd, f->dir));
	close(fd);
}

static void missing_path_fails_with_enoent_naming_the_path(void **state)
{
	struct fixture *f = *state;
	struct werr *err = NULL;

	assert_int_equal(rootfs_open_in_root(f->rootfd, "/no/such", 0, &err), -ENOENT);
	assert_non_null(err);
	assert_non_null(strstr(err->msg, "/no/such"));
	werr_free(&err);
}

static void mkdir_creates_nested_directories(void **state)
{
	struct fixture *f = *state;
	_cleanup_free_ char *want = at(f, "x/y/z");
	struct stat st;
	int fd = rootfs_mkdir_in_root(f->rootfd, "/x//./y/z/", false, NULL);

	assert_true(fd >= 0);
	assert_int_equal(stat(want, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_true(same_file(fd, want));
	close(fd);
	/* Again: everything exists now, same result. */
	fd = rootfs_mkdir_in_root(f->rootfd, "x/y/z", false, NULL);
	assert_true(same_file(fd, want));
	close(fd);
}

static void mkdir_as_file_creates_parents_and_an_empty_file(void **state)
{
	struct fixture *f = *state;
	_cleanup_free_ char *want = at(f, "dev/console");
	struct stat st;
	int fd = rootfs_mkdir_in_root(f->rootfd, "/dev/console", true, NULL);

	assert_true(fd >= 0);
	assert_int_equal(stat(want, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(st.st_size, 0);
	close(fd);
}

static void dangling_absolute_symlink_is_created_inside_root(void **state)
{
	struct fixture *f = *state;
	_cleanup_free_ char *inside = NULL;
	int fd;

	ln(f, f->outside, "evil");
	fd = rootfs_mkdir_in_root(f->rootfd, "/evil/sub", false, NULL);
	assert_true(fd >= 0);
	assert_false(exists(f->outside));
	inside = xasprintf("%s%s/sub", f->dir, f->outside);
	assert_true(same_file(fd, inside));
	close(fd);
}

static void dangling_dotdot_symlink_is_created_inside_root(void **state)
{
	struct fixture *f = *state;
	_cleanup_free_ char *want = at(f, "escaped/file");
	int fd;

	mk(f, "d", true);
	ln(f, "../../../../escaped", "d/rel");
	fd = rootfs_mkdir_in_root(f->rootfd, "d/rel/file", true, NULL);
	assert_true(fd >= 0);
	assert_true(same_file(fd, want));
	close(fd);
}

static void existing_symlink_to_host_dir_is_followed_inside_root(void **state)
{
	struct fixture *f = *state;
	_cleanup_free_ char *want = at(f, "etc/new");
	int fd;

	ln(f, "/etc", "cfg");
	fd = rootfs_mkdir_in_root(f->rootfd, "/cfg/new", false, NULL);
	assert_true(fd >= 0);
	assert_true(same_file(fd, want));
	assert_false(exists("/etc/new") && same_file(fd, "/etc/new"));
	close(fd);
}

static void symlink_loop_fails_with_eloop(void **state)
{
	struct fixture *f = *state;
	struct werr *err = NULL;

	ln(f, "/loop2", "loop1");
	ln(f, "/loop1", "loop2");
	assert_int_equal(rootfs_mkdir_in_root(f->rootfd, "/loop1/x", false, &err), -ELOOP);
	werr_free(&err);
}

static void file_in_the_way_of_a_directory_is_enotdir(void **state)
{
	struct fixture *f = *state;
	struct werr *err = NULL;

	assert_int_equal(rootfs_mkdir_in_root(f->rootfd, "/etc/passwd/x", false, &err), -ENOTDIR);
	assert_non_null(strstr(err->msg, "/etc/passwd"));
	werr_free(&err);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(absolute_symlink_resolves_inside_root, setup,
						teardown),
		cmocka_unit_test_setup_teardown(dotdot_symlink_is_clamped_at_root, setup, teardown),
		cmocka_unit_test_setup_teardown(missing_path_fails_with_enoent_naming_the_path,
						setup, teardown),
		cmocka_unit_test_setup_teardown(mkdir_creates_nested_directories, setup, teardown),
		cmocka_unit_test_setup_teardown(mkdir_as_file_creates_parents_and_an_empty_file,
						setup, teardown),
		cmocka_unit_test_setup_teardown(dangling_absolute_symlink_is_created_inside_root,
						setup, teardown),
		cmocka_unit_test_setup_teardown(dangling_dotdot_symlink_is_created_inside_root,
						setup, teardown),
		cmocka_unit_test_setup_teardown(
			existing_symlink_to_host_dir_is_followed_inside_root, setup, teardown),
		cmocka_unit_test_setup_teardown(symlink_loop_fails_with_eloop, setup, teardown),
		cmocka_unit_test_setup_teardown(file_in_the_way_of_a_directory_is_enotdir, setup,
						teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
