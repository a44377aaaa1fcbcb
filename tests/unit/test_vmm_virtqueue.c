/* Split virtqueue processing against a fake driver that lays out the descriptor table and the
 * available and used rings in a buffer standing in for guest RAM. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "vmm_shim/virtqueue.h"

#define RAM_SIZE 0x10000
#define DESC 0x1000
#define AVAIL 0x2000
#define USED 0x3000
#define DATA 0x4000

static uint8_t ram[RAM_SIZE];
static struct guest_mem gm;
static struct virtq q;
static uint16_t avail_idx;

static int setup(void **state)
{
	memset(ram, 0, sizeof(ram));
	gm = (struct guest_mem){.n = 1};
	gm.r[0] = (struct gm_region){.gpa = 0, .size = RAM_SIZE, .host = ram};
	virtq_reset(&q);
	q.num = 8;
	q.desc = DESC;
	q.avail = AVAIL;
	q.used = USED;
	q.ready = true;
	avail_idx = 0;
	return 0;
}

static void set_desc(uint64_t table, uint16_t i, uint64_t addr, uint32_t len, uint16_t flags,
		     uint16_t next)
{
	uint8_t *d = ram + table + 16u * i;

	memcpy(d, &addr, 8);
	memcpy(d + 8, &len, 4);
	memcpy(d + 12, &flags, 2);
	memcpy(d + 14, &next, 2);
}

/* The driver makes chain head available and bumps avail->idx. */
static void offer(uint16_t head)
{
	memcpy(ram + AVAIL + 4 + 2 * (avail_idx % q.num), &head, 2);
	avail_idx++;
	memcpy(ram + AVAIL + 2, &avail_idx, 2);
}

static uint16_t used_idx(void)
{
	uint16_t v;

	memcpy(&v, ram + USED + 2, 2);
	return v;
}

static void used_elem(uint16_t slot, uint32_t *id, uint32_t *len)
{
	memcpy(id, ram + USED + 4 + 8 * (slot % q.num), 4);
	memcpy(len, ram + USED + 8 + 8 * (slot % q.num), 4);
}

static void an_empty_ring_pops_nothing(void **state)
{
	struct virtq_chain c;

	assert_true(virtq_valid(&q, &gm));
	assert_int_equal(virtq_pop(&q, &gm, &c), 0);
}

static void a_chain_of_readable_then_writable_buffers_maps_to_guest_bytes(void **state)
{
	struct virtq_chain c;
	char out[16] = {0};
	uint32_t id, len;

	memcpy(ram + DATA, "request", 7);
	set_desc(DESC, 3, DATA, 7, VIRTQ_DESC_F_NEXT, 5);
	set_desc(DESC, 5, DATA + 0x100, 10, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 0);
	set_desc(DESC, 0, DATA + 0x200, 1, VIRTQ_DESC_F_WRITE, 0);
	offer(3);
	assert_int_equal(virtq_pop(&q, &gm, &c), 1);
	assert_int_equal(c.head, 3);
	assert_int_equal(c.n, 3);
	assert_int_equal(c.out_len, 7);
	assert_int_equal(c.in_len, 11);
	assert_int_equal(virtq_chain_read(&c, 0, out, sizeof(out)), 7);
	assert_string_equal(out, "request");
	/* writes spread over the writable segments, in order */
	assert_int_equal(virtq_chain_write(&c, 0, "0123456789S", 11), 11);
	assert_memory_equal(ram + DATA + 0x100, "0123456789", 10);
	assert_int_equal(ram[DATA + 0x200], 'S');
	assert_int_equal(virtq_push(&q, &gm, c.head, 11), 0);
	assert_int_equal(used_idx(), 1);
	used_elem(0, &id, &len);
	assert_int_equal(id, 3);
	assert_int_equal(len, 11);
	assert_int_equal(virtq_pop(&q, &gm, &c), 0);
}

static void indices_wrap_around_at_65536(void **state)
{
	struct virtq_chain c;
	uint32_t id, len;

	avail_idx = 65534;
	q.last_avail = 65534;
	q.used_idx = 65534;
	set_desc(DESC, 1, DATA, 4, 0, 0);
	for (int i = 0; i < 4; i++) {
		offer(1);
		assert_int_equal(virtq_pop(&q, &gm, &c), 1);
		assert_int_equal(c.head, 1);
		assert_int_equal(virtq_push(&q, &gm, c.head, (uint32_t)i), 0);
	}
	assert_int_equal(avail_idx, 2);
	assert_int_equal(used_idx(), 2);
	used_elem(1, &id, &len);
	assert_int_equal(len, 3);
	assert_int_equal(virtq_pop(&q, &gm, &c), 0);
}

static void indirect_tables_are_followed(void **state)
{
	struct virtq_chain c;
	const uint64_t table = DATA + 0x800;

	set_desc(table, 0, DATA, 16, VIRTQ_DESC_F_NEXT, 1);
	set_desc(table, 1, DATA + 0x100, 512, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 2);
	set_desc(table, 2, DATA + 0x400, 1, VIRTQ_DESC_F_WRITE, 0);
	set_desc(DESC, 2, table, 3 * 16, VIRTQ_DESC_F_INDIRECT, 0);
	offer(2);
	assert_int_equal(virtq_pop(&q, &gm, &c), 1);
	assert_int_equal(c.head, 2);
	assert_int_equal(c.n, 3);
	assert_int_equal(c.out_len, 16);
	assert_int_equal(c.in_len, 513);
}

static void addresses_outside_guest_ram_are_rejected(void **state)
{
	struct virtq_chain c;

	set_desc(DESC, 0, RAM_SIZE - 8, 16, 0, 0); /* runs past the end of RAM */
	offer(0);
	assert_int_equal(virtq_pop(&q, &gm, &c), -EINVAL);
	assert_true(q.broken);
	/* a broken queue stays broken until reset, whatever the driver does next */
	set_desc(DESC, 0, DATA, 16, 0, 0);
	offer(0);
	assert_int_equal(virtq_pop(&q, &gm, &c), -EINVAL);

	setup(state);
	set_desc(DESC, 0, UINT64_MAX - 4, 16, 0, 0); /* wraps around */
	offer(0);
	assert_int_equal(virtq_pop(&q, &gm, &c), -EINVAL);

	setup(state);
	set_desc(DESC, 0, DATA, 16, VIRTQ_DESC_F_INDIRECT, 0);
	set_desc(DESC, 1, 0xfee00000, 32, VIRTQ_DESC_F_INDIRECT, 0); /* table in MMIO space */
	offer(1);
	assert_int_equal(virtq_pop(&q, &gm, &c), -EINVAL);
}

static void rings_outside_guest_ram_are_invalid(void **state)
{
	struct virtq_chain c;

	q.used = RAM_SIZE - 8;
	assert_false(virtq_valid(&q, &gm));
	q.used = USED + 2; /* misaligned */
	assert_false(virtq_valid(&q, &gm));
	q.used = USED;
	q.num = 6; /* not a power of 2 */
	assert_false(virtq_valid(&q, &gm));
	q.num = 8;
	q.avail = RAM_SIZE - 4;
	assert_int_equal(virtq_pop(&q, &gm, &c), -EINVAL);
}

static void descriptor_loops_are_rejected(void **state)
{
	struct virtq_chain c;

	set_desc(DESC, 0, DATA, 4, VIRTQ_DESC_F_NEXT, 1);
	set_desc(DESC, 1, DATA, 4, VIRTQ_DESC_F_NEXT, 2);
	set_desc(DESC, 2, DATA, 4, VIRTQ_DESC_F_NEXT, 0);
	offer(0);
	assert_int_equal(virtq_pop(&q, &gm, &c), -EINVAL);

	setup(state); /* a self-loop inside an indirect table */
	set_desc(DATA + 0x800, 0, DATA, 4, VIRTQ_DESC_F_NEXT, 0);
	set_desc(DESC, 0, DATA + 0x800, 16, VIRTQ_DESC_F_INDIRECT, 0);
	offer(0);
	assert_int_equal(virtq_pop(&q, &gm, &c), -EINVAL);
}

static void malformed_chains_are_rejected(void **state)
{
	struct virtq_chain c;

	set_desc(DESC, 0, DATA, 4, VIRTQ_DESC_F_NEXT, 8); /* next beyond the table */
	offer(0);
	assert_int_equal(virtq_pop(&q, &gm, &c), -EINVAL);

	setup(state);
	offer(9); /* head beyond the table */
	assert_int_equal(virtq_pop(&q, &gm, &c), -EINVAL);

	setup(state); /* readable after writable */
	set_desc(DESC, 0, DATA, 4, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 1);
	set_desc(DESC, 1, DATA, 4, 0, 0);
	offer(0);
	assert_int_equal(virtq_pop(&q, &gm, &c), -EINVAL);

	setup(state); /* nested indirect */
	set_desc(DATA + 0x800, 0, DATA + 0x900, 16, VIRTQ_DESC_F_INDIRECT, 0);
	set_desc(DESC, 0, DATA + 0x800, 16, VIRTQ_DESC_F_INDIRECT, 0);
	offer(0);
	assert_int_equal(virtq_pop(&q, &gm, &c), -EINVAL);

	setup(state); /* the driver claims more available than the ring holds */
	avail_idx = 9;
	memcpy(ram + AVAIL + 2, &avail_idx, 2);
	assert_int_equal(virtq_pop(&q, &gm, &c), -EINVAL);
}

static void a_reset_queue_pops_nothing(void **state)
{
	struct virtq_chain c;

	set_desc(DESC, 0, DATA, 4, 0, 0);
	offer(0);
	virtq_reset(&q);
	assert_int_equal(virtq_pop(&q, &gm, &c), 0);
}

/* The device's writes into the guest (a writable buffer, the used ring) are the VMM's own: in
 * its dirty set for pre-copy, the pages the driver only wrote (descriptors, available ring)
 * not. */
static void device_writes_and_the_used_ring_are_marked_dirty(void **state)
{
	uint64_t dirty[1] = {0}, out[1] = {0};
	struct virtq_chain c;

	gm.map = ram;
	gm.map_size = RAM_SIZE;
	gm.dirty = dirty;
	gm.dirty_words = 1;
	set_desc(DESC, 0, DATA + 0x10, 4, VIRTQ_DESC_F_NEXT, 1);
	set_desc(DESC, 1, DATA + 0x2000, 8, VIRTQ_DESC_F_WRITE, 0);
	offer(0);
	assert_int_equal(virtq_pop(&q, &gm, &c), 1);
	assert_int_equal(dirty[0], 0); /* popping writes nothing */
	assert_int_equal(virtq_chain_write(&c, 0, "reply", 5), 5);
	assert_int_equal(virtq_push(&q, &gm, c.head, 5), 0);
	gm_dirty_take(&gm, out);
	assert_int_equal(out[0], (1ull << (USED / 4096)) | (1ull << ((DATA + 0x2000) / 4096)));
	/* a buffer filled by other means (a disk read) is marked by the chain */
	out[0] = 0;
	virtq_chain_mark_written(&c);
	gm_dirty_take(&gm, out);
	assert_int_equal(out[0], 1ull << ((DATA + 0x2000) / 4096));
	gm.dirty = NULL;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(an_empty_ring_pops_nothing, setup),
		cmocka_unit_test_setup(
			a_chain_of_readable_then_writable_buffers_maps_to_guest_bytes, setup),
		cmocka_unit_test_setup(indices_wrap_around_at_65536, setup),
		cmocka_unit_test_setup(indirect_tables_are_followed, setup),
		cmocka_unit_test_setup(addresses_outside_guest_ram_are_rejected, setup),
		cmocka_unit_test_setup(rings_outside_guest_ram_are_invalid, setup),
		cmocka_unit_test_setup(descriptor_loops_are_rejected, setup),
		cmocka_unit_test_setup(malformed_chains_are_rejected, setup),
		cmocka_unit_test_setup(device_writes_and_the_used_ring_are_marked_dirty, setup),
		cmocka_unit_test_setup(a_reset_queue_pops_nothing, setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
