#include "parallel.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define WS_PARALLEL_MAX 256

enum { SLOT_RUNNING, SLOT_DONE, SLOT_ABANDONED };

/*
 * A worker acts on its own copy of the item and writes it back only if the caller still waits
 * for it: a call that returns after its deadline must not overwrite what timed_out() wrote while
 * the caller reads it. Whoever loses the claim last frees the slot.
 */
struct slot {
	atomic_int claim;
	void *(*fn)(void *);
	void *item;
	size_t size;
	_Alignas(max_align_t) char copy[];
};

int ws_driver_timeout_s(void)
{
	const char *env = getenv("WARMSTART_DRIVER_TIMEOUT_S");
	int v = env ? atoi(env) : 0;
	return v > 0 ? v : 300;
}

static void *worker(void *arg)
{
	struct slot *s = arg;
	int running = SLOT_RUNNING;

	s->fn(s->copy);
	if (atomic_compare_exchange_strong(&s->claim, &running, SLOT_DONE))
		memcpy(s->item, s->copy, s->size); /* the caller joins before it reads */
	else
		free(s); /* abandoned: the caller has moved on */
	return NULL;
}

static struct slot *slot_for(void *item, size_t size, void *(*fn)(void *))
{
	struct slot *s = malloc(sizeof(*s) + size);

	if (!s)
		return NULL;
	atomic_init(&s->claim, SLOT_RUNNING);
	s->fn = fn;
	s->item = item;
	s->size = size;
	memcpy(s->copy, item, size);
	return s;
}

void ws_run_parallel(void *items, size_t n, size_t size, void *(*fn)(void *),
		     void (*timed_out)(void *item, int seconds))
{
	pthread_t threads[WS_PARALLEL_MAX];
	struct slot *slots[WS_PARALLEL_MAX] = { 0 };
	size_t threaded = n < WS_PARALLEL_MAX ? n : WS_PARALLEL_MAX;
	int seconds = ws_driver_timeout_s();
	struct timespec deadline;

	for (size_t i = 0; i < threaded; i++) {
		slots[i] = slot_for((char *)items + i * size, size, fn);
		if (slots[i] && pthread_create(&threads[i], NULL, worker, slots[i])) {
			free(slots[i]);
			slots[i] = NULL;
		}
	}
	for (size_t i = 0; i < n; i++)
		if (i >= threaded || !slots[i])
			fn((char *)items + i * size); /* no thread to spare: do it here */
	/* One deadline for all threads: their calls run at the same time. */
	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += seconds;
	for (size_t i = 0; i < threaded; i++) {
		int running = SLOT_RUNNING;

		if (!slots[i])
			continue;
		if (!pthread_timedjoin_np(threads[i], NULL, &deadline)) {
			free(slots[i]);
		} else if (atomic_compare_exchange_strong(&slots[i]->claim, &running, SLOT_ABANDONED)) {
			timed_out((char *)items + i * size, seconds);
			pthread_detach(threads[i]); /* it frees its slot when the call returns, if ever */
		} else {
			pthread_join(threads[i], NULL); /* it returned just now and is writing its result */
			free(slots[i]);
		}
	}
}
