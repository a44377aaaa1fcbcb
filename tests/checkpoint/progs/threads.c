/* Checkpoint workload: 3 threads each count in their own slot (about every 1 ms) while the main
 * thread prints the three counts every 20 ms. After a restore every thread must count on. */
#include <pthread.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

static volatile unsigned long counts[3];

static void *worker(void *arg)
{
	volatile unsigned long *c = arg;

	for (;;) {
		struct timespec ts = {0, 1000000};

		(*c)++;
		nanosleep(&ts, NULL);
	}
	return NULL;
}

int main(void)
{
	pthread_t t[3];

	for (int i = 0; i < 3; i++)
		if (pthread_create(&t[i], NULL, worker, (void *)&counts[i]) != 0)
			return 4;
	for (;;) {
		struct timespec ts = {0, 20000000};
		char buf[96];
		int len = snprintf(buf, sizeof(buf), "%lu %lu %lu\n", counts[0], counts[1],
				   counts[2]);

		if (write(1, buf, (size_t)len) != len)
			return 3;
		nanosleep(&ts, NULL);
	}
}
