# Shared by the GPU scripts (bench/gpu-restore.sh, bench/gpu-restore-owner.sh, scripts/gpu-cross-gpu.sh,
# scripts/gpu-cli-check.sh): the GPU carry unpacked, a node agent started from it and driven over its Unix
# socket, the sample servers, and their checks. Sourced; the caller sets: work (scratch dir, logs under
# $work/logs), store (the agent's image store), carry (.carry/gpu), server_py (the workload's server);
# unpack_carry sets criu, ours (our plugin dir) and libcuda. Every function logs to stderr.

log() { echo "[$(date +%T)] $*" >&2; }

unpack_carry() { # -> $work/{criu,jre,quarkus-app,cli,bin}; sets criu, ours, libcuda
  tar -C "$work" -xJf "$carry/criu.tar.xz"
  tar -C "$work" -xJf "$carry/agent.tar.xz"
  criu=$work/criu/bin/criu
  ours=$work/ours; mkdir -p "$ours"
  cp "$carry/warmstart_cuda_plugin.so" "$carry/warmstart-cuda" "$ours/"
  libcuda=$(ldconfig -p | awk '/libcuda.so.1 /{print $NF; exit}')
}
now_ms() { date +%s%3N; }

# --- the agent ----------------------------------------------------------------------------------------
sock=$work/agent.sock
agent_pid=
start_agent() { # WARM_POOL(true|false) [THP policy during operations] [CRIU page restore threads]
  stop_agent
  rm -f "$sock"
  if [ -n "${2:-}" ]; then export WARMSTART_AGENT_THP=$2; else unset WARMSTART_AGENT_THP; fi
  if [ -n "${3:-}" ]; then export CRIU_PAGE_RESTORE_THREADS=$3; else unset CRIU_PAGE_RESTORE_THREADS; fi
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
  local r; r=$(curl -s --unix-socket "$sock" -H 'Content-Type: application/json' -X POST http://agent/v1/operations -d "$1")
  echo "$r" | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])' 2>/dev/null || { log "refused: $r"; echo none; }
}
op() { curl -sf --unix-socket "$sock" "http://agent/v1/operations/$1"; }
await_op() { # ID -> final status JSON (on stdout); rc 0 if SUCCEEDED
  [ "$1" = none ] && { echo '{}'; return 1; }
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


server() { # PORT GIB -> pid
  setsid python3 "$server_py" --port "$1" --gib "$2" >>"$work/logs/server-$1.log" 2>&1 </dev/null &
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

restore_req() { # KEY IMAGE [EXTRA_JSON]
  echo "{\"idempotencyKey\":\"$1\",\"kind\":\"RESTORE\",\"restore\":{\"imageName\":\"$2\",\"timeoutSeconds\":600${3:-}}}"
}
ckpt_req() { # KEY PID IMAGE LEAVE_RUNNING [HOOK_PORT]
  local hook=""; [ -n "${5:-}" ] && hook=",\"preCheckpointHook\":{\"method\":\"POST\",\"path\":\"/sleep\",\"port\":$5,\"timeoutSeconds\":60}"
  echo "{\"idempotencyKey\":\"$1\",\"kind\":\"CHECKPOINT\",\"checkpoint\":{\"target\":{\"pid\":$2},\"imageName\":\"$3\",\"leaveRunning\":$4,\"timeoutSeconds\":600$hook}}"
}
gpu_mib_of() { nvidia-smi --query-compute-apps=pid,used_memory --format=csv,noheader,nounits | awk -F, -v p=$1 '$1==p{print $2+0}'; }
checkpoint() { # KEY PID IMAGE LEAVE [HOOK_PORT] -> sets CK_MS, CK_MIB; rc
  local t0 id s; t0=$(now_ms)
  id=$(submit "$(ckpt_req "$@")"); s=$(await_op "$id"); local rc=$?
  CK_MS=$(( $(now_ms) - t0 )); CK_MIB=$(du -sm "$store/$3" 2>/dev/null | cut -f1)
  CK_FROZEN=$(echo "$s" | field timings.frozen)
  CK_GPUMEM=$(echo "$s" | field timings.gpuMemoryCheckpoint)
  echo "$s" >"$work/logs/checkpoint-$1.json"; log "checkpoint $1 ($rc) $CK_MS ms, $CK_MIB MiB"
  return $rc
}
# restore_measured VARIANT THP GIB PORT EXPECTED KEY IMAGE CKPT_MS IMG_MIB GPU_MIB: a full restore, timed
