/*
 * Test double of libcuda.so.1 for CI machines without a GPU: implements the functions the plugin
 * uses with the driver's state machine (running -> locked -> checkpointed -> locked -> running),
 * kept per pid in files so that a dump and a later restore (separate CRIU processes) agree.
 *
 * A process counts as a CUDA process when it has a thread named "cuda-restore" (the driver's
 * restore thread in real processes). Environment:
 *   FAKE_CUDA_STATE  directory for per-pid state (required)
 *   FAKE_CUDA_LOG    append "fn pid start_ns end_ns result extra" lines here
 *   FAKE_CUDA_FAIL   "op" or "op:pid" (op: init, lock, checkpoint, restore, unlock) to fail
 *   FAKE_CUDA_STALE  when set in a process, its driver finds no restore thread in any process, as
 *                    a long-lived caller's stale driver state did for a reused PID
 *   FAKE_CUDA_DELAY_MS  sleep this long in checkpoint and restore (to observe concurrency)
 *   FAKE_CUDA_DEVICES   how many GPUs (default 1), all named "Fake GPU", but for
 *   FAKE_CUDA_ODD_DEVICE  the ordinal of one named "Other Fake GPU"
 *
 * For the GPU memory shim (gpu-shim/), the memory API of a process's own device memory, over host
 * memory: cuMemAlloc gives anonymous memory; the virtual memory API reserves address ranges as
 * PROT_NONE mappings and backs cuMemCreate's "physical" memory with a memfd mapped into them, so
 * releasing it really gives the memory back and a read of an unmapped range faults, as on a GPU.
 * Copies and memsets are plain memcpy/memset (streams are synchronous); entry points are found
 * through cuGetProcAddress like the real driver's.
 *   FAKE_CUDA_OOM_FILE  while this file exists, cuMemCreate fails with CUDA_ERROR_OUT_OF_MEMORY
 *   FAKE_CUDA_COPY_FAIL_FILE  while this file exists, device-to-host copies fail (error 999)
 *   FAKE_CUDA_HANG_FILE  while this file exists, cuMemcpyDtoH (the synchronous one) does not return
 *   FAKE_CUDA_SLOW_FILE  while this file exists, each asynchronous copy takes 50 ms more
 */
#include <dirent.h>
#include <sys/mman.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

enum { SUCCESS = 0, ERR_INVALID_VALUE = 1, ERR_NOT_INITIALIZED = 3, ERR_NO_DEVICE = 100, ERR_ILLEGAL_STATE = 401,
       ERR_NOT_READY = 600, ERR_UNKNOWN = 999 };
enum { RUNNING = 0, LOCKED = 1, CHECKPOINTED = 2 };

struct pair {
	unsigned char old_uuid[16], new_uuid[16];
};
struct restore_args {
	struct pair *pairs;
	unsigned int count;
};

static long long now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void log_call(const char *fn, int pid, long long start, int result, const char *extra)
{
	const char *path = getenv("FAKE_CUDA_LOG");
	char line[512];
	int fd, n;

	if (!path)
		return;
	n = snprintf(line, sizeof(line), "%s %d %lld %lld %d %s\n", fn, pid, start, now_ns(), result, extra ? extra : "-");
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT, 0600);
	if (fd >= 0) {
		if (write(fd, line, n) != n) {
			/* best effort */
		}
		close(fd);
	}
}

static int should_fail(const char *op, int pid)
{
	const char *f = getenv("FAKE_CUDA_FAIL");
	size_t len = strlen(op);

	if (!f || strncmp(f, op, len))
		return 0;
	if (f[len] == '\0')
		return 1;
	return f[len] == ':' && atoi(f + len + 1) == pid;
}

static void delay(void)
{
	const char *d = getenv("FAKE_CUDA_DELAY_MS");
	if (d)
		usleep(atoi(d) * 1000);
}

static int read_state(int pid)
{
	char path[512];
	FILE *f;
	int s = RUNNING;

	snprintf(path, sizeof(path), "%s/%d", getenv("FAKE_CUDA_STATE"), pid);
	if ((f = fopen(path, "r"))) {
		if (fscanf(f, "%d", &s) != 1)
			s = RUNNING;
		fclose(f);
	}
	return s;
}

static void write_state(int pid, int s)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%d", getenv("FAKE_CUDA_STATE"), pid);
	if ((f = fopen(path, "w"))) {
		fprintf(f, "%d\n", s);
		fclose(f);
	}
}

static int restore_tid(int pid)
{
	char path[64];
	DIR *d;
	struct dirent *e;
	int tid = -1;

	snprintf(path, sizeof(path), "/proc/%d/task", pid);
	if (!(d = opendir(path)))
		return -1;
	while ((e = readdir(d)) && tid < 0) {
		char comm_path[320], comm[64] = "";
		FILE *f;
		if (e->d_name[0] == '.')
			continue;
		snprintf(comm_path, sizeof(comm_path), "/proc/%d/task/%s/comm", pid, e->d_name);
		if ((f = fopen(comm_path, "r"))) {
			if (fgets(comm, sizeof(comm), f) && !strncmp(comm, "cuda-restore", 12))
				tid = atoi(e->d_name);
			fclose(f);
		}
	}
	closedir(d);
	return tid;
}

int cuInit(unsigned int flags)
{
	long long t = now_ns();
	int r = should_fail("init", 0) ? ERR_NO_DEVICE : SUCCESS;
	log_call("cuInit", getpid(), t, r, NULL);
	return r;
}

int cuDriverGetVersion(int *v)
{
	*v = 13000;
	return SUCCESS;
}

int cuGetErrorString(int e, const char **s)
{
	switch (e) {
	case ERR_NOT_READY:
		*s = "fake: lock timed out (CUDA_ERROR_NOT_READY)";
		break;
	case ERR_ILLEGAL_STATE:
		*s = "fake: operation not allowed in this process state";
		break;
	case ERR_NO_DEVICE:
		*s = "fake: no CUDA-capable device is detected";
		break;
	default:
		*s = "fake: injected failure";
	}
	return SUCCESS;
}

int cuCheckpointProcessGetRestoreThreadId(int pid, int *tid)
{
	long long t = now_ns();
	int r;
	*tid = getenv("FAKE_CUDA_STALE") ? 0 : restore_tid(pid);
	r = *tid > 0 ? SUCCESS : ERR_NOT_INITIALIZED;
	log_call("getRestoreThreadId", pid, t, r, NULL);
	return r;
}

int cuCheckpointProcessGetState(int pid, int *state)
{
	*state = read_state(pid);
	return restore_tid(pid) > 0 ? SUCCESS : ERR_NOT_INITIALIZED;
}

static int transition(const char *fn, const char *op, int pid, int from, int to, const char *extra)
{
	long long t = now_ns();
	int r = SUCCESS;

	if (!strcmp(op, "checkpoint") || !strcmp(op, "restore"))
		delay();
	if (read_state(pid) != from)
		r = ERR_ILLEGAL_STATE;
	else if (should_fail(op, pid))
		r = !strcmp(op, "lock") ? ERR_NOT_READY : ERR_UNKNOWN;
	else
		write_state(pid, to);
	log_call(fn, pid, t, r, extra);
	return r;
}

int cuCheckpointProcessLock(int pid, void *args)
{
	char extra[32];
	snprintf(extra, sizeof(extra), "timeoutMs=%u", args ? *(unsigned int *)args : 0);
	return transition("lock", "lock", pid, RUNNING, LOCKED, extra);
}

int cuCheckpointProcessCheckpoint(int pid, void *args)
{
	return transition("checkpoint", "checkpoint", pid, LOCKED, CHECKPOINTED, NULL);
}

int cuCheckpointProcessRestore(int pid, struct restore_args *args)
{
	char extra[128] = "pairs=0";
	if (args && args->count) {
		int n = snprintf(extra, sizeof(extra), "pairs=%u:", args->count);
		for (int i = 0; i < 16; i++)
			n += snprintf(extra + n, sizeof(extra) - n, "%02x", args->pairs[0].new_uuid[i]);
	}
	return transition("restore", "restore", pid, CHECKPOINTED, LOCKED, extra);
}

int cuCheckpointProcessUnlock(int pid, void *args)
{
	return transition("unlock", "unlock", pid, LOCKED, RUNNING, NULL);
}

/* --- devices and contexts, for the agent's JNA bindings ------------------------------------------ */

static int device_count(void)
{
	const char *n = getenv("FAKE_CUDA_DEVICES");
	return n ? atoi(n) : 1;
}

int cuDeviceGetCount(int *count)
{
	*count = device_count();
	return SUCCESS;
}

int cuDeviceGet(int *dev, int ordinal)
{
	if (ordinal < 0 || ordinal >= device_count())
		return ERR_INVALID_VALUE;
	*dev = ordinal;
	return SUCCESS;
}

int cuDeviceGetName(char *name, int len, int dev)
{
	const char *odd = getenv("FAKE_CUDA_ODD_DEVICE");
	snprintf(name, len, odd && atoi(odd) == dev ? "Other Fake GPU" : "Fake GPU");
	return SUCCESS;
}

int cuDeviceGetUuid_v2(unsigned char *uuid, int dev)
{
	for (int i = 0; i < 16; i++)
		uuid[i] = (unsigned char)(0x10 * dev + i);
	return SUCCESS;
}

int cuDeviceTotalMem_v2(size_t *bytes, int dev)
{
	*bytes = 80ULL << 30;
	return SUCCESS;
}

int cuDevicePrimaryCtxRetain(void **ctx, int dev)
{
	long long t = now_ns();
	*ctx = (void *)(long)(0x1000 + dev);
	log_call("primaryCtxRetain", dev, t, SUCCESS, NULL);
	return SUCCESS;
}

int cuDevicePrimaryCtxRelease_v2(int dev)
{
	long long t = now_ns();
	log_call("primaryCtxRelease", dev, t, SUCCESS, NULL);
	return SUCCESS;
}


int cuMemGetInfo_v2(size_t *free_bytes, size_t *total)
{
	*total = 80ULL << 30;
	*free_bytes = 79ULL << 30;
	return SUCCESS;
}

/* --- the memory API, over host memory ------------------------------------------------------------ */

enum { ERR_OUT_OF_MEMORY = 2, ERR_INVALID_CONTEXT = 201, ERR_NOT_FOUND = 500 };
#define GRANULARITY (2UL << 20)
#define MAX_TRACKED 4096

static __thread void *current_ctx;

int cuCtxSetCurrent(void *ctx)
{
	current_ctx = ctx;
	return SUCCESS;
}

int cuCtxGetCurrent(void **ctx)
{
	*ctx = current_ctx;
	return SUCCESS;
}

int cuCtxGetDevice(int *dev)
{
	if (!current_ctx)
		return ERR_INVALID_CONTEXT;
	*dev = (int)((long)current_ctx - 0x1000);
	return SUCCESS;
}

int cuCtxSynchronize(void)
{
	return current_ctx ? SUCCESS : ERR_INVALID_CONTEXT;
}

/* cuMemAlloc's blocks, to know their size when freed. */
static struct {
	unsigned long long ptr;
	size_t size;
} blocks[MAX_TRACKED];
static pthread_mutex_t blocks_mu = PTHREAD_MUTEX_INITIALIZER;

int cuMemAlloc_v2(unsigned long long *dptr, size_t size)
{
	void *p;
	int i, r = ERR_OUT_OF_MEMORY;

	if (!current_ctx)
		return ERR_INVALID_CONTEXT;
	p = mmap(NULL, size ? size : 1, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return ERR_OUT_OF_MEMORY;
	pthread_mutex_lock(&blocks_mu);
	for (i = 0; i < MAX_TRACKED; i++) {
		if (!blocks[i].ptr) {
			blocks[i].ptr = (unsigned long long)p;
			blocks[i].size = size ? size : 1;
			*dptr = (unsigned long long)p;
			r = SUCCESS;
			break;
		}
	}
	pthread_mutex_unlock(&blocks_mu);
	if (r)
		munmap(p, size);
	return r;
}

int cuMemFree_v2(unsigned long long dptr)
{
	int r = ERR_INVALID_VALUE;

	pthread_mutex_lock(&blocks_mu);
	for (int i = 0; i < MAX_TRACKED; i++) {
		if (blocks[i].ptr == dptr) {
			munmap((void *)dptr, blocks[i].size);
			blocks[i].ptr = 0;
			r = SUCCESS;
			break;
		}
	}
	pthread_mutex_unlock(&blocks_mu);
	return r;
}

int cuMemGetAllocationGranularity(size_t *g, const void *prop, int option)
{
	*g = GRANULARITY;
	return SUCCESS;
}

int cuMemAddressReserve(unsigned long long *ptr, size_t size, size_t align, unsigned long long addr,
			unsigned long long flags)
{
	size_t span = size + GRANULARITY;
	char *p, *start;

	if (!size || size % GRANULARITY)
		return ERR_INVALID_VALUE;
	p = mmap((void *)addr, span, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED)
		return ERR_OUT_OF_MEMORY;
	start = (char *)(((unsigned long)p + GRANULARITY - 1) & ~(GRANULARITY - 1));
	if (start > p)
		munmap(p, start - p);
	if (p + span > start + size)
		munmap(start + size, p + span - (start + size));
	*ptr = (unsigned long long)start;
	return SUCCESS;
}

int cuMemAddressFree(unsigned long long ptr, size_t size)
{
	return munmap((void *)ptr, size) ? ERR_INVALID_VALUE : SUCCESS;
}

int cuMemCreate(unsigned long long *handle, size_t size, const void *prop, unsigned long long flags)
{
	const char *oom = getenv("FAKE_CUDA_OOM_FILE");
	int fd;

	if (oom && access(oom, F_OK) == 0)
		return ERR_OUT_OF_MEMORY;
	if (!size || size % GRANULARITY)
		return ERR_INVALID_VALUE;
	fd = memfd_create("fake-gpu-memory", MFD_CLOEXEC);
	if (fd < 0)
		return ERR_OUT_OF_MEMORY;
	if (ftruncate(fd, size)) {
		close(fd);
		return ERR_OUT_OF_MEMORY;
	}
	*handle = (unsigned long long)fd + 1;
	return SUCCESS;
}

int cuMemRelease(unsigned long long handle)
{
	return handle && close((int)(handle - 1)) == 0 ? SUCCESS : ERR_INVALID_VALUE;
}

int cuMemMap(unsigned long long ptr, size_t size, size_t offset, unsigned long long handle, unsigned long long flags)
{
	void *p = mmap((void *)ptr, size, PROT_NONE, MAP_SHARED | MAP_FIXED, (int)(handle - 1), offset);
	return p == MAP_FAILED ? ERR_INVALID_VALUE : SUCCESS;
}

int cuMemUnmap(unsigned long long ptr, size_t size)
{
	void *p = mmap((void *)ptr, size, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_NORESERVE, -1, 0);
	return p == MAP_FAILED ? ERR_INVALID_VALUE : SUCCESS;
}

int cuMemSetAccess(unsigned long long ptr, size_t size, const void *desc, size_t count)
{
	return mprotect((void *)ptr, size, PROT_READ | PROT_WRITE) ? ERR_INVALID_VALUE : SUCCESS;
}

int cuMemcpyHtoD_v2(unsigned long long dst, const void *src, size_t n)
{
	memcpy((void *)dst, src, n);
	return SUCCESS;
}

static void copy_knobs(void)
{
	const char *slow = getenv("FAKE_CUDA_SLOW_FILE");

	if (slow && access(slow, F_OK) == 0)
		usleep(50000);
}

int cuMemcpyDtoH_v2(void *dst, unsigned long long src, size_t n)
{
	const char *hang = getenv("FAKE_CUDA_HANG_FILE");

	while (hang && access(hang, F_OK) == 0)
		usleep(1000);
	memcpy(dst, (const void *)src, n);
	return SUCCESS;
}

int cuMemcpyHtoDAsync_v2(unsigned long long dst, const void *src, size_t n, void *stream)
{
	copy_knobs();
	return cuMemcpyHtoD_v2(dst, src, n);
}

int cuMemcpyDtoHAsync_v2(void *dst, unsigned long long src, size_t n, void *stream)
{
	const char *fail = getenv("FAKE_CUDA_COPY_FAIL_FILE");

	if (fail && access(fail, F_OK) == 0)
		return ERR_UNKNOWN;
	copy_knobs();
	memcpy(dst, (const void *)src, n);
	return SUCCESS;
}

int cuMemsetD8_v2(unsigned long long dst, unsigned char value, size_t n)
{
	memset((void *)dst, value, n);
	return SUCCESS;
}

int cuMemHostAlloc(void **p, size_t size, unsigned int flags)
{
	return posix_memalign(p, 4096, size) ? ERR_OUT_OF_MEMORY : SUCCESS;
}

int cuMemFreeHost(void *p)
{
	free(p);
	return SUCCESS;
}

int cuStreamCreate(void **stream, unsigned int flags)
{
	static long next = 0x5000;
	*stream = (void *)__atomic_add_fetch(&next, 1, __ATOMIC_SEQ_CST);
	return SUCCESS;
}

int cuStreamDestroy_v2(void *stream)
{
	return SUCCESS;
}

int cuStreamSynchronize(void *stream)
{
	return SUCCESS;
}

/*
 * No kernels run here; this checks how callers pass 11 arguments (5 on the stack): it writes a digest
 * of all of them into *(unsigned long long *)params.
 */
int cuLaunchKernel(void *f, unsigned gx, unsigned gy, unsigned gz, unsigned bx, unsigned by, unsigned bz,
		   unsigned shmem, void *stream, void **params, void **extra)
{
	unsigned long long h = (unsigned long long)f;
	unsigned long long v[] = { gx, gy, gz, bx, by, bz, shmem, (unsigned long long)stream,
				   (unsigned long long)extra };

	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++)
		h = h * 1000003ULL + v[i];
	*(unsigned long long *)params = h;
	return SUCCESS;
}

int cuGetProcAddress_v2(const char *symbol, void **pfn, int version, unsigned long long flags, int *status);

/* The driver's table, as cuGetProcAddress hands it out: base names; "_v2" where one exists. */
static const struct {
	const char *name;
	void *fn;
} table[] = {
#define E(f) { #f, (void *)f }
	E(cuInit), E(cuDriverGetVersion), E(cuGetErrorString), E(cuDeviceGet), E(cuDeviceGetCount),
	E(cuDevicePrimaryCtxRetain), E(cuCtxSetCurrent), E(cuCtxGetCurrent), E(cuCtxGetDevice), E(cuCtxSynchronize),
	E(cuMemAlloc_v2), E(cuMemFree_v2), E(cuMemGetAllocationGranularity), E(cuMemAddressReserve),
	E(cuMemAddressFree), E(cuMemCreate), E(cuMemRelease), E(cuMemMap), E(cuMemUnmap), E(cuMemSetAccess),
	E(cuMemcpyHtoD_v2), E(cuMemcpyDtoH_v2), E(cuMemcpyHtoDAsync_v2), E(cuMemcpyDtoHAsync_v2), E(cuMemsetD8_v2),
	E(cuMemHostAlloc), E(cuMemFreeHost), E(cuStreamCreate), E(cuStreamDestroy_v2), E(cuStreamSynchronize),
	E(cuMemGetInfo_v2), E(cuLaunchKernel), E(cuGetProcAddress_v2),
	{ "cuGetProcAddress", (void *)cuGetProcAddress_v2 },
#undef E
};

int cuGetProcAddress_v2(const char *symbol, void **pfn, int version, unsigned long long flags, int *status)
{
	char v2[128];

	snprintf(v2, sizeof(v2), "%s_v2", symbol);
	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
			if (!strcmp(table[i].name, pass ? symbol : v2)) {
				*pfn = table[i].fn;
				if (status)
					*status = 0; /* CU_GET_PROC_ADDRESS_SUCCESS */
				return SUCCESS;
			}
		}
	}
	*pfn = NULL;
	if (status)
		*status = 1; /* CU_GET_PROC_ADDRESS_SYMBOL_NOT_FOUND */
	return ERR_NOT_FOUND;
}

int cuGetProcAddress(const char *symbol, void **pfn, int version, unsigned long long flags)
{
	return cuGetProcAddress_v2(symbol, pfn, version, flags, NULL);
}
