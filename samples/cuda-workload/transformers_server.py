#!/usr/bin/env python3
"""A transformers inference server as users run one: a Llama-architecture causal LM from the
`transformers` library, built on the GPU in bf16 with random weights (seeded from os.urandom, so
its state exists only in this process), sized by --gib, served by a threaded HTTP server with
PyTorch's CPU thread pool and a background thread that keeps touching the GPU.

POST /infer runs a forward pass over a fixed prompt batch and answers the sha256 of the logits:
the same process state gives the same checksum, bit for bit; a cold restart gives another one.
POST /generate greedily decodes 8 tokens (KV cache in use). GET /health answers when ready.
"""
import argparse
import hashlib
import os
import threading
import time

# CRIU 4.2.1 does not restore the AMX permission: keep oneDNN/MKL off AMX (see shared notes).
os.environ.setdefault("ONEDNN_MAX_CPU_ISA", "AVX512_CORE_BF16")
os.environ.setdefault("MKL_ENABLE_INSTRUCTIONS", "AVX512")
os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")

import torch  # noqa: E402
from transformers import LlamaConfig, LlamaForCausalLM  # noqa: E402

from serving import serve  # noqa: E402

parser = argparse.ArgumentParser()
parser.add_argument("--port", type=int, default=8000)
parser.add_argument("--gib", type=float, default=1.0, help="weights on the GPU, GiB (bf16)")
args = parser.parse_args()

hidden, inter, vocab = 4096, 11008, 32000
layer_bytes = (4 * hidden * hidden + 3 * hidden * inter) * 2
embed_bytes = 2 * vocab * hidden * 2
layers = max(1, round((args.gib * (1 << 30) - embed_bytes) / layer_bytes))
config = LlamaConfig(hidden_size=hidden, intermediate_size=inter, num_hidden_layers=layers,
                     num_attention_heads=32, num_key_value_heads=32, vocab_size=vocab,
                     max_position_embeddings=2048, torch_dtype="bfloat16")
torch.use_deterministic_algorithms(True)
torch.manual_seed(int.from_bytes(os.urandom(8), "little"))
t0 = time.time()
torch.set_default_dtype(torch.bfloat16)
with torch.device("cuda"):
    model = LlamaForCausalLM(config).eval()
torch.set_default_dtype(torch.float32)
prompt = torch.arange(4 * 64, device="cuda").reshape(4, 64) % vocab
lock = threading.Lock()


def infer():
    with lock, torch.no_grad():
        logits = model(prompt).logits.float()
        torch.cuda.synchronize()
        return hashlib.sha256(logits.cpu().numpy().tobytes()).hexdigest()


def generate():
    with lock, torch.no_grad():
        out = model.generate(prompt[:1, :16], max_new_tokens=8, do_sample=False)
        return out[0].tolist()


first = infer()
load_s = time.time() - t0
beats = 0


def heartbeat():
    """What serving frameworks do between requests: small GPU work on a thread of its own."""
    global beats
    x = torch.ones(1024, device="cuda")
    while True:
        time.sleep(0.5)
        with lock:
            float((x * 2).sum())
            beats += 1


threading.Thread(target=heartbeat, daemon=True, name="heartbeat").start()


print(f"ready port={args.port} layers={layers} load={load_s:.1f}s checksum={first}", flush=True)
serve(args.port, infer,
      lambda: {"layers": layers, "beats": beats, "threads": threading.active_count(), "loadSeconds": load_s},
      posts={"/generate": lambda: {"tokens": generate()}})
