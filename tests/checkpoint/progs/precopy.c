/* Checkpoint workload for pre-copy: fills MiB (argv[1]) of anonymous memory with a pattern and
 * prints "ready". SIGUSR1: rewrites 1 MiB in the middle (each word xor 1) and prints "changed".
 * SIGUSR2: checks everything (with the change) and exits 0 printing "ok", or 1. */
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

static volatile sig_atomic_t usr1, usr2;

static void on_sig(int sig)
{
	if (sig == SIGUSR1)
		usr1 = 1;
	else
		usr2 = 1;
}

static uint64_t pattern(uint64_t i)
{
	uint64_t x = i * 0x9E3779B97F4A7C15ULL;

	return x ^ (x >> 31);
}

int main(int argc, char **argv)
{
	size_t mib = argc > 1 ? strtoul(argv[1], NULL, 10) : 64, words = mib << 17;
	size_t from = words / 2, to = from + (1 << 17); /* 1 MiB of words */
	struct sigaction sa = {.sa_handler = on_sig};
	bool changed = false;
	uint64_t *mem;

	mem = mmap(NULL, mib << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED || mib < 4)
		return 4;
	for (size_t i = 0; i < words; i++)
		mem[i] = pattern(i);
	sigaction(SIGUSR1, &sa, NULL);
	sigaction(SIGUSR2, &sa, NULL);
	printf("ready\n");
	fflush(stdout);
	while (!usr2) {
		if (usr1 && !changed) {
			for (size_t i = from; i < to; i++)
				mem[i] ^= 1;
			changed = true;
			printf("changed\n");
			fflush(stdout);
		}
		usleep(1000);
	}
	for (size_t i = 0; i < words; i++)
		if (mem[i] != (pattern(i) ^ (changed && i >= from && i < to)))
			return printf("word %zu differs\n", i), 1;
	printf("ok\n");
	return 0;
}
