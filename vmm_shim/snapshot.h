/* A micro-VM's saved state (everything but guest memory, which is a raw file beside it): the
 * KVM vCPU and VM state and the devices' registers, as the JSON file vm.json of a checkpoint
 * image (checkpoint/FORMAT.md, "micro-VM images"). Pure data and its (de)serialisation, so
 * that the format is unit-tested without KVM. */
#ifndef WARD_VMM_SNAPSHOT_H
#define WARD_VMM_SNAPSHOT_H

#include <linux/kvm.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/err.h"
#include "vmm_shim/vmm.h"

#define VMM_SNAP_VERSION 1
#define VMM_SNAP_MAX_MSRS 512
#define VMM_SNAP_MAX_QUEUES 10 /* VIRTIO_MMIO_MAX_QUEUES */
#define VMM_SNAP_MAX_PORTS 4
#define VMM_SNAP_MAX_CTRL 64
#define VMM_SNAP_UART_FIFO 64 /* UART_RX_FIFO */

struct vmm_snap_vcpu {
	struct kvm_regs regs;
	struct kvm_sregs sregs;
	struct kvm_xsave xsave; /* KVM_GET_XSAVE: the legacy 4 KiB area */
	struct kvm_xcrs xcrs;
	struct kvm_lapic_state lapic;
	struct kvm_vcpu_events events;
	struct kvm_mp_state mp_state;
	struct kvm_debugregs debugregs;
	unsigned n_msrs;
	struct kvm_msr_entry msrs[VMM_SNAP_MAX_MSRS];
};

struct vmm_snap_virtq {
	uint16_t num;
	bool ready, broken;
	uint64_t desc, avail, used;
	uint16_t last_avail, used_idx;
};

/* a virtio-mmio transport's registers and its queues */
struct vmm_snap_virtio {
	uint32_t dev_features_sel, drv_features_sel, queue_sel, status, isr, config_gen;
	uint64_t drv_features;
	struct vmm_snap_virtq vq[VMM_SNAP_MAX_QUEUES];
};

struct vmm_snap_port {
	bool host_open, ready, guest_open;
	uint32_t guest_closes;
};

struct vmm_snap_ctrl {
	uint32_t id;
	uint16_t event, value;
};

/* A run of non-zero guest memory: bytes at RAM offset off (the RAM regions one after the
 * other), stored in the memory file right after the previous range's. */
struct vmm_snap_range {
	uint64_t off, len;
};

struct vmm_snap {
	int version;
	uint64_t mem_bytes;
	/* pre-copy (FORMAT.md): token names this image to a child (0: taken without dirty
	 * logging, it cannot be a parent); parent_token is its parent's (0: none), and then the
	 * ranges are every page written since the parent, zero or not, laid over the parent's
	 * memory; pre_dump: memory was saved while the vCPUs ran, the image is only a parent */
	uint64_t token, parent_token;
	bool pre_dump;
	size_t n_ranges; /* sorted, page aligned, not overlapping, inside mem_bytes */
	struct vmm_snap_range *ranges;
	unsigned n_vcpus;
	struct vmm_snap_vcpu *vcpus; /* n_vcpus */
	struct kvm_irqchip pic_master, pic_slave, ioapic;
	struct kvm_pit_state2 pit;
	struct kvm_clock_data clock;
	struct {
		uint8_t ier, lcr, mcr, scr, dll, dlm, fcr;
		bool thri_pending;
		int irq_level;
		uint8_t rx[VMM_SNAP_UART_FIFO];
		unsigned rx_head, rx_count;
	} uart;
	struct {
		uint8_t ctr, out, pending_cmd;
		bool out_full;
	} i8042;
	struct {
		uint8_t index;
		uint8_t ram[128];
	} cmos;
	uint8_t acpi_pm_en[2];
	unsigned n_disks;
	struct vmm_snap_virtio disks[VMM_MAX_DISKS];
	bool has_console;
	struct {
		struct vmm_snap_virtio t;
		unsigned n_ports;
		struct vmm_snap_port port[VMM_SNAP_MAX_PORTS];
		unsigned n_ctrl; /* control messages waiting for the guest's buffers, in order */
		struct vmm_snap_ctrl ctrl[VMM_SNAP_MAX_CTRL];
	} console;
};

/* The JSON text (NUL-terminated, malloc'd) of s. */
char *vmm_snap_to_json(const struct vmm_snap *s);
/* Parse vm.json; an error naming the field for anything missing or malformed, and for another
 * "version". */
int vmm_snap_from_json(const char *text, size_t len, struct vmm_snap *s, struct werr **err);
void vmm_snap_free(struct vmm_snap *s);

/* A pre-copy chain's link: child's parent is parent (its "token", the same RAM size), an error
 * naming both paths otherwise. */
int vmm_snap_check_parent(const struct vmm_snap *child, const char *child_path,
			  const struct vmm_snap *parent, const char *parent_path,
			  struct werr **err);

#endif
