/* virtio-blk over the virtio-mmio transport, driven by a fake driver: registers through the
 * transport's ops table, rings and buffers in a buffer standing in for guest RAM, the disk a
 * temporary file. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "vmm_shim/dev_virtio_blk.h"

#define RAM_SIZE 0x20000
#define DESC 0x1000
#define AVAIL 0x2000
#define USED 0x3000
#define HDR 0x4000
#define DATA 0x5000
#define STATUS 0x8000
#define QSIZE 16
#define DISK_SECTORS 8

static uint8_t ram[RAM_SIZE];
static struct guest_mem gm;
static struct virtio_blk blk;
static int disk_fd = -1;
static uint16_t avail_idx;
static int irq_edges, irq_level;
static unsigned irq_seen;

static void fake_irq_line(void *opaque, unsigned irq, int level)
{
	irq_seen = irq;
	if (level && !irq_level)
		irq_edges++;
	irq_level = level;
}

static void fake_stop(void *opaque, enum vmm_stop_reason reason, int status)
{
}

static const struct vmm_hooks hooks = {.irq_line = fake_irq_line, .stop = fake_stop};

static uint32_t rd(uint64_t off)
{
	uint32_t v;

	virtio_mmio_ops.read(&blk.t, off, (uint8_t *)&v, 4);
	return v;
}

static void wr(uint64_t off, uint32_t v)
{
	virtio_mmio_ops.write(&blk.t, off, (const uint8_t *)&v, 4);
}

/* A disk whose sector s is filled with the byte 's' + 'A'. */
static void make_disk(bool ro)
{
	char path[] = "/tmp/ward-vblk-XXXXXX";
	uint8_t sector[VIRTIO_BLK_SECTOR];

	disk_fd = mkstemp(path);
	assert_true(disk_fd >= 0);
	unlink(path);
	for (int s = 0; s < DISK_SECTORS; s++) {
		memset(sector, 'A' + s, sizeof(sector));
		assert_int_equal(write(disk_fd, sector, sizeof(sector)), sizeof(sector));
	}
	memset(ram, 0, sizeof(ram));
	gm = (struct guest_mem){.n = 1};
	gm.r[0] = (struct gm_region){.gpa = 0, .size = RAM_SIZE, .host = ram};
	assert_int_equal(virtio_blk_init(&blk, disk_fd, ro, "ward-disk-0", &gm, &hooks, 5, NULL),
			 0);
	avail_idx = 0;
	irq_edges = irq_level = 0;
}

/* The Linux driver's sequence (virtio 3.1.1) up to DRIVER_OK, queue 0 of QSIZE entries. */
static void driver_init(void)
{
	uint32_t f1;

	wr(VIRTIO_MMIO_STATUS, 0);
	wr(VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	wr(VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);
	f1 = rd(VIRTIO_MMIO_DEVICE_FEATURES);
	wr(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	wr(VIRTIO_MMIO_DRIVER_FEATURES, f1 & 1);
	wr(VIRTIO_MMIO_STATUS,
	   VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK);
	assert_true(rd(VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_FEATURES_OK);
	wr(VIRTIO_MMIO_QUEUE_SEL, 0);
	assert_int_equal(rd(VIRTIO_MMIO_QUEUE_NUM_MAX), VIRTQ_MAX_SIZE);
	wr(VIRTIO_MMIO_QUEUE_NUM, QSIZE);
	wr(VIRTIO_MMIO_QUEUE_DESC_LOW, DESC);
	wr(VIRTIO_MMIO_QUEUE_DESC_HIGH, 0);
	wr(VIRTIO_MMIO_QUEUE_DRIVER_LOW, AVAIL);
	wr(VIRTIO_MMIO_QUEUE_DEVICE_LOW, USED);
	wr(VIRTIO_MMIO_QUEUE_READY, 1);
	assert_int_equal(rd(VIRTIO_MMIO_QUEUE_READY), 1);
	wr(VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
				       VIRTIO_STATUS_FEATURES_OK | VIRTIO_STATUS_DRIVER_OK);
}

static int teardown(void **state)
{
	virtio_blk_destroy(&blk);
	close(disk_fd);
	return 0;
}

static void set_desc(uint16_t i, uint64_t addr, uint32_t len, uint16_t flags, uint16_t next)
{
	uint8_t *d = ram + DESC + 16u * i;

	memcpy(d, &addr, 8);
	memcpy(d + 8, &len, 4);
	memcpy(d + 12, &flags, 2);
	memcpy(d + 14, &next, 2);
}

/* One request: header, data_len bytes at DATA (device-writable unless type is OUT), status. */
static uint8_t request(uint32_t type, uint64_t sector, uint32_t data_len, uint32_t *used_len)
{
	uint16_t head = (uint16_t)(avail_idx * 3 % QSIZE);
	uint16_t d = (uint16_t)((head + 1) % QSIZE), s = (uint16_t)((head + 2) % QSIZE);
	uint32_t hdr[4] = {type, 0, (uint32_t)sector, (uint32_t)(sector >> 32)};
	uint16_t uidx;

	memcpy(ram + HDR, hdr, 16);
	ram[STATUS] = 0xee;
	set_desc(head, HDR, 16, VIRTQ_DESC_F_NEXT, data_len ? d : s);
	set_desc(d, DATA, data_len,
		 VIRTQ_DESC_F_NEXT | (type == VIRTIO_BLK_T_OUT ? 0 : VIRTQ_DESC_F_WRITE), s);
	set_desc(s, STATUS, 1, VIRTQ_DESC_F_WRITE, 0);
	memcpy(ram + AVAIL + 4 + 2 * (avail_idx % QSIZE), &head, 2);
	avail_idx++;
	memcpy(ram + AVAIL + 2, &avail_idx, 2);
	wr(VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	memcpy(&uidx, ram + USED + 2, 2);
	assert_int_equal(uidx, avail_idx);
	memcpy(used_len, ram + USED + 8 + 8 * ((uidx - 1) % QSIZE), 4);
	return ram[STATUS];
}

static void the_registers_identify_a_version_2_block_device(void **state)
{
	uint32_t v;

	make_disk(true);
	assert_int_equal(rd(VIRTIO_MMIO_MAGIC), 0x74726976);
	assert_int_equal(rd(VIRTIO_MMIO_VERSION), 2);
	assert_int_equal(rd(VIRTIO_MMIO_DEVICE_ID), VIRTIO_ID_BLOCK);
	wr(VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
	v = rd(VIRTIO_MMIO_DEVICE_FEATURES);
	assert_true(v & (1u << VIRTIO_BLK_F_RO));
	assert_true(v & (1u << VIRTIO_F_INDIRECT_DESC));
	wr(VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);
	assert_int_equal(rd(VIRTIO_MMIO_DEVICE_FEATURES) & 1, 1); /* VIRTIO_F_VERSION_1 */
	/* capacity in config space, as two 32-bit reads the way Linux does it */
	assert_int_equal(rd(VIRTIO_MMIO_CONFIG), DISK_SECTORS);
	assert_int_equal(rd(VIRTIO_MMIO_CONFIG + 4), 0);
	/* a queue that does not exist */
	wr(VIRTIO_MMIO_QUEUE_SEL, 1);
	assert_int_equal(rd(VIRTIO_MMIO_QUEUE_NUM_MAX), 0);
}

static void a_driver_without_version_1_is_refused(void **state)
{
	make_disk(false);
	wr(VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
	assert_false(rd(VIRTIO_MMIO_DEVICE_FEATURES) & (1u << VIRTIO_BLK_F_RO));
	wr(VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	wr(VIRTIO_MMIO_STATUS,
	   VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK);
	assert_false(rd(VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_FEATURES_OK);
}

static void reads_return_the_file_sectors_and_raise_one_interrupt(void **state)
{
	uint32_t used_len;

	make_disk(true);
	driver_init();
	assert_int_equal(request(VIRTIO_BLK_T_IN, 2, 1024, &used_len), VIRTIO_BLK_S_OK);
	assert_int_equal(used_len, 1025);
	for (int i = 0; i < 512; i++)
		assert_int_equal(ram[DATA + i], 'C');
	assert_int_equal(ram[DATA + 1023], 'D');
	assert_int_equal(irq_edges, 1);
	assert_int_equal(irq_seen, 5);
	assert_int_equal(irq_level, 0); /* an edge: raised and lowered */
	assert_int_equal(rd(VIRTIO_MMIO_INTERRUPT_STATUS), VIRTIO_MMIO_INT_VRING);
	wr(VIRTIO_MMIO_INTERRUPT_ACK, VIRTIO_MMIO_INT_VRING);
	assert_int_equal(rd(VIRTIO_MMIO_INTERRUPT_STATUS), 0);
	/* the last sector, then one past the end */
	assert_int_equal(request(VIRTIO_BLK_T_IN, DISK_SECTORS - 1, 512, &used_len), 0);
	assert_int_equal(ram[DATA], 'A' + DISK_SECTORS - 1);
	assert_int_equal(request(VIRTIO_BLK_T_IN, DISK_SECTORS - 1, 1024, &used_len),
			 VIRTIO_BLK_S_IOERR);
	assert_int_equal(request(VIRTIO_BLK_T_IN, UINT64_MAX / 256, 512, &used_len),
			 VIRTIO_BLK_S_IOERR);
	assert_int_equal(request(VIRTIO_BLK_T_IN, 0, 100, &used_len), VIRTIO_BLK_S_IOERR);
}

static void writes_to_a_read_only_disk_fail_and_leave_the_file(void **state)
{
	uint32_t used_len;
	uint8_t b;

	make_disk(true);
	driver_init();
	memset(ram + DATA, 'x', 512);
	assert_int_equal(request(VIRTIO_BLK_T_OUT, 0, 512, &used_len), VIRTIO_BLK_S_IOERR);
	assert_int_equal(used_len, 1);
	assert_int_equal(pread(disk_fd, &b, 1, 0), 1);
	assert_int_equal(b, 'A');
}

static void writes_to_a_writable_disk_reach_the_file(void **state)
{
	uint32_t used_len;
	uint8_t b[2];

	make_disk(false);
	driver_init();
	memset(ram + DATA, 'x', 512);
	assert_int_equal(request(VIRTIO_BLK_T_OUT, 1, 512, &used_len), VIRTIO_BLK_S_OK);
	assert_int_equal(used_len, 1);
	assert_int_equal(pread(disk_fd, b, 2, 511), 2);
	assert_int_equal(b[0], 'A');
	assert_int_equal(b[1], 'x');
	assert_int_equal(request(VIRTIO_BLK_T_FLUSH, 0, 0, &used_len), VIRTIO_BLK_S_OK);
}

static void get_id_and_unknown_requests(void **state)
{
	uint32_t used_len;

	make_disk(true);
	driver_init();
	assert_int_equal(request(VIRTIO_BLK_T_GET_ID, 0, 20, &used_len), VIRTIO_BLK_S_OK);
	assert_int_equal(used_len, 21);
	assert_string_equal((char *)ram + DATA, "ward-disk-0");
	assert_int_equal(request(99, 0, 0, &used_len), VIRTIO_BLK_S_UNSUPP);
}

static void a_malformed_chain_sets_needs_reset_and_a_reset_recovers(void **state)
{
	uint32_t used_len;
	uint16_t head = 0, one = 1;

	make_disk(true);
	driver_init();
	set_desc(0, HDR, 16, VIRTQ_DESC_F_NEXT, 0); /* a loop onto itself */
	memcpy(ram + AVAIL + 4, &head, 2);
	memcpy(ram + AVAIL + 2, &one, 2);
	wr(VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	assert_true(rd(VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_NEEDS_RESET);
	assert_true(rd(VIRTIO_MMIO_INTERRUPT_STATUS) & VIRTIO_MMIO_INT_CONFIG);
	memset(ram + AVAIL, 0, 0x100);
	memset(ram + USED, 0, 0x100);
	avail_idx = 0;
	driver_init();
	assert_false(rd(VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_NEEDS_RESET);
	assert_int_equal(request(VIRTIO_BLK_T_IN, 0, 512, &used_len), VIRTIO_BLK_S_OK);
}

static void a_queue_outside_ram_is_not_made_ready(void **state)
{
	make_disk(true);
	wr(VIRTIO_MMIO_QUEUE_SEL, 0);
	wr(VIRTIO_MMIO_QUEUE_NUM, QSIZE);
	wr(VIRTIO_MMIO_QUEUE_DESC_LOW, 0);
	wr(VIRTIO_MMIO_QUEUE_DESC_HIGH, 0x10); /* 64 GiB */
	wr(VIRTIO_MMIO_QUEUE_READY, 1);
	assert_int_equal(rd(VIRTIO_MMIO_QUEUE_READY), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(the_registers_identify_a_version_2_block_device,
					  teardown),
		cmocka_unit_test_teardown(a_driver_without_version_1_is_refused, teardown),
		cmocka_unit_test_teardown(reads_return_the_file_sectors_and_raise_one_interrupt,
					  teardown),
		cmocka_unit_test_teardown(writes_to_a_read_only_disk_fail_and_leave_the_file,
					  teardown),
		cmocka_unit_test_teardown(writes_to_a_writable_disk_reach_the_file, teardown),
		cmocka_unit_test_teardown(get_id_and_unknown_requests, teardown),
		cmocka_unit_test_teardown(a_malformed_chain_sets_needs_reset_and_a_reset_recovers,
					  teardown),
		cmocka_unit_test_teardown(a_queue_outside_ram_is_not_made_ready, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
