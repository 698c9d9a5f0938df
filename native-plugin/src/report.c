#include "report.h"

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cuda_driver.h"
#include "log.h"

double ws_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static const char *state_name(int s)
{
	switch (s) {
	case WS_CUDA_RUNNING:
		return "running";
	case WS_CUDA_LOCKED:
		return "locked";
	case WS_CUDA_CHECKPOINTED:
		return "checkpointed";
	default:
		return "failed";
	}
}

static void json_string(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

int ws_report_write(int dirfd, const char *name, const char *stage, int ok, int driver_version, double cuinit_ms,
		    double wall_ms, const struct ws_proc *procs, size_t n)
{
	char tmp[128];
	FILE *f;
	int fd;

	snprintf(tmp, sizeof(tmp), ".%s.tmp", name);
	fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || !(f = fdopen(fd, "w"))) {
		ws_err("cannot write %s: %m\n", name);
		if (fd >= 0)
			close(fd);
		return -1;
	}
	fprintf(f, "{\n  \"stage\": \"%s\",\n  \"ok\": %s,\n  \"driverVersion\": %d,\n", stage, ok ? "true" : "false",
		driver_version);
	{
		/* The workload's CUDA work waits from the first lock to the last unlock (a leave-running dump). */
		double first = 0, last = 0;
		for (size_t i = 0; i < n; i++) {
			if (procs[i].locked_at_ms > 0 && (first == 0 || procs[i].locked_at_ms < first))
				first = procs[i].locked_at_ms;
			if (procs[i].unlocked_at_ms > last)
				last = procs[i].unlocked_at_ms;
		}
		fprintf(f, "  \"frozenMs\": %.3f,\n", first > 0 && last > first ? last - first : 0.0);
	}
	fprintf(f, "  \"cuInitMs\": %.3f,\n  \"wallMs\": %.3f,\n  \"processes\": [", cuinit_ms, wall_ms);
	for (size_t i = 0; i < n; i++) {
		const struct ws_proc *p = &procs[i];
		fprintf(f, "%s\n    {\"pid\": %d, \"restoreTid\": %d, \"initialState\": \"%s\", ", i ? "," : "", p->pid,
			p->thread.tid, state_name(p->initial_state));
		fprintf(f, "\"lockMs\": %.3f, \"checkpointMs\": %.3f, \"restoreMs\": %.3f, \"unlockMs\": %.3f, ",
			p->lock_ms, p->checkpoint_ms, p->restore_ms, p->unlock_ms);
		fprintf(f, "\"ok\": %s, \"error\": ", p->failed ? "false" : "true");
		if (p->failed)
			json_string(f, p->error);
		else
			fputs("null", f);
		fputc('}', f);
	}
	fprintf(f, "%s]\n}\n", n ? "\n  " : "");
	if (fflush(f) || fsync(fileno(f))) {
		ws_err("cannot write %s: %m\n", name);
		fclose(f);
		return -1;
	}
	fclose(f);
	if (renameat(dirfd, tmp, dirfd, name)) {
		ws_err("cannot rename %s: %m\n", name);
		return -1;
	}
	return 0;
}
