/* The CLI's log: `ward: msg` on stderr, and with --log FILE lines in text or JSON
 * ({"level":"error","msg":"...","time":"..."}) that containerd and conmon read back. */
#ifndef WARD_RUNTIME_LOG_H
#define WARD_RUNTIME_LOG_H

#include <stdbool.h>

enum log_level { LOG_ERROR, LOG_WARN, LOG_INFO, LOG_DEBUG };

int log_init(const char *path, const char *format, bool debug);
void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A JSON string literal of s (with quotes) for hand-written JSON. Caller frees. */
char *json_quote(const char *s);

#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_WARN, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)

#endif
