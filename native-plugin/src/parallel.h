#ifndef WS_PARALLEL_H
#define WS_PARALLEL_H

#include <stddef.h>

/*
 * The one way the plugin (inside CRIU) and warmstart-cuda (a fresh process) run the driver's calls on
 * every CUDA process of a tree: each item on a thread of its own (inline when no thread can be made),
 * the threads waited for together, at most ws_driver_timeout_s() in all. A call that never returns
 * must not hang its caller: timed_out(item, seconds) marks it failed and its thread is left behind,
 * detached. fn works on a copy of the item (so an item must hold the data fn writes, not a pointer
 * to it), written back when fn returns in time: a late return never touches the item.
 */
void ws_run_parallel(void *items, size_t n, size_t size, void *(*fn)(void *),
		     void (*timed_out)(void *item, int seconds));

/* WARMSTART_DRIVER_TIMEOUT_S bounds each driver call (default 300 s). */
int ws_driver_timeout_s(void);

#endif
