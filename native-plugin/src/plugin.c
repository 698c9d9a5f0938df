/*
 * Warmstart CRIU plugin: checkpoints and restores the CUDA state of a process tree by calling the
 * CUDA driver's checkpoint API (cuCheckpointProcess*) from inside CRIU. Disables itself where the
 * host has no usable libcuda, so it is harmless on any host.
 */
#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>

#include <criu/criu-plugin.h>

#include "log.h"
#include "remap.h"

static void *libcuda;
static int enabled;

/* init: load libcuda; without it the plugin stays loaded but does nothing (returns 0). */
static int ws_init(int stage)
{
	const char *path = getenv("WARMSTART_LIBCUDA");

	libcuda = dlopen(path ? path : "libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
	if (!libcuda) {
		ws_info("libcuda not loadable (%s); plugin disabled\n", dlerror());
		return 0;
	}
	if (!dlsym(libcuda, "cuCheckpointProcessLock")) {
		ws_info("driver has no checkpoint API (needs >= 570); plugin disabled\n");
		dlclose(libcuda);
		libcuda = NULL;
		return 0;
	}
	enabled = 1;
	ws_info("enabled for stage %d\n", stage);
	return 0;
}

/* fini: release what init took. */
static void ws_fini(int stage, int ret)
{
	if (libcuda)
		dlclose(libcuda);
	libcuda = NULL;
	enabled = 0;
}

CR_PLUGIN_REGISTER("warmstart_cuda", ws_init, ws_fini)
