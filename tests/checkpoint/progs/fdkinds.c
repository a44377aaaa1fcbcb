/* Checkpoint workload: fdkinds MODE [PATH]. Sets up one kind of fd (or per-process state), prints
 * "ready ..." and waits for SIGUSR1 (sent after restore); then checks that the state is what it
 * set up, prints "ok ..." and exits 0, or prints "bad ..." and exits 1. */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <unistd.h>

static volatile sig_atomic_t go;

static void on_usr1(int sig)
{
	go = 1;
}

static int bad(const char *what)
{
	printf("bad %s (errno %d)\n", what, errno);
	return 1;
}

/* SIGUSR1 is blocked from main on, so it can only arrive inside sigsuspend (a signal between the
 * test of `go` and the call would otherwise be lost). A restored task re-enters the interrupted
 * sigsuspend, and once it returns the mask must again be the one from before the call: a dump that
 * recorded sigsuspend's temporary mask would leave SIGUSR1 unblocked here. */
static void wait_go(void)
{
	sigset_t cur;

	sigprocmask(SIG_BLOCK, NULL, &cur);
	sigdelset(&cur, SIGUSR1);
	while (!go)
		sigsuspend(&cur);
	sigprocmask(SIG_BLOCK, NULL, &cur);
	if (!sigismember(&cur, SIGUSR1)) {
		printf("bad SIGUSR1 unblocked after sigsuspend returned\n");
		exit(1);
	}
}

static int devices(const char *dir)
{
	int null = open("/dev/null", O_WRONLY), zero = open("/dev/zero", O_RDONLY);
	int rnd = open("/dev/urandom", O_RDONLY), d = open(dir, O_RDONLY | O_DIRECTORY);
	char buf[64] = {1};
	struct stat a, b;

	if (null < 0 || zero < 0 || rnd < 0 || d < 0 || fstat(d, &a) < 0)
		return bad("open");
	printf("ready\n");
	fflush(stdout);
	wait_go();
	if (write(null, "x", 1) != 1)
		return bad("write /dev/null");
	if (read(zero, buf, sizeof(buf)) != sizeof(buf) || buf[0] || buf[63])
		return bad("read /dev/zero");
	if (read(rnd, buf, sizeof(buf)) != sizeof(buf))
		return bad("read /dev/urandom");
	if (fstat(d, &b) < 0 || !S_ISDIR(b.st_mode) || a.st_ino != b.st_ino)
		return bad("the directory fd is another file");
	{
		DIR *dd = fdopendir(d);
		int n = 0;

		while (dd && readdir(dd))
			n++;
		if (n < 2)
			return bad("readdir");
	}
	printf("ok /dev/null, /dev/zero, /dev/urandom and a directory fd work\n");
	return 0;
}

static int deleted(const char *path)
{
	char data[10000], buf[10000];
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0640);
	struct stat sb;

	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (char)('A' + i % 23);
	if (fd < 0 || write(fd, data, sizeof(data)) != sizeof(data) ||
	    lseek(fd, 1234, SEEK_SET) < 0 || unlink(path) < 0)
		return bad("set up");
	printf("ready\n");
	fflush(stdout);
	wait_go();
	if (fstat(fd, &sb) < 0 || sb.st_nlink != 0 || sb.st_size != sizeof(data) ||
	    (sb.st_mode & 0777) != 0640)
		return bad("fstat: not an unlinked file of the size and mode");
	if (read(fd, buf, sizeof(buf)) != sizeof(data) - 1234 ||
	    memcmp(buf, data + 1234, sizeof(data) - 1234))
		return bad("contents from offset 1234");
	if (access(path, F_OK) == 0)
		return bad("the file has a name again");
	printf("ok unlinked file, 10000 bytes, offset 1234, mode 0640\n");
	return 0;
}

static int fifo(const char *path)
{
	int r, w;
	char buf[64] = {0};

	if (mkfifo(path, 0600) < 0)
		return bad("mkfifo");
	r = open(path, O_RDONLY | O_NONBLOCK);
	w = open(path, O_WRONLY);
	if (r < 0 || w < 0 || write(w, "queued in the fifo", 18) != 18)
		return bad("set up");
	printf("ready\n");
	fflush(stdout);
	wait_go();
	if (read(r, buf, sizeof(buf)) != 18 || strcmp(buf, "queued in the fifo"))
		return bad("read the queued bytes");
	if (write(w, "more", 4) != 4 || read(r, buf, sizeof(buf)) != 4)
		return bad("write/read after restore");
	if (!(fcntl(r, F_GETFL) & O_NONBLOCK) || (fcntl(w, F_GETFL) & O_NONBLOCK))
		return bad("O_NONBLOCK not as it was");
	printf("ok FIFO: 18 queued bytes read back, flags kept\n");
	return 0;
}

static int evfd(void)
{
	int e = eventfd(5, EFD_NONBLOCK), s = eventfd(3, EFD_SEMAPHORE);
	uint64_t v = 37;

	if (e < 0 || s < 0 || write(e, &v, 8) != 8)
		return bad("set up");
	printf("ready\n");
	fflush(stdout);
	wait_go();
	if (read(e, &v, 8) != 8 || v != 42)
		return bad("eventfd counter");
	if (read(e, &v, 8) != -1 || errno != EAGAIN)
		return bad("eventfd not non-blocking");
	if (read(s, &v, 8) != 8 || v != 1)
		return bad("semaphore eventfd");
	printf("ok eventfd counter 42, non-blocking; semaphore reads 1\n");
	return 0;
}

static int epoll(void)
{
	int ep = epoll_create1(0), p[2], e = eventfd(0, 0);
	struct epoll_event ev = {.events = EPOLLIN, .data.u64 = 0xabcdef0123ULL}, out[4];
	uint64_t one = 1;
	int n, seen = 0;

	if (ep < 0 || pipe(p) < 0 || e < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev) < 0)
		return bad("set up");
	ev.events = EPOLLIN | EPOLLET;
	ev.data.u64 = 7;
	if (epoll_ctl(ep, EPOLL_CTL_ADD, e, &ev) < 0 || write(p[1], "x", 1) != 1)
		return bad("set up");
	printf("ready\n");
	fflush(stdout);
	wait_go();
	if (write(e, &one, 8) != 8)
		return bad("write eventfd");
	n = epoll_wait(ep, out, 4, 1000);
	for (int i = 0; i < n; i++)
		seen |= out[i].data.u64 == 0xabcdef0123ULL ? 1 : out[i].data.u64 == 7 ? 2 : 4;
	if (seen != 3)
		return bad("epoll_wait did not report both targets with their data");
	if (epoll_ctl(ep, EPOLL_CTL_DEL, p[0], NULL) < 0)
		return bad("EPOLL_CTL_DEL by the process's fd number");
	printf("ok epoll: both targets ready with their data; DEL by fd number works\n");
	return 0;
}

static int pair(void)
{
	int sv[2], dg[2];
	char buf[64] = {0};

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0 ||
	    socketpair(AF_UNIX, SOCK_DGRAM, 0, dg) < 0)
		return bad("socketpair");
	if (write(sv[0], "to one", 6) != 6 || write(sv[0], " and on", 7) != 7 ||
	    write(sv[1], "to zero", 7) != 7)
		return bad("write");
	printf("ready\n");
	fflush(stdout);
	wait_go();
	if (read(sv[1], buf, sizeof(buf)) != 13 || strcmp(buf, "to one and on"))
		return bad("stream end 1's queued bytes");
	memset(buf, 0, sizeof(buf));
	if (read(sv[0], buf, sizeof(buf)) != 7 || strcmp(buf, "to zero"))
		return bad("stream end 0's queued bytes");
	if (send(dg[0], "dgram", 5, 0) != 5 || recv(dg[1], buf, sizeof(buf), 0) != 5)
		return bad("datagram pair");
	printf("ok unix stream pair: queued bytes both ways; datagram pair connected\n");
	return 0;
}

static int listener(int family, int type, int *port)
{
	int s = socket(family, type, 0), one = 1;
	struct sockaddr_in6 a6 = {.sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT};
	struct sockaddr_in a4 = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	struct sockaddr_storage ss;
	socklen_t l = sizeof(ss);

	setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (family == AF_INET6)
		setsockopt(s, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(s, family == AF_INET6 ? (struct sockaddr *)&a6 : (struct sockaddr *)&a4,
		 family == AF_INET6 ? sizeof(a6) : sizeof(a4)) < 0 ||
	    (type == SOCK_STREAM && listen(s, 7) < 0) ||
	    getsockname(s, (struct sockaddr *)&ss, &l) < 0)
		return -1;
	*port = ntohs(family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
					 : ((struct sockaddr_in *)&ss)->sin_port);
	return s;
}

static int reuse(int s)
{
	int v = 0;
	socklen_t l = sizeof(v);

	return getsockopt(s, SOL_SOCKET, SO_REUSEADDR, &v, &l) == 0 && v;
}

static int tcp(void)
{
	int p4, p6, pu, t4 = listener(AF_INET, SOCK_STREAM, &p4);
	int t6 = listener(AF_INET6, SOCK_STREAM, &p6), u = listener(AF_INET, SOCK_DGRAM, &pu);
	struct sockaddr_storage from;
	socklen_t fl = sizeof(from);
	char buf[64];
	int c;

	if (t4 < 0 || t6 < 0 || u < 0)
		return bad("set up");
	printf("ready %d %d %d\n", p4, p6, pu);
	fflush(stdout);
	wait_go();
	if (!reuse(t4) || !reuse(t6) || !reuse(u))
		return bad("SO_REUSEADDR lost");
	if ((c = accept(t4, NULL, NULL)) < 0 || write(c, "hello4", 6) != 6)
		return bad("accept on IPv4");
	close(c);
	if ((c = accept(t6, NULL, NULL)) < 0 || write(c, "hello6", 6) != 6)
		return bad("accept on IPv6");
	close(c);
	if (recvfrom(u, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fl) <= 0 ||
	    sendto(u, "udp", 3, 0, (struct sockaddr *)&from, fl) != 3)
		return bad("UDP");
	printf("ok accepted on IPv4 and IPv6 listeners, answered over UDP\n");
	return 0;
}

/* An established connection (to itself): the checkpoint must refuse it. */
static int tcpconn(void)
{
	int p, l = listener(AF_INET, SOCK_STREAM, &p), c = socket(AF_INET, SOCK_STREAM, 0), a;
	struct sockaddr_in to = {.sin_family = AF_INET,
				 .sin_port = htons((uint16_t)p),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};

	if (l < 0 || c < 0 || connect(c, (struct sockaddr *)&to, sizeof(to)) < 0 ||
	    (a = accept(l, NULL, NULL)) < 0)
		return bad("set up");
	printf("ready\n");
	fflush(stdout);
	wait_go();
	printf("ok\n");
	return 0;
}

static int itimers(void)
{
	struct itimerval real = {{7, 0}, {30, 0}}, virt = {{0, 0}, {50, 0}}, a, b;

	signal(SIGALRM, SIG_IGN);
	if (setitimer(ITIMER_REAL, &real, NULL) < 0 || setitimer(ITIMER_VIRTUAL, &virt, NULL) < 0)
		return bad("setitimer");
	printf("ready\n");
	fflush(stdout);
	wait_go();
	if (getitimer(ITIMER_REAL, &a) < 0 || getitimer(ITIMER_VIRTUAL, &b) < 0)
		return bad("getitimer");
	if (a.it_interval.tv_sec != 7 || a.it_value.tv_sec < 20 || a.it_value.tv_sec > 30)
		return bad("ITIMER_REAL not kept");
	if (b.it_value.tv_sec < 40 || b.it_value.tv_sec > 50)
		return bad("ITIMER_VIRTUAL not kept");
	printf("ok ITIMER_REAL %lds left (interval 7s), ITIMER_VIRTUAL %lds left\n",
	       (long)a.it_value.tv_sec, (long)b.it_value.tv_sec);
	return 0;
}

static int signals(void)
{
	sigset_t set, pend;
	union sigval v = {.sival_int = 1234};
	siginfo_t si;
	struct timespec zero = {0, 0};

	sigemptyset(&set);
	sigaddset(&set, SIGUSR2);
	sigaddset(&set, SIGRTMIN);
	sigaddset(&set, SIGRTMIN + 1);
	sigprocmask(SIG_BLOCK, &set, NULL);
	if (kill(getpid(), SIGUSR2) < 0 || sigqueue(getpid(), SIGRTMIN, v) < 0 ||
	    sigqueue(getpid(), SIGRTMIN, v) < 0 ||
	    syscall(SYS_tgkill, getpid(), gettid(), SIGRTMIN + 1) < 0)
		return bad("queue");
	printf("ready\n");
	fflush(stdout);
	wait_go();
	sigpending(&pend);
	if (!sigismember(&pend, SIGUSR2) || !sigismember(&pend, SIGRTMIN) ||
	    !sigismember(&pend, SIGRTMIN + 1))
		return bad("not pending after restore");
	/* The kernel dequeues the thread's own queue before the process's. */
	if (sigtimedwait(&set, &si, &zero) != SIGRTMIN + 1)
		return bad("thread-directed SIGRTMIN+1 first");
	if (sigtimedwait(&set, &si, &zero) != SIGUSR2)
		return bad("then SIGUSR2");
	for (int i = 0; i < 2; i++)
		if (sigtimedwait(&set, &si, &zero) != SIGRTMIN || si.si_value.sival_int != 1234 ||
		    si.si_code != SI_QUEUE)
			return bad("SIGRTMIN with its value, twice");
	if (sigtimedwait(&set, &si, &zero) != -1)
		return bad("more signals than were queued");
	printf("ok pending SIGUSR2, 2x SIGRTMIN (value 1234) and thread SIGRTMIN+1 kept\n");
	return 0;
}

static int umask_altstack(void)
{
	static char stack[65536];
	stack_t ss = {.ss_sp = stack, .ss_size = sizeof(stack)}, got;

	umask(027);
	if (sigaltstack(&ss, NULL) < 0)
		return bad("sigaltstack");
	printf("ready\n");
	fflush(stdout);
	wait_go();
	if (umask(0) != 027)
		return bad("umask");
	if (sigaltstack(NULL, &got) < 0 || got.ss_sp != stack || got.ss_size != sizeof(stack))
		return bad("sigaltstack");
	printf("ok umask 027 and sigaltstack kept\n");
	return 0;
}

int main(int argc, char **argv)
{
	struct sigaction sa = {.sa_handler = on_usr1};
	const char *mode = argc > 1 ? argv[1] : "";
	const char *path = argc > 2 ? argv[2] : "/tmp";

	sigset_t usr1;

	setvbuf(stdout, NULL, _IOLBF, 0);
	sigaction(SIGUSR1, &sa, NULL);
	sigemptyset(&usr1);
	sigaddset(&usr1, SIGUSR1);
	sigprocmask(SIG_BLOCK, &usr1, NULL);
	if (!strcmp(mode, "devices"))
		return devices(path);
	if (!strcmp(mode, "deleted"))
		return deleted(path);
	if (!strcmp(mode, "fifo"))
		return fifo(path);
	if (!strcmp(mode, "eventfd"))
		return evfd();
	if (!strcmp(mode, "epoll"))
		return epoll();
	if (!strcmp(mode, "socketpair"))
		return pair();
	if (!strcmp(mode, "tcp"))
		return tcp();
	if (!strcmp(mode, "tcpconn"))
		return tcpconn();
	if (!strcmp(mode, "itimers"))
		return itimers();
	if (!strcmp(mode, "signals"))
		return signals();
	if (!strcmp(mode, "umask"))
		return umask_altstack();
	return bad("unknown mode");
}
