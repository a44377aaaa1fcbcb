#ifndef WARD_RUNTIME_SIGNALS_H
#define WARD_RUNTIME_SIGNALS_H

/* "KILL", "SIGKILL", "9", "sigkill", "RTMIN+3" -> signal number; -1 if unknown. */
int signal_parse(const char *s);
/* 9 -> "SIGKILL" (static string), NULL if unknown. */
const char *signal_name(int sig);
/* Empty signal mask, every handler back to SIG_DFL: a fresh start for a process ward forks
 * into a container (the init, an exec'd process). */
void signals_reset(void);

#endif
