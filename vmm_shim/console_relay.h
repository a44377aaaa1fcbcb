/* The host side of the virtio-console's ports (dev_virtio_console.h), one thread that never
 * blocks on any one fd: `ward exec` clients from the control socket to port 0 (one at a time),
 * the container's stdin to the stdin port (end-of-file: the port's host end closes), and the
 * output the guest queued on any port to its fd once that fd has room. */
#ifndef WARD_VMM_CONSOLE_RELAY_H
#define WARD_VMM_CONSOLE_RELAY_H

#include <stdbool.h>

#include "vmm_shim/dev_virtio_console.h"

enum { RELAY_PORT_CTL, RELAY_PORT_STDIN, RELAY_PORT_STDOUT, RELAY_PORT_STDERR, RELAY_PORTS };

struct console_relay {
	struct virtio_console *con;
	int listen_fd;	 /* the control socket (listening), or -1 */
	bool stdio;	 /* the stdio ports exist */
	int stdio_fd[3]; /* with stdio: the container's stdin (-1: none), stdout, stderr */
	int wake_fd;	 /* readable: the VM stops, the thread returns */
	int kick_fd;	 /* the device's kick eventfd (non-blocking) */
};

/* The thread (arg: struct console_relay *). */
void *console_relay_run(void *arg);

#endif
