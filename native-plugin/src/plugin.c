/*
 * Warmstart CRIU plugin: checkpoints and restores the CUDA state of a process tree by calling the
 * CUDA driver's checkpoint API (cuCheckpointProcess*) from inside CRIU, once initialised, for all
 * CUDA processes of the tree at once. Disables itself where the host has no usable libcuda, so it is
 * harmless on any host.
 *
 * Environment (set by the Warmstart agent; all optional):
 *   WARMSTART_LIBCUDA          libcuda to load (default libcuda.so.1)
 *   WARMSTART_GPU_REMAP        "GPU-old=GPU-new,..." remap on restore (or WARMSTART_GPU_REMAP_FILE)
 *   WARMSTART_CUDA_REPORT_DIR  where the restore report goes (default: the image directory)
 *   WARMSTART_LEAVE_RUNNING, WARMSTART_LOCK_TIMEOUT_MS  override what is read from CRIU's options
 *   WARMSTART_RESTORE_STAGE    restore: how far it goes (the agent's RestoreStage): PROCESSES or
 *                              GPU_LOCKED leave the GPU state checkpointed (a standby: the agent
 *                              restores it later, locked or for good); RUNNING or unset: all of it
 *   WARMSTART_VERIFY_GATE      restore: hold the tree before it resumes until the agent has verified
 *                              the image (see gate.h); it is killed if the image fails
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <criu/criu-plugin.h>

#include "cuda_driver.h"
#include "gate.h"
#include "host.h"
#include "log.h"
#include "parallel.h"
#include "remap.h"
#include "report.h"

/* Exported by the criu binary (4.2): seize with PTRACE_INTERRUPT only, so one thread can be resumed. */
extern void set_compel_interrupt_only_mode(void) __attribute__((weak));

static struct ws_cuda cuda;
static int enabled;
static int stage_now;
static double cuinit_ms, stage_start_ms;
static struct ws_proc procs[WS_MAX_PROCS];
static size_t nprocs;
static int batch_done;
static struct ws_remap remap;

enum ws_job { JOB_CHECKPOINT, JOB_RESTORE_UNLOCK };

/* A worker's job: its own copy of the process, copied back to origin (see parallel.h). */
struct ws_work {
	struct ws_proc proc;
	struct ws_proc *origin;
	enum ws_job job;
};

static struct ws_proc *find_proc(int pid)
{
	for (size_t i = 0; i < nprocs; i++)
		if (procs[i].pid == pid)
			return &procs[i];
	return NULL;
}

static void fail_proc(struct ws_proc *p, const char *what, ws_curesult r)
{
	char buf[200];

	p->failed = 1;
	snprintf(p->error, sizeof(p->error), "%s of pid %d failed: %s", what, p->pid,
		 ws_cuda_strerror(&cuda, r, buf, sizeof(buf)));
	ws_err("%s\n", p->error);
}

/*
 * Every driver call on a process is bracketed in CRIU's log ("driver call begins/ends"), so that
 * the agent can tell one is in progress and never kills CRIU in the middle of it.
 */
static void call_begins(const char *what, int pid)
{
	ws_info("driver call begins: %s of pid %d\n", what, pid);
}

static void call_ends(const char *what, int pid, ws_curesult r)
{
	ws_info("driver call ends: %s of pid %d (%d)\n", what, pid, r);
}

/* Driver calls only: safe on any thread. */
static void *run_job(void *arg)
{
	struct ws_work *w = arg;
	struct ws_proc *p = &w->proc;
	double t;
	ws_curesult r;

	if (w->job == JOB_CHECKPOINT) {
		struct ws_plain_args args = { { 0 } };
		t = ws_now_ms();
		call_begins("checkpoint", p->pid);
		r = cuda.checkpoint(p->pid, &args);
		call_ends("checkpoint", p->pid, r);
		p->checkpoint_ms = ws_now_ms() - t;
		if (r)
			fail_proc(p, "checkpoint", r);
		else
			p->checkpointed = 1;
		return NULL;
	}
	/* Only a checkpointed process needs its GPU state back; a merely locked one is only unlocked. */
	if (w->job == JOB_RESTORE_UNLOCK && (p->checkpointed || p->initial_state == WS_CUDA_CHECKPOINTED)) {
		ws_debug("driver restore of pid %d\n", p->pid);
		t = ws_now_ms();
		call_begins("restore", p->pid);
		r = ws_cuda_restore(&cuda, p->pid, &remap);
		call_ends("restore", p->pid, r);
		ws_debug("driver restore of pid %d returned %d after %.1f ms\n", p->pid, r, ws_now_ms() - t);
		p->restore_ms = ws_now_ms() - t;
		if (r) {
			fail_proc(p, "restore", r);
			return NULL;
		}
		p->restored = 1;
		p->checkpointed = 0;
	}
	if (stage_now == CR_PLUGIN_STAGE__DUMP && !p->locked_by_us)
		return NULL; /* it was locked before we came: leave it locked */
	{
		struct ws_plain_args args = { { 0 } };
		t = ws_now_ms();
		call_begins("unlock", p->pid);
		r = cuda.unlock(p->pid, &args);
		call_ends("unlock", p->pid, r);
		p->unlock_ms = ws_now_ms() - t;
		p->unlocked_at_ms = ws_now_ms();
		if (r)
			fail_proc(p, "unlock", r);
		else
			p->unlocked = 1;
	}
	return NULL;
}

static void job_timed_out(void *item, int seconds)
{
	struct ws_proc *p = &((struct ws_work *)item)->proc;

	p->failed = 1;
	snprintf(p->error, sizeof(p->error), "driver call for pid %d did not return within %d s", p->pid, seconds);
	ws_err("%s\n", p->error);
}

/*
 * Runs job on every selected process in parallel. The restore threads are resumed and stopped
 * again on this (CRIU's tracer) thread; only the driver calls run on workers.
 */
static int run_parallel(enum ws_job job, int (*selected)(const struct ws_proc *), int need_restore_thread)
{
	static struct ws_work work[WS_MAX_PROCS];
	size_t n = 0;
	int ret = 0;

	for (size_t i = 0; i < nprocs; i++) {
		struct ws_proc *p = &procs[i];
		if (!selected(p))
			continue;
		ws_debug("running restore thread %d of pid %d\n", p->thread.tid, p->pid);
		if (need_restore_thread && ws_thread_run(&p->thread)) {
			p->failed = 1;
			snprintf(p->error, sizeof(p->error), "cannot run the restore thread %d of pid %d", p->thread.tid,
				 p->pid);
			ret = -1;
			continue;
		}
		work[n].proc = *p;
		work[n].origin = p;
		work[n].job = job;
		n++;
	}
	ws_run_parallel(work, n, sizeof(work[0]), run_job, job_timed_out);
	for (size_t i = 0; i < n; i++) {
		struct ws_proc *p = work[i].origin;
		*p = work[i].proc;
		if (need_restore_thread && ws_thread_stop(&p->thread))
			ret = -1;
		if (p->failed)
			ret = -1;
	}
	return ret;
}

static int to_checkpoint(const struct ws_proc *p)
{
	return p->initial_state != WS_CUDA_CHECKPOINTED && !p->checkpointed && !p->failed;
}

static int to_restore(const struct ws_proc *p)
{
	return !p->restored && !p->failed;
}

/* After a failed dump or with --leave-running: what we checkpointed comes back, what we locked is unlocked. */
static int to_give_back(const struct ws_proc *p)
{
	return p->checkpointed || (p->locked_by_us && !p->unlocked);
}

static int image_dir(void)
{
	int fd = criu_get_image_dir();
	return fd >= 0 ? fd : AT_FDCWD;
}

static int report_dir(void)
{
	const char *dir = getenv("WARMSTART_CUDA_REPORT_DIR");
	int fd;

	if (dir && *dir && (fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0)
		return fd;
	return image_dir();
}

/* PAUSE_DEVICES: find the process's restore thread and state, and lock it with CRIU's timeout. */
static int ws_pause_devices(int pid)
{
	struct ws_lock_args args = { 0 };
	struct ws_proc *p;
	int tid, state;
	ws_curesult r;
	double t;

	if (!enabled)
		return -ENOTSUP;
	if (cuda.get_restore_thread_id(pid, &tid) != 0) {
		ws_debug("pid %d is not a CUDA process\n", pid);
		return -ENOTSUP;
	}
	if (nprocs == WS_MAX_PROCS) {
		ws_err("more than %d CUDA processes in the tree\n", WS_MAX_PROCS);
		return -1;
	}
	if ((r = cuda.get_state(pid, &state)) != 0) {
		char buf[160];
		ws_err("cannot read CUDA state of pid %d: %s\n", pid, ws_cuda_strerror(&cuda, r, buf, sizeof(buf)));
		return -1;
	}
	p = &procs[nprocs++];
	memset(p, 0, sizeof(*p));
	p->pid = pid;
	p->thread.tid = tid;
	p->initial_state = state;
	if (state != WS_CUDA_RUNNING) {
		ws_info("pid %d is already %s; left as it is\n", pid, state == WS_CUDA_LOCKED ? "locked" : "checkpointed");
		return 0;
	}
	args.timeout_ms = ws_lock_timeout_ms();
	t = ws_now_ms();
	p->locked_at_ms = t;
	call_begins("lock", pid);
	r = cuda.lock(pid, &args);
	call_ends("lock", pid, r);
	p->lock_ms = ws_now_ms() - t;
	if (r) {
		fail_proc(p, "lock", r);
		return -1;
	}
	p->locked_by_us = 1;
	ws_info("locked pid %d (restore thread %d) in %.1f ms\n", pid, tid, p->lock_ms);
	return 0;
}
CR_PLUGIN_REGISTER_HOOK(CR_PLUGIN_HOOK__PAUSE_DEVICES, ws_pause_devices)

/* CHECKPOINT_DEVICES: on the first call, checkpoint every locked process of the tree at once. */
static int ws_checkpoint_devices(int pid)
{
	struct ws_proc *p;

	if (!enabled || !(p = find_proc(pid)))
		return -ENOTSUP;
	if (!batch_done) {
		batch_done = 1;
		if (run_parallel(JOB_CHECKPOINT, to_checkpoint, 1))
			return -1;
	}
	return p->failed ? -1 : 0;
}
CR_PLUGIN_REGISTER_HOOK(CR_PLUGIN_HOOK__CHECKPOINT_DEVICES, ws_checkpoint_devices)

/* RESUME_DEVICES_LATE, CUDA part: on the first call, restore and unlock every CUDA process of the tree at once. */
static int resume_cuda(int pid)
{
	struct ws_proc *p;

	if (!enabled)
		return -ENOTSUP;
	if (!batch_done) {
		int tree[WS_MAX_PROCS];
		size_t n = ws_collect_tree(pid, tree, WS_MAX_PROCS);
		int ret;

		batch_done = 1;
		ws_info("restoring CUDA state of the tree of pid %d (%zu processes)\n", pid, n);
		for (size_t i = 0; i < n && nprocs < WS_MAX_PROCS; i++) {
			int tid;
			ws_debug("asking the driver for the restore thread of pid %d\n", tree[i]);
			if (cuda.get_restore_thread_id(tree[i], &tid) != 0)
				continue;
			ws_info("pid %d: restore thread %d\n", tree[i], tid);
			p = &procs[nprocs++];
			memset(p, 0, sizeof(*p));
			p->pid = tree[i];
			p->thread.tid = tid;
			/*
			 * A restored CUDA process is checkpointed by construction. Do not ask the driver:
			 * cuCheckpointProcessGetState does not return while CRIU holds the process at
			 * rt_sigreturn (seen on an H100, driver 580).
			 */
			p->initial_state = WS_CUDA_CHECKPOINTED;
		}
		if (getenv("WARMSTART_RESTORE_STAGE") && strcmp(getenv("WARMSTART_RESTORE_STAGE"), "RUNNING")) {
			/* Prepared restore: the processes run on CUDA-checkpointed, holding no GPU memory. */
			ws_info("GPU restore of %zu process(es) deferred to activation\n", nprocs);
			ws_report_write(report_dir(), WS_RESTORE_REPORT, "prepare", 1, cuda.driver_version, cuinit_ms,
					ws_now_ms() - stage_start_ms, procs, nprocs);
			p = find_proc(pid);
			return p ? 0 : -ENOTSUP;
		}
		ret = run_parallel(JOB_RESTORE_UNLOCK, to_restore, 1);
		ws_report_write(report_dir(), WS_RESTORE_REPORT, "restore", ret == 0, cuda.driver_version, cuinit_ms,
				ws_now_ms() - stage_start_ms, procs, nprocs);
		if (ret)
			ws_err("CUDA restore failed; see %s\n", WS_RESTORE_REPORT);
	}
	p = find_proc(pid);
	if (!p)
		return -ENOTSUP;
	return p->failed ? -1 : 0;
}

/*
 * RESUME_DEVICES_LATE: CRIU holds every task stopped until all hooks return. The GPU restore runs
 * first, overlapping the agent's verification of the image; then, on the first call (the root),
 * the integrity gate keeps the tree from running until the image is known good.
 */
static int ws_resume_devices_late(int pid)
{
	static int gate_passed = -1;
	int ret = resume_cuda(pid);

	if (gate_passed < 0)
		gate_passed = ws_gate_wait(pid) == 0;
	return gate_passed ? ret : -1;
}
CR_PLUGIN_REGISTER_HOOK(CR_PLUGIN_HOOK__RESUME_DEVICES_LATE, ws_resume_devices_late)

/* An image holds CUDA state when its dump wrote our report. */
static int image_has_cuda_state(void)
{
	return faccessat(image_dir(), WS_DUMP_REPORT, F_OK, 0) == 0;
}

static int load_remap(char *err, size_t errlen)
{
	const char *spec = getenv("WARMSTART_GPU_REMAP");
	const char *file = getenv("WARMSTART_GPU_REMAP_FILE");
	char buf[4096];

	if ((!spec || !*spec) && file && *file) {
		FILE *f = fopen(file, "r");
		size_t n;
		if (!f) {
			snprintf(err, errlen, "cannot read GPU remap file %s: %s", file, strerror(errno));
			return -1;
		}
		n = fread(buf, 1, sizeof(buf) - 1, f);
		fclose(f);
		buf[n] = '\0';
		spec = buf;
	}
	return ws_parse_remap(spec, &remap, err, errlen);
}

/* init: load libcuda once; without it the plugin stays loaded and does nothing (returns 0). */
static int ws_init(int stage)
{
	char err[512];
	double t;

	stage_now = stage;
	stage_start_ms = ws_now_ms();
	nprocs = 0;
	batch_done = 0;
	enabled = 0;
	if (stage == CR_PLUGIN_STAGE__PRE_DUMP)
		return 0; /* GPU memory cannot be pre-dumped */
	if (stage == CR_PLUGIN_STAGE__RESTORE && !image_has_cuda_state()) {
		ws_info("image holds no CUDA state; plugin idle\n");
		return 0;
	}
	t = ws_now_ms();
	if (ws_cuda_load(&cuda, getenv("WARMSTART_LIBCUDA"), err, sizeof(err))) {
		if (stage == CR_PLUGIN_STAGE__RESTORE) {
			ws_err("the image holds CUDA state but this host cannot restore it: %s\n", err);
			return -1;
		}
		ws_info("%s; plugin disabled\n", err);
		return 0;
	}
	cuinit_ms = ws_now_ms() - t;
	if (stage == CR_PLUGIN_STAGE__RESTORE && load_remap(err, sizeof(err))) {
		ws_err("bad GPU remap: %s\n", err);
		return -1;
	}
	if (set_compel_interrupt_only_mode)
		set_compel_interrupt_only_mode();
	else
		ws_warn("this CRIU does not export set_compel_interrupt_only_mode\n");
	enabled = 1;
	ws_info("enabled (driver %d, cuInit %.1f ms, %zu GPU remap pair(s))\n", cuda.driver_version, cuinit_ms,
		remap.count);
	return 0;
}

/* fini: after a failed dump or with --leave-running, return every touched process to its state. */
static void ws_fini(int stage, int ret)
{
	if (!enabled)
		return;
	if (stage == CR_PLUGIN_STAGE__DUMP) {
		int give_back = ret != 0 || ws_leave_running();
		if (give_back && run_parallel(JOB_RESTORE_UNLOCK, to_give_back, 1))
			ws_err("could not return every CUDA process to its state; see %s\n", WS_DUMP_REPORT);
		if (nprocs > 0 || ret == 0)
			ws_report_write(image_dir(), WS_DUMP_REPORT, "dump", ret == 0, cuda.driver_version, cuinit_ms,
					ws_now_ms() - stage_start_ms, procs, nprocs);
	}
	ws_cuda_unload(&cuda);
	enabled = 0;
}

CR_PLUGIN_REGISTER("warmstart_cuda", ws_init, ws_fini)
