#!/usr/bin/env python3
"""A small CUDA inference server for checkpoint/restore tests and benchmarks.

A transformer whose random weights come from a fixed seed, sized by --gib (bf16 weights on the
GPU), with cuBLAS initialised by a warm-up. POST /infer runs a fixed batch and answers the sha256 of
the logits (float32 bytes): the same process state gives the same checksum, bit for bit.
POST /sleep releases PyTorch's cached GPU blocks (a pre-checkpoint hook); POST /wake is the
post-restore hook (a warm-up pass). GET /health answers when ready.
"""
import argparse
import hashlib
import http.server
import json
import os
import sys
import time

# CRIU does not restore AMX permission: keep oneDNN/MKL off AMX (see shared notes).
os.environ.setdefault("ONEDNN_MAX_CPU_ISA", "AVX512_CORE_BF16")
os.environ.setdefault("MKL_ENABLE_INSTRUCTIONS", "AVX512")
os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")

import torch  # noqa: E402

parser = argparse.ArgumentParser()
parser.add_argument("--port", type=int, default=8000)
parser.add_argument("--gib", type=float, default=1.0, help="weights on the GPU, GiB (bf16)")
parser.add_argument("--seed", type=int, default=1234)
parser.add_argument("--d-model", type=int, default=2048)
args = parser.parse_args()

torch.use_deterministic_algorithms(True)
torch.manual_seed(args.seed)
dev = torch.device("cuda")
d = args.d_model
layer_bytes = 12 * d * d * 2  # attention 4d^2 + MLP 8d^2, bf16
layers = max(1, round(args.gib * (1 << 30) / layer_bytes))
t0 = time.time()
model = torch.nn.Sequential(
    *[torch.nn.TransformerEncoderLayer(d, nhead=16, dim_feedforward=4 * d, batch_first=True,
                                       device=dev, dtype=torch.bfloat16) for _ in range(layers)]
).eval()
vocab = torch.randn(32000, d, device=dev, dtype=torch.bfloat16)
g = torch.Generator(device=dev).manual_seed(args.seed + 1)
batch = torch.randn(4, 128, d, device=dev, dtype=torch.bfloat16, generator=g)


def infer():
    with torch.no_grad():
        logits = (model(batch) @ vocab.T).float()
    torch.cuda.synchronize()
    return hashlib.sha256(logits.cpu().numpy().tobytes()).hexdigest()


first = infer()  # initialises cuBLAS and the kernels
load_s = time.time() - t0


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
            self.answer(200, {"ready": True, "pid": os.getpid(), "layers": layers,
                              "gpuBytes": torch.cuda.memory_allocated(), "loadSeconds": load_s})
        else:
            self.answer(404, {"error": "not found"})

    def do_POST(self):
        t = time.time()
        if self.path == "/infer":
            self.answer(200, {"checksum": infer(), "ms": (time.time() - t) * 1e3})
        elif self.path == "/sleep":
            torch.cuda.synchronize()
            torch.cuda.empty_cache()
            self.answer(200, {"reservedBytes": torch.cuda.memory_reserved()})
        elif self.path == "/wake":
            infer()
            self.answer(200, {"ms": (time.time() - t) * 1e3})
        else:
            self.answer(404, {"error": "not found"})

    def log_message(self, *a):
        pass


server = http.server.ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
print(f"ready port={args.port} layers={layers} load={load_s:.1f}s checksum={first}", flush=True)
server.serve_forever()
