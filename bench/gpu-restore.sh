#!/usr/bin/env bash
# GPU restore benchmark, one run on one GPU machine, the same workload and image per size:
#   baseline     CRIU + its plugins/cuda + the exec-per-action cuda-checkpoint helper (what users have today),
#                CRIU's own serial page restore (CRIU_PAGE_RESTORE_THREADS=0)
#   cold-stock   a full restore through the node agent with CRIU's own page restore (threads 0)
#   cold         a full restore through the node agent, our CRIU build (parallel, huge-page page restore,
#                verification overlapped with the restore behind the plugin's gate)
#   cold-thp     the same with THP "always" while the agent works
#   warm         a Warm standby (CRIU restore only, no GPU memory held), timed from the ACTIVATE request
#   hot          a Hot standby (GPU memory restored, process locked), timed from the ACTIVATE request
#   *-shim       the same server started under the GPU memory shim (LD_PRELOAD libwarmstart_gpumem.so,
#                gpu-shim/): checkpoint-shim (leave running), cold-shim, warm-shim (standby holding 0 MiB of
#                GPU memory), and request-plain / request-shim: the median of 30 requests without and with
#                the shim, nobody checkpointing (SHIM=0 skips these rows)
# Checkpoints: the agent's leave-running checkpoint (and with THP "always", of the cold-thp restore) beside
# the baseline's dump; "frozen" is how long the workload's CUDA work was held (lock to unlock).
# Workloads (WORKLOAD=...): sample (samples/cuda-workload/server.py) or transformers
# (samples/cuda-workload/transformers_server.py, a Llama-architecture model built on the GPU).
# Metric: request → first correct answer (the checksum the server gave before the checkpoint), plus every
# phase the agent reports. Output under $OUT: gpu-restore.csv, gpu-restore.md, gpu-restore.png, machine.txt,
# logs.tar.gz. Needs .carry/gpu from scripts/prepare-gpu-carry.sh. Usage: bench/gpu-restore.sh [GIB ...] (default: 4 16)
set -uo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
carry=$repo/.carry/gpu
OUT=${OUT:-/tmp/gpu-restore-out}
sizes=${*:-4 16}
workload=${WORKLOAD:-sample}
case $workload in
  sample) server_py=$repo/samples/cuda-workload/server.py ;;
  transformers) server_py=$repo/samples/cuda-workload/transformers_server.py ;;
  *) echo "WORKLOAD must be sample or transformers" >&2; exit 2 ;;
esac
work=/tmp/ws-bench
store=/dev/shm/ws-store
# A warm machine keeps /tmp and, after a killed run, its processes: start clean.
pkill -9 -f quarkus-run.jar 2>/dev/null; pkill -9 -f samples/cuda-workload/ 2>/dev/null
rm -rf "$work/journal" "$work/logs"
mkdir -p "$OUT" "$work/logs"
rm -rf "$store" /dev/shm/ws-base; mkdir -p "$store" /dev/shm/ws-base
csv=$OUT/gpu-restore.csv
echo "gib,variant,thp,ok,checkpoint_ms,restore_to_first_answer_ms,verify_ms,criu_restore_ms,cuda_init_ms,gpu_restore_ms,gpu_unlock_ms,prepare_ms,image_mib,gpu_mib,frozen_ms,verify_pages_ms,verify_held_ms,request_ms,gpu_memory_ms" >"$csv"

. "$repo/bench/lib/agent.sh"

# --- set-up: CRIU, plugins, a Java runtime with the agent --------------------------------------------
unpack_carry
base=$work/base; helper=$work/helper
mkdir -p "$base" "$helper"
shim_lib=$work/shim/libwarmstart_gpumem.so
mkdir -p "$work/shim"; cp "$carry/libwarmstart_gpumem.so" "$shim_lib" 2>/dev/null || { log "no shim in the carry: no *-shim rows"; SHIM=0; }
cp "$carry/cuda_plugin.so" "$base/"
cp "$carry/cuda-checkpoint" "$helper/cuda-checkpoint"
{
  echo "host: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB, kernel $(uname -r), THP $(cat /sys/kernel/mm/transparent_hugepage/enabled)"
  nvidia-smi --query-gpu=name,uuid,driver_version,memory.total --format=csv,noheader
  echo "criu: $($criu --version | head -1) with $(ls "$work"/criu/share/criu/*.patch 2>/dev/null | xargs -n1 basename | tr '\n' ' '), java: $("$work/jre/bin/java" -version 2>&1 | head -1)"
  echo "workload: $workload"
  python3 -c 'import torch; print("torch", torch.__version__)'
} | tee "$OUT/machine.txt" >&2

# --- the workload -------------------------------------------------------------------------------------
server_shim() { # PORT GIB -> pid: the same server, its large allocations managed by the shim
  LD_PRELOAD=$shim_lib \
    setsid python3 "$server_py" --port "$1" --gib "$2" >>"$work/logs/server-shim-$1.log" 2>&1 </dev/null &
  echo $!
}
latency() { # PORT -> median ms of 30 requests (after 3 unmeasured)
  python3 - "$1" <<'PY'
import statistics, sys, time, urllib.request
url = f"http://127.0.0.1:{sys.argv[1]}/infer"
def one():
    t = time.perf_counter(); urllib.request.urlopen(urllib.request.Request(url, method="POST"), timeout=60).read()
    return (time.perf_counter() - t) * 1000
for _ in range(3): one()
print(round(statistics.median(one() for _ in range(30)), 2))
PY
}
row() { echo "$*" >>"$csv"; log "row: $*"; }

# --- one size ---------------------------------------------------------------------------------------
restore_measured() {
  local t0 id s first ok=false; t0=$(now_ms)
  id=$(submit "$(restore_req "$6" "$7")")
  first=$(first_answer "$4" "$5" "$t0"); s=$(await_op "$id"); echo "$s" >"$work/logs/$6.json"
  [ "$(infer "$4" 2>/dev/null)" = "$5" ] && [ "$first" -ge 0 ] && ok=true
  row "$3,$1,$2,$ok,$8,$first,$(echo "$s" | field timings.verify),$(echo "$s" | field timings.criuRestore),$(echo "$s" | field timings.cudaInit),$(echo "$s" | field timings.gpuRestore),$(echo "$s" | field timings.gpuUnlock),,$9,${10},${11:-},$(echo "$s" | field timings.verifyPages),$(echo "$s" | field timings.verifyHeld),,$(echo "$s" | field timings.gpuMemoryRestore)"
  [ "${KEEP:-}" = 1 ] || kill_tree "$(echo "$s" | field restoredPid)"
  RESTORED_PID=$(echo "$s" | field restoredPid)
}
# standby VARIANT THP GIB PORT EXPECTED KEY IMAGE CKPT_MS IMG_MIB GPU_MIB HOT(true|false)
standby() {
  local t0 id s rc prep_ms pid held aid first ok=false extra=",\"stage\":\"PROCESSES\""
  [ "${11}" = true ] && extra=",\"stage\":\"GPU_LOCKED\""
  t0=$(now_ms); id=$(submit "$(restore_req "$6" "$7" "$extra")"); s=$(await_op "$id"); rc=$?
  prep_ms=$(( $(now_ms) - t0 )); echo "$s" >"$work/logs/$6.json"
  pid=$(echo "$s" | field restoredPid); held=$(gpu_mib_of "$pid")
  log "$1 prepared ($rc) in $prep_ms ms; process $pid holds ${held:-0} MiB"
  [ $rc -eq 0 ] || { row "$3,$1,$2,false,$8,,,,,,,$prep_ms,$9,${held:-0}"; kill_tree "$pid"; return; }
  sleep 2
  t0=$(now_ms)
  aid=$(submit "{\"idempotencyKey\":\"act-$6\",\"kind\":\"ACTIVATE\",\"activate\":{\"restoreOperationId\":\"$id\",\"timeoutSeconds\":600}}")
  first=$(first_answer "$4" "$5" "$t0"); local a; a=$(await_op "$aid"); echo "$a" >"$work/logs/act-$6.json"
  [ "$(infer "$4" 2>/dev/null)" = "$5" ] && [ "$first" -ge 0 ] && ok=true
  row "$3,$1,$2,$ok,$8,$first,$(echo "$s" | field timings.verify),$(echo "$s" | field timings.criuRestore),$(echo "$s" | field timings.cudaInit),$(echo "$a" | field timings.gpuRestore),$(echo "$a" | field timings.gpuUnlock),$prep_ms,$9,${held:-0},,$(echo "$s" | field timings.verifyPages),$(echo "$s" | field timings.verifyHeld),,$(echo "$a" | field timings.gpuMemoryRestore)"
  [ "$ok" = true ] || log "$1 activation: $a"
  kill_tree "$pid"
}

bench_size() { # GIB
  local gib=$1 pa=$((18000 + gib))
  rm -rf "$store"/* /dev/shm/ws-base/*
  pkill -9 -f samples/cuda-workload/ 2>/dev/null; sleep 1
  start_agent true "" || return
  local pid; pid=$(server $pa "$gib"); log "server ${gib} GiB pid $pid"
  ready $pa || { log "server not ready"; tail -20 "$work/logs/server-$pa.log" >&2; return; }
  local before; before=$(infer $pa); log "checksum before: $before; $(curl -sf "http://127.0.0.1:$pa/health")"
  local gpu_mib; gpu_mib=$(gpu_mib_of "$pid")
  local rq t1; t1=$(now_ms); infer $pa >/dev/null; rq=$(( $(now_ms) - t1 )) # one request, for Hot's "request + x"

  checkpoint "ck-$gib" "$pid" "a-$gib" true; local ck_ms=$CK_MS ck_mib=$CK_MIB ck_frozen=$CK_FROZEN
  row "$gib,checkpoint,node,true,$ck_ms,,,,,,,,$ck_mib,$gpu_mib,$ck_frozen,,,$rq"
  [ "$(infer $pa)" = "$before" ] || log "WARNING: server answers differently after the checkpoint"

  # Baseline: CRIU + plugins/cuda + helper dumps the same server (and stops it), then restores.
  local bimg=/dev/shm/ws-base/a t0; mkdir -p "$bimg"
  t0=$(now_ms)
  CRIU_PAGE_RESTORE_THREADS=0 PATH=$helper:$PATH CUDA_HELPER_LOG=$work/logs/helper-dump-$gib.log timeout 600 "$criu" dump -t "$pid" -D "$bimg" -o dump.log -v4 \
    --tcp-established --libdir "$base" >/dev/null 2>&1
  local bdump_rc=$? bdump_ms=$(( $(now_ms) - t0 ))
  log "baseline dump ($bdump_rc) in $bdump_ms ms"
  kill_tree "$pid"
  if [ $bdump_rc -eq 0 ]; then
    rm -f "$work/base.pid"; t0=$(now_ms)
    CRIU_PAGE_RESTORE_THREADS=0 PATH=$helper:$PATH CUDA_HELPER_LOG=$work/logs/helper-restore-$gib.log timeout 600 "$criu" restore -D "$bimg" -o restore.log -v4 -d \
      --tcp-established --libdir "$base" --pidfile "$work/base.pid" >/dev/null 2>&1
    local brestore_ms=$(( $(now_ms) - t0 ))
    local first; first=$(first_answer $pa "$before" "$t0")
    local ok=false; [ "$(infer $pa 2>/dev/null)" = "$before" ] && [ "$first" -ge 0 ] && ok=true
    row "$gib,baseline,node,$ok,$bdump_ms,$first,,$brestore_ms,,,,,$(du -sm "$bimg" | cut -f1),$gpu_mib,,,"
    for f in "$bimg"/*.log; do cp "$f" "$work/logs/baseline-$gib-$(basename "$f")"; done
    kill_tree "$(cat "$work/base.pid" 2>/dev/null || echo -1)"
  fi
  rm -rf "$bimg"

  start_agent true "" 0 || return
  restore_measured cold-stock node "$gib" $pa "$before" "coldstock-$gib" "a-$gib" "$ck_ms" "$ck_mib" "$gpu_mib"
  start_agent true "" || return
  restore_measured cold node "$gib" $pa "$before" "cold-$gib" "a-$gib" "$ck_ms" "$ck_mib" "$gpu_mib"
  standby warm node "$gib" $pa "$before" "warm-$gib" "a-$gib" "$ck_ms" "$ck_mib" "$gpu_mib" false
  standby hot node "$gib" $pa "$before" "hot-$gib" "a-$gib" "$ck_ms" "$ck_mib" "$gpu_mib" true

  start_agent true always || return
  KEEP=1 restore_measured cold-thp always "$gib" $pa "$before" "coldthp-$gib" "a-$gib" "$ck_ms" "$ck_mib" "$gpu_mib"
  local rp=$RESTORED_PID
  if [ -n "$rp" ] && [ "$rp" != -1 ]; then
    checkpoint "ckthp-$gib" "$rp" "thp-$gib" true
    row "$gib,checkpoint-thp,always,true,$CK_MS,,,,,,,,$CK_MIB,$gpu_mib,$CK_FROZEN,,"
    kill_tree "$rp"
  fi
  stop_agent
  rm -rf "$store"/*
  [ "${SHIM:-1}" = 1 ] && bench_shim "$gib"
}

# The same server under the GPU memory shim: its payload leaves and returns over the shim's pinned copies.
bench_shim() { # GIB
  local gib=$1 pp=$((18100 + gib)) ps=$((18200 + gib))
  rm -rf "$store"/*
  pkill -9 -f samples/cuda-workload/ 2>/dev/null; sleep 1
  start_agent true "" || return
  # Request latency without and with the shim, the two servers side by side, nobody checkpointing.
  local plain shimmed; plain=$(server $pp "$gib")
  ready $pp || { log "plain server not ready"; return; }
  row "$gib,request-plain,node,true,,,,,,,,,,$(gpu_mib_of "$plain"),,,,$(latency $pp),"
  kill_tree "$plain"
  shimmed=$(server_shim $ps "$gib")
  ready $ps || { log "shim server not ready"; tail -20 "$work/logs/server-shim-$ps.log" >&2; return; }
  local before gpu_mib; before=$(infer $ps); gpu_mib=$(gpu_mib_of "$shimmed")
  log "shim server: $(grep -c warmstart-gpumem "$work/logs/server-shim-$ps.log") shim log lines; $(curl -sf "http://127.0.0.1:$ps/health")"
  row "$gib,request-shim,node,true,,,,,,,,,,$gpu_mib,,,,$(latency $ps),"
  checkpoint "cks-$gib" "$shimmed" "s-$gib" true
  local ok=false; [ "$(infer $ps)" = "$before" ] && ok=true
  row "$gib,checkpoint-shim,node,$ok,$CK_MS,,,,,,,,$CK_MIB,$gpu_mib,$CK_FROZEN,,,,$CK_GPUMEM"
  local ck_ms=$CK_MS ck_mib=$CK_MIB
  kill_tree "$shimmed"
  restore_measured cold-shim node "$gib" $ps "$before" "colds-$gib" "s-$gib" "$ck_ms" "$ck_mib" "$gpu_mib"
  standby warm-shim node "$gib" $ps "$before" "warms-$gib" "s-$gib" "$ck_ms" "$ck_mib" "$gpu_mib" false
  stop_agent
  rm -rf "$store"/*
}

for gib in $sizes; do bench_size "$gib"; done
stop_agent
pkill -9 -f samples/cuda-workload/ 2>/dev/null
python3 "$repo/bench/gpu_restore_report.py" "$csv" "$OUT" "$(head -2 "$OUT/machine.txt" | tail -1), $workload workload"
tar -C "$work" -czf "$OUT/logs.tar.gz" logs
