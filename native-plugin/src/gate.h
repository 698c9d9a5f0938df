/* The integrity gate: a restored tree is held before it resumes until the agent has verified the image. */
#ifndef WARMSTART_GATE_H
#define WARMSTART_GATE_H

/*
 * With WARMSTART_VERIFY_GATE=PREFIX set: creates PREFIX.request, then waits (at most
 * WARMSTART_VERIFY_TIMEOUT_S, default 600 s) for the agent to create PREFIX.ok or PREFIX.failed.
 * Returns 0 when the image was verified (or no gate was asked for); otherwise kills every process
 * of root's tree (still stopped by CRIU, so none of it has run) and returns -1.
 */
int ws_gate_wait(int root);

#endif
