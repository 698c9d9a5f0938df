/*
 * Managed allocations: a reservation of virtual addresses that stays for the allocation's whole
 * life, and physical memory (one cuMemCreate handle) mapped into it that can leave and come back.
 */
#include <stdlib.h>
#include <string.h>

#include "shim.h"

#define WS_MAX_ALLOCS 65536
#define WS_MAX_DEVICES 64

static struct ws_alloc allocs[WS_MAX_ALLOCS];
static size_t high; /* slots [0, high) have been used */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static size_t granularity[WS_MAX_DEVICES];

void ws_registry_lock(void)
{
	pthread_mutex_lock(&lock);
}

void ws_registry_unlock(void)
{
	pthread_mutex_unlock(&lock);
}

size_t ws_min_bytes(void)
{
	static size_t min;

	if (!min) {
		const char *v = getenv("WARMSTART_GPUMEM_MIN_MB");
		long mb = v && *v ? atol(v) : 8;
		/* 0 would manage everything; the smallest sensible unit is the VM granularity (2 MiB) */
		min = (size_t)(mb > 0 ? mb : 2) << 20;
	}
	return min;
}

static void device_prop(CUdevice dev, CUmemAllocationProp *prop)
{
	memset(prop, 0, sizeof(*prop));
	prop->type = 1;		 /* CU_MEM_ALLOCATION_TYPE_PINNED */
	prop->location.type = 1; /* CU_MEM_LOCATION_TYPE_DEVICE */
	prop->location.id = dev;
}

CUresult ws_map_physical(struct ws_alloc *a)
{
	CUmemAllocationProp prop;
	CUmemAccessDesc access = { .location = { .type = 1, .id = a->device }, .flags = 3 /* READWRITE */ };
	CUresult r;

	device_prop(a->device, &prop);
	if ((r = ws_drv.cuMemCreate(&a->handle, a->size, &prop, 0)) != CUDA_SUCCESS)
		return r;
	if ((r = ws_drv.cuMemMap(a->va, a->size, 0, a->handle, 0)) != CUDA_SUCCESS)
		goto release;
	if ((r = ws_drv.cuMemSetAccess(a->va, a->size, &access, 1)) != CUDA_SUCCESS)
		goto unmap;
	a->state = WS_MAPPED;
	return CUDA_SUCCESS;
unmap:
	ws_drv.cuMemUnmap(a->va, a->size);
release:
	ws_drv.cuMemRelease(a->handle);
	a->handle = 0;
	return r;
}

CUresult ws_unmap_physical(struct ws_alloc *a)
{
	CUresult r;

	if (a->state == WS_RELEASED)
		return CUDA_SUCCESS;
	if ((r = ws_drv.cuMemUnmap(a->va, a->size)) != CUDA_SUCCESS)
		return r;
	if ((r = ws_drv.cuMemRelease(a->handle)) != CUDA_SUCCESS)
		return r;
	a->handle = 0;
	a->state = WS_RELEASED;
	return CUDA_SUCCESS;
}

static struct ws_alloc *free_slot_locked(void)
{
	for (size_t i = 0; i < high; i++)
		if (!allocs[i].in_use)
			return &allocs[i];
	return high < WS_MAX_ALLOCS ? &allocs[high++] : NULL;
}

/* CUDA_ERROR_NOT_FOUND: not for us (no current context, no VM support, full table): pass through. */
CUresult ws_alloc(CUdeviceptr *out, size_t size)
{
	CUmemAllocationProp prop;
	struct ws_alloc a = { 0 }, *slot;
	size_t g;
	CUresult r;

	if (ws_drv.cuCtxGetCurrent(&a.ctx) != CUDA_SUCCESS || !a.ctx || ws_drv.cuCtxGetDevice(&a.device) != CUDA_SUCCESS ||
	    a.device < 0 || a.device >= WS_MAX_DEVICES)
		return CUDA_ERROR_NOT_FOUND;
	if (!(g = granularity[a.device])) {
		device_prop(a.device, &prop);
		if (ws_drv.cuMemGetAllocationGranularity(&g, &prop, 0 /* MINIMUM */) != CUDA_SUCCESS || !g) {
			ws_log("GPU %d has no VM allocation granularity: its allocations pass through\n", a.device);
			return CUDA_ERROR_NOT_FOUND;
		}
		granularity[a.device] = g;
	}
	a.requested = size;
	a.size = (size + g - 1) / g * g;
	if ((r = ws_drv.cuMemAddressReserve(&a.va, a.size, 0, 0, 0)) != CUDA_SUCCESS)
		return r == CUDA_ERROR_OUT_OF_MEMORY ? r : CUDA_ERROR_NOT_FOUND;
	if ((r = ws_map_physical(&a)) != CUDA_SUCCESS) {
		ws_drv.cuMemAddressFree(a.va, a.size);
		return r;
	}
	ws_registry_lock();
	slot = free_slot_locked();
	if (slot) {
		a.in_use = 1;
		*slot = a;
	}
	ws_registry_unlock();
	if (!slot) {
		ws_unmap_physical(&a);
		ws_drv.cuMemAddressFree(a.va, a.size);
		return CUDA_ERROR_NOT_FOUND;
	}
	*out = a.va;
	ws_control_start();
	return CUDA_SUCCESS;
}

int ws_free(CUdeviceptr ptr, CUresult *res)
{
	struct ws_alloc a;
	int found = 0;

	ws_registry_lock();
	for (size_t i = 0; i < high; i++) {
		if (allocs[i].in_use && allocs[i].va == ptr) {
			a = allocs[i];
			allocs[i].in_use = 0;
			found = 1;
			break;
		}
	}
	ws_registry_unlock();
	if (!found)
		return 0;
	/* cudaFree/cuMemFree wait for the device's work; unmapping under running kernels would not */
	ws_drv.cuCtxSynchronize();
	*res = ws_unmap_physical(&a);
	if (*res == CUDA_SUCCESS)
		*res = ws_drv.cuMemAddressFree(a.va, a.size);
	return 1;
}

size_t ws_registry_list_locked(struct ws_alloc **out, size_t max)
{
	size_t n = 0;

	for (size_t i = 0; i < high && n < max; i++)
		if (allocs[i].in_use)
			out[n++] = &allocs[i];
	return n;
}
