/*
 * warmstart-cuda: the driver's checkpoint calls on other processes, from a fresh process.
 *
 * With the plugin inside CRIU, this is the one owner of the GPU restore: a Cold restore's happens in
 * the plugin, a staged one's (a Warm or Hot standby's activation) here, where the agent runs it. A fresh
 * process's driver state is always new (as NVIDIA's own cuda-checkpoint's is), where a long-lived
 * caller's can go stale for a PID that a restore has reused. All processes are handled in parallel,
 * each driver call bounded by WARMSTART_DRIVER_TIMEOUT_S (parallel.h), as in the plugin.
 *
 *   warmstart-cuda state PID...
 *   warmstart-cuda activate [--remap FROM=TO,...] [--keep-locked] PID...
 *       checkpointed processes get their GPU memory back (onto the remapped GPUs), then every
 *       checkpointed or locked process is unlocked (not with --keep-locked: a Hot standby)
 * Prints one JSON object (a process without a CUDA restore thread is state NONE, with the driver's
 * answer as its note); exit 0 when no driver call failed, 1 otherwise, 2 for bad arguments.
 * WARMSTART_LIBCUDA names the libcuda to load.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cuda_driver.h"
#include "parallel.h"
#include "remap.h"
#include <time.h>

#define MAX_PIDS 256

struct job {
	int pid;
	int state;        /* -1: the driver did not say */
	int initial;      /* the state before this tool acted */
	double restore_ms, unlock_ms;
	char error[300]; /* a failed call */
	char note[300];  /* why it is no CUDA process: not a failure */
};

static double ws_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static struct ws_cuda cuda;
static struct ws_remap remap;
static int keep_locked, activate;

static void fail(struct job *j, const char *what, ws_curesult r)
{
	char buf[200];
	snprintf(j->error, sizeof(j->error), "%s: %s", what, ws_cuda_strerror(&cuda, r, buf, sizeof(buf)));
}

static void timed_out(void *item, int seconds)
{
	struct job *j = item;
	snprintf(j->error, sizeof(j->error), "driver call did not return within %d s", seconds);
}

static void *run(void *arg)
{
	struct job *j = arg;
	int tid;
	ws_curesult r;
	double t;

	j->state = j->initial = -1;
	if ((r = cuda.get_restore_thread_id(j->pid, &tid)) != 0) {
		char buf[200];
		snprintf(j->note, sizeof(j->note), "no CUDA restore thread: %s",
			 ws_cuda_strerror(&cuda, r, buf, sizeof(buf)));
		return NULL;
	}
	if ((r = cuda.get_state(j->pid, &j->state)) != 0) {
		fail(j, "cuCheckpointProcessGetState", r);
		return NULL;
	}
	j->initial = j->state;
	if (!activate)
		return NULL;
	if (j->state == WS_CUDA_CHECKPOINTED) {
		t = ws_now_ms();
		r = ws_cuda_restore(&cuda, j->pid, &remap);
		j->restore_ms = ws_now_ms() - t;
		if (r) {
			fail(j, "cuCheckpointProcessRestore", r);
			return NULL;
		}
		j->state = WS_CUDA_LOCKED;
	}
	if (j->state == WS_CUDA_LOCKED && !keep_locked) {
		struct ws_plain_args args = { { 0 } };
		t = ws_now_ms();
		r = cuda.unlock(j->pid, &args);
		j->unlock_ms = ws_now_ms() - t;
		if (r) {
			fail(j, "cuCheckpointProcessUnlock", r);
			return NULL;
		}
		j->state = WS_CUDA_RUNNING;
	}
	return NULL;
}

static const char *state_name(int s)
{
	static const char *names[] = { "RUNNING", "LOCKED", "CHECKPOINTED", "FAILED" };
	return s >= 0 && s < 4 ? names[s] : "NONE";
}

static void json_string(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			printf("\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			printf("\\u%04x", *s);
		else
			putchar(*s);
	}
	putchar('"');
}

int main(int argc, char **argv)
{
	static struct job jobs[MAX_PIDS];
	char err[512];
	size_t n = 0;
	int i = 2, ok = 1;

	if (argc < 3 || (strcmp(argv[1], "state") && strcmp(argv[1], "activate"))) {
		fprintf(stderr, "usage: warmstart-cuda state PID... | activate [--remap SPEC] [--keep-locked] PID...\n");
		return 2;
	}
	activate = !strcmp(argv[1], "activate");
	for (; i < argc; i++) {
		if (!strcmp(argv[i], "--keep-locked")) {
			keep_locked = 1;
		} else if (!strcmp(argv[i], "--remap") && i + 1 < argc) {
			if (ws_parse_remap(argv[++i], &remap, err, sizeof(err))) {
				fprintf(stderr, "bad --remap: %s\n", err);
				return 2;
			}
		} else if (atoi(argv[i]) > 0 && n < MAX_PIDS) {
			jobs[n++].pid = atoi(argv[i]);
		} else {
			fprintf(stderr, "bad argument: %s\n", argv[i]);
			return 2;
		}
	}
	if (ws_cuda_load(&cuda, getenv("WARMSTART_LIBCUDA"), err, sizeof(err))) {
		printf("{\"ok\":false,\"error\":");
		json_string(err);
		printf("}\n");
		return 1;
	}
	ws_run_parallel(jobs, n, sizeof(jobs[0]), run, timed_out);
	printf("{\"processes\":[");
	for (size_t k = 0; k < n; k++) {
		printf("%s{\"pid\":%d,\"initial\":\"%s\",\"state\":\"%s\",\"restoreMs\":%.1f,\"unlockMs\":%.1f,"
		       "\"error\":",
		       k ? "," : "", jobs[k].pid, state_name(jobs[k].initial), state_name(jobs[k].state), jobs[k].restore_ms,
		       jobs[k].unlock_ms);
		if (jobs[k].error[0]) {
			json_string(jobs[k].error);
			ok = 0;
		} else {
			printf("null");
		}
		printf(",\"note\":");
		json_string(jobs[k].note);
		putchar('}');
	}
	printf("],\"ok\":%s}\n", ok ? "true" : "false");
	return ok ? 0 : 1;
}
