/*
 * libwarmstart_gpumem.so: large GPU allocations backed by the CUDA virtual memory API, so that their
 * physical memory can leave (to files, over pinned multi-stream copies) and come back at the same
 * virtual addresses. See ../README.md for the contract with the agent.
 */
#ifndef WARMSTART_GPUMEM_SHIM_H
#define WARMSTART_GPUMEM_SHIM_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

/* The few driver types we need, ABI-compatible with cuda.h (which the build does not need). */
typedef int CUresult;
typedef int CUdevice;
typedef unsigned long long CUdeviceptr;
typedef unsigned long long CUmemGenericAllocationHandle;
typedef void *CUcontext;
typedef void *CUstream;

enum {
	CUDA_SUCCESS = 0,
	CUDA_ERROR_INVALID_VALUE = 1,
	CUDA_ERROR_OUT_OF_MEMORY = 2,
	CUDA_ERROR_NOT_INITIALIZED = 3,
	CUDA_ERROR_NOT_FOUND = 500,
	CUDA_ERROR_UNKNOWN = 999,
};

typedef struct {
	int type;	  /* CU_MEM_LOCATION_TYPE_DEVICE = 1 */
	int id;
} CUmemLocation;

typedef struct {
	int type;		  /* CU_MEM_ALLOCATION_TYPE_PINNED = 1 */
	int requestedHandleTypes; /* CU_MEM_HANDLE_TYPE_NONE = 0 */
	CUmemLocation location;
	void *win32HandleMetaData;
	struct {
		unsigned char compressionType;
		unsigned char gpuDirectRDMACapable;
		unsigned short usage;
		unsigned char reserved[4];
	} allocFlags;
} CUmemAllocationProp;

typedef struct {
	CUmemLocation location;
	int flags; /* CU_MEM_ACCESS_FLAGS_PROT_READWRITE = 3 */
} CUmemAccessDesc;

/* The real driver, resolved from libcuda.so.1 without going through our own interposition. */
struct ws_driver {
	void *lib;
	CUresult (*cuGetProcAddress)(const char *, void **, int, unsigned long long);
	CUresult (*cuGetProcAddress_v2)(const char *, void **, int, unsigned long long, int *);
	CUresult (*cuMemAlloc_v2)(CUdeviceptr *, size_t);
	CUresult (*cuMemFree_v2)(CUdeviceptr);
	CUresult (*cuMemAddressReserve)(CUdeviceptr *, size_t, size_t, CUdeviceptr, unsigned long long);
	CUresult (*cuMemAddressFree)(CUdeviceptr, size_t);
	CUresult (*cuMemCreate)(CUmemGenericAllocationHandle *, size_t, const CUmemAllocationProp *,
				unsigned long long);
	CUresult (*cuMemRelease)(CUmemGenericAllocationHandle);
	CUresult (*cuMemMap)(CUdeviceptr, size_t, size_t, CUmemGenericAllocationHandle, unsigned long long);
	CUresult (*cuMemUnmap)(CUdeviceptr, size_t);
	CUresult (*cuMemSetAccess)(CUdeviceptr, size_t, const CUmemAccessDesc *, size_t);
	CUresult (*cuMemGetAllocationGranularity)(size_t *, const CUmemAllocationProp *, int);
	CUresult (*cuMemcpyHtoDAsync_v2)(CUdeviceptr, const void *, size_t, CUstream);
	CUresult (*cuMemcpyDtoHAsync_v2)(void *, CUdeviceptr, size_t, CUstream);
	CUresult (*cuMemHostAlloc)(void **, size_t, unsigned int);
	CUresult (*cuMemFreeHost)(void *);
	CUresult (*cuStreamCreate)(CUstream *, unsigned int);
	CUresult (*cuStreamDestroy_v2)(CUstream);
	CUresult (*cuStreamSynchronize)(CUstream);
	CUresult (*cuCtxGetCurrent)(CUcontext *);
	CUresult (*cuCtxSetCurrent)(CUcontext);
	CUresult (*cuCtxGetDevice)(CUdevice *);
	CUresult (*cuCtxSynchronize)(void);
	CUresult (*cuGetErrorString)(CUresult, const char **);
};

extern struct ws_driver ws_drv;

/* Loads the real driver once; 0 or -1 (no libcuda: the shim stays out of the way). */
int ws_driver_load(void);
const char *ws_cu_error(CUresult r);

/* The real dlsym, for lookups that must not come back to us. */
void *ws_real_dlsym(void *handle, const char *name);

/* --- managed allocations (registry.c) ---------------------------------------------------------- */

enum ws_alloc_state { WS_MAPPED = 0, WS_RELEASED = 1 };

struct ws_alloc {
	CUdeviceptr va;	     /* the reservation and the pointer the program holds */
	size_t size;	     /* reserved and mapped size (a multiple of the granularity) */
	size_t requested;    /* what the program asked for */
	CUdevice device;
	CUcontext ctx;
	CUmemGenericAllocationHandle handle;
	enum ws_alloc_state state;
	int in_use;
};

/* Every registry function takes the registry lock itself unless named _locked. */
size_t ws_min_bytes(void);
CUresult ws_alloc(CUdeviceptr *out, size_t size);
/* 1 when ptr was ours (and is freed now, or *res says why not), 0 when it is not managed. */
int ws_free(CUdeviceptr ptr, CUresult *res);
void ws_registry_lock(void);
void ws_registry_unlock(void);
/* A snapshot of the slots in use, under the lock held by the caller. */
size_t ws_registry_list_locked(struct ws_alloc **out, size_t max);
CUresult ws_map_physical(struct ws_alloc *a);
CUresult ws_unmap_physical(struct ws_alloc *a);

/* --- the gate (gate.c): CUDA work of the program waits while its memory is absent -------------- */

/* A callable that checks the gate, then jumps to fn; fn itself when the trampolines are off. */
void *ws_gate_wrap(void *fn);
/* Closes the gate and waits until no program thread is inside the driver; 0 or -1 (timed out: reopened). */
int ws_gate_close(double timeout_s);
void ws_gate_open(void);
int ws_gate_is_closed(void);
/* Our own wrappers (alloc, free) count themselves in and out with these. */
void ws_gate_enter(void);
void ws_gate_leave(void);

/* --- payload (payload.c) ---------------------------------------------------------------------- */

/*
 * The payload's files, opened by the agent and passed with the request: the index and one data
 * file per worker. Files, not a directory: a directory fd would let the process reach the rest of
 * the node's image store through "..".
 */
#define WS_MAX_FILES 64
struct ws_files {
	int index;
	int data[WS_MAX_FILES];
	int ndata;
};

/* Both return 0 (msg: figures) or -1 (msg: "Reason text"). */
/* clientfd: the agent's connection; if it has gone when the copy is done, nothing is released. */
int ws_payload_checkpoint(const struct ws_files *files, int clientfd, char *msg, size_t msglen);
int ws_payload_restore(const struct ws_files *files, char *msg, size_t msglen);

/* --- control channel (control.c) --------------------------------------------------------------- */
void ws_control_start(void);

/* --- sha256 (sha256.c) ------------------------------------------------------------------------ */
void ws_sha256(const void *data, size_t len, unsigned char out[32]);
void ws_hex(const unsigned char *in, size_t n, char *out);

/* --- log -------------------------------------------------------------------------------------- */
void ws_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
double ws_now_ms(void);

#endif
