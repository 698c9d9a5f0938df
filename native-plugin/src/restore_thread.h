/*
 * The driver's restore thread inside a CUDA process must run while CRIU holds the rest of the
 * tree stopped under ptrace. Only CRIU's own (tracer) thread may make these calls.
 */
#ifndef WARMSTART_RESTORE_THREAD_H
#define WARMSTART_RESTORE_THREAD_H

struct ws_held_thread {
	int tid;
	unsigned long long saved_sigmask;
	int running;
};

/* Lets the seized thread run with every signal but SIGTRAP blocked; 0 or -1 (errno set). */
int ws_thread_run(struct ws_held_thread *t);

/* Stops it again as CRIU left it: interrupted, CRIU's ptrace options, its own signal mask. */
int ws_thread_stop(struct ws_held_thread *t);

#endif
