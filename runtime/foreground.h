/* Waiting in the foreground for a container process (run, exec): signal forwarding, the pty
 * relay, the exit status. Lives in run.c. */
#ifndef WARD_RUNTIME_FOREGROUND_H
#define WARD_RUNTIME_FOREGROUND_H

#include <signal.h>
#include <sys/types.h>

/* SIGCHLD and every signal that is forwarded; block them before spawning the process. */
void foreground_signal_mask(sigset_t *mask);
/* Receive the pty master over sock and copy between it and our stdio in a child process;
 * returns its pid, or -1 (logged). */
pid_t foreground_console_relay(int sock);
/* Forward signals read from sfd (a signalfd of foreground_signal_mask) to pid and reap every
 * child (we are a subreaper) until pid exits; then wait for the relay. Returns pid's exit
 * status, 128+signal when killed. */
int foreground_wait(pid_t pid, pid_t relay, int sfd);

#endif
