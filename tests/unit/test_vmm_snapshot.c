/* A micro-VM checkpoint's vm.json (vmm_shim/snapshot.h): every field survives a write/read round
 * trip, another version and malformed fields are refused with the field named, and a VM image
 * whose files do not match the inventory's sums is refused. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "checkpoint/inventory.h"
#include "checkpoint/sum.h"
#include "lib/util.h"
#include "vmm_shim/snapshot.h"

/* Every byte of the state gets a value that depends on its position (so a field swapped or
 * left out shows), within the ranges the reader accepts. */
static void fill(void *p, size_t len, unsigned seed)
{
	uint8_t *b = p;

	for (size_t i = 0; i < len; i++)
		b[i] = (uint8_t)(i * 31 + seed);
}

static void sample(struct vmm_snap *s)
{
	memset(s, 0, sizeof(*s));
	s->version = VMM_SNAP_VERSION;
	s->mem_bytes = 0x10000000ull;
	s->n_ranges = 2;
	s->ranges = xcalloc(2, sizeof(*s->ranges));
	s->ranges[0] = (struct vmm_snap_range){.off = 0, .len = 0x1000};
	s->ranges[1] = (struct vmm_snap_range){.off = 0x200000, .len = 0xfe00000};
	s->n_vcpus = 2;
	s->vcpus = xcalloc(2, sizeof(*s->vcpus));
	for (unsigned i = 0; i < 2; i++) {
		struct vmm_snap_vcpu *c = &s->vcpus[i];

		fill(&c->regs, sizeof(c->regs), 1 + i);
		fill(&c->sregs, sizeof(c->sregs), 2 + i);
		fill(&c->xsave, sizeof(c->xsave), 3 + i);
		fill(&c->xcrs, sizeof(c->xcrs), 4 + i);
		fill(&c->lapic, sizeof(c->lapic), 5 + i);
		fill(&c->events, sizeof(c->events), 6 + i);
		fill(&c->mp_state, sizeof(c->mp_state), 7 + i);
		fill(&c->debugregs, sizeof(c->debugregs), 8 + i);
		c->n_msrs = 3;
		c->msrs[0] = (struct kvm_msr_entry){.index = 0x10, .data = 0xffffffffffffffffull};
		c->msrs[1] =
			(struct kvm_msr_entry){.index = 0xc0000082, .data = 0xffffffff81000000ull};
		c->msrs[2] = (struct kvm_msr_entry){.index = 0x4b564d01, .data = 1};
	}
	fill(&s->pic_master, sizeof(s->pic_master), 9);
	fill(&s->pic_slave, sizeof(s->pic_slave), 10);
	fill(&s->ioapic, sizeof(s->ioapic), 11);
	fill(&s->pit, sizeof(s->pit), 12);
	fill(&s->clock, sizeof(s->clock), 13);
	s->uart.ier = 0x0f;
	s->uart.lcr = 3;
	s->uart.mcr = 0x0b;
	s->uart.scr = 0x5a;
	s->uart.dll = 1;
	s->uart.dlm = 0;
	s->uart.fcr = 0xc7;
	s->uart.thri_pending = true;
	s->uart.irq_level = 1;
	fill(s->uart.rx, sizeof(s->uart.rx), 14);
	s->uart.rx_head = 63;
	s->uart.rx_count = 5;
	s->i8042.ctr = 0x47;
	s->i8042.out = 0xfa;
	s->i8042.out_full = true;
	s->i8042.pending_cmd = 0x60;
	s->cmos.index = 0x0b;
	fill(s->cmos.ram, sizeof(s->cmos.ram), 15);
	s->acpi_pm_en[0] = 0x21;
	s->acpi_pm_en[1] = 0x01;
	s->n_disks = 1;
	s->disks[0].status = 0x0f;
	s->disks[0].drv_features = 0x130000000ull;
	s->disks[0].queue_sel = 0;
	s->disks[0].isr = 1;
	s->disks[0].config_gen = 2;
	s->disks[0].dev_features_sel = 1;
	s->disks[0].drv_features_sel = 1;
	s->disks[0].vq[0] = (struct vmm_snap_virtq){.num = 256,
						    .ready = true,
						    .desc = 0x1000,
						    .avail = 0x2000,
						    .used = 0x3000,
						    .last_avail = 65535,
						    .used_idx = 65534};
	s->disks[0].vq[9].broken = true;
	s->has_console = true;
	s->console.t.status = 0x0f;
	s->console.t.vq[3] = (struct vmm_snap_virtq){.num = 64,
						     .ready = true,
						     .desc = 0xabc000,
						     .avail = 0xabd000,
						     .used = 0xabe000,
						     .last_avail = 7,
						     .used_idx = 6};
	s->console.n_ports = 4;
	s->console.port[0] = (struct vmm_snap_port){
		.host_open = false, .ready = true, .guest_open = true, .guest_closes = 3};
	s->console.port[2] = (struct vmm_snap_port){.host_open = true, .ready = true};
	s->console.n_ctrl = 2;
	s->console.ctrl[0] = (struct vmm_snap_ctrl){.id = 1, .event = 6, .value = 1};
	s->console.ctrl[1] = (struct vmm_snap_ctrl){.id = 1, .event = 7, .value = 0};
}

static void assert_same(const struct vmm_snap *a, const struct vmm_snap *b)
{
	assert_int_equal(a->version, b->version);
	assert_int_equal(a->mem_bytes, b->mem_bytes);
	assert_int_equal(a->token, b->token);
	assert_int_equal(a->parent_token, b->parent_token);
	assert_int_equal(a->pre_dump, b->pre_dump);
	assert_int_equal(a->n_ranges, b->n_ranges);
	assert_memory_equal(a->ranges, b->ranges, a->n_ranges * sizeof(*a->ranges));
	assert_int_equal(a->n_vcpus, b->n_vcpus);
	assert_memory_equal(a->vcpus, b->vcpus, a->n_vcpus * sizeof(*a->vcpus));
	/* everything after the vCPU pointer, padding included (both were zeroed) */
	assert_memory_equal(&a->pic_master, &b->pic_master,
			    sizeof(*a) - offsetof(struct vmm_snap, pic_master));
}

static void every_field_survives_a_round_trip(void **state)
{
	struct vmm_snap a, b;
	_cleanup_werr_ struct werr *err = NULL;
	_cleanup_free_ char *json;

	sample(&a);
	json = vmm_snap_to_json(&a);
	memset(&b, 0, sizeof(b));
	assert_int_equal(vmm_snap_from_json(json, strlen(json), &b, &err), 0);
	assert_null(err);
	/* vmm_snap_from_json zeroes b first: compare field by field over a zeroed copy of a */
	assert_same(&a, &b);
	vmm_snap_free(&a);
	vmm_snap_free(&b);
}

static void without_a_console_it_is_null(void **state)
{
	struct vmm_snap a, b;
	_cleanup_werr_ struct werr *err = NULL;
	_cleanup_free_ char *json;

	sample(&a);
	a.has_console = false;
	memset(&a.console, 0, sizeof(a.console));
	json = vmm_snap_to_json(&a);
	assert_non_null(strstr(json, "\"console\": null"));
	assert_int_equal(vmm_snap_from_json(json, strlen(json), &b, &err), 0);
	assert_false(b.has_console);
	assert_same(&a, &b);
	vmm_snap_free(&a);
	vmm_snap_free(&b);
}

/* json with the first occurrence of from replaced by to */
static char *edit(const char *json, const char *from, const char *to)
{
	const char *p = strstr(json, from);

	assert_non_null(p);
	return xasprintf("%.*s%s%s", (int)(p - json), json, to, p + strlen(from));
}

static void expect_refused(const char *json, const char *msg)
{
	struct vmm_snap b;
	_cleanup_werr_ struct werr *err = NULL;

	assert_true(vmm_snap_from_json(json, strlen(json), &b, &err) < 0);
	assert_non_null(err);
	if (!strstr(err->msg, msg))
		fail_msg("message \"%s\" does not contain \"%s\"", err->msg, msg);
}

static void another_version_or_bad_fields_are_refused(void **state)
{
	struct vmm_snap a;
	_cleanup_free_ char *json, *v2, *short_regs, *bad_rx, *no_uart, *bad_hex, *past_ram,
		*unaligned;

	sample(&a);
	json = vmm_snap_to_json(&a);
	v2 = edit(json, "\"version\": 1", "\"version\": 2");
	expect_refused(v2, "vm.json: version 2, this ward reads version 1");
	short_regs = edit(json, "\"regs\": \"", "\"regs\": \"00");
	expect_refused(short_regs, "vm.json: vcpus[0].regs:");
	bad_rx = edit(json, "\"rx_count\": 5", "\"rx_count\": 65");
	expect_refused(bad_rx, "vm.json: uart.rx_count");
	no_uart = edit(json, "\"uart\"", "\"uarx\"");
	expect_refused(no_uart, "vm.json: uart.ier");
	bad_hex = edit(json, "\"mem_bytes\": \"0x", "\"mem_bytes\": \"0xg");
	expect_refused(bad_hex, "vm.json: (top).mem_bytes");
	expect_refused("[1]", "not a JSON object");
	/* memory ranges: inside RAM, page aligned */
	past_ram = edit(json, "\"bytes\": \"0xfe00000\"", "\"bytes\": \"0xfe01000\"");
	expect_refused(past_ram,
		       "vm.json: memory[1]: not page aligned, empty, out of order or outside");
	unaligned = edit(json, "\"offset\": \"0x200000\"", "\"offset\": \"0x200800\"");
	expect_refused(unaligned, "vm.json: memory[1]:");
	vmm_snap_free(&a);
}

static void put(int dirfd, const char *name, const void *buf, size_t len)
{
	int fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, buf, len), (ssize_t)len);
	close(fd);
}

static void a_vm_image_with_a_changed_file_is_refused(void **state)
{
	char dir[] = "/tmp/ward-unit-vmsnap.XXXXXX";
	struct ck_inventory inv = {0}, back = {0};
	_cleanup_werr_ struct werr *err = NULL;
	_cleanup_free_ char *json = NULL;
	struct vmm_snap a;
	int dirfd, fd;

	assert_non_null(mkdtemp(dir));
	dirfd = open(dir, O_DIRECTORY | O_RDONLY);
	assert_true(dirfd >= 0);
	sample(&a);
	json = vmm_snap_to_json(&a);
	put(dirfd, "vm.json", json, strlen(json));
	put(dirfd, "vm-mem.img", "\0\0\1\0", 4);
	inv.root_pid = 1;
	inv.pids = xcalloc(1, sizeof(pid_t));
	inv.pids[inv.npids++] = 1;
	ck_inventory_add(&inv, xstrdup("vm.json"), NULL);
	ck_inventory_add(&inv, xstrdup("vm-mem.img"), NULL);
	assert_int_equal(ck_inventory_write(dirfd, &inv, &err), 0);
	assert_int_equal(ck_inventory_load(dirfd, &back, &err), 0);
	ck_inventory_free(&back);
	/* one bit of guest memory changed */
	fd = openat(dirfd, "vm-mem.img", O_WRONLY);
	assert_int_equal(pwrite(fd, "\2", 1, 2), 1);
	close(fd);
	assert_true(ck_inventory_load(dirfd, &back, &err) < 0);
	assert_non_null(strstr(err->msg, "vm-mem.img: " CK_SUM_NAME));
	unlinkat(dirfd, "vm.json", 0);
	unlinkat(dirfd, "vm-mem.img", 0);
	unlinkat(dirfd, "inventory.json", 0);
	close(dirfd);
	rmdir(dir);
	ck_inventory_free(&inv);
	vmm_snap_free(&a);
}

/* A pre-copy child: its token, its parent's and the pre-dump mark survive; a full image has
 * none of them (and reads back as such). */
static void a_child_images_parent_survives_a_round_trip(void **state)
{
	struct vmm_snap a, b;
	_cleanup_werr_ struct werr *err = NULL;
	_cleanup_free_ char *json = NULL, *full = NULL;

	sample(&a);
	a.token = 0xfedcba9876543210ull;
	a.parent_token = 0x8000000000000001ull; /* above 2^63: hex, not a JSON number */
	a.pre_dump = true;
	json = vmm_snap_to_json(&a);
	assert_non_null(strstr(json, "\"parent_token\": \"0x8000000000000001\""));
	memset(&b, 0, sizeof(b));
	assert_int_equal(vmm_snap_from_json(json, strlen(json), &b, &err), 0);
	assert_same(&a, &b);
	vmm_snap_free(&b);
	a.token = a.parent_token = 0;
	a.pre_dump = false;
	full = vmm_snap_to_json(&a);
	assert_null(strstr(full, "token"));
	assert_null(strstr(full, "pre_dump"));
	assert_int_equal(vmm_snap_from_json(full, strlen(full), &b, &err), 0);
	assert_same(&a, &b);
	vmm_snap_free(&a);
	vmm_snap_free(&b);
}

static void a_chain_link_needs_the_parents_token_and_ram_size(void **state)
{
	struct vmm_snap parent = {.mem_bytes = 256 << 20, .token = 7};
	struct vmm_snap child = {.mem_bytes = 256 << 20, .token = 9, .parent_token = 7};
	struct werr *err = NULL;

	assert_int_equal(vmm_snap_check_parent(&child, "C", &parent, "P", &err), 0);
	assert_null(err);
	parent.token = 8; /* another container's, or an older round's */
	assert_int_equal(vmm_snap_check_parent(&child, "C", &parent, "P", &err), -EINVAL);
	assert_non_null(strstr(err->msg, "P is not the parent of C"));
	werr_free(&err);
	parent.token = 7;
	parent.mem_bytes = 512 << 20;
	assert_int_equal(vmm_snap_check_parent(&child, "C", &parent, "P", &err), -EINVAL);
	assert_non_null(strstr(err->msg, "P has 512 MiB of guest RAM, its child C 256 MiB"));
	werr_free(&err);
	parent.mem_bytes = 256 << 20;
	child.parent_token = 0; /* a full image under an inventory's parent */
	assert_int_equal(vmm_snap_check_parent(&child, "C", &parent, "P", &err), -EINVAL);
	assert_non_null(strstr(err->msg, "no \"parent_token\""));
	werr_free(&err);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(every_field_survives_a_round_trip),
		cmocka_unit_test(without_a_console_it_is_null),
		cmocka_unit_test(another_version_or_bad_fields_are_refused),
		cmocka_unit_test(a_vm_image_with_a_changed_file_is_refused),
		cmocka_unit_test(a_child_images_parent_survives_a_round_trip),
		cmocka_unit_test(a_chain_link_needs_the_parents_token_and_ram_size),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
