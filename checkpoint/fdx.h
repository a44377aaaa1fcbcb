/* The fd kinds beyond files, devices and pipes (fd_misc.c: eventfd, epoll, FIFOs, deleted files;
 * fd_sock.c: TCP/UDP sockets, unix socketpairs), and the hooks the dump and restore fd code call
 * for them. Not a public interface. */
#ifndef WARD_CHECKPOINT_FDX_H
#define WARD_CHECKPOINT_FDX_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <yajl/yajl_gen.h>
#include <yajl/yajl_tree.h>

#include "checkpoint/image.h"
#include "checkpoint/inventory.h"
#include "lib/err.h"

struct ck_epoll_tfd {
	int tfd;	 /* the target's fd number in the process */
	uint32_t events; /* incl. EPOLLET/EPOLLONESHOT/... */
	uint64_t data;
};

enum ck_sock_state {
	CK_SK_UNBOUND, /* a fresh socket: made again as such */
	CK_SK_BOUND,   /* bound (UDP: maybe connected to peer_addr) */
	CK_SK_LISTEN,  /* TCP listening */
	CK_SK_PAIR,    /* one end of a unix socketpair whose peer is in the tree */
};

struct ck_sock {
	int family, type, protocol;
	enum ck_sock_state state;
	char addr[64], peer_addr[64]; /* numeric, inet_ntop */
	int port, peer_port;	      /* peer_port 0: not connected */
	int backlog;
	bool reuseaddr, reuseport, keepalive, nodelay, v6only, broadcast;
	uint64_t ino, peer_ino; /* unix pairs: this end's and the peer's inode */
	uint64_t queued;	/* unix stream pair: bytes queued for reading here (sk-<ino>.img) */
};

/* The container's terminal (CK_FD_TTY, fd_tty.c): the pty slave its runtime made; restore
 * gives the new container's instead, with these settings. */
#define CK_TTY_NCC 19 /* the kernel's termios2 c_cc */
struct ck_tty {
	uint32_t iflag, oflag, cflag, lflag, ispeed, ospeed; /* termios2 */
	uint8_t line, cc[CK_TTY_NCC];
	uint16_t rows, cols, xpixel, ypixel; /* TIOCGWINSZ */
	pid_t sid;  /* the session it is the controlling terminal of (image pids), 0: none */
	pid_t pgrp; /* its foreground process group, 0: none in the tree */
};

/* Details of the kinds CK_FD_EVENTFD and after (struct ck_fd.x). */
struct ck_fdx {
	uint64_t count; /* eventfd */
	bool semaphore;
	struct ck_epoll_tfd *tfds; /* epoll */
	size_t ntfds;
	unsigned mode; /* deleted: st_mode & 07777 */
	uint64_t size; /* deleted: the file's size */
	struct ck_sock sk;
	struct ck_tty tty;
};

/* Dump, for an fd that collect_fd did not take: 0 and f filled (kind, x, path...) when it is a
 * kind of these files, -ENOENT when not, another error (with a message naming the process and
 * fd) when it is one but cannot be saved. */
int ck_fdx_collect(pid_t host_pid, const struct ck_proc *p, int fd, const char *link,
		   const char *fdinfo, struct ck_fd *f, struct werr **err);
/* Dump, after the descriptions are numbered: the data files (fifo-, deleted-, sk-*.img), added
 * to inv, and the tree-wide checks (a socketpair's peer must be in the tree). */
int ck_fdx_write(int dirfd, struct ck_proc *procs, size_t n, struct ck_inventory *inv,
		 struct werr **err);

/* Restore, in the restorer: open f's description. Returns the fd; for a socketpair *other_id
 * and *other get the peer's description (when in the tree), else *other is -1. */
int ck_fdx_open(int dirfd, const struct ck_proc *procs, size_t n, const struct ck_fd *f,
		uint32_t *other_id, int *other, struct werr **err);
/* Restore, in the helper once its fds are in place: epoll targets (registered under the
 * process's own fd numbers). -1 with errno. */
int ck_fdx_helper(const struct ck_proc *p);

/* JSON of these kinds (fds-<pid>.json), and freeing. */
void ck_fdx_gen(yajl_gen g, const struct ck_fd *f);
int ck_fdx_parse(yajl_val o, struct ck_fd *f, struct werr **err);
void ck_fdx_free(struct ck_fdx *x);

/* fd_sock.c's halves of the above for CK_FD_SOCK. */
int ck_sock_collect(pid_t host_pid, const struct ck_proc *p, int fd, uint64_t ino, struct ck_fd *f,
		    struct werr **err);
int ck_sock_write(int dirfd, struct ck_proc *procs, size_t n, struct ck_inventory *inv,
		  struct werr **err);
int ck_sock_open(int dirfd, const struct ck_proc *procs, size_t n, const struct ck_fd *f,
		 uint32_t *other_id, int *other, struct werr **err);

/* A copy of host_pid's fd in the dumper (pidfd_getfd; needs the ptrace access it has). */
int ck_grab_fd(pid_t host_pid, int fd, struct werr **err);

/* fd_tty.c: the container's terminal. Dump: collect fd (known to be the console: the caller
 * compared its device), then, tree-wide, which session has it and its foreground group. */
int ck_tty_collect(pid_t host_pid, const struct ck_proc *p, int fd, struct ck_fd *f,
		   struct werr **err);
int ck_tty_tree(struct ck_proc *procs, size_t n, struct werr **err);
/* The tree's terminal settings (the first CK_FD_TTY fd's), or NULL when it has none. */
const struct ck_tty *ck_tty_of(const struct ck_proc *procs, size_t n);
/* Restore, in the restorer: a description of the new terminal tty_fd for f. */
int ck_tty_open(int tty_fd, const struct ck_fd *f, struct werr **err);
/* Restore, in the helper of p (its session and group made, before its children): the
 * controlling terminal, foreground group and settings t says, on tty_fd. -1 with errno. */
int ck_tty_helper(const struct ck_tty *t, const struct ck_proc *p, bool root, int tty_fd);

/* task_misc.c: itimers and pending signals. ck_task_collect_signals before anything is
 * injected (an injected call would deliver an unblocked pending signal), ck_task_collect_itimers
 * with the syscall instruction ask_task found; ck_task_restore in the rebuilt, stopped helper
 * (threads created, trampoline still mapped at data) before its registers and mask are set. */
int ck_task_collect_signals(struct ck_proc *p, struct werr **err);
int ck_task_collect_itimers(struct ck_proc *p, uint64_t insn, struct werr **err);
int ck_task_restore(const struct ck_proc *p, const pid_t *host_tids, uint64_t insn, int memfd,
		    uint64_t data, struct werr **err);
/* ask_blob.c: signal actions, brk, itimers and each thread's clear_child_tid and sigaltstack
 * into p, by a few instructions run in the stopped task (registers left changed: the caller
 * sets them back). -ENOTSUP (*err untouched) when they cannot be mapped there. */
int ck_ask_task_blob(struct ck_proc *p, int memfd, uint64_t insn, struct werr **err);
void ck_task_gen(yajl_gen g, const struct ck_proc *p);
/* image_write.c's JSON generator (beautified) for other files of the image, and its text. */
yajl_gen ck_json_new(void);
char *ck_json_finish(yajl_gen g);
int ck_task_parse(yajl_val o, struct ck_proc *p, struct werr **err);

#endif
