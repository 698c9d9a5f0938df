/*
 * A process that changes its container's root filesystem the way inference servers do (see
 * WritableLayerIT): it maps a cache file it created (MAP_SHARED, a counter kept in the file), holds
 * an unlinked temp file open, and appends to a log. With "volume" it also rewrites a file on /data
 * in place (not O_APPEND). Every 200 ms it prints one line:
 *   tick <n> map=<counter in the mapped file> tmp=<ok|bad> pid=<pid>
 * Built static by the test, so it runs on the busybox rootfs.
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define SECRET "held open after unlink"

int main(int argc, char **argv)
{
	int volume = argc > 1 && strcmp(argv[1], "volume") == 0;
	mkdir("/cache", 0755);
	int cache = open("/cache/kernels.bin", O_RDWR | O_CREAT | O_TRUNC, 0644);
	if (cache < 0 || ftruncate(cache, 65536) < 0)
		return perror("cache"), 1;
	long *map = mmap(NULL, 65536, PROT_READ | PROT_WRITE, MAP_SHARED, cache, 0);
	if (map == MAP_FAILED)
		return perror("mmap"), 1;
	close(cache); /* only the mapping keeps it */

	int tmp = open("/tmp/scratch", O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (tmp < 0 || write(tmp, SECRET, sizeof(SECRET)) != sizeof(SECRET) || unlink("/tmp/scratch"))
		return perror("tmp"), 1;

	mkdir("/var", 0755);
	mkdir("/var/log", 0755);
	int log = open("/var/log/app.log", O_WRONLY | O_APPEND | O_CREAT, 0644);
	if (log < 0)
		return perror("log"), 1;
	int vol = -1;
	if (volume && (vol = open("/data/state", O_RDWR | O_CREAT | O_TRUNC, 0644)) < 0)
		return perror("volume"), 1;

	setvbuf(stdout, NULL, _IOLBF, 0);
	for (long n = 1;; n++) {
		map[0]++;
		char buf[64];
		ssize_t r = pread(tmp, buf, sizeof(buf), 0);
		int ok = r == sizeof(SECRET) && memcmp(buf, SECRET, sizeof(SECRET)) == 0;
		dprintf(log, "tick %ld\n", n);
		if (vol >= 0)
			dprintf(vol, "%ld\n", n); /* grows a rewritten (not appended) file */
		printf("tick %ld map=%ld tmp=%s pid=%d\n", n, map[0], ok ? "ok" : "bad", getpid());
		usleep(200000);
	}
}
