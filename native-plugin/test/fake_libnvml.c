/*
 * Test double of libnvidia-ml.so.1 for CI machines without a GPU: the few NVML calls the agent makes
 * (driver version, device by UUID, memory info, compute processes), over the same fake devices as
 * fake_libcuda.c (FAKE_CUDA_DEVICES, UUID bytes 0x10*dev+i). Environment:
 *   FAKE_NVML_PROCS   "dev:pid:bytes,..." compute processes and the GPU memory each holds
 *   FAKE_NVML_DRIVER  driver version string (default 580.159.04)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { SUCCESS = 0, ERR_INVALID_ARGUMENT = 2, ERR_NOT_FOUND = 6, ERR_INSUFFICIENT_SIZE = 7 };
#define TOTAL (80ULL << 30)
#define BASE_USED (512ULL << 20)

struct memory {
	unsigned long long total, free, used;
};
struct process_info {
	unsigned int pid;
	unsigned long long used;
	unsigned int gpu_instance, compute_instance;
};

static int devices(void)
{
	const char *n = getenv("FAKE_CUDA_DEVICES");
	return n ? atoi(n) : 1;
}

static void uuid_of(int dev, char *out, size_t len)
{
	unsigned char b[16];
	for (int i = 0; i < 16; i++)
		b[i] = (unsigned char)(0x10 * dev + i);
	snprintf(out, len, "GPU-%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1],
		 b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
}

/* Fills out (up to cap) with the fake processes on dev; returns how many there are. */
static int each_process(int dev, struct process_info *out, unsigned int cap)
{
	const char *spec = getenv("FAKE_NVML_PROCS");
	char buf[1024], *save = NULL;
	int n = 0;

	if (!spec)
		return 0;
	snprintf(buf, sizeof(buf), "%s", spec);
	for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		int d;
		unsigned int pid;
		unsigned long long bytes;
		if (sscanf(tok, "%d:%u:%llu", &d, &pid, &bytes) != 3 || d != dev)
			continue;
		if (out && (unsigned int)n < cap) {
			out[n].pid = pid;
			out[n].used = bytes;
			out[n].gpu_instance = out[n].compute_instance = 0xffffffff;
		}
		n++;
	}
	return n;
}

int nvmlInit_v2(void) { return SUCCESS; }
int nvmlShutdown(void) { return SUCCESS; }

int nvmlSystemGetDriverVersion(char *version, unsigned int len)
{
	const char *v = getenv("FAKE_NVML_DRIVER");
	snprintf(version, len, "%s", v ? v : "580.159.04");
	return SUCCESS;
}

int nvmlDeviceGetHandleByUUID(const char *uuid, void **device)
{
	char u[64];
	for (int d = 0; d < devices(); d++) {
		uuid_of(d, u, sizeof(u));
		if (!strcmp(u, uuid)) {
			*device = (void *)(long)(0x100 + d);
			return SUCCESS;
		}
	}
	return ERR_NOT_FOUND;
}

/* Device N is /dev/nvidiaN, as on a host whose GPUs were probed in bus order. */
int nvmlDeviceGetMinorNumber(void *device, unsigned int *minor)
{
	*minor = (unsigned int)((long)device - 0x100);
	return SUCCESS;
}

int nvmlDeviceGetMemoryInfo(void *device, struct memory *m)
{
	int dev = (int)(long)device - 0x100;
	struct process_info p[64];
	int n = each_process(dev, p, 64);

	m->total = TOTAL;
	m->used = BASE_USED;
	for (int i = 0; i < n && i < 64; i++)
		m->used += p[i].used;
	m->free = m->total - m->used;
	return SUCCESS;
}

int nvmlDeviceGetComputeRunningProcesses_v3(void *device, unsigned int *count, struct process_info *infos)
{
	int dev = (int)(long)device - 0x100;
	int n = each_process(dev, infos, *count);

	if ((unsigned int)n > *count) {
		*count = n;
		return ERR_INSUFFICIENT_SIZE;
	}
	*count = n;
	return SUCCESS;
}

const char *nvmlErrorString(int r)
{
	return r == ERR_NOT_FOUND ? "Not Found" : r == ERR_INSUFFICIENT_SIZE ? "Insufficient Size" : "Unknown Error";
}
