#!/usr/bin/env bash
# GPU end-to-end checks and benchmark for the native CUDA plugin, on a GPU machine (H100).
# Needs what scripts/prepare-gpu-carry.sh packs into .carry/gpu. Writes results under $OUT:
#   results.json   one record per case: output identity, timings, plugin reports
#   table.md       our plugin vs CRIU's plugins/cuda + exec-per-action helper, per phase
#   logs.tar.gz    CRIU logs and plugin reports
# Usage: scripts/gpu-e2e.sh [BENCH_GIB]   (default 4)
set -uo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
carry=$repo/.carry/gpu
OUT=${OUT:-/tmp/gpu-e2e-out}
bench_gib=${1:-4}
work=/tmp/ws-e2e
imgs=/dev/shm/ws-images
mkdir -p "$OUT" "$work/logs"
rm -rf "$imgs"; mkdir -p "$imgs"
results=$work/results.jsonl; : >"$results"

log() { echo "[$(date +%T)] $*" >&2; }
now_ms() { date +%s%3N; }

# --- set-up ---------------------------------------------------------------------------------------
tar -C "$work" -xJf "$carry/criu.tar.xz"
criu=$work/criu/bin/criu
ours=$work/ours; base=$work/base; helper=$work/helper
mkdir -p "$ours" "$base" "$helper"
if command -v make >/dev/null && command -v gcc >/dev/null &&
   make -s -C "$repo/native-plugin" CRIU_PREFIX="$work/criu" BUILD="$work/build" all >/dev/null 2>&1; then
  cp "$work/build/warmstart_cuda_plugin.so" "$ours/"; log "built our plugin here"
else
  cp "$carry/warmstart_cuda_plugin.so" "$ours/"; log "using the carried build of our plugin"
fi
cp "$carry/cuda_plugin.so" "$base/"
cp "$carry/cuda-checkpoint" "$helper/cuda-checkpoint"
libcuda=$(ldconfig -p | awk '/libcuda.so.1 /{print $NF; exit}')
gpu_uuid=$(nvidia-smi --query-gpu=uuid --format=csv,noheader | head -1)
{
  echo "host: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB, kernel $(uname -r)"
  nvidia-smi --query-gpu=name,uuid,driver_version,memory.total --format=csv,noheader
  echo "criu: $($criu --version | head -1), libcuda: $libcuda"
  "$criu" check 2>&1 | tail -1
  python3 -c 'import torch; print("torch", torch.__version__)'
} | tee "$OUT/machine.txt" >&2

server() { # PORT GIB -> pid
  setsid python3 "$repo/samples/cuda-workload/server.py" --port "$1" --gib "$2" \
    >"$work/logs/server-$1.log" 2>&1 </dev/null &
  echo $!
}
pair() { # PORT1 PORT2 GIB -> pid
  setsid python3 "$repo/samples/cuda-workload/pair.py" "$1" "$2" "$3" >"$work/logs/pair.log" 2>&1 </dev/null &
  echo $!
}
ready() { # PORT
  for _ in $(seq 1 600); do curl -sf "http://127.0.0.1:$1/health" >/dev/null && return 0; sleep 0.5; done
  return 1
}
infer() { # PORT -> checksum
  curl -sf --max-time 30 -X POST "http://127.0.0.1:$1/infer" | python3 -c 'import json,sys; print(json.load(sys.stdin)["checksum"])'
}
first_answer() { # PORT EXPECTED -> ms until a correct answer (polls, 120 s at most)
  local t0; t0=$(now_ms)
  while [ $(( $(now_ms) - t0 )) -lt 120000 ]; do
    local c; c=$(infer "$1" 2>/dev/null) && { [ "$c" = "$2" ] && { echo $(( $(now_ms) - t0 )); return 0; } || { echo -1; return 1; }; }
    sleep 0.05
  done
  echo -1; return 1
}
gone() { for _ in $(seq 1 500); do kill -0 "$1" 2>/dev/null || return 0; sleep 0.02; done; return 1; }
cleanup() { pkill -9 -f samples/cuda-workload/ 2>/dev/null; sleep 1; }

# criu_dump VARIANT PID IMG -> ms ; criu_restore VARIANT IMG -> ms
criu_env() {
  if [ "$1" = ours ]; then echo "WARMSTART_LIBCUDA=$libcuda"; else echo "PATH=$helper:$PATH CUDA_HELPER_LOG=$work/logs/helper-$2.log"; fi
}
libdir() { [ "$1" = ours ] && echo "$ours" || echo "$base"; }
criu_dump() {
  rm -f "$work/logs/helper-$4.log"
  local t0; t0=$(now_ms)
  log "dump $4 ($1) pid $2"
  env $(criu_env "$1" "$4") timeout ${CRIU_TIMEOUT:-180} "$criu" dump -t "$2" -D "$3" -o dump.log -v4 --tcp-established --libdir "$(libdir "$1")" \
    >/dev/null 2>&1
  local rc=$?; echo $(( $(now_ms) - t0 )); return $rc
}
criu_restore() {
  rm -f "$2/../restored-$3.pid"  # CRIU refuses to overwrite a pidfile
  local t0; t0=$(now_ms)
  log "restore $3 ($1)"
  env $(criu_env "$1" "$3") ${4:-} timeout ${CRIU_TIMEOUT:-180} "$criu" restore -D "$2" -o restore.log -v4 -d --tcp-established \
    --libdir "$(libdir "$1")" --pidfile "$2/../restored-$3.pid" >/dev/null 2>&1
  local rc=$?; echo $(( $(now_ms) - t0 )); return $rc
}
record() { echo "$1" >>"$results"; cp "$results" "$OUT/results.jsonl"; log "$1"; }
report() { [ -f "$1" ] && python3 -c 'import json,sys; print(json.dumps(json.load(open(sys.argv[1]))))' "$1" || echo null; }

# --- case: single process, dump + restore, output identity ----------------------------------------
single() { # NAME VARIANT GIB [EXTRA_RESTORE_ENV]
  local name=$1 variant=$2 gib=$3 extra=${4:-} port=$((18000 + RANDOM % 1000))
  cleanup; local img=$imgs/$name; mkdir -p "$img"
  local pid; pid=$(server $port "$gib")
  log "case $name: server pid $pid port $port"
  ready $port || { record "{\"case\":\"$name\",\"ok\":false,\"error\":\"server not ready\"}"; return; }
  local before; before=$(infer $port); log "checksum before: $before"
  local gpu_mib; gpu_mib=$(nvidia-smi --query-compute-apps=pid,used_memory --format=csv,noheader,nounits | awk -F, -v p=$pid '$1==p{print $2}')
  local dump_ms; dump_ms=$(criu_dump "$variant" "$pid" "$img" "$name"); local drc=$?
  wait "$pid" 2>/dev/null; gone "$pid"
  local img_mib; img_mib=$(du -sm "$img" | cut -f1)
  local restore_ms=-1 first_ms=-1 after=""
  if [ $drc -eq 0 ]; then
    local t0; t0=$(now_ms)
    restore_ms=$(criu_restore "$variant" "$img" "$name" "$extra")
    log "restore rc after ${restore_ms} ms; waiting for a correct answer"
    first_ms=$(first_answer $port "$before"); first_ms=$(( first_ms >= 0 ? $(now_ms) - t0 : -1 ))
    after=$(infer $port 2>/dev/null)
  fi
  local ok=false; [ -n "$before" ] && [ "$before" = "$after" ] && ok=true
  record "{\"case\":\"$name\",\"variant\":\"$variant\",\"gib\":$gib,\"ok\":$ok,\"gpuMiB\":${gpu_mib:-0},\"imageMiB\":$img_mib,\"dumpMs\":$dump_ms,\"restoreMs\":$restore_ms,\"restoreToFirstCorrectAnswerMs\":$first_ms,\"checksumBefore\":\"$before\",\"checksumAfter\":\"$after\",\"dumpReport\":$(report "$img/warmstart-cuda-dump.json"),\"restoreReport\":$(report "$img/warmstart-cuda-restore.json")}"
  for f in "$img"/*.log "$img"/*.json; do [ -f "$f" ] && cp "$f" "$work/logs/$name-$(basename "$f")"; done
  tar -C "$work" -czf "$OUT/logs.tar.gz" logs
  rm -rf "$img"
}

# --- case: a tree of two CUDA processes ---------------------------------------------------------------
tree_of_two() { # VARIANT GIB (each process)
  local variant=${1:-ours} gib=${2:-1} name="tree-of-two-${1:-ours}-${2:-1}gib"
  cleanup; local img=$imgs/$name; mkdir -p "$img"
  local pid; pid=$(pair 18101 18102 "$gib")
  ready 18101 && ready 18102 || { record "{\"case\":\"$name\",\"ok\":false,\"error\":\"servers not ready\"}"; return; }
  local b1 b2; b1=$(infer 18101); b2=$(infer 18102)
  local dump_ms; dump_ms=$(criu_dump "$variant" "$pid" "$img" "$name"); local drc=$?
  wait "$pid" 2>/dev/null; gone "$pid"; sleep 1
  local restore_ms=-1 first_ms=-1 a1="" a2=""
  if [ $drc -eq 0 ]; then
    local t0; t0=$(now_ms)
    restore_ms=$(criu_restore "$variant" "$img" "$name")
    first_answer 18101 "$b1" >/dev/null && first_answer 18102 "$b2" >/dev/null && first_ms=$(( $(now_ms) - t0 ))
    a1=$(infer 18101 2>/dev/null); a2=$(infer 18102 2>/dev/null)
  fi
  local ok=false; [ -n "$b1" ] && [ "$b1" = "$a1" ] && [ "$b2" = "$a2" ] && ok=true
  record "{\"case\":\"$name\",\"variant\":\"$variant\",\"gib\":$gib,\"ok\":$ok,\"restoreToFirstCorrectAnswerMs\":$first_ms,\"dumpMs\":$dump_ms,\"restoreMs\":$restore_ms,\"checksums\":[\"$b1\",\"$a1\",\"$b2\",\"$a2\"],\"dumpReport\":$(report "$img/warmstart-cuda-dump.json"),\"restoreReport\":$(report "$img/warmstart-cuda-restore.json")}"
  for f in "$img"/*.log "$img"/*.json; do [ -f "$f" ] && cp "$f" "$work/logs/$name-$(basename "$f")"; done
  rm -rf "$img"
}

# --- run ------------------------------------------------------------------------------------------
# CASES picks cases (space-separated): single bsingle tree remap bench tree-bench; default all but bsingle.
cases=${CASES:-single tree remap bench tree-bench}
for c in $cases; do
  case $c in
    single) single ours-1gib ours 1 ;;
    bsingle) single baseline-1gib base 1 ;;
    tree) tree_of_two ours 1 ;;
    tree-bench) tree_of_two base "$bench_gib"; tree_of_two ours "$bench_gib" ;;
    remap) single ours-remap ours 1 "WARMSTART_GPU_REMAP=$gpu_uuid=$gpu_uuid" ;;
    bench) for round in 1 2; do
        single "baseline-${bench_gib}gib-r$round" base "$bench_gib"
        single "ours-${bench_gib}gib-r$round" ours "$bench_gib"
      done ;;
  esac
done
cleanup

python3 - "$results" "$OUT" "$work/logs" <<'PY'
import json, sys, glob, os
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
out, logs = sys.argv[2], sys.argv[3]
json.dump(rows, open(os.path.join(out, "results.json"), "w"), indent=1)
def helper_phases(name):
    p = {}
    for f in glob.glob(os.path.join(logs, f"helper-{name}.log")):
        for line in open(f):
            action, pid, cuinit, call, rc = line.split()
            p.setdefault(action, [0, 0.0, 0.0]); p[action][0] += 1; p[action][1] += float(cuinit); p[action][2] += float(call)
    return p
lines = ["| case | identical output | GPU MiB | image MiB | criu dump ms | criu restore ms | restore → first correct answer ms | phases (ms) |", "|---|---|---|---|---|---|---|---|"]
for r in rows:
    ph = ""
    if r.get("variant") == "ours":
        d, s = r.get("dumpReport") or {}, r.get("restoreReport") or {}
        procs = (d.get("processes") or []) + (s.get("processes") or [])
        ph = "cuInit dump %.0f / restore %.0f; lock %.0f; checkpoint %.0f; restore %.0f; unlock %.0f" % (
            d.get("cuInitMs", 0), s.get("cuInitMs", 0), sum(p["lockMs"] for p in d.get("processes", [])),
            sum(p["checkpointMs"] for p in d.get("processes", [])), sum(p["restoreMs"] for p in s.get("processes", [])),
            sum(p["unlockMs"] for p in s.get("processes", [])))
    elif r.get("variant") == "base":
        hp = helper_phases(r["case"])
        ph = "; ".join("%s x%d: cuInit %.0f + call %.0f" % (a, v[0], v[1], v[2]) for a, v in sorted(hp.items()))
    lines.append("| %s | %s | %s | %s | %s | %s | %s | %s |" % (r["case"], r.get("ok"), r.get("gpuMiB", ""), r.get("imageMiB", ""),
        r.get("dumpMs", ""), r.get("restoreMs", ""), r.get("restoreToFirstCorrectAnswerMs", ""), ph))
open(os.path.join(out, "table.md"), "w").write("\n".join(lines) + "\n")
print("\n".join(lines))
PY
tar -C "$work" -czf "$OUT/logs.tar.gz" logs
cp "$OUT/machine.txt" "$OUT/machine.txt" 2>/dev/null
