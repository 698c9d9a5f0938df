#!/usr/bin/env python3
"""The plugin inside the real CRIU 4.2 (scripts/install-criu.sh), dumping and restoring real CPU
processes, with the fake libcuda standing in for the GPU driver (no GPU in CI). Needs root."""
import json
import os
import shutil
import subprocess
import tempfile
import time
import ctypes
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
BUILD = os.path.join(HERE, "..", "build")
CRIU = os.environ.get("CRIU", os.path.join(HERE, "..", "..", ".local", "criu", "bin", "criu"))
FAKE = os.path.join(BUILD, "fake", "libcuda.so.1")
APP = os.path.join(BUILD, "fake_cuda_app")
TOOL = os.path.join(BUILD, "warmstart-cuda")
PLUGIN_LIBDIR = BUILD

REASON = None
if os.geteuid() != 0:
    REASON = "needs root (CRIU)"
elif not os.access(CRIU, os.X_OK):
    REASON = "CRIU not installed: run scripts/install-criu.sh"


def children(pid):
    out = []
    for tid in os.listdir(f"/proc/{pid}/task"):
        with open(f"/proc/{pid}/task/{tid}/children") as f:
            out += [int(c) for c in f.read().split()]
    return out


# Dumped processes are reparented to us (a subreaper) and reaped here, so their PIDs free at once.
ctypes.CDLL(None, use_errno=True).prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER


def reap():
    try:
        while os.waitpid(-1, os.WNOHANG)[0] > 0:
            pass
    except ChildProcessError:
        pass


def gone(pid, timeout=10):
    end = time.time() + timeout
    while time.time() < end:
        reap()
        if not os.path.exists(f"/proc/{pid}"):
            return True
        time.sleep(0.02)
    return False


@unittest.skipIf(REASON, REASON)
class PluginWithRealCriu(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="ws-plugin-")
        self.state = os.path.join(self.dir, "state")
        self.work = os.path.join(self.dir, "work")
        self.img = os.path.join(self.dir, "img")
        for d in (self.state, self.work, self.img):
            os.makedirs(d)
        self.log = os.path.join(self.dir, "calls.log")
        self.pids = []

    def tearDown(self):
        for pid in self.pids:
            try:
                os.kill(pid, 9)
            except ProcessLookupError:
                pass
        shutil.rmtree(self.dir, ignore_errors=True)

    def start(self, n):
        p = subprocess.Popen(["setsid", APP, self.work, str(n)], stdin=subprocess.DEVNULL,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.root = p.pid
        end = time.time() + 10
        while len(os.listdir(self.work)) < n and time.time() < end:
            time.sleep(0.02)
        self.pids = [self.root] + children(self.root)
        self.assertEqual(n, len(self.pids))
        self.popen = p
        return self.pids

    def env(self, **extra):
        e = dict(os.environ, WARMSTART_LIBCUDA=FAKE, FAKE_CUDA_STATE=self.state, FAKE_CUDA_LOG=self.log)
        e.update({k: str(v) for k, v in extra.items()})
        return e

    def criu(self, *args, env=None):
        cmd = [CRIU, *args, "-D", self.img, "-v4", "--libdir", PLUGIN_LIBDIR]
        return subprocess.run(cmd, env=env or self.env(), capture_output=True, text=True, timeout=120)

    def dump(self, *extra, env=None):
        return self.criu("dump", "-t", str(self.root), "-o", "dump.log", *extra, env=env)

    def restore(self, env=None):
        for pid in self.pids:
            self.assertTrue(gone(pid), f"pid {pid} still taken")
        pidfile = os.path.join(self.dir, "restored.pid")
        r = self.criu("restore", "-d", "-o", "restore.log", "--pidfile", pidfile, env=env)
        return r

    def calls(self, fn=None):
        if not os.path.exists(self.log):
            return []
        rows = []
        with open(self.log) as f:
            for line in f:
                name, pid, start, end, result, extra = line.split()
                if fn is None or name == fn:
                    rows.append((name, int(pid), int(start), int(end), int(result), extra))
        return rows

    def cuda_state(self, pid):
        path = os.path.join(self.state, str(pid))
        if not os.path.exists(path):
            return 0  # never touched by the driver: running
        with open(path) as f:
            return int(f.read())

    def count(self, pid):
        # The app rewrites its file in place every 50 ms: a read can land between truncate and write.
        path = os.path.join(self.work, f"count-{pid}")
        for _ in range(50):
            with open(path) as f:
                fields = f.read().split()
            if len(fields) == 2:
                return int(fields[1])
            time.sleep(0.01)
        self.fail(f"{path} never held a count")

    def counting(self, pid):
        a = self.count(pid)
        time.sleep(0.3)
        return self.count(pid) > a

    def report(self, name):
        with open(os.path.join(self.img, name)) as f:
            return json.load(f)

    def criu_log(self, name):
        with open(os.path.join(self.img, name)) as f:
            return f.read()

    # --- tests -----------------------------------------------------------------

    def test_inert_without_libcuda(self):
        self.start(1)
        r = self.dump(env=self.env(WARMSTART_LIBCUDA="/nonexistent/libcuda.so.1"))
        self.assertEqual(0, r.returncode, r.stderr)
        self.assertIn("plugin disabled", self.criu_log("dump.log"))
        self.assertFalse(os.path.exists(os.path.join(self.img, "warmstart-cuda-dump.json")))
        r = self.restore(env=self.env(WARMSTART_LIBCUDA="/nonexistent/libcuda.so.1"))
        self.assertEqual(0, r.returncode, r.stderr)
        self.assertIn("image holds no CUDA state", self.criu_log("restore.log"))
        self.assertTrue(self.counting(self.root))
        self.assertEqual([], self.calls())

    def test_dump_and_restore_three_cuda_processes_concurrently(self):
        pids = self.start(3)
        r = self.dump()
        self.assertEqual(0, r.returncode, self.criu_log("dump.log")[-3000:])
        for pid in pids:
            self.assertEqual(2, self.cuda_state(pid), f"pid {pid} checkpointed")
            self.assertEqual(["lock", "checkpoint"],
                             [c[0] for c in self.calls() if c[1] == pid and c[0] in ("lock", "checkpoint", "unlock")])
        self.assertTrue(all(c[5] == "timeoutMs=10000" for c in self.calls("lock")), "CRIU's default timeout")
        dump = self.report("warmstart-cuda-dump.json")
        self.assertTrue(dump["ok"])
        self.assertEqual(sorted(pids), sorted(p["pid"] for p in dump["processes"]))

        r = self.restore(env=self.env(FAKE_CUDA_DELAY_MS=400))
        self.assertEqual(0, r.returncode, self.criu_log("restore.log")[-3000:])
        restores = self.calls("restore")
        self.assertEqual(sorted(pids), sorted(c[1] for c in restores))
        self.assertLess(max(c[2] for c in restores), min(c[3] for c in restores),
                        "the three 400 ms restores overlap in time: they ran concurrently")
        for pid in pids:
            self.assertEqual(0, self.cuda_state(pid), f"pid {pid} running again")
            self.assertTrue(self.counting(pid), f"pid {pid} counts on after restore")
        rep = self.report("warmstart-cuda-restore.json")
        self.assertTrue(rep["ok"])
        self.assertEqual(3, len(rep["processes"]))
        self.assertTrue(all(p["restoreMs"] >= 390 for p in rep["processes"]))

    def test_lock_timeout_fails_dump_and_unlocks_everything(self):
        pids = self.start(3)
        victim = pids[2]
        r = self.dump(env=self.env(FAKE_CUDA_FAIL=f"lock:{victim}"))
        self.assertNotEqual(0, r.returncode)
        self.assertIn("lock of pid %d failed" % victim, self.criu_log("dump.log"))
        for pid in pids:
            self.assertEqual(0, self.cuda_state(pid), f"pid {pid} left running (unlocked)")
            self.assertTrue(self.counting(pid), f"pid {pid} still runs after the failed dump")
        self.assertEqual([], self.calls("checkpoint"))
        locked = [c[1] for c in self.calls("lock") if c[4] == 0]
        self.assertEqual(sorted(locked), sorted(c[1] for c in self.calls("unlock")))

    def test_checkpoint_error_fails_dump_and_resumes_processes(self):
        pids = self.start(2)
        r = self.dump(env=self.env(FAKE_CUDA_FAIL=f"checkpoint:{pids[1]}"))
        self.assertNotEqual(0, r.returncode)
        self.assertIn("checkpoint of pid %d failed" % pids[1], self.criu_log("dump.log"))
        for pid in pids:
            self.assertEqual(0, self.cuda_state(pid), f"pid {pid} back to running")
            self.assertTrue(self.counting(pid))
        self.assertEqual([pids[0]], [c[1] for c in self.calls("restore")], "only the checkpointed one is restored")
        rep = self.report("warmstart-cuda-dump.json")
        self.assertFalse(rep["ok"])

    def test_restore_error_leaves_a_failure_record(self):
        pids = self.start(2)
        self.assertEqual(0, self.dump().returncode)
        r = self.restore(env=self.env(FAKE_CUDA_FAIL=f"restore:{pids[1]}"))
        self.assertEqual(0, r.returncode, "CRIU ignores a failing RESUME_DEVICES_LATE")
        rep = self.report("warmstart-cuda-restore.json")
        self.assertFalse(rep["ok"])
        failed = [p for p in rep["processes"] if not p["ok"]]
        self.assertEqual([pids[1]], [p["pid"] for p in failed])
        self.assertIn("restore of pid %d failed: error 999: fake: injected failure" % pids[1], failed[0]["error"])

    def test_leave_running_returns_processes_to_running(self):
        pids = self.start(2)
        r = self.dump("--leave-running")
        self.assertEqual(0, r.returncode, self.criu_log("dump.log")[-2000:])
        for pid in pids:
            self.assertEqual(0, self.cuda_state(pid))
            self.assertTrue(self.counting(pid))
        self.assertEqual(sorted(pids), sorted(c[1] for c in self.calls("restore")))

    def test_gpu_remap_is_passed_to_the_driver(self):
        self.start(1)
        self.assertEqual(0, self.dump().returncode)
        new = "GPU-ffffffff-0000-1111-2222-333344445555"
        r = self.restore(env=self.env(WARMSTART_GPU_REMAP="GPU-0b8a3c1e-1f2d-4e5f-8a9b-0c1d2e3f4a5b=" + new))
        self.assertEqual(0, r.returncode)
        self.assertEqual(["pairs=1:ffffffff000011112222333344445555"], [c[5] for c in self.calls("restore")])

    def test_gpu_remap_from_a_file(self):
        self.start(1)
        self.assertEqual(0, self.dump().returncode)
        remap = os.path.join(self.dir, "remap")
        with open(remap, "w") as f:
            f.write("GPU-0b8a3c1e-1f2d-4e5f-8a9b-0c1d2e3f4a5b=GPU-12345678-9abc-def0-1234-56789abcdef0\n")
        r = self.restore(env=self.env(WARMSTART_GPU_REMAP_FILE=remap))
        self.assertEqual(0, r.returncode)
        self.assertEqual(["pairs=1:123456789abcdef0123456789abcdef0"], [c[5] for c in self.calls("restore")])

    def test_restore_stage_running_restores_the_gpu_state(self):
        pids = self.start(2)
        self.assertEqual(0, self.dump().returncode)
        r = self.restore(env=self.env(WARMSTART_RESTORE_STAGE="RUNNING"))
        self.assertEqual(0, r.returncode)
        self.assertEqual(sorted(pids), sorted(c[1] for c in self.calls("restore")))
        self.assertEqual("restore", self.report("warmstart-cuda-restore.json")["stage"])

    def test_gpu_locked_stage_leaves_gpu_state_to_the_agent(self):
        self.start(1)
        self.assertEqual(0, self.dump().returncode)
        r = self.restore(env=self.env(WARMSTART_RESTORE_STAGE="GPU_LOCKED"))
        self.assertEqual(0, r.returncode)
        self.assertEqual([], self.calls("restore"), "the agent restores a Hot standby's GPU memory")
        self.assertEqual("prepare", self.report("warmstart-cuda-restore.json")["stage"])

    def test_deferred_restore_leaves_gpu_state_checkpointed(self):
        pids = self.start(2)
        self.assertEqual(0, self.dump().returncode)
        r = self.restore(env=self.env(WARMSTART_RESTORE_STAGE="PROCESSES"))
        self.assertEqual(0, r.returncode)
        self.assertEqual([], self.calls("restore"), "no driver restore on a prepared restore")
        for pid in pids:
            self.assertEqual(2, self.cuda_state(pid), "still checkpointed, holding no GPU memory")
        rep = self.report("warmstart-cuda-restore.json")
        self.assertEqual("prepare", rep["stage"])
        self.assertEqual(sorted(pids), sorted(p["pid"] for p in rep["processes"]))

    def restore_behind_gate(self, verdict):
        """A restore with the integrity gate; the test answers the plugin's request with verdict."""
        gate = os.path.join(self.dir, "verify")
        verdicts = []

        def answer():
            end = time.time() + 60
            while not os.path.exists(gate + ".request") and time.time() < end:
                time.sleep(0.005)
            # The tree must be held: no process of it may run while the verdict is pending.
            verdicts.append([self.state_of(pid) for pid in self.pids])
            open(f"{gate}.{verdict}", "w").close()

        import threading
        t = threading.Thread(target=answer)
        t.start()
        r = self.restore(env=self.env(WARMSTART_VERIFY_GATE=gate))
        t.join()
        return r, verdicts[0] if verdicts else None

    @staticmethod
    def state_of(pid):
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0]

    def test_gate_holds_the_tree_until_verified_then_it_runs(self):
        pids = self.start(2)
        self.assertEqual(0, self.dump().returncode)
        r, held = self.restore_behind_gate("ok")
        self.assertEqual(0, r.returncode, r.stderr)
        self.assertEqual(["t"] * len(pids), [s.lower() for s in held], "stopped while waiting")
        for pid in pids:
            self.assertTrue(self.counting(pid), f"{pid} runs once verified")
        self.assertIn("image verified", self.criu_log("restore.log"))

    def test_gate_kills_the_tree_of_an_image_that_failed_verification(self):
        pids = self.start(2)
        self.assertEqual(0, self.dump().returncode)
        counts = {pid: self.count(pid) for pid in pids}  # the last counts before the freeze
        r, _ = self.restore_behind_gate("failed")
        self.assertNotEqual(0, r.returncode, "a tree that failed verification is not restored")
        for pid in pids:
            self.assertTrue(gone(pid), f"{pid} was killed before it ran")
            self.assertEqual(counts[pid], self.count(pid), f"{pid} never counted after restore")
        self.assertIn("failed verification", self.criu_log("restore.log"))

    def test_bad_remap_fails_the_restore_clearly(self):
        self.start(1)
        self.assertEqual(0, self.dump().returncode)
        r = self.restore(env=self.env(WARMSTART_GPU_REMAP="GPU-nonsense"))
        self.assertNotEqual(0, r.returncode)
        self.assertIn("bad GPU remap", self.criu_log("restore.log"))

    def test_image_with_cuda_state_refuses_a_host_without_driver(self):
        self.start(1)
        self.assertEqual(0, self.dump().returncode)
        r = self.restore(env=self.env(FAKE_CUDA_FAIL="init"))
        self.assertNotEqual(0, r.returncode)
        self.assertIn("the image holds CUDA state but this host cannot restore it", self.criu_log("restore.log"))


    # --- warmstart-cuda: the staged restore's half, the same C code in a fresh process ------------------
    def prepared(self, n):
        """n processes dumped and restored with their GPU state left checkpointed (a Warm standby)."""
        pids = self.start(n)
        self.assertEqual(0, self.dump().returncode)
        self.assertEqual(0, self.restore(env=self.env(WARMSTART_RESTORE_STAGE="PROCESSES")).returncode)
        return pids

    def tool(self, *args, **env):
        t = time.time()
        r = subprocess.run([TOOL, *args], env=self.env(**env), capture_output=True, text=True, timeout=60)
        return r, time.time() - t

    def test_tool_restores_and_unlocks_every_process_in_parallel(self):
        pids = self.prepared(3)
        r, took = self.tool("activate", *map(str, pids), FAKE_CUDA_DELAY_MS=600)
        self.assertEqual(0, r.returncode, r.stdout + r.stderr)
        answer = json.loads(r.stdout)
        self.assertEqual({(p, "CHECKPOINTED", "RUNNING") for p in pids},
                         {(p["pid"], p["initial"], p["state"]) for p in answer["processes"]})
        for pid in pids:
            self.assertEqual(0, self.cuda_state(pid))
        restores = self.calls("restore")
        self.assertEqual(sorted(pids), sorted(c[1] for c in restores))
        self.assertLess(max(c[2] for c in restores), min(c[3] for c in restores), "the restores overlap")
        self.assertLess(took, 1.5, "three 0.6 s restores in parallel, not one after another")

    def test_tool_keeps_a_hot_standby_locked_then_only_unlocks_it(self):
        pids = self.prepared(2)
        r, _ = self.tool("activate", "--keep-locked", *map(str, pids))
        self.assertEqual(0, r.returncode, r.stdout + r.stderr)
        for pid in pids:
            self.assertEqual(1, self.cuda_state(pid), "GPU memory back, still locked")
        r, _ = self.tool("activate", *map(str, pids))
        self.assertEqual(0, r.returncode, r.stdout + r.stderr)
        self.assertEqual(len(pids), len(self.calls("restore")), "no second copy of the GPU memory")
        for pid in pids:
            self.assertEqual(0, self.cuda_state(pid))

    def test_tool_bounds_driver_calls_that_never_return_by_one_deadline(self):
        pids = self.prepared(3)
        r, took = self.tool("activate", *map(str, pids), FAKE_CUDA_DELAY_MS=20000, WARMSTART_DRIVER_TIMEOUT_S=1)
        self.assertEqual(1, r.returncode)
        for p in json.loads(r.stdout)["processes"]:
            self.assertIn("did not return within 1 s", p["error"])
        # The calls run at once, so they share one deadline: not one second more per process.
        self.assertLess(took, 2.5)

if __name__ == "__main__":
    unittest.main(verbosity=2)
