/* Checkpoint workload: holds an flock(2) write lock on argv[1] and sleeps forever (busybox here
 * has no flock applet). As a probe: "-n FILE" tries flock(LOCK_EX|LOCK_NB), "-p FILE" asks
 * F_GETLK for a write lock on the whole file (printing the holder's pid); both exit 3 when the
 * file is locked by another, 0 when not. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

static int probe(const char *how, const char *path)
{
	struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
	int fd = open(path, O_RDWR | O_CLOEXEC);

	if (fd < 0)
		return 4;
	if (strcmp(how, "-n") == 0)
		return flock(fd, LOCK_EX | LOCK_NB) < 0 && errno == EWOULDBLOCK ? 3 : 0;
	if (fcntl(fd, F_GETLK, &fl) < 0)
		return 4;
	if (fl.l_type == F_UNLCK)
		return 0;
	printf("%d\n", fl.l_pid);
	return 3;
}

int main(int argc, char **argv)
{
	int fd;

	if (argc > 2)
		return probe(argv[1], argv[2]);
	fd = open(argc > 1 ? argv[1] : "/lockfile", O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0 || flock(fd, LOCK_EX) < 0)
		return 4;
	for (;;)
		pause();
}
