/* Checkpoint workload: two POSIX timers. Timer A (CLOCK_MONOTONIC, every 10 ms) signals the
 * process with SIGRTMIN and sival_int 0xa11; timer B (CLOCK_BOOTTIME, every 15 ms) signals only
 * the second thread (SIGEV_THREAD_ID) with SIGRTMIN + 1. A timer created and deleted between them
 * leaves a gap in the ids. Handlers count, and note any signal with the wrong value or thread.
 * Prints "ready A B" (the timer ids), waits for SIGUSR1 (sent after restore), then checks that
 * both counters go on, that B still targets the second thread and that timer_gettime still
 * gives the intervals; prints "ok ..." and exits 0, or "bad ..." and exits 1. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t go;
static volatile unsigned long count_a, count_b, wrong;
static volatile pid_t tid_b;

static void on_usr1(int sig)
{
	go = 1;
}

static void on_a(int sig, siginfo_t *si, void *uc)
{
	if (si->si_code != SI_TIMER || si->si_value.sival_int != 0xa11)
		wrong++;
	count_a++;
}

static void on_b(int sig, siginfo_t *si, void *uc)
{
	if ((pid_t)syscall(SYS_gettid) != tid_b || si->si_value.sival_int != 0xb22)
		wrong++;
	count_b++;
}

static int bad(const char *what)
{
	printf("bad %s (errno %d)\n", what, errno);
	fflush(stdout);
	return 1;
}

static void *second(void *arg)
{
	tid_b = (pid_t)syscall(SYS_gettid);
	for (;;)
		pause();
	return NULL;
}

static void nap_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000};

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static int make_timer(clockid_t clock, int notify, int sig, int value, long ms, timer_t *id)
{
	struct sigevent ev;
	struct itimerspec its = {{0, ms * 1000000}, {0, ms * 1000000}};

	memset(&ev, 0, sizeof(ev));
	ev.sigev_notify = notify;
	ev.sigev_signo = sig;
	ev.sigev_value.sival_int = value;
	if (notify == SIGEV_THREAD_ID)
		ev._sigev_un._tid = tid_b;
	if (timer_create(clock, &ev, id) < 0)
		return -1;
	return ms ? timer_settime(*id, 0, &its, NULL) : 0;
}

int main(void)
{
	struct sigaction sa = {.sa_flags = SA_SIGINFO | SA_RESTART};
	sigset_t usr1, cur;
	pthread_t th;
	timer_t a, gap, b;
	struct itimerspec ia, ib;
	unsigned long a0, b0;

	signal(SIGUSR1, on_usr1);
	sigemptyset(&usr1);
	sigaddset(&usr1, SIGUSR1);
	sigprocmask(SIG_BLOCK, &usr1, NULL);
	sa.sa_sigaction = on_a;
	sigaction(SIGRTMIN, &sa, NULL);
	sa.sa_sigaction = on_b;
	sigaction(SIGRTMIN + 1, &sa, NULL);
	if (pthread_create(&th, NULL, second, NULL) != 0)
		return bad("pthread_create");
	while (!tid_b)
		nap_ms(1);
	if (make_timer(CLOCK_MONOTONIC, SIGEV_SIGNAL, SIGRTMIN, 0xa11, 10, &a) < 0 ||
	    make_timer(CLOCK_REALTIME, SIGEV_NONE, 0, 0, 0, &gap) < 0 ||
	    make_timer(CLOCK_BOOTTIME, SIGEV_THREAD_ID, SIGRTMIN + 1, 0xb22, 15, &b) < 0 ||
	    timer_delete(gap) < 0)
		return bad("timer_create");
	while (count_a < 3 || count_b < 3)
		nap_ms(5);
	printf("ready %ld %ld\n", (long)(intptr_t)a, (long)(intptr_t)b);
	fflush(stdout);
	sigprocmask(SIG_BLOCK, NULL, &cur);
	sigdelset(&cur, SIGUSR1);
	while (!go)
		sigsuspend(&cur);
	a0 = count_a;
	b0 = count_b;
	nap_ms(300);
	if (count_a < a0 + 5 || count_b < b0 + 5) {
		printf("bad counters stopped: A %lu -> %lu, B %lu -> %lu\n", a0, count_a, b0,
		       count_b);
		return 1;
	}
	if (wrong)
		return bad("a timer signal with the wrong value or thread");
	if (timer_gettime(a, &ia) < 0 || timer_gettime(b, &ib) < 0)
		return bad("timer_gettime");
	if (ia.it_interval.tv_nsec != 10000000 || ib.it_interval.tv_nsec != 15000000)
		return bad("intervals not kept");
	printf("ok timers %ld and %ld count on: A %lu -> %lu, B %lu -> %lu\n", (long)(intptr_t)a,
	       (long)(intptr_t)b, a0, count_a, b0, count_b);
	return 0;
}
