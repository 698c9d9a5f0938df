#!/usr/bin/env python3
"""Real-CRIU test of patches/criu's AMX permission: a process that asked for AMX tile data and runs a
tile instruction every 50 ms is dumped and restored, and must go on running them (without the patch
its first tile instruction after the restore dies with SIGILL). Skipped, saying why, where the CPU or
kernel has no AMX. Run as root:  test_amx.py CRIU AMX_TICK"""
import os
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

CRIU = sys.argv[1] if len(sys.argv) > 1 else "criu"
TICK = sys.argv[2] if len(sys.argv) > 2 else "amx_tick"


def count(path):
    try:
        with open(path) as f:
            return int(f.read() or 0)
    except (OSError, ValueError):
        return 0


def amx_missing():
    p = subprocess.Popen([TICK, "/dev/null"], stderr=subprocess.PIPE)
    try:
        p.wait(timeout=0.5)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()
        return None
    return "no AMX on this CPU or kernel" if p.returncode == 77 else f"amx_tick exited {p.returncode}"


REASON = amx_missing()


@unittest.skipIf(REASON, REASON)
class AmxPermission(unittest.TestCase):
    def test_tile_instructions_keep_running_after_restore(self):
        work = tempfile.mkdtemp(prefix="amx-")
        self.addCleanup(shutil.rmtree, work, True)
        counter, images = os.path.join(work, "count"), os.path.join(work, "img")
        os.makedirs(images)
        proc = subprocess.Popen([TICK, counter], start_new_session=True, stdin=subprocess.DEVNULL,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        end = time.time() + 10
        while count(counter) < 3 and time.time() < end:
            time.sleep(0.05)
        subprocess.run([CRIU, "dump", "-t", str(proc.pid), "-D", images, "-o", "dump.log", "-v4",
                        "--shell-job"], check=True)
        proc.wait()
        before = count(counter)
        subprocess.run([CRIU, "restore", "-D", images, "-o", "restore.log", "-v4", "-d",
                        "--shell-job"], check=True)
        self.addCleanup(lambda: os.path.exists(f"/proc/{proc.pid}") and os.kill(proc.pid, 9))
        time.sleep(1.0)
        self.assertTrue(os.path.exists(f"/proc/{proc.pid}"), "the restored process died (SIGILL?)")
        self.assertGreater(count(counter), before + 5, "tile instructions go on after the restore")


if __name__ == "__main__":
    print(f"AMX test: {REASON or 'running'}", flush=True)
    unittest.main(argv=[sys.argv[0], "-v"])
