/*
 * Test workload for the AMX permission patch: asks the kernel for AMX tile data
 * (arch_prctl ARCH_REQ_XCOMP_PERM, XTILEDATA), then runs a tile instruction every 50 ms and writes
 * how many it ran to argv[1]. Without the permission a tile instruction dies with SIGILL.
 * Exits 77 where the CPU or kernel has no AMX.
 */
#define _GNU_SOURCE
#include <immintrin.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#define ARCH_GET_XCOMP_SUPP 0x1021
#define ARCH_REQ_XCOMP_PERM 0x1023
#define XFEATURE_XTILEDATA 18

struct tile_config {
	uint8_t palette_id;
	uint8_t start_row;
	uint8_t reserved[14];
	uint16_t colsb[16];
	uint8_t rows[16];
} __attribute__((packed, aligned(64)));

int main(int argc, char **argv)
{
	unsigned long supported = 0;
	struct tile_config cfg;

	if (argc < 2)
		return 2;
	if (syscall(SYS_arch_prctl, ARCH_GET_XCOMP_SUPP, &supported) || !(supported & (1UL << XFEATURE_XTILEDATA))) {
		fprintf(stderr, "no AMX on this CPU or kernel\n");
		return 77;
	}
	if (syscall(SYS_arch_prctl, ARCH_REQ_XCOMP_PERM, XFEATURE_XTILEDATA)) {
		perror("ARCH_REQ_XCOMP_PERM");
		return 1;
	}
	memset(&cfg, 0, sizeof(cfg));
	cfg.palette_id = 1;
	cfg.colsb[0] = 64;
	cfg.rows[0] = 16;
	for (long n = 1;; n++) {
		_tile_loadconfig(&cfg);
		_tile_zero(0);
		_tile_release(); /* the tile state is back to init: only the permission carries over */
		FILE *f = fopen(argv[1], "w");
		if (f) {
			fprintf(f, "%ld\n", n);
			fclose(f);
		}
		usleep(50000);
	}
}
