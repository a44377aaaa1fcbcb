/* Pre-copy of a micro-VM: KVM's dirty log of the vCPUs' writes (KVM_MEM_LOG_DIRTY_PAGES on
 * each RAM slot, read and cleared by KVM_GET_DIRTY_LOG) merged with the pages the VMM's own
 * devices wrote (guest_mem.h's dirty set), which KVM does not see. Called by the checkpoint
 * thread with the vCPUs parked. */
#include <errno.h>
#include <stdlib.h>
#include <sys/ioctl.h>

#include "lib/util.h"
#include "vmm_shim/vm_internal.h"

#define PAGE 4096

static int set_slot_flags(struct vm *vm, uint32_t flags, struct werr **err)
{
	for (unsigned i = 0; i < vm->gm.n; i++) {
		struct kvm_userspace_memory_region m = {
			.slot = i,
			.flags = flags,
			.guest_phys_addr = vm->gm.r[i].gpa,
			.memory_size = vm->gm.r[i].size,
			.userspace_addr = (uintptr_t)vm->gm.r[i].host,
		};

		if (ioctl(vm->vm_fd, KVM_SET_USER_MEMORY_REGION, &m) < 0)
			return werr_sys(err, errno,
					"KVM_SET_USER_MEMORY_REGION (slot %u, dirty logging %s)", i,
					flags ? "on" : "off");
	}
	return 0;
}

int vm_dirty_log_start(struct vm *vm, struct werr **err)
{
	_cleanup_free_ uint64_t *discard = xcalloc(vm->gm.dirty_words + 1, sizeof(uint64_t));
	int r = set_slot_flags(vm, KVM_MEM_LOG_DIRTY_PAGES, err);

	if (r < 0) {
		set_slot_flags(vm, 0, NULL);
		return r;
	}
	/* the log starts clean; what the VMM wrote before is in the full image taken now */
	gm_dirty_take(&vm->gm, discard);
	vm->dirty_log = true;
	return 0;
}

int vm_dirty_collect(struct vm *vm, uint64_t *out, struct werr **err)
{
	uint64_t first = 0;

	for (unsigned i = 0; i < vm->gm.n; i++) {
		uint64_t npages = vm->gm.r[i].size / PAGE;
		/* KVM's bitmap: one bit per page of the slot, in longs (64 bits here) */
		_cleanup_free_ uint64_t *bits = xcalloc((npages + 63) / 64 + 1, sizeof(uint64_t));
		struct kvm_dirty_log log = {.slot = i, .dirty_bitmap = bits};

		if (ioctl(vm->vm_fd, KVM_GET_DIRTY_LOG, &log) < 0)
			return werr_sys(err, errno, "KVM_GET_DIRTY_LOG (slot %u)", i);
		gm_bitmap_or(out, first, bits, npages);
		first += npages;
	}
	gm_dirty_take(&vm->gm, out);
	return 0;
}

void vm_dirty_put_back(struct vm *vm, const uint64_t *bits)
{
	for (size_t i = 0; vm->gm.dirty && i < vm->gm.dirty_words; i++)
		if (bits[i])
			__atomic_fetch_or(&vm->gm.dirty[i], bits[i], __ATOMIC_RELEASE);
}
