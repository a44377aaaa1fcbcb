/* ward's micro-VM: a minimal KVM VMM that boots an unmodified Linux kernel (bzImage through the
 * 64-bit boot protocol, or ELF vmlinux) to an 8250 serial console. The library never prints or
 * exits; vmm_run() is meant to be called by a dedicated process (the developer binary
 * ward-vmm, later a container's init after its namespaces and cgroup are set up). */
#ifndef WARD_VMM_H
#define WARD_VMM_H

#include <stdbool.h>
#include <stdint.h>

#include "lib/err.h"

/* The paravirtual status port: the guest writes its workload's exit code (one byte, or the low
 * byte of a wider write) here and the VM stops. Unused by any PC device Linux probes. */
#define VMM_STATUS_PORT 0x0ff0
/* The guest's progress marks (one byte each: ward-init's are in guest/ward_init.c), shown with
 * a timestamp when vmm_config.trace_fd is set and ignored otherwise. */
#define VMM_MARK_PORT 0x0ff1

#define VMM_MAX_VCPUS 64
#define VMM_MIN_MEM_MIB 64

/* Used when vmm_config.cmdline is NULL: serial console, reboot through the i8042 (our exit
 * path), no PCI probing (there is no PCI bus), reboot at once on panic. */
#define VMM_DEFAULT_CMDLINE "console=ttyS0 reboot=k panic=-1 pci=off i8042.noaux i8042.nopnp"

#define VMM_MAX_DISKS 4
#define VMM_MAX_CHAIN 64 /* pre-copy images under the one restored, at most */

/* A virtio-blk disk: /dev/vda, vdb, ... in the order given. */
struct vmm_disk {
	const char *path; /* opened by the VMM, or only named in messages when fd > 0 */
	int fd;		  /* > 0: an open file to use instead of opening path */
	bool ro;
};

struct vmm_config {
	const char *kernel;  /* bzImage or ELF vmlinux (required) */
	const char *initrd;  /* optional */
	const char *cmdline; /* NULL: VMM_DEFAULT_CMDLINE */
	unsigned mem_mib;    /* guest RAM; 0: 256 */
	unsigned n_vcpus;    /* 1..VMM_MAX_VCPUS; 0: 1 */
	int console_in;	     /* guest serial input read from here; -1: none */
	int console_out;     /* guest serial output written here (required) */
	struct vmm_disk disks[VMM_MAX_DISKS];
	unsigned n_disks;
	/* > 0: read the kernel / initrd from these open files (the paths then only name them in
	 * messages): a container's VMM opens them before pivot_root. */
	int kernel_fd, initrd_fd;
	/* Signals for the guest's workload, posted by the caller's signal handler as bit
	 * (1u << sig), sig 1..31: each read of the status port returns (and clears) the lowest
	 * pending one, so two different signals posted before the guest reads both arrive.
	 * NULL: none. */
	_Atomic unsigned *pending_signals;
	/* > 0: a listening stream socket; each connection accepted on it (one at a time) is
	 * relayed to the virtio-console port ward.ctl, the control channel (console_relay.c). */
	int control_fd;
	/* The workload's stdio as virtio-console ports (ward.stdin/stdout/stderr, see
	 * guest/ward_ctl.h): stdio_fd[0] is read for the guest (-1: none, EOF at once), the
	 * guest's output goes to stdio_fd[1] and stdio_fd[2]. */
	bool stdio_ports;
	int stdio_fd[3];
	/* > 0: a boot profile goes here (vm_trace.h): milestones with the wall clock, the guest's
	 * progress marks, exit counts per device. */
	int trace_fd;
	/* Install the VMM's seccomp allow-list (vmm_seccomp_install) once the VM is set up. */
	bool seccomp;
	/* > 0: a listening stream socket for checkpoint requests (struct vmm_ck_request with the
	 * image's state and memory files attached; the VM pauses, saves, answers, then stops with
	 * VMM_STOP_CHECKPOINT or runs on). */
	int ck_fd;
	/* > 0 (both): restore mode: load guest memory and the VM's state from these files (as
	 * a checkpoint wrote them) instead of loading the kernel; the layout (memory, vCPUs,
	 * devices) must be the one the image was taken with. */
	int restore_state_fd, restore_mem_fd;
	/* restore of a pre-copy chain: the older images' files, the parent first, the oldest
	 * last; their memory goes in oldest first, the newer pages over it */
	unsigned n_restore_parents;
	int restore_parent_state_fds[VMM_MAX_CHAIN], restore_parent_mem_fds[VMM_MAX_CHAIN];
	/* restore mode, when not NULL: called once the image is loaded into KVM and the vCPU
	 * threads are started (a failure before that is vmm_run_result's error), from the
	 * calling thread, under the VMM's seccomp filter when cfg->seccomp */
	void (*restored)(void *arg);
	void *restored_arg;
};

/* The checkpoint request on vmm_config.ck_fd: this header, with two fds attached
 * (SCM_RIGHTS): the state file (JSON, snapshot.h) and the guest memory file, both empty and
 * writable. The answer: struct vmm_ck_reply. */
#define VMM_CK_MAGIC 0x314b4357u /* "WCK1" */
#define VMM_CK_LEAVE_RUNNING 1u
/* pre-copy (pre-dump): turn on dirty logging, save memory while the vCPUs run on (after a pause
 * that takes the vCPU and device state), and run on */
#define VMM_CK_TRACK 2u
/* save only the pages written since the image whose token is parent_token */
#define VMM_CK_PARENT 4u
struct vmm_ck_request {
	uint32_t magic;
	uint32_t flags;
	uint64_t parent_token;	   /* VMM_CK_PARENT: the parent's vm.json "token" */
	uint64_t parent_mem_bytes; /* VMM_CK_PARENT: the parent's vm.json "mem_bytes" */
};
struct vmm_ck_reply {
	uint32_t magic;
	int32_t status;	    /* 0, or an errno value with msg */
	uint64_t mem_bytes; /* bytes of guest memory written (zero pages are holes) */
	uint32_t paused_ms; /* how long the vCPUs were paused */
	uint64_t token;	    /* the image's vm.json "token" (0: taken without dirty logging) */
	char msg[512];
};

enum vmm_stop_reason {
	VMM_STOP_STATUS = 1,   /* the guest wrote the status port */
	VMM_STOP_RESET,	       /* i8042 reset or KVM system event reset (reboot, panic=-1) */
	VMM_STOP_POWEROFF,     /* KVM system event shutdown */
	VMM_STOP_TRIPLE_FAULT, /* KVM_EXIT_SHUTDOWN */
	VMM_STOP_HALT,	       /* the boot vCPU halted with nothing to wake it */
	VMM_STOP_CRASH,	       /* KVM system event crash */
	VMM_STOP_CHECKPOINT,   /* checkpointed, not asked to run on */
};

struct vmm_result {
	enum vmm_stop_reason reason;
	int status; /* the reported status when reason == VMM_STOP_STATUS, else 0 */
};

const char *vmm_stop_reason_name(enum vmm_stop_reason r);

/* Boot the guest and run it until it stops. Returns 0 with *res filled, or < 0 with *err set
 * (KVM unusable, kernel unreadable or not bootable, a vCPU exit the VMM cannot handle). Nothing
 * keeps running after the return. Installs a no-op handler for SIGRTMIN (used to kick vCPU
 * threads out of KVM_RUN) for its duration. */
int vmm_run_result(const struct vmm_config *cfg, struct vmm_result *res, struct werr **err);

/* The VMM's syscall allow-list, for the process that runs vmm_run_result after the VM is set
 * up: KVM_RUN / KVM_IRQ_LINE ioctls, I/O on open fds, thread creation (clone with thread
 * flags and no namespace flag; clone3 fails with ENOSYS so that libc falls back to clone),
 * memory management, signal handling, tgkill to its own threads only, and futexes. Anything else
 * kills the process (SIGSYS). Sets no_new_privs. */
int vmm_seccomp_install(struct werr **err);

/* vmm_run_result, with *exit_code the guest's reported status, or 0 after a poweroff or reset. */
int vmm_run(const struct vmm_config *cfg, int *exit_code, struct werr **err);

#endif
