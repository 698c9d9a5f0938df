#include "restore_thread.h"

#include <errno.h>
#include <signal.h>
#include <sys/ptrace.h>
#include <sys/wait.h>

#include "log.h"

#ifndef PTRACE_GETSIGMASK
#define PTRACE_GETSIGMASK 0x420a
#define PTRACE_SETSIGMASK 0x420b
#endif
#ifndef PTRACE_O_SUSPEND_SECCOMP
#define PTRACE_O_SUSPEND_SECCOMP (1 << 21)
#endif

int ws_thread_run(struct ws_held_thread *t)
{
	unsigned long long block = ~0ULL & ~(1ULL << (SIGTRAP - 1));

	if (ptrace(PTRACE_GETSIGMASK, t->tid, sizeof(t->saved_sigmask), &t->saved_sigmask)) {
		ws_err("cannot read sigmask of restore thread %d: %m\n", t->tid);
		return -1;
	}
	if (ptrace(PTRACE_SETSIGMASK, t->tid, sizeof(block), &block)) {
		ws_err("cannot block signals of restore thread %d: %m\n", t->tid);
		return -1;
	}
	/* CRIU's PTRACE_O_SUSPEND_SECCOMP must not stay on while the thread runs. */
	if (ptrace(PTRACE_SETOPTIONS, t->tid, NULL, 0) || ptrace(PTRACE_CONT, t->tid, NULL, 0)) {
		ws_err("cannot resume restore thread %d: %m\n", t->tid);
		ptrace(PTRACE_SETSIGMASK, t->tid, sizeof(t->saved_sigmask), &t->saved_sigmask);
		return -1;
	}
	t->running = 1;
	return 0;
}

int ws_thread_stop(struct ws_held_thread *t)
{
	int status;

	if (!t->running)
		return 0;
	if (ptrace(PTRACE_INTERRUPT, t->tid, NULL, 0)) {
		ws_err("cannot interrupt restore thread %d: %m; its process may be left running\n", t->tid);
		return -1;
	}
	for (;;) {
		if (waitpid(t->tid, &status, __WALL) < 0) {
			if (errno == EINTR)
				continue;
			ws_err("waiting for restore thread %d: %m\n", t->tid);
			return -1;
		}
		if (WIFSTOPPED(status))
			break;
		if (WIFEXITED(status) || WIFSIGNALED(status)) {
			ws_err("restore thread %d exited while running\n", t->tid);
			return -1;
		}
	}
	t->running = 0;
	if (ptrace(PTRACE_SETOPTIONS, t->tid, NULL, PTRACE_O_SUSPEND_SECCOMP | PTRACE_O_TRACESYSGOOD) ||
	    ptrace(PTRACE_SETSIGMASK, t->tid, sizeof(t->saved_sigmask), &t->saved_sigmask)) {
		ws_err("cannot return restore thread %d to CRIU's state: %m\n", t->tid);
		return -1;
	}
	return 0;
}
