/* GPU UUID remap table: which source GPU's state goes to which target GPU on restore. */
#ifndef WARMSTART_REMAP_H
#define WARMSTART_REMAP_H

#include <stddef.h>

#define WS_UUID_LEN 16
#define WS_MAX_GPUS 64

struct ws_gpu_pair {
	unsigned char from[WS_UUID_LEN];
	unsigned char to[WS_UUID_LEN];
};

struct ws_remap {
	size_t count;
	struct ws_gpu_pair pairs[WS_MAX_GPUS];
};

/* Parses "GPU-8-4-4-4-12" (hex, dashes as nvidia-smi prints) into 16 bytes; 0 on success, -1 if malformed. */
int ws_parse_uuid(const char *text, unsigned char out[WS_UUID_LEN]);

/*
 * Parses "FROM=TO[,FROM=TO...]" (whitespace and newlines also separate pairs) into map.
 * Returns 0, or -1 with a reason in err (size errlen) for a malformed entry, a duplicate source or target,
 * or too many pairs. An empty spec gives an empty map.
 */
int ws_parse_remap(const char *spec, struct ws_remap *map, char *err, size_t errlen);

#endif
