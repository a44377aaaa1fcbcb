/* SysV IPC workload for the container tests (copied into a rootfs):
 *   sysvipc make   create a message queue with 2 messages, a semaphore set with values and an
 *                  unattached shm segment with content (after a removed queue, so that ids are
 *                  not all 0), print "made", then sleep
 *   sysvipc show   print every object of the IPC namespace: ids, keys, modes, owners, the
 *                  messages in order (read without consuming them), semaphore values, shm bytes */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <unistd.h>

#ifndef MSG_COPY
#define MSG_COPY 040000
#endif

union semun {
	int val;
	struct semid_ds *buf;
	unsigned short *array;
};

struct msgbuf_ {
	long mtype;
	char text[256];
};

static int bad(const char *what)
{
	printf("bad %s (errno %d)\n", what, errno);
	return 1;
}

static int make(void)
{
	struct msgbuf_ m1 = {1, "first"}, m2 = {7, "second message"};
	unsigned short vals[3] = {5, 0, 42};
	int gone = msgget(IPC_PRIVATE, 0600), q, s, h;
	char *at;

	if (gone < 0 || msgctl(gone, IPC_RMID, NULL) < 0)
		return bad("msgget");
	q = msgget(0x1234, IPC_CREAT | IPC_EXCL | 0640);
	if (q < 0 || msgsnd(q, &m1, strlen(m1.text) + 1, 0) < 0 ||
	    msgsnd(q, &m2, strlen(m2.text) + 1, 0) < 0)
		return bad("msg queue");
	s = semget(0x2345, 3, IPC_CREAT | IPC_EXCL | 0660);
	if (s < 0 || semctl(s, 0, SETALL, (union semun){.array = vals}) < 0)
		return bad("semaphore set");
	h = shmget(0x3456, 8192, IPC_CREAT | IPC_EXCL | 0604);
	if (h < 0 || (at = shmat(h, NULL, 0)) == (void *)-1)
		return bad("shm");
	strcpy(at, "shm content ok");
	strcpy(at + 8000, "end");
	shmdt(at);
	printf("made\n");
	fflush(stdout);
	for (;;)
		pause();
}

static void show_msgs(void)
{
	struct msginfo info;
	int max = msgctl(0, MSG_INFO, (struct msqid_ds *)&info);

	for (int i = 0; i <= max; i++) {
		struct msqid_ds ds;
		int id = msgctl(i, MSG_STAT_ANY, &ds);

		if (id < 0)
			continue;
		printf("msg id=%d key=0x%x mode=%o uid=%u gid=%u qnum=%lu\n", id,
		       (unsigned)ds.msg_perm.__key, ds.msg_perm.mode & 0777, ds.msg_perm.uid,
		       ds.msg_perm.gid, (unsigned long)ds.msg_qnum);
		for (unsigned long k = 0; k < ds.msg_qnum; k++) {
			struct msgbuf_ m;
			ssize_t n = msgrcv(id, &m, sizeof(m.text) - 1, (long)k,
					   IPC_NOWAIT | MSG_COPY | MSG_NOERROR);

			if (n < 0) {
				printf("  copy %lu: errno %d\n", k, errno);
				continue;
			}
			m.text[n] = '\0';
			printf("  type=%ld \"%s\"\n", m.mtype, m.text);
		}
	}
}

static void show_sems(void)
{
	struct seminfo info;
	int max = semctl(0, 0, SEM_INFO, (union semun){.buf = (struct semid_ds *)&info});

	for (int i = 0; i <= max; i++) {
		struct semid_ds ds;
		unsigned short vals[64];
		int id = semctl(i, 0, SEM_STAT_ANY, (union semun){.buf = &ds});

		if (id < 0 || ds.sem_nsems > 64 ||
		    semctl(id, 0, GETALL, (union semun){.array = vals}) < 0)
			continue;
		printf("sem id=%d key=0x%x mode=%o uid=%u values=", id, (unsigned)ds.sem_perm.__key,
		       ds.sem_perm.mode & 0777, ds.sem_perm.uid);
		for (unsigned long k = 0; k < ds.sem_nsems; k++)
			printf("%s%u", k ? "," : "", vals[k]);
		printf("\n");
	}
}

static void show_shms(void)
{
	struct shminfo info;
	int max = shmctl(0, SHM_INFO, (struct shmid_ds *)&info);

	for (int i = 0; i <= max; i++) {
		struct shmid_ds ds;
		int id = shmctl(i, SHM_STAT_ANY, &ds);
		char *at;

		if (id < 0 || (at = shmat(id, NULL, SHM_RDONLY)) == (void *)-1)
			continue;
		printf("shm id=%d key=0x%x mode=%o uid=%u size=%zu head=\"%.32s\" at8000=\"%.8s\"\n",
		       id, (unsigned)ds.shm_perm.__key, ds.shm_perm.mode & 0777, ds.shm_perm.uid,
		       (size_t)ds.shm_segsz, at, ds.shm_segsz > 8008 ? at + 8000 : "");
		shmdt(at);
	}
}

int main(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "make"))
		return make();
	if (argc > 1 && !strcmp(argv[1], "show")) {
		show_msgs();
		show_sems();
		show_shms();
		return 0;
	}
	fprintf(stderr, "usage: sysvipc make|show\n");
	return 2;
}
