#!/usr/bin/env python3
"""A CPU workload that holds state only in memory, for checkpoint/restore demos and tests.

It fills a buffer (default 512 MiB) from a fixed seed, remembers the buffer's sha256, counts up
every 100 ms, and serves GET /state on 127.0.0.1:PORT with {"counter", "checksum", "expected"}.
After a faithful restore the counter continues from where it was and checksum == expected.
"""
import argparse
import hashlib
import http.server
import json
import random
import sys
import threading
import time

parser = argparse.ArgumentParser()
parser.add_argument("--port", type=int, default=18080)
parser.add_argument("--size-mib", type=int, default=512)
parser.add_argument("--seed", type=int, default=42)
args = parser.parse_args()

rng = random.Random(args.seed)
block = rng.randbytes(1 << 20)
buf = bytearray(block * args.size_mib)
for i in range(0, len(buf), 1 << 20):  # make every MiB distinct, cheaply
    buf[i : i + 8] = i.to_bytes(8, "little")
expected = hashlib.sha256(buf).hexdigest()
state = {"counter": 0}


def tick():
    while True:
        state["counter"] += 1
        time.sleep(0.1)


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path != "/state":
            self.send_error(404)
            return
        body = json.dumps(
            {"counter": state["counter"], "checksum": hashlib.sha256(buf).hexdigest(), "expected": expected}
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *a):
        pass


server = http.server.ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
threading.Thread(target=tick, daemon=True).start()
print(f"ready port={args.port} size_mib={args.size_mib} expected={expected}", flush=True)
server.serve_forever()
