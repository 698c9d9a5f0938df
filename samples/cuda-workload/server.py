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
import os
import time

# CRIU does not restore AMX permission: keep oneDNN/MKL off AMX (see shared notes).
os.environ.setdefault("ONEDNN_MAX_CPU_ISA", "AVX512_CORE_BF16")
os.environ.setdefault("MKL_ENABLE_INSTRUCTIONS", "AVX512")
os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")

import torch  # noqa: E402

from serving import serve  # noqa: E402

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


print(f"ready port={args.port} layers={layers} load={load_s:.1f}s checksum={first}", flush=True)
serve(args.port, infer, lambda: {"layers": layers, "loadSeconds": load_s})
