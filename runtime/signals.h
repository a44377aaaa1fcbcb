#ifndef WARD_RUNTIME_SIGNALS_H
#define WARD_RUNTIME_SIGNALS_H

/* "KILL", "SIGKILL", "9", "sigkill", "RTMIN+3" -> signal number; -1 if unknown. */
int signal_parse(const char *s);
/* 9 -> "SIGKILL" (static string), NULL if unknown. */
const char *signal_name(int sig);

#endif
