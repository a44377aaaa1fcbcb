/* Mount options from config.json: MS_* flags, propagation, mount_setattr attributes for the
 * recursive "r" variants, and everything else joined into the filesystem data string. */
#include "rootfs/rootfs.h"

#include <errno.h>
#include <string.h>
#include <sys/mount.h>

#include "lib/util.h"

enum opt_kind {
	OPT_SET,   /* set an MS_* flag */
	OPT_CLEAR, /* clear an MS_* flag */
	OPT_PROPAGATION,
	OPT_ATTR_SET,	/* recursive: set MOUNT_ATTR_* (attr_clr gets the extra clear mask) */
	OPT_ATTR_CLEAR, /* recursive: clear MOUNT_ATTR_* */
	OPT_NOTHING,
};

struct opt {
	const char *name;
	enum opt_kind kind;
	unsigned long long value;
	unsigned long long extra; /* OPT_ATTR_SET: bits cleared too (the atime field) */
};

static const struct opt opts[] = {
	{"defaults", OPT_NOTHING, 0, 0},
	{"ro", OPT_SET, MS_RDONLY, 0},
	{"rw", OPT_CLEAR, MS_RDONLY, 0},
	{"suid", OPT_CLEAR, MS_NOSUID, 0},
	{"nosuid", OPT_SET, MS_NOSUID, 0},
	{"dev", OPT_CLEAR, MS_NODEV, 0},
	{"nodev", OPT_SET, MS_NODEV, 0},
	{"exec", OPT_CLEAR, MS_NOEXEC, 0},
	{"noexec", OPT_SET, MS_NOEXEC, 0},
	{"sync", OPT_SET, MS_SYNCHRONOUS, 0},
	{"async", OPT_CLEAR, MS_SYNCHRONOUS, 0},
	{"dirsync", OPT_SET, MS_DIRSYNC, 0},
	{"remount", OPT_SET, MS_REMOUNT, 0},
	{"mand", OPT_SET, MS_MANDLOCK, 0},
	{"nomand", OPT_CLEAR, MS_MANDLOCK, 0},
	{"atime", OPT_CLEAR, MS_NOATIME, 0},
	{"noatime", OPT_SET, MS_NOATIME, 0},
	{"diratime", OPT_CLEAR, MS_NODIRATIME, 0},
	{"nodiratime", OPT_SET, MS_NODIRATIME, 0},
	{"relatime", OPT_SET, MS_RELATIME, 0},
	{"norelatime", OPT_CLEAR, MS_RELATIME, 0},
	{"strictatime", OPT_SET, MS_STRICTATIME, 0},
	{"nostrictatime", OPT_CLEAR, MS_STRICTATIME, 0},
	{"nosymfollow", OPT_SET, MS_NOSYMFOLLOW, 0},
	{"symfollow", OPT_CLEAR, MS_NOSYMFOLLOW, 0},
	{"lazytime", OPT_SET, MS_LAZYTIME, 0},
	{"nolazytime", OPT_CLEAR, MS_LAZYTIME, 0},
	{"iversion", OPT_SET, MS_I_VERSION, 0},
	{"noiversion", OPT_CLEAR, MS_I_VERSION, 0},
	{"silent", OPT_SET, MS_SILENT, 0},
	{"loud", OPT_CLEAR, MS_SILENT, 0},
	{"bind", OPT_SET, MS_BIND, 0},
	{"rbind", OPT_SET, MS_BIND | MS_REC, 0},

	{"private", OPT_PROPAGATION, MS_PRIVATE, 0},
	{"rprivate", OPT_PROPAGATION, MS_PRIVATE | MS_REC, 0},
	{"shared", OPT_PROPAGATION, MS_SHARED, 0},
	{"rshared", OPT_PROPAGATION, MS_SHARED | MS_REC, 0},
	{"slave", OPT_PROPAGATION, MS_SLAVE, 0},
	{"rslave", OPT_PROPAGATION, MS_SLAVE | MS_REC, 0},
	{"unbindable", OPT_PROPAGATION, MS_UNBINDABLE, 0},
	{"runbindable", OPT_PROPAGATION, MS_UNBINDABLE | MS_REC, 0},

	{"rro", OPT_ATTR_SET, MOUNT_ATTR_RDONLY, 0},
	{"rrw", OPT_ATTR_CLEAR, MOUNT_ATTR_RDONLY, 0},
	{"rnosuid", OPT_ATTR_SET, MOUNT_ATTR_NOSUID, 0},
	{"rsuid", OPT_ATTR_CLEAR, MOUNT_ATTR_NOSUID, 0},
	{"rnodev", OPT_ATTR_SET, MOUNT_ATTR_NODEV, 0},
	{"rdev", OPT_ATTR_CLEAR, MOUNT_ATTR_NODEV, 0},
	{"rnoexec", OPT_ATTR_SET, MOUNT_ATTR_NOEXEC, 0},
	{"rexec", OPT_ATTR_CLEAR, MOUNT_ATTR_NOEXEC, 0},
	{"rnodiratime", OPT_ATTR_SET, MOUNT_ATTR_NODIRATIME, 0},
	{"rdiratime", OPT_ATTR_CLEAR, MOUNT_ATTR_NODIRATIME, 0},
	{"rnosymfollow", OPT_ATTR_SET, MOUNT_ATTR_NOSYMFOLLOW, 0},
	{"rsymfollow", OPT_ATTR_CLEAR, MOUNT_ATTR_NOSYMFOLLOW, 0},
	/* The atime mode is a field, not a bit: the kernel wants the whole field in attr_clr
	 * and one mode in attr_set. Turning a mode off selects the kernel default (relatime),
	 * except norelatime, which like mount(8) means full atime updates. */
	{"rnoatime", OPT_ATTR_SET, MOUNT_ATTR_NOATIME, MOUNT_ATTR__ATIME},
	{"ratime", OPT_ATTR_SET, MOUNT_ATTR_RELATIME, MOUNT_ATTR__ATIME},
	{"rrelatime", OPT_ATTR_SET, MOUNT_ATTR_RELATIME, MOUNT_ATTR__ATIME},
	{"rnorelatime", OPT_ATTR_SET, MOUNT_ATTR_STRICTATIME, MOUNT_ATTR__ATIME},
	{"rstrictatime", OPT_ATTR_SET, MOUNT_ATTR_STRICTATIME, MOUNT_ATTR__ATIME},
	{"rnostrictatime", OPT_ATTR_SET, MOUNT_ATTR_RELATIME, MOUNT_ATTR__ATIME},
};

static const struct opt *find_opt(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(opts); i++)
		if (strcmp(opts[i].name, name) == 0)
			return &opts[i];
	return NULL;
}

static void append_data(char **data, const char *o)
{
	char *old = *data;

	*data = old ? xasprintf("%s,%s", old, o) : xstrdup(o);
	free(old);
}

static void apply_opt(const struct opt *o, struct mount_opts *out)
{
	switch (o->kind) {
	case OPT_SET:
		out->flags |= o->value;
		out->clear &= ~o->value;
		if (o->value & MS_BIND) {
			out->bind = true;
			out->rbind = out->rbind || (o->value & MS_REC);
		}
		break;
	case OPT_CLEAR:
		out->flags &= ~o->value;
		out->clear |= o->value;
		break;
	case OPT_PROPAGATION:
		out->propagation = o->value;
		break;
	case OPT_ATTR_SET:
		out->attr_set = (out->attr_set & ~o->extra) | o->value;
		out->attr_clr = (out->attr_clr & ~o->value) | o->extra;
		out->recursive_attr = true;
		break;
	case OPT_ATTR_CLEAR:
		out->attr_set &= ~o->value;
		out->attr_clr |= o->value;
		out->recursive_attr = true;
		break;
	case OPT_NOTHING:
		break;
	}
}

int rootfs_parse_mount_opts(char *const *options, struct mount_opts *out, struct werr **err)
{
	memset(out, 0, sizeof(*out));
	for (size_t i = 0; options && options[i]; i++) {
		const char *name = options[i];
		const struct opt *o;

		if (!*name)
			continue;
		o = find_opt(name);
		if (o) {
			apply_opt(o, out);
		} else if (strcmp(name, "idmap") == 0) {
			out->idmap = true;
		} else if (strcmp(name, "ridmap") == 0) {
			out->ridmap = true;
		} else if (strcmp(name, "tmpcopyup") == 0) {
			out->tmpcopyup = true;
		} else {
			append_data(&out->data, name);
		}
	}
	return 0;
}

void rootfs_mount_opts_free(struct mount_opts *o)
{
	if (!o)
		return;
	free(o->data);
	o->data = NULL;
}
