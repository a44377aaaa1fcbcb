/* Migration workload: touches MiB (argv[1]) of anonymous memory once, then forever rewrites
 * its first WS MiB (argv[2]) at a steady rate (one pass every 20 ms) and appends the pass
 * number, 1, 2, 3, ..., to the file argv[3]. After a migration the numbers go on without a gap
 * or a restart, and the memory still holds what was written (checked at every pass: exit 2). */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	size_t mib = argc > 1 ? strtoul(argv[1], NULL, 10) : 256;
	size_t ws = argc > 2 ? strtoul(argv[2], NULL, 10) : 4;
	int out = open(argc > 3 ? argv[3] : "/count", O_WRONLY | O_CREAT | O_APPEND, 0644);
	size_t words = mib << 17, wsw = ws << 17;
	uint64_t *m =
		mmap(NULL, mib << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (m == MAP_FAILED || out < 0 || ws > mib)
		return 4;
	for (size_t i = 0; i < words; i++)
		m[i] = i;
	for (uint64_t pass = 1;; pass++) {
		struct timespec ts = {0, 20000000};
		char buf[32];
		int len;

		/* the cold part: one word per page, still as written */
		for (size_t i = wsw; i < words; i += 512)
			if (m[i] != i)
				return 2;
		for (size_t i = 0; i < wsw; i++) {
			if (pass > 1 && m[i] != i + pass - 1)
				return 2;
			m[i] = i + pass;
		}
		len = snprintf(buf, sizeof(buf), "%llu\n", (unsigned long long)pass);
		if (write(out, buf, (size_t)len) != len)
			return 3;
		nanosleep(&ts, NULL);
	}
}
