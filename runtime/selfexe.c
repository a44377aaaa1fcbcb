/* CVE-2019-5736: a container process that can open /proc/<pid>/exe of a ward process (for
 * example through a `#!/proc/self/exe` script that makes the kernel run ward itself inside
 * the container) could write to the host's ward binary. Processes that enter containers
 * therefore run from a sealed, write-protected memfd copy of the binary. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "lib/util.h"
#include "runtime/commands.h"
#include "runtime/log.h"

#define SEALS (F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE)

extern char **environ;

static bool running_sealed(int exe)
{
	int seals = fcntl(exe, F_GET_SEALS);

	return seals >= 0 && (seals & SEALS) == SEALS;
}

int selfexe_ensure_sealed(char **argv)
{
	_cleanup_close_ int exe = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
	_cleanup_close_ int mfd = -1;
	struct stat st;
	off_t off = 0;

	if (exe < 0) {
		log_error("open /proc/self/exe: %s", strerror(errno));
		return -errno;
	}
	if (running_sealed(exe))
		return 0;
	if (fstat(exe, &st) < 0)
		return -errno;
	mfd = memfd_create("ward", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (mfd < 0) {
		log_error("memfd_create: %s", strerror(errno));
		return -errno;
	}
	while (off < st.st_size) {
		ssize_t n = sendfile(mfd, exe, &off, (size_t)(st.st_size - off));

		if (n <= 0) {
			log_error("copy ward binary into a memfd: %s", n < 0 ? strerror(errno) : "short");
			return -EIO;
		}
	}
	if (fcntl(mfd, F_ADD_SEALS, SEALS) < 0) {
		log_error("seal the memfd copy of ward: %s", strerror(errno));
		return -errno;
	}
	syscall(SYS_execveat, mfd, "", argv, environ, AT_EMPTY_PATH);
	log_error("re-exec ward from its sealed copy: %s", strerror(errno));
	return -errno;
}
