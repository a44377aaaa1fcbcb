/* virtio-console with multiport, the control channel and the workload's stdio: a fake driver
 * sets up the queues in a buffer standing in for guest RAM and speaks the control protocol;
 * guest output must reach the host fd without ever waiting for it, host input the guest's
 * receive buffers once the port is open. Plus the control protocol's framing
 * (vmm_shim/guest/ward_ctl.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "vmm_shim/dev_virtio_console.h"
#include "vmm_shim/guest/ward_ctl.h"

#define NQ (2 * (VIRTIO_CONSOLE_MAX_PORTS + 1))
#define RAM_SIZE 0x50000
#define QSIZE 8
/* queue q's rings at 0x1000 + q * 0x3000: desc, avail, used */
#define DESC(q) (0x1000u + (q)*0x3000u)
#define AVAIL(q) (DESC(q) + 0x1000u)
#define USED(q) (DESC(q) + 0x2000u)
#define BUF 0x20000
#define CTRL_BUF 0x40000 /* the driver's control messages */

static uint8_t ram[RAM_SIZE];
static struct guest_mem gm;
static struct virtio_console con;
static uint16_t avail_idx[NQ];
static int irq_edges, irq_level, kick;

static void fake_irq_line(void *opaque, unsigned irq, int level)
{
	if (level && !irq_level)
		irq_edges++;
	irq_level = level;
}

static void fake_stop(void *opaque, enum vmm_stop_reason reason, int status)
{
}

static const struct vmm_hooks hooks = {.irq_line = fake_irq_line, .stop = fake_stop};
static const char *const names[] = {"ward.ctl", "ward.stdin", "ward.stdout", "ward.stderr"};

static uint32_t rd(uint64_t off)
{
	uint32_t v;

	virtio_mmio_ops.read(&con.t, off, (uint8_t *)&v, 4);
	return v;
}

static void wr(uint64_t off, uint32_t v)
{
	virtio_mmio_ops.write(&con.t, off, (const uint8_t *)&v, 4);
}

static int setup(void **state)
{
	uint32_t f0, f1;

	memset(ram, 0, sizeof(ram));
	gm = (struct guest_mem){.n = 1};
	gm.r[0] = (struct gm_region){.gpa = 0, .size = RAM_SIZE, .host = ram};
	virtio_console_init(&con, &gm, &hooks, 11, 4, names);
	kick = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	con.kick_fd = kick;
	memset(avail_idx, 0, sizeof(avail_idx));
	irq_edges = irq_level = 0;
	wr(VIRTIO_MMIO_STATUS, 0);
	wr(VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	wr(VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
	f0 = rd(VIRTIO_MMIO_DEVICE_FEATURES);
	wr(VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);
	f1 = rd(VIRTIO_MMIO_DEVICE_FEATURES);
	wr(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
	wr(VIRTIO_MMIO_DRIVER_FEATURES, f0 & (1u << VIRTIO_CONSOLE_F_MULTIPORT));
	wr(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	wr(VIRTIO_MMIO_DRIVER_FEATURES, f1 & 1);
	wr(VIRTIO_MMIO_STATUS,
	   VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK);
	for (uint32_t q = 0; q < NQ; q++) {
		wr(VIRTIO_MMIO_QUEUE_SEL, q);
		wr(VIRTIO_MMIO_QUEUE_NUM, QSIZE);
		wr(VIRTIO_MMIO_QUEUE_DESC_LOW, DESC(q));
		wr(VIRTIO_MMIO_QUEUE_DRIVER_LOW, AVAIL(q));
		wr(VIRTIO_MMIO_QUEUE_DEVICE_LOW, USED(q));
		wr(VIRTIO_MMIO_QUEUE_READY, 1);
	}
	wr(VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
				       VIRTIO_STATUS_FEATURES_OK | VIRTIO_STATUS_DRIVER_OK);
	return 0;
}

static int teardown(void **state)
{
	virtio_console_destroy(&con);
	close(kick);
	return 0;
}

/* One single-descriptor chain on queue q: len bytes at addr, device-writable or not. */
static void post_at(unsigned q, uint64_t addr, uint32_t len, bool writable)
{
	uint16_t i = (uint16_t)(avail_idx[q] % QSIZE), flags = writable ? VIRTQ_DESC_F_WRITE : 0,
		 next = 0;
	uint8_t *d = ram + DESC(q) + 16u * i;

	memcpy(d, &addr, 8);
	memcpy(d + 8, &len, 4);
	memcpy(d + 12, &flags, 2);
	memcpy(d + 14, &next, 2);
	memcpy(ram + AVAIL(q) + 4 + 2 * i, &i, 2);
	avail_idx[q]++;
	memcpy(ram + AVAIL(q) + 2, &avail_idx[q], 2);
}

static void post(unsigned q, uint32_t off, uint32_t len, bool writable)
{
	post_at(q, BUF + off, len, writable);
}

static uint16_t used_idx(unsigned q)
{
	uint16_t v;

	memcpy(&v, ram + USED(q) + 2, 2);
	return v;
}

static uint32_t used_len(unsigned q, uint16_t slot)
{
	uint32_t v;

	memcpy(&v, ram + USED(q) + 8 + 8 * (slot % QSIZE), 4);
	return v;
}

/* The driver sends a control message (Linux waits until the device has used it). */
static void driver_says(uint32_t id, uint16_t event, uint16_t value)
{
	static unsigned n;
	uint64_t at = CTRL_BUF + 16u * (n++ % 64);

	memcpy(ram + at, &id, 4);
	memcpy(ram + at + 4, &event, 2);
	memcpy(ram + at + 6, &value, 2);
	post_at(VIRTIO_CONSOLE_CTRL_TXQ, at, 8, false);
	wr(VIRTIO_MMIO_QUEUE_NOTIFY, VIRTIO_CONSOLE_CTRL_TXQ);
}

/* Control receive buffers: QSIZE of 64 bytes at BUF + 0x8000 + 64 * i. */
static void post_ctrl_buffers(void)
{
	for (unsigned i = 0; i < QSIZE; i++)
		post(VIRTIO_CONSOLE_CTRL_RXQ, 0x8000 + 64 * i, 64, true);
	wr(VIRTIO_MMIO_QUEUE_NOTIFY, VIRTIO_CONSOLE_CTRL_RXQ);
}

/* The device's control message in used slot i. */
static void device_said(uint16_t slot, uint32_t *id, uint16_t *event, uint16_t *value)
{
	const uint8_t *m = ram + BUF + 0x8000 + 64 * (slot % QSIZE);

	memcpy(id, m, 4);
	memcpy(event, m + 4, 2);
	memcpy(value, m + 6, 2);
}

static bool kicked(void)
{
	uint64_t v;

	return read(kick, &v, sizeof(v)) == sizeof(v);
}

static void it_offers_multiport_with_four_ports_and_ten_queues(void **state)
{
	assert_int_equal(rd(VIRTIO_MMIO_DEVICE_ID), VIRTIO_ID_CONSOLE);
	wr(VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
	assert_true(rd(VIRTIO_MMIO_DEVICE_FEATURES) & (1u << VIRTIO_CONSOLE_F_MULTIPORT));
	assert_int_equal(rd(VIRTIO_MMIO_CONFIG + 4), VIRTIO_CONSOLE_MAX_PORTS); /* max_nr_ports */
	wr(VIRTIO_MMIO_QUEUE_SEL, NQ - 1);
	assert_int_equal(rd(VIRTIO_MMIO_QUEUE_NUM_MAX), VIRTIO_CONSOLE_QUEUE_SIZE);
	wr(VIRTIO_MMIO_QUEUE_SEL, NQ);
	assert_int_equal(rd(VIRTIO_MMIO_QUEUE_NUM_MAX), 0);
	/* port 0 on queues 0/1, control on 2/3, port p on 2(p+1) */
	assert_int_equal(virtio_console_rxq(0), 0);
	assert_int_equal(virtio_console_rxq(1), 4);
	assert_int_equal(virtio_console_txq(3), 9);
}

static void ready_driver_gets_every_port_then_open_before_name(void **state)
{
	uint32_t id;
	uint16_t ev, val;

	uint16_t head;

	post_ctrl_buffers();
	driver_says(0, VIRTIO_CONSOLE_RESIZE, 0); /* ignored: the next message's head is 1 */
	driver_says(0xffffffffu, VIRTIO_CONSOLE_DEVICE_READY, 1);
	assert_int_equal(used_idx(VIRTIO_CONSOLE_CTRL_TXQ), 2); /* used at once */
	/* the driver's own chain comes back, not one of the receive chains the answers took */
	memcpy(&head, ram + USED(VIRTIO_CONSOLE_CTRL_TXQ) + 4 + 8, 2);
	assert_int_equal(head, 1);
	assert_int_equal(used_idx(VIRTIO_CONSOLE_CTRL_RXQ), 4);
	for (uint16_t i = 0; i < 4; i++) {
		device_said(i, &id, &ev, &val);
		assert_int_equal(id, i);
		assert_int_equal(ev, VIRTIO_CONSOLE_DEVICE_ADD);
	}
	virtio_console_set_host_open(&con, 2, true); /* not sent: the port is not ready */
	assert_int_equal(used_idx(VIRTIO_CONSOLE_CTRL_RXQ), 4);
	driver_says(2, VIRTIO_CONSOLE_PORT_READY, 1);
	assert_int_equal(used_idx(VIRTIO_CONSOLE_CTRL_RXQ), 6);
	device_said(4, &id, &ev, &val);
	assert_int_equal(id, 2);
	assert_int_equal(ev, VIRTIO_CONSOLE_PORT_OPEN);
	assert_int_equal(val, 1);
	device_said(5, &id, &ev, &val);
	assert_int_equal(ev, VIRTIO_CONSOLE_PORT_NAME);
	assert_int_equal(used_len(VIRTIO_CONSOLE_CTRL_RXQ, 5), 8 + strlen("ward.stdout"));
	assert_memory_equal(ram + BUF + 0x8000 + 64 * 5 + 8, "ward.stdout", 11);
	/* a port whose host end is closed gets only its name; later changes are sent */
	driver_says(1, VIRTIO_CONSOLE_PORT_READY, 1);
	assert_int_equal(used_idx(VIRTIO_CONSOLE_CTRL_RXQ), 7);
	device_said(6, &id, &ev, &val);
	assert_int_equal(ev, VIRTIO_CONSOLE_PORT_NAME);
	virtio_console_set_host_open(&con, 1, true);
	device_said(7, &id, &ev, &val);
	assert_int_equal(used_idx(VIRTIO_CONSOLE_CTRL_RXQ), 8);
	assert_int_equal(id, 1);
	assert_int_equal(ev, VIRTIO_CONSOLE_PORT_OPEN);
	assert_int_equal(val, 1);
}

static void control_messages_wait_for_the_drivers_buffers(void **state)
{
	uint32_t id;
	uint16_t ev, val;

	driver_says(0xffffffffu, VIRTIO_CONSOLE_DEVICE_READY, 1);
	assert_int_equal(used_idx(VIRTIO_CONSOLE_CTRL_RXQ), 0);
	post_ctrl_buffers();
	assert_int_equal(used_idx(VIRTIO_CONSOLE_CTRL_RXQ), 4);
	device_said(3, &id, &ev, &val);
	assert_int_equal(id, 3);
	assert_int_equal(ev, VIRTIO_CONSOLE_DEVICE_ADD);
}

static void input_waits_until_the_guest_opens_the_port(void **state)
{
	unsigned closes;

	post(virtio_console_rxq(1), 0, 4, true);
	post(virtio_console_rxq(1), 0x100, 64, true);
	/* Linux drops data for a port nobody has open */
	assert_int_equal(virtio_console_input(&con, 1, (const uint8_t *)"abcdef", 6), 0);
	assert_int_equal(used_idx(virtio_console_rxq(1)), 0);
	driver_says(1, VIRTIO_CONSOLE_PORT_OPEN, 1);
	assert_true(kicked()); /* the relay learns the port opened */
	assert_true(virtio_console_guest_open(&con, 1, &closes));
	assert_int_equal(closes, 0);
	assert_int_equal(virtio_console_input(&con, 1, (const uint8_t *)"abcdef", 6), 6);
	assert_int_equal(used_idx(virtio_console_rxq(1)), 2);
	assert_int_equal(used_len(virtio_console_rxq(1), 0), 4);
	assert_int_equal(used_len(virtio_console_rxq(1), 1), 2);
	assert_memory_equal(ram + BUF, "abcd", 4);
	assert_memory_equal(ram + BUF + 0x100, "ef", 2);
	/* no buffer left: nothing taken, nothing waited for */
	assert_int_equal(virtio_console_input(&con, 1, (const uint8_t *)"g", 1), 0);
	/* the guest closes it: counted (the exec relay's connection boundary) */
	driver_says(1, VIRTIO_CONSOLE_PORT_OPEN, 0);
	assert_false(virtio_console_guest_open(&con, 1, &closes));
	assert_int_equal(closes, 1);
}

static void output_reaches_the_fd_and_is_dropped_without_one(void **state)
{
	int p[2];
	char got[32] = {0};

	assert_int_equal(pipe(p), 0);
	memcpy(ram + BUF, "dropped", 7);
	post(virtio_console_txq(2), 0, 7, false);
	wr(VIRTIO_MMIO_QUEUE_NOTIFY, virtio_console_txq(2));
	assert_int_equal(used_idx(virtio_console_txq(2)), 1); /* consumed without a reader */
	virtio_console_set_out(&con, 2, p[1]);
	memcpy(ram + BUF + 64, "hello host", 10);
	post(virtio_console_txq(2), 64, 10, false);
	wr(VIRTIO_MMIO_QUEUE_NOTIFY, virtio_console_txq(2));
	assert_int_equal(used_idx(virtio_console_txq(2)), 2);
	assert_true(irq_edges >= 1);
	assert_int_equal(read(p[0], got, sizeof(got)), 10);
	assert_string_equal(got, "hello host");
	close(p[0]);
	close(p[1]);
}

/* The exec client's socket, already full: returns the VMM's end in *host, the client's in
 * *client, and how many filler bytes are queued. */
static size_t full_client(int *host, int *client)
{
	int sv[2], small = 4096;
	size_t queued = 0;
	char fill[1024];

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
	setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &small, sizeof(small));
	memset(fill, 'F', sizeof(fill));
	for (;;) {
		ssize_t n = write(sv[0], fill, sizeof(fill));

		if (n < 0) {
			assert_int_equal(errno, EAGAIN);
			break;
		}
		queued += (size_t)n;
	}
	*host = sv[0];
	*client = sv[1];
	return queued;
}

#define BIG 8192

static void a_full_socket_leaves_output_in_the_queue_until_it_drains(void **state)
{
	static char got[1 << 20];
	int host, client;
	size_t queued = full_client(&host, &client), have = 0;

	for (unsigned i = 0; i < BIG; i++)
		ram[BUF + i] = (uint8_t)('a' + i % 26);
	virtio_console_set_out(&con, 0, host);
	post(virtio_console_txq(0), 0, BIG, false);
	/* the vCPU's notify returns at once; the buffer is not used, the relay is kicked */
	wr(VIRTIO_MMIO_QUEUE_NOTIFY, virtio_console_txq(0));
	assert_int_equal(used_idx(virtio_console_txq(0)), 0);
	assert_true(kicked());
	assert_true(virtio_console_transmit(&con, 0)); /* still full */
	assert_int_equal(used_idx(virtio_console_txq(0)), 0);
	/* the client reads; each transmit writes what fits, the chain is used at the end */
	while (have < queued + BIG) {
		ssize_t n = read(client, got + have, sizeof(got) - have);

		if (n > 0)
			have += (size_t)n;
		else
			assert_int_equal(errno, EAGAIN);
		virtio_console_transmit(&con, 0);
	}
	assert_false(virtio_console_transmit(&con, 0));
	assert_int_equal(used_idx(virtio_console_txq(0)), 1);
	assert_memory_equal(got + queued, ram + BUF, BIG);
	close(host);
	close(client);
}

static void a_client_that_goes_loses_the_held_output_not_the_next(void **state)
{
	int host, client, p[2];
	char got[16] = {0};

	full_client(&host, &client);
	virtio_console_set_out(&con, 0, host);
	post(virtio_console_txq(0), 0, BIG, false);
	wr(VIRTIO_MMIO_QUEUE_NOTIFY, virtio_console_txq(0));
	assert_int_equal(used_idx(virtio_console_txq(0)), 0);
	/* the next reader gets none of it: the held chain is returned to the guest */
	assert_int_equal(pipe(p), 0);
	virtio_console_set_out(&con, 0, p[1]);
	assert_int_equal(used_idx(virtio_console_txq(0)), 1);
	memcpy(ram + BUF + 0x4000, "next", 4);
	post(virtio_console_txq(0), 0x4000, 4, false);
	wr(VIRTIO_MMIO_QUEUE_NOTIFY, virtio_console_txq(0));
	assert_int_equal(read(p[0], got, sizeof(got)), 4);
	assert_string_equal(got, "next");
	close(host);
	close(client);
	close(p[0]);
	close(p[1]);
}

static void frames_are_parsed_only_when_complete(void **state)
{
	uint8_t buf[16];
	uint32_t len;
	char type;

	wctl_header(buf, 'O', 3);
	memcpy(buf + WCTL_HDR, "abc", 3);
	assert_int_equal(wctl_frame(buf, 4, &type, &len), 0);
	assert_int_equal(wctl_frame(buf, 7, &type, &len), 0);
	assert_int_equal(wctl_frame(buf, 8, &type, &len), 8);
	assert_int_equal(type, 'O');
	assert_int_equal(len, 3);
	wctl_header(buf, 'O', WCTL_MAX_PAYLOAD + 1);
	assert_int_equal(wctl_frame(buf, 8, &type, &len), -1);
}

static void an_exec_request_splits_into_cwd_ids_args_and_env(void **state)
{
	char req[] = "/srv\0"
		     "1000\0"
		     "100\0"
		     "2\0"
		     "sh\0"
		     "-c\0"
		     "A=b\0"
		     "PATH=/bin";
	char *argv[WCTL_MAX_STRINGS + 1], *envp[WCTL_MAX_STRINGS + 1];
	const char *cwd;
	unsigned uid, gid;

	assert_int_equal(wctl_parse_exec(req, sizeof(req), &cwd, &uid, &gid, argv, envp), 0);
	assert_string_equal(cwd, "/srv");
	assert_int_equal(uid, 1000);
	assert_int_equal(gid, 100);
	assert_string_equal(argv[0], "sh");
	assert_string_equal(argv[1], "-c");
	assert_null(argv[2]);
	assert_string_equal(envp[0], "A=b");
	assert_string_equal(envp[1], "PATH=/bin");
	assert_null(envp[2]);
	/* argc beyond the strings, a relative cwd, no final NUL */
	char bad1[] = "/\0"
		      "0\0"
		      "0\0"
		      "3\0"
		      "a\0"
		      "b";
	assert_int_equal(wctl_parse_exec(bad1, sizeof(bad1), &cwd, &uid, &gid, argv, envp), -1);
	char bad2[] = "srv\0"
		      "0\0"
		      "0\0"
		      "1\0"
		      "a";
	assert_int_equal(wctl_parse_exec(bad2, sizeof(bad2), &cwd, &uid, &gid, argv, envp), -1);
	assert_int_equal(wctl_parse_exec(req, sizeof(req) - 1, &cwd, &uid, &gid, argv, envp), -1);
}

/* The driver fills each receive queue at start-up with one exit per buffer: small queues. */
static void its_queues_are_small_and_a_bigger_size_is_refused(void **state)
{
	wr(VIRTIO_MMIO_QUEUE_SEL, 2);
	assert_int_equal(rd(VIRTIO_MMIO_QUEUE_NUM_MAX), VIRTIO_CONSOLE_QUEUE_SIZE);
	assert_true(VIRTIO_CONSOLE_QUEUE_SIZE <= 16);
	wr(VIRTIO_MMIO_QUEUE_SEL, 9);
	assert_int_equal(rd(VIRTIO_MMIO_QUEUE_NUM_MAX), VIRTIO_CONSOLE_QUEUE_SIZE);
	wr(VIRTIO_MMIO_QUEUE_READY, 0);
	wr(VIRTIO_MMIO_QUEUE_NUM, 256);
	assert_int_equal(con.t.vq[9].num, 0);
	wr(VIRTIO_MMIO_QUEUE_NUM, VIRTIO_CONSOLE_QUEUE_SIZE);
	assert_int_equal(con.t.vq[9].num, VIRTIO_CONSOLE_QUEUE_SIZE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(its_queues_are_small_and_a_bigger_size_is_refused,
						setup, teardown),
		cmocka_unit_test_setup_teardown(it_offers_multiport_with_four_ports_and_ten_queues,
						setup, teardown),
		cmocka_unit_test_setup_teardown(ready_driver_gets_every_port_then_open_before_name,
						setup, teardown),
		cmocka_unit_test_setup_teardown(control_messages_wait_for_the_drivers_buffers, setup,
						teardown),
		cmocka_unit_test_setup_teardown(input_waits_until_the_guest_opens_the_port, setup,
						teardown),
		cmocka_unit_test_setup_teardown(output_reaches_the_fd_and_is_dropped_without_one,
						setup, teardown),
		cmocka_unit_test_setup_teardown(
			a_full_socket_leaves_output_in_the_queue_until_it_drains, setup, teardown),
		cmocka_unit_test_setup_teardown(
			a_client_that_goes_loses_the_held_output_not_the_next, setup, teardown),
		cmocka_unit_test(frames_are_parsed_only_when_complete),
		cmocka_unit_test(an_exec_request_splits_into_cwd_ids_args_and_env),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
