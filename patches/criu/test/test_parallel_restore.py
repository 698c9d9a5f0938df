#!/usr/bin/env python3
"""Real-CRIU tests of patches/criu (parallel, huge-page page restore). Run as root:
    test_parallel_restore.py CRIU MEMFILL
Each case starts memfill (memory made after start: one big VMA, 400 small VMAs, a sparse VMA, and
optionally a child sharing half of the big VMA copy-on-write), dumps it, restores it, and compares
every process's checksum before the dump with its checksum after the restore."""
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest

CRIU = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("CRIU", "criu")
MEMFILL = sys.argv[2] if len(sys.argv) > 2 else os.environ.get("MEMFILL", "memfill")


def read(path):
    with open(path) as f:
        return f.read()


def wait_for(path, timeout=60, poke=None):
    end = time.time() + timeout
    while time.time() < end:
        if os.path.exists(path):
            return read(path).split()
        if poke:
            poke()
        time.sleep(0.2)
    raise AssertionError(f"{path} did not appear")


THP_USABLE = "[never]" not in read("/sys/kernel/mm/transparent_hugepage/enabled")


def gone(pid, timeout=10):
    end = time.time() + timeout
    while time.time() < end:
        if not os.path.exists(f"/proc/{pid}"):
            return
        time.sleep(0.05)


class ParallelRestore(unittest.TestCase):
    def run_case(self, mib, thp, cow, threads):
        work = tempfile.mkdtemp(prefix="prt-")
        self.addCleanup(shutil.rmtree, work, True)
        images, state = os.path.join(work, "img"), os.path.join(work, "state")
        os.makedirs(images)
        os.makedirs(state)
        args = [MEMFILL, state, str(mib), "thp" if thp else "nothp"] + (["cow"] if cow else [])
        proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL, start_new_session=True)
        roles = ["parent", "child"] if cow else ["parent"]
        before = {r: wait_for(f"{state}/before.{r}") for r in roles}
        subprocess.run([CRIU, "dump", "-t", str(proc.pid), "-D", images, "-o", "dump.log", "-v4",
                        "--shell-job"], check=True)
        proc.wait()
        for r in roles:
            gone(int(before[r][0]))
        env = dict(os.environ, CRIU_PAGE_RESTORE_THREADS=str(threads))
        subprocess.run([CRIU, "restore", "-D", images, "-o", "restore.log", "-v4", "-d",
                        "--shell-job"], check=True, env=env)
        pid = int(before["parent"][0])
        self.addCleanup(lambda: os.killpg(pid, signal.SIGKILL) if os.path.exists(f"/proc/{pid}") else None)
        log = read(os.path.join(images, "restore.log"))
        smaps = read(f"/proc/{pid}/smaps")
        for r in roles:
            rpid = int(before[r][0])
            after = wait_for(f"{state}/after.{r}", poke=lambda: os.kill(rpid, signal.SIGUSR1))
            self.assertEqual(before[r], after, f"{r}: memory differs after restore")
        return log, smaps

    @staticmethod
    def big_vma(smaps, mib):
        """The smaps block of the VMA of exactly mib MiB."""
        for block in re.split(r"\n(?=[0-9a-f]+-[0-9a-f]+ )", smaps):
            m = re.match(r"([0-9a-f]+)-([0-9a-f]+) ", block)
            if m and int(m.group(2), 16) - int(m.group(1), 16) == mib << 20:
                return block
        raise AssertionError(f"no VMA of {mib} MiB")

    def test_threads_fill_a_huge_page_vma_exactly(self):
        log, smaps = self.run_case(512, thp=True, cow=False, threads=4)
        self.assertRegex(log, r"page-threads: read 5\d\d MiB in \d+ pieces on 4 threads")
        block = self.big_vma(smaps, 512)
        if THP_USABLE:
            huge = int(re.search(r"AnonHugePages:\s+(\d+) kB", block).group(1))
            self.assertGreater(huge, 256 * 1024, "the big VMA should be backed by huge pages")
            self.assertIn(" hg", re.search(r"VmFlags:(.*)", block).group(1))

    def test_nohugepage_vma_keeps_small_pages(self):
        log, smaps = self.run_case(256, thp=False, cow=False, threads=4)
        self.assertIn("page-threads: read", log)
        block = self.big_vma(smaps, 256)
        self.assertEqual(0, int(re.search(r"AnonHugePages:\s+(\d+) kB", block).group(1)))
        self.assertIn(" nh", re.search(r"VmFlags:(.*)", block).group(1))

    def test_cow_pages_shared_with_a_child_stay_exact(self):
        self.run_case(256, thp=True, cow=True, threads=4)

    def test_off_is_criu_own_path(self):
        log, _ = self.run_case(256, thp=True, cow=False, threads=0)
        self.assertNotIn("page-threads: read", log)

    def test_sparse_vma_gets_no_huge_pages(self):
        # The sparse VMA (every 8th page) is below the density for MADV_HUGEPAGE.
        _, smaps = self.run_case(512, thp=False, cow=False, threads=4)
        block = self.big_vma(smaps, 256)
        self.assertNotIn(" hg", re.search(r"VmFlags:(.*)", block).group(1))


if __name__ == "__main__":
    unittest.main(argv=[sys.argv[0], "-v"])
