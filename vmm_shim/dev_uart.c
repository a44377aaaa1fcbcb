#include "vmm_shim/dev_uart.h"

#include <errno.h>
#include <string.h>

#include "lib/util.h"

void uart_init(struct uart *u, const struct vmm_hooks *hooks, unsigned irq, int out_fd)
{
	memset(u, 0, sizeof(*u));
	pthread_mutex_init(&u->lock, NULL);
	pthread_cond_init(&u->rx_space, NULL);
	u->hooks = *hooks;
	u->irq = irq;
	u->out_fd = out_fd;
	u->dll = 0x0c; /* 9600 baud, what firmware would leave */
	u->lcr = 0x03; /* 8N1 */
	u->mcr = UART_MCR_OUT2;
}

void uart_destroy(struct uart *u)
{
	pthread_cond_destroy(&u->rx_space);
	pthread_mutex_destroy(&u->lock);
}

/* The highest-priority pending interrupt, as IIR reports it (without the FIFO bits). */
static uint8_t uart_iir(const struct uart *u)
{
	if ((u->ier & UART_IER_RDI) && u->rx_count)
		return UART_IIR_RDI;
	if ((u->ier & UART_IER_THRI) && u->thri_pending)
		return UART_IIR_THRI;
	return UART_IIR_NO_INT;
}

static void uart_update_irq(struct uart *u)
{
	int level = uart_iir(u) != UART_IIR_NO_INT;

	if (level != u->irq_level) {
		u->irq_level = level;
		u->hooks.irq_line(u->hooks.opaque, u->irq, level);
	}
}

static void rx_push(struct uart *u, uint8_t c)
{
	if (u->rx_count < UART_RX_FIFO) {
		u->rx[(u->rx_head + u->rx_count) % UART_RX_FIFO] = c;
		u->rx_count++;
	}
}

static uint8_t rx_pop(struct uart *u)
{
	uint8_t c;

	if (!u->rx_count)
		return 0;
	c = u->rx[u->rx_head];
	u->rx_head = (u->rx_head + 1) % UART_RX_FIFO;
	u->rx_count--;
	pthread_cond_signal(&u->rx_space);
	return c;
}

static void transmit(struct uart *u, uint8_t c)
{
	if (u->mcr & UART_MCR_LOOP) {
		rx_push(u, c);
	} else if (u->out_fd >= 0 && !u->out_error) {
		int r = write_all(u->out_fd, &c, 1);

		if (r < 0)
			u->out_error = -r;
	}
	u->thri_pending = true; /* sent at once: THR is empty again */
}

static uint8_t msr_value(const struct uart *u)
{
	uint8_t m = u->mcr, v = 0;

	if (!(m & UART_MCR_LOOP))
		return UART_MSR_DCD | UART_MSR_DSR | UART_MSR_CTS;
	/* loopback: the modem outputs come back on the inputs */
	if (m & UART_MCR_DTR)
		v |= UART_MSR_DSR;
	if (m & UART_MCR_RTS)
		v |= UART_MSR_CTS;
	if (m & UART_MCR_OUT1)
		v |= UART_MSR_RI;
	if (m & UART_MCR_OUT2)
		v |= UART_MSR_DCD;
	return v;
}

static uint8_t uart_reg_read(struct uart *u, uint64_t off)
{
	bool dlab = u->lcr & UART_LCR_DLAB;
	uint8_t v;

	switch (off) {
	case UART_RBR:
		return dlab ? u->dll : rx_pop(u);
	case UART_IER:
		return dlab ? u->dlm : u->ier;
	case UART_IIR:
		v = uart_iir(u);
		if (v == UART_IIR_THRI)
			u->thri_pending = false; /* reading IIR acknowledges THRE */
		return v | ((u->fcr & UART_FCR_ENABLE) ? UART_IIR_FIFO : 0);
	case UART_LCR:
		return u->lcr;
	case UART_MCR:
		return u->mcr;
	case UART_LSR:
		return UART_LSR_THRE | UART_LSR_TEMT | (u->rx_count ? UART_LSR_DR : 0);
	case UART_MSR:
		return msr_value(u);
	case UART_SCR:
		return u->scr;
	default:
		return 0xff;
	}
}

static void uart_reg_write(struct uart *u, uint64_t off, uint8_t v)
{
	bool dlab = u->lcr & UART_LCR_DLAB;

	switch (off) {
	case UART_THR:
		if (dlab)
			u->dll = v;
		else
			transmit(u, v);
		break;
	case UART_IER:
		if (dlab) {
			u->dlm = v;
		} else {
			/* enabling THRI with THR empty raises it at once, as on a 16550A */
			if ((v & UART_IER_THRI) && !(u->ier & UART_IER_THRI))
				u->thri_pending = true;
			u->ier = v & 0x0f;
		}
		break;
	case UART_FCR:
		u->fcr = v & UART_FCR_ENABLE ? v : 0;
		if (v & UART_FCR_CLEAR_RX) {
			u->rx_count = 0;
			pthread_cond_signal(&u->rx_space);
		}
		break;
	case UART_LCR:
		u->lcr = v;
		break;
	case UART_MCR:
		u->mcr = v & 0x1f;
		break;
	case UART_SCR:
		u->scr = v;
		break;
	default:
		break; /* LSR, MSR: read-only */
	}
}

static void uart_read(void *dev, uint64_t off, uint8_t *data, unsigned size)
{
	struct uart *u = dev;

	memset(data, 0, size);
	pthread_mutex_lock(&u->lock);
	data[0] = uart_reg_read(u, off);
	uart_update_irq(u);
	pthread_mutex_unlock(&u->lock);
}

static void uart_write(void *dev, uint64_t off, const uint8_t *data, unsigned size)
{
	struct uart *u = dev;

	pthread_mutex_lock(&u->lock);
	uart_reg_write(u, off, data[0]);
	uart_update_irq(u);
	pthread_mutex_unlock(&u->lock);
}

size_t uart_receive(struct uart *u, const uint8_t *buf, size_t n)
{
	size_t i;

	pthread_mutex_lock(&u->lock);
	for (i = 0; i < n && u->rx_count < UART_RX_FIFO; i++)
		rx_push(u, buf[i]);
	uart_update_irq(u);
	pthread_mutex_unlock(&u->lock);
	return i;
}

size_t uart_wait_rx_space(struct uart *u)
{
	size_t room;

	pthread_mutex_lock(&u->lock);
	while (!u->woken && u->rx_count == UART_RX_FIFO)
		pthread_cond_wait(&u->rx_space, &u->lock);
	room = u->woken ? 0 : UART_RX_FIFO - u->rx_count;
	pthread_mutex_unlock(&u->lock);
	return room;
}

void uart_wake(struct uart *u)
{
	pthread_mutex_lock(&u->lock);
	u->woken = true;
	pthread_cond_broadcast(&u->rx_space);
	pthread_mutex_unlock(&u->lock);
}

const struct dev_ops uart_ops = {
	.name = "uart",
	.read = uart_read,
	.write = uart_write,
};

void uart_save(struct uart *u, struct vmm_snap *s)
{
	pthread_mutex_lock(&u->lock);
	s->uart.ier = u->ier;
	s->uart.lcr = u->lcr;
	s->uart.mcr = u->mcr;
	s->uart.scr = u->scr;
	s->uart.dll = u->dll;
	s->uart.dlm = u->dlm;
	s->uart.fcr = u->fcr;
	s->uart.thri_pending = u->thri_pending;
	s->uart.irq_level = u->irq_level;
	memcpy(s->uart.rx, u->rx, sizeof(s->uart.rx));
	s->uart.rx_head = u->rx_head;
	s->uart.rx_count = u->rx_count;
	pthread_mutex_unlock(&u->lock);
}

void uart_load(struct uart *u, const struct vmm_snap *s)
{
	pthread_mutex_lock(&u->lock);
	u->ier = s->uart.ier;
	u->lcr = s->uart.lcr;
	u->mcr = s->uart.mcr;
	u->scr = s->uart.scr;
	u->dll = s->uart.dll;
	u->dlm = s->uart.dlm;
	u->fcr = s->uart.fcr;
	u->thri_pending = s->uart.thri_pending;
	u->irq_level = s->uart.irq_level;
	memcpy(u->rx, s->uart.rx, sizeof(u->rx));
	u->rx_head = s->uart.rx_head % UART_RX_FIFO;
	u->rx_count = s->uart.rx_count > UART_RX_FIFO ? UART_RX_FIFO : s->uart.rx_count;
	pthread_mutex_unlock(&u->lock);
}
_Static_assert(VMM_SNAP_UART_FIFO == UART_RX_FIFO, "the snapshot holds the whole RX FIFO");
