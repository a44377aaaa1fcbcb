/* Checkpoint workload: in directory argv[1], a POSIX write lock on bytes 100..199 of "posix", an
 * flock(2) LOCK_EX on "flock", an OFD read lock on all of "ofd"; then a child that shares the
 * flock'ed description (inherited) and pauses, while the parent prints 0, 1, 2, ... every 20 ms. */
#include <fcntl.h>
#include <stdio.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

static int open_in(const char *dir, const char *name)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return open(path, O_RDWR | O_CREAT, 0644);
}

int main(int argc, char **argv)
{
	struct flock wr = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 100, .l_len = 100};
	struct flock rd = {.l_type = F_RDLCK, .l_whence = SEEK_SET};
	struct timespec ts = {0, 20 * 1000 * 1000};
	int p, f, o;

	if (argc < 2)
		return 2;
	p = open_in(argv[1], "posix");
	f = open_in(argv[1], "flock");
	o = open_in(argv[1], "ofd");
	if (p < 0 || f < 0 || o < 0 || fcntl(p, F_SETLK, &wr) < 0 || flock(f, LOCK_EX | LOCK_NB) < 0 ||
	    fcntl(o, F_OFD_SETLK, &rd) < 0)
		return 4;
	if (fork() == 0)
		for (;;)
			pause();
	for (long i = 0;; i++) {
		printf("%ld\n", i);
		fflush(stdout);
		nanosleep(&ts, NULL);
	}
}
