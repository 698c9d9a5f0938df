#!/usr/bin/env bash
# GPU restore benchmark, one run on one GPU machine, same workload (samples/cuda-workload/server.py) per size:
#   baseline       CRIU + its plugins/cuda + the exec-per-action cuda-checkpoint helper (what users have today)
#   agent-cold     the node agent with our plugin, no warm pool
#   agent-warm     the node agent with our plugin and its warm CUDA context pool
#   prepare        agent (warm pool): CRIU restore only, GPU state left checkpointed (no GPU memory held)
#   activate       then driver restore + unlock of that prepared process (timed from the activate request)
# Metric: request → first correct answer (the checksum the server gave before the checkpoint), plus
# checkpoint time and every phase the agent reports. Output under $OUT: gpu-restore.csv, gpu-restore.md,
# gpu-restore.png, machine.txt, logs.tar.gz.
# Needs .carry/gpu from scripts/prepare-gpu-carry.sh. Usage: bench/gpu-restore.sh [GIB ...] (default: 4 16)
set -uo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
carry=$repo/.carry/gpu
OUT=${OUT:-/tmp/gpu-restore-out}
sizes=${*:-4 16}
work=/tmp/ws-bench
store=/dev/shm/ws-store
mkdir -p "$OUT" "$work/logs"
rm -rf "$store" /dev/shm/ws-base; mkdir -p "$store" /dev/shm/ws-base
csv=$OUT/gpu-restore.csv
echo "gib,variant,ok,checkpoint_ms,restore_to_first_answer_ms,verify_ms,criu_restore_ms,cuda_init_ms,gpu_restore_ms,gpu_unlock_ms,prepare_ms,image_mib,gpu_mib" >"$csv"

log() { echo "[$(date +%T)] $*" >&2; }
now_ms() { date +%s%3N; }

# --- set-up: CRIU, plugins, a Java runtime with the agent --------------------------------------------
tar -C "$work" -xJf "$carry/criu.tar.xz"
tar -C "$work" -xJf "$carry/agent.tar.xz"
criu=$work/criu/bin/criu
ours=$work/ours; base=$work/base; helper=$work/helper
mkdir -p "$ours" "$base" "$helper"
cp "$carry/warmstart_cuda_plugin.so" "$ours/"
cp "$carry/cuda_plugin.so" "$base/"
cp "$carry/cuda-checkpoint" "$helper/cuda-checkpoint"
libcuda=$(ldconfig -p | awk '/libcuda.so.1 /{print $NF; exit}')
{
  echo "host: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB, kernel $(uname -r), THP $(cat /sys/kernel/mm/transparent_hugepage/enabled)"
  nvidia-smi --query-gpu=name,uuid,driver_version,memory.total --format=csv,noheader
  echo "criu: $($criu --version | head -1), java: $("$work/jre/bin/java" -version 2>&1 | head -1)"
  python3 -c 'import torch; print("torch", torch.__version__)'
} | tee "$OUT/machine.txt" >&2

# --- the agent ----------------------------------------------------------------------------------------
sock=$work/agent.sock
agent_pid=
start_agent() { # WARM_POOL(true|false)
  stop_agent
  rm -f "$sock"
  WARMSTART_AGENT_STORE_ROOT=$store WARMSTART_AGENT_JOURNAL_DIR=$work/journal \
  WARMSTART_AGENT_CRIU_BINARY=$criu WARMSTART_AGENT_PLUGIN_DIR=$ours WARMSTART_AGENT_LIBCUDA=$libcuda \
  WARMSTART_AGENT_GPU_WARM_POOL=$1 WARMSTART_AGENT_NODE_NAME=gpu-bench \
  QUARKUS_HTTP_DOMAIN_SOCKET=$sock QUARKUS_HTTP_HOST=127.0.0.1 QUARKUS_HTTP_PORT=18443 \
    setsid "$work/jre/bin/java" -jar "$work/quarkus-app/quarkus-run.jar" >>"$work/logs/agent-$1.log" 2>&1 </dev/null &
  agent_pid=$!
  for _ in $(seq 1 300); do
    curl -sf --unix-socket "$sock" http://agent/v1/gpus >"$work/logs/gpus-$1.json" 2>/dev/null && { log "agent up (warm pool $1): $(cat "$work/logs/gpus-$1.json")"; return 0; }
    sleep 0.1
  done
  log "agent did not start"; tail -30 "$work/logs/agent-$1.log" >&2; return 1
}
stop_agent() { [ -n "$agent_pid" ] && kill "$agent_pid" 2>/dev/null && wait "$agent_pid" 2>/dev/null; agent_pid=; }
submit() { # JSON -> operation id
  curl -sf --unix-socket "$sock" -H 'Content-Type: application/json' -X POST http://agent/v1/operations -d "$1" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])'
}
op() { curl -sf --unix-socket "$sock" "http://agent/v1/operations/$1"; }
await_op() { # ID -> final status JSON (on stdout); rc 0 if SUCCEEDED
  local s
  for _ in $(seq 1 6000); do
    s=$(op "$1") || { sleep 0.05; continue; }
    case $(echo "$s" | python3 -c 'import json,sys; print(json.load(sys.stdin)["state"])') in
      SUCCEEDED) echo "$s"; return 0 ;;
      FAILED) echo "$s"; return 1 ;;
    esac
    sleep 0.05
  done
  return 1
}
field() { python3 -c 'import json,sys; d=json.load(sys.stdin); v=d
for k in sys.argv[1].split("."): v=(v or {}).get(k)
print(-1 if v is None else v)' "$1"; }

# --- the workload -------------------------------------------------------------------------------------
server() { # PORT GIB -> pid
  setsid python3 "$repo/samples/cuda-workload/server.py" --port "$1" --gib "$2" >"$work/logs/server-$1.log" 2>&1 </dev/null &
  echo $!
}
ready() { for _ in $(seq 1 1200); do curl -sf "http://127.0.0.1:$1/health" >/dev/null && return 0; sleep 0.5; done; return 1; }
infer() { curl -sf --max-time 60 -X POST "http://127.0.0.1:$1/infer" | python3 -c 'import json,sys; print(json.load(sys.stdin)["checksum"])'; }
first_answer() { # PORT EXPECTED T0 -> ms from T0 to a correct answer, -1 if wrong or none in 180 s
  while [ $(( $(now_ms) - $3 )) -lt 180000 ]; do
    local c; c=$(infer "$1" 2>/dev/null) && { [ "$c" = "$2" ] && { echo $(( $(now_ms) - $3 )); return 0; } || { echo -1; return 1; }; }
    sleep 0.02
  done
  echo -1; return 1
}
kill_tree() { # PID: the restored server and anything under it
  [ -n "$1" ] && [ "$1" != -1 ] || return 0
  pkill -9 -P "$1" 2>/dev/null; kill -9 "$1" 2>/dev/null
  for _ in $(seq 1 500); do kill -0 "$1" 2>/dev/null || break; sleep 0.02; done
  sleep 0.5  # the driver releases the GPU memory of a killed process asynchronously
}
row() { echo "$*" >>"$csv"; log "row: $*"; }

# --- one size -----------------------------------------------------------------------------------------
bench_size() { # GIB
  local gib=$1 port=$((18000 + gib)) name="bench-${1}gib"
  rm -rf "$store"/* /dev/shm/ws-base/*
  pkill -9 -f samples/cuda-workload/ 2>/dev/null; sleep 1
  start_agent false || return
  local pid; pid=$(server $port "$gib"); log "server ${gib} GiB pid $pid"
  ready $port || { log "server not ready"; tail -20 "$work/logs/server-$port.log" >&2; return; }
  local before; before=$(infer $port); log "checksum before: $before"
  local gpu_mib; gpu_mib=$(nvidia-smi --query-compute-apps=pid,used_memory --format=csv,noheader,nounits | awk -F, -v p=$pid '$1==p{print $2+0}')

  # Our checkpoint through the agent, the server left running.
  local t0 id s; t0=$(now_ms)
  id=$(submit "{\"idempotencyKey\":\"ckpt-$gib\",\"kind\":\"CHECKPOINT\",\"checkpoint\":{\"target\":{\"pid\":$pid},\"imageName\":\"$name\",\"leaveRunning\":true,\"timeoutSeconds\":600}}")
  s=$(await_op "$id"); local ckpt_rc=$? ckpt_ms=$(( $(now_ms) - t0 ))
  echo "$s" >"$work/logs/checkpoint-$gib.json"; log "agent checkpoint ($ckpt_rc) in $ckpt_ms ms: $s"
  local img_mib; img_mib=$(du -sm "$store/$name" 2>/dev/null | cut -f1)
  [ "$(infer $port)" = "$before" ] || log "WARNING: server answers differently after the checkpoint"

  # Baseline: CRIU + plugins/cuda + helper dumps the same server (and stops it).
  local bimg=/dev/shm/ws-base/$name; mkdir -p "$bimg"
  t0=$(now_ms)
  PATH=$helper:$PATH CUDA_HELPER_LOG=$work/logs/helper-dump-$gib.log timeout 600 "$criu" dump -t "$pid" -D "$bimg" -o dump.log -v4 \
    --tcp-established --libdir "$base" >/dev/null 2>&1
  local bdump_rc=$? bdump_ms=$(( $(now_ms) - t0 ))
  log "baseline dump ($bdump_rc) in $bdump_ms ms"
  kill_tree "$pid"

  # (a) baseline restore
  if [ $bdump_rc -eq 0 ]; then
    rm -f "$work/base.pid"; t0=$(now_ms)
    PATH=$helper:$PATH CUDA_HELPER_LOG=$work/logs/helper-restore-$gib.log timeout 600 "$criu" restore -D "$bimg" -o restore.log -v4 -d \
      --tcp-established --libdir "$base" --pidfile "$work/base.pid" >/dev/null 2>&1
    local brestore_ms=$(( $(now_ms) - t0 ))
    local first; first=$(first_answer $port "$before" "$t0")
    local ok=false; [ "$(infer $port 2>/dev/null)" = "$before" ] && [ "$first" -ge 0 ] && ok=true
    row "$gib,baseline,$ok,$bdump_ms,$first,,$brestore_ms,,,,,$(du -sm "$bimg" | cut -f1),$gpu_mib"
    cp "$bimg"/*.log "$work/logs/" 2>/dev/null; for f in "$bimg"/*.log; do mv "$work/logs/$(basename "$f")" "$work/logs/baseline-$gib-$(basename "$f")" 2>/dev/null; done
    kill_tree "$(cat "$work/base.pid" 2>/dev/null || echo -1)"
  fi
  rm -rf "$bimg"

  # (b) agent, no warm pool; (c) agent with the warm pool
  local variant pool
  for variant in agent-cold agent-warm; do
    pool=false; [ $variant = agent-warm ] && pool=true
    start_agent $pool || continue
    t0=$(now_ms)
    id=$(submit "{\"idempotencyKey\":\"$variant-$gib\",\"kind\":\"RESTORE\",\"restore\":{\"imageName\":\"$name\",\"timeoutSeconds\":600}}")
    local first; first=$(first_answer $port "$before" "$t0")
    s=$(await_op "$id"); echo "$s" >"$work/logs/$variant-$gib.json"; log "$variant: $s"
    local ok=false; [ "$(infer $port 2>/dev/null)" = "$before" ] && [ "$first" -ge 0 ] && ok=true
    row "$gib,$variant,$ok,$ckpt_ms,$first,$(echo "$s" | field timings.verify),$(echo "$s" | field timings.criuRestore),$(echo "$s" | field timings.cudaInit),$(echo "$s" | field timings.gpuRestore),$(echo "$s" | field timings.gpuUnlock),,$img_mib,$gpu_mib"
    kill_tree "$(echo "$s" | field restoredPid)"
  done

  # (d) prepare, then activate (warm pool still held)
  t0=$(now_ms)
  id=$(submit "{\"idempotencyKey\":\"prepare-$gib\",\"kind\":\"RESTORE\",\"restore\":{\"imageName\":\"$name\",\"timeoutSeconds\":600,\"prepareOnly\":true}}")
  s=$(await_op "$id"); local prep_rc=$? prep_ms=$(( $(now_ms) - t0 )); echo "$s" >"$work/logs/prepare-$gib.json"; log "prepare ($prep_rc) in $prep_ms ms: $s"
  local ppid; ppid=$(echo "$s" | field restoredPid)
  local held; held=$(nvidia-smi --query-compute-apps=pid,used_memory --format=csv,noheader,nounits | awk -F, -v p=$ppid '$1==p{print $2+0}')
  log "prepared process $ppid holds ${held:-0} MiB of GPU memory"
  row "$gib,prepare,$([ $prep_rc -eq 0 ] && echo true || echo false),$ckpt_ms,,$(echo "$s" | field timings.verify),$(echo "$s" | field timings.criuRestore),$(echo "$s" | field timings.cudaInit),,,$prep_ms,$img_mib,${held:-0}"
  if [ $prep_rc -eq 0 ]; then
    sleep 2  # a standby waits; activation is timed on its own
    t0=$(now_ms)
    local aid; aid=$(submit "{\"idempotencyKey\":\"activate-$gib\",\"kind\":\"ACTIVATE\",\"activate\":{\"restoreOperationId\":\"$id\",\"timeoutSeconds\":600}}")
    local first; first=$(first_answer $port "$before" "$t0")
    s=$(await_op "$aid"); echo "$s" >"$work/logs/activate-$gib.json"; log "activate: $s"
    local ok=false; [ "$(infer $port 2>/dev/null)" = "$before" ] && [ "$first" -ge 0 ] && ok=true
    row "$gib,activate,$ok,$ckpt_ms,$first,,,,$(echo "$s" | field timings.gpuRestore),$(echo "$s" | field timings.gpuUnlock),$prep_ms,$img_mib,$gpu_mib"
  fi
  kill_tree "$ppid"
  stop_agent
  rm -rf "$store"/*
}

for gib in $sizes; do bench_size "$gib"; done
stop_agent
pkill -9 -f samples/cuda-workload/ 2>/dev/null
python3 "$repo/bench/gpu_restore_report.py" "$csv" "$OUT" "$(head -2 "$OUT/machine.txt" | tail -1)"
tar -C "$work" -czf "$OUT/logs.tar.gz" logs
