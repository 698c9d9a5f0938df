/*
 * What the gate costs a driver call: N calls of a trivial driver function (cuCtxGetCurrent) obtained
 * through cuGetProcAddress, timed. Run it with and without LD_PRELOAD of the shim and compare.
 * Usage: gate_cost [N]   (libcuda.so.1 on the library path)
 */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

typedef int (*get_proc_fn)(const char *, void **, int, unsigned long long, int *);
typedef int (*get_current_fn)(void **);

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 20000000;
	void *lib = dlopen("libcuda.so.1", RTLD_NOW), *fn = NULL, *ctx;
	get_proc_fn gp = lib ? (get_proc_fn)dlsym(lib, "cuGetProcAddress_v2") : NULL;
	struct timespec a, b;
	int status;

	if (!gp || gp("cuCtxGetCurrent", &fn, 12000, 0, &status) || !fn)
		return 1;
	clock_gettime(CLOCK_MONOTONIC, &a);
	for (long i = 0; i < n; i++)
		((get_current_fn)fn)(&ctx);
	clock_gettime(CLOCK_MONOTONIC, &b);
	printf("%.2f ns per call (%ld calls)\n", ((b.tv_sec - a.tv_sec) * 1e9 + (b.tv_nsec - a.tv_nsec)) / n, n);
	return 0;
}
