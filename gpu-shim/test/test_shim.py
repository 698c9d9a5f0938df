#!/usr/bin/env python3
"""The GPU memory shim inside a real CPU process, over the fake libcuda (native-plugin/test/
fake_libcuda.c: device memory is host memory, the virtual memory API reserves PROT_NONE ranges and
backs them with memfds), driven over its control socket as the agent drives it, and dumped and
restored by the real CRIU 4.2 (scripts/install-criu.sh). No GPU: what a real driver does with
the same calls is for the GPU scripts (bench/gpu-restore.sh). The CRIU tests need root."""
import ctypes
import hashlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
BUILD = os.path.join(HERE, "..", "build")
SHIM = os.path.join(BUILD, "libwarmstart_gpumem.so")
FAKE_DIR = os.path.join(BUILD, "fake")
APP = os.path.join(BUILD, "gpumem_app")
APP_RT = os.path.join(BUILD, "gpumem_app_rt")
CRIU = os.environ.get("CRIU", os.path.join(HERE, "..", "..", ".local", "criu", "bin", "criu"))
MIB = 1 << 20

NO_CRIU = None
if os.geteuid() != 0:
    NO_CRIU = "needs root (CRIU)"
elif not os.access(CRIU, os.X_OK):
    NO_CRIU = "CRIU not installed: run scripts/install-criu.sh"

# Dumped processes are reparented to us (a subreaper) and reaped here, so their PIDs free at once.
ctypes.CDLL(None, use_errno=True).prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER


def reap():
    try:
        while os.waitpid(-1, os.WNOHANG)[0] > 0:
            pass
    except ChildProcessError:
        pass


def wait_for(cond, timeout=10, what="condition"):
    end = time.time() + timeout
    while time.time() < end:
        v = cond()
        if v:
            return v
        time.sleep(0.01)
    raise AssertionError(f"timed out waiting for {what}")


class ShimTest(unittest.TestCase):
    managed_mb = (24, 40)
    app = APP

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="ws-shim-")
        self.work = os.path.join(self.dir, "work")
        self.sockdir = os.path.join(self.dir, "sock")
        self.payload = os.path.join(self.dir, "payload")
        self.oom = os.path.join(self.dir, "oom")
        self.hang = os.path.join(self.dir, "hang")
        self.slow = os.path.join(self.dir, "slow")
        for d in (self.work, self.payload):
            os.makedirs(d)
        self.pid = None

    def tearDown(self):
        if self.pid:
            try:
                os.kill(self.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            reap()
        if getattr(self, "popen", None):
            self.popen.wait()
            self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    def start(self, **env):
        e = dict(os.environ, LD_PRELOAD=SHIM, LD_LIBRARY_PATH=FAKE_DIR, WARMSTART_GPUMEM_MIN_MB="8",
                 WARMSTART_GPUMEM_DIR=self.sockdir, WARMSTART_GPUMEM_CHUNK_MB="4",
                 FAKE_CUDA_OOM_FILE=self.oom, FAKE_CUDA_STATE=self.dir,
                 FAKE_CUDA_HANG_FILE=self.hang, FAKE_CUDA_SLOW_FILE=self.slow)
        e.update(env)
        self.log = open(os.path.join(self.dir, "app.log"), "w")
        p = subprocess.Popen(["setsid", self.app, self.work, *map(str, self.managed_mb)], env=e,
                             stdin=subprocess.DEVNULL, stdout=self.log, stderr=self.log)
        self.pid = p.pid
        self.popen = p
        self.ready = wait_for(lambda: self.read("ready"), 60, "the app to be ready")
        self.sock = os.path.join(self.sockdir, f"warmstart-gpumem-{self.pid}.sock")
        self.assertTrue(os.path.exists(self.sock), "the shim listens once it manages memory")

    def read(self, name):
        try:
            with open(os.path.join(self.work, name)) as f:
                return f.read().strip() or None
        except FileNotFoundError:
            return None

    def ticks(self):
        return int(self.read("ticks") or 0)

    def ticking(self, timeout=5):
        t = self.ticks()
        wait_for(lambda: self.ticks() > t + 3, timeout, "the app's driver calls to go on")

    def still(self, seconds=0.3):
        t = self.ticks()
        time.sleep(seconds)
        return self.ticks() == t

    def verify(self):
        n = len([f for f in os.listdir(self.work) if f.startswith("verify-") and not f.endswith(".tmp")])
        open(os.path.join(self.work, "verify-request"), "w").close()
        return wait_for(lambda: self.read(f"verify-{n + 1}"), what="the app's checksum")

    def ctl(self, cmd, fds=(), path=None):
        """One request with fds passed along (closed here); the shim's one-line answer."""
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(60)
        try:
            s.connect(path or self.sock)
            socket.send_fds(s, [(cmd + "\n").encode()], list(fds))
            data = b""
            while not data.endswith(b"\n"):
                chunk = s.recv(4096)
                if not chunk:
                    break
                data += chunk
            return data.decode().strip()
        finally:
            for fd in fds:
                os.close(fd)
            s.close()

    def out_files(self, n=3, flags=os.O_RDWR):
        """As the agent opens them for CHECKPOINT: the index, then n data files (n workers)."""
        names = ["gpumem.index"] + [f"data-{i}.bin" for i in range(n)]
        return [os.open(os.path.join(self.payload, f), flags | os.O_CREAT | os.O_TRUNC, 0o600) for f in names]

    def in_files(self):
        """As the agent opens them for RESUME/RESTORE: the index, then every data file there is."""
        data = sorted((f for f in os.listdir(self.payload) if f.startswith("data-")),
                      key=lambda f: int(f[5:-4]))
        return [os.open(os.path.join(self.payload, f), os.O_RDONLY) for f in ["gpumem.index"] + data]

    def status(self):
        reply = self.ctl("STATUS")
        self.assertTrue(reply.startswith("OK "), reply)
        return dict(kv.split("=", 1) for kv in reply.split()[1:])

    def memfd_mappings(self):
        with open(f"/proc/{self.pid}/maps") as f:
            return [line for line in f if "fake-gpu-memory" in line]

    def checkpoint(self):
        reply = self.ctl("CHECKPOINT", self.out_files())
        self.assertTrue(reply.startswith("OK "), reply)
        return reply


class Channel(ShimTest):
    def test_manages_only_allocations_above_the_threshold(self):
        self.start()
        st = self.status()
        self.assertEqual("2", st["allocations"])
        self.assertEqual(str(sum(self.managed_mb) * MIB), st["managedBytes"])
        self.assertEqual(("running", "open"), (st["state"], st["gate"]))
        # the two managed blocks, each its own memfd "physical" allocation
        self.assertEqual(2, len(self.memfd_mappings()))

    def test_checkpoint_releases_the_memory_and_resume_brings_it_back(self):
        self.start()
        self.ticking()
        reply = self.checkpoint()
        self.assertIn(f"bytes={sum(self.managed_mb) * MIB}", reply)
        st = self.status()
        self.assertEqual(("released", "closed", str(sum(self.managed_mb) * MIB)),
                         (st["state"], st["gate"], st["releasedBytes"]))
        self.assertEqual([], self.memfd_mappings(), "the physical memory is gone")
        self.assertTrue(self.still(), "the program's driver calls wait while the memory is out")
        self.assertTrue(self.popen.poll() is None)
        # Every chunk's digest in the index is the sha256 of its bytes in its data file.
        files = {}
        chunks = 0
        with open(os.path.join(self.payload, "gpumem.index")) as f:
            lines = f.read().split("\n")
        self.assertEqual("warmstart-gpumem 1", lines[0])
        for line in lines:
            if line.startswith("chunk "):
                _, va, length, fileno, off, sha = line.split()
                path = os.path.join(self.payload, f"data-{fileno}.bin")
                if path not in files:
                    with open(path, "rb") as df:
                        files[path] = df.read()
                data = files[path][int(off):int(off) + int(length)]
                self.assertEqual(sha, hashlib.sha256(data).hexdigest())
                chunks += 1
        self.assertEqual(sum(self.managed_mb) // 4, chunks)
        self.assertEqual(3, len(files), "one file per worker")
        reply = self.ctl("RESUME", self.in_files())
        self.assertTrue(reply.startswith("OK "), reply)
        self.ticking()
        self.assertEqual(self.ready, self.verify())
        self.assertEqual(("running", "open"), (self.status()["state"], self.status()["gate"]))

    def test_without_the_gate_the_program_faults(self):
        # The counter-test of the gate: with it off, the program's next read of a released block
        # faults (what a kernel on a real GPU would do: an illegal address).
        self.start(WARMSTART_GPUMEM_GATE="0")
        try:
            self.ctl("CHECKPOINT", self.out_files())  # the process may die before it answers
        except OSError:
            pass
        wait_for(lambda: self.popen.poll() is not None, 5, "the program to fault")
        self.assertEqual(-signal.SIGSEGV, self.popen.returncode)
        self.pid = None

    def test_tampered_payload_is_refused_and_the_program_stays_held(self):
        self.start()
        self.checkpoint()
        path = os.path.join(self.payload, "data-1.bin")
        with open(path, "r+b") as f:
            f.seek(5 * MIB + 17)
            b = f.read(1)
            f.seek(5 * MIB + 17)
            f.write(bytes([b[0] ^ 1]))
        reply = self.ctl("RESUME", self.in_files())
        self.assertTrue(reply.startswith("ERR PayloadDigestMismatch data-1.bin"), reply)
        self.assertEqual([], self.memfd_mappings(), "nothing half-loaded stays")
        self.assertEqual(("released", "closed"), (self.status()["state"], self.status()["gate"]))
        self.assertTrue(self.still(), "the program never ran on the tampered payload")
        with open(path, "r+b") as f:
            f.seek(5 * MIB + 17)
            f.write(b)
        self.assertTrue(self.ctl("RESUME", self.in_files()).startswith("OK "))
        self.ticking()
        self.assertEqual(self.ready, self.verify())

    def test_missing_payload_files_are_refused_before_any_memory_is_created(self):
        self.start()
        self.checkpoint()
        os.rename(os.path.join(self.payload, "data-2.bin"), os.path.join(self.dir, "aside"))
        reply = self.ctl("RESUME", self.in_files())
        self.assertTrue(reply.startswith("ERR PayloadMissing the index names 3 data files"), reply)
        self.assertEqual([], self.memfd_mappings())
        os.rename(os.path.join(self.dir, "aside"), os.path.join(self.payload, "data-2.bin"))
        with open(os.path.join(self.payload, "data-2.bin"), "r+b") as f:
            f.truncate(MIB)  # cut short
        reply = self.ctl("RESUME", self.in_files())
        self.assertTrue(reply.startswith("ERR PayloadInvalid data-2.bin has 1048576 bytes"), reply)
        os.truncate(os.path.join(self.payload, "gpumem.index"), 0)  # what a failed checkpoint leaves
        reply = self.ctl("RESUME", self.in_files())
        self.assertTrue(reply.startswith("ERR PayloadInvalid gpumem.index is not a version 1 index"), reply)
        self.assertEqual([], self.memfd_mappings())
        self.assertTrue(self.still())

    def test_out_of_memory_on_restore_is_an_error_and_can_be_retried(self):
        self.start()
        self.checkpoint()
        open(self.oom, "w").close()
        reply = self.ctl("RESUME", self.in_files())
        self.assertTrue(reply.startswith("ERR OutOfMemory"), reply)
        self.assertEqual([], self.memfd_mappings())
        self.assertTrue(self.popen.poll() is None and self.still())
        os.unlink(self.oom)
        self.assertTrue(self.ctl("RESUME", self.in_files()).startswith("OK "))
        self.assertEqual(self.ready, self.verify())

    def test_a_failed_copy_aborts_and_leaves_the_memory_in_place(self):
        self.start()
        # data files the shim cannot write (read-only fds): every write fails
        reply = self.ctl("CHECKPOINT", self.out_files(flags=os.O_RDONLY))
        self.assertTrue(reply.startswith("ERR CopyFailed writing data-"), reply)
        self.assertEqual(("running", "open"), (self.status()["state"], self.status()["gate"]))
        self.assertEqual(2, len(self.memfd_mappings()))
        self.ticking()
        self.assertEqual(self.ready, self.verify())

    def test_a_thread_stuck_in_the_driver_makes_the_checkpoint_fail_not_hang(self):
        self.start(WARMSTART_GPUMEM_GATE_TIMEOUT_S="1")
        open(self.hang, "w").close()  # the app's next cuMemcpyDtoH does not return
        time.sleep(0.1)
        reply = self.ctl("CHECKPOINT", self.out_files())
        self.assertTrue(reply.startswith("ERR GateTimeout"), reply)
        self.assertEqual(("running", "open"), (self.status()["state"], self.status()["gate"]))
        self.assertEqual(2, len(self.memfd_mappings()))
        os.unlink(self.hang)
        self.ticking()
        self.assertEqual(self.ready, self.verify())

    def test_an_agent_that_stops_waiting_finds_the_memory_in_place(self):
        self.start()
        open(self.slow, "w").close()  # 50 ms a chunk: the copy takes ~0.8 s
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(self.sock)
        fds = self.out_files()
        socket.send_fds(s, [b"CHECKPOINT\n"], fds)
        for fd in fds:
            os.close(fd)
        time.sleep(0.1)
        s.close()  # gave up (a timeout, an agent restart)
        wait_for(lambda: self.status()["gate"] == "open", 10, "the shim to give up the checkpoint")
        self.assertEqual("running", self.status()["state"])
        self.assertEqual(2, len(self.memfd_mappings()))
        self.assertEqual(0, os.path.getsize(os.path.join(self.payload, "gpumem.index")), "no payload")
        os.unlink(self.slow)
        self.ticking()
        self.assertEqual(self.ready, self.verify())

    def test_bad_requests(self):
        self.start()
        self.assertTrue(self.ctl("CHECKPOINT").startswith("ERR InvalidRequest"), "needs the files")
        # a directory would open the node's image store to the process ("..")
        reply = self.ctl("CHECKPOINT", [os.open(self.payload, os.O_RDONLY | os.O_DIRECTORY)])
        self.assertTrue(reply.startswith("ERR InvalidRequest"), reply)
        reply = self.ctl("CHECKPOINT", [os.open(self.payload, os.O_RDONLY | os.O_DIRECTORY), *self.out_files()[1:]])
        self.assertTrue(reply.startswith("ERR InvalidRequest"), reply)
        self.assertTrue(self.ctl("RESTORE", self.out_files()).startswith("ERR InvalidState"))
        self.assertTrue(self.ctl("FORMAT C:").startswith("ERR InvalidRequest"))
        self.checkpoint()
        self.assertTrue(self.ctl("CHECKPOINT", self.out_files()).startswith("ERR InvalidState"))

    @unittest.skipIf(os.geteuid() != 0, "needs root to connect as another user")
    def test_only_root_may_connect(self):
        self.start()
        os.chmod(self.sock, 0o666)
        os.chmod(self.sockdir, 0o755)
        os.chmod(self.dir, 0o755)
        r, w = os.pipe()
        child = os.fork()
        if child == 0:
            os.close(r)
            os.setgid(65534)
            os.setuid(65534)
            try:
                os.write(w, self.ctl("STATUS").encode())
            except Exception as e:  # noqa: BLE001 - reported to the parent
                os.write(w, f"child: {e!r}".encode())
            finally:
                os._exit(0)
        os.close(w)
        os.waitpid(child, 0)
        reply = os.read(r, 4096).decode()
        os.close(r)
        self.assertTrue(reply.startswith("ERR PermissionDenied"), reply)


class ThroughTheRuntime(ShimTest):
    """cudaMalloc/cudaFree of a runtime the program links (as PyTorch links libcudart)."""

    app = APP_RT

    def test_runtime_allocations_are_managed_and_come_back(self):
        self.start()
        st = self.status()
        # the 12 MiB block allocated and freed at start is gone; the 1 MiB one is not managed
        self.assertEqual(("2", str(sum(self.managed_mb) * MIB)), (st["allocations"], st["managedBytes"]))
        self.checkpoint()
        self.assertEqual([], self.memfd_mappings())
        self.assertTrue(self.still())
        self.assertTrue(self.ctl("RESUME", self.in_files()).startswith("OK "))
        self.ticking()
        self.assertEqual(self.ready, self.verify())


@unittest.skipIf(NO_CRIU, NO_CRIU)
class WithCriu(ShimTest):
    managed_mb = (48, 80)

    def criu_log(self, name):
        with open(os.path.join(self.img, name)) as f:
            return f.read()[-3000:]

    def criu(self, *args):
        return subprocess.run([CRIU, *args, "-D", self.img, "-v4"], capture_output=True, text=True, timeout=120)

    def test_dump_and_restore_with_the_memory_out_of_the_image(self):
        self.img = os.path.join(self.dir, "img")
        os.makedirs(self.img)
        self.start()
        self.ticking()
        self.checkpoint()
        r = self.criu("dump", "-t", str(self.pid), "-o", "dump.log")
        self.assertEqual(0, r.returncode, self.criu_log("dump.log"))
        wait_for(lambda: (reap(), not os.path.exists(f"/proc/{self.pid}"))[1], what="the dumped process to go")
        pages = sum(os.path.getsize(os.path.join(self.img, f)) for f in os.listdir(self.img) if f.startswith("pages-"))
        self.assertLess(pages, 32 * MIB, "the managed 128 MiB are not in CRIU's image")
        r = self.criu("restore", "-d", "-o", "restore.log")
        self.assertEqual(0, r.returncode, self.criu_log("restore.log"))
        # restored: its control socket answers at the same path; the program waits at the gate
        st = self.status()
        self.assertEqual(("released", "closed"), (st["state"], st["gate"]))
        self.assertTrue(self.still())
        reply = self.ctl("RESTORE", self.in_files())
        self.assertTrue(reply.startswith("OK "), reply)
        self.ticking()
        self.assertEqual(self.ready, self.verify(), "every managed byte survived")
        self.assertEqual(2, len(self.memfd_mappings()))


if __name__ == "__main__":
    unittest.main(verbosity=2)
