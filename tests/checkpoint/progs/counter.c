/* Checkpoint workload: prints 0, 1, 2, ... one per line on stdout, about every 2 ms, forever.
 * After a restore the numbers must go on from where they were, not from 0. */
#include <stdio.h>
#include <time.h>
#include <unistd.h>

int main(void)
{
	unsigned long n = 0;

	for (;;) {
		char buf[32];
		int len = snprintf(buf, sizeof(buf), "%lu\n", n++);
		struct timespec ts = {0, 2000000};

		if (write(1, buf, (size_t)len) != len)
			return 3;
		nanosleep(&ts, NULL); /* EINTR after a restore: fine */
	}
}
