"""The HTTP front the sample CUDA servers share: GET /health, POST /infer (the sha256 of the logits),
POST /sleep (release PyTorch's cached GPU blocks: a pre-checkpoint hook), POST /wake (a warm-up pass:
a post-restore hook), plus routes of the server's own."""
import http.server
import json
import os
import time

import torch


def serve(port, infer, health, posts=None):
    """Serves forever on 127.0.0.1:port; health() gives /health's extra fields, posts more POST routes."""
    def sleep():
        torch.cuda.synchronize()
        torch.cuda.empty_cache()
        return {"reservedBytes": torch.cuda.memory_reserved()}

    def wake():
        infer()
        return {}

    routes = {"/infer": lambda: {"checksum": infer()}, "/sleep": sleep, "/wake": wake, **(posts or {})}

    class Handler(http.server.BaseHTTPRequestHandler):
        def answer(self, code, body):
            data = json.dumps(body).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self):
            if self.path == "/health":
                self.answer(200, {"ready": True, "pid": os.getpid(),
                                  "gpuBytes": torch.cuda.memory_allocated(), **health()})
            else:
                self.answer(404, {"error": "not found"})

        def do_POST(self):
            t = time.time()
            route = routes.get(self.path)
            if route is None:
                self.answer(404, {"error": "not found"})
                return
            body = route()
            self.answer(200, {**body, "ms": (time.time() - t) * 1e3})

        def log_message(self, *a):
            pass

    http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler).serve_forever()
