/* Checkpoint workload: a parent writes 0..N-1 (argv[1]) into a pipe faster than its child reads
 * them, so bytes are queued in the pipe at any moment. The child checks the sequence, prints
 * "child got N" and exits 0 when every number came once and in order; the parent exits with the
 * child's status. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void nap(long ns)
{
	struct timespec ts = {0, ns};

	nanosleep(&ts, NULL);
}

int main(int argc, char **argv)
{
	unsigned n = argc > 1 ? (unsigned)strtoul(argv[1], NULL, 10) : 1000;
	int p[2], st;
	pid_t child;

	if (pipe(p) < 0)
		return 4;
	child = fork();
	if (child == 0) {
		unsigned want = 0, v;

		close(p[1]);
		while (read(p[0], &v, sizeof(v)) == sizeof(v)) {
			if (v != want) {
				printf("child: got %u, wanted %u\n", v, want);
				return 2;
			}
			want++;
			nap(3000000);
		}
		printf("child got %u\n", want);
		return want == n ? 0 : 2;
	}
	close(p[0]);
	for (unsigned i = 0; i < n; i++) {
		if (write(p[1], &i, sizeof(i)) != sizeof(i))
			return 3;
		nap(1000000);
	}
	close(p[1]);
	while (waitpid(child, &st, 0) < 0)
		;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 9;
}
