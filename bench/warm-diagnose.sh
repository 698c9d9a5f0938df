#!/usr/bin/env bash
# Diagnoses a Warm standby (a restore that leaves CUDA state checkpointed) on a GPU machine, with CRIU,
# our plugin and the exec-per-action helper only (no agent), on the sample server and a transformers
# server, and compares CRIU's own page restore with the patched parallel one on the same image.
# For each workload: dump, then
#   full-serial    full restore, CRIU_PAGE_RESTORE_THREADS=0 (CRIU's own path)
#   full-parallel  full restore, the patched path
#   warm-wait      deferred GPU restore, the tree running; driver queries at once and after 2 s, then
#                  the driver's restore + unlock
#   warm-stopped   deferred, --leave-stopped; after 2 s SIGCONT, then restore + unlock at once
#   warm-now       deferred, restore + unlock at once
# Output: $OUT/diag.txt (and logs.tar.gz). Needs .carry/gpu (scripts/prepare-gpu-carry.sh).
set -uo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
carry=$repo/.carry/gpu
OUT=${OUT:-/tmp/warm-diag-out}
gib=${1:-4}
work=/tmp/ws-diag
mkdir -p "$OUT" "$work/logs" "$work/plugin"
exec > >(tee -a "$OUT/diag.txt") 2>&1
tar -C "$work" -xJf "$carry/criu.tar.xz"
criu=$work/criu/bin/criu
cp "$carry/warmstart_cuda_plugin.so" "$work/plugin/"
helper=$carry/cuda-checkpoint; chmod +x "$helper" 2>/dev/null || { cp "$helper" "$work/cc"; helper=$work/cc; chmod +x "$helper"; }
export WARMSTART_LIBCUDA=$(ldconfig -p | awk '/libcuda.so.1 /{print $NF; exit}')
now_ms() { date +%s%3N; }
log() { echo "[$(date +%T)] $*"; }
log "host: $(nproc) cores, THP $(cat /sys/kernel/mm/transparent_hugepage/enabled), amx: $(grep -o 'amx[a-z_0-9]*' /proc/cpuinfo | sort -u | tr '\n' ' ')"
log "criu: $($criu --version | head -1)"

infer() { curl -sf --max-time 60 -X POST "http://127.0.0.1:$1/infer" | python3 -c 'import json,sys; print(json.load(sys.stdin)["checksum"])'; }
ready() { for _ in $(seq 1 600); do curl -sf "http://127.0.0.1:$1/health" >/dev/null && return 0; sleep 0.5; done; return 1; }
first_answer() { # PORT EXPECTED T0
  while [ $(( $(now_ms) - $3 )) -lt 120000 ]; do
    local c; c=$(infer "$1" 2>/dev/null) && { [ "$c" = "$2" ] && { echo $(( $(now_ms) - $3 )); return 0; } || { echo "WRONG:$c"; return 1; }; }
    sleep 0.02
  done
  echo none; return 1
}
tree_of() { echo "$1"; pgrep -P "$1" | while read -r c; do tree_of "$c"; done; }
kill_tree() { for p in $(tree_of "$1"); do kill -9 "$p" 2>/dev/null; done; for _ in $(seq 1 300); do kill -0 "$1" 2>/dev/null || break; sleep 0.02; done; sleep 1; }
driver() { # what the driver says about a pid
  echo "tid=$("$helper" --get-restore-tid --pid "$1" 2>&1 | tr '\n' ' ') state=$(timeout 10 "$helper" --get-state --pid "$1" 2>&1 | tr '\n' ' ')"
}
threads() { # state and name of every thread
  for t in /proc/"$1"/task/*; do printf '%s:%s:%s ' "${t##*/}" "$(awk '{print $3}' "$t/stat" 2>/dev/null)" "$(cat "$t/comm" 2>/dev/null)"; done; echo
}
restore() { # IMG NAME [extra criu args] -> pid in $RPID, ms in $RMS
  rm -f "$work/pid"; local t0; t0=$(now_ms)
  "$criu" restore -D "$1" -o "restore-$2.log" -v4 -d --tcp-established --libdir "$work/plugin" --pidfile "$work/pid" "${@:3}" \
    >"$work/logs/console-$2.txt" 2>&1
  local rc=$?; RMS=$(( $(now_ms) - t0 )); RPID=$(cat "$work/pid" 2>/dev/null || echo -1)
  cp "$1/restore-$2.log" "$work/logs/" 2>/dev/null
  log "$2: criu restore rc=$rc in $RMS ms, pid $RPID; $(grep -h 'page-threads: read' "$1/restore-$2.log" | sed 's/.*page-threads: //' | tr '\n' ' ')"
  return $rc
}

one() { # NAME SCRIPT PORT
  local name=$1 port=$3 img=/dev/shm/ws-diag-$1
  rm -rf "$img"; mkdir -p "$img"
  setsid python3 "$2" --port "$port" --gib "$gib" >"$work/logs/server-$name.log" 2>&1 </dev/null &
  local pid=$!
  ready "$port" || { log "$name not ready"; tail -20 "$work/logs/server-$name.log"; return; }
  local want; want=$(infer "$port"); log "$name: pid $pid, $(ls /proc/$pid/task | wc -l) threads, checksum $want"
  log "$name: $(nvidia-smi --query-compute-apps=pid,used_memory --format=csv,noheader | grep "^$pid")"
  local t0; t0=$(now_ms)
  "$criu" dump -t "$pid" -D "$img" -o dump.log -v4 --tcp-established --libdir "$work/plugin" >"$work/logs/dump-$name.txt" 2>&1
  log "$name: dump rc=$? in $(( $(now_ms) - t0 )) ms, image $(du -sm "$img" | cut -f1) MiB"
  cp "$img/dump.log" "$work/logs/dump-$name.log"
  kill_tree "$pid"

  for th in 0 16; do
    t0=$(now_ms)
    CRIU_PAGE_RESTORE_THREADS=$th restore "$img" "$name-full-t$th"
    log "$name-full-t$th: first answer $(first_answer "$port" "$want" "$t0") ms"
    kill_tree "$RPID"
  done

  WARMSTART_RESTORE_STAGE=PROCESSES restore "$img" "$name-warm-wait"
  log "$name-warm-wait at once: $(driver "$RPID")"; log "threads: $(threads "$RPID")"
  sleep 2
  log "$name-warm-wait after 2 s: $(driver "$RPID")"; log "threads: $(threads "$RPID")"
  t0=$(now_ms)
  log "restore: $(timeout 120 "$helper" --action restore --pid "$RPID" 2>&1) unlock: $(timeout 60 "$helper" --action unlock --pid "$RPID" 2>&1)"
  log "$name-warm-wait: first answer $(first_answer "$port" "$want" "$t0") ms"
  kill_tree "$RPID"

  WARMSTART_RESTORE_STAGE=PROCESSES restore "$img" "$name-warm-stopped" --leave-stopped
  log "$name-warm-stopped at once: $(driver "$RPID")"; log "threads: $(threads "$RPID")"
  sleep 2
  t0=$(now_ms)
  for p in $(tree_of "$RPID"); do kill -CONT "$p"; done
  log "after SIGCONT: $(driver "$RPID")"
  log "restore: $(timeout 120 "$helper" --action restore --pid "$RPID" 2>&1) unlock: $(timeout 60 "$helper" --action unlock --pid "$RPID" 2>&1)"
  log "$name-warm-stopped: first answer $(first_answer "$port" "$want" "$t0") ms"
  kill_tree "$RPID"

  WARMSTART_RESTORE_STAGE=PROCESSES restore "$img" "$name-warm-now"
  t0=$(now_ms)
  log "restore: $(timeout 120 "$helper" --action restore --pid "$RPID" 2>&1) unlock: $(timeout 60 "$helper" --action unlock --pid "$RPID" 2>&1)"
  log "$name-warm-now: first answer $(first_answer "$port" "$want" "$t0") ms"
  kill_tree "$RPID"
  rm -rf "$img"
}

one sample "$repo/samples/cuda-workload/server.py" 18101
one transformers "$repo/samples/cuda-workload/transformers_server.py" 18102
tar -C "$work" -czf "$OUT/logs.tar.gz" logs
