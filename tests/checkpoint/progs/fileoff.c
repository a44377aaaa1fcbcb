/* Checkpoint workload: copies the file argv[1] to stdout 64 bytes at a time, about every 2 ms,
 * and exits 0 at its end. A restore in the middle must continue at the same input offset (and
 * output offset): the output equals the input. */
#include <fcntl.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	int fd = open(argv[1], O_RDONLY);
	char buf[64];
	ssize_t n;

	if (fd < 0)
		return 4;
	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		struct timespec ts = {0, 2000000};

		if (write(1, buf, (size_t)n) != n)
			return 3;
		nanosleep(&ts, NULL);
	}
	return n == 0 ? 0 : 5;
}
