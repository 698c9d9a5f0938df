/*
 * Baseline for benchmarks: an exec-per-action helper with the command line of NVIDIA's
 * cuda-checkpoint (which no registry reachable here carries), as CRIU's plugins/cuda runs it once
 * per action and process. Like that tool, every run loads libcuda and calls cuInit before the one
 * driver call it makes.
 *   cuda-checkpoint --get-restore-tid --pid N | --get-state --pid N
 *   cuda-checkpoint --action lock|checkpoint|restore|unlock --pid N [--timeout MS]
 * With CUDA_HELPER_LOG set, appends "action pid cuinit_ms call_ms result" to that file.
 */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef int (*fn_init)(unsigned int);
typedef int (*fn_pid_int)(int, int *);
typedef int (*fn_pid_args)(int, void *);

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

int main(int argc, char **argv)
{
	const char *action = NULL, *query = NULL;
	int pid = -1, r = -1, out = 0;
	unsigned long long args[8] = { 0 };
	double t0, t1, t2;
	void *lib;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			printf("usage: cuda-checkpoint --action {lock,checkpoint,restore,unlock} --pid PID [--timeout MS]\n"
			       "       cuda-checkpoint --get-restore-tid --pid PID | --get-state --pid PID\n");
			return 0;
		} else if (!strcmp(argv[i], "--action") && i + 1 < argc)
			action = argv[++i];
		else if (!strcmp(argv[i], "--pid") && i + 1 < argc)
			pid = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--timeout") && i + 1 < argc)
			args[0] = strtoul(argv[++i], NULL, 10); /* CUcheckpointLockArgs.timeoutMs */
		else if (!strcmp(argv[i], "--get-restore-tid") || !strcmp(argv[i], "--get-state"))
			query = argv[i];
	}
	if (pid <= 0 || (!action && !query)) {
		fprintf(stderr, "bad arguments\n");
		return 2;
	}
	t0 = now_ms();
	lib = dlopen("libcuda.so.1", RTLD_NOW);
	if (!lib || ((fn_init)dlsym(lib, "cuInit"))(0) != 0) {
		fprintf(stderr, "cuInit failed\n");
		return 1;
	}
	t1 = now_ms();
	if (query && !strcmp(query, "--get-restore-tid")) {
		r = ((fn_pid_int)dlsym(lib, "cuCheckpointProcessGetRestoreThreadId"))(pid, &out);
		if (!r)
			printf("%d\n", out);
	} else if (query) {
		static const char *names[] = { "running", "locked", "checkpointed", "failed" };
		r = ((fn_pid_int)dlsym(lib, "cuCheckpointProcessGetState"))(pid, &out);
		if (!r)
			printf("%s\n", out >= 0 && out < 4 ? names[out] : "unknown");
	} else {
		const char *sym = !strcmp(action, "lock") ? "cuCheckpointProcessLock"
				  : !strcmp(action, "checkpoint") ? "cuCheckpointProcessCheckpoint"
				  : !strcmp(action, "restore") ? "cuCheckpointProcessRestore"
				  : !strcmp(action, "unlock") ? "cuCheckpointProcessUnlock" : NULL;
		if (!sym) {
			fprintf(stderr, "unknown action %s\n", action);
			return 2;
		}
		r = ((fn_pid_args)dlsym(lib, sym))(pid, !strcmp(action, "restore") ? NULL : args);
	}
	t2 = now_ms();
	if (getenv("CUDA_HELPER_LOG")) {
		FILE *f = fopen(getenv("CUDA_HELPER_LOG"), "a");
		if (f) {
			fprintf(f, "%s %d %.3f %.3f %d\n", action ? action : query + 2, pid, t1 - t0, t2 - t1, r);
			fclose(f);
		}
	}
	if (r) {
		fprintf(stderr, "CUDA error %d\n", r);
		return 1;
	}
	return 0;
}
