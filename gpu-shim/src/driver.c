/*
 * The interposition: the entry points through which a program reaches the driver's allocator.
 *
 * Frameworks reach libcuda three ways, all covered here:
 *  - by symbol (programs linked with -lcuda): cuMemAlloc_v2/cuMemFree_v2/cuGetProcAddress* are
 *    exported by this library and win through LD_PRELOAD;
 *  - by dlopen("libcuda.so.1") + dlsym (the CUDA runtime, cudart_static, Triton, cuda-python):
 *    dlsym is exported here too, and hands out our functions for libcuda's symbols;
 *  - by cuGetProcAddress / cudaGetDriverEntryPoint (the runtime's whole driver table, PyTorch's
 *    DriverAPI): the runtime fetches cuGetProcAddress through dlsym, so it gets ours, and every
 *    pointer it hands out (cudaGetDriverEntryPoint included) comes from our cuGetProcAddress.
 * Every other driver function handed out goes through a gate trampoline (gate.c).
 * The runtime's cudaMalloc/cudaFree are exported as well, for a runtime that would not allocate
 * through its driver table.
 */
#include <dlfcn.h>
#include <link.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "shim.h"

#define WS_EXPORT __attribute__((visibility("default")))

struct ws_driver ws_drv;
static pthread_once_t load_once = PTHREAD_ONCE_INIT;
static int load_result = -1;
static __thread int loading;

double ws_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

void ws_log(const char *fmt, ...)
{
	static int quiet = -1;
	char line[1024];
	va_list ap;
	int n;

	if (quiet < 0)
		quiet = getenv("WARMSTART_GPUMEM_QUIET") != NULL;
	if (quiet)
		return;
	n = snprintf(line, sizeof(line), "warmstart-gpumem[%d]: ", getpid());
	va_start(ap, fmt);
	n += vsnprintf(line + n, sizeof(line) - n, fmt, ap);
	va_end(ap);
	if (n > (int)sizeof(line) - 1)
		n = sizeof(line) - 1;
	if (write(2, line, n) < 0) {
		/* nowhere else to say it */
	}
}

void *ws_real_dlsym(void *handle, const char *name)
{
	static void *(*real)(void *, const char *);

	if (!real) {
		real = dlvsym(RTLD_NEXT, "dlsym", "GLIBC_2.34");
		if (!real)
			real = dlvsym(RTLD_NEXT, "dlsym", "GLIBC_2.2.5");
	}
	return real ? real(handle, name) : NULL;
}

#define LOAD(name)                                                                \
	do {                                                                      \
		*(void **)&ws_drv.name = ws_real_dlsym(ws_drv.lib, #name);        \
		if (!ws_drv.name) {                                               \
			ws_log("libcuda has no %s: allocations pass through\n", #name); \
			return;                                                   \
		}                                                                 \
	} while (0)

static void load(void)
{
	const char *path = getenv("WARMSTART_GPUMEM_LIBCUDA");

	loading = 1;
	ws_drv.lib = dlopen(path && *path ? path : "libcuda.so.1", RTLD_NOW | RTLD_GLOBAL);
	loading = 0;
	if (!ws_drv.lib) {
		ws_log("cannot load libcuda: %s\n", dlerror());
		return;
	}
	LOAD(cuMemAlloc_v2);
	LOAD(cuMemFree_v2);
	LOAD(cuMemAddressReserve);
	LOAD(cuMemAddressFree);
	LOAD(cuMemCreate);
	LOAD(cuMemRelease);
	LOAD(cuMemMap);
	LOAD(cuMemUnmap);
	LOAD(cuMemSetAccess);
	LOAD(cuMemGetAllocationGranularity);
	LOAD(cuMemcpyHtoDAsync_v2);
	LOAD(cuMemcpyDtoHAsync_v2);
	LOAD(cuMemHostAlloc);
	LOAD(cuMemFreeHost);
	LOAD(cuStreamCreate);
	LOAD(cuStreamDestroy_v2);
	LOAD(cuStreamSynchronize);
	LOAD(cuCtxGetCurrent);
	LOAD(cuCtxSetCurrent);
	LOAD(cuCtxGetDevice);
	LOAD(cuCtxSynchronize);
	LOAD(cuGetErrorString);
	/* Either may be missing on an old driver; the lookups we interpose are the ones that exist. */
	*(void **)&ws_drv.cuGetProcAddress = ws_real_dlsym(ws_drv.lib, "cuGetProcAddress");
	*(void **)&ws_drv.cuGetProcAddress_v2 = ws_real_dlsym(ws_drv.lib, "cuGetProcAddress_v2");
	load_result = 0;
}

int ws_driver_load(void)
{
	pthread_once(&load_once, load);
	return load_result;
}

const char *ws_cu_error(CUresult r)
{
	const char *s = NULL;
	if (ws_drv.cuGetErrorString && ws_drv.cuGetErrorString(r, &s) == CUDA_SUCCESS && s)
		return s;
	return "unknown CUDA error";
}

/* --- our driver functions -------------------------------------------------------------------- */

static void *wrap_symbol(const char *name, void *fn);

WS_EXPORT CUresult cuMemAlloc_v2(CUdeviceptr *dptr, size_t size)
{
	CUresult r;

	if (ws_driver_load())
		return CUDA_ERROR_NOT_INITIALIZED;
	ws_gate_enter();
	if (size >= ws_min_bytes() && dptr) {
		r = ws_alloc(dptr, size);
		if (r != CUDA_ERROR_NOT_FOUND) {
			ws_gate_leave();
			return r;
		}
		/* not for us (no context, no VM support): the driver answers */
	}
	r = ws_drv.cuMemAlloc_v2(dptr, size);
	ws_gate_leave();
	return r;
}

WS_EXPORT CUresult cuMemFree_v2(CUdeviceptr ptr)
{
	CUresult r;

	if (ws_driver_load())
		return CUDA_ERROR_NOT_INITIALIZED;
	ws_gate_enter();
	if (!ws_free(ptr, &r))
		r = ws_drv.cuMemFree_v2(ptr);
	ws_gate_leave();
	return r;
}

WS_EXPORT CUresult cuGetProcAddress(const char *symbol, void **pfn, int version, unsigned long long flags)
{
	CUresult r;

	if (ws_driver_load() || !ws_drv.cuGetProcAddress)
		return CUDA_ERROR_NOT_FOUND;
	r = ws_drv.cuGetProcAddress(symbol, pfn, version, flags);
	if (r == CUDA_SUCCESS && pfn && *pfn)
		*pfn = wrap_symbol(symbol, *pfn);
	return r;
}

WS_EXPORT CUresult cuGetProcAddress_v2(const char *symbol, void **pfn, int version, unsigned long long flags,
				       int *status)
{
	CUresult r;

	if (ws_driver_load() || !ws_drv.cuGetProcAddress_v2)
		return CUDA_ERROR_NOT_FOUND;
	r = ws_drv.cuGetProcAddress_v2(symbol, pfn, version, flags, status);
	if (r == CUDA_SUCCESS && pfn && *pfn)
		*pfn = wrap_symbol(symbol, *pfn);
	return r;
}

/* The driver's own function fn, found under name: ours where we have one, else gated. */
static void *wrap_symbol(const char *name, void *fn)
{
	if (fn == (void *)ws_drv.cuMemAlloc_v2)
		return (void *)cuMemAlloc_v2;
	if (fn == (void *)ws_drv.cuMemFree_v2)
		return (void *)cuMemFree_v2;
	if (ws_drv.cuGetProcAddress && fn == (void *)ws_drv.cuGetProcAddress)
		return (void *)cuGetProcAddress;
	if (ws_drv.cuGetProcAddress_v2 && fn == (void *)ws_drv.cuGetProcAddress_v2)
		return (void *)cuGetProcAddress_v2;
	return ws_gate_wrap(fn);
}

static int from_libcuda(void *fn)
{
	Dl_info info;
	const char *base;

	if (!dladdr(fn, &info) || !info.dli_fname)
		return 0;
	base = strrchr(info.dli_fname, '/');
	base = base ? base + 1 : info.dli_fname;
	return !strncmp(base, "libcuda.so", 10);
}

/*
 * RTLD_NEXT means "after the caller's object": through us, the real dlsym would search after the
 * shim instead, so the search after the caller's object is done here, object by object.
 */
static void *dlsym_next(void *caller, const char *name)
{
	struct link_map *lm = NULL;
	Dl_info info;

	if (!dladdr1(caller, &info, (void **)&lm, RTLD_DL_LINKMAP) || !lm)
		return NULL;
	for (lm = lm->l_next; lm; lm = lm->l_next) {
		void *fn = ws_real_dlsym(lm, name);
		struct link_map *owner = NULL;
		if (fn && dladdr1(fn, &info, (void **)&owner, RTLD_DL_LINKMAP) && owner == lm)
			return fn;
	}
	return NULL;
}

WS_EXPORT void *dlsym(void *handle, const char *name)
{
	void *fn = handle == RTLD_NEXT ? dlsym_next(__builtin_return_address(0), name) : ws_real_dlsym(handle, name);

	/* (while the driver loads, its own lookups are not ours to wrap) */
	if (!fn || loading || name[0] != 'c' || name[1] != 'u' || !from_libcuda(fn) || ws_driver_load())
		return fn;
	return wrap_symbol(name, fn);
}

/* --- the runtime's allocator ------------------------------------------------------------------ */

typedef int (*cuda_malloc_fn)(void **, size_t);
typedef int (*cuda_free_fn)(void *);

enum { cudaSuccess = 0, cudaErrorMemoryAllocation = 2, cudaErrorInitializationError = 3 };

WS_EXPORT int cudaMalloc(void **ptr, size_t size)
{
	static cuda_malloc_fn real;
	static cuda_free_fn real_free;
	CUresult r;

	if (!real) {
		real = (cuda_malloc_fn)ws_real_dlsym(RTLD_NEXT, "cudaMalloc");
		real_free = (cuda_free_fn)ws_real_dlsym(RTLD_NEXT, "cudaFree");
	}
	if (!real || !real_free)
		return cudaErrorInitializationError;
	if (size < ws_min_bytes() || !ptr || ws_driver_load())
		return real(ptr, size);
	/* The runtime makes its primary context current on this thread the first time it is used. */
	if (real_free(NULL) != cudaSuccess)
		return real(ptr, size);
	ws_gate_enter();
	r = ws_alloc((CUdeviceptr *)ptr, size);
	ws_gate_leave();
	if (r == CUDA_ERROR_NOT_FOUND)
		return real(ptr, size);
	if (r == CUDA_ERROR_OUT_OF_MEMORY)
		return cudaErrorMemoryAllocation;
	return r == CUDA_SUCCESS ? cudaSuccess : cudaErrorMemoryAllocation;
}

WS_EXPORT int cudaFree(void *ptr)
{
	static cuda_free_fn real;
	CUresult r;
	int ours;

	if (!real)
		real = (cuda_free_fn)ws_real_dlsym(RTLD_NEXT, "cudaFree");
	if (ptr && ws_driver_load() == 0) {
		ws_gate_enter();
		ours = ws_free((CUdeviceptr)ptr, &r);
		ws_gate_leave();
		if (ours)
			return r == CUDA_SUCCESS ? cudaSuccess : 1 /* cudaErrorInvalidValue */;
	}
	return real ? real(ptr) : cudaErrorInitializationError;
}
