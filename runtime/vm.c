/* VM isolation (runtime/vm.h): planning in `ward create`, the root disk, and the container
 * init's turn into the VMM. */
#include "runtime/vm.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/util.h"
#include "runtime/container.h"
#include "vmm_shim/vmm.h"

#define KVM_MAJOR 10
#define KVM_MINOR 232
/* COMMAND_LINE_SIZE on x86: the bzImage's cmdline_size, NUL included. */
#define CMDLINE_MAX 2048
/* Quiet, and no time spent on checks that a KVM guest does not need: the timer IRQ check,
 * the TSC watchdog, probing three absent UARTs, crypto self-tests. */
#define GUEST_CMDLINE                                                                              \
	VMM_DEFAULT_CMDLINE " quiet loglevel=1 no_timer_check tsc=reliable 8250.nr_uarts=1 "       \
			    "cryptomgr.notests random.trust_cpu=on"

int vm_isolation_wanted(const struct spec *s, bool *vm, struct werr **err)
{
	*vm = false;
	for (size_t i = 0; i < s->n_annotations; i++) {
		const char *v = s->annotations[i].value;

		if (strcmp(s->annotations[i].key, VM_ANNOTATION) != 0)
			continue;
		if (strcmp(v, "vm") == 0)
			*vm = true;
		else if (strcmp(v, "jail") != 0)
			return werr_set(err, EINVAL,
					"config.json: annotations." VM_ANNOTATION
					": \"%s\" is neither \"vm\" nor \"jail\"",
					v);
	}
	return 0;
}

bool vm_state_is_vm(const struct cstate *st)
{
	for (size_t i = 0; i < st->n_annotations; i++)
		if (strcmp(st->annotations[i].key, VM_ANNOTATION) == 0)
			return strcmp(st->annotations[i].value, "vm") == 0;
	return false;
}

void vm_set_annotation(struct spec *s)
{
	for (size_t i = 0; i < s->n_annotations; i++) {
		if (strcmp(s->annotations[i].key, VM_ANNOTATION) == 0) {
			free(s->annotations[i].value);
			s->annotations[i].value = xstrdup("vm");
			return;
		}
	}
	s->annotations = xrealloc(s->annotations, (s->n_annotations + 1) * sizeof(struct kv));
	s->annotations[s->n_annotations++] =
		(struct kv){.key = xstrdup(VM_ANNOTATION), .value = xstrdup("vm")};
}

int vm_guest_mem_mib(const struct cgroup_resources *r, unsigned *mib, struct werr **err)
{
	const unsigned need = VMM_MIN_MEM_MIB + VM_OVERHEAD_MIB;
	int64_t limit = r ? r->memory.limit.v : -1;

	if (!r || !r->memory.limit.set || limit < 0) {
		*mib = VM_DEFAULT_MEM_MIB;
		return 0;
	}
	if ((uint64_t)limit < (uint64_t)need << 20)
		return werr_set(
			err, EINVAL,
			"config.json: linux.resources.memory.limit: %lld bytes is too small "
			"for a micro-VM: it needs at least %u MiB (%u MiB guest RAM + %u MiB "
			"for the VMM)",
			(long long)limit, need, VMM_MIN_MEM_MIB, VM_OVERHEAD_MIB);
	if ((uint64_t)limit >> 20 > (1u << 20) + VM_OVERHEAD_MIB)
		*mib = 1u << 20;
	else
		*mib = (unsigned)((uint64_t)limit >> 20) - VM_OVERHEAD_MIB;
	return 0;
}

unsigned vm_guest_vcpus(const struct cgroup_resources *r)
{
	uint64_t period, n;

	if (!r || !r->cpu.quota.set || r->cpu.quota.v <= 0)
		return 1;
	period = r->cpu.period.set && r->cpu.period.v ? r->cpu.period.v : 100000;
	n = ((uint64_t)r->cpu.quota.v + period - 1) / period;
	if (n < 1)
		n = 1;
	return n > VMM_MAX_VCPUS ? VMM_MAX_VCPUS : (unsigned)n;
}

static bool plain_byte(unsigned char c, bool list)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
		return true;
	if (c == ',')
		return !list;
	return strchr("._/:=+@-", c) != NULL && c != '\0';
}

char *vm_encode(const char *s, bool list)
{
	size_t n = strlen(s);
	char *out = xmalloc(3 * n + 1), *o = out;

	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (plain_byte(c, list))
			*o++ = (char)c;
		else
			o += sprintf(o, "%%%02X", c);
	}
	*o = '\0';
	return out;
}

/* " key=item,item,..." */
static void append_list(char **cl, const char *key, char *const *items)
{
	char *old = *cl;

	*cl = xasprintf("%s %s=", old, key);
	free(old);
	for (size_t i = 0; items && items[i]; i++) {
		_cleanup_free_ char *e = vm_encode(items[i], true);

		old = *cl;
		*cl = xasprintf("%s%s%s", old, i ? "," : "", e);
		free(old);
	}
}

static void append_value(char **cl, const char *key, const char *value)
{
	_cleanup_free_ char *e = vm_encode(value, false);
	char *old = *cl;

	*cl = xasprintf("%s %s=%s", old, key, e);
	free(old);
}

static void append_limit(char **cl, uint64_t v)
{
	char *old = *cl;

	if (v == UINT64_MAX)
		*cl = xasprintf("%sinf", old);
	else
		*cl = xasprintf("%s%llu", old, (unsigned long long)v);
	free(old);
}

/* " ward.rlimits=R:S:H,...": applied by ward-init to the workload in the guest */
static void append_rlimits(char **cl, const struct spec_process *p)
{
	char *old;

	if (!p->n_rlimits)
		return;
	old = *cl;
	*cl = xasprintf("%s ward.rlimits=", old);
	free(old);
	for (size_t i = 0; i < p->n_rlimits; i++) {
		old = *cl;
		*cl = xasprintf("%s%s%d:", old, i ? "," : "", p->rlimits[i].resource);
		free(old);
		append_limit(cl, p->rlimits[i].soft);
		old = *cl;
		*cl = xasprintf("%s:", old);
		free(old);
		append_limit(cl, p->rlimits[i].hard);
	}
}

int vm_guest_cmdline(const struct spec *s, char **out, struct werr **err)
{
	const struct spec_process *p = &s->process;
	char *cl = xstrdup(GUEST_CMDLINE), *old;
	char num[16];

	*out = NULL;
	/* the workload's stdio: the virtio-console ports, not the serial console */
	old = cl;
	cl = xasprintf("%s ward.stdio=ports", old);
	free(old);
	append_list(&cl, "ward.args", p->args);
	if (p->env && p->env[0])
		append_list(&cl, "ward.env", p->env);
	append_value(&cl, "ward.cwd", p->cwd ? p->cwd : "/");
	snprintf(num, sizeof(num), "%u", p->user.uid);
	append_value(&cl, "ward.uid", num);
	snprintf(num, sizeof(num), "%u", p->user.gid);
	append_value(&cl, "ward.gid", num);
	if (s->hostname && s->hostname[0])
		append_value(&cl, "ward.hostname", s->hostname);
	append_rlimits(&cl, p);
	if (strlen(cl) >= CMDLINE_MAX) {
		size_t n = strlen(cl);

		free(cl);
		return werr_set(err, E2BIG,
				"config.json: process.args and process.env take %zu bytes of the "
				"micro-VM guest's kernel command line, which holds %d",
				n, CMDLINE_MAX - 1);
	}
	*out = cl;
	return 0;
}

/* /dev/kvm must be able to run a Linux guest: refuse a missing one and PVM with the reason. */
static int check_kvm(struct werr **err)
{
	_cleanup_close_ int fd = -1;
	struct stat st;
	int v;

	/* WARD_VM_ALLOW_PVM=1: the host lane's tests boot a bare-metal test guest on PVM */
	if (access("/sys/module/kvm_pvm", F_OK) == 0 && !getenv("WARD_VM_ALLOW_PVM"))
		return werr_set(
			err, ENOTSUP,
			"micro-VM: /dev/kvm is PVM (module kvm_pvm is loaded), which emulates "
			"guest kernel code and cannot boot a Linux guest in usable time; VM "
			"isolation needs hardware virtualisation (kvm_intel or kvm_amd; in a "
			"VM, nested virtualisation)");
	if (stat("/dev/kvm", &st) < 0)
		return werr_sys(err, errno,
				"micro-VM: /dev/kvm (VM isolation needs KVM: load kvm_intel or "
				"kvm_amd; in a VM, enable nested virtualisation)");
	if (!S_ISCHR(st.st_mode) || major(st.st_rdev) != KVM_MAJOR ||
	    minor(st.st_rdev) != KVM_MINOR)
		return werr_set(err, ENODEV, "micro-VM: /dev/kvm is not the KVM device (10:232)");
	fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return werr_sys(err, errno, "micro-VM: open /dev/kvm");
	v = ioctl(fd, KVM_GET_API_VERSION, 0);
	if (v != KVM_API_VERSION)
		return werr_set(err, ENOTSUP, "micro-VM: /dev/kvm has API version %d, want %d", v,
				KVM_API_VERSION);
	return 0;
}

static int find_kernel(struct vm_plan *p, struct werr **err)
{
	const char *dir = getenv(VM_KERNEL_DIR_ENV);

	if (!dir || !*dir)
		dir = WARD_VM_DIR;
	/* the uncompressed kernel when there is one: the guest skips its decompressor */
	p->kernel = xasprintf("%s/vmlinux", dir);
	if (access(p->kernel, R_OK) < 0) {
		free(p->kernel);
		p->kernel = xasprintf("%s/vmlinuz", dir);
	}
	p->initrd = xasprintf("%s/initrd.img", dir);
	if (access(p->kernel, R_OK) < 0 || access(p->initrd, R_OK) < 0)
		return werr_sys(
			err, errno,
			"micro-VM: no guest kernel in %s (need vmlinuz and initrd.img): run "
			"`make vm-kernel` as root, or point " VM_KERNEL_DIR_ENV
			" at a directory made by scripts/vm-kernel.sh",
			dir);
	return 0;
}

/* /dev/kvm in the container: the node (linux.devices) and an allow rule after the config's
 * own device rules (the last matching rule wins). */
static void add_kvm_device(struct spec *s)
{
	struct spec_linux *l = &s->linux_;
	struct cgroup_resources *r = &l->resources;
	bool have_node = false;

	for (size_t i = 0; i < l->n_devices; i++)
		have_node |= strcmp(l->devices[i].path, "/dev/kvm") == 0;
	if (!have_node) {
		l->devices = xrealloc(l->devices, (l->n_devices + 1) * sizeof(*l->devices));
		l->devices[l->n_devices++] = (struct device_spec){
			.path = xstrdup("/dev/kvm"),
			.type = 'c',
			.major = KVM_MAJOR,
			.minor = KVM_MINOR,
			.has_file_mode = true,
			.file_mode = 0666,
			.has_uid = true,
			.has_gid = true,
		};
	}
	r->devices = xrealloc(r->devices, (r->n_devices + 1) * sizeof(*r->devices));
	r->devices[r->n_devices++] = (struct cg_device_rule){
		.allow = true,
		.type = 'c',
		.major = {.set = true, .v = KVM_MAJOR},
		.minor = {.set = true, .v = KVM_MINOR},
		.access = xstrdup("rwm"),
	};
	l->has_resources = true;
}

void vm_plan_free(struct vm_plan *p)
{
	if (!p)
		return;
	free(p->kernel);
	free(p->initrd);
	free(p->disk);
	free(p->cmdline);
	free(p->restore_image);
	for (unsigned i = 0; i < p->n_restore_parents; i++)
		free(p->restore_parents[i]);
	free(p);
}

int vm_plan_create(struct spec *s, struct vm_plan **out, struct werr **err)
{
	struct vm_plan *p;
	bool vm;
	int r;

	*out = NULL;
	r = vm_isolation_wanted(s, &vm, err);
	if (r < 0 || !vm)
		return r;
	p = xcalloc(1, sizeof(*p));
	p->kernel_fd = p->initrd_fd = p->disk_fd = p->control_fd = p->ck_fd = -1;
	p->restore_state_fd = p->restore_mem_fd = p->restore_report_fd = -1;
	r = vm_guest_mem_mib(s->linux_.has_resources ? &s->linux_.resources : NULL, &p->mem_mib,
			     err);
	if (r == 0)
		r = vm_guest_cmdline(s, &p->cmdline, err);
	if (r == 0)
		r = find_kernel(p, err);
	if (r == 0)
		r = check_kvm(err);
	if (r < 0) {
		vm_plan_free(p);
		return r;
	}
	p->n_vcpus = vm_guest_vcpus(s->linux_.has_resources ? &s->linux_.resources : NULL);
	add_kvm_device(s);
	*out = p;
	return 0;
}

bool vm_tracing(void)
{
	const char *v = getenv(VM_TRACE_ENV);

	return v && *v && strcmp(v, "0") != 0;
}

/* ---- in the container init ------------------------------------------------------------------ */

int vm_open_files(struct vm_plan *p, int state_dirfd, struct werr **err)
{
	p->control_fd = vm_control_listen(state_dirfd, err);
	if (p->control_fd < 0)
		return p->control_fd;
	p->ck_fd = vm_socket_listen(state_dirfd, VM_CK_SOCKET, err);
	if (p->ck_fd < 0)
		return p->ck_fd;
	if (p->restore_image) {
		_cleanup_free_ char *st = xasprintf("%s/" VM_IMAGE_STATE, p->restore_image);
		_cleanup_free_ char *mem = xasprintf("%s/" VM_IMAGE_MEM, p->restore_image);

		p->restore_state_fd = open(st, O_RDONLY | O_CLOEXEC);
		if (p->restore_state_fd < 0)
			return werr_sys(err, errno, "restore: open %s", st);
		p->restore_mem_fd = open(mem, O_RDONLY | O_CLOEXEC);
		if (p->restore_mem_fd < 0)
			return werr_sys(err, errno, "restore: open %s", mem);
	}
	for (unsigned i = 0; i < p->n_restore_parents; i++) {
		_cleanup_free_ char *st = xasprintf("%s/" VM_IMAGE_STATE, p->restore_parents[i]);
		_cleanup_free_ char *mem = xasprintf("%s/" VM_IMAGE_MEM, p->restore_parents[i]);

		p->restore_parent_state_fds[i] = open(st, O_RDONLY | O_CLOEXEC);
		if (p->restore_parent_state_fds[i] < 0)
			return werr_sys(err, errno, "restore: open %s", st);
		p->restore_parent_mem_fds[i] = open(mem, O_RDONLY | O_CLOEXEC);
		if (p->restore_parent_mem_fds[i] < 0)
			return werr_sys(err, errno, "restore: open %s", mem);
	}
	p->kernel_fd = open(p->kernel, O_RDONLY | O_CLOEXEC);
	if (p->kernel_fd < 0)
		return werr_sys(err, errno, "micro-VM: open %s", p->kernel);
	p->initrd_fd = open(p->initrd, O_RDONLY | O_CLOEXEC);
	if (p->initrd_fd < 0)
		return werr_sys(err, errno, "micro-VM: open %s", p->initrd);
	p->disk_fd = open(p->disk, O_RDONLY | O_CLOEXEC);
	if (p->disk_fd < 0)
		return werr_sys(err, errno, "micro-VM: open %s", p->disk);
	return 0;
}

/* one bit per signal: a TERM and an INT posted between two polls of the guest both arrive */
static _Atomic unsigned pending_signals;

static void post_signal(int sig)
{
	atomic_fetch_or(&pending_signals, 1u << sig);
}

/* Signals a process manager sends to stop or poke a container reach the guest's workload;
 * SIGKILL kills the VMM (and so the guest). */
static void forward_signals(void)
{
	static const int fwd[] = {SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGALRM};
	struct sigaction sa = {.sa_handler = post_signal, .sa_flags = SA_RESTART};

	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < ARRAY_SIZE(fwd); i++)
		sigaction(fwd[i], &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

/* vmm_config.restored: `ward restore` waits for this (runtime/create.c). */
static void report_restored(void *arg)
{
	struct vm_plan *p = arg;

	sync_send(p->restore_report_fd, SYNC_READY, 0, NULL);
	close(p->restore_report_fd);
	p->restore_report_fd = -1;
}

void vm_run(struct vm_plan *p)
{
	_cleanup_werr_ struct werr *err = NULL;
	struct vmm_config cfg = {
		.kernel = p->kernel,
		.kernel_fd = p->kernel_fd,
		.initrd = p->initrd,
		.initrd_fd = p->initrd_fd,
		.cmdline = p->cmdline,
		.mem_mib = p->mem_mib,
		.n_vcpus = p->n_vcpus,
		/* the serial console carries only the guest kernel's and ward-init's own messages
		 * (a panic, a setup failure): to stderr, off the workload's stdout */
		.console_in = -1,
		.console_out = STDERR_FILENO,
		.stdio_ports = true,
		.stdio_fd = {STDIN_FILENO, STDOUT_FILENO, STDERR_FILENO},
		.disks = {{.path = p->disk, .fd = p->disk_fd, .ro = true}},
		.n_disks = 1,
		.pending_signals = &pending_signals,
		.control_fd = p->control_fd,
		.ck_fd = p->ck_fd,
		.restore_state_fd = p->restore_state_fd,
		.restore_mem_fd = p->restore_mem_fd,
		.seccomp = true,
		.trace_fd = vm_tracing() ? STDERR_FILENO : 0,
		.restored = p->restore_report_fd >= 0 ? report_restored : NULL,
		.restored_arg = p,
	};
	struct vmm_result res;

	cfg.n_restore_parents = p->n_restore_parents;
	for (unsigned i = 0; i < p->n_restore_parents; i++) {
		cfg.restore_parent_state_fds[i] = p->restore_parent_state_fds[i];
		cfg.restore_parent_mem_fds[i] = p->restore_parent_mem_fds[i];
	}
	forward_signals();
	if (vmm_run_result(&cfg, &res, &err) < 0) {
		_cleanup_free_ char *msg = xasprintf("micro-VM: %s", err ? err->msg : "failed");

		/* restore still waits: the message is its error (it removes the container) */
		if (p->restore_report_fd < 0 ||
		    sync_send(p->restore_report_fd, SYNC_ERROR, 0, msg) < 0)
			fprintf(stderr, "ward: %s\n", msg);
		_exit(1);
	}
	if (res.reason == VMM_STOP_STATUS)
		_exit(res.status);
	if (res.reason == VMM_STOP_CHECKPOINT)
		_exit(0); /* `ward checkpoint` deletes the container */
	fprintf(stderr,
		"ward: micro-VM: the guest stopped (%s) without reporting the workload's exit "
		"status%s\n",
		vmm_stop_reason_name(res.reason),
		res.reason == VMM_STOP_RESET ? " (a guest kernel panic reboots it)" : "");
	_exit(1);
}
