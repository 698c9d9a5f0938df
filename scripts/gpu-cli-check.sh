#!/usr/bin/env bash
# The warmstart CLI on a GPU machine, from the GPU carry (its jar and launcher as the agent image ships them),
# both ways a user runs it, against the sample server (samples/cuda-workload/server.py, GIB of weights):
#   agent  `warmstart --agent-socket SOCK ...`: checkpoint, then each restore stage through the running agent
#          (processes + activate, gpu-locked + activate, running)
#   local  `warmstart --store DIR ...` with no agent: the CLI drives CRIU and the plugin itself, the same stages
# A case passes when the restored server answers the checksum it gave before the checkpoint. Output under $OUT:
# cli-check.csv, the CLI's own output per step (logs.tar.gz). Exit 0 only if every case passed.
# Needs .carry/gpu from scripts/prepare-gpu-carry.sh. Usage: scripts/gpu-cli-check.sh  (GIB=2)
set -uo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
carry=$repo/.carry/gpu
OUT=${OUT:-/tmp/gpu-cli-check-out}
gib=${GIB:-2}
work=/tmp/ws-cli
store=/dev/shm/ws-cli-store
pkill -9 -f quarkus-run.jar 2>/dev/null; pkill -9 -f samples/cuda-workload/ 2>/dev/null
rm -rf "$work" "$store"; mkdir -p "$OUT" "$work/logs" "$store"
csv=$OUT/cli-check.csv
echo "mode,case,ok,rc,ms,detail" >"$csv"
server_py=$repo/samples/cuda-workload/server.py
. "$repo/bench/lib/agent.sh"

unpack_carry
export WARMSTART_CRIU=$criu WARMSTART_PLUGIN_DIR=$ours WARMSTART_LIBCUDA=$libcuda
cli=$work/bin/warmstart
failed=0
case_row() { # MODE CASE OK RC MS DETAIL
  echo "$1,$2,$3,$4,$5,\"$6\"" >>"$csv"; log "$1 $2: ok=$3 rc=$4 ${5} ms $6"; [ "$3" = true ] || failed=1
}
run_cli() { # NAME ARGS... -> stdout of the CLI (also logged); rc
  local name=$1; shift
  "$cli" "$@" >"$work/logs/$name.out" 2>"$work/logs/$name.err"; local rc=$?
  cat "$work/logs/$name.out"; return $rc
}
json_field() { python3 -c 'import json,sys; d=json.load(sys.stdin); v=d
for k in sys.argv[1].split("."): v=(v or {}).get(k)
print("" if v is None else v)' "$1" 2>/dev/null; }
why() { [ "$1" = 0 ] || tail -c 300 "$work/logs/$2.err" "$work/logs/$2.out" 2>/dev/null | tr '\n",' '   '; }
answers() { [ "$(infer "$1" 2>/dev/null)" = "$2" ]; }

one_mode() { # MODE (agent|local)
  local mode=$1 port=18400 g=() pid before t0 out rc ok
  [ "$mode" = agent ] && g=(--agent-socket "$sock") || g=(--store "$store/local")
  pid=$(server $port "$gib"); ready $port || { case_row "$mode" start false 1 0 "server not ready"; return; }
  before=$(infer $port)
  t0=$(now_ms); out=$(run_cli "$mode-checkpoint" "${g[@]}" --json checkpoint --pid "$pid" --name "img-$mode" --stop); rc=$?
  case_row "$mode" checkpoint "$([ $rc = 0 ] && echo true || echo false)" $rc $(( $(now_ms) - t0 )) "$(why $rc "$mode-checkpoint")"
  kill_tree "$pid"
  for stage in processes gpu-locked running; do
    t0=$(now_ms); out=$(run_cli "$mode-restore-$stage" "${g[@]}" --json restore "img-$mode" --stage "$stage"); rc=$?
    local rpid op; rpid=$(echo "$out" | json_field restoredPid); [ -n "$rpid" ] || rpid=$(echo "$out" | json_field pid)
    op=$(echo "$out" | json_field id)
    if [ $rc = 0 ] && [ "$stage" != running ]; then
      if [ "$mode" = agent ]; then
        run_cli "$mode-activate-$stage" "${g[@]}" --json activate --operation "$op" >/dev/null; rc=$?
      else
        run_cli "$mode-activate-$stage" "${g[@]}" --json activate --image "img-$mode" --pid "$rpid" >/dev/null; rc=$?
      fi
    fi
    ok=false; [ $rc = 0 ] && answers $port "$before" && ok=true
    case_row "$mode" "restore-$stage" $ok $rc $(( $(now_ms) - t0 )) "pid $rpid $(why $rc "$mode-restore-$stage")"
    kill_tree "$rpid"
  done
}

start_agent true "" || exit 1
one_mode agent
stop_agent
one_mode local
pkill -9 -f samples/cuda-workload/ 2>/dev/null
cat "$csv" >&2
tar -C "$work" -czf "$OUT/logs.tar.gz" logs
rm -rf "$store"
exit $failed
