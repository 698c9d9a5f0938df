/* Per-process, per-phase record of what the plugin did, written as JSON for the agent. */
#ifndef WARMSTART_REPORT_H
#define WARMSTART_REPORT_H

#include <stddef.h>

#include "restore_thread.h"

#define WS_MAX_PROCS 256
#define WS_DUMP_REPORT "warmstart-cuda-dump.json"
#define WS_RESTORE_REPORT "warmstart-cuda-restore.json"

struct ws_proc {
	int pid;
	struct ws_held_thread thread;
	int initial_state; /* enum ws_cuda_state at PAUSE (dump) or found at restore */
	int locked_by_us, checkpointed, restored, unlocked;
	double lock_ms, checkpoint_ms, restore_ms, unlock_ms;
	double locked_at_ms, unlocked_at_ms; /* monotonic: when the lock began and the unlock ended */
	int failed;
	char error[256];
};

/* Writes the report atomically as NAME into dirfd. ok: whether the stage succeeded. */
int ws_report_write(int dirfd, const char *name, const char *stage, int ok, int driver_version, double cuinit_ms,
		    double wall_ms, const struct ws_proc *procs, size_t n);

/* Milliseconds on the monotonic clock. */
double ws_now_ms(void);

#endif
