/* A 16550A UART (8250 family) as Linux's 8250 driver probes and drives it: interrupt driven
 * (RX data and THR empty), transmitting instantly to a host fd, receiving from a FIFO that a
 * reader thread fills. Thread-safe: vCPU threads and the reader share it under its lock. */
#ifndef WARD_VMM_DEV_UART_H
#define WARD_VMM_DEV_UART_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vmm_shim/dev.h"
#include "vmm_shim/snapshot.h"

#define UART_COM1_PORT 0x3f8
#define UART_COM1_IRQ 4
#define UART_RX_FIFO 64

/* registers (offset from the base) */
#define UART_RBR 0
#define UART_THR 0
#define UART_DLL 0
#define UART_IER 1
#define UART_DLM 1
#define UART_IIR 2
#define UART_FCR 2
#define UART_LCR 3
#define UART_MCR 4
#define UART_LSR 5
#define UART_MSR 6
#define UART_SCR 7

#define UART_IER_RDI 0x01
#define UART_IER_THRI 0x02
#define UART_IER_RLSI 0x04
#define UART_IER_MSI 0x08
#define UART_IIR_NO_INT 0x01
#define UART_IIR_MSI 0x00
#define UART_IIR_THRI 0x02
#define UART_IIR_RDI 0x04
#define UART_IIR_RLSI 0x06
#define UART_IIR_FIFO 0xc0
#define UART_FCR_ENABLE 0x01
#define UART_FCR_CLEAR_RX 0x02
#define UART_LCR_DLAB 0x80
#define UART_MCR_DTR 0x01
#define UART_MCR_RTS 0x02
#define UART_MCR_OUT1 0x04
#define UART_MCR_OUT2 0x08
#define UART_MCR_LOOP 0x10
#define UART_LSR_DR 0x01
#define UART_LSR_THRE 0x20
#define UART_LSR_TEMT 0x40
#define UART_MSR_CTS 0x10
#define UART_MSR_DSR 0x20
#define UART_MSR_RI 0x40
#define UART_MSR_DCD 0x80

struct uart {
	pthread_mutex_t lock;
	pthread_cond_t rx_space; /* signalled when the guest drains RX or on uart_wake */
	struct vmm_hooks hooks;
	unsigned irq;
	int out_fd;
	int out_error; /* first errno writing out_fd (output is then dropped) */
	uint8_t ier, lcr, mcr, scr, dll, dlm, fcr;
	bool thri_pending; /* THR-empty interrupt condition, cleared by reading IIR */
	int irq_level;
	bool woken;
	uint8_t rx[UART_RX_FIFO];
	unsigned rx_head, rx_count;
};

extern const struct dev_ops uart_ops;
void uart_init(struct uart *u, const struct vmm_hooks *hooks, unsigned irq, int out_fd);
void uart_destroy(struct uart *u);
/* Queue input bytes for the guest; returns how many fit into the RX FIFO. */
size_t uart_receive(struct uart *u, const uint8_t *buf, size_t n);
/* Block until the RX FIFO has room (returns the room) or uart_wake was called (returns 0). */
size_t uart_wait_rx_space(struct uart *u);
void uart_wake(struct uart *u);
/* Checkpoint: the registers and the RX FIFO (the IRQ line's level is re-asserted by KVM's
 * saved irqchip state). */
void uart_save(struct uart *u, struct vmm_snap *s);
void uart_load(struct uart *u, const struct vmm_snap *s);

#endif
