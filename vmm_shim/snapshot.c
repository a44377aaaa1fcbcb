/* Checkpoint and restore of the running VM: the checkpoint thread that serves requests on
 * vmm_config.ck_fd, pausing the vCPUs (each leaves KVM_RUN through immediate_exit, so any I/O it
 * was completing is complete, then parks), saving the KVM and device state (snapshot.h) and
 * guest memory, and restore mode, which loads them into a freshly created VM of the same
 * layout in the order the KVM API needs (VM-wide clock, irqchip and PIT first; per vCPU the MP
 * state, registers, special registers before the LAPIC, MSRs, and the pending events last). */
#include "vmm_shim/snapshot.h"

#include <cpuid.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lib/util.h"
#include "vmm_shim/vm_internal.h"

#define PAGE 4096

int vm_get_msr_list(struct vm *vm, struct werr **err)
{
	struct kvm_msr_list probe = {.nmsrs = 0};
	struct kvm_msr_list *l;

	if (ioctl(vm->kvm_fd, KVM_GET_MSR_INDEX_LIST, &probe) < 0 && errno != E2BIG)
		return werr_sys(err, errno, "KVM_GET_MSR_INDEX_LIST");
	if (probe.nmsrs > VMM_SNAP_MAX_MSRS)
		probe.nmsrs = VMM_SNAP_MAX_MSRS;
	l = xcalloc(1, sizeof(*l) + probe.nmsrs * sizeof(l->indices[0]));
	l->nmsrs = probe.nmsrs;
	if (ioctl(vm->kvm_fd, KVM_GET_MSR_INDEX_LIST, l) < 0 && errno != E2BIG) {
		free(l);
		return werr_sys(err, errno, "KVM_GET_MSR_INDEX_LIST");
	}
	vm->msr_list = l;
	return 0;
}

/* ---- pause ------------------------------------------------------------------------------ */

void vm_vcpu_park(struct vcpu *c)
{
	struct vm *vm = c->vm;

	pthread_mutex_lock(&vm->lock);
	c->parked = true;
	pthread_cond_broadcast(&vm->pause_cond);
	while (vm->pause && !vm->stopping)
		pthread_cond_wait(&vm->pause_cond, &vm->lock);
	c->parked = false;
	c->run->immediate_exit = 0;
	pthread_mutex_unlock(&vm->lock);
}

static bool all_parked(struct vm *vm)
{
	for (unsigned i = 0; i < vm->n_vcpus; i++)
		if (vm->vcpus[i].started && !vm->vcpus[i].parked)
			return false;
	return true;
}

/* false when the VM stopped meanwhile */
static bool vm_pause(struct vm *vm)
{
	bool ok;

	pthread_mutex_lock(&vm->lock);
	vm->pause = true;
	pthread_mutex_unlock(&vm->lock);
	for (unsigned i = 0; i < vm->n_vcpus; i++) {
		struct vcpu *c = &vm->vcpus[i];

		if (!c->started)
			continue;
		c->run->immediate_exit = 1;
		pthread_kill(c->thread, SIGRTMIN);
	}
	pthread_mutex_lock(&vm->lock);
	while (!all_parked(vm) && !vm->stopping)
		pthread_cond_wait(&vm->pause_cond, &vm->lock);
	ok = !vm->stopping;
	pthread_mutex_unlock(&vm->lock);
	return ok;
}

static void vm_resume(struct vm *vm)
{
	pthread_mutex_lock(&vm->lock);
	vm->pause = false;
	pthread_cond_broadcast(&vm->pause_cond);
	pthread_mutex_unlock(&vm->lock);
}

/* ---- save ------------------------------------------------------------------------------- */

static int get_msrs(struct vm *vm, struct vcpu *c, struct vmm_snap_vcpu *s, struct werr **err)
{
	unsigned n = vm->msr_list ? vm->msr_list->nmsrs : 0, done = 0;
	_cleanup_free_ struct kvm_msrs *m =
		xcalloc(1, sizeof(*m) + (n ? n : 1) * sizeof(struct kvm_msr_entry));

	/* KVM_GET_MSRS stops at the first MSR it cannot read (listed ones the CPU model does not
	 * have): go on after it */
	s->n_msrs = 0;
	while (done < n) {
		int got;

		m->nmsrs = n - done;
		for (unsigned i = 0; i < m->nmsrs; i++)
			m->entries[i] =
				(struct kvm_msr_entry){.index = vm->msr_list->indices[done + i]};
		got = ioctl(c->fd, KVM_GET_MSRS, m);
		if (got < 0)
			return werr_sys(err, errno, "KVM_GET_MSRS (vCPU %u)", c->id);
		for (int i = 0; i < got; i++)
			s->msrs[s->n_msrs++] = m->entries[i];
		done += (unsigned)got + 1; /* skip the one that failed */
	}
	return 0;
}

#define GET(fd, req, p, what, id)                                                                  \
	(ioctl(fd, req, p) < 0 ? werr_sys(err, errno, what " (vCPU %u)", id) : 0)

static int save_vcpu(struct vm *vm, struct vcpu *c, struct vmm_snap_vcpu *s, struct werr **err)
{
	int r = GET(c->fd, KVM_GET_MP_STATE, &s->mp_state, "KVM_GET_MP_STATE", c->id);

	if (r == 0)
		r = GET(c->fd, KVM_GET_REGS, &s->regs, "KVM_GET_REGS", c->id);
	if (r == 0)
		r = GET(c->fd, KVM_GET_SREGS, &s->sregs, "KVM_GET_SREGS", c->id);
	if (r == 0)
		r = GET(c->fd, KVM_GET_XSAVE, &s->xsave, "KVM_GET_XSAVE", c->id);
	if (r == 0)
		r = GET(c->fd, KVM_GET_XCRS, &s->xcrs, "KVM_GET_XCRS", c->id);
	if (r == 0)
		r = GET(c->fd, KVM_GET_DEBUGREGS, &s->debugregs, "KVM_GET_DEBUGREGS", c->id);
	if (r == 0)
		r = GET(c->fd, KVM_GET_LAPIC, &s->lapic, "KVM_GET_LAPIC", c->id);
	if (r == 0)
		r = get_msrs(vm, c, s, err);
	if (r == 0)
		r = GET(c->fd, KVM_GET_VCPU_EVENTS, &s->events, "KVM_GET_VCPU_EVENTS", c->id);
	return r;
}

static int save_vm_state(struct vm *vm, struct vmm_snap *s, struct werr **err)
{
	s->pic_master.chip_id = KVM_IRQCHIP_PIC_MASTER;
	s->pic_slave.chip_id = KVM_IRQCHIP_PIC_SLAVE;
	s->ioapic.chip_id = KVM_IRQCHIP_IOAPIC;
	if (ioctl(vm->vm_fd, KVM_GET_IRQCHIP, &s->pic_master) < 0 ||
	    ioctl(vm->vm_fd, KVM_GET_IRQCHIP, &s->pic_slave) < 0 ||
	    ioctl(vm->vm_fd, KVM_GET_IRQCHIP, &s->ioapic) < 0)
		return werr_sys(err, errno, "KVM_GET_IRQCHIP");
	if (ioctl(vm->vm_fd, KVM_GET_PIT2, &s->pit) < 0)
		return werr_sys(err, errno, "KVM_GET_PIT2");
	if (ioctl(vm->vm_fd, KVM_GET_CLOCK, &s->clock) < 0)
		return werr_sys(err, errno, "KVM_GET_CLOCK");
	return 0;
}

static void save_small_devices(struct vm *vm, struct vmm_snap *s)
{
	uart_save(&vm->uart, s);
	s->i8042.ctr = vm->kbd.ctr;
	s->i8042.out = vm->kbd.out;
	s->i8042.out_full = vm->kbd.out_full;
	s->i8042.pending_cmd = vm->kbd.pending_cmd;
	s->cmos.index = vm->cmos.index;
	memcpy(s->cmos.ram, vm->cmos.ram, sizeof(s->cmos.ram));
	memcpy(s->acpi_pm_en, vm->acpi_pm.en, sizeof(s->acpi_pm_en));
}

static bool page_is_zero(const uint8_t *p)
{
	const uint64_t *w = (const uint64_t *)p;

	for (size_t i = 0; i < PAGE / sizeof(*w); i++)
		if (w[i])
			return false;
	return true;
}

static void add_range(struct vmm_snap *s, uint64_t off, uint64_t len)
{
	if (s->n_ranges && s->ranges[s->n_ranges - 1].off + s->ranges[s->n_ranges - 1].len == off) {
		s->ranges[s->n_ranges - 1].len += len;
		return;
	}
	s->ranges = xrealloc(s->ranges, (s->n_ranges + 1) * sizeof(*s->ranges));
	s->ranges[s->n_ranges++] = (struct vmm_snap_range){.off = off, .len = len};
}

static bool bit_set(const uint64_t *bm, uint64_t page)
{
	return bm[page / 64] >> (page % 64) & 1;
}

/* Whether the page at RAM offset off goes into the image: in a child image (only != NULL)
 * each page written since the parent, zero or not; otherwise the non-zero ones. */
static bool page_saved(const uint8_t *host, uint64_t off, const uint64_t *only)
{
	return only ? bit_set(only, off / PAGE) : !page_is_zero(host);
}

/* The selected pages of guest RAM (the regions one after the other), back to back in the file;
 * s->ranges says where each run belongs. */
static int save_memory(struct vm *vm, struct vmm_snap *s, int fd, const uint64_t *only,
		       uint64_t *written, struct werr **err)
{
	uint64_t base = 0;

	*written = 0;
	for (unsigned i = 0; i < vm->gm.n; i++) {
		const struct gm_region *g = &vm->gm.r[i];

		for (uint64_t p = 0; p < g->size; p += PAGE) {
			uint64_t run = 0;

			while (p + run < g->size &&
			       page_saved(g->host + p + run, base + p + run, only) &&
			       run < (1u << 24))
				run += PAGE;
			if (!run)
				continue;
			for (uint64_t done = 0; done < run;) {
				ssize_t n = pwrite(fd, g->host + p + done, run - done,
						   (off_t)(*written + done));

				if (n < 0 && errno == EINTR)
					continue;
				if (n <= 0)
					return werr_sys(err, n < 0 ? errno : EIO,
							"write the guest memory file");
				done += (uint64_t)n;
			}
			add_range(s, base + p, run);
			*written += run;
			p += run - PAGE;
		}
		base += g->size;
	}
	return 0;
}

static uint64_t mem_total(const struct vm *vm)
{
	uint64_t t = 0;

	for (unsigned i = 0; i < vm->gm.n; i++)
		t += vm->gm.r[i].size;
	return t;
}

/* The memory file: all non-zero pages, or (a child image, dirty != NULL) the pages written since
 * the parent, collected here, where no device writes into guest memory any more. */
static int save_memory_now(struct vm *vm, struct vmm_snap *s, int mem_fd, uint64_t *dirty,
			   uint64_t *written, struct werr **err)
{
	int r = dirty ? vm_dirty_collect(vm, dirty, err) : 0;

	return r < 0 ? r : save_memory(vm, s, mem_fd, dirty, written, err);
}

/* With the vCPUs parked: everything into s and, unless mem_fd < 0, the memory file (see
 * save_memory_now). */
static int snapshot(struct vm *vm, struct vmm_snap *s, int mem_fd, uint64_t *dirty,
		    uint64_t *written, struct werr **err)
{
	int r = 0;

	s->version = VMM_SNAP_VERSION;
	s->mem_bytes = mem_total(vm);
	s->n_vcpus = vm->n_vcpus;
	s->vcpus = xcalloc(vm->n_vcpus, sizeof(*s->vcpus));
	for (unsigned i = 0; i < vm->n_vcpus && r == 0; i++)
		r = save_vcpu(vm, &vm->vcpus[i], &s->vcpus[i], err);
	if (r == 0)
		r = save_vm_state(vm, s, err);
	if (r < 0)
		return r;
	save_small_devices(vm, s);
	s->n_disks = vm->n_disks;
	for (unsigned i = 0; i < vm->n_disks; i++) {
		pthread_mutex_lock(&vm->disks[i]->t.lock);
		virtio_mmio_save(&vm->disks[i]->t, &s->disks[i]);
		pthread_mutex_unlock(&vm->disks[i]->t.lock);
	}
	if (mem_fd < 0 && vm->console) {
		s->has_console = true;
		return virtio_console_save(vm->console, s, err);
	}
	if (mem_fd < 0)
		return 0;
	if (!vm->console)
		return save_memory_now(vm, s, mem_fd, dirty, written, err);
	/* the relay may put input into guest memory: the console's lock keeps it out while
	 * memory and the console's queues are saved together */
	s->has_console = true;
	r = virtio_console_save(vm->console, s, err);
	if (r == 0) {
		pthread_mutex_lock(&vm->console->t.lock);
		r = save_memory_now(vm, s, mem_fd, dirty, written, err);
		pthread_mutex_unlock(&vm->console->t.lock);
	}
	return r;
}

/* Refusals that leave the VM as it was. */
static int check_can_save(struct vm *vm, struct werr **err)
{
	if (vm->console && vm->console->n_ports > RELAY_PORT_CTL) {
		bool open;

		pthread_mutex_lock(&vm->console->t.lock);
		open = vm->console->port[RELAY_PORT_CTL].host_open;
		pthread_mutex_unlock(&vm->console->t.lock);
		if (open)
			return werr_set(
				err, EBUSY,
				"a `ward exec` session is open in the guest (its connection "
				"cannot be saved): checkpoint once it has ended");
	}
	return 0;
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* A child image's pages lie over its parent: the parent must be this VM's latest pre-copy
 * image, every write since then tracked. */
static int check_parent(struct vm *vm, const struct vmm_ck_request *req, struct werr **err)
{
	if (req->parent_mem_bytes != mem_total(vm))
		return werr_set(err, EINVAL,
				"the parent image has %llu MiB of guest RAM, this VM %llu MiB",
				(unsigned long long)(req->parent_mem_bytes >> 20),
				(unsigned long long)(mem_total(vm) >> 20));
	if (!vm->dirty_log || !req->parent_token || req->parent_token != vm->ck_token)
		return werr_set(err, EINVAL,
				"the parent image (token 0x%llx) is not this VM's latest pre-copy "
				"image: the writes since it are not tracked (take a --pre-dump "
				"first, and give the latest image as the parent)",
				(unsigned long long)req->parent_token);
	return 0;
}

static uint64_t new_token(uint64_t prev)
{
	struct timespec ts;
	uint64_t t;

	clock_gettime(CLOCK_REALTIME, &ts);
	t = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
	return t > prev ? t : prev + 1;
}

static int write_state(int fd, const struct vmm_snap *s, struct werr **err)
{
	_cleanup_free_ char *json = vmm_snap_to_json(s);

	if (write_all(fd, json, strlen(json)) < 0)
		return werr_sys(err, errno, "write the VM state file");
	return 0;
}

/* A full image, or (VMM_CK_PARENT) the pages written since the parent. With VMM_CK_TRACK
 * (pre-dump) the vCPUs are paused only to turn on or read the dirty log and take the vCPU and
 * device state; the memory is read while they run on: a page written meanwhile is in the next
 * round's log, and the image is only ever a parent (pre_dump). Otherwise all is taken paused. */
static int checkpoint(struct vm *vm, int state_fd, int mem_fd, const struct vmm_ck_request *req,
		      struct vmm_ck_reply *rep, struct werr **err)
{
	bool track = req->flags & VMM_CK_TRACK, child = req->flags & VMM_CK_PARENT;
	_cleanup_free_ uint64_t *dirty = NULL;
	struct vmm_snap s = {0};
	double t0;
	int r;

	r = check_can_save(vm, err);
	if (r == 0 && child)
		r = check_parent(vm, req, err);
	if (r < 0)
		return r;
	t0 = now_ms();
	if (!vm_pause(vm)) {
		vm_resume(vm);
		return werr_set(err, ESRCH, "the VM stopped before it could be paused");
	}
	/* what the workload wrote goes out before the image is taken: it is not in the image */
	if (vm->console && vm->relay.stdio) {
		virtio_console_flush(vm->console, RELAY_PORT_STDOUT);
		virtio_console_flush(vm->console, RELAY_PORT_STDERR);
	}
	if (track || child)
		dirty = xcalloc(vm->gm.dirty_words + 1, sizeof(uint64_t));
	/* a pre-dump reads the log now and memory once the vCPUs run (writes from here on are in
	 * the next round); a final child image collects as it saves memory (snapshot) */
	if (track && (child || vm->dirty_log))
		r = vm_dirty_collect(vm, dirty, err);
	else if (track)
		r = vm_dirty_log_start(vm, err);
	if (r == 0) {
		s.token = track || child ? new_token(vm->ck_token) : 0;
		s.parent_token = child ? req->parent_token : 0;
		s.pre_dump = track;
		r = snapshot(vm, &s, track ? -1 : mem_fd, track ? NULL : dirty, &rep->mem_bytes,
			     err);
	}
	rep->paused_ms = (uint32_t)(now_ms() - t0);
	/* stopped before the vCPUs run again: the guest does nothing the image does not have */
	if (r == 0 && !track && !(req->flags & VMM_CK_LEAVE_RUNNING))
		vm_stop(vm, VMM_STOP_CHECKPOINT, 0);
	vm_resume(vm);
	if (r == 0 && track)
		r = save_memory(vm, &s, mem_fd, child ? dirty : NULL, &rep->mem_bytes, err);
	if (r == 0)
		r = write_state(state_fd, &s, err);
	if (r == 0 && s.token) {
		vm->ck_token = s.token;
		rep->token = s.token;
	} else if (r < 0 && dirty) {
		vm_dirty_put_back(vm, dirty); /* the parent asked for stays a valid parent */
	}
	vmm_snap_free(&s);
	return r;
}

/* One request: the header with the state and memory fds. */
static void serve(struct vm *vm, int conn)
{
	struct vmm_ck_request req = {0};
	struct vmm_ck_reply rep = {.magic = VMM_CK_MAGIC};
	char cbuf[CMSG_SPACE(2 * sizeof(int))];
	struct iovec iov = {.iov_base = &req, .iov_len = sizeof(req)};
	struct msghdr mh = {.msg_iov = &iov,
			    .msg_iovlen = 1,
			    .msg_control = cbuf,
			    .msg_controllen = sizeof(cbuf)};
	struct werr *err = NULL;
	int fds[2] = {-1, -1};
	ssize_t n;

	n = recvmsg(conn, &mh, MSG_CMSG_CLOEXEC);
	for (struct cmsghdr *cm = n > 0 ? CMSG_FIRSTHDR(&mh) : NULL; cm; cm = CMSG_NXTHDR(&mh, cm))
		if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS &&
		    cm->cmsg_len == CMSG_LEN(2 * sizeof(int)))
			memcpy(fds, CMSG_DATA(cm), sizeof(fds));
	if (n != (ssize_t)sizeof(req) || req.magic != VMM_CK_MAGIC || fds[0] < 0 || fds[1] < 0)
		werr_set(&err, EPROTO, "bad checkpoint request");
	else
		checkpoint(vm, fds[0], fds[1], &req, &rep, &err);
	if (err) {
		rep.status = err->code > 0 ? err->code : EIO;
		snprintf(rep.msg, sizeof(rep.msg), "%s", err->msg);
		werr_free(&err);
	}
	(void)!write_all(conn, &rep, sizeof(rep));
	if (fds[0] >= 0)
		close(fds[0]);
	if (fds[1] >= 0)
		close(fds[1]);
}

void *vm_ck_thread(void *arg)
{
	struct vm *vm = arg;

	for (;;) {
		struct pollfd p[2] = {{.fd = vm->wake_fd, .events = POLLIN},
				      {.fd = vm->ck_fd, .events = POLLIN}};
		int conn;

		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (p[0].revents)
			break;
		if (!p[1].revents)
			continue;
		conn = accept4(vm->ck_fd, NULL, NULL, SOCK_CLOEXEC);
		if (conn < 0)
			continue;
		serve(vm, conn);
		close(conn);
	}
	return NULL;
}

/* ---- restore ---------------------------------------------------------------------------- */

static int read_state(int fd, char **text, size_t *len, struct werr **err)
{
	struct stat st;
	size_t done = 0;
	char *buf;

	if (fstat(fd, &st) < 0)
		return werr_sys(err, errno, "the VM state file");
	if (!S_ISREG(st.st_mode) || st.st_size <= 0 || st.st_size > (64 << 20))
		return werr_set(err, EINVAL,
				"the VM state file is not a regular file of 1 B..64 MiB");
	buf = xmalloc((size_t)st.st_size + 1);
	while (done < (size_t)st.st_size) {
		ssize_t n = pread(fd, buf + done, (size_t)st.st_size - done, (off_t)done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			free(buf);
			return werr_sys(err, n < 0 ? errno : EIO, "read the VM state file");
		}
		done += (size_t)n;
	}
	buf[done] = '\0';
	*text = buf;
	*len = done;
	return 0;
}

/* Host address of RAM offset off (the regions one after the other) for len bytes, or NULL
 * when the range is not inside one region. */
static uint8_t *ram_at(struct vm *vm, uint64_t off, uint64_t len)
{
	for (unsigned i = 0; i < vm->gm.n; i++) {
		const struct gm_region *g = &vm->gm.r[i];

		if (off < g->size)
			return len <= g->size - off ? g->host + off : NULL;
		off -= g->size;
	}
	return NULL;
}

/* Each saved range into its place; the rest stays the fresh mapping's untouched zero pages. */
static int load_memory(struct vm *vm, const struct vmm_snap *s, int fd, struct werr **err)
{
	struct stat st;
	uint64_t pos = 0;

	if (fstat(fd, &st) < 0)
		return werr_sys(err, errno, "the guest memory file");
	for (size_t i = 0; i < s->n_ranges; i++)
		pos += s->ranges[i].len;
	if ((uint64_t)st.st_size != pos)
		return werr_set(err, EINVAL,
				"the guest memory file has %lld bytes, vm.json's ranges %llu",
				(long long)st.st_size, (unsigned long long)pos);
	pos = 0;
	for (size_t i = 0; i < s->n_ranges; i++) {
		const struct vmm_snap_range *m = &s->ranges[i];
		uint8_t *dst = ram_at(vm, m->off, m->len);
		uint64_t done = 0;

		if (!dst) /* a run never crosses a region: the writer starts one per region */
			return werr_set(err, EINVAL, "vm.json: memory[%zu] crosses a RAM region",
					i);
		while (done < m->len) {
			ssize_t n = pread(fd, dst + done, m->len - done, (off_t)(pos + done));

			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0)
				return werr_sys(err, n < 0 ? errno : EIO,
						"read the guest memory file");
			done += (uint64_t)n;
		}
		pos += m->len;
	}
	return 0;
}

/* KVM_SET_MSRS stops at the first MSR it refuses. One the host does not let userspace write
 * (listed by KVM_GET_MSR_INDEX_LIST, readable, but e.g. fixed by the host's CPU model) is
 * skipped when the fresh vCPU already has the saved value; any other refusal is an error
 * naming the MSR. */
static int set_msrs(struct vcpu *c, const struct vmm_snap_vcpu *s, struct werr **err)
{
	_cleanup_free_ struct kvm_msrs *m =
		xcalloc(1, sizeof(*m) + (s->n_msrs ? s->n_msrs : 1) * sizeof(struct kvm_msr_entry));
	unsigned done = 0;

	while (done < s->n_msrs) {
		struct {
			struct kvm_msrs h;
			struct kvm_msr_entry e;
		} one = {.h.nmsrs = 1};
		int n;

		m->nmsrs = s->n_msrs - done;
		memcpy(m->entries, s->msrs + done, m->nmsrs * sizeof(s->msrs[0]));
		n = ioctl(c->fd, KVM_SET_MSRS, m);
		if (n < 0)
			return werr_sys(err, errno, "KVM_SET_MSRS (vCPU %u)", c->id);
		done += (unsigned)n;
		if (done == s->n_msrs)
			break;
		one.e.index = s->msrs[done].index;
		if (ioctl(c->fd, KVM_GET_MSRS, &one) != 1 || one.e.data != s->msrs[done].data)
			return werr_set(err, EINVAL,
					"KVM_SET_MSRS (vCPU %u): MSR 0x%x = 0x%llx refused (this "
					"host's value: 0x%llx)",
					c->id, s->msrs[done].index,
					(unsigned long long)s->msrs[done].data,
					(unsigned long long)one.e.data);
		done++;
	}
	return 0;
}

/* AMD's VMSAVE stores the task register with the type it was loaded with, a 64-bit TSS
 * "available" (9); KVM_GET_SREGS on SVM reports it busy (11), as VMX needs it. Written back
 * busy, an SVM implementation that checks the cached type (QEMU's, which the VM lane's nested
 * KVM runs on) fails every I/O permission check of the guest's user mode with #GP (ward-init's
 * status port: SIGSEGV in PID 1, a panic). On AMD hosts the type goes back as VMSAVE had it. */
static bool host_is_amd(void)
{
	unsigned a, b, c, d;

	__cpuid(0, a, b, c, d);
	(void)a;
	/* "AuthenticAMD", "HygonGenuine": ebx holds the first four characters */
	return b == 0x68747541u || b == 0x6f677948u;
}

#define SET(fd, req, p, what, id)                                                                  \
	(ioctl(fd, req, p) < 0 ? werr_sys(err, errno, what " (vCPU %u)", id) : 0)

static int load_vcpu(struct vcpu *c, const struct vmm_snap_vcpu *s, struct werr **err)
{
	struct kvm_sregs sregs = s->sregs;
	int r = SET(c->fd, KVM_SET_MP_STATE, &s->mp_state, "KVM_SET_MP_STATE", c->id);

	if (host_is_amd() && sregs.tr.type == 11)
		sregs.tr.type = 9;
	if (r == 0)
		r = SET(c->fd, KVM_SET_REGS, &s->regs, "KVM_SET_REGS", c->id);
	if (r == 0)
		r = SET(c->fd, KVM_SET_SREGS, &sregs, "KVM_SET_SREGS", c->id);
	if (r == 0)
		r = SET(c->fd, KVM_SET_XSAVE, &s->xsave, "KVM_SET_XSAVE", c->id);
	if (r == 0)
		r = SET(c->fd, KVM_SET_XCRS, &s->xcrs, "KVM_SET_XCRS", c->id);
	if (r == 0)
		r = SET(c->fd, KVM_SET_DEBUGREGS, &s->debugregs, "KVM_SET_DEBUGREGS", c->id);
	/* after SREGS: the APIC base MSR there decides the LAPIC's mode */
	if (r == 0)
		r = SET(c->fd, KVM_SET_LAPIC, &s->lapic, "KVM_SET_LAPIC", c->id);
	if (r == 0)
		r = set_msrs(c, s, err);
	/* last: pending exceptions and interrupts are delivered on the state set above */
	if (r == 0)
		r = SET(c->fd, KVM_SET_VCPU_EVENTS, &s->events, "KVM_SET_VCPU_EVENTS", c->id);
	return r;
}

static int load_vm_state(struct vm *vm, const struct vmm_snap *s, struct werr **err)
{
	struct kvm_clock_data clock = {.clock = s->clock.clock};

	if (ioctl(vm->vm_fd, KVM_SET_CLOCK, &clock) < 0)
		return werr_sys(err, errno, "KVM_SET_CLOCK");
	if (ioctl(vm->vm_fd, KVM_SET_IRQCHIP, &s->pic_master) < 0 ||
	    ioctl(vm->vm_fd, KVM_SET_IRQCHIP, &s->pic_slave) < 0 ||
	    ioctl(vm->vm_fd, KVM_SET_IRQCHIP, &s->ioapic) < 0)
		return werr_sys(err, errno, "KVM_SET_IRQCHIP");
	if (ioctl(vm->vm_fd, KVM_SET_PIT2, &s->pit) < 0)
		return werr_sys(err, errno, "KVM_SET_PIT2");
	return 0;
}

static int check_layout(struct vm *vm, const struct vmm_snap *s, struct werr **err)
{
	if (s->n_vcpus != vm->n_vcpus)
		return werr_set(err, EINVAL, "the image has %u vCPUs, this VM %u", s->n_vcpus,
				vm->n_vcpus);
	if (s->mem_bytes != mem_total(vm))
		return werr_set(err, EINVAL,
				"the image has %llu MiB of guest RAM, this VM %llu MiB",
				(unsigned long long)(s->mem_bytes >> 20),
				(unsigned long long)(mem_total(vm) >> 20));
	if (s->n_disks != vm->n_disks)
		return werr_set(err, EINVAL, "the image has %u disks, this VM %u", s->n_disks,
				vm->n_disks);
	if (s->has_console != (vm->console != NULL))
		return werr_set(err, EINVAL, "the image %s a virtio-console, this VM %s",
				s->has_console ? "has" : "has no",
				vm->console ? "has" : "has none");
	if (s->pic_master.chip_id != KVM_IRQCHIP_PIC_MASTER ||
	    s->pic_slave.chip_id != KVM_IRQCHIP_PIC_SLAVE ||
	    s->ioapic.chip_id != KVM_IRQCHIP_IOAPIC)
		return werr_set(err, EINVAL,
				"vm.json: the irqchip states are not PIC master, PIC "
				"slave and IOAPIC");
	return 0;
}

static int read_snap(int fd, struct vmm_snap *s, struct werr **err)
{
	_cleanup_free_ char *text = NULL;
	size_t len = 0;
	int r = read_state(fd, &text, &len, err);

	return r < 0 ? r : vmm_snap_from_json(text, len, s, err);
}

/* A pre-copy chain's memory, oldest image first, each newer one's pages over it; every link
 * checked (vmm_snap_check_parent). */
static int load_parents(struct vm *vm, const struct vmm_config *cfg, const struct vmm_snap *top,
			struct werr **err)
{
	unsigned n = cfg->n_restore_parents;
	_cleanup_free_ struct vmm_snap *ps = xcalloc(n + 1, sizeof(*ps));
	int r = 0;

	if (n > VMM_MAX_CHAIN)
		return werr_set(err, EINVAL, "more than %d parent images", VMM_MAX_CHAIN);
	for (unsigned i = 0; i < n && r == 0; i++) {
		char child[32], parent[32];

		snprintf(child, sizeof(child), i ? "parent image %u" : "the image", i);
		snprintf(parent, sizeof(parent), "parent image %u", i + 1);
		r = read_snap(cfg->restore_parent_state_fds[i], &ps[i], err);
		if (r == 0)
			r = vmm_snap_check_parent(i ? &ps[i - 1] : top, child, &ps[i], parent, err);
	}
	if (r == 0 && (n ? ps[n - 1].parent_token : top->parent_token))
		r = werr_set(err, EINVAL,
			     "the oldest image of the chain names a parent of its own");
	for (unsigned i = n; i-- > 0 && r == 0;)
		r = load_memory(vm, &ps[i], cfg->restore_parent_mem_fds[i], err);
	for (unsigned i = 0; i < n; i++)
		vmm_snap_free(&ps[i]);
	return r;
}

int vm_restore_image(struct vm *vm, const struct vmm_config *cfg, struct werr **err)
{
	struct vmm_snap s;
	int r;

	r = read_snap(cfg->restore_state_fd, &s, err);
	if (r < 0)
		return werr_wrap(err, "restoring the VM");
	if (s.pre_dump) {
		vmm_snap_free(&s);
		return werr_set(err, EINVAL,
				"restoring the VM: the image is a pre-dump (its memory was read "
				"while the guest ran): restore the checkpoint taken after it with "
				"--parent-path");
	}
	r = check_layout(vm, &s, err);
	if (r == 0)
		r = load_parents(vm, cfg, &s, err);
	if (r == 0)
		r = load_memory(vm, &s, cfg->restore_mem_fd, err);
	if (r == 0)
		r = load_vm_state(vm, &s, err);
	for (unsigned i = 0; i < vm->n_vcpus && r == 0; i++)
		r = load_vcpu(&vm->vcpus[i], &s.vcpus[i], err);
	if (r == 0) {
		uart_load(&vm->uart, &s);
		vm->kbd.ctr = s.i8042.ctr;
		vm->kbd.out = s.i8042.out;
		vm->kbd.out_full = s.i8042.out_full;
		vm->kbd.pending_cmd = s.i8042.pending_cmd;
		vm->cmos.index = s.cmos.index & 0x7f;
		memcpy(vm->cmos.ram, s.cmos.ram, sizeof(vm->cmos.ram));
		memcpy(vm->acpi_pm.en, s.acpi_pm_en, sizeof(vm->acpi_pm.en));
	}
	for (unsigned i = 0; i < vm->n_disks && r == 0; i++) {
		char name[32];

		snprintf(name, sizeof(name), "disks[%u].virtio", i);
		pthread_mutex_lock(&vm->disks[i]->t.lock);
		r = virtio_mmio_load(&vm->disks[i]->t, &s.disks[i], name, err);
		pthread_mutex_unlock(&vm->disks[i]->t.lock);
	}
	if (r == 0 && vm->console)
		r = virtio_console_load(vm->console, &s, err);
	vmm_snap_free(&s);
	return r < 0 ? werr_wrap(err, "restoring the VM") : 0;
}
