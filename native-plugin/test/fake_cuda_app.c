/*
 * Test workload for the fake driver: N processes (this one and N-1 children), each with a thread
 * named "cuda-restore" like a real CUDA process's restore thread, each counting in memory and
 * writing "pid count" lines to its own file in DIR every 50 ms.
 * Usage: fake_cuda_app DIR N
 */
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void *restore_thread(void *arg)
{
	for (;;)
		pause();
	return NULL;
}

static void run(const char *dir)
{
	char path[512];
	pthread_t t;
	long count = 0;

	pthread_create(&t, NULL, restore_thread, NULL);
	pthread_setname_np(t, "cuda-restore");
	snprintf(path, sizeof(path), "%s/count-%d", dir, getpid());
	for (;;) {
		/*
		 * One fixed-width record written in place by one write(2), without truncating: the file
		 * never empties, so a reader (or a freeze) always meets a whole count. Open only while
		 * writing, as before (an fd held open would be a file the checkpoint must stamp).
		 */
		char rec[64];
		int len = snprintf(rec, sizeof(rec), "%d %020ld\n", getpid(), ++count);
		int fd = open(path, O_WRONLY | O_CREAT, 0644);

		if (fd >= 0) {
			if (pwrite(fd, rec, len, 0) < 0)
				perror("pwrite");
			close(fd);
		}
		usleep(50000);
	}
}

int main(int argc, char **argv)
{
	int n = argc > 2 ? atoi(argv[2]) : 1;

	for (int i = 1; i < n; i++)
		if (fork() == 0)
			run(argv[1]);
	run(argv[1]);
	return 0;
}
