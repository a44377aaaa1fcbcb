/* Terminal containers: the pty is created inside the container and its master is sent to
 * the caller over --console-socket (SCM_RIGHTS), as runc does. */
#ifndef WARD_RUNTIME_CONSOLE_H
#define WARD_RUNTIME_CONSOLE_H

#include <stdbool.h>
#include <stdint.h>

#include "lib/err.h"
#include "runtime/spec.h"

/* Open a new pty from /dev/ptmx (relative to the current root); *master, *slave_path. */
int console_open_pty(int *master, char **slave_path, struct werr **err);
/* A pty for process p: console_open_pty, the slave opened (O_NOCTTY), and p's consoleSize
 * applied when it has one. */
int console_open_for(const struct spec_process *p, int *master, int *slave, char **slave_path,
		     struct werr **err);
/* TIOCSWINSZ on fd. */
int console_set_size(int fd, uint32_t height, uint32_t width, struct werr **err);
/* Connect to a unix socket path (done by the parent, before the container exists). */
int console_connect(const char *socket_path, struct werr **err);
/* Send fd over a connected unix socket with SCM_RIGHTS, payload `name` (runc sends the pty
 * name "/dev/ptmx"). */
int console_send_fd(int sock, int fd, const char *name, struct werr **err);
int console_recv_fd(int sock, int *fd, struct werr **err);
/* Make slave the controlling terminal and stdin/stdout/stderr: setsid, TIOCSCTTY, dup2.
 * slave_fd stays open and owned by the caller. */
int console_make_controlling(int slave_fd, struct werr **err);
/* `ward run` with a terminal and no --console-socket: copy between our stdio and master until
 * the master hangs up; puts our stdin tty in raw mode meanwhile and restores it. */
int console_proxy(int master, struct werr **err);

#endif
