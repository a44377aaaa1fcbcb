/* Checkpoint workload: holds an flock(2) write lock on argv[1] and sleeps forever (busybox here
 * has no flock applet). */
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	int fd = open(argc > 1 ? argv[1] : "/lockfile", O_WRONLY | O_CREAT | O_CLOEXEC, 0644);

	if (fd < 0 || flock(fd, LOCK_EX) < 0)
		return 4;
	for (;;)
		pause();
}
