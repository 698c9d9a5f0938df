#include "remap.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (char)tolower((unsigned char)c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

int ws_parse_uuid(const char *text, unsigned char out[WS_UUID_LEN])
{
	/* Groups of 8-4-4-4-12 hex digits after the "GPU-" prefix. */
	static const int groups[] = { 8, 4, 4, 4, 12 };
	const char *p = text;
	size_t n = 0;

	if (strncmp(p, "GPU-", 4) != 0)
		return -1;
	p += 4;
	for (size_t g = 0; g < sizeof(groups) / sizeof(groups[0]); g++) {
		if (g > 0 && *p++ != '-')
			return -1;
		for (int i = 0; i < groups[g]; i += 2) {
			int hi = hex_value(p[0]), lo = hi < 0 ? -1 : hex_value(p[1]);
			if (hi < 0 || lo < 0)
				return -1;
			out[n++] = (unsigned char)(hi << 4 | lo);
			p += 2;
		}
	}
	return *p == '\0' ? 0 : -1;
}

static int seen(const struct ws_remap *map, const unsigned char *uuid, int target)
{
	for (size_t i = 0; i < map->count; i++)
		if (!memcmp(target ? map->pairs[i].to : map->pairs[i].from, uuid, WS_UUID_LEN))
			return 1;
	return 0;
}

int ws_parse_remap(const char *spec, struct ws_remap *map, char *err, size_t errlen)
{
	char buf[4096];
	char *save = NULL, *tok;

	map->count = 0;
	if (!spec)
		return 0;
	if (strlen(spec) >= sizeof(buf)) {
		snprintf(err, errlen, "remap spec longer than %zu bytes", sizeof(buf) - 1);
		return -1;
	}
	strcpy(buf, spec);
	for (tok = strtok_r(buf, ", \t\r\n", &save); tok; tok = strtok_r(NULL, ", \t\r\n", &save)) {
		char *eq = strchr(tok, '=');
		struct ws_gpu_pair pair;

		if (!eq) {
			snprintf(err, errlen, "entry '%s' is not FROM=TO", tok);
			return -1;
		}
		*eq = '\0';
		if (ws_parse_uuid(tok, pair.from) || ws_parse_uuid(eq + 1, pair.to)) {
			snprintf(err, errlen, "entry '%s=%s' is not two GPU-<uuid> values", tok, eq + 1);
			return -1;
		}
		if (seen(map, pair.from, 0) || seen(map, pair.to, 1)) {
			snprintf(err, errlen, "GPU in '%s=%s' is mapped twice", tok, eq + 1);
			return -1;
		}
		if (map->count == WS_MAX_GPUS) {
			snprintf(err, errlen, "more than %d GPU pairs", WS_MAX_GPUS);
			return -1;
		}
		map->pairs[map->count++] = pair;
	}
	return 0;
}
