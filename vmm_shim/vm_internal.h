/* The VM's own state, shared by vm.c (set-up, vCPU loop, stop protocol) and snapshot.c
 * (checkpoint: pause, save, load). Not part of the library's interface (vmm.h). */
#ifndef WARD_VMM_VM_INTERNAL_H
#define WARD_VMM_VM_INTERNAL_H

#include <linux/kvm.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "vmm_shim/console_relay.h"
#include "vmm_shim/dev.h"
#include "vmm_shim/dev_uart.h"
#include "vmm_shim/dev_virtio_blk.h"
#include "vmm_shim/dev_virtio_console.h"
#include "vmm_shim/guest_mem.h"
#include "vmm_shim/vm_trace.h"
#include "vmm_shim/vmm.h"

#define KVM_TSS_ADDR 0xfffbd000ull
#define KVM_IDENTITY_MAP_ADDR 0xfffbc000ull

struct vm;

struct vcpu {
	struct vm *vm;
	unsigned id;
	int fd;
	struct kvm_run *run;
	size_t run_size;
	pthread_t thread;
	bool started;
	bool parked; /* out of KVM_RUN for a pause, its state complete (under vm->lock) */
};

struct vm {
	int kvm_fd, vm_fd;
	struct guest_mem gm;
	struct bus io;
	struct vmm_hooks hooks;
	struct uart uart;
	struct i8042 kbd;
	struct status_port status;
	struct cmos cmos;
	struct acpi_pm acpi_pm;
	struct bus mmio;
	struct virtio_blk *disks[VMM_MAX_DISKS];
	int disk_fds[VMM_MAX_DISKS];
	unsigned n_disks;
	struct virtio_console *console; /* the control channel and stdio ports, or NULL */
	struct console_relay relay;	/* their host side */
	int kick_fd;			/* the console's kick eventfd */
	pthread_t control;
	bool control_started;
	unsigned n_vcpus;
	struct vcpu *vcpus;
	struct kvm_cpuid2 *cpuid;
	struct kvm_msr_list *msr_list; /* KVM_GET_MSR_INDEX_LIST: what a snapshot saves */

	pthread_mutex_t lock;
	pthread_cond_t stop_cond;
	atomic_bool stopping;
	struct vmm_result result;
	struct werr *err; /* the first error a vCPU thread hit */

	/* pause for a snapshot (snapshot.c): vCPU threads park while pause is set */
	atomic_bool pause;
	pthread_cond_t pause_cond; /* a vCPU parked, or pause was cleared */
	int ck_fd;		   /* the listening checkpoint socket, or -1 */
	/* pre-copy (dirty_log.c), the checkpoint thread's alone: dirty logging is on, and the
	 * token of the last image whose pages since are tracked (0: none) */
	bool dirty_log;
	uint64_t ck_token;
	pthread_t ck_thread;
	bool ck_started;

	int console_in;
	int wake_fd; /* eventfd: tells the console reader to quit */
	pthread_t reader;
	bool reader_started;

	struct vm_trace trace;
};

void vm_stop(struct vm *vm, enum vmm_stop_reason reason, int status);

/* snapshot.c: the checkpoint thread (arg: struct vm *), serving ck_fd until wake_fd. */
void *vm_ck_thread(void *arg);
/* snapshot.c: a vCPU thread parks here when vm->pause is set (after a KVM_RUN that returned
 * EINTR, so that any I/O it was completing is complete). */
void vm_vcpu_park(struct vcpu *c);
/* snapshot.c: restore mode: guest memory and every state from the image, instead of booting
 * (after the devices and vCPUs are created). */
int vm_restore_image(struct vm *vm, const struct vmm_config *cfg, struct werr **err);
/* dirty_log.c, with the vCPUs parked: turn on KVM's dirty log on every RAM slot (it starts
 * clean) and clear the VMM's own dirty set. */
int vm_dirty_log_start(struct vm *vm, struct werr **err);
/* dirty_log.c: OR the pages written since the last call (KVM's log of each slot and the
 * VMM's set) into out (vm->gm.dirty_words words) and clear both. */
int vm_dirty_collect(struct vm *vm, uint64_t *out, struct werr **err);
/* dirty_log.c: collected bits back into the VMM's set (a checkpoint that failed after
 * vm_dirty_collect: the parent stays valid). */
void vm_dirty_put_back(struct vm *vm, const uint64_t *bits);
/* snapshot.c: read KVM_GET_MSR_INDEX_LIST into vm->msr_list. */
int vm_get_msr_list(struct vm *vm, struct werr **err);

#endif
