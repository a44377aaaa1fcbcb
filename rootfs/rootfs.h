/* rootfs/: the container's filesystem: mounts, /dev, pivot_root, masked and
 * read-only paths, sysctl; paths inside the root never escape it. */
#ifndef WARD_ROOTFS_H
#define WARD_ROOTFS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "lib/err.h"
#include "ns/ns.h"

struct mount_spec {
	char *destination;
	char *source;	/* may be NULL */
	char *type;	/* may be NULL (bind mounts) */
	char **options; /* NULL-terminated, raw strings from config.json */
	struct id_map *uid_maps; /* idmapped mount (mounts[].uidMappings) */
	size_t n_uid_maps;
	struct id_map *gid_maps;
	size_t n_gid_maps;
};

struct device_spec {
	char *path;
	char type; /* 'c', 'u', 'b', 'p' */
	int64_t major, minor;
	bool has_file_mode, has_uid, has_gid;
	uint32_t file_mode;
	uint32_t uid, gid;
};

struct kv {
	char *key;
	char *value;
};

/* Everything rootfs/ needs, taken from the whole spec by runtime/. */
struct rootfs_config {
	const char *root_path;	 /* absolute path of the rootfs on the host */
	bool readonly;
	const char *propagation; /* linux.rootfsPropagation, may be NULL */
	const struct mount_spec *mounts;
	size_t n_mounts;
	const struct device_spec *devices;
	size_t n_devices;
	char *const *masked_paths;
	char *const *readonly_paths;
	const struct kv *sysctl;
	size_t n_sysctl;
	bool new_user_ns;	 /* devices are bind-mounted, not mknod-ed */
	bool no_pivot;
	const char *console_path; /* pty slave to bind on /dev/console, or NULL */
	const char *mount_label;
	/* Per mount (n_mounts entries, or NULL): a detached, already idmapped tree made on the
	 * host side by rootfs_make_idmapped_tree, attached instead of binding source; -1 = none.
	 * A container in a new user namespace lacks the rights to idmap host mounts itself. */
	const int *premade_trees;
};

/* Parsed mount options (see rootfs/mount_opts.c). "bind" and "rbind" also put MS_BIND
 * (and MS_REC for rbind) in flags, as runc does. */
struct mount_opts {
	unsigned long flags;	 /* MS_* to set */
	unsigned long clear;	 /* MS_* to clear (only meaningful for bind remounts) */
	unsigned long propagation; /* MS_SHARED/MS_PRIVATE/... | MS_REC, 0 = none */
	bool bind, rbind;
	bool idmap, ridmap;
	unsigned long long attr_set, attr_clr; /* MOUNT_ATTR_* for mount_setattr */
	bool recursive_attr;	 /* rro, rnosuid, ... given */
	bool tmpcopyup;		 /* tmpfs: copy the destination's old content into it */
	char *data;		 /* filesystem-specific options, comma-joined; heap */
};
int rootfs_parse_mount_opts(char *const *options, struct mount_opts *out, struct werr **err);
void rootfs_mount_opts_free(struct mount_opts *o);

/* True if the mount asks for an idmapped bind (idmap/ridmap option or mount mappings). */
bool rootfs_mount_wants_idmap(const struct mount_spec *m);
/* On the host, before the container exists: clone source as a detached tree idmapped with the
 * mount's maps (or, when it has none, with the container's uid_maps/gid_maps). Returns the tree
 * fd (close-on-exec; a cloned init still has it). rootfs_prepare closes it once attached. */
int rootfs_make_idmapped_tree(const struct mount_spec *m, const struct ns_config *container_ns,
			      struct werr **err);

/* Resolve path inside root (a directory fd) without escaping it; returns an O_PATH fd. */
int rootfs_open_in_root(int rootfd, const char *path, int flags, struct werr **err);
/* Create every missing directory of path inside root (and the last one as a file when
 * as_file is true); returns an O_PATH fd of the result. */
int rootfs_mkdir_in_root(int rootfd, const char *path, bool as_file, struct werr **err);

/* Phase 1, in the container's mount namespace before pivot: make / slave/private as asked,
 * bind the rootfs onto itself, do every mount, create devices, /dev symlinks, ptmx, console. */
int rootfs_prepare(const struct rootfs_config *c, struct werr **err);
/* Phase 2: pivot_root (or chroot with --no-pivot) into root_path; chdir("/"). */
int rootfs_pivot(const struct rootfs_config *c, struct werr **err);
/* Phase 3, after pivot: masked paths, readonly paths, read-only root, rootfsPropagation. */
int rootfs_finish(const struct rootfs_config *c, struct werr **err);
/* Write linux.sysctl entries through /proc/sys (before pivot or after, /proc must be there). */
int rootfs_apply_sysctl(const struct kv *sysctl, size_t n, struct werr **err);

#endif
