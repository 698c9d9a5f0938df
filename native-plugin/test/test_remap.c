/* Host unit tests for the GPU UUID remap parser. */
#include <stdio.h>
#include <string.h>

#include "remap.h"
#include "check.h"

#define A "GPU-0b8a3c1e-1f2d-4e5f-8a9b-0c1d2e3f4a5b"
#define B "GPU-ffffffff-0000-1111-2222-333344445555"
#define C "GPU-12345678-9abc-def0-1234-56789abcdef0"

int main(void)
{
	unsigned char u[WS_UUID_LEN];
	struct ws_remap map;
	char err[256] = "";

	CHECK(ws_parse_uuid(A, u) == 0);
	CHECK(u[0] == 0x0b && u[1] == 0x8a && u[15] == 0x5b);
	CHECK(ws_parse_uuid("GPU-0B8A3C1E-1F2D-4E5F-8A9B-0C1D2E3F4A5B", u) == 0 && u[0] == 0x0b);
	CHECK(ws_parse_uuid("0b8a3c1e-1f2d-4e5f-8a9b-0c1d2e3f4a5b", u) == -1);
	CHECK(ws_parse_uuid("GPU-0b8a3c1e-1f2d-4e5f-8a9b-0c1d2e3f4a5", u) == -1);
	CHECK(ws_parse_uuid("GPU-0b8a3c1e-1f2d-4e5f-8a9b-0c1d2e3f4a5bb", u) == -1);
	CHECK(ws_parse_uuid("GPU-0b8a3c1e1f2d-4e5f-8a9b-0c1d2e3f4a5b", u) == -1);
	CHECK(ws_parse_uuid("GPU-zb8a3c1e-1f2d-4e5f-8a9b-0c1d2e3f4a5b", u) == -1);

	CHECK(ws_parse_remap(NULL, &map, err, sizeof(err)) == 0 && map.count == 0);
	CHECK(ws_parse_remap("", &map, err, sizeof(err)) == 0 && map.count == 0);
	CHECK(ws_parse_remap(A "=" B, &map, err, sizeof(err)) == 0 && map.count == 1);
	CHECK(map.pairs[0].to[0] == 0xff && map.pairs[0].from[0] == 0x0b);
	CHECK(ws_parse_remap(A "=" B ",\n" B "=" A, &map, err, sizeof(err)) == 0 && map.count == 2);
	CHECK(ws_parse_remap(A "=" B "," A "=" C, &map, err, sizeof(err)) == -1);
	CHECK(strstr(err, "mapped twice") != NULL);
	CHECK(ws_parse_remap(A "=" B "," C "=" B, &map, err, sizeof(err)) == -1);
	CHECK(ws_parse_remap(A, &map, err, sizeof(err)) == -1 && strstr(err, "not FROM=TO"));
	CHECK(ws_parse_remap(A "=GPU-1", &map, err, sizeof(err)) == -1 && strstr(err, "GPU-<uuid>"));

	if (failures) {
		fprintf(stderr, "%d check(s) failed\n", failures);
		return 1;
	}
	printf("test_remap: all checks passed\n");
	return 0;
}
