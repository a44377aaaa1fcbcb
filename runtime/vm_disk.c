/* The micro-VM's root disk (runtime/vm.h): a read-only ext4 image of the bundle's rootfs, built
 * with mkfs.ext4 -d in `ward create`, and a cache of those images keyed by a fingerprint of the
 * tree, so that creating the same rootfs again costs a walk and a link instead of a mkfs.
 *
 * When a cached image may be used: the fingerprint hashes, for every entry of the tree, its
 * path and its lstat (device, inode, type and mode, owner, size, link count, device number,
 * mtime and ctime in ns). Every change to a file's content, metadata, xattrs or name sets its
 * (or its directory's) ctime to the current time, and ctime cannot be set back from user space,
 * so a changed tree has a different fingerprint; but a clock tick holds several changes, so a
 * tree in which some ctime is less than VM_DISK_SETTLED_NS old (or in the future) is not cached
 * nor served from the cache (git's "racily clean" problem). A tree spanning file systems
 * (a mount inside the rootfs, or an overlayfs whose files report their layer's device) is never
 * cached either: mkfs copies through mounts whose inode numbers could repeat. The image is
 * stored only when a second walk after mkfs gives the same fingerprint (no change during the
 * build). */
#include "runtime/vm.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lib/util.h"

/* A ctime this close to the walk's start may share its clock tick with a later change. */
#define VM_DISK_SETTLED_NS 2000000000ll
/* Images kept in the cache; the least recently used go first. */
#define VM_DISK_CACHE_MAX 4
/* Changes whenever what mkfs is asked to build changes: old images then stop matching. */
#define VM_DISK_FORMAT "ward-root-disk 1: ext4 -O ^has_journal -m 0 -N inodes+1024 -L ward-root"

/* A line of the boot profile, in the VMM's format (vmm_shim/vm_trace.h), on stderr. */
static void trace(const char *what)
{
	struct timespec ts;

	if (!vm_tracing())
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	fprintf(stderr, "ward trace: %lld.%06ld %s\n", (long long)ts.tv_sec, ts.tv_nsec / 1000,
		what);
}

/* ---- the walk ----------------------------------------------------------------------------- */

/* nftw passes no context: the walk's state (create is single-threaded). */
static struct {
	struct vm_tree *t;
	EVP_MD_CTX *md;
	size_t prefix; /* strlen of the rootfs path: entries are hashed by their path inside it */
	dev_t dev;
	long long start_ns;
} walk;

static long long ns_of(const struct timespec *ts)
{
	return (long long)ts->tv_sec * 1000000000ll + ts->tv_nsec;
}

static int walk_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	struct vm_tree *t = walk.t;
	const char *rel = path + walk.prefix;
	struct {
		uint64_t dev, ino, mode, uid, gid, size, nlink, rdev;
		int64_t mtime_ns, ctime_ns;
	} rec = {
		.dev = st->st_dev,
		.ino = st->st_ino,
		.mode = st->st_mode,
		.uid = st->st_uid,
		.gid = st->st_gid,
		.size = (uint64_t)st->st_size,
		.nlink = st->st_nlink,
		.rdev = st->st_rdev,
		.mtime_ns = ns_of(&st->st_mtim),
		.ctime_ns = ns_of(&st->st_ctim),
	};

	if (type == FTW_NS || type == FTW_DNR)
		t->cacheable = false; /* mkfs will fail or differ on what we cannot read */
	t->bytes += ((uint64_t)st->st_size + 4095) & ~4095ull;
	t->inodes++;
	if (ftw->level == 0)
		walk.dev = st->st_dev;
	else if (st->st_dev != walk.dev)
		t->cacheable = false;
	if (rec.ctime_ns > walk.start_ns - VM_DISK_SETTLED_NS)
		t->cacheable = false;
	EVP_DigestUpdate(walk.md, rel, strlen(rel) + 1);
	EVP_DigestUpdate(walk.md, &rec, sizeof(rec));
	return 0;
}

int vm_tree_walk(const char *rootfs, struct vm_tree *t, struct werr **err)
{
	struct timespec now;
	unsigned len = 0;
	int r;

	memset(t, 0, sizeof(*t));
	t->cacheable = true;
	clock_gettime(CLOCK_REALTIME, &now);
	walk.t = t;
	walk.prefix = strlen(rootfs);
	walk.start_ns = ns_of(&now);
	walk.md = EVP_MD_CTX_new();
	if (!walk.md || EVP_DigestInit_ex(walk.md, EVP_sha256(), NULL) != 1) {
		EVP_MD_CTX_free(walk.md);
		return werr_set(err, ENOMEM, "SHA-256 context");
	}
	EVP_DigestUpdate(walk.md, VM_DISK_FORMAT, sizeof(VM_DISK_FORMAT));
	/* no FTW_MOUNT: mkfs -d copies through mounts, so the sizes count them (and a mount makes
	 * the tree uncacheable, above) */
	r = nftw(rootfs, walk_entry, 32, FTW_PHYS);
	if (r < 0)
		r = werr_sys(err, errno, "walk the rootfs %s", rootfs);
	else
		EVP_DigestFinal_ex(walk.md, t->digest, &len);
	EVP_MD_CTX_free(walk.md);
	walk.md = NULL;
	walk.t = NULL;
	return r;
}

/* ---- mkfs ---------------------------------------------------------------------------------- */

static const char *find_mkfs(void)
{
	static const char *const paths[] = {"/usr/sbin/mkfs.ext4", "/sbin/mkfs.ext4",
					    "/usr/bin/mkfs.ext4", "/bin/mkfs.ext4"};

	for (size_t i = 0; i < ARRAY_SIZE(paths); i++)
		if (access(paths[i], X_OK) == 0)
			return paths[i];
	return NULL;
}

/* Run argv with stdout to /dev/null; its stderr (the first 1 KiB) goes into the error. */
static int run_tool(char *const argv[], struct werr **err)
{
	char msg[1024];
	size_t used = 0;
	int pipefd[2], status;
	ssize_t n;
	pid_t pid;

	if (pipe2(pipefd, O_CLOEXEC) < 0)
		return werr_sys(err, errno, "pipe");
	pid = fork();
	if (pid < 0) {
		close(pipefd[0]);
		close(pipefd[1]);
		return werr_sys(err, errno, "fork %s", argv[0]);
	}
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR);

		dup2(null, 0);
		dup2(null, 1);
		dup2(pipefd[1], 2);
		execv(argv[0], argv);
		_exit(127);
	}
	close(pipefd[1]);
	while ((n = read(pipefd[0], msg + used, sizeof(msg) - 1 - used)) > 0 ||
	       (n < 0 && errno == EINTR))
		if (n > 0)
			used += (size_t)n;
	msg[used] = '\0';
	close(pipefd[0]);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return werr_sys(err, errno, "waitpid %s", argv[0]);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		msg[strcspn(msg, "\n")] = '\0';
		return werr_set(err, EIO, "%s failed (status 0x%x): %s", argv[0], status,
				used ? msg : "no message");
	}
	return 0;
}

static int build_image(const char *mkfs, const char *rootfs, const struct vm_tree *t,
		       const char *out, struct werr **err)
{
	char size_arg[32], inodes_arg[32];
	/* room for ext4's own metadata and the directories' blocks */
	uint64_t mib = (t->bytes + t->inodes * 512) / (1 << 20) * 5 / 4 + 16;

	snprintf(size_arg, sizeof(size_arg), "%lluM", (unsigned long long)mib);
	snprintf(inodes_arg, sizeof(inodes_arg), "%llu", (unsigned long long)t->inodes + 1024);
	{
		char *const argv[] = {(char *)mkfs, "-q", "-F",		  "-t",
				      "ext4",	    "-O", "^has_journal", "-m",
				      "0",	    "-N", inodes_arg,	  "-L",
				      "ward-root",  "-d", (char *)rootfs, (char *)out,
				      size_arg,	    NULL};
		int r;

		trace("mkfs start");
		r = run_tool(argv, err);
		trace("mkfs done");
		if (r < 0)
			unlink(out);
		return r;
	}
}

/* ---- the cache ----------------------------------------------------------------------------- */

static char *cache_dir(const char *root)
{
	return xasprintf("%s/" VM_DISK_CACHE_DIR, root);
}

static char *cache_path(const char *root, const struct vm_tree *t)
{
	char hex[2 * sizeof(t->digest) + 1];

	for (size_t i = 0; i < sizeof(t->digest); i++)
		snprintf(hex + 2 * i, 3, "%02x", t->digest[i]);
	return xasprintf("%s/" VM_DISK_CACHE_DIR "/%s.img", root, hex);
}

struct cache_entry {
	char *name;
	long long mtime;
};

static int newest_first(const void *a, const void *b)
{
	const struct cache_entry *x = a, *y = b;

	return (x->mtime < y->mtime) - (x->mtime > y->mtime);
}

/* Keep the VM_DISK_CACHE_MAX most recently used images (mtime: set on every use). */
static void cache_trim(const char *dir)
{
	_cleanup_closedir_ DIR *d = opendir(dir);
	struct cache_entry *e = NULL;
	size_t n = 0;
	struct dirent *de;

	while (d && (de = readdir(d))) {
		size_t len = strlen(de->d_name);
		struct stat st;

		if (len < 5 || strcmp(de->d_name + len - 4, ".img") != 0 ||
		    fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		e = xrealloc(e, (n + 1) * sizeof(*e));
		e[n++] = (struct cache_entry){.name = xstrdup(de->d_name),
					      .mtime = ns_of(&st.st_mtim)};
	}
	qsort(e, n, sizeof(*e), newest_first);
	for (size_t i = 0; i < n; i++) {
		if (i >= VM_DISK_CACHE_MAX)
			unlinkat(dirfd(d), e[i].name, 0);
		free(e[i].name);
	}
	free(e);
}

/* The cached image for t as out (a hard link): true on success. */
static bool cache_take(const char *root, const struct vm_tree *t, const char *out)
{
	_cleanup_free_ char *path = cache_path(root, t);

	if (link(path, out) < 0)
		return false;
	utimensat(AT_FDCWD, path, NULL, 0); /* used now: the last to be trimmed */
	return true;
}

/* Offer a freshly built image to the cache (a hard link under a temporary name, renamed into
 * place: a reader never sees half an entry). Failure only costs the next create a mkfs. */
static void cache_put(const char *root, const struct vm_tree *t, const char *image)
{
	_cleanup_free_ char *dir = cache_dir(root);
	_cleanup_free_ char *path = cache_path(root, t);
	_cleanup_free_ char *tmp = xasprintf("%s.%d.tmp", path, (int)getpid());

	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		return;
	if (link(image, tmp) < 0)
		return;
	if (rename(tmp, path) < 0) {
		unlink(tmp);
		return;
	}
	cache_trim(dir);
}

int vm_make_root_disk(struct vm_plan *p, const char *rootfs, const char *root,
		      const char *state_dir, struct werr **err)
{
	const char *mkfs = find_mkfs();
	struct vm_tree t, after;
	int r;

	if (!mkfs)
		return werr_set(err, ENOENT,
				"micro-VM: mkfs.ext4 not found (apt-get install e2fsprogs): ward "
				"builds the guest's root disk from the rootfs with it");
	r = vm_tree_walk(rootfs, &t, err);
	if (r < 0)
		return werr_wrap(err, "micro-VM");
	free(p->disk);
	p->disk = xasprintf("%s/" VM_ROOT_IMAGE, state_dir);
	if (t.cacheable && !getenv(VM_DISK_NOCACHE_ENV) && cache_take(root, &t, p->disk)) {
		trace("root disk from the cache");
		return 0;
	}
	r = build_image(mkfs, rootfs, &t, p->disk, err);
	if (r < 0)
		return werr_wrap(err, "micro-VM: building the root disk from %s", rootfs);
	if (t.cacheable && !getenv(VM_DISK_NOCACHE_ENV) &&
	    vm_tree_walk(rootfs, &after, NULL) == 0 && after.cacheable &&
	    memcmp(t.digest, after.digest, sizeof(t.digest)) == 0)
		cache_put(root, &t, p->disk);
	return 0;
}
