/* Signal names as `ward kill` and the OCI CLI accept them. */
#include "runtime/signals.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/util.h"

static const struct {
	const char *name;
	int sig;
} signals[] = {
	{"SIGHUP", SIGHUP},
	{"SIGINT", SIGINT},
	{"SIGQUIT", SIGQUIT},
	{"SIGILL", SIGILL},
	{"SIGTRAP", SIGTRAP},
	{"SIGABRT", SIGABRT},
	{"SIGBUS", SIGBUS},
	{"SIGFPE", SIGFPE},
	{"SIGKILL", SIGKILL},
	{"SIGUSR1", SIGUSR1},
	{"SIGSEGV", SIGSEGV},
	{"SIGUSR2", SIGUSR2},
	{"SIGPIPE", SIGPIPE},
	{"SIGALRM", SIGALRM},
	{"SIGTERM", SIGTERM},
	{"SIGSTKFLT", SIGSTKFLT},
	{"SIGCHLD", SIGCHLD},
	{"SIGCONT", SIGCONT},
	{"SIGSTOP", SIGSTOP},
	{"SIGTSTP", SIGTSTP},
	{"SIGTTIN", SIGTTIN},
	{"SIGTTOU", SIGTTOU},
	{"SIGURG", SIGURG},
	{"SIGXCPU", SIGXCPU},
	{"SIGXFSZ", SIGXFSZ},
	{"SIGVTALRM", SIGVTALRM},
	{"SIGPROF", SIGPROF},
	{"SIGWINCH", SIGWINCH},
	{"SIGIO", SIGIO},
	{"SIGPWR", SIGPWR},
	{"SIGSYS", SIGSYS},
	/* Aliases: accepted, never printed (the first match of a number wins). */
	{"SIGIOT", SIGIOT},
	{"SIGPOLL", SIGPOLL},
	{"SIGCLD", SIGCHLD},
};

/* SIGRTMIN is a libc value (glibc keeps the first two real-time signals for itself). */
static const char *const rt_names[] = {
	"SIGRTMIN",    "SIGRTMIN+1",  "SIGRTMIN+2",  "SIGRTMIN+3",  "SIGRTMIN+4",  "SIGRTMIN+5",
	"SIGRTMIN+6",  "SIGRTMIN+7",  "SIGRTMIN+8",  "SIGRTMIN+9",  "SIGRTMIN+10", "SIGRTMIN+11",
	"SIGRTMIN+12", "SIGRTMIN+13", "SIGRTMIN+14", "SIGRTMIN+15", "SIGRTMIN+16", "SIGRTMIN+17",
	"SIGRTMIN+18", "SIGRTMIN+19", "SIGRTMIN+20", "SIGRTMIN+21", "SIGRTMIN+22", "SIGRTMIN+23",
	"SIGRTMIN+24", "SIGRTMIN+25", "SIGRTMIN+26", "SIGRTMIN+27", "SIGRTMIN+28", "SIGRTMIN+29",
	"SIGRTMIN+30",
};

/* "+3" / "-2" after RTMIN / RTMAX; empty means 0. */
static int rt_offset(const char *s, int *out)
{
	long long v;

	if (!*s) {
		*out = 0;
		return 0;
	}
	if ((*s != '+' && *s != '-') || parse_int64(s + 1, &v) < 0 || s[1] == '-' || s[1] == '+' ||
	    v > 64)
		return -1;
	*out = *s == '-' ? -(int)v : (int)v;
	return 0;
}

static int parse_rt(const char *name)
{
	int off, sig;

	if (strncasecmp(name, "RTMIN", 5) == 0 && rt_offset(name + 5, &off) == 0)
		sig = SIGRTMIN + off;
	else if (strncasecmp(name, "RTMAX", 5) == 0 && rt_offset(name + 5, &off) == 0)
		sig = SIGRTMAX + off;
	else
		return -1;
	return sig >= SIGRTMIN && sig <= SIGRTMAX ? sig : -1;
}

int signal_parse(const char *s)
{
	long long n;

	if (!s || !*s)
		return -1;
	if (parse_int64(s, &n) == 0)
		return n >= 1 && n < NSIG ? (int)n : -1;
	if (strncasecmp(s, "SIG", 3) == 0)
		s += 3;
	for (size_t i = 0; i < ARRAY_SIZE(signals); i++)
		if (strcasecmp(signals[i].name + 3, s) == 0)
			return signals[i].sig;
	return parse_rt(s);
}

const char *signal_name(int sig)
{
	for (size_t i = 0; i < ARRAY_SIZE(signals); i++)
		if (signals[i].sig == sig)
			return signals[i].name;
	if (sig >= SIGRTMIN && sig <= SIGRTMAX && (size_t)(sig - SIGRTMIN) < ARRAY_SIZE(rt_names))
		return rt_names[sig - SIGRTMIN];
	return NULL;
}

void signals_reset(void)
{
	sigset_t none;

	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	for (int s = 1; s < NSIG; s++)
		if (s != SIGKILL && s != SIGSTOP)
			signal(s, SIG_DFL);
}
