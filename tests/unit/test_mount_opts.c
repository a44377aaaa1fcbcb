/* rootfs_parse_mount_opts: what each config.json mount option turns into. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <string.h>
#include <sys/mount.h>

#include "rootfs/rootfs.h"

static struct mount_opts parse(char **options)
{
	struct mount_opts o;
	struct werr *err = NULL;

	assert_int_equal(rootfs_parse_mount_opts(options, &o, &err), 0);
	assert_null(err);
	return o;
}

static void flag_options_set_ms_flags(void **state)
{
	char *in[] = {"ro",	     "nosuid",	    "nodev",	"noexec",     "sync",
		      "dirsync",     "mand",	    "noatime",	"nodiratime", "relatime",
		      "strictatime", "nosymfollow", "lazytime", "iversion",   "silent",
		      "remount",     NULL};
	struct mount_opts o = parse(in);

	assert_int_equal(o.flags, MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_SYNCHRONOUS |
					  MS_DIRSYNC | MS_MANDLOCK | MS_NOATIME | MS_NODIRATIME |
					  MS_RELATIME | MS_STRICTATIME | MS_NOSYMFOLLOW |
					  MS_LAZYTIME | MS_I_VERSION | MS_SILENT | MS_REMOUNT);
	assert_int_equal(o.clear, 0);
	assert_null(o.data);
	assert_false(o.bind);
	rootfs_mount_opts_free(&o);
}

static void clearing_options_undo_earlier_ones_and_record_the_clear(void **state)
{
	char *in[] = {"ro",	     "nosuid",	   "nodev",	 "noexec",	  "sync",
		      "mand",	     "noatime",	   "nodiratime", "relatime",	  "strictatime",
		      "nosymfollow", "lazytime",   "iversion",	 "silent",	  "rw",
		      "suid",	     "dev",	   "exec",	 "async",	  "nomand",
		      "atime",	     "diratime",   "norelatime", "nostrictatime", "symfollow",
		      "nolazytime",  "noiversion", "loud",	 "defaults",	  NULL};
	unsigned long all = MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_SYNCHRONOUS |
			    MS_MANDLOCK | MS_NOATIME | MS_NODIRATIME | MS_RELATIME |
			    MS_STRICTATIME | MS_NOSYMFOLLOW | MS_LAZYTIME | MS_I_VERSION |
			    MS_SILENT;
	struct mount_opts o = parse(in);

	assert_int_equal(o.flags, 0);
	assert_int_equal(o.clear, all);
	rootfs_mount_opts_free(&o);
}

static void a_later_set_wins_over_an_earlier_clear(void **state)
{
	char *in[] = {"rw", "ro", NULL};
	struct mount_opts o = parse(in);

	assert_int_equal(o.flags, MS_RDONLY);
	assert_int_equal(o.clear, 0);
	rootfs_mount_opts_free(&o);
}

static void bind_and_rbind_are_flags_and_booleans(void **state)
{
	char *b[] = {"bind", NULL};
	char *rb[] = {"rbind", "ro", NULL};
	struct mount_opts o = parse(b);

	assert_true(o.bind);
	assert_false(o.rbind);
	assert_int_equal(o.flags, MS_BIND);
	o = parse(rb);
	assert_true(o.bind);
	assert_true(o.rbind);
	assert_int_equal(o.flags, MS_BIND | MS_REC | MS_RDONLY);
}

static void propagation_options_last_one_wins(void **state)
{
	static const struct {
		const char *name;
		unsigned long want;
	} cases[] = {
		{"private", MS_PRIVATE},       {"rprivate", MS_PRIVATE | MS_REC},
		{"shared", MS_SHARED},	       {"rshared", MS_SHARED | MS_REC},
		{"slave", MS_SLAVE},	       {"rslave", MS_SLAVE | MS_REC},
		{"unbindable", MS_UNBINDABLE}, {"runbindable", MS_UNBINDABLE | MS_REC},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *in[] = {"shared", (char *)cases[i].name, NULL};
		struct mount_opts o = parse(in);

		assert_int_equal(o.propagation, cases[i].want);
		assert_int_equal(o.flags, 0);
		assert_null(o.data);
	}
}

static void recursive_options_become_mount_setattr_attributes(void **state)
{
	char *in[] = {"rro", "rnosuid", "rnodev", "rnoexec", "rnodiratime", "rnosymfollow", NULL};
	struct mount_opts o = parse(in);

	assert_true(o.recursive_attr);
	assert_int_equal(o.attr_set, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV |
					     MOUNT_ATTR_NOEXEC | MOUNT_ATTR_NODIRATIME |
					     MOUNT_ATTR_NOSYMFOLLOW);
	assert_int_equal(o.attr_clr, 0);
	assert_int_equal(o.flags, 0);
}

static void recursive_clearing_options_fill_attr_clr(void **state)
{
	char *in[] = {"rro", "rrw", "rsuid", "rdev", "rexec", "rdiratime", "rsymfollow", NULL};
	struct mount_opts o = parse(in);

	assert_int_equal(o.attr_set, 0);
	assert_int_equal(o.attr_clr, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV |
					     MOUNT_ATTR_NOEXEC | MOUNT_ATTR_NODIRATIME |
					     MOUNT_ATTR_NOSYMFOLLOW);
}

static void recursive_atime_options_replace_the_whole_atime_field(void **state)
{
	static const struct {
		const char *name;
		unsigned long long want;
	} cases[] = {
		{"rnoatime", MOUNT_ATTR_NOATIME},	 {"rstrictatime", MOUNT_ATTR_STRICTATIME},
		{"rrelatime", MOUNT_ATTR_RELATIME},	 {"ratime", MOUNT_ATTR_RELATIME},
		{"rnostrictatime", MOUNT_ATTR_RELATIME}, {"rnorelatime", MOUNT_ATTR_STRICTATIME},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *in[] = {"rnoatime", "rro", (char *)cases[i].name, NULL};
		struct mount_opts o = parse(in);

		assert_int_equal(o.attr_set & MOUNT_ATTR__ATIME, cases[i].want);
		assert_true(o.attr_set & MOUNT_ATTR_RDONLY);
		assert_int_equal(o.attr_clr & MOUNT_ATTR__ATIME, MOUNT_ATTR__ATIME);
		assert_false(o.attr_clr & MOUNT_ATTR_RDONLY);
	}
}

static void idmap_ridmap_and_tmpcopyup_are_recognised(void **state)
{
	char *in[] = {"idmap", "ridmap", "tmpcopyup", NULL};
	struct mount_opts o = parse(in);

	assert_true(o.idmap);
	assert_true(o.ridmap);
	assert_true(o.tmpcopyup);
	assert_null(o.data);
	assert_int_equal(o.flags, 0);
}

static void unknown_options_are_joined_into_data_in_order(void **state)
{
	char *in[] = {"nosuid", "newinstance", "ptmxmode=0666", "mode=0620", "noexec",
		      "gid=5",	NULL};
	struct mount_opts o = parse(in);

	assert_string_equal(o.data, "newinstance,ptmxmode=0666,mode=0620,gid=5");
	assert_int_equal(o.flags, MS_NOSUID | MS_NOEXEC);
	rootfs_mount_opts_free(&o);
	assert_null(o.data);
}

static void tmpfs_size_and_mode_go_to_data(void **state)
{
	char *in[] = {"size=64k", "mode=755", "ro", NULL};
	struct mount_opts o = parse(in);

	assert_string_equal(o.data, "size=64k,mode=755");
	assert_int_equal(o.flags, MS_RDONLY);
	rootfs_mount_opts_free(&o);
}

static void no_options_parse_to_nothing(void **state)
{
	char *in[] = {"", NULL};
	struct mount_opts o = parse(NULL);

	assert_int_equal(o.flags | o.clear | o.propagation, 0);
	assert_null(o.data);
	o = parse(in);
	assert_int_equal(o.flags | o.clear | o.propagation, 0);
	assert_null(o.data);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(flag_options_set_ms_flags),
		cmocka_unit_test(clearing_options_undo_earlier_ones_and_record_the_clear),
		cmocka_unit_test(a_later_set_wins_over_an_earlier_clear),
		cmocka_unit_test(bind_and_rbind_are_flags_and_booleans),
		cmocka_unit_test(propagation_options_last_one_wins),
		cmocka_unit_test(recursive_options_become_mount_setattr_attributes),
		cmocka_unit_test(recursive_clearing_options_fill_attr_clr),
		cmocka_unit_test(recursive_atime_options_replace_the_whole_atime_field),
		cmocka_unit_test(idmap_ridmap_and_tmpcopyup_are_recognised),
		cmocka_unit_test(unknown_options_are_joined_into_data_in_order),
		cmocka_unit_test(tmpfs_size_and_mode_go_to_data),
		cmocka_unit_test(no_options_parse_to_nothing),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
