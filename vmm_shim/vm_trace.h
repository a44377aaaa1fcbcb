/* A boot-time profile of one VM (vmm_config.trace_fd): a line per milestone with the wall
 * clock (so that a caller can put its own timestamps beside them), and when the VM stops the
 * number of exits to the VMM each device cost. Off (fd <= 0): every call returns at once. */
#ifndef WARD_VMM_VM_TRACE_H
#define WARD_VMM_VM_TRACE_H

#include <pthread.h>
#include <stdint.h>

#define VM_TRACE_MAX_DEVS 24

struct vm_trace {
	int fd; /* <= 0: off */
	pthread_mutex_t lock;
	unsigned n;
	unsigned long total; /* exits so far */
	struct {
		const char *name; /* a device's ops name (compared by pointer), or a fixed label */
		unsigned long exits;
	} dev[VM_TRACE_MAX_DEVS];
};

void vm_trace_init(struct vm_trace *t, int fd);
void vm_trace_destroy(struct vm_trace *t);
/* "ward-vmm trace: SECONDS.MICROSECONDS WHAT" */
void vm_trace_event(struct vm_trace *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* One exit to the VMM, counted under name (a device's ops name or a fixed label). */
void vm_trace_exit(struct vm_trace *t, const char *name);
/* "ward-vmm trace: SECONDS exits NAME=N NAME=N ... total=N" */
void vm_trace_summary(struct vm_trace *t);

#endif
