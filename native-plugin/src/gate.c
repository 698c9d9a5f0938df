#include "gate.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "host.h"
#include "log.h"
#include "report.h"

#define WS_GATE_MAX_TREE 4096

static int exists(const char *prefix, const char *suffix)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s.%s", prefix, suffix);
	return access(path, F_OK) == 0;
}

static void kill_tree(int root)
{
	static int tree[WS_GATE_MAX_TREE];
	size_t n = ws_collect_tree(root, tree, WS_GATE_MAX_TREE);

	for (size_t i = 0; i < n; i++)
		kill(tree[i], SIGKILL);
}

int ws_gate_wait(int root)
{
	const char *prefix = getenv("WARMSTART_VERIFY_GATE");
	const char *limit = getenv("WARMSTART_VERIFY_TIMEOUT_S");
	char path[PATH_MAX];
	double start = ws_now_ms(), waited;
	long timeout_ms = (limit && atol(limit) > 0 ? atol(limit) : 600) * 1000L;
	struct timespec tick = { 0, 1000000 }; /* 1 ms: the gate is on the restore's critical path */
	int fd;

	if (!prefix || !*prefix)
		return 0;
	snprintf(path, sizeof(path), "%s.request", prefix);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		ws_err("cannot ask for the image verification (%s): %s; killing the tree\n", path, strerror(errno));
		kill_tree(root);
		return -1;
	}
	close(fd);
	for (;;) {
		if (exists(prefix, "ok")) {
			waited = ws_now_ms() - start;
			ws_info("image verified; the tree was held %.1f ms for it\n", waited);
			return 0;
		}
		if (exists(prefix, "failed"))
			break;
		if (ws_now_ms() - start > timeout_ms) {
			ws_err("no verification verdict within %ld s\n", timeout_ms / 1000);
			break;
		}
		nanosleep(&tick, NULL);
	}
	ws_err("the image failed verification: killing the restored tree of pid %d before it runs\n", root);
	kill_tree(root);
	return -1;
}
