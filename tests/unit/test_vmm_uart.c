/* The 8250/16550A UART as Linux's 8250 driver sees it: divisor latch, line status, interrupt
 * identification priorities, the IRQ line (through a fake irq hook), loopback, input FIFO. */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "vmm_shim/dev_uart.h"

struct fake_vm {
	int level;
	int changes;
	unsigned irq;
};

static void fake_irq(void *opaque, unsigned irq, int level)
{
	struct fake_vm *f = opaque;

	f->irq = irq;
	f->level = level;
	f->changes++;
}

static void fake_stop(void *opaque, enum vmm_stop_reason r, int status)
{
}

struct fixture {
	struct fake_vm vm;
	struct uart u;
	int pipe[2];
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct vmm_hooks h = {.irq_line = fake_irq, .stop = fake_stop};

	h.opaque = &f->vm;
	if (pipe2(f->pipe, O_NONBLOCK) < 0)
		return -1;
	uart_init(&f->u, &h, UART_COM1_IRQ, f->pipe[1]);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	uart_destroy(&f->u);
	close(f->pipe[0]);
	close(f->pipe[1]);
	free(f);
	return 0;
}

static uint8_t rd(struct fixture *f, unsigned reg)
{
	uint8_t v[4];

	uart_ops.read(&f->u, reg, v, 1);
	return v[0];
}

static void wr(struct fixture *f, unsigned reg, uint8_t v)
{
	uart_ops.write(&f->u, reg, &v, 1);
}

static void thr_writes_reach_the_console_fd(void **state)
{
	struct fixture *f = *state;
	char buf[8] = {0};

	wr(f, UART_THR, 'o');
	wr(f, UART_THR, 'k');
	assert_int_equal(read(f->pipe[0], buf, sizeof(buf)), 2);
	assert_string_equal(buf, "ok");
}

static void dlab_switches_registers_0_and_1_to_the_divisor(void **state)
{
	struct fixture *f = *state;
	char buf[4];

	wr(f, UART_LCR, UART_LCR_DLAB | 0x03);
	wr(f, UART_DLL, 0x01);
	wr(f, UART_DLM, 0x00);
	assert_int_equal(rd(f, UART_DLL), 0x01);
	assert_int_equal(rd(f, UART_DLM), 0x00);
	wr(f, UART_LCR, 0x03);
	assert_int_equal(rd(f, UART_IER), 0);			  /* the IER was not touched */
	assert_int_equal(read(f->pipe[0], buf, sizeof(buf)), -1); /* nor anything sent */
	assert_int_equal(rd(f, UART_LCR), 0x03);
}

static void lsr_reports_thr_empty_and_data_ready(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(rd(f, UART_LSR), UART_LSR_THRE | UART_LSR_TEMT);
	assert_int_equal(uart_receive(&f->u, (const uint8_t *)"x", 1), 1);
	assert_int_equal(rd(f, UART_LSR), UART_LSR_THRE | UART_LSR_TEMT | UART_LSR_DR);
	assert_int_equal(rd(f, UART_RBR), 'x');
	assert_int_equal(rd(f, UART_LSR) & UART_LSR_DR, 0);
}

static void ier_keeps_only_the_four_standard_bits(void **state)
{
	struct fixture *f = *state;

	wr(f, UART_IER, 0xff);
	assert_int_equal(rd(f, UART_IER), 0x0f);
	wr(f, UART_IER, 0);
	assert_int_equal(rd(f, UART_IER), 0);
}

static void no_interrupt_without_ier(void **state)
{
	struct fixture *f = *state;

	uart_receive(&f->u, (const uint8_t *)"a", 1);
	wr(f, UART_THR, 'b');
	assert_int_equal(rd(f, UART_IIR) & 0x0f, UART_IIR_NO_INT);
	assert_int_equal(f->vm.changes, 0);
}

static void enabling_thri_raises_the_line_and_reading_iir_lowers_it(void **state)
{
	struct fixture *f = *state;

	wr(f, UART_IER, UART_IER_THRI);
	assert_int_equal(f->vm.level, 1);
	assert_int_equal(f->vm.irq, 4);
	assert_int_equal(rd(f, UART_IIR) & 0x0f, UART_IIR_THRI);
	assert_int_equal(f->vm.level, 0);
	assert_int_equal(rd(f, UART_IIR) & 0x0f, UART_IIR_NO_INT);
	/* the next character sent empties THR again: raised once more */
	wr(f, UART_THR, 'z');
	assert_int_equal(f->vm.level, 1);
	assert_int_equal(f->vm.changes, 3);
}

static void received_data_outranks_thr_empty(void **state)
{
	struct fixture *f = *state;

	wr(f, UART_IER, UART_IER_THRI | UART_IER_RDI);
	uart_receive(&f->u, (const uint8_t *)"hi", 2);
	assert_int_equal(rd(f, UART_IIR) & 0x0f, UART_IIR_RDI);
	assert_int_equal(rd(f, UART_IIR) & 0x0f, UART_IIR_RDI); /* until the data is read */
	assert_int_equal(rd(f, UART_RBR), 'h');
	assert_int_equal(rd(f, UART_RBR), 'i');
	assert_int_equal(f->vm.level, 1); /* THRE is still pending */
	assert_int_equal(rd(f, UART_IIR) & 0x0f, UART_IIR_THRI);
	assert_int_equal(f->vm.level, 0);
}

static void rx_interrupt_follows_the_fifo(void **state)
{
	struct fixture *f = *state;

	wr(f, UART_IER, UART_IER_RDI);
	assert_int_equal(f->vm.level, 0);
	uart_receive(&f->u, (const uint8_t *)"q", 1);
	assert_int_equal(f->vm.level, 1);
	assert_int_equal(rd(f, UART_RBR), 'q');
	assert_int_equal(f->vm.level, 0);
}

static void fifo_enable_shows_in_iir_and_clear_empties_rx(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(rd(f, UART_IIR), UART_IIR_NO_INT);
	wr(f, UART_FCR, UART_FCR_ENABLE);
	assert_int_equal(rd(f, UART_IIR), UART_IIR_FIFO | UART_IIR_NO_INT);
	uart_receive(&f->u, (const uint8_t *)"abc", 3);
	wr(f, UART_FCR, UART_FCR_ENABLE | UART_FCR_CLEAR_RX);
	assert_int_equal(rd(f, UART_LSR) & UART_LSR_DR, 0);
}

static void rx_fifo_takes_at_most_its_size(void **state)
{
	struct fixture *f = *state;
	uint8_t big[UART_RX_FIFO + 10];

	memset(big, 'y', sizeof(big));
	assert_int_equal(uart_receive(&f->u, big, sizeof(big)), UART_RX_FIFO);
	assert_int_equal(uart_receive(&f->u, big, 1), 0);
	rd(f, UART_RBR);
	assert_int_equal(uart_wait_rx_space(&f->u), 1);
}

static void loopback_mirrors_modem_lines_as_linux_probes_them(void **state)
{
	struct fixture *f = *state;
	char buf[4];

	/* Linux's autoconfig: MCR = LOOP | OUT2 | RTS must read MSR & 0xf0 == 0x90 */
	wr(f, UART_MCR, UART_MCR_LOOP | 0x0a);
	assert_int_equal(rd(f, UART_MSR) & 0xf0, 0x90);
	wr(f, UART_MCR, UART_MCR_LOOP);
	assert_int_equal(rd(f, UART_MSR) & 0xf0, 0x00);
	/* loopback sends nothing out, the character comes back in */
	wr(f, UART_THR, 'L');
	assert_int_equal(read(f->pipe[0], buf, sizeof(buf)), -1);
	assert_int_equal(rd(f, UART_RBR), 'L');
	wr(f, UART_MCR, 0);
	assert_int_equal(rd(f, UART_MSR) & 0xb0, 0xb0); /* DCD, DSR, CTS: a cable is there */
}

static void scratch_register_holds_a_byte(void **state)
{
	struct fixture *f = *state;

	wr(f, UART_SCR, 0xa5);
	assert_int_equal(rd(f, UART_SCR), 0xa5);
	wr(f, UART_SCR, 0x5a);
	assert_int_equal(rd(f, UART_SCR), 0x5a);
}

static void wake_unblocks_a_reader_waiting_for_room(void **state)
{
	struct fixture *f = *state;
	uint8_t big[UART_RX_FIFO];

	memset(big, 'w', sizeof(big));
	uart_receive(&f->u, big, sizeof(big));
	uart_wake(&f->u);
	assert_int_equal(uart_wait_rx_space(&f->u), 0);
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(thr_writes_reach_the_console_fd),
		T(dlab_switches_registers_0_and_1_to_the_divisor),
		T(lsr_reports_thr_empty_and_data_ready),
		T(ier_keeps_only_the_four_standard_bits),
		T(no_interrupt_without_ier),
		T(enabling_thri_raises_the_line_and_reading_iir_lowers_it),
		T(received_data_outranks_thr_empty),
		T(rx_interrupt_follows_the_fifo),
		T(fifo_enable_shows_in_iir_and_clear_empties_rx),
		T(rx_fifo_takes_at_most_its_size),
		T(loopback_mirrors_modem_lines_as_linux_probes_them),
		T(scratch_register_holds_a_byte),
		T(wake_unblocks_a_reader_waiting_for_room),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
