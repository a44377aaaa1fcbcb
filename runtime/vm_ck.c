/* ward checkpoint / restore of a VM-isolated container (runtime/vm.h). checkpoint asks the
 * container's VMM over <state dir>/vmck.sock to pause the guest and write its state (vm.json)
 * and memory (vm-mem.img) into files ward opened in the image directory, then copies the
 * guest's read-only root disk (the guest's page cache holds its blocks) and writes the
 * inventory. restore creates the container through the create code with the image's disk, and
 * its VMM starts in restore mode from those files. Format: checkpoint/FORMAT.md. */
#include "runtime/vm.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "checkpoint/inventory.h"
#include "checkpoint/page_server.h"
#include "lib/util.h"
#include "vmm_shim/snapshot.h"
#include "vmm_shim/vmm.h"

static const char *const vm_image_files[] = {VM_IMAGE_STATE, VM_IMAGE_MEM, VM_IMAGE_DISK};

int vm_copy_file(const char *from, const char *to, struct werr **err)
{
	_cleanup_close_ int in = open(from, O_RDONLY | O_CLOEXEC);
	_cleanup_close_ int out = -1;
	struct stat st;
	off_t left;

	if (in < 0 || fstat(in, &st) < 0)
		return werr_sys(err, errno, "open %s", from);
	out = open(to, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (out < 0)
		return werr_sys(err, errno, "create %s", to);
	for (left = st.st_size; left > 0;) {
		ssize_t n = copy_file_range(in, NULL, out, NULL, (size_t)left, 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			int e = n < 0 ? errno : EIO;

			unlink(to);
			return werr_sys(err, e, "copy %s to %s", from, to);
		}
		left -= n;
	}
	return 0;
}

/* Send the request with the two files, wait for the VMM's answer. */
static int ask_vmm(int sock, int state_fd, int mem_fd, const struct vmm_ck_request *rq,
		   struct vmm_ck_reply *rep, struct werr **err)
{
	struct vmm_ck_request req = *rq;
	char cbuf[CMSG_SPACE(2 * sizeof(int))] = {0};
	struct iovec iov = {.iov_base = &req, .iov_len = sizeof(req)};
	struct msghdr mh = {.msg_iov = &iov,
			    .msg_iovlen = 1,
			    .msg_control = cbuf,
			    .msg_controllen = sizeof(cbuf)};
	struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
	int fds[2] = {state_fd, mem_fd};
	ssize_t n;

	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(fds));
	memcpy(CMSG_DATA(cm), fds, sizeof(fds));
	if (sendmsg(sock, &mh, MSG_NOSIGNAL) != (ssize_t)sizeof(req))
		return werr_sys(err, errno, "send the checkpoint request to the VMM");
	n = read_all(sock, rep, sizeof(*rep));
	if (n != (ssize_t)sizeof(*rep) || rep->magic != VMM_CK_MAGIC)
		return werr_set(err, EIO, "the VMM did not answer the checkpoint request (%s)",
				n < 0 ? strerror(errno) : "connection closed");
	if (rep->status) {
		rep->msg[sizeof(rep->msg) - 1] = '\0';
		return werr_set(err, rep->status, "%s", rep->msg);
	}
	return 0;
}

static void remove_image_files(int dirfd)
{
	for (size_t i = 0; i < ARRAY_SIZE(vm_image_files); i++)
		unlinkat(dirfd, vm_image_files[i], 0);
	unlinkat(dirfd, "inventory.json", 0);
}

/* One image of a pre-copy chain: dir verified (verify: every file against its sum) and its
 * vm.json read into s; *parent is its inventory's parent resolved from dir, or NULL. */
static int chain_image(const char *dir, bool verify, bool need_disk, struct vmm_snap *s,
		       char **parent, struct werr **err)
{
	_cleanup_close_ int dirfd = open(dir, O_DIRECTORY | O_RDONLY | O_CLOEXEC);
	_cleanup_free_ char *text = NULL, *inv_text = NULL;
	struct ck_inventory inv = {0};
	bool has_disk;
	size_t len = 0;
	int r;

	*parent = NULL;
	memset(s, 0, sizeof(*s));
	if (dirfd < 0)
		return werr_sys(err, errno, "image %s", dir);
	r = verify ? ck_inventory_load(dirfd, &inv, err)
		   : (read_file_at(dirfd, "inventory.json", &inv_text, NULL, err) < 0
			      ? -EIO
			      : ck_inventory_parse(inv_text, &inv, err));
	for (size_t i = 0; i < 2 && r == 0; i++) /* vm.json, vm-mem.img */
		if (!ck_inventory_has(&inv, vm_image_files[i]))
			r = werr_set(err, EINVAL, "the inventory lists no %s%s", vm_image_files[i],
				     i == 0 ? " (not a micro-VM image)" : "");
	has_disk = r == 0 && ck_inventory_has(&inv, VM_IMAGE_DISK);
	if (r == 0 && inv.parent)
		*parent = inv.parent[0] == '/' ? xstrdup(inv.parent)
					       : xasprintf("%s/%s", dir, inv.parent);
	ck_inventory_free(&inv);
	if (r == 0 && read_file_at(dirfd, VM_IMAGE_STATE, &text, &len, err) < 0)
		r = -EIO;
	if (r == 0 && vmm_snap_from_json(text, len, s, err) < 0)
		r = -EINVAL;
	if (r == 0 && need_disk && s->pre_dump)
		r = werr_set(err, EINVAL,
			     "a pre-dump (its memory was read while the guest ran) is only a "
			     "parent: restore the checkpoint taken after it with --parent-path");
	else if (r == 0 && need_disk && !has_disk)
		r = werr_set(err, EINVAL, "the inventory lists no " VM_IMAGE_DISK);
	if (r < 0) {
		vmm_snap_free(s);
		free(*parent);
		*parent = NULL;
		return werr_wrap(err, "image %s", dir);
	}
	return 0;
}

/* The chain under image dir (its parents: paths[0] the nearest), each image checked and each
 * link (vmm_snap_check_parent); *top gets dir's vm.json. */
static int chain_walk(const char *dir, bool verify, bool need_disk, struct vmm_snap *top,
		      char **paths, unsigned *n, struct werr **err)
{
	_cleanup_free_ char *cur = xstrdup(dir), *next = NULL;
	struct vmm_snap child, s;
	int r;

	*n = 0;
	r = chain_image(dir, verify, need_disk, top, &next, err);
	if (r < 0)
		return r;
	child = *top;
	while (r == 0 && next) {
		char *real = realpath(next, NULL);

		if (*n >= VMM_MAX_CHAIN) {
			r = werr_set(err, ELOOP, "image %s: more than %d parent images", dir,
				     VMM_MAX_CHAIN);
			free(real);
			break;
		}
		if (!real) {
			r = werr_sys(err, errno, "image %s: its parent image %s", cur, next);
			break;
		}
		paths[(*n)++] = real;
		free(next);
		next = NULL;
		r = chain_image(real, verify, false, &s, &next, err);
		if (r == 0)
			r = vmm_snap_check_parent(&child, cur, &s, real, err);
		if (child.ranges != top->ranges)
			vmm_snap_free(&child);
		child = s;
		free(cur);
		cur = xstrdup(real);
	}
	if (r == 0 && child.parent_token)
		r = werr_set(err, EINVAL,
			     "image %s: vm.json names a parent (\"parent_token\"), the inventory "
			     "none",
			     cur);
	if (child.ranges != top->ranges)
		vmm_snap_free(&child);
	if (r < 0) {
		for (unsigned i = 0; i < *n; i++)
			free(paths[i]);
		*n = 0;
		vmm_snap_free(top);
	}
	return r;
}

static void free_paths(char **paths, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		free(paths[i]);
}

/* --parent-path: the parent's chain verified; its token and RAM size for the VMM. */
static int parent_request(const char *parent, struct vmm_ck_request *req, char **real,
			  struct werr **err)
{
	char *paths[VMM_MAX_CHAIN];
	struct vmm_snap s;
	unsigned n;
	int r = chain_walk(parent, true, false, &s, paths, &n, err);

	if (r < 0)
		return werr_wrap(err, "checkpoint: --parent-path");
	free_paths(paths, n);
	if (!s.token)
		r = werr_set(err, EINVAL,
			     "checkpoint: --parent-path %s: the image was taken without dirty "
			     "logging (not by --pre-dump or --parent-path): it cannot be a parent",
			     parent);
	req->flags |= VMM_CK_PARENT;
	req->parent_token = s.token;
	req->parent_mem_bytes = s.mem_bytes;
	vmm_snap_free(&s);
	if (r == 0 && !(*real = realpath(parent, NULL)))
		r = werr_sys(err, errno, "checkpoint: --parent-path %s", parent);
	return r;
}

int vm_checkpoint(const char *root, const char *id, const char *dir, const struct vm_ck_opts *o,
		  struct vm_ck_stats *stats, struct werr **err)
{
	_cleanup_close_ int dirfd = -1, state_fd = -1, mem_fd = -1, sock = -1;
	_cleanup_free_ char *sdir = state_dir(root, id);
	_cleanup_free_ char *disk_from = xasprintf("%s/" VM_ROOT_IMAGE, sdir);
	_cleanup_free_ char *disk_to = xasprintf("%s/" VM_IMAGE_DISK, dir);
	_cleanup_free_ char *parent = NULL;
	struct vmm_ck_request req = {.magic = VMM_CK_MAGIC};
	struct ck_inventory inv = {0};
	struct vmm_ck_reply rep = {0};
	int r;

	if (o->leave_running)
		req.flags |= VMM_CK_LEAVE_RUNNING;
	if (o->track)
		req.flags |= VMM_CK_TRACK;
	dirfd = open(dir, O_DIRECTORY | O_RDONLY | O_CLOEXEC);
	if (dirfd < 0)
		return werr_sys(err, errno, "checkpoint: image directory %s", dir);
	if (o->parent) {
		r = parent_request(o->parent, &req, &parent, err);
		if (r < 0)
			return werr_wrap(err, "container %s keeps running", id);
	}
	state_fd = openat(dirfd, VM_IMAGE_STATE, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	mem_fd = openat(dirfd, VM_IMAGE_MEM, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (state_fd < 0 || mem_fd < 0) {
		r = werr_sys(err, errno, "checkpoint: create the VM's files in %s", dir);
		goto fail;
	}
	sock = vm_socket_connect(root, id, VM_CK_SOCKET, "checkpoint", err);
	if (sock < 0) {
		r = sock;
		goto fail;
	}
	r = ask_vmm(sock, state_fd, mem_fd, &req, &rep, err);
	if (r < 0) {
		werr_wrap(err, "checkpoint of micro-VM container %s (it keeps running)", id);
		goto fail;
	}
	stats->paused_ms = rep.paused_ms;
	stats->mem_bytes = rep.mem_bytes;
	/* the guest's page cache holds blocks of this disk: restore needs this very image */
	if (!o->track) {
		r = vm_copy_file(disk_from, disk_to, err);
		if (r < 0)
			goto fail;
	}
	inv.root_pid = 1; /* the VMM: the container's init */
	inv.pids = xcalloc(1, sizeof(pid_t));
	inv.pids[inv.npids++] = 1;
	/* on the receiver the images of a chain are siblings */
	if (parent && o->page_server)
		inv.parent = ck_ps_parent_name(parent);
	else
		inv.parent = steal_ptr(parent);
	ck_inventory_add(&inv, xstrdup("container.json"), NULL);
	for (size_t i = 0; i < ARRAY_SIZE(vm_image_files) - (o->track ? 1 : 0); i++)
		ck_inventory_add(&inv, xstrdup(vm_image_files[i]), NULL);
	r = ck_inventory_write(dirfd, &inv, err);
	stats->image_written = r == 0;
	/* The VMM writes files, not a stream: they are sent once written (the vCPUs no longer
	 * paused; the guest stopped for good unless leave_running or track). */
	if (r == 0 && o->page_server && ck_ps_send_image(o->page_server, dirfd, &inv, err) < 0)
		r = werr_wrap(err,
			      "checkpoint of micro-VM container %s: the image is complete in %s%s",
			      id, dir,
			      o->leave_running || o->track
				      ? " (it keeps running)"
				      : " (the container has stopped: restore from it)");
	ck_inventory_free(&inv);
	if (r < 0 && !stats->image_written)
		goto fail;
	return r;
fail:
	if (dirfd >= 0)
		remove_image_files(dirfd);
	return r;
}

int vm_image_check(const char *dir, bool *is_vm, struct werr **err)
{
	_cleanup_close_ int dirfd = open(dir, O_DIRECTORY | O_RDONLY | O_CLOEXEC);
	_cleanup_free_ char *text = NULL;
	struct ck_inventory inv = {0};
	char *paths[VMM_MAX_CHAIN];
	struct vmm_snap s;
	unsigned n;

	*is_vm = false;
	if (dirfd < 0)
		return werr_sys(err, errno, "restore: image %s", dir);
	if (read_file_at(dirfd, "inventory.json", &text, NULL, err) < 0)
		return werr_wrap(err, "restore: image %s", dir);
	if (ck_inventory_parse(text, &inv, err) < 0)
		return werr_wrap(err, "restore: image %s", dir);
	*is_vm = ck_inventory_has(&inv, VM_IMAGE_STATE);
	ck_inventory_free(&inv);
	if (!*is_vm)
		return 0;
	/* every file of the chain against its sum, each of ours there, every link */
	if (chain_walk(dir, true, true, &s, paths, &n, err) < 0)
		return werr_wrap(err, "restore");
	free_paths(paths, n);
	vmm_snap_free(&s);
	return 0;
}

int vm_restore_plan(struct vm_plan *vm, const char *image, struct werr **err)
{
	struct vmm_snap s;
	int r;

	if (!vm)
		return werr_set(
			err, EINVAL,
			"restore: %s is a micro-VM image, but the bundle's container is not "
			"VM-isolated (annotation " VM_ANNOTATION "=vm or --isolation vm)",
			image);
	/* verified by vm_image_check: here the parents' paths */
	r = chain_walk(image, false, true, &s, vm->restore_parents, &vm->n_restore_parents, err);
	if (r < 0)
		return werr_wrap(err, "restore");
	if (s.n_vcpus != vm->n_vcpus || s.mem_bytes != (uint64_t)vm->mem_mib << 20)
		r = werr_set(err, EINVAL,
			     "restore: the image's VM has %u vCPUs and %llu MiB of RAM, the bundle "
			     "asks for %u vCPUs and %u MiB (linux.resources cpu quota and memory "
			     "limit must be those of the checkpointed container)",
			     s.n_vcpus, (unsigned long long)(s.mem_bytes >> 20), vm->n_vcpus,
			     vm->mem_mib);
	vmm_snap_free(&s);
	if (r == 0)
		vm->restore_image = realpath(image, NULL);
	if (r == 0 && !vm->restore_image)
		r = werr_sys(err, errno, "restore: image %s", image);
	return r;
}

int vm_restore_root_disk(struct vm_plan *vm, const char *state_dir, struct werr **err)
{
	_cleanup_free_ char *from = xasprintf("%s/" VM_IMAGE_DISK, vm->restore_image);

	free(vm->disk);
	vm->disk = xasprintf("%s/" VM_ROOT_IMAGE, state_dir);
	return vm_copy_file(from, vm->disk, err);
}
