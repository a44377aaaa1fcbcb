/* checkpoint's image format v1: every document survives a write/read round trip, bad documents
 * are refused with the field named, and the inventory checks version and checksums. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <xxhash.h>

#include "checkpoint/fdx.h"
#include "checkpoint/image.h"
#include "checkpoint/inventory.h"
#include "checkpoint/shmem.h"
#include "checkpoint/sum.h"
#include "checkpoint/locks.h"
#include "lib/util.h"

static void sample_proc(struct ck_proc *p)
{
	static uint8_t xs[] = {0x7f, 0x03, 0x00, 0xff, 0x10};

	memset(p, 0, sizeof(*p));
	p->pid = 7;
	p->ppid = 1;
	p->pgid = 7;
	p->sid = 1;
	strcpy(p->comm, "work er");
	p->cwd = xstrdup("/srv/a \"b\"");
	p->root = xstrdup("/");
	p->umask = 022;
	for (int i = 0; i < 4; i++) {
		p->uid[i] = 1000 + (uint32_t)i;
		p->gid[i] = 100 + (uint32_t)i;
	}
	p->groups = xcalloc(2, sizeof(uint32_t));
	p->groups[0] = 4;
	p->groups[1] = 27;
	p->ngroups = 2;
	for (int i = 0; i < CK_NRLIMIT; i++) {
		p->rlim_cur[i] = (uint64_t)i * 1000;
		p->rlim_max[i] = UINT64_MAX; /* RLIM_INFINITY: above what a JSON number keeps */
	}
	p->sigactions[9].handler = 0x401234; /* SIGUSR1 */
	p->sigactions[9].flags = 0x14000000;
	p->sigactions[9].restorer = 0x401000;
	p->sigactions[9].mask = 1ULL << 11;
	p->sigactions[12].handler = 1; /* SIGPIPE: SIG_IGN */
	p->threads = xcalloc(1, sizeof(*p->threads));
	p->nthreads = 1;
	p->threads[0].tid = 7;
	p->threads[0].regs.rip = 0x401abc;
	p->threads[0].regs.rax = (unsigned long long)-516; /* -ERESTART_RESTARTBLOCK */
	p->threads[0].regs.orig_rax = 230;
	p->threads[0].regs.fs_base = 0x7f0011223344ULL;
	p->threads[0].xstate = xmalloc(sizeof(xs));
	memcpy(p->threads[0].xstate, xs, sizeof(xs));
	p->threads[0].xstate_len = sizeof(xs);
	p->threads[0].sigmask = 1ULL << 11;
	p->threads[0].rseq_ptr = 0x7f00aabbcc00ULL;
	p->threads[0].rseq_len = 32;
	p->threads[0].rseq_sig = 0x53053053;
	p->threads[0].robust_head = 0x7f00aabbc000ULL;
	p->threads[0].robust_len = 24;
	p->threads[0].altstack_flags = 2; /* SS_DISABLE */
}

static void core_round_trips(void **state)
{
	struct ck_proc a, b = {0};
	_cleanup_free_ char *text = NULL;

	sample_proc(&a);
	text = ck_core_to_json(&a);
	assert_int_equal(ck_core_from_json(text, &b, NULL), 0);
	assert_int_equal(b.pid, 7);
	assert_int_equal(b.ppid, 1);
	assert_int_equal(b.sid, 1);
	assert_string_equal(b.comm, "work er");
	assert_string_equal(b.cwd, "/srv/a \"b\"");
	assert_int_equal(b.umask, 022);
	assert_memory_equal(a.uid, b.uid, sizeof(a.uid));
	assert_memory_equal(a.gid, b.gid, sizeof(a.gid));
	assert_int_equal(b.ngroups, 2);
	assert_int_equal(b.groups[1], 27);
	assert_memory_equal(a.rlim_max, b.rlim_max, sizeof(a.rlim_max));
	assert_memory_equal(a.sigactions, b.sigactions, sizeof(a.sigactions));
	assert_int_equal(b.nthreads, 1);
	assert_memory_equal(&a.threads[0].regs, &b.threads[0].regs, sizeof(a.threads[0].regs));
	assert_int_equal(b.threads[0].xstate_len, 5);
	assert_memory_equal(b.threads[0].xstate, a.threads[0].xstate, 5);
	assert_true(b.threads[0].rseq_ptr == a.threads[0].rseq_ptr);
	assert_int_equal(b.threads[0].rseq_sig, 0x53053053);
	assert_true(b.threads[0].robust_head == a.threads[0].robust_head);
	assert_int_equal(b.threads[0].altstack_flags, 2);
	assert_int_equal(b.threads[0].seccomp_id, 0); /* no filter: no field */
	ck_proc_free(&b);
	free(text);
	a.threads[0].seccomp_id = 5;
	text = ck_core_to_json(&a);
	assert_non_null(strstr(text, "\"seccomp_filter\": 5"));
	assert_int_equal(ck_core_from_json(text, &b, NULL), 0);
	assert_int_equal(b.threads[0].seccomp_id, 5);
	ck_proc_free(&a);
	ck_proc_free(&b);
}

static void mm_round_trips(void **state)
{
	struct ck_vma vmas[] = {
		{0x400000, 0x401000, 0, 1, false, false, CK_VMA_FILE, "/bin/x", 0},
		{0x7ffc0000, 0x7ffd0000, 0, 3, false, true, CK_VMA_ANON, "[stack]", 0},
		{0x7ffe0000, 0x7ffe2000, 0, 5, false, false, CK_VMA_VDSO, "[vdso]", 0},
	};
	struct ck_mm a = {.vmas = vmas,
			  .nvmas = 3,
			  .start_brk = 0x1000000,
			  .brk = 0x1021000,
			  .auxv = {33, 0x7ffe0000, 0, 0},
			  .auxv_len = 4,
			  .exe = "/bin/x"};
	struct ck_mm b = {0};
	_cleanup_free_ char *text = ck_mm_to_json(&a);

	assert_int_equal(ck_mm_from_json(text, &b, NULL), 0);
	assert_int_equal(b.nvmas, 3);
	assert_true(b.vmas[1].growsdown);
	assert_int_equal(b.vmas[1].prot, 3);
	assert_int_equal(b.vmas[2].kind, CK_VMA_VDSO);
	assert_string_equal(b.vmas[0].path, "/bin/x");
	assert_true(b.brk == 0x1021000);
	assert_int_equal(b.auxv_len, 4);
	assert_true(b.auxv[1] == 0x7ffe0000);
	assert_string_equal(b.exe, "/bin/x");
	for (size_t i = 0; i < b.nvmas; i++)
		free(b.vmas[i].path);
	free(b.vmas);
	free(b.exe);
}

static void overlapping_vmas_are_refused(void **state)
{
	struct ck_vma vmas[] = {
		{0x400000, 0x402000, 0, 1, false, false, CK_VMA_ANON, NULL, 0},
		{0x401000, 0x403000, 0, 1, false, false, CK_VMA_ANON, NULL, 0},
	};
	struct ck_mm a = {.vmas = vmas, .nvmas = 2}, b = {0};
	_cleanup_free_ char *text = ck_mm_to_json(&a);
	_cleanup_werr_ struct werr *err = NULL;

	assert_true(ck_mm_from_json(text, &b, &err) < 0);
	assert_non_null(strstr(err->msg, "overlaps"));
	for (size_t i = 0; i < b.nvmas; i++)
		free(b.vmas[i].path);
	free(b.vmas);
}

static void pagemap_round_trips_and_must_be_contiguous_in_the_file(void **state)
{
	struct ck_page_range r[] = {{0x1000, 2, 0, false}, {0x9000, 1, 0x2000, false}};
	struct ck_mm a = {.pages = r, .npages = 2}, b = {0}, c = {0};
	_cleanup_free_ char *text = ck_pagemap_to_json(&a), *bad = NULL;
	_cleanup_werr_ struct werr *err = NULL;

	assert_int_equal(ck_pagemap_from_json(text, &b, NULL), 0);
	assert_int_equal(b.npages, 2);
	assert_true(b.pages[1].addr == 0x9000 && b.pages[1].offset == 0x2000);
	free(b.pages);
	r[1].offset = 0x3000; /* a hole in pages-<pid>.img */
	bad = ck_pagemap_to_json(&a);
	assert_true(ck_pagemap_from_json(bad, &c, &err) < 0);
	assert_non_null(strstr(err->msg, "contiguous"));
	free(c.pages);
}

/* A view of a shared memory object keeps its object and offset; the object index round-trips
 * and refuses ranges outside the object or out of order. */
static void shmem_views_and_objects_round_trip(void **state)
{
	struct ck_vma vmas[] = {
		{0x7f0000000000, 0x7f0000100000, 0x400000, 1, true, false, CK_VMA_SHMEM,
		 "/dev/zero (deleted)", 20708},
	};
	struct ck_shmem_range ranges[] = {{0, 2}, {0x400000, 1}};
	struct ck_shmem objs[] = {{20708, 0x800000, ranges, 2, 0}}, *back = NULL;
	struct ck_mm a = {.vmas = vmas, .nvmas = 1}, b = {0};
	_cleanup_free_ char *text = ck_mm_to_json(&a), *idx = ck_shmem_to_json(objs, 1);
	_cleanup_free_ char *bad = NULL;
	_cleanup_werr_ struct werr *err = NULL;
	size_t n = 0;

	assert_non_null(strstr(text, "\"shmem\""));
	assert_int_equal(ck_mm_from_json(text, &b, NULL), 0);
	assert_int_equal(b.vmas[0].kind, CK_VMA_SHMEM);
	assert_true(b.vmas[0].ino == 20708 && b.vmas[0].offset == 0x400000 && b.vmas[0].shared);
	free(b.vmas[0].path);
	free(b.vmas);
	assert_int_equal(ck_shmem_from_json(idx, &back, &n, NULL), 0);
	assert_int_equal(n, 1);
	assert_true(back[0].id == 20708 && back[0].size == 0x800000 && back[0].nranges == 2);
	assert_true(back[0].ranges[1].offset == 0x400000 && back[0].ranges[1].npages == 1);
	free(back[0].ranges);
	free(back);
	ranges[1].offset = 0x7ff000;
	ranges[1].npages = 2; /* one page past the end */
	bad = ck_shmem_to_json(objs, 1);
	assert_true(ck_shmem_from_json(bad, &back, &n, &err) < 0);
	assert_non_null(strstr(err->msg, "outside the object"));
	for (size_t i = 0; i < n; i++)
		free(back[i].ranges);
	free(back);
}

/* A view that reaches past its object's end is refused at load (it would be mapped beyond the
 * object, its pages past the end raising SIGBUS in the restored process). */
static void shmem_view_past_its_object_refused(void **state)
{
	char dir[] = "/tmp/ward-unit-shm.XXXXXX";
	struct ck_vma vmas[] = {
		{0x7f0000000000, 0x7f0000200000, 0x700000, 3, true, false, CK_VMA_SHMEM,
		 "/dev/zero (deleted)", 20708},
	};
	struct ck_shmem objs[] = {{20708, 0x800000, NULL, 0, 0}}, *back = NULL;
	struct ck_proc p = {.pid = 1, .mm = {.vmas = vmas, .nvmas = 1}};
	struct ck_inventory inv = {0};
	_cleanup_free_ char *idx = ck_shmem_to_json(objs, 1);
	_cleanup_werr_ struct werr *err = NULL;
	size_t n = 0;
	int dirfd;

	assert_non_null(mkdtemp(dir));
	dirfd = open(dir, O_DIRECTORY | O_RDONLY | O_CLOEXEC);
	assert_true(dirfd >= 0);
	assert_int_equal(write_file_atomic(dirfd, "shmem.json", idx, strlen(idx), 0600, NULL), 0);
	ck_inventory_add(&inv, xstrdup("shmem.json"), NULL);
	ck_inventory_add(&inv, xstrdup("shmem-20708.img"), NULL);
	assert_true(ck_shmem_load(dirfd, &inv, &p, 1, &back, &n, &err) < 0);
	assert_non_null(err);
	assert_non_null(strstr(err->msg, "past its end"));
	ck_shmem_free(back, n);
	werr_free(&err);
	/* the same view, 1 MiB shorter, ends at the object's end: fine */
	vmas[0].end = 0x7f0000100000;
	assert_int_equal(ck_shmem_load(dirfd, &inv, &p, 1, &back, &n, &err), 0);
	ck_shmem_free(back, n);
	ck_inventory_free(&inv);
	unlinkat(dirfd, "shmem.json", 0);
	close(dirfd);
	rmdir(dir);
}

static void fds_round_trip_with_pipes_and_files(void **state)
{
	struct ck_fd fds[] = {
		{.fd = 1,
		 .kind = CK_FD_FILE,
		 .file_id = 2,
		 .flags = 02001,
		 .pos = 8960,
		 .path = "/tmp/out"},
		{.fd = 4,
		 .kind = CK_FD_PIPE,
		 .file_id = 3,
		 .flags = 01,
		 .cloexec = true,
		 .pipe_id = 123456,
		 .pipe_size = 65536},
	};
	struct ck_proc a = {.fds = fds, .nfds = 2}, b = {0};
	_cleanup_free_ char *text = ck_fds_to_json(&a);

	assert_int_equal(ck_fds_from_json(text, &b, NULL), 0);
	assert_int_equal(b.nfds, 2);
	assert_true(b.fds[0].pos == 8960);
	assert_string_equal(b.fds[0].path, "/tmp/out");
	assert_int_equal(b.fds[0].flags, 02001);
	assert_int_equal(b.fds[1].kind, CK_FD_PIPE);
	assert_true(b.fds[1].cloexec);
	assert_true(b.fds[1].pipe_id == 123456);
	assert_int_equal(b.fds[1].pipe_size, 65536);
	assert_int_equal(b.fds[1].file_id, 3);
	ck_proc_free(&b);
}

static void fds_round_trip_with_sockets_epoll_eventfd_and_deleted_files(void **state)
{
	struct ck_epoll_tfd tfds[] = {{.tfd = 3, .events = 0x80000001u, .data = 0xabcdef0123ULL}};
	struct ck_fdx ev = {.count = 0xfffffffffffffffeULL, .semaphore = true};
	struct ck_fdx ep = {.tfds = tfds, .ntfds = 1};
	struct ck_fdx del = {.mode = 0640, .size = 10000};
	struct ck_fdx sk = {.sk = {.family = 10, .type = 1, .protocol = 6, .state = CK_SK_LISTEN,
				   .addr = "::1", .port = 4711, .backlog = 7, .reuseaddr = true,
				   .v6only = true, .ino = 99}};
	struct ck_fd fds[] = {
		{.fd = 3, .kind = CK_FD_EVENTFD, .file_id = 1, .x = &ev},
		{.fd = 4, .kind = CK_FD_EPOLL, .file_id = 2, .x = &ep},
		{.fd = 5, .kind = CK_FD_DELETED, .file_id = 3, .pos = 1234, .path = "/tmp/f",
		 .x = &del},
		{.fd = 6, .kind = CK_FD_SOCK, .file_id = 4, .flags = 04002, .x = &sk},
	};
	struct ck_proc a = {.fds = fds, .nfds = 4}, b = {0};
	_cleanup_free_ char *text = ck_fds_to_json(&a);

	assert_int_equal(ck_fds_from_json(text, &b, NULL), 0);
	assert_int_equal(b.nfds, 4);
	assert_true(b.fds[0].x->count == 0xfffffffffffffffeULL);
	assert_true(b.fds[0].x->semaphore);
	assert_int_equal(b.fds[1].x->ntfds, 1);
	assert_true(b.fds[1].x->tfds[0].events == 0x80000001u);
	assert_true(b.fds[1].x->tfds[0].data == 0xabcdef0123ULL);
	assert_string_equal(b.fds[2].path, "/tmp/f");
	assert_int_equal(b.fds[2].x->mode, 0640);
	assert_true(b.fds[2].pos == 1234);
	assert_int_equal(b.fds[3].x->sk.state, CK_SK_LISTEN);
	assert_string_equal(b.fds[3].x->sk.addr, "::1");
	assert_int_equal(b.fds[3].x->sk.port, 4711);
	assert_int_equal(b.fds[3].x->sk.backlog, 7);
	assert_true(b.fds[3].x->sk.reuseaddr && b.fds[3].x->sk.v6only && !b.fds[3].x->sk.nodelay);
	ck_proc_free(&b);
}

static void fds_round_trip_with_the_containers_terminal(void **state)
{
	struct ck_fdx t = {.tty = {.iflag = 0x500, .oflag = 5, .cflag = 0xbf, .lflag = 0x8a3b,
				   .ispeed = 38400, .ospeed = 38400, .line = 0, .rows = 33,
				   .cols = 77, .xpixel = 1, .ypixel = 65535, .sid = 1, .pgrp = 7}};
	struct ck_fd fds[] = {{.fd = 0, .kind = CK_FD_TTY, .file_id = 1, .flags = 02, .x = &t},
			      {.fd = 1, .kind = CK_FD_TTY, .file_id = 1, .flags = 02, .x = &t}};
	struct ck_proc a = {.fds = fds, .nfds = 2}, b = {0};
	_cleanup_free_ char *text = NULL;
	_cleanup_werr_ struct werr *err = NULL;

	t.tty.cc[0] = 3;
	t.tty.cc[CK_TTY_NCC - 1] = 0xff;
	text = ck_fds_to_json(&a);
	assert_non_null(strstr(text, "\"tty\""));
	assert_int_equal(ck_fds_from_json(text, &b, NULL), 0);
	assert_int_equal(b.nfds, 2);
	assert_int_equal(b.fds[1].kind, CK_FD_TTY);
	assert_memory_equal(&b.fds[0].x->tty, &t.tty, sizeof(t.tty));
	assert_ptr_equal(ck_tty_of(&b, 1), &b.fds[0].x->tty);
	ck_proc_free(&b);
	/* a window size that does not fit is named */
	assert_true(ck_fds_from_json("{\"fds\": [{\"fd\": 0, \"kind\": \"tty\", \"file_id\": 1, "
				     "\"flags\": 2, \"cloexec\": false, \"iflag\": 0, \"oflag\": 0, "
				     "\"cflag\": 0, \"lflag\": 0, \"ispeed\": 0, \"ospeed\": 0, "
				     "\"rows\": 70000, \"cols\": 0, \"xpixel\": 0, \"ypixel\": 0}]}",
				     &b, &err) < 0);
	assert_non_null(strstr(err->msg, "rows"));
	ck_proc_free(&b);
}

static void missing_or_mistyped_fields_are_named(void **state)
{
	struct ck_proc p = {0};
	_cleanup_werr_ struct werr *e1 = NULL, *e2 = NULL;

	assert_true(ck_core_from_json("{\"pid\": 3}", &p, &e1) < 0);
	assert_non_null(strstr(e1->msg, "ppid"));
	ck_proc_free(&p);
	assert_true(ck_fds_from_json("{\"fds\": [{\"fd\": 1, \"kind\": \"socket\"}]}", &p, &e2) <
		    0);
	assert_non_null(strstr(e2->msg, "kind"));
	ck_proc_free(&p);
}

static void inventory_of_another_format_is_refused(void **state)
{
	struct ck_inventory inv;
	_cleanup_werr_ struct werr *err = NULL;

	assert_true(ck_inventory_parse("{\"format\": 6, \"root_pid\": 1, \"pids\": [1], "
				       "\"xxh128\": {}}",
				       &inv, &err) < 0);
	assert_non_null(strstr(err->msg, "format 6"));
}

/* Formats 2, 3 (an image with POSIX timers or SysV IPC objects), 4 (with seccomp filters) and 5
 * (with file locks) are read; the highest format needed is written. */
static void inventory_of_format_2_to_5_is_read_and_the_needed_one_written(void **state)
{
	struct ck_inventory inv = {.root_pid = 1, .npids = 1};
	_cleanup_free_ char *text = NULL;
	char dir[] = "/tmp/ward-unit-inv-XXXXXX";
	int dirfd;

	for (int f = 2; f <= 5; f++) {
		struct ck_inventory in;
		_cleanup_werr_ struct werr *err = NULL;
		_cleanup_free_ char *doc = xasprintf("{\"format\": %d, \"root_pid\": 1, "
						     "\"pids\": [1], \"xxh128\": {}}",
						     f);

		assert_int_equal(ck_inventory_parse(doc, &in, &err), 0);
		assert_int_equal(in.format, f);
		ck_inventory_free(&in);
	}
	assert_non_null(mkdtemp(dir));
	dirfd = open(dir, O_RDONLY | O_DIRECTORY);
	ck_inventory_need(&inv, CK_FORMAT_LOCKS);
	ck_inventory_need(&inv, CK_FORMAT_SECCOMP); /* does not lower it */
	inv.pids = xcalloc(1, sizeof(pid_t));
	inv.pids[0] = 1;
	assert_int_equal(ck_inventory_write(dirfd, &inv, NULL), 0);
	ck_inventory_free(&inv);
	assert_int_equal(read_file_at(dirfd, "inventory.json", &text, NULL, NULL), 0);
	assert_non_null(strstr(text, "\"format\": 5"));
	unlinkat(dirfd, "inventory.json", 0);
	close(dirfd);
	rmdir(dir);
}

/* Format 1 (sha256 sums) is named as an older ward's, with what to do about it. */
static void inventory_of_format_1_is_refused_as_older(void **state)
{
	struct ck_inventory inv;
	_cleanup_werr_ struct werr *err = NULL;

	assert_true(ck_inventory_parse("{\"format\": 1, \"root_pid\": 1, \"pids\": [1], "
				       "\"sha256\": {}}",
				       &inv, &err) < 0);
	assert_non_null(strstr(err->msg, "format 1"));
	assert_non_null(strstr(err->msg, "older ward"));
	assert_non_null(strstr(err->msg, "checkpoint again"));
}

static void inventory_pids_must_start_with_the_root(void **state)
{
	struct ck_inventory inv;
	_cleanup_werr_ struct werr *err = NULL;

	assert_true(ck_inventory_parse("{\"format\": 2, \"root_pid\": 1, \"pids\": [2, 1], "
				       "\"xxh128\": {}}",
				       &inv, &err) < 0);
	assert_non_null(strstr(err->msg, "root_pid"));
}

static void inventory_names_must_stay_in_the_directory(void **state)
{
	struct ck_inventory inv;
	_cleanup_werr_ struct werr *err = NULL;
	char sum[33];

	memset(sum, 'a', 32);
	sum[32] = 0;
	{
		_cleanup_free_ char *doc =
			xasprintf("{\"format\": 2, \"root_pid\": 1, \"pids\": [1], "
				  "\"xxh128\": {\"../etc/passwd\": \"%s\"}}",
				  sum);

		assert_true(ck_inventory_parse(doc, &inv, &err) < 0);
	}
	assert_non_null(strstr(err->msg, "../etc/passwd"));
}

static void inventory_detects_a_changed_file(void **state)
{
	char dir[] = "/tmp/ward-unit-inv-XXXXXX";
	struct ck_inventory inv = {0}, back;
	_cleanup_werr_ struct werr *err = NULL;
	_cleanup_close_ int dirfd = -1;
	int fd;

	assert_non_null(mkdtemp(dir));
	dirfd = open(dir, O_RDONLY | O_DIRECTORY);
	fd = openat(dirfd, "pages-1.img", O_WRONLY | O_CREAT, 0600);
	assert_int_equal(write(fd, "abcdef", 6), 6);
	close(fd);
	inv.root_pid = 1;
	inv.pids = xcalloc(1, sizeof(pid_t));
	inv.pids[0] = 1;
	inv.npids = 1;
	inv.files = xcalloc(1, sizeof(char *));
	inv.files[0] = xstrdup("pages-1.img");
	inv.nfiles = 1;
	assert_int_equal(ck_inventory_write(dirfd, &inv, NULL), 0);
	/* XXH3-128 of "abcdef", as `printf abcdef | xxhsum -H2` prints it */
	assert_string_equal(inv.sums[0], "389197a55db2b2e4da35a6714d34f8a2");
	assert_int_equal(ck_inventory_load(dirfd, &back, NULL), 0);
	assert_int_equal(back.root_pid, 1);
	ck_inventory_free(&back);
	fd = openat(dirfd, "pages-1.img", O_WRONLY);
	assert_int_equal(pwrite(fd, "X", 1, 2), 1);
	close(fd);
	assert_true(ck_inventory_load(dirfd, &back, &err) < 0);
	assert_non_null(strstr(err->msg, "pages-1.img"));
	assert_non_null(strstr(err->msg, "xxh128"));
	ck_inventory_free(&inv);
	unlinkat(dirfd, "pages-1.img", 0);
	unlinkat(dirfd, "inventory.json", 0);
	rmdir(dir);
}

/* The running sum (whichever XXH3 build this CPU gets, sum_avx2.c or libxxhash) fed in uneven
 * pieces is libxxhash's one-shot XXH3-128 of the whole. */
static void running_sum_is_libxxhash_xxh3_128(void **state)
{
	size_t n = (5 << 20) + 4321, done = 0, step = 1;
	unsigned char *buf = xmalloc(n);
	struct ck_sum *s = ck_sum_new();
	char got[CK_SUM_HEX + 1], want[CK_SUM_HEX + 1], one[CK_SUM_HEX + 1];
	XXH128_canonical_t c;

	for (size_t i = 0; i < n; i++)
		buf[i] = (unsigned char)(i * 2654435761u >> 13);
	while (done < n) {
		size_t k = step < n - done ? step : n - done;

		ck_sum_update(s, buf + done, k);
		done += k;
		step = step * 7 + 13;
	}
	ck_sum_final(s, got);
	XXH128_canonicalFromHash(&c, XXH3_128bits(buf, n));
	for (size_t i = 0; i < 16; i++)
		snprintf(want + 2 * i, 3, "%02x", c.digest[i]);
	ck_sum_buf(buf, n, one);
	assert_string_equal(got, want);
	assert_string_equal(one, want);
	free(buf);
}

/* /proc/locks and fdinfo "lock:" lines: kinds, types, holder, inclusive end to a length, EOF,
 * waiting requests ("->"), leases read (to be refused by name), junk refused. */
static void lock_lines_of_proc_locks_and_fdinfo_are_read(void **state)
{
	struct ck_lock_line l;

	assert_int_equal(ck_lock_parse_line("1: POSIX  ADVISORY  WRITE 504 fe:00:10954074 100 109", &l),
			 0);
	assert_string_equal(l.kind, "POSIX");
	assert_string_equal(l.mode, "ADVISORY");
	assert_true(l.write && !l.blocked);
	assert_int_equal(l.pid, 504);
	assert_true(l.start == 100 && l.len == 10);
	assert_int_equal(ck_lock_parse_line("\t2: FLOCK  ADVISORY  READ 7 08:01:5678 0 EOF", &l), 0);
	assert_true(!l.write && l.start == 0 && l.len == 0);
	assert_int_equal(ck_lock_parse_line("3: OFDLCK ADVISORY  READ -1 fe:00:1 4096 EOF", &l), 0);
	assert_string_equal(l.kind, "OFDLCK");
	assert_true(l.pid == -1 && l.start == 4096 && l.len == 0);
	assert_int_equal(ck_lock_parse_line("4: -> POSIX  ADVISORY  WRITE 9 fe:00:2 0 EOF", &l), 0);
	assert_true(l.blocked && l.pid == 9);
	assert_int_equal(ck_lock_parse_line("5: LEASE  ACTIVE    READ 3 fe:00:3 0 EOF", &l), 0);
	assert_string_equal(l.kind, "LEASE");
	assert_int_equal(ck_lock_parse_line("6: POSIX  ADVISORY  UNLCK 3 fe:00:3 0 EOF", &l), -EINVAL);
	assert_int_equal(ck_lock_parse_line("7: POSIX  ADVISORY  WRITE 3 fe:00:3 9 2", &l), -EINVAL);
	assert_int_equal(ck_lock_parse_line("no colon", &l), -EINVAL);
	assert_int_equal(ck_lock_parse_line("8: POSIX", &l), -EINVAL);
}

static void fds_round_trip_with_their_locks(void **state)
{
	struct ck_lock locks[] = {
		{.kind = CK_LOCK_POSIX, .write = true, .start = 100, .len = 100},
		{.kind = CK_LOCK_OFD, .write = false, .start = 1ULL << 40, .len = 0},
	};
	struct ck_lock fl = {.kind = CK_LOCK_FLOCK, .write = true};
	struct ck_fd fds[] = {
		{.fd = 3, .kind = CK_FD_FILE, .file_id = 1, .path = "/a", .locks = locks, .nlocks = 2},
		{.fd = 4, .kind = CK_FD_FILE, .file_id = 2, .path = "/b", .locks = &fl, .nlocks = 1},
		{.fd = 5, .kind = CK_FD_FILE, .file_id = 3, .path = "/c"},
	};
	struct ck_proc a = {.fds = fds, .nfds = 3}, b = {0};
	_cleanup_free_ char *text = ck_fds_to_json(&a);

	assert_int_equal(ck_fds_from_json(text, &b, NULL), 0);
	assert_int_equal(b.fds[0].nlocks, 2);
	assert_int_equal(b.fds[0].locks[0].kind, CK_LOCK_POSIX);
	assert_true(b.fds[0].locks[0].write && b.fds[0].locks[0].start == 100 &&
		    b.fds[0].locks[0].len == 100);
	assert_int_equal(b.fds[0].locks[1].kind, CK_LOCK_OFD);
	assert_true(!b.fds[0].locks[1].write && b.fds[0].locks[1].start == 1ULL << 40 &&
		    b.fds[0].locks[1].len == 0);
	assert_int_equal(b.fds[1].nlocks, 1);
	assert_int_equal(b.fds[1].locks[0].kind, CK_LOCK_FLOCK);
	assert_true(b.fds[1].locks[0].write);
	assert_int_equal(b.fds[2].nlocks, 0);
	assert_null(strstr(strstr(text, "\"/c\""), "locks")); /* no lock, no field */
	ck_proc_free(&b);
}

static void a_bad_lock_is_refused_naming_the_fd(void **state)
{
	static const char *const bad[] = {
		"[{\"type\": \"lease\", \"mode\": \"read\", \"start\": \"0x0\", \"len\": \"0x0\"}]",
		"[{\"type\": \"posix\", \"mode\": \"rw\", \"start\": \"0x0\", \"len\": \"0x0\"}]",
		"[{\"type\": \"posix\", \"mode\": \"read\", \"start\": \"12\", \"len\": \"0x0\"}]",
		"[{\"type\": \"ofd\", \"mode\": \"read\", \"start\": \"0x8000000000000000\", "
		"\"len\": \"0x0\"}]",
		"{\"type\": \"flock\"}",
	};

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		struct ck_proc p = {0};
		_cleanup_werr_ struct werr *err = NULL;
		_cleanup_free_ char *doc = xasprintf("{\"fds\": [{\"fd\": 7, \"kind\": \"file\", "
						     "\"file_id\": 1, \"flags\": 2, \"cloexec\": "
						     "false, \"path\": \"/x\", \"pos\": 0, "
						     "\"outside\": false, \"locks\": %s}]}",
						     bad[i]);

		assert_true(ck_fds_from_json(doc, &p, &err) < 0);
		assert_non_null(strstr(err->msg, "fd 7"));
		ck_proc_free(&p);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(core_round_trips),
		cmocka_unit_test(mm_round_trips),
		cmocka_unit_test(overlapping_vmas_are_refused),
		cmocka_unit_test(pagemap_round_trips_and_must_be_contiguous_in_the_file),
		cmocka_unit_test(shmem_views_and_objects_round_trip),
		cmocka_unit_test(shmem_view_past_its_object_refused),
		cmocka_unit_test(fds_round_trip_with_pipes_and_files),
		cmocka_unit_test(fds_round_trip_with_sockets_epoll_eventfd_and_deleted_files),
		cmocka_unit_test(fds_round_trip_with_the_containers_terminal),
		cmocka_unit_test(missing_or_mistyped_fields_are_named),
		cmocka_unit_test(inventory_of_another_format_is_refused),
		cmocka_unit_test(inventory_of_format_2_to_5_is_read_and_the_needed_one_written),
		cmocka_unit_test(lock_lines_of_proc_locks_and_fdinfo_are_read),
		cmocka_unit_test(fds_round_trip_with_their_locks),
		cmocka_unit_test(a_bad_lock_is_refused_naming_the_fd),
		cmocka_unit_test(inventory_of_format_1_is_refused_as_older),
		cmocka_unit_test(inventory_pids_must_start_with_the_root),
		cmocka_unit_test(inventory_names_must_stay_in_the_directory),
		cmocka_unit_test(inventory_detects_a_changed_file),
		cmocka_unit_test(running_sum_is_libxxhash_xxh3_128),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
