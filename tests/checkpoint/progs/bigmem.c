/* Checkpoint workload: fills MiB of anonymous memory (argv[1]) with a pattern derived from each
 * word's index, blocks SIGUSR2, prints "ready", and waits for SIGUSR1. Then it checks the whole
 * pattern, a heap string and that SIGUSR2 is still blocked: "ok" and exit 0, or what differs. */
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static volatile sig_atomic_t go;

static void on_usr1(int sig)
{
	go = 1;
}

static uint64_t pattern(uint64_t i)
{
	uint64_t x = i * 0x9E3779B97F4A7C15ULL;

	return x ^ (x >> 29) ^ 0x5DEECE66DULL;
}

int main(int argc, char **argv)
{
	size_t mib = argc > 1 ? strtoul(argv[1], NULL, 10) : 64;
	size_t words = mib << 17;
	struct sigaction sa = {.sa_handler = on_usr1};
	sigset_t set, cur;
	uint64_t *mem;
	char *heap;

	mem = mmap(NULL, mib << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED)
		return 4;
	for (size_t i = 0; i < words; i++)
		mem[i] = pattern(i);
	heap = strdup("a string on the heap, from before the checkpoint");
	sigaction(SIGUSR1, &sa, NULL);
	sigemptyset(&set);
	sigaddset(&set, SIGUSR2);
	sigprocmask(SIG_BLOCK, &set, NULL);
	printf("ready\n");
	fflush(stdout);
	while (!go)
		usleep(1000);
	for (size_t i = 0; i < words; i++)
		if (mem[i] != pattern(i)) {
			printf("memory differs at word %zu\n", i);
			return 1;
		}
	if (strcmp(heap, "a string on the heap, from before the checkpoint") != 0) {
		printf("heap differs\n");
		return 1;
	}
	sigprocmask(SIG_BLOCK, NULL, &cur);
	if (!sigismember(&cur, SIGUSR2)) {
		printf("SIGUSR2 no longer blocked\n");
		return 1;
	}
	printf("ok\n");
	return 0;
}
