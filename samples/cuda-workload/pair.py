#!/usr/bin/env python3
"""Starts two CUDA servers (server.py) as children of one process: a tree of two CUDA processes.
Usage: pair.py PORT1 PORT2 GIB"""
import os
import signal
import subprocess
import sys
import time

here = os.path.dirname(os.path.abspath(__file__))
port1, port2, gib = sys.argv[1], sys.argv[2], sys.argv[3]
children = [subprocess.Popen([sys.executable, os.path.join(here, "server.py"), "--port", p, "--gib", gib],
                             stdin=subprocess.DEVNULL) for p in (port1, port2)]
signal.signal(signal.SIGTERM, lambda *a: [c.kill() for c in children] and sys.exit(0))
while True:
    time.sleep(1)
