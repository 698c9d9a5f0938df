/*
 * warmstart pause: the placeholder container's main process until a restore lands in it. Static,
 * so any image can run it (an init container copies it in). Waits forever, reaps children (the
 * restored tree is re-parented here when it was not its own PID namespace's init), and exits on
 * SIGTERM/SIGINT so the pod stops promptly.
 */
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile sig_atomic_t stop;

static void on_term(int sig)
{
	(void)sig;
	stop = 1;
}

int main(void)
{
	struct sigaction sa = { .sa_handler = on_term };

	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	while (!stop) {
		if (waitpid(-1, NULL, 0) < 0)
			pause();
	}
	return 0;
}
