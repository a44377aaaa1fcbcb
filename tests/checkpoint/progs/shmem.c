/* Checkpoint workload: memory shared between processes.
 *   shmem pair   a parent maps 8 MiB MAP_SHARED|MAP_ANONYMOUS, writes a pattern into its first
 *                6 MiB and one page at its end, maps 1 MiB of it a second time read-only at
 *                offset 4 MiB (mremap with old size 0: the same object) and makes 64 KiB at 7
 *                MiB read-only (a split), then forks; the child maps 2 MiB at offset 5 MiB a
 *                third time. The two play ping-pong through a control page of the object: the
 *                parent bumps `ping` and waits for the child to answer with `pong` (5 s, then
 *                "stuck", exit 3), printing "round N" every 50 rounds. On SIGUSR1 the parent
 *                checks the pattern through both its views, writes a new word, has the child
 *                check the pattern and that word through its views, and exits 0 printing "ok"
 *                when both are right.
 *   shmem sysv   attaches a SysV shared memory segment and counts, a line every 20 ms. */
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MIB (1UL << 20)
#define SIZE (8 * MIB)
#define DATA_END (6 * MIB)
#define TOKEN 0x5eed5eed5eedULL

enum { CMD_NONE, CMD_CHECK, CMD_EXIT };

struct ctl {
	volatile uint64_t ping, pong, cmd, result;
};

static volatile sig_atomic_t check_now;

static void on_usr1(int sig)
{
	check_now = 1;
}

static void nap_us(long us)
{
	struct timespec ts = {0, us * 1000};

	nanosleep(&ts, NULL);
}

static uint32_t pat(size_t word)
{
	return (uint32_t)(word * 2654435761u) ^ 0x5a5a5a5au;
}

/* The pattern at object offsets [from, to) as seen through a view of the object that starts at
 * object offset view_off; offsets past DATA_END read zero. */
static int check_view(const char *view, size_t view_off, size_t from, size_t to)
{
	for (size_t off = from; off < to; off += 4) {
		uint32_t want = off < 4096 ? 0 : off < DATA_END ? pat(off / 4) : 0;
		uint32_t got = *(const uint32_t *)(view + off - view_off);

		if (off < 4096)
			continue; /* the control page */
		if (off == 4 * MIB + 8 || off == 4 * MIB + 12)
			continue; /* the word written after restore */
		if (got != want) {
			printf("offset 0x%zx reads 0x%x, want 0x%x\n", off, got, want);
			return -1;
		}
	}
	return 0;
}

static int child_loop(char *base)
{
	struct ctl *c = (struct ctl *)base;
	char *mine = mremap(base + 5 * MIB, 0, 2 * MIB, MREMAP_MAYMOVE);

	if (mine == MAP_FAILED)
		return 4;
	for (;;) {
		uint64_t ping = c->ping;

		if (ping == c->pong) {
			nap_us(500);
			continue;
		}
		if (c->cmd == CMD_CHECK) {
			int bad = check_view(base, 0, 4096, DATA_END) ||
				  check_view(mine, 5 * MIB, 5 * MIB, 7 * MIB) ||
				  *(volatile uint64_t *)(base + 4 * MIB + 8) != TOKEN;

			c->result = bad ? 2 : 1;
			c->cmd = CMD_NONE;
		} else if (c->cmd == CMD_EXIT) {
			c->pong = ping;
			return 0;
		}
		c->pong = ping;
	}
}

/* One round: ping, wait for the child's pong. */
static int round_trip(struct ctl *c, uint64_t round)
{
	c->ping = round;
	for (int waited = 0; c->pong != round; waited++) {
		if (waited > 10000) {
			printf("stuck at round %llu: the child does not answer\n",
			       (unsigned long long)round);
			return -1;
		}
		nap_us(500);
	}
	return 0;
}

static int pair(void)
{
	char *base = mmap(NULL, SIZE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	struct ctl *c = (struct ctl *)base;
	char *view;
	uint64_t round = 0;
	pid_t child;
	int st;

	if (base == MAP_FAILED)
		return 4;
	for (size_t off = 4096; off < DATA_END; off += 4)
		*(uint32_t *)(base + off) = pat(off / 4);
	strcpy(base + SIZE - 4096, "tail");
	view = mremap(base + 4 * MIB, 0, MIB, MREMAP_MAYMOVE);
	if (view == MAP_FAILED || mprotect(view, MIB, PROT_READ) < 0 ||
	    mprotect(base + 7 * MIB, 64 * 1024, PROT_READ) < 0)
		return 4;
	signal(SIGUSR1, on_usr1);
	child = fork();
	if (child == 0)
		return child_loop(base);
	for (;;) {
		if (round_trip(c, ++round) < 0)
			return 3;
		if (round == 1)
			printf("ready\n");
		if (round % 50 == 0)
			printf("round %llu\n", (unsigned long long)round);
		fflush(stdout);
		if (check_now)
			break;
		nap_us(2000);
	}
	if (check_view(base, 0, 4096, SIZE - 4096) || check_view(view, 4 * MIB, 4 * MIB, 5 * MIB) ||
	    strcmp(base + SIZE - 4096, "tail") != 0)
		return 5;
	*(volatile uint64_t *)(base + 4 * MIB + 8) = TOKEN;
	if (*(volatile uint64_t *)(view + 8) != TOKEN) {
		printf("a write is not seen through the second view\n");
		return 6;
	}
	c->cmd = CMD_CHECK;
	if (round_trip(c, ++round) < 0)
		return 3;
	if (c->result != 1) {
		printf("the child's check failed (%llu)\n", (unsigned long long)c->result);
		return 7;
	}
	c->cmd = CMD_EXIT;
	if (round_trip(c, ++round) < 0)
		return 3;
	while (waitpid(child, &st, 0) < 0)
		;
	printf("ok after %llu rounds\n", (unsigned long long)round);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 9;
}

static int sysv(void)
{
	int id = shmget(IPC_PRIVATE, 65536, IPC_CREAT | 0600);
	char *p = id < 0 ? (char *)-1 : shmat(id, NULL, 0);

	if (p == (char *)-1)
		return 4;
	shmctl(id, IPC_RMID, NULL); /* gone once detached: nothing left behind */
	memset(p, 1, 65536);
	for (unsigned long i = 0;; i++) {
		printf("%lu\n", i);
		fflush(stdout);
		nap_us(20000);
	}
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc > 1 && strcmp(argv[1], "sysv") == 0)
		return sysv();
	return pair();
}
