#include "cuda_driver.h"

#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

#define RESOLVE(field, symbol)                                                                 \
	do {                                                                                   \
		*(void **)(&cuda->field) = dlsym(cuda->lib, symbol);                           \
		if (!cuda->field) {                                                            \
			snprintf(err, errlen, "%s lacks %s: driver too old for the checkpoint API " \
					      "(needs >= 570)", lib, symbol);                       \
			goto fail;                                                             \
		}                                                                              \
	} while (0)

int ws_cuda_load(struct ws_cuda *cuda, const char *path, char *err, size_t errlen)
{
	const char *lib = path ? path : "libcuda.so.1";
	ws_curesult r;

	memset(cuda, 0, sizeof(*cuda));
	cuda->lib = dlopen(lib, RTLD_NOW | RTLD_LOCAL);
	if (!cuda->lib) {
		snprintf(err, errlen, "cannot load %s: %s", lib, dlerror());
		return -1;
	}
	RESOLVE(init, "cuInit");
	RESOLVE(driver_get_version, "cuDriverGetVersion");
	RESOLVE(get_error_string, "cuGetErrorString");
	RESOLVE(get_restore_thread_id, "cuCheckpointProcessGetRestoreThreadId");
	RESOLVE(get_state, "cuCheckpointProcessGetState");
	RESOLVE(lock, "cuCheckpointProcessLock");
	RESOLVE(checkpoint, "cuCheckpointProcessCheckpoint");
	RESOLVE(restore, "cuCheckpointProcessRestore");
	RESOLVE(unlock, "cuCheckpointProcessUnlock");

	r = cuda->init(0);
	if (r != 0) {
		char buf[160];
		snprintf(err, errlen, "cuInit failed: %s", ws_cuda_strerror(cuda, r, buf, sizeof(buf)));
		goto fail;
	}
	if (cuda->driver_get_version(&cuda->driver_version) != 0)
		cuda->driver_version = 0;
	return 0;
fail:
	dlclose(cuda->lib);
	memset(cuda, 0, sizeof(*cuda));
	return -1;
}

void ws_cuda_unload(struct ws_cuda *cuda)
{
	/* libcuda is not dlclose'd: its threads may outlive the call, and CRIU exits soon after. */
	memset(cuda, 0, sizeof(*cuda));
}

ws_curesult ws_cuda_restore(const struct ws_cuda *cuda, int pid, const struct ws_remap *remap)
{
	struct ws_gpu_pair_args pairs[WS_MAX_GPUS];
	struct ws_restore_args args;

	if (!remap->count)
		return cuda->restore(pid, NULL);
	memset(&args, 0, sizeof(args));
	for (size_t i = 0; i < remap->count; i++) {
		memcpy(pairs[i].old_uuid, remap->pairs[i].from, WS_UUID_LEN);
		memcpy(pairs[i].new_uuid, remap->pairs[i].to, WS_UUID_LEN);
	}
	args.gpu_pairs = pairs;
	args.gpu_pairs_count = (unsigned int)remap->count;
	return cuda->restore(pid, &args);
}

const char *ws_cuda_strerror(const struct ws_cuda *cuda, ws_curesult r, char *buf, size_t len)
{
	const char *desc = NULL;

	if (cuda->get_error_string)
		cuda->get_error_string(r, &desc);
	snprintf(buf, len, "error %d: %s", r, desc ? desc : "unknown");
	return buf;
}
