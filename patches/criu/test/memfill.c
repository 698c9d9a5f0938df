/*
 * Test workload for the parallel page restore patch: memory whose contents are made after start
 * (a seed from the clock), in the shapes the patch must restore exactly:
 *   big VMA     one large anonymous VMA (THP per argv: "thp" MADV_HUGEPAGE, "nothp" MADV_NOHUGEPAGE)
 *   many VMAs   400 small anonymous VMAs with alternating protections (so they never merge)
 *   sparse      a large VMA with only every 8th page written (below the density for huge pages)
 *   cow         with "cow", a child forked after the fill rewrites half of the big VMA's pages, so
 *               parent and child share the other half copy-on-write
 * Each process writes "<pid> <checksum>" to <dir>/before.<role> once ready, and on SIGUSR1
 * recomputes it into <dir>/after.<role>.
 * Usage: memfill DIR MIB thp|nothp [cow]
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define SMALL_VMAS 400
#define PAGE 4096UL

static uint64_t *big, *sparse;
static size_t big_len, sparse_len;
static unsigned char *small[SMALL_VMAS];
static const char *dir, *role;

static uint64_t mix(uint64_t h, const void *p, size_t len)
{
	const uint64_t *w = p;
	for (size_t i = 0; i < len / 8; i++)
		h = (h ^ w[i]) * 0x100000001b3ULL;
	return h;
}

static uint64_t checksum(void)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	h = mix(h, big, big_len);
	h = mix(h, sparse, sparse_len);
	for (int i = 0; i < SMALL_VMAS; i++)
		h = mix(h, small[i], PAGE * (1 + i % 4));
	return h;
}

/* An RW anonymous VMA of len bytes between two PROT_NONE pages, so it never merges with others. */
static void *isolated(size_t len)
{
	char *p = mmap(NULL, len + 2 * PAGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED || mprotect(p + PAGE, len, PROT_READ | PROT_WRITE)) {
		perror("mmap");
		exit(1);
	}
	return p + PAGE;
}

static void report(const char *what)
{
	char path[512], tmp[520];
	snprintf(path, sizeof(path), "%s/%s.%s", dir, what, role);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	FILE *f = fopen(tmp, "w");
	if (!f) { perror(tmp); exit(1); }
	fprintf(f, "%d %016llx\n", getpid(), (unsigned long long)checksum());
	fclose(f);
	rename(tmp, path);
}

int main(int argc, char **argv)
{
	if (argc < 4) { fprintf(stderr, "usage: memfill DIR MIB thp|nothp [cow]\n"); return 2; }
	dir = argv[1];
	big_len = strtoul(argv[2], NULL, 10) << 20;
	int thp = strcmp(argv[3], "thp") == 0;
	int cow = argc > 4 && strcmp(argv[4], "cow") == 0;
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	uint64_t x = (uint64_t)ts.tv_nsec * 2654435761ULL + (uint64_t)ts.tv_sec + 1;

	sparse_len = big_len / 2;
	big = isolated(big_len);
	sparse = isolated(sparse_len);
	madvise(big, big_len, thp ? MADV_HUGEPAGE : MADV_NOHUGEPAGE);
	for (size_t i = 0; i < big_len / 8; i++) {
		x ^= x << 13; x ^= x >> 7; x ^= x << 17;
		big[i] = x;
	}
	for (size_t p = 0; p < sparse_len / PAGE; p += 8)
		sparse[p * PAGE / 8] = x + p;
	for (int i = 0; i < SMALL_VMAS; i++) {
		size_t len = PAGE * (1 + i % 4);
		small[i] = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (small[i] == MAP_FAILED) { perror("mmap small"); return 1; }
		memset(small[i], (int)(x >> (i % 56)) ^ i, len);
		if (i % 2)
			mprotect(small[i], len, PROT_READ); /* neighbours differ, so the kernel keeps 400 VMAs */
	}
	sigset_t usr1;
	sigemptyset(&usr1);
	sigaddset(&usr1, SIGUSR1);
	sigprocmask(SIG_BLOCK, &usr1, NULL); /* taken with sigwaitinfo: no race with a handler */
	role = "parent";
	if (cow) {
		pid_t pid = fork();
		if (pid < 0) { perror("fork"); return 1; }
		if (pid == 0) {
			role = "child";
			for (size_t p = 0; p < big_len / PAGE; p += 2)
				big[p * PAGE / 8] ^= 0x5a5a5a5a5a5a5a5aULL; /* half the pages diverge */
		}
	}
	report("before");
	for (;;) {
		if (sigwaitinfo(&usr1, NULL) == SIGUSR1)
			report("after");
	}
}
