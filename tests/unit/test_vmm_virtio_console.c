/* virtio-console, the control channel: a fake driver sets up both queues in a buffer standing
 * in for guest RAM; guest output must reach the host stream (a pipe), host input the guest's
 * receive buffers. Plus the control protocol's framing (vmm_shim/guest/ward_ctl.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "vmm_shim/dev_virtio_console.h"
#include "vmm_shim/guest/ward_ctl.h"

#define RAM_SIZE 0x20000
#define QSIZE 8
/* queue q's rings at 0x1000 + q * 0x3000: desc, avail, used */
#define DESC(q) (0x1000u + (q)*0x3000u)
#define AVAIL(q) (DESC(q) + 0x1000u)
#define USED(q) (DESC(q) + 0x2000u)
#define BUF 0x10000

static uint8_t ram[RAM_SIZE];
static struct guest_mem gm;
static struct virtio_console con;
static uint16_t avail_idx[2];
static int irq_edges, irq_level;

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
	uint32_t f1;

	memset(ram, 0, sizeof(ram));
	gm = (struct guest_mem){.n = 1};
	gm.r[0] = (struct gm_region){.gpa = 0, .size = RAM_SIZE, .host = ram};
	virtio_console_init(&con, &gm, &hooks, 11);
	avail_idx[0] = avail_idx[1] = 0;
	irq_edges = irq_level = 0;
	wr(VIRTIO_MMIO_STATUS, 0);
	wr(VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	wr(VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);
	f1 = rd(VIRTIO_MMIO_DEVICE_FEATURES);
	wr(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	wr(VIRTIO_MMIO_DRIVER_FEATURES, f1 & 1);
	wr(VIRTIO_MMIO_STATUS,
	   VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK);
	for (uint32_t q = 0; q < 2; q++) {
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
	return 0;
}

/* One single-descriptor chain on queue q: len bytes at BUF + off, device-writable or not. */
static void post(unsigned q, uint32_t off, uint32_t len, bool writable)
{
	uint16_t i = (uint16_t)(avail_idx[q] % QSIZE), flags = writable ? VIRTQ_DESC_F_WRITE : 0,
		 next = 0;
	uint64_t addr = BUF + off;
	uint8_t *d = ram + DESC(q) + 16u * i;

	memcpy(d, &addr, 8);
	memcpy(d + 8, &len, 4);
	memcpy(d + 12, &flags, 2);
	memcpy(d + 14, &next, 2);
	memcpy(ram + AVAIL(q) + 4 + 2 * i, &i, 2);
	avail_idx[q]++;
	memcpy(ram + AVAIL(q) + 2, &avail_idx[q], 2);
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

static void it_is_a_console_device_with_two_queues(void **state)
{
	assert_int_equal(rd(VIRTIO_MMIO_DEVICE_ID), VIRTIO_ID_CONSOLE);
	wr(VIRTIO_MMIO_QUEUE_SEL, 2);
	assert_int_equal(rd(VIRTIO_MMIO_QUEUE_NUM_MAX), 0);
}

static void guest_output_reaches_the_host_stream_and_is_dropped_without_one(void **state)
{
	int p[2];
	char got[32] = {0};

	assert_int_equal(pipe(p), 0);
	memcpy(ram + BUF, "dropped", 7);
	post(VIRTIO_CONSOLE_TXQ, 0, 7, false);
	wr(VIRTIO_MMIO_QUEUE_NOTIFY, VIRTIO_CONSOLE_TXQ);
	assert_int_equal(used_idx(VIRTIO_CONSOLE_TXQ), 1); /* consumed without a client */
	virtio_console_set_fd(&con, p[1]);
	memcpy(ram + BUF + 64, "hello host", 10);
	post(VIRTIO_CONSOLE_TXQ, 64, 10, false);
	wr(VIRTIO_MMIO_QUEUE_NOTIFY, VIRTIO_CONSOLE_TXQ);
	assert_int_equal(used_idx(VIRTIO_CONSOLE_TXQ), 2);
	assert_true(irq_edges >= 1);
	assert_int_equal(read(p[0], got, sizeof(got)), 10);
	assert_string_equal(got, "hello host");
	close(p[0]);
	close(p[1]);
}

static void host_input_fills_the_guests_receive_buffers(void **state)
{
	post(VIRTIO_CONSOLE_RXQ, 0, 4, true);
	post(VIRTIO_CONSOLE_RXQ, 0x100, 64, true);
	/* 6 bytes: 4 into the first buffer, 2 into the second */
	assert_int_equal(virtio_console_input(&con, (const uint8_t *)"abcdef", 6), 0);
	assert_int_equal(used_idx(VIRTIO_CONSOLE_RXQ), 2);
	assert_int_equal(used_len(VIRTIO_CONSOLE_RXQ, 0), 4);
	assert_int_equal(used_len(VIRTIO_CONSOLE_RXQ, 1), 2);
	assert_memory_equal(ram + BUF, "abcd", 4);
	assert_memory_equal(ram + BUF + 0x100, "ef", 2);
}

static void input_without_buffers_fails_once_the_device_closes(void **state)
{
	virtio_console_close(&con);
	assert_int_equal(virtio_console_input(&con, (const uint8_t *)"x", 1), -1);
	assert_int_equal(used_idx(VIRTIO_CONSOLE_RXQ), 0);
}

/* The control client's socket as the VMM has it (non-blocking), already full: returns the
 * guest-side end in *host, the client's in *client, and how many filler bytes are queued. */
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

static void *notify_tx(void *arg)
{
	wr(VIRTIO_MMIO_QUEUE_NOTIFY, VIRTIO_CONSOLE_TXQ);
	return NULL;
}

static void a_slow_client_gets_all_the_output_once_it_reads(void **state)
{
	static char got[1 << 20];
	int host, client;
	size_t queued = full_client(&host, &client), have = 0;
	pthread_t t;

	for (unsigned i = 0; i < BIG; i++)
		ram[BUF + i] = (uint8_t)('a' + i % 26);
	virtio_console_set_fd(&con, host);
	post(VIRTIO_CONSOLE_TXQ, 0, BIG, false);
	assert_int_equal(pthread_create(&t, NULL, notify_tx, NULL), 0);
	usleep(50 * 1000);
	/* the vCPU waits for room: nothing dropped, the chain not yet returned */
	assert_int_equal(used_idx(VIRTIO_CONSOLE_TXQ), 0);
	while (have < queued + BIG) {
		struct pollfd p = {.fd = client, .events = POLLIN};
		ssize_t n;

		assert_int_equal(poll(&p, 1, 2000), 1);
		n = read(client, got + have, sizeof(got) - have);
		assert_true(n > 0);
		have += (size_t)n;
	}
	assert_int_equal(pthread_join(t, NULL), 0);
	assert_int_equal(used_idx(VIRTIO_CONSOLE_TXQ), 1);
	assert_memory_equal(got + queued, ram + BUF, BIG);
	close(host);
	close(client);
}

static void a_stopping_vm_does_not_wait_for_a_client_that_does_not_read(void **state)
{
	int host, client, stop = eventfd(0, EFD_CLOEXEC);
	uint64_t one = 1;
	struct timespec deadline;
	pthread_t t;

	full_client(&host, &client);
	con.stop_fd = stop;
	virtio_console_set_fd(&con, host);
	post(VIRTIO_CONSOLE_TXQ, 0, BIG, false);
	assert_int_equal(pthread_create(&t, NULL, notify_tx, NULL), 0);
	usleep(50 * 1000);
	assert_int_equal(write(stop, &one, sizeof(one)), sizeof(one));
	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += 5;
	assert_int_equal(pthread_timedjoin_np(t, NULL, &deadline), 0);
	close(host);
	close(client);
	close(stop);
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(it_is_a_console_device_with_two_queues, setup,
						teardown),
		cmocka_unit_test_setup_teardown(
			guest_output_reaches_the_host_stream_and_is_dropped_without_one, setup,
			teardown),
		cmocka_unit_test_setup_teardown(host_input_fills_the_guests_receive_buffers, setup,
						teardown),
		cmocka_unit_test_setup_teardown(input_without_buffers_fails_once_the_device_closes,
						setup, teardown),
		cmocka_unit_test_setup_teardown(a_slow_client_gets_all_the_output_once_it_reads,
						setup, teardown),
		cmocka_unit_test_setup_teardown(
			a_stopping_vm_does_not_wait_for_a_client_that_does_not_read, setup,
			teardown),
		cmocka_unit_test(frames_are_parsed_only_when_complete),
		cmocka_unit_test(an_exec_request_splits_into_cwd_ids_args_and_env),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
