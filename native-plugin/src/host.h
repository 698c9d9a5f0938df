/* What the plugin reads from its environment: CRIU's own options and the restored process tree. */
#ifndef WARMSTART_HOST_H
#define WARMSTART_HOST_H

#include <stddef.h>

/* Whether this dump leaves the tree running: WARMSTART_LEAVE_RUNNING=0|1, else CRIU's -R/--leave-running. */
int ws_leave_running(void);

/* Lock timeout: WARMSTART_LOCK_TIMEOUT_MS, else CRIU's --timeout (seconds), else CRIU's default 10 s. */
unsigned int ws_lock_timeout_ms(void);

/* root and all its descendants (via /proc/PID/task/TID/children), at most max; returns the count. */
size_t ws_collect_tree(int root, int *out, size_t max);

#endif
