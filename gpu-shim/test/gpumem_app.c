/*
 * Test workload for the shim over the fake libcuda (native-plugin/test/fake_libcuda.c): reaches the
 * driver the way frameworks do (dlopen + dlsym of cuGetProcAddress, then every function through
 * it; cuMemAlloc_v2 also by plain dlsym), allocates two managed blocks (above the threshold) and
 * one small unmanaged block, fills them with a seeded pattern, then:
 *  - a worker thread reads the first bytes of every block through cuMemcpyDtoH in a loop and
 *    counts ("ticks" file): with memory absent and the gate open it would fault at once;
 *  - when DIR/verify-request appears, the main thread checksums every block (through the driver)
 *    and writes DIR/verify-<n> with the checksum.
 * Built twice: gpumem_app reaches the driver as above; gpumem_app_rt (-DWITH_RUNTIME) allocates
 * through cudaMalloc/cudaFree of a runtime it is linked against (test/fake_cudart.c), as PyTorch does.
 * Either also allocates and frees one more managed block at start, so the free path runs.
 * Usage: gpumem_app DIR [managed_mb ...] — writes DIR/ready ("checksum") when set up.
 */
#include <dlfcn.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef int (*get_proc_fn)(const char *, void **, int, unsigned long long, int *);
typedef int (*alloc_fn)(unsigned long long *, size_t);
typedef int (*free_fn)(unsigned long long);
typedef int (*htod_fn)(unsigned long long, const void *, size_t);
typedef int (*dtoh_fn)(void *, unsigned long long, size_t);
typedef int (*init_fn)(unsigned int);
typedef int (*retain_fn)(void **, int);
typedef int (*setcur_fn)(void *);
typedef int (*launch_fn)(void *, unsigned, unsigned, unsigned, unsigned, unsigned, unsigned, unsigned, void *,
			 void **, void **);
#ifdef WITH_RUNTIME
int cudaMalloc(void **p, size_t size);
int cudaFree(void *p);
#endif

static dtoh_fn dtoh;
static htod_fn htod;
static setcur_fn set_current;
static void *ctx;
static unsigned long long blocks[16];
static size_t sizes[16];
static int nblocks;
static const char *dir;

#define CHECK(call)                                                                      \
	do {                                                                             \
		int r_ = (call);                                                         \
		if (r_) {                                                                \
			fprintf(stderr, "gpumem_app: %s failed: %d\n", #call, r_);       \
			exit(2);                                                         \
		}                                                                        \
	} while (0)

static void *lookup(get_proc_fn gp, const char *name)
{
	void *fn = NULL;
	int status = 0;
	CHECK(gp(name, &fn, 12000, 0, &status));
	return fn;
}

static uint64_t checksum(void)
{
	static unsigned char buf[1 << 20];
	uint64_t h = 1469598103934665603ULL;

	for (int b = 0; b < nblocks; b++) {
		for (size_t off = 0; off < sizes[b]; off += sizeof(buf)) {
			size_t n = sizes[b] - off < sizeof(buf) ? sizes[b] - off : sizeof(buf);
			CHECK(dtoh(buf, blocks[b] + off, n));
			for (size_t i = 0; i < n; i += 8)
				h = (h ^ *(uint64_t *)(buf + i)) * 1099511628211ULL;
		}
	}
	return h;
}

static void write_file(const char *name, const char *text)
{
	char path[512], tmp[520];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "w");
	if (!f)
		exit(3);
	fputs(text, f);
	fclose(f);
	rename(tmp, path);
}

static void *ticker(void *arg)
{
	unsigned char probe[64];
	long ticks = 0;
	char text[64];

	set_current(ctx);
	for (;;) {
		for (int b = 0; b < nblocks; b++)
			CHECK(dtoh(probe, blocks[b], sizeof(probe)));
		snprintf(text, sizeof(text), "%ld\n", ++ticks);
		write_file("ticks", text);
		usleep(2000);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	void *lib = dlopen("libcuda.so.1", RTLD_NOW);
	get_proc_fn gp;
	alloc_fn alloc, alloc_by_name;
	char text[128], path[512];
	pthread_t t;
	int nverify = 0;

	if (argc < 2 || !lib) {
		fprintf(stderr, "usage: gpumem_app DIR [MB...] (libcuda.so.1 on the library path)\n");
		return 1;
	}
	dir = argv[1];
	gp = (get_proc_fn)dlsym(lib, "cuGetProcAddress_v2");
	alloc_by_name = (alloc_fn)dlsym(lib, "cuMemAlloc_v2");
	if (!gp || !alloc_by_name)
		return 1;
	CHECK(((init_fn)lookup(gp, "cuInit"))(0));
	CHECK(((retain_fn)lookup(gp, "cuDevicePrimaryCtxRetain"))(&ctx, 0));
	set_current = (setcur_fn)lookup(gp, "cuCtxSetCurrent");
	CHECK(set_current(ctx));
	{
		/* arguments on the stack reach the driver intact (through the shim's trampoline) */
		unsigned long long got = 0, want = 0x1234;
		unsigned long long v[] = { 7, 8, 9, 10, 11, 12, 13, 0x5151, 0x7777 };
		for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++)
			want = want * 1000003ULL + v[i];
		CHECK(((launch_fn)lookup(gp, "cuLaunchKernel"))((void *)0x1234, 7, 8, 9, 10, 11, 12, 13, (void *)0x5151,
								 (void **)&got, (void **)0x7777));
		if (got != want) {
			fprintf(stderr, "gpumem_app: cuLaunchKernel saw other arguments (%llx, not %llx)\n", got, want);
			return 4;
		}
	}
	alloc = (alloc_fn)lookup(gp, "cuMemAlloc");
	htod = (htod_fn)lookup(gp, "cuMemcpyHtoD");
	dtoh = (dtoh_fn)lookup(gp, "cuMemcpyDtoH");

#ifdef WITH_RUNTIME
	/* managed: by the runtime; then one small block the shim leaves alone */
	(void)alloc;
	(void)alloc_by_name;
	{
		void *p;
		CHECK(cudaMalloc(&p, 12 << 20));
		CHECK(cudaFree(p));
		for (int i = 2; i < argc && nblocks < 15; i++) {
			sizes[nblocks] = (size_t)atol(argv[i]) << 20;
			CHECK(cudaMalloc(&p, sizes[nblocks]));
			blocks[nblocks++] = (unsigned long long)p;
		}
		sizes[nblocks] = 1 << 20;
		CHECK(cudaMalloc(&p, sizes[nblocks]));
		blocks[nblocks++] = (unsigned long long)p;
	}
#else
	/* managed: by cuGetProcAddress and by dlsym; then one small block the shim leaves alone */
	{
		unsigned long long extra;
		CHECK(alloc(&extra, 12 << 20));
		CHECK(((free_fn)lookup(gp, "cuMemFree"))(extra));
	}
	for (int i = 2; i < argc && nblocks < 15; i++) {
		sizes[nblocks] = (size_t)atol(argv[i]) << 20;
		CHECK((nblocks % 2 ? alloc_by_name : alloc)(&blocks[nblocks], sizes[nblocks]));
		nblocks++;
	}
	sizes[nblocks] = 1 << 20;
	CHECK(alloc(&blocks[nblocks], sizes[nblocks]));
	nblocks++;
#endif
	uint64_t x = 42;
	for (int b = 0; b < nblocks; b++) {
		static uint64_t buf[1 << 17];
		for (size_t off = 0; off < sizes[b]; off += sizeof(buf)) {
			for (size_t i = 0; i < sizeof(buf) / 8; i++) {
				x ^= x << 13, x ^= x >> 7, x ^= x << 17; /* xorshift64: a seeded pattern */
				buf[i] = x;
			}
			CHECK(htod(blocks[b] + off, buf, sizes[b] - off < sizeof(buf) ? sizes[b] - off : sizeof(buf)));
		}
	}
	pthread_create(&t, NULL, ticker, NULL);
	snprintf(text, sizeof(text), "%llu\n", (unsigned long long)checksum());
	write_file("ready", text);
	snprintf(path, sizeof(path), "%s/verify-request", dir);
	for (;;) {
		if (access(path, F_OK) == 0) {
			char name[64];
			unlink(path);
			snprintf(text, sizeof(text), "%llu\n", (unsigned long long)checksum());
			snprintf(name, sizeof(name), "verify-%d", ++nverify);
			write_file(name, text);
		}
		usleep(5000);
	}
}
