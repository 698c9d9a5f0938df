#!/usr/bin/env python3
"""Turns bench/gpu-restore.sh's CSV into a markdown table and a bar chart (PNG).

Usage: gpu_restore_report.py CSV OUT_DIR MACHINE_LINE
"""
import csv
import os
import sys

LABELS = {
    "baseline": "CRIU plugins/cuda + exec helper",
    "agent-cold": "agent, our plugin, no warm pool",
    "agent-warm": "agent, our plugin, warm pool",
    "prepare": "prepare (CRIU only, GPU state left checkpointed)",
    "activate": "activate a prepared process",
    "cold-stock": "agent: full restore, CRIU's own page restore",
    "cold": "agent: full restore (our CRIU)",
    "checkpoint": "agent: checkpoint, leave running",
    "checkpoint-thp": "agent: checkpoint, leave running, THP always",
    "cold-hook": "agent: full restore, checkpoint after /sleep hook",
    "cold-thp": "agent: full restore, THP always",
    "warm": "Warm standby: activation",
    "hot": "Hot standby: activation",
    "two-at-once": "two full restores at once (both answer)",
    "request-plain": "one request, no shim (median of 30)",
    "request-shim": "one request under the GPU memory shim (median of 30)",
    "checkpoint-shim": "agent + GPU memory shim: checkpoint, leave running",
    "cold-shim": "agent + GPU memory shim: full restore",
    "warm-shim": "agent + GPU memory shim: Warm standby activation",
}


def num(v):
    try:
        return float(v)
    except (TypeError, ValueError):
        return None


def main():
    path, out, machine = sys.argv[1], sys.argv[2], sys.argv[3] if len(sys.argv) > 3 else ""
    rows = list(csv.DictReader(open(path)))
    base = {r["gib"]: num(r["restore_to_first_answer_ms"]) for r in rows if r["variant"] == "baseline"}
    base_dump = {r["gib"]: num(r["checkpoint_ms"]) for r in rows if r["variant"] == "baseline"}
    lines = [
        f"GPU restore benchmark on {machine}. Times in ms; 'first answer' is request → first correct answer"
        " (standbys: ACTIVATE request → first correct answer); '× baseline' compares it with the baseline's"
        " restore (checkpoint rows: the checkpoint with the baseline's dump); 'frozen': the workload's CUDA work"
        " held, lock to unlock; 'verify': digests checked before CRIU starts, 'pages hashed': the page files'"
        " digests, taken while CRIU restores, 'held': how long the restored tree then waited for them.",
        "",
        "| GiB | variant | THP | identical output | checkpoint | first answer | × baseline | frozen | verify"
        " | pages hashed | held | CRIU restore | cuInit in plugin | GPU restore | GPU unlock | prepare | image MiB"
        " | GPU MiB | one request | shim payload |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]

    def cell(r, k):
        v = r.get(k)
        return "" if v in (None, "", "-1") else v

    for r in rows:
        first = num(r.get("restore_to_first_answer_ms"))
        ck = num(r.get("checkpoint_ms"))
        if r["variant"].startswith("checkpoint"):
            ratio = f"{ck / base_dump[r['gib']]:.2f}" if ck and base_dump.get(r["gib"]) else ""
        elif r["variant"] != "baseline" and first and first > 0 and base.get(r["gib"]):
            ratio = f"{first / base[r['gib']]:.2f}"
        else:
            ratio = ""
        cells = [r["gib"], LABELS.get(r["variant"], r["variant"]), cell(r, "thp"), cell(r, "ok"),
                 cell(r, "checkpoint_ms"), cell(r, "restore_to_first_answer_ms"), ratio, cell(r, "frozen_ms"),
                 cell(r, "verify_ms"), cell(r, "verify_pages_ms"), cell(r, "verify_held_ms")] + [
            cell(r, k) for k in ("criu_restore_ms", "cuda_init_ms", "gpu_restore_ms", "gpu_unlock_ms", "prepare_ms",
                                 "image_mib", "gpu_mib", "request_ms", "gpu_memory_ms")
        ]
        lines.append("| " + " | ".join(cells) + " |")
    open(os.path.join(out, "gpu-restore.md"), "w").write("\n".join(lines) + "\n")
    print("\n".join(lines))

    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib missing: no plot", file=sys.stderr)
        return
    order = ("baseline", "agent-cold", "agent-warm", "activate", "cold-stock", "cold", "cold-hook", "cold-thp", "warm",
             "hot", "two-at-once", "cold-shim", "warm-shim")
    variants = [v for v in order if any(r["variant"] == v for r in rows)]
    sizes = sorted({r["gib"] for r in rows}, key=float)
    fig, ax = plt.subplots(figsize=(11, 5.5))
    width = 0.8 / max(1, len(variants))
    for i, v in enumerate(variants):
        ys = []
        for s in sizes:
            m = [num(r["restore_to_first_answer_ms"]) for r in rows if r["variant"] == v and r["gib"] == s]
            ys.append((m[0] or 0) / 1000 if m and m[0] and m[0] > 0 else 0)
        xs = [j + i * width for j in range(len(sizes))]
        bars = ax.bar(xs, ys, width, label=LABELS[v])
        ax.bar_label(bars, fmt="%.1f", fontsize=8)
    ax.set_xticks([j + width * (len(variants) - 1) / 2 for j in range(len(sizes))])
    ax.set_xticklabels([f"{s} GiB weights" for s in sizes])
    ax.set_ylabel("restore request → first correct answer (s)")
    ax.set_title(f"GPU restore, {machine}", fontsize=9)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(os.path.join(out, "gpu-restore.png"), dpi=120)


if __name__ == "__main__":
    main()
