"""Test workload: a parent with 3 threads and a TCP listener, and a child that feeds it a counter
through a pipe. GET / answers {"pid", "child", "last", "threads", "checksum", "expected"}."""
import hashlib, http.server, json, os, sys, threading, time

port, size_mib = int(sys.argv[1]), int(sys.argv[2])
buf = bytearray(os.urandom(1 << 20) * size_mib)
expected = hashlib.sha256(buf).hexdigest()
r, w = os.pipe()
child = os.fork()
if child == 0:
    os.close(r)
    i = 0
    while True:
        i += 1
        os.write(w, f"{i}\n".encode())
        time.sleep(0.05)
os.close(w)
state = {"last": 0}

def reader():
    f = os.fdopen(r)
    for line in f:
        state["last"] = int(line)

def idle():
    while True:
        time.sleep(1)

threading.Thread(target=reader, daemon=True).start()
threading.Thread(target=idle, daemon=True).start()

class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = json.dumps({"pid": os.getpid(), "child": child, "last": state["last"],
                           "threads": threading.active_count(),
                           "checksum": hashlib.sha256(buf).hexdigest(), "expected": expected}).encode()
        self.send_response(200); self.send_header("Content-Length", str(len(body))); self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a): pass

s = http.server.HTTPServer(("127.0.0.1", port), H)
print("ready", flush=True)
s.serve_forever()
