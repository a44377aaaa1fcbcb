/* VM isolation: a container whose workload runs in ward's KVM micro-VM (vmm_shim/). The
 * container is created as a jail (namespaces, cgroup, mounts); its init then becomes the VMM
 * instead of executing process.args, and ward-init runs process.args inside the guest.
 *
 * Asked for with the annotation org.ward.isolation=vm (or `ward create/run --isolation vm`,
 * which sets it). The guest kernel and initramfs come from WARD_VM_KERNEL_DIR, default
 * WARD_VM_DIR (the install prefix's lib/ward/vm), as made by `make vm-kernel`. */
#ifndef WARD_RUNTIME_VM_H
#define WARD_RUNTIME_VM_H

#include <stdbool.h>
#include <stdint.h>

#include "lib/err.h"
#include "runtime/spec.h"
#include "runtime/state.h"
#include "vmm_shim/vmm.h"

#define VM_ANNOTATION "org.ward.isolation"
#define VM_KERNEL_DIR_ENV "WARD_VM_KERNEL_DIR"
/* Set (not "0"): a boot profile on stderr, "ward trace: / ward-vmm trace: SECONDS.USEC WHAT"
 * lines (the root disk's build, the VMM's milestones, ward-init's marks, exits per device). */
#define VM_TRACE_ENV "WARD_VM_TRACE"
#ifndef WARD_VM_DIR
#define WARD_VM_DIR "/usr/local/lib/ward/vm"
#endif
#define VM_DEFAULT_MEM_MIB 256
/* Charged to the container's memory cgroup besides guest RAM: the VMM's own pages. */
#define VM_OVERHEAD_MIB 16
#define VM_ROOT_IMAGE "rootfs.img"
/* In the state root: root disk images by rootfs fingerprint ('@' is no container id's). */
#define VM_DISK_CACHE_DIR "@vm-disks"
/* Set: always build the root disk, never use or fill the cache. */
#define VM_DISK_NOCACHE_ENV "WARD_VM_NO_DISK_CACHE"
#define VM_CONTROL_SOCKET "vm.sock" /* in the state directory: `ward exec` connects here */
#define VM_CK_SOCKET "vmck.sock"    /* in the state directory: `ward checkpoint` connects here */
/* A micro-VM checkpoint image's own files (checkpoint/FORMAT.md) */
#define VM_IMAGE_STATE "vm.json"
#define VM_IMAGE_MEM "vm-mem.img"
#define VM_IMAGE_DISK "rootfs.img"

struct vm_plan {
	char *kernel, *initrd, *disk; /* host paths */
	char *cmdline;
	unsigned mem_mib, n_vcpus;
	int kernel_fd, initrd_fd, disk_fd; /* opened by the init before pivot_root */
	int control_fd;			   /* the listening control socket, likewise */
	int ck_fd;			   /* the listening checkpoint socket, likewise */
	/* ward restore: the image directory whose vm.json / vm-mem.img the VMM starts from
	 * (opened with the other files), or NULL */
	char *restore_image;
	int restore_state_fd, restore_mem_fd;
	/* ward restore: the init's sync socket, kept open by the VMM to report the image loaded
	 * and the vCPUs started (SYNC_READY) or why loading failed (SYNC_ERROR); -1 once done */
	int restore_report_fd;
	/* a pre-copy chain: the parent images, the nearest first, the oldest last */
	unsigned n_restore_parents;
	char *restore_parents[VMM_MAX_CHAIN];
	int restore_parent_state_fds[VMM_MAX_CHAIN], restore_parent_mem_fds[VMM_MAX_CHAIN];
};

struct vm_ck_stats {
	uint32_t paused_ms; /* the guest's vCPUs stopped while its state was written */
	uint64_t mem_bytes; /* non-zero guest memory written */
	bool image_written; /* the image is complete in its directory (sending may have failed) */
};

bool vm_tracing(void);

/* org.ward.isolation: false for absent or "jail", true for "vm", an error for anything else. */
int vm_isolation_wanted(const struct spec *s, bool *vm, struct werr **err);
/* A created container's state says VM isolation (its annotations). */
bool vm_state_is_vm(const struct cstate *st);
/* Add (or overwrite) org.ward.isolation=vm in s->annotations (--isolation vm). */
void vm_set_annotation(struct spec *s);

/* Guest RAM from linux.resources.memory.limit (less VM_OVERHEAD_MIB); VM_DEFAULT_MEM_MIB
 * without a limit; an error naming the limit when it leaves less than the VMM's minimum. */
int vm_guest_mem_mib(const struct cgroup_resources *r, unsigned *mib, struct werr **err);
/* vCPUs: ceil(cpu.quota / cpu.period) (period default 100000), 1 without a quota, capped at
 * the VMM's maximum. */
unsigned vm_guest_vcpus(const struct cgroup_resources *r);
/* The guest kernel's command line: the VMM's defaults plus ward-init's job (args, env, cwd,
 * user, hostname; percent-encoded). An error when it does not fit the kernel's 2 KiB. */
int vm_guest_cmdline(const struct spec *s, char **out, struct werr **err);
/* Percent-encode s for one ward.* value (list items when list: ',' is encoded too). */
char *vm_encode(const char *s, bool list);

/* ward create, before anything exists: the kernel, /dev/kvm (a PVM /dev/kvm is refused),
 * memory and vCPUs, the command line; adds /dev/kvm to linux.devices and to the device cgroup
 * rules. *out stays NULL for a jail. */
int vm_plan_create(struct spec *s, struct vm_plan **out, struct werr **err);
/* ward create, once the state directory exists: the read-only ext4 root disk built from the
 * bundle's rootfs (mkfs.ext4 -d) as <state_dir>/rootfs.img, or a hard link to the image of
 * the same tree in <root>/VM_DISK_CACHE_DIR (runtime/vm_disk.c says when that is safe). */
int vm_make_root_disk(struct vm_plan *p, const char *rootfs, const char *root,
		      const char *state_dir, struct werr **err);

/* What create learns from walking a rootfs: the sizes mkfs needs and the cache key. */
struct vm_tree {
	uint64_t bytes, inodes;
	unsigned char digest[32]; /* SHA-256 over every entry's path and lstat */
	bool cacheable;		  /* every ctime settled, one file system, everything readable */
};
int vm_tree_walk(const char *rootfs, struct vm_tree *t, struct werr **err);
/* The container init, before pivot_root: open the kernel, initramfs and disk, and listen on
 * the control socket in the state directory. */
int vm_open_files(struct vm_plan *p, int state_dirfd, struct werr **err);
/* Bind and listen on <state dir>/vm.sock: the fd, or < 0 with err. */
int vm_control_listen(int state_dirfd, struct werr **err);
/* Bind and listen on <state dir>/name, mode 0600. */
int vm_socket_listen(int state_dirfd, const char *name, struct werr **err);
/* Connect to <state dir of id>/name ("what" names it in errors): the fd, or < 0 with err. */
int vm_socket_connect(const char *root, const char *id, const char *name, const char *what,
		      struct werr **err);
/* ward exec: run process p in the guest of container id (runtime/vm_exec.c), relaying stdin,
 * stdout, stderr and the usual stop signals; its exit status, or < 0 with err. */
int vm_exec(const char *root, const char *id, const struct spec_process *p, struct werr **err);
/* The container init, where a jail would execve: become the VMM; exits with the workload's
 * status (1 with a message when the VM fails or the guest stops without a status). */
__attribute__((noreturn)) void vm_run(struct vm_plan *p);
void vm_plan_free(struct vm_plan *p);
static inline void vm_plan_freep(struct vm_plan **p)
{
	vm_plan_free(*p);
}
#define _cleanup_vm_plan_ __attribute__((cleanup(vm_plan_freep)))

struct ck_ps_conn;
struct vm_ck_opts {
	bool leave_running;
	bool track;	    /* --pre-dump: dirty logging on, memory saved while the guest runs */
	const char *parent; /* --parent-path: only the pages written since this image */
	/* --page-server: the image, once written in its directory, is sent there too (its
	 * inventory names the parent "../NAME", checkpoint/page_server.h) */
	struct ck_ps_conn *page_server;
};

/* ward checkpoint of a running VM container (runtime/vm_ck.c): its VMM writes vm.json and
 * vm-mem.img into dir (which exists), then the root disk is copied (not for a pre-dump) and the
 * inventory written. The VMM stops unless leave_running or track. A parent must be this
 * container's latest pre-copy image (its chain verified first). On failure the container runs
 * on and the VM's files are removed again, unless stats->image_written: then only sending it to
 * the page server failed, and the image (complete) stays. */
int vm_checkpoint(const char *root, const char *id, const char *dir, const struct vm_ck_opts *o,
		  struct vm_ck_stats *stats, struct werr **err);
/* Whether image dir is a micro-VM image (its inventory lists vm.json); one is verified against
 * its sums, and so is each image of its pre-copy chain, every link checked. */
int vm_image_check(const char *dir, bool *is_vm, struct werr **err);
/* ward restore, in create: the bundle must be VM-isolated with the image's vCPUs and guest
 * memory (an error naming both otherwise); sets vm->restore_image and its parents. */
int vm_restore_plan(struct vm_plan *vm, const char *image, struct werr **err);
/* ward restore, in create: the image's root disk as <state_dir>/rootfs.img. */
int vm_restore_root_disk(struct vm_plan *vm, const char *state_dir, struct werr **err);
/* Copy a file (copy_file_range), mode 0600; on failure nothing is left at to. */
int vm_copy_file(const char *from, const char *to, struct werr **err);

#endif
