/* The VM: KVM setup, guest memory, devices, one thread per vCPU running KVM_RUN, a console
 * reader thread, the virtio-console relay thread (console_relay.c), and the stop protocol (first
 * stop reason or error wins; the main thread then kicks every vCPU out of KVM_RUN with SIGRTMIN +
 * immediate_exit and joins them). */
#include "vmm_shim/vmm.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "lib/util.h"
#include "vmm_shim/acpi.h"
#include "vmm_shim/boot.h"
#include "vmm_shim/console_relay.h"
#include "vmm_shim/cpu.h"
#include "vmm_shim/dev.h"
#include "vmm_shim/dev_uart.h"
#include "vmm_shim/dev_virtio_blk.h"
#include "vmm_shim/dev_virtio_console.h"
#include "vmm_shim/guest_mem.h"
#include "vmm_shim/guest/ward_ctl.h"
#include "vmm_shim/mptable.h"
#include "vmm_shim/snapshot.h"
#include "vmm_shim/vm_internal.h"

const char *vmm_stop_reason_name(enum vmm_stop_reason r)
{
	switch (r) {
	case VMM_STOP_STATUS:
		return "status reported";
	case VMM_STOP_RESET:
		return "reset";
	case VMM_STOP_POWEROFF:
		return "power off";
	case VMM_STOP_TRIPLE_FAULT:
		return "triple fault (KVM_EXIT_SHUTDOWN)";
	case VMM_STOP_HALT:
		return "halted (KVM_EXIT_HLT)";
	case VMM_STOP_CRASH:
		return "crash (KVM_SYSTEM_EVENT_CRASH)";
	case VMM_STOP_CHECKPOINT:
		return "checkpointed";
	}
	return "unknown";
}

void vm_stop(struct vm *vm, enum vmm_stop_reason reason, int status)
{
	pthread_mutex_lock(&vm->lock);
	if (!vm->stopping) {
		vm->result.reason = reason;
		vm->result.status = status;
		vm->stopping = true;
		pthread_cond_broadcast(&vm->stop_cond);
		pthread_cond_broadcast(&vm->pause_cond);
	}
	pthread_mutex_unlock(&vm->lock);
}

/* Record a vCPU thread's error (the first one wins) and stop the VM. */
static void vm_fail(struct vm *vm, struct werr **err)
{
	pthread_mutex_lock(&vm->lock);
	if (!vm->err)
		vm->err = steal_ptr(*err);
	werr_free(err);
	vm->stopping = true;
	pthread_cond_broadcast(&vm->stop_cond);
	pthread_cond_broadcast(&vm->pause_cond);
	pthread_mutex_unlock(&vm->lock);
}

static void hook_stop(void *opaque, enum vmm_stop_reason reason, int status)
{
	struct vm *vm = opaque;

	vm_trace_event(&vm->trace, "guest stop: %s %d", vmm_stop_reason_name(reason), status);
	vm_stop(vm, reason, status);
}

static void hook_mark(void *opaque, unsigned mark)
{
	struct vm *vm = opaque;

	vm_trace_event(&vm->trace, "guest mark %u (%lu exits so far)", mark, vm->trace.total);
}

static void hook_irq_line(void *opaque, unsigned irq, int level)
{
	struct vm *vm = opaque;
	struct kvm_irq_level l = {.irq = irq, .level = (uint32_t)level};

	/* fails only with a bad irq number: a VMM bug, not a guest's doing */
	(void)ioctl(vm->vm_fd, KVM_IRQ_LINE, &l);
}

static const char *exit_name(uint32_t r)
{
	static const char *const names[] = {
		[KVM_EXIT_UNKNOWN] = "UNKNOWN",
		[KVM_EXIT_EXCEPTION] = "EXCEPTION",
		[KVM_EXIT_IO] = "IO",
		[KVM_EXIT_HYPERCALL] = "HYPERCALL",
		[KVM_EXIT_DEBUG] = "DEBUG",
		[KVM_EXIT_HLT] = "HLT",
		[KVM_EXIT_MMIO] = "MMIO",
		[KVM_EXIT_IRQ_WINDOW_OPEN] = "IRQ_WINDOW_OPEN",
		[KVM_EXIT_SHUTDOWN] = "SHUTDOWN",
		[KVM_EXIT_FAIL_ENTRY] = "FAIL_ENTRY",
		[KVM_EXIT_INTR] = "INTR",
		[KVM_EXIT_SET_TPR] = "SET_TPR",
		[KVM_EXIT_TPR_ACCESS] = "TPR_ACCESS",
		[KVM_EXIT_NMI] = "NMI",
		[KVM_EXIT_INTERNAL_ERROR] = "INTERNAL_ERROR",
		[KVM_EXIT_SYSTEM_EVENT] = "SYSTEM_EVENT",
	};

	return r < ARRAY_SIZE(names) && names[r] ? names[r] : "unexpected";
}

static void handle_io(struct vm *vm, struct kvm_run *run)
{
	uint8_t *data = (uint8_t *)run + run->io.data_offset;

	if (vm->trace.fd > 0)
		vm_trace_exit(&vm->trace, bus_name(&vm->io, run->io.port) ?: "io-unclaimed");
	for (uint32_t i = 0; i < run->io.count; i++, data += run->io.size) {
		if (run->io.direction == KVM_EXIT_IO_OUT)
			bus_write(&vm->io, run->io.port, data, run->io.size);
		else
			bus_read(&vm->io, run->io.port, data, run->io.size);
	}
}

/* The trace's label of a virtio-mmio exit: which device (disk 0-3, the console) and which kind
 * of access (a queue notify, the interrupt status read or its ack, anything else: set-up and
 * config space). NULL outside the virtio-mmio window. */
static const char *virtio_exit_label(uint64_t addr)
{
	static const char *const labels[VMM_MAX_DISKS + 1][3] = {
		{"vda:notify", "vda:irq", "vda:other"},
		{"vdb:notify", "vdb:irq", "vdb:other"},
		{"vdc:notify", "vdc:irq", "vdc:other"},
		{"vdd:notify", "vdd:irq", "vdd:other"},
		{"console:notify", "console:irq", "console:other"},
	};
	uint64_t slot, off;

	if (addr < VIRTIO_MMIO_BASE)
		return NULL;
	slot = (addr - VIRTIO_MMIO_BASE) / VIRTIO_MMIO_SIZE;
	off = (addr - VIRTIO_MMIO_BASE) % VIRTIO_MMIO_SIZE;
	if (slot > VMM_MAX_DISKS)
		return NULL;
	if (off == VIRTIO_MMIO_QUEUE_NOTIFY)
		return labels[slot][0];
	if (off == VIRTIO_MMIO_INTERRUPT_STATUS || off == VIRTIO_MMIO_INTERRUPT_ACK)
		return labels[slot][1];
	return labels[slot][2];
}

/* MMIO outside guest RAM and the in-kernel LAPIC/IOAPIC: the virtio-mmio devices; anything
 * else reads as all-ones. */
static void handle_mmio(struct vm *vm, struct kvm_run *run)
{
	unsigned len = run->mmio.len;

	if (vm->trace.fd > 0)
		vm_trace_exit(&vm->trace, bus_name(&vm->mmio, run->mmio.phys_addr)
						  ? virtio_exit_label(run->mmio.phys_addr) ?: "mmio"
						  : "mmio-unclaimed");
	if (len == 0 || len > sizeof(run->mmio.data))
		return;
	if (run->mmio.is_write)
		bus_write(&vm->mmio, run->mmio.phys_addr, run->mmio.data, len);
	else
		bus_read(&vm->mmio, run->mmio.phys_addr, run->mmio.data, len);
}

/* Handle one exit: 0 to run on, 1 when the VM stops, < 0 with *err. */
static int handle_exit(struct vcpu *c, struct werr **err)
{
	struct vm *vm = c->vm;
	struct kvm_run *run = c->run;

	switch (run->exit_reason) {
	case KVM_EXIT_IO:
		handle_io(vm, run);
		return 0;
	case KVM_EXIT_MMIO:
		handle_mmio(vm, run);
		return 0;
	case KVM_EXIT_INTR:
		vm_trace_exit(&vm->trace, "intr");
		return 0;
	case KVM_EXIT_HLT:
		vm_stop(vm, VMM_STOP_HALT, 0);
		return 1;
	case KVM_EXIT_SHUTDOWN:
		vm_stop(vm, VMM_STOP_TRIPLE_FAULT, 0);
		return 1;
	case KVM_EXIT_SYSTEM_EVENT:
		switch (run->system_event.type) {
		case KVM_SYSTEM_EVENT_SHUTDOWN:
			vm_stop(vm, VMM_STOP_POWEROFF, 0);
			return 1;
		case KVM_SYSTEM_EVENT_RESET:
			vm_stop(vm, VMM_STOP_RESET, 0);
			return 1;
		case KVM_SYSTEM_EVENT_CRASH:
			vm_stop(vm, VMM_STOP_CRASH, 0);
			return 1;
		default:
			return werr_set(err, EIO,
					"vCPU %u: KVM_EXIT_SYSTEM_EVENT of unknown type %u", c->id,
					run->system_event.type);
		}
	case KVM_EXIT_INTERNAL_ERROR:
		return werr_set(err, EIO,
				"vCPU %u: KVM_EXIT_INTERNAL_ERROR, suberror %u (1: emulation "
				"failure, 2: simultaneous exceptions, 3: delivery event)",
				c->id, run->internal.suberror);
	case KVM_EXIT_FAIL_ENTRY:
		return werr_set(
			err, EIO,
			"vCPU %u: KVM_EXIT_FAIL_ENTRY, hardware entry failure reason 0x%llx", c->id,
			(unsigned long long)run->fail_entry.hardware_entry_failure_reason);
	default:
		return werr_set(err, EIO, "vCPU %u: unhandled exit KVM_EXIT_%s (%u)", c->id,
				exit_name(run->exit_reason), run->exit_reason);
	}
}

static void kick_handler(int sig)
{
}

static void *vcpu_thread(void *arg)
{
	struct vcpu *c = arg;
	struct vm *vm = c->vm;
	struct werr *err = NULL;
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGRTMIN);
	pthread_sigmask(SIG_UNBLOCK, &set, NULL);
	while (!vm->stopping) {
		int r = ioctl(c->fd, KVM_RUN, 0);

		if (r < 0) {
			if (errno == EINTR || errno == EAGAIN) {
				if (vm->pause)
					vm_vcpu_park(c);
				continue;
			}
			werr_sys(&err, errno, "KVM_RUN (vCPU %u)", c->id);
			vm_fail(vm, &err);
			break;
		}
		r = handle_exit(c, &err);
		if (r < 0) {
			vm_fail(vm, &err);
			break;
		}
		if (r > 0)
			break;
	}
	return NULL;
}

static void *console_thread(void *arg)
{
	struct vm *vm = arg;
	uint8_t buf[UART_RX_FIFO];

	for (;;) {
		struct pollfd p[2] = {{.fd = vm->console_in, .events = POLLIN},
				      {.fd = vm->wake_fd, .events = POLLIN}};
		size_t room;
		ssize_t n;

		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (p[1].revents)
			break;
		room = uart_wait_rx_space(&vm->uart);
		if (room == 0)
			break;
		n = read(vm->console_in, buf, room);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n <= 0)
			break; /* EOF or error: the guest just gets no more input */
		uart_receive(&vm->uart, buf, (size_t)n);
	}
	return NULL;
}

static int kvm_open(struct vm *vm, struct werr **err)
{
	int v;
	uint64_t ident = KVM_IDENTITY_MAP_ADDR;
	struct kvm_pit_config pit = {.flags = KVM_PIT_SPEAKER_DUMMY};

	vm->kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (vm->kvm_fd < 0)
		return werr_sys(err, errno, "open /dev/kvm");
	v = ioctl(vm->kvm_fd, KVM_GET_API_VERSION, 0);
	if (v != KVM_API_VERSION)
		return werr_set(err, ENOTSUP, "/dev/kvm has API version %d, want %d", v,
				KVM_API_VERSION);
	vm->vm_fd = ioctl(vm->kvm_fd, KVM_CREATE_VM, 0);
	if (vm->vm_fd < 0)
		return werr_sys(err, errno, "KVM_CREATE_VM");
	if (ioctl(vm->vm_fd, KVM_SET_TSS_ADDR, (unsigned long)KVM_TSS_ADDR) < 0)
		return werr_sys(err, errno, "KVM_SET_TSS_ADDR");
	if (ioctl(vm->vm_fd, KVM_SET_IDENTITY_MAP_ADDR, &ident) < 0)
		return werr_sys(err, errno, "KVM_SET_IDENTITY_MAP_ADDR");
	if (ioctl(vm->vm_fd, KVM_CREATE_IRQCHIP, 0) < 0)
		return werr_sys(err, errno, "KVM_CREATE_IRQCHIP");
	if (ioctl(vm->vm_fd, KVM_CREATE_PIT2, &pit) < 0)
		return werr_sys(err, errno, "KVM_CREATE_PIT2");
	return 0;
}

static int map_memory(struct vm *vm, uint64_t bytes, struct werr **err)
{
	int r = gm_alloc(&vm->gm, bytes, err);

	if (r < 0)
		return r;
	for (unsigned i = 0; i < vm->gm.n; i++) {
		struct kvm_userspace_memory_region m = {
			.slot = i,
			.guest_phys_addr = vm->gm.r[i].gpa,
			.memory_size = vm->gm.r[i].size,
			.userspace_addr = (uintptr_t)vm->gm.r[i].host,
		};
		if (ioctl(vm->vm_fd, KVM_SET_USER_MEMORY_REGION, &m) < 0)
			return werr_sys(err, errno, "KVM_SET_USER_MEMORY_REGION (slot %u)", i);
	}
	return 0;
}

static int read_initrd(struct vm *vm, const char *path, int fd, uint64_t addr, uint64_t size,
		       struct werr **err)
{
	uint8_t *dst = gm_ptr(&vm->gm, addr, size);
	uint64_t done = 0;

	if (!dst)
		return werr_set(err, ENOMEM, "initrd %s does not fit in guest RAM", path);
	while (done < size) {
		ssize_t n = pread(fd, dst + done, size - done, (off_t)done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return werr_sys(err, errno, "read %s", path);
		if (n == 0)
			return werr_set(err, EIO, "read %s: file shrank while loading", path);
		done += (uint64_t)n;
	}
	return 0;
}

/* The kernel image, mapped read-only from the page cache (MAP_POPULATE: one call instead of a
 * fault per page): a vmlinux is ~50 MiB, which a read into a buffer would copy once more than
 * the copy into guest RAM. */
struct kernel_map {
	void *p;
	size_t len;
};

static void unmap_kernel(struct kernel_map *m)
{
	if (m->p)
		munmap(m->p, m->len);
}

static int map_kernel(const struct vmm_config *cfg, struct kernel_map *m, struct werr **err)
{
	_cleanup_close_ int own = -1;
	int fd = cfg->kernel_fd;
	struct stat st;
	void *p;

	if (fd <= 0) {
		fd = own = open(cfg->kernel, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return werr_sys(err, errno, "open %s", cfg->kernel);
	}
	if (fstat(fd, &st) < 0)
		return werr_sys(err, errno, "%s", cfg->kernel);
	if (!S_ISREG(st.st_mode) || st.st_size <= 0)
		return werr_set(err, EINVAL, "%s is not a regular, non-empty file", cfg->kernel);
	p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0);
	if (p == MAP_FAILED)
		return werr_sys(err, errno, "mmap %s", cfg->kernel);
	m->p = p;
	m->len = (size_t)st.st_size;
	return 0;
}

/* The virtio-mmio devices' ISA IRQs: free on this machine (COM1 4, i8042 1/12, SCI 9). The
 * disks take slots 0..VMM_MAX_DISKS-1, the control console the slot after them. */
static const unsigned virtio_irqs[VMM_MAX_DISKS] = {5, 6, 7, 10};
#define CONSOLE_SLOT VMM_MAX_DISKS
#define CONSOLE_IRQ 11

static int load_guest(struct vm *vm, const struct vmm_config *cfg, struct boot_info *bi,
		      struct werr **err)
{
	struct kernel_map kernel = {0};
	_cleanup_close_ int ifd = -1;
	uint64_t isize = 0;
	struct stat st;
	int r;

	r = map_kernel(cfg, &kernel, err);
	if (r < 0)
		return werr_wrap(err, "kernel");
	if (cfg->initrd) {
		ifd = cfg->initrd_fd > 0 ? fcntl(cfg->initrd_fd, F_DUPFD_CLOEXEC, 3)
					 : open(cfg->initrd, O_RDONLY | O_CLOEXEC);
		if (ifd < 0 || fstat(ifd, &st) < 0) {
			unmap_kernel(&kernel);
			return werr_sys(err, errno, "initrd %s", cfg->initrd);
		}
		isize = (uint64_t)st.st_size;
		if (isize == 0 || isize > 0xffffffffu) {
			unmap_kernel(&kernel);
			return werr_set(err, EINVAL, "initrd %s: size %llu is not usable",
					cfg->initrd, (unsigned long long)isize);
		}
	}
	r = boot_load(&vm->gm, kernel.p, kernel.len, isize,
		      cfg->cmdline ? cfg->cmdline : VMM_DEFAULT_CMDLINE, bi, err);
	unmap_kernel(&kernel);
	if (r < 0)
		return werr_wrap(err, "kernel %s", cfg->kernel);
	if (isize) {
		r = read_initrd(vm, cfg->initrd, ifd, bi->initrd_addr, isize, err);
		if (r < 0)
			return r;
	}
	r = mptable_write(&vm->gm, BOOT_EBDA_START, vm->n_vcpus, err);
	if (r == 0) {
		struct acpi_virtio virtio[VMM_MAX_DISKS + 1];
		unsigned n = vm->n_disks;

		for (unsigned i = 0; i < vm->n_disks; i++)
			virtio[i] = (struct acpi_virtio){
				.base = (uint32_t)(VIRTIO_MMIO_BASE + i * VIRTIO_MMIO_SIZE),
				.size = VIRTIO_MMIO_SIZE,
				.irq = virtio_irqs[i],
			};
		if (vm->console)
			virtio[n++] = (struct acpi_virtio){
				.base = (uint32_t)(VIRTIO_MMIO_BASE +
						   CONSOLE_SLOT * VIRTIO_MMIO_SIZE),
				.size = VIRTIO_MMIO_SIZE,
				.irq = CONSOLE_IRQ,
			};
		r = acpi_write(&vm->gm, vm->n_vcpus, virtio, n, err);
	}
	if (r == 0)
		((struct boot_params *)gm_ptr(&vm->gm, bi->boot_params, sizeof(struct boot_params)))
			->acpi_rsdp_addr = ACPI_RSDP_ADDR;
	return r;
}

static int get_cpuid(struct vm *vm, struct werr **err)
{
	for (unsigned nent = 128; nent <= 4096; nent *= 2) {
		struct kvm_cpuid2 *c = xcalloc(1, sizeof(*c) + nent * sizeof(c->entries[0]));

		c->nent = nent;
		if (ioctl(vm->kvm_fd, KVM_GET_SUPPORTED_CPUID, c) == 0) {
			if (ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_TSC_DEADLINE_TIMER) > 0)
				cpuid_set_tsc_deadline(c->entries, c->nent);
			vm->cpuid = c;
			return 0;
		}
		free(c);
		if (errno != E2BIG)
			return werr_sys(err, errno, "KVM_GET_SUPPORTED_CPUID");
	}
	return werr_set(err, E2BIG, "KVM_GET_SUPPORTED_CPUID: too many entries");
}

static int create_vcpus(struct vm *vm, const struct boot_info *bi, struct werr **err)
{
	int run_size = ioctl(vm->kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	int r;

	if (run_size < (int)sizeof(struct kvm_run))
		return werr_sys(err, errno, "KVM_GET_VCPU_MMAP_SIZE");
	r = get_cpuid(vm, err);
	if (r < 0)
		return r;
	vm->vcpus = xcalloc(vm->n_vcpus, sizeof(*vm->vcpus));
	for (unsigned i = 0; i < vm->n_vcpus; i++)
		vm->vcpus[i].fd = -1;
	for (unsigned i = 0; i < vm->n_vcpus; i++) {
		struct vcpu *c = &vm->vcpus[i];
		void *p;

		c->vm = vm;
		c->id = i;
		c->fd = ioctl(vm->vm_fd, KVM_CREATE_VCPU, (unsigned long)i);
		if (c->fd < 0)
			return werr_sys(err, errno, "KVM_CREATE_VCPU %u", i);
		p = mmap(NULL, (size_t)run_size, PROT_READ | PROT_WRITE, MAP_SHARED, c->fd, 0);
		if (p == MAP_FAILED)
			return werr_sys(err, errno, "mmap kvm_run of vCPU %u", i);
		c->run = p;
		c->run_size = (size_t)run_size;
		r = vcpu_setup(c->fd, vm->cpuid, i, vm->n_vcpus, i == 0 ? bi : NULL, err);
		if (r < 0)
			return r;
	}
	return 0;
}

static int add_devices(struct vm *vm, const struct vmm_config *cfg, struct werr **err)
{
	int r = 0;

	vm->hooks = (struct vmm_hooks){
		.irq_line = hook_irq_line, .stop = hook_stop, .mark = hook_mark, .opaque = vm};
	uart_init(&vm->uart, &vm->hooks, UART_COM1_IRQ, cfg->console_out);
	i8042_init(&vm->kbd, &vm->hooks);
	vm->status.hooks = vm->hooks;
	vm->status.pending_signals = cfg->pending_signals;
	if (r == 0)
		r = bus_add(&vm->io, UART_COM1_PORT, 8, &uart_ops, &vm->uart);
	if (r == 0)
		r = bus_add(&vm->io, I8042_DATA_PORT, 5, &i8042_ops, &vm->kbd);
	if (r == 0)
		r = bus_add(&vm->io, VMM_STATUS_PORT, 4, &status_port_ops, &vm->status);
	if (r == 0)
		r = bus_add(&vm->io, CMOS_PORT, 2, &cmos_ops, &vm->cmos);
	if (r == 0)
		r = bus_add(&vm->io, ACPI_PM_PORT, ACPI_PM_LEN, &acpi_pm_ops, &vm->acpi_pm);
	if (r < 0)
		return werr_set(err, -r, "registering the port I/O devices");
	return 0;
}

/* The disks, once guest memory exists (the devices reach it through gm_ptr). */
static int add_disks(struct vm *vm, const struct vmm_config *cfg, struct werr **err)
{
	for (unsigned i = 0; i < cfg->n_disks; i++) {
		const struct vmm_disk *d = &cfg->disks[i];
		char id[VIRTIO_BLK_ID_BYTES + 1];
		int r;

		vm->disk_fds[i] = d->fd > 0
					  ? fcntl(d->fd, F_DUPFD_CLOEXEC, 3)
					  : open(d->path, (d->ro ? O_RDONLY : O_RDWR) | O_CLOEXEC);
		if (vm->disk_fds[i] < 0)
			return werr_sys(err, errno, "disk %s", d->path);
		vm->disks[i] = xcalloc(1, sizeof(*vm->disks[i]));
		snprintf(id, sizeof(id), "ward-disk-%u", i);
		r = virtio_blk_init(vm->disks[i], vm->disk_fds[i], d->ro, id, &vm->gm, &vm->hooks,
				    virtio_irqs[i], err);
		if (r < 0) {
			free(steal_ptr(vm->disks[i]));
			return werr_wrap(err, "%s", d->path);
		}
		vm->n_disks = i + 1;
		r = bus_add(&vm->mmio, VIRTIO_MMIO_BASE + i * VIRTIO_MMIO_SIZE, VIRTIO_MMIO_SIZE,
			    &virtio_mmio_ops, &vm->disks[i]->t);
		if (r < 0)
			return werr_set(err, -r, "registering virtio-mmio device %u", i);
	}
	return 0;
}

static int add_console(struct vm *vm, const struct vmm_config *cfg, struct werr **err)
{
	static const char *const names[] = {WCTL_PORT_CTL, WCTL_PORT_STDIN, WCTL_PORT_STDOUT,
					    WCTL_PORT_STDERR};
	int r;

	if (cfg->control_fd <= 0 && !cfg->stdio_ports)
		return 0;
	vm->kick_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (vm->kick_fd < 0)
		return werr_sys(err, errno, "eventfd");
	vm->console = xcalloc(1, sizeof(*vm->console));
	virtio_console_init(vm->console, &vm->gm, &vm->hooks, CONSOLE_IRQ,
			    cfg->stdio_ports ? RELAY_PORTS : 1, names);
	vm->console->kick_fd = vm->kick_fd;
	vm->relay = (struct console_relay){
		.con = vm->console,
		.listen_fd = cfg->control_fd > 0 ? cfg->control_fd : -1,
		.stdio = cfg->stdio_ports,
		.stdio_fd = {cfg->stdio_fd[0], cfg->stdio_fd[1], cfg->stdio_fd[2]},
		.kick_fd = vm->kick_fd,
		.wake_fd = -1,
	};
	r = bus_add(&vm->mmio, VIRTIO_MMIO_BASE + CONSOLE_SLOT * VIRTIO_MMIO_SIZE, VIRTIO_MMIO_SIZE,
		    &virtio_mmio_ops, &vm->console->t);
	if (r < 0)
		return werr_set(err, -r, "registering the virtio-console");
	return 0;
}

static int start_threads(struct vm *vm, struct werr **err)
{
	sigset_t all, old;
	int r = 0;

	/* threads start with every signal blocked; vCPU threads unblock only SIGRTMIN */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	for (unsigned i = 0; i < vm->n_vcpus && r == 0; i++) {
		r = -pthread_create(&vm->vcpus[i].thread, NULL, vcpu_thread, &vm->vcpus[i]);
		if (r == 0)
			vm->vcpus[i].started = true;
	}
	if (r == 0 && vm->console_in >= 0) {
		r = -pthread_create(&vm->reader, NULL, console_thread, vm);
		vm->reader_started = r == 0;
	}
	if (r == 0 && vm->ck_fd >= 0) {
		r = -pthread_create(&vm->ck_thread, NULL, vm_ck_thread, vm);
		vm->ck_started = r == 0;
	}
	if (r == 0 && vm->console) {
		vm->relay.wake_fd = vm->wake_fd;
		r = -pthread_create(&vm->control, NULL, console_relay_run, &vm->relay);
		vm->control_started = r == 0;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (r < 0)
		return werr_sys(err, -r, "pthread_create");
	return 0;
}

static void stop_threads(struct vm *vm)
{
	uint64_t one = 1;

	pthread_mutex_lock(&vm->lock);
	vm->stopping = true;
	pthread_cond_broadcast(&vm->pause_cond);
	pthread_mutex_unlock(&vm->lock);
	if (vm->wake_fd >= 0)
		(void)!write(vm->wake_fd, &one, sizeof(one));
	for (unsigned i = 0; i < vm->n_vcpus; i++) {
		struct vcpu *c = &vm->vcpus[i];

		if (!c->started)
			continue;
		c->run->immediate_exit = 1;
		pthread_kill(c->thread, SIGRTMIN);
	}
	for (unsigned i = 0; i < vm->n_vcpus; i++)
		if (vm->vcpus[i].started)
			pthread_join(vm->vcpus[i].thread, NULL);
	if (vm->reader_started) {
		uart_wake(&vm->uart);
		pthread_join(vm->reader, NULL);
	}
	if (vm->control_started)
		pthread_join(vm->control, NULL);
	if (vm->ck_started)
		pthread_join(vm->ck_thread, NULL);
	/* what the workload wrote before it ended goes out in full (the vCPUs are stopped) */
	if (vm->console && vm->relay.stdio) {
		virtio_console_flush(vm->console, RELAY_PORT_STDOUT);
		virtio_console_flush(vm->console, RELAY_PORT_STDERR);
	}
}

static void vm_destroy(struct vm *vm)
{
	for (unsigned i = 0; vm->vcpus && i < vm->n_vcpus; i++) {
		if (vm->vcpus[i].run)
			munmap(vm->vcpus[i].run, vm->vcpus[i].run_size);
		if (vm->vcpus[i].fd >= 0)
			close(vm->vcpus[i].fd);
	}
	free(vm->vcpus);
	free(vm->cpuid);
	free(vm->msr_list);
	for (unsigned i = 0; i < vm->n_disks; i++) {
		virtio_blk_destroy(vm->disks[i]);
		free(vm->disks[i]);
	}
	for (unsigned i = 0; i < VMM_MAX_DISKS; i++)
		if (vm->disk_fds[i] >= 0)
			close(vm->disk_fds[i]);
	if (vm->console) {
		virtio_console_destroy(vm->console);
		free(vm->console);
	}
	if (vm->vm_fd >= 0)
		close(vm->vm_fd);
	if (vm->kvm_fd >= 0)
		close(vm->kvm_fd);
	if (vm->wake_fd >= 0)
		close(vm->wake_fd);
	if (vm->kick_fd >= 0)
		close(vm->kick_fd);
	gm_free(&vm->gm);
	uart_destroy(&vm->uart);
	vm_trace_destroy(&vm->trace);
	werr_free(&vm->err);
	pthread_cond_destroy(&vm->stop_cond);
	pthread_cond_destroy(&vm->pause_cond);
	pthread_mutex_destroy(&vm->lock);
}

static int check_config(const struct vmm_config *cfg, struct werr **err)
{
	if (!cfg->kernel)
		return werr_set(err, EINVAL, "no guest kernel given");
	if (cfg->mem_mib && cfg->mem_mib < VMM_MIN_MEM_MIB)
		return werr_set(err, EINVAL, "guest memory %u MiB is below the minimum of %u MiB",
				cfg->mem_mib, VMM_MIN_MEM_MIB);
	if (cfg->mem_mib > (1u << 20))
		return werr_set(err, EINVAL, "guest memory %u MiB is above 1 TiB", cfg->mem_mib);
	if (cfg->n_vcpus > VMM_MAX_VCPUS)
		return werr_set(err, EINVAL, "%u vCPUs requested, at most %u", cfg->n_vcpus,
				VMM_MAX_VCPUS);
	if (cfg->console_out < 0)
		return werr_set(err, EINVAL, "no console output fd");
	if (cfg->n_disks > VMM_MAX_DISKS)
		return werr_set(err, EINVAL, "%u disks, at most %u", cfg->n_disks, VMM_MAX_DISKS);
	return 0;
}

int vmm_run_result(const struct vmm_config *cfg, struct vmm_result *res, struct werr **err)
{
	struct vm vm = {.kvm_fd = -1, .vm_fd = -1, .wake_fd = -1, .kick_fd = -1, .ck_fd = -1};
	bool restore = cfg->restore_state_fd > 0 && cfg->restore_mem_fd > 0;
	struct sigaction sa = {.sa_handler = kick_handler}, old_sa;
	struct boot_info bi;
	int r;

	r = check_config(cfg, err);
	if (r < 0)
		return r;
	vm.n_vcpus = cfg->n_vcpus ? cfg->n_vcpus : 1;
	vm.console_in = cfg->console_in;
	for (unsigned i = 0; i < VMM_MAX_DISKS; i++)
		vm.disk_fds[i] = -1;
	vm_trace_init(&vm.trace, cfg->trace_fd);
	vm_trace_event(&vm.trace, "vmm start");
	vm_trace_event(&vm.trace, "kernel %s", cfg->kernel);
	pthread_mutex_init(&vm.lock, NULL);
	pthread_cond_init(&vm.stop_cond, NULL);
	pthread_cond_init(&vm.pause_cond, NULL);
	vm.ck_fd = cfg->ck_fd > 0 ? cfg->ck_fd : -1;
	r = add_devices(&vm, cfg, err);
	if (r == 0)
		r = kvm_open(&vm, err);
	if (r == 0)
		r = map_memory(&vm, (uint64_t)(cfg->mem_mib ? cfg->mem_mib : 256) << 20, err);
	if (r == 0)
		r = add_disks(&vm, cfg, err);
	if (r == 0)
		r = add_console(&vm, cfg, err);
	if (r == 0 && !restore)
		r = load_guest(&vm, cfg, &bi, err);
	if (r == 0) {
		if (!restore)
			vm_trace_event(&vm.trace, "guest loaded, cmdline: %s",
				       cfg->cmdline ? cfg->cmdline : VMM_DEFAULT_CMDLINE);
		r = create_vcpus(&vm, restore ? NULL : &bi, err);
	}
	if (r == 0 && vm.ck_fd >= 0)
		r = vm_get_msr_list(&vm, err);
	if (r == 0 && restore)
		r = vm_restore_image(&vm, cfg, err);
	if (r == 0) {
		vm.wake_fd = eventfd(0, EFD_CLOEXEC);
		if (vm.wake_fd < 0)
			r = werr_sys(err, errno, "eventfd");
	}
	if (r == 0 && cfg->seccomp)
		r = vmm_seccomp_install(err);
	if (r < 0) {
		vm_destroy(&vm);
		return r;
	}

	sigemptyset(&sa.sa_mask);
	sigaction(SIGRTMIN, &sa, &old_sa);
	vm_trace_event(&vm.trace, "vcpus start");
	r = start_threads(&vm, err);
	if (r == 0 && restore && cfg->restored)
		cfg->restored(cfg->restored_arg);
	if (r == 0) {
		pthread_mutex_lock(&vm.lock);
		while (!vm.stopping)
			pthread_cond_wait(&vm.stop_cond, &vm.lock);
		pthread_mutex_unlock(&vm.lock);
	}
	stop_threads(&vm);
	sigaction(SIGRTMIN, &old_sa, NULL);
	vm_trace_summary(&vm.trace);

	if (r == 0 && vm.err) {
		r = -vm.err->code;
		if (err && !*err)
			*err = steal_ptr(vm.err);
	}
	if (r == 0 && vm.uart.out_error)
		r = werr_sys(err, vm.uart.out_error, "writing the guest console");
	if (r == 0)
		*res = vm.result;
	vm_destroy(&vm);
	return r;
}

int vmm_run(const struct vmm_config *cfg, int *exit_code, struct werr **err)
{
	struct vmm_result res;
	int r = vmm_run_result(cfg, &res, err);

	if (r < 0)
		return r;
	switch (res.reason) {
	case VMM_STOP_STATUS:
		*exit_code = res.status;
		return 0;
	case VMM_STOP_RESET:
	case VMM_STOP_POWEROFF:
		*exit_code = 0;
		return 0;
	default:
		return werr_set(err, EIO, "the guest stopped abnormally: %s",
				vmm_stop_reason_name(res.reason));
	}
}
