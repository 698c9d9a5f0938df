#include "parallel.h"

#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#define WS_PARALLEL_MAX 256

int ws_driver_timeout_s(void)
{
	const char *env = getenv("WARMSTART_DRIVER_TIMEOUT_S");
	int v = env ? atoi(env) : 0;
	return v > 0 ? v : 300;
}

void ws_run_parallel(void *items, size_t n, size_t size, void *(*fn)(void *),
		     void (*timed_out)(void *item, int seconds))
{
	pthread_t threads[WS_PARALLEL_MAX];
	int started[WS_PARALLEL_MAX] = { 0 };
	size_t threaded = n < WS_PARALLEL_MAX ? n : WS_PARALLEL_MAX;
	int seconds = ws_driver_timeout_s();
	struct timespec deadline;

	for (size_t i = 0; i < threaded; i++)
		started[i] = !pthread_create(&threads[i], NULL, fn, (char *)items + i * size);
	for (size_t i = 0; i < n; i++)
		if (i >= threaded || !started[i])
			fn((char *)items + i * size); /* no thread to spare: do it here */
	/* One deadline for all threads: their calls run at the same time. */
	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += seconds;
	for (size_t i = 0; i < threaded; i++) {
		if (!started[i])
			continue;
		if (pthread_timedjoin_np(threads[i], NULL, &deadline)) {
			timed_out((char *)items + i * size, seconds);
			pthread_detach(threads[i]);
		}
	}
}
