/* Host unit tests for the parallel runner's deadline and its claim on late results. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "parallel.h"
#include "check.h"

struct item {
	int sleep_ms;
	char text[64];
};

static void *work(void *arg)
{
	struct item *it = arg;
	usleep(it->sleep_ms * 1000);
	snprintf(it->text, sizeof(it->text), "returned after %d ms", it->sleep_ms);
	return NULL;
}

static void gave_up(void *arg, int seconds)
{
	struct item *it = arg;
	snprintf(it->text, sizeof(it->text), "gave up after %d s", seconds);
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(void)
{
	struct item items[4] = { { 10, "" }, { 1500, "" }, { 1500, "" }, { 20, "" } };
	double t;

	setenv("WARMSTART_DRIVER_TIMEOUT_S", "1", 1);
	t = now_s();
	ws_run_parallel(items, 4, sizeof(items[0]), work, gave_up);
	t = now_s() - t;
	CHECK(t < 1.4); /* two late calls cost one deadline, not two */
	CHECK(!strcmp(items[0].text, "returned after 10 ms"));
	CHECK(!strcmp(items[3].text, "returned after 20 ms"));
	CHECK(!strcmp(items[1].text, "gave up after 1 s"));
	CHECK(!strcmp(items[2].text, "gave up after 1 s"));
	usleep(1000 * 1000); /* the late calls return now: what they write must not reach the items */
	CHECK(!strcmp(items[1].text, "gave up after 1 s"));
	CHECK(!strcmp(items[2].text, "gave up after 1 s"));
	if (failures)
		return 1;
	printf("test_parallel: OK\n");
	return 0;
}
