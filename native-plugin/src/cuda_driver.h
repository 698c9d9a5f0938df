/* The CUDA driver functions the plugin uses, loaded with dlopen so the plugin links on any host. */
#ifndef WARMSTART_CUDA_DRIVER_H
#define WARMSTART_CUDA_DRIVER_H

#include <stddef.h>

#include "remap.h"

typedef int ws_curesult; /* CUresult; 0 is CUDA_SUCCESS */

enum ws_cuda_state { WS_CUDA_RUNNING = 0, WS_CUDA_LOCKED = 1, WS_CUDA_CHECKPOINTED = 2, WS_CUDA_FAILED = 3 };

/* Layouts of cuda.h (driver >= 570); reserved fields must be zero. */
struct ws_lock_args {
	unsigned int timeout_ms;
	unsigned int reserved0;
	unsigned long long reserved1[7];
};
struct ws_plain_args {
	unsigned long long reserved[8];
};
struct ws_gpu_pair_args {
	unsigned char old_uuid[WS_UUID_LEN];
	unsigned char new_uuid[WS_UUID_LEN];
};
struct ws_restore_args {
	struct ws_gpu_pair_args *gpu_pairs;
	unsigned int gpu_pairs_count;
	char reserved[52 - sizeof(void *)];
	unsigned long long reserved1;
};

struct ws_cuda {
	void *lib;
	int driver_version;
	ws_curesult (*init)(unsigned int flags);
	ws_curesult (*driver_get_version)(int *version);
	ws_curesult (*get_error_string)(ws_curesult error, const char **str);
	ws_curesult (*get_restore_thread_id)(int pid, int *tid);
	ws_curesult (*get_state)(int pid, int *state);
	ws_curesult (*lock)(int pid, struct ws_lock_args *args);
	ws_curesult (*checkpoint)(int pid, struct ws_plain_args *args);
	ws_curesult (*restore)(int pid, struct ws_restore_args *args);
	ws_curesult (*unlock)(int pid, struct ws_plain_args *args);
};

/*
 * Loads libcuda (path, or libcuda.so.1 when NULL) and resolves the checkpoint API.
 * Returns 0, or -1 with why in err: missing library, driver too old (no checkpoint API), cuInit failure.
 */
int ws_cuda_load(struct ws_cuda *cuda, const char *path, char *err, size_t errlen);

void ws_cuda_unload(struct ws_cuda *cuda);

/* cuCheckpointProcessRestore of pid, onto remap's target GPUs when it has pairs. */
ws_curesult ws_cuda_restore(const struct ws_cuda *cuda, int pid, const struct ws_remap *remap);

/* "CUDA_ERROR_X (n): description" for a result, into buf. */
const char *ws_cuda_strerror(const struct ws_cuda *cuda, ws_curesult r, char *buf, size_t len);

#endif
