/*
 * Test double of the CUDA runtime (libcudart.so.12) for the shim's tests: like the real runtime it
 * reaches the driver only through dlopen("libcuda.so.1") + dlsym("cuGetProcAddress_v2") and the
 * table that hands out, and makes the primary context current on a thread's first call.
 */
#include <dlfcn.h>
#include <pthread.h>
#include <stddef.h>

typedef int (*get_proc_fn)(const char *, void **, int, unsigned long long, int *);
static int (*cu_init)(unsigned int);
static int (*retain)(void **, int);
static int (*set_current)(void *);
static int (*mem_alloc)(unsigned long long *, size_t);
static int (*mem_free)(unsigned long long);
static void *ctx;
static pthread_once_t once = PTHREAD_ONCE_INIT;
static __thread int current;

static void *lookup(get_proc_fn gp, const char *name)
{
	void *fn = NULL;
	int status;
	return gp(name, &fn, 12000, 0, &status) == 0 ? fn : NULL;
}

static void load(void)
{
	void *h = dlopen("libcuda.so.1", RTLD_NOW);
	get_proc_fn gp = h ? (get_proc_fn)dlsym(h, "cuGetProcAddress_v2") : NULL;

	if (!gp)
		return;
	*(void **)&cu_init = lookup(gp, "cuInit");
	*(void **)&retain = lookup(gp, "cuDevicePrimaryCtxRetain");
	*(void **)&set_current = lookup(gp, "cuCtxSetCurrent");
	*(void **)&mem_alloc = lookup(gp, "cuMemAlloc");
	*(void **)&mem_free = lookup(gp, "cuMemFree");
	if (cu_init && retain && cu_init(0) == 0)
		retain(&ctx, 0);
}

static int ready(void)
{
	pthread_once(&once, load);
	if (!ctx || !set_current || !mem_alloc || !mem_free)
		return 0;
	if (!current)
		current = set_current(ctx) == 0;
	return current;
}

int cudaMalloc(void **p, size_t size)
{
	unsigned long long d = 0;

	if (!ready())
		return 3; /* cudaErrorInitializationError */
	if (mem_alloc(&d, size))
		return 2; /* cudaErrorMemoryAllocation */
	*p = (void *)d;
	return 0;
}

int cudaFree(void *p)
{
	if (!ready())
		return 3;
	return !p || mem_free((unsigned long long)p) == 0 ? 0 : 1;
}
