#!/usr/bin/env python3
"""A CPU workload that holds state only in memory, for checkpoint/restore demos and tests.

At start it fills a buffer (default 512 MiB) with random bytes from os.urandom, so no two starts
hold the same data. It serves on 127.0.0.1:PORT:
  GET  /state   {"counter", "checksum", "ticks", "pid"}: counter = mutations so far, checksum =
                sha256 of the buffer now, ticks = a clock that counts every 100 ms
  POST /mutate  overwrites 1 MiB at a random offset with fresh random bytes, counter += 1, and
                answers with the new state
State reached through /mutate exists nowhere but in this process: a faithful restore answers with
the checksum and counter it had at the checkpoint and continues counting from there, while a cold
restart starts again from counter 0 with another checksum.
"""
import argparse
import hashlib
import http.server
import json
import os
import threading
import time

parser = argparse.ArgumentParser()
parser.add_argument("--port", type=int, default=18080)
parser.add_argument("--size-mib", type=int, default=512)
args = parser.parse_args()

MIB = 1 << 20
buf = bytearray(args.size_mib * MIB)
for i in range(0, len(buf), 16 * MIB):
    n = min(16 * MIB, len(buf) - i)
    buf[i : i + n] = os.urandom(n)
state = {"counter": 0, "ticks": 0}
lock = threading.Lock()


def tick():
    while True:
        state["ticks"] += 1
        time.sleep(0.1)


def snapshot():
    with lock:
        return {
            "counter": state["counter"],
            "checksum": hashlib.sha256(buf).hexdigest(),
            "ticks": state["ticks"],
            "pid": os.getpid(),
        }


def mutate():
    with lock:
        at = int.from_bytes(os.urandom(8), "little") % max(1, len(buf) - MIB)
        buf[at : at + MIB] = os.urandom(min(MIB, len(buf)))
        state["counter"] += 1


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path != "/state":
            self.send_error(404)
            return
        self.answer(snapshot())

    def do_POST(self):
        if self.path != "/mutate":
            self.send_error(404)
            return
        mutate()
        self.answer(snapshot())

    def answer(self, value):
        body = json.dumps(value).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *a):
        pass


server = http.server.ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
threading.Thread(target=tick, daemon=True).start()
print(f"ready port={args.port} size_mib={args.size_mib} pid={os.getpid()}", flush=True)
server.serve_forever()
