#!/usr/bin/env bash
# Who should own the GPU restore (issue #16): the same image, the same machine, one run, two owners side by side.
#   plugin  the C code (native-plugin: plugin.c inside CRIU for a Cold restore; warmstart-cuda, ctl.c, a fresh
#           process, for a staged activation)
#   agent   the node agent's Java (gpu/GpuActivator: the driver's restore and unlock called in-process over JNA,
#           every CUDA process of the tree in parallel)
# Variants, each REPS times per workload (sample: samples/cuda-workload/server.py; transformers:
# transformers_server.py), GIB of weights:
#   cold-plugin   one RESTORE, the plugin restores and unlocks the GPU inside CRIU
#   cold-agent    RESTORE stage PROCESSES (the plugin leaves the GPU checkpointed) then at once ACTIVATE (the agent)
#   warm-agent    a prepared Warm standby, ACTIVATE through the agent
#   warm-plugin   a prepared Warm standby, activated by warmstart-cuda (the plugin's C code, fresh process)
#   hot-agent     a prepared Hot standby (GPU restored, locked), ACTIVATE through the agent (the unlock)
#   hot-plugin    a prepared Hot standby, unlocked by warmstart-cuda
# Columns: first_answer_ms (request -> the pre-checkpoint checksum, polled by curl + python, ~50 ms grain);
# owner_ms: the owner's own time for the GPU part (agent: timings.activate, in-process; plugin-tool: the wall
# time of the warmstart-cuda process, exec and cuInit included; cold-plugin: the plugin's gpuRestore+gpuUnlock);
# path: which code did the GPU work (the agent's timings say whether it fell back to a fresh process).
# The measurement chose the C code (bench/results/gpu-restore-owner-h200), and the agent's in-process restore was
# deleted: since then the *-agent rows run the same warmstart-cuda through the agent's API (what they add is the
# API's own cost), and cold-agent is the prepare-then-activate path a user can take.
# Output under $OUT: owner.csv, owner.md (medians), machine.txt, logs.tar.gz. Needs .carry/gpu
# (scripts/prepare-gpu-carry.sh). Usage: bench/gpu-restore-owner.sh  (GIB=4 REPS=3 WORKLOADS="sample transformers")
set -uo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
carry=$repo/.carry/gpu
OUT=${OUT:-/tmp/gpu-owner-out}
gib=${GIB:-4}
reps=${REPS:-3}
workloads=${WORKLOADS:-sample transformers}
work=/tmp/ws-owner
store=/dev/shm/ws-owner-store
pkill -9 -f quarkus-run.jar 2>/dev/null; pkill -9 -f samples/cuda-workload/ 2>/dev/null
rm -rf "$work" "$store"; mkdir -p "$OUT" "$work/logs" "$store"
csv=$OUT/owner.csv
echo "workload,gib,variant,rep,ok,first_answer_ms,owner_ms,criu_restore_ms,gpu_restore_ms,gpu_unlock_ms,path" >"$csv"
server_py=
. "$repo/bench/lib/agent.sh"

unpack_carry
{
  echo "host: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB, kernel $(uname -r)"
  nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader
  echo "criu: $($criu --version | head -1); GIB=$gib REPS=$reps"
} | tee "$OUT/machine.txt" >&2
row() { echo "$*" >>"$csv"; log "row: $*"; }

prepare() { # KEY IMAGE HOT(true|false) -> sets PREP_ID, PREP_PID, PREP_STATUS; rc
  local extra=",\"stage\":\"PROCESSES\""; [ "$3" = true ] && extra=",\"stage\":\"GPU_LOCKED\""
  PREP_ID=$(submit "$(restore_req "$1" "$2" "$extra")"); PREP_STATUS=$(await_op "$PREP_ID"); local rc=$?
  echo "$PREP_STATUS" >"$work/logs/$1.json"
  PREP_PID=$(echo "$PREP_STATUS" | field restoredPid)
  return $rc
}
activate_agent() { # KEY -> sets ACT_STATUS; rc
  local aid; aid=$(submit "{\"idempotencyKey\":\"act-$1\",\"kind\":\"ACTIVATE\",\"activate\":{\"restoreOperationId\":\"$PREP_ID\",\"timeoutSeconds\":600}}")
  ACT_STATUS=$(await_op "$aid"); local rc=$?; echo "$ACT_STATUS" >"$work/logs/act-$1.json"; return $rc
}
agent_path() { # STATUS -> what did the GPU work for the agent (before the deletion: in-process unless freshDriver)
  [ "$(echo "$1" | field timings.freshDriver)" = -1 ] && [ "$(echo "$1" | field timings.cudaScan)" != -1 ] \
    && echo agent-inprocess || echo agent-via-warmstart-cuda
}

one_workload() { # WORKLOAD
  local w=$1 port=18300 pid before r t0 first s ok
  case $w in
    sample) server_py=$repo/samples/cuda-workload/server.py ;;
    transformers) server_py=$repo/samples/cuda-workload/transformers_server.py ;;
  esac
  rm -rf "$store"/*; pkill -9 -f samples/cuda-workload/ 2>/dev/null; sleep 1
  start_agent true "" || return
  pid=$(server $port "$gib"); ready $port || { log "$w not ready"; tail -20 "$work/logs/server-$port.log" >&2; return; }
  before=$(infer $port); log "$w checksum before: $before"
  checkpoint "ck-$w" "$pid" "img-$w" false || { log "checkpoint failed: $(cat "$work/logs/checkpoint-ck-$w.json")"; return; }
  kill_tree "$pid"
  for r in $(seq 1 "$reps"); do
    # cold-plugin
    t0=$(now_ms); id=$(submit "$(restore_req "cp-$w-$r" "img-$w")")
    first=$(first_answer $port "$before" "$t0"); s=$(await_op "$id"); echo "$s" >"$work/logs/cp-$w-$r.json"
    ok=false; [ "$(infer $port 2>/dev/null)" = "$before" ] && [ "$first" -ge 0 ] && ok=true
    local gr gu; gr=$(echo "$s" | field timings.gpuRestore); gu=$(echo "$s" | field timings.gpuUnlock)
    row "$w,$gib,cold-plugin,$r,$ok,$first,$(( gr + gu )),$(echo "$s" | field timings.criuRestore),$gr,$gu,plugin-in-criu"
    kill_tree "$(echo "$s" | field restoredPid)"

    # cold-agent: prepare, then activate at once
    t0=$(now_ms)
    if prepare "ca-$w-$r" "img-$w" false && activate_agent "ca-$w-$r"; then
      first=$(first_answer $port "$before" "$t0")
      ok=false; [ "$(infer $port 2>/dev/null)" = "$before" ] && [ "$first" -ge 0 ] && ok=true
    else ok=false; first=-1; log "cold-agent failed: $PREP_STATUS ${ACT_STATUS:-}"; fi
    row "$w,$gib,cold-agent,$r,$ok,$first,$(echo "$ACT_STATUS" | field timings.activate),$(echo "$PREP_STATUS" | field timings.criuRestore),$(echo "$ACT_STATUS" | field timings.gpuRestore),$(echo "$ACT_STATUS" | field timings.gpuUnlock),$(agent_path "$ACT_STATUS")"
    kill_tree "$PREP_PID"

    for hot in false true; do
      local kind=warm; [ $hot = true ] && kind=hot
      # through the agent
      prepare "$kind-a-$w-$r" "img-$w" $hot || { row "$w,$gib,$kind-agent,$r,false,-1,,,,,prepare-failed"; kill_tree "$PREP_PID"; continue; }
      sleep 2
      t0=$(now_ms); activate_agent "$kind-a-$w-$r"
      first=$(first_answer $port "$before" "$t0")
      ok=false; [ "$(infer $port 2>/dev/null)" = "$before" ] && [ "$first" -ge 0 ] && ok=true
      row "$w,$gib,$kind-agent,$r,$ok,$first,$(echo "$ACT_STATUS" | field timings.activate),,$(echo "$ACT_STATUS" | field timings.gpuRestore),$(echo "$ACT_STATUS" | field timings.gpuUnlock),$(agent_path "$ACT_STATUS")"
      [ "$ok" = true ] || log "$kind-agent: $ACT_STATUS"
      kill_tree "$PREP_PID"
      # through the plugin's C code in a fresh process
      prepare "$kind-p-$w-$r" "img-$w" $hot || { row "$w,$gib,$kind-plugin,$r,false,-1,,,,,prepare-failed"; kill_tree "$PREP_PID"; continue; }
      sleep 2
      t0=$(now_ms)
      local out t1; out=$(WARMSTART_LIBCUDA=$libcuda "$ours/warmstart-cuda" activate "$PREP_PID" 2>>"$work/logs/tool.err"); t1=$(( $(now_ms) - t0 ))
      echo "$out" >"$work/logs/$kind-p-$w-$r.tool.json"
      first=$(first_answer $port "$before" "$t0")
      ok=false; [ "$(infer $port 2>/dev/null)" = "$before" ] && [ "$first" -ge 0 ] && ok=true
      local tr tu; tr=$(echo "$out" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(round(max([p.get("restoreMs",0) for p in d.get("processes",[])] or [0])))' 2>/dev/null)
      tu=$(echo "$out" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(round(max([p.get("unlockMs",0) for p in d.get("processes",[])] or [0])))' 2>/dev/null)
      row "$w,$gib,$kind-plugin,$r,$ok,$first,$t1,,$tr,$tu,plugin-fresh-process"
      [ "$ok" = true ] || log "$kind-plugin: $out"
      kill_tree "$PREP_PID"
    done
  done
  stop_agent
}

for w in $workloads; do one_workload "$w"; done
stop_agent
pkill -9 -f samples/cuda-workload/ 2>/dev/null
python3 - "$csv" "$OUT/owner.md" "$(sed -n 2p "$OUT/machine.txt")" <<'PY'
import csv, statistics, sys
rows = list(csv.DictReader(open(sys.argv[1])))
out = [f"# Who owns the GPU restore: {sys.argv[3]}", "",
       "| workload | variant | ok | first answer ms (median) | owner ms (median) | gpu restore ms | gpu unlock ms | path |",
       "|---|---|---|---|---|---|---|---|"]
seen = []
for r in rows:
    k = (r["workload"], r["variant"])
    if k not in seen: seen.append(k)
def med(xs):
    xs = [float(x) for x in xs if x not in ("", "-1")]
    return round(statistics.median(xs)) if xs else ""
for k in seen:
    g = [r for r in rows if (r["workload"], r["variant"]) == k]
    out.append(f"| {k[0]} | {k[1]} | {sum(r['ok'] == 'true' for r in g)}/{len(g)} | {med(r['first_answer_ms'] for r in g)} | "
               f"{med(r['owner_ms'] for r in g)} | {med(r['gpu_restore_ms'] for r in g)} | {med(r['gpu_unlock_ms'] for r in g)} | "
               f"{', '.join(sorted(set(r['path'] for r in g)))} |")
open(sys.argv[2], "w").write("\n".join(out) + "\n")
print("\n".join(out))
PY
tar -C "$work" -czf "$OUT/logs.tar.gz" logs
rm -rf "$store"
