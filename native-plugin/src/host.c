#include "host.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Calls fn for each argument of this process's command line until it returns non-zero. */
static int each_arg(int (*fn)(const char *arg, const char *next, void *data), void *data)
{
	static char buf[16384];
	FILE *f = fopen("/proc/self/cmdline", "r");
	size_t n;
	int ret = 0;

	if (!f)
		return 0;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	for (size_t i = 0; i < n && !ret;) {
		const char *arg = buf + i;
		size_t len = strlen(arg);
		const char *next = i + len + 1 < n ? arg + len + 1 : NULL;
		ret = fn(arg, next, data);
		i += len + 1;
	}
	return ret;
}

static int is_leave_running(const char *arg, const char *next, void *data)
{
	return !strcmp(arg, "-R") || !strcmp(arg, "--leave-running");
}

int ws_leave_running(void)
{
	const char *env = getenv("WARMSTART_LEAVE_RUNNING");

	if (env && *env)
		return strcmp(env, "0") != 0;
	return each_arg(is_leave_running, NULL);
}

static int timeout_arg(const char *arg, const char *next, void *data)
{
	if (!strcmp(arg, "--timeout") && next) {
		*(long *)data = strtol(next, NULL, 10);
		return 1;
	}
	if (!strncmp(arg, "--timeout=", 10)) {
		*(long *)data = strtol(arg + 10, NULL, 10);
		return 1;
	}
	return 0;
}

unsigned int ws_lock_timeout_ms(void)
{
	const char *env = getenv("WARMSTART_LOCK_TIMEOUT_MS");
	long seconds = 10;

	if (env && *env)
		return (unsigned int)strtoul(env, NULL, 10);
	each_arg(timeout_arg, &seconds);
	return seconds > 0 ? (unsigned int)(seconds * 1000) : 10000;
}

static size_t add_children(int pid, int *out, size_t n, size_t max)
{
	char path[64];
	DIR *tasks;
	struct dirent *t;

	snprintf(path, sizeof(path), "/proc/%d/task", pid);
	tasks = opendir(path);
	if (!tasks)
		return n;
	while ((t = readdir(tasks)) && n < max) {
		char cpath[320];
		FILE *f;
		int child;

		if (t->d_name[0] == '.')
			continue;
		snprintf(cpath, sizeof(cpath), "/proc/%d/task/%s/children", pid, t->d_name);
		f = fopen(cpath, "r");
		if (!f)
			continue;
		while (n < max && fscanf(f, "%d", &child) == 1) {
			out[n++] = child;
			n = add_children(child, out, n, max);
		}
		fclose(f);
	}
	closedir(tasks);
	return n;
}

size_t ws_collect_tree(int root, int *out, size_t max)
{
	if (max == 0)
		return 0;
	out[0] = root;
	return add_children(root, out, 1, max);
}
