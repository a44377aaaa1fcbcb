#include "vmm_shim/vm_trace.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

void vm_trace_init(struct vm_trace *t, int fd)
{
	memset(t, 0, sizeof(*t));
	t->fd = fd;
	pthread_mutex_init(&t->lock, NULL);
}

void vm_trace_destroy(struct vm_trace *t)
{
	pthread_mutex_destroy(&t->lock);
}

/* One write per line: lines from two vCPU threads do not interleave. */
static void put_line(struct vm_trace *t, const char *what)
{
	struct timespec ts;
	char line[2600];
	int n;

	clock_gettime(CLOCK_REALTIME, &ts);
	n = snprintf(line, sizeof(line), "ward-vmm trace: %lld.%06ld %s\n", (long long)ts.tv_sec,
		     ts.tv_nsec / 1000, what);
	if (n > (int)sizeof(line) - 1)
		n = (int)sizeof(line) - 1;
	(void)!write(t->fd, line, (size_t)n);
}

void vm_trace_event(struct vm_trace *t, const char *fmt, ...)
{
	char what[2400];
	va_list ap;

	if (t->fd <= 0)
		return;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	put_line(t, what);
}

void vm_trace_exit(struct vm_trace *t, const char *name)
{
	unsigned i;

	if (t->fd <= 0)
		return;
	pthread_mutex_lock(&t->lock);
	for (i = 0; i < t->n && t->dev[i].name != name; i++)
		;
	if (i == t->n && t->n < VM_TRACE_MAX_DEVS)
		t->dev[t->n++].name = name;
	if (i < t->n)
		t->dev[i].exits++;
	t->total++;
	pthread_mutex_unlock(&t->lock);
}

void vm_trace_summary(struct vm_trace *t)
{
	char what[400];
	size_t used;
	unsigned long total = 0;

	if (t->fd <= 0)
		return;
	pthread_mutex_lock(&t->lock);
	used = (size_t)snprintf(what, sizeof(what), "exits");
	for (unsigned i = 0; i < t->n && used < sizeof(what); i++) {
		used += (size_t)snprintf(what + used, sizeof(what) - used, " %s=%lu",
					 t->dev[i].name, t->dev[i].exits);
		total += t->dev[i].exits;
	}
	pthread_mutex_unlock(&t->lock);
	if (used < sizeof(what))
		snprintf(what + used, sizeof(what) - used, " total=%lu", total);
	put_line(t, what);
}
