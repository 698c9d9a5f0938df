#!/usr/bin/env bash
# A checkpoint taken on one GPU restored onto ANOTHER GPU of the same model (the driver's UUID remap),
# through the node agent, on a machine with two GPUs (e.g. the device kind nvidia-h200-x2), and the files
# each sample workload writes outside its volumes (what a container's writable layer would hold).
#
# Per workload (sample: samples/cuda-workload/server.py; transformers: transformers_server.py), WORKLOAD_GIB
# of weights (default 4), the server started seeing only GPU A (CUDA_VISIBLE_DEVICES=<A's UUID>, as in a
# container given one GPU) and, for the sample, once more seeing both GPUs:
#   cold    checkpoint (leave running), server killed, RESTORE with targetGpuUuids=[B]
#   warm    RESTORE stage PROCESSES (a Warm standby, no GPU memory held), then ACTIVATE with targetGpuUuids=[B]
# Each case passes when the restored server answers the checksum it gave before the checkpoint AND
# nvidia-smi shows the restored process's memory on B and none on A.
# Writable layer: files created or changed anywhere on the root filesystem while the server starts and
# answers (find -newer a marker; /proc, /sys, /dev, this checkout, the scratch dirs and $OUT excluded), an
# upper bound for what a container of it would write into its overlay upper dir.
# Needs .carry/gpu from scripts/prepare-gpu-carry.sh. Output under $OUT: cross-gpu.csv, cross-gpu.md,
# writable-<workload>.txt, machine.txt, logs.tar.gz. Exit 0 only if every case passed.
set -uo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
carry=$repo/.carry/gpu
OUT=${OUT:-/tmp/gpu-cross-gpu-out}
gib=${WORKLOAD_GIB:-4}
work=/tmp/ws-cross
store=/dev/shm/ws-cross-store
pkill -9 -f quarkus-run.jar 2>/dev/null; pkill -9 -f samples/cuda-workload/ 2>/dev/null
rm -rf "$work" "$store"; mkdir -p "$OUT" "$work/logs" "$store"
csv=$OUT/cross-gpu.csv
echo "workload,visible,case,from_gpu,to_gpu,ok,checksum_identical,mib_on_target,mib_on_source,checkpoint_ms,restore_ms,error" >"$csv"
server_py=
. "$repo/bench/lib/agent.sh"

unpack_carry
mapfile -t uuids < <(nvidia-smi --query-gpu=uuid --format=csv,noheader)
mapfile -t names < <(nvidia-smi --query-gpu=name --format=csv,noheader)
{
  echo "host: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB, kernel $(uname -r)"
  nvidia-smi --query-gpu=index,name,uuid,driver_version,memory.total --format=csv,noheader
  echo "criu: $($criu --version | head -1), java: $("$work/jre/bin/java" -version 2>&1 | head -1)"
  python3 -c 'import torch; print("torch", torch.__version__)'
} | tee "$OUT/machine.txt" >&2
if [ "${#uuids[@]}" -lt 2 ] || [ "${names[0]}" != "${names[1]}" ]; then
  log "needs two GPUs of one model; found: ${names[*]}"; exit 2
fi
gpu_a=${uuids[0]} gpu_b=${uuids[1]}

# MiB the process holds on the GPU with this UUID (0 if none).
mib_on() { # PID UUID
  nvidia-smi --query-compute-apps=pid,gpu_uuid,used_memory --format=csv,noheader,nounits |
    awk -F', *' -v p="$1" -v g="$2" '$1==p && $2==g{s+=$3} END{print s+0}'
}
server_on() { # PORT VISIBLE(a|both) -> pid
  local env=(); [ "$2" = a ] && env=(CUDA_VISIBLE_DEVICES="$gpu_a")
  env "${env[@]}" setsid python3 "$server_py" --port "$1" --gib "$gib" >"$work/logs/server-$1.log" 2>&1 </dev/null &
  echo $!
}
failures=0
err_of() { python3 -c 'import json,sys
e=(json.load(sys.stdin) or {}).get("error") or {}
print("%s: %s" % (e.get("reason"), e.get("message")) if e else "")' 2>/dev/null; }
result() { # WORKLOAD VISIBLE CASE PID EXPECTED PORT CK_MS RESTORE_MS ERROR
  local got=none on_b=0 on_a=0 same=false ok=false
  if [ -n "$4" ] && [ "$4" != -1 ]; then
    got=$(infer "$6" 2>/dev/null || echo none); on_b=$(mib_on "$4" "$gpu_b"); on_a=$(mib_on "$4" "$gpu_a")
  fi
  [ "$got" = "$5" ] && same=true
  [ "$same" = true ] && [ "$on_b" -gt 0 ] && [ "$on_a" -eq 0 ] && ok=true
  [ "$ok" = true ] || failures=$((failures + 1))
  echo "$1,$2,$3,$gpu_a,$gpu_b,$ok,$same,$on_b,$on_a,$7,$8,\"${9//\"/\'}\"" >>"$csv"
  log "$1/$2/$3: ok=$ok checksum $got (expected $5), $on_b MiB on B, $on_a MiB on A ${9:+($9)}"
}

# Files the server wrote outside the excluded trees since MARKER: "size path" lines, largest first.
written_since() { # MARKER
  find / -xdev \( -path /proc -o -path /sys -o -path /dev -o -path "$repo" -o -path "$work" -o -path "$OUT" \
    -o -path "$store" \) -prune -o -newer "$1" -type f -printf '%s %p\n' 2>/dev/null | sort -rn
}

one_workload() { # WORKLOAD VISIBLE PORT
  local wl=$1 vis=$2 port=$3 img="$1-$2"
  # The GPUs to restore onto, the used one first: B. A server that saw both GPUs held both open and the
  # driver checkpointed both, so its restore target offers both (A's state onto B, B's onto A).
  local targets="[\"$gpu_b\"]"; [ "$vis" = both ] && targets="[\"$gpu_b\",\"$gpu_a\"]"
  server_py=$repo/samples/cuda-workload/server.py
  [ "$wl" = transformers ] && server_py=$repo/samples/cuda-workload/transformers_server.py
  pkill -9 -f samples/cuda-workload/ 2>/dev/null; sleep 1
  local marker=$work/marker-$img; touch "$marker"; sleep 1
  local pid; pid=$(server_on "$port" "$vis")
  ready "$port" || { log "server not ready"; tail -20 "$work/logs/server-$port.log" >&2; failures=$((failures + 1)); return; }
  local before; before=$(infer "$port")
  log "$wl ($vis): pid $pid, $(mib_on "$pid" "$gpu_a") MiB on A, checksum $before"
  if [ "$vis" = a ]; then
    written_since "$marker" >"$OUT/writable-$wl.txt"
    log "$wl wrote $(awk '{s+=$1} END{printf "%.1f MiB in %d files", s/1048576, NR}' "$OUT/writable-$wl.txt") outside its volumes"
  fi

  local t0 id s; t0=$(now_ms)
  id=$(submit "$(ckpt_req "ck-$img" "$pid" "$img" true)"); s=$(await_op "$id") || {
    log "checkpoint failed: $s"; result "$wl" "$vis" cold "" "$before" "$port" "" "" "checkpoint: $(echo "$s" | err_of)"; return; }
  local ck_ms=$(( $(now_ms) - t0 ))
  python3 -c 'import json,sys; g=json.load(open(sys.argv[1])).get("gpu") or {}; g.pop("processes", None); print(json.dumps(g))' \
    "$store/$img/manifest.json" >"$OUT/manifest-gpu-$img.json" 2>/dev/null
  log "$img: the manifest's GPU record: $(cat "$OUT/manifest-gpu-$img.json" 2>/dev/null)"
  kill_tree "$pid"

  t0=$(now_ms)
  id=$(submit "$(restore_req "cold-$img" "$img" ",\"targetGpuUuids\":$targets")"); s=$(await_op "$id")
  local rs=$(( $(now_ms) - t0 )) rp; rp=$(echo "$s" | field restoredPid); echo "$s" >"$work/logs/cold-$img.json"
  result "$wl" "$vis" cold "$rp" "$before" "$port" "$ck_ms" "$rs" "$(echo "$s" | err_of)"
  kill_tree "$pid" # the restored tree has the checkpointed PIDs

  id=$(submit "$(restore_req "warm-$img" "$img" ',"stage":"PROCESSES"')"); s=$(await_op "$id")
  rp=$(echo "$s" | field restoredPid); echo "$s" >"$work/logs/warm-$img.json"
  if [ "$rp" = -1 ]; then
    result "$wl" "$vis" warm "" "$before" "$port" "$ck_ms" "" "prepare: $(echo "$s" | err_of)"; kill_tree "$pid"; return
  fi
  sleep 2
  t0=$(now_ms)
  id=$(submit "{\"idempotencyKey\":\"act-$img\",\"kind\":\"ACTIVATE\",\"activate\":{\"restoreOperationId\":\"$id\",\"targetGpuUuids\":$targets,\"timeoutSeconds\":600}}")
  s=$(await_op "$id"); rs=$(( $(now_ms) - t0 )); echo "$s" >"$work/logs/act-$img.json"
  result "$wl" "$vis" warm "$rp" "$before" "$port" "$ck_ms" "$rs" "$(echo "$s" | err_of)"
  kill_tree "$pid"
}


# The driver's own rule, without CRIU or the agent: a server checkpointed in place (lock, checkpoint by the
# exec helper), then restored by warmstart-cuda with each candidate map in turn until one is accepted.
# Records which GPU device nodes the server held open (the driver's "checkpointed devices"?).
rules=$OUT/driver-rules.csv
echo "visible,opened_minors,map,accepted,error,checksum_identical,mib_on_b,mib_on_a" >"$rules"
probe() { # VISIBLE PORT MAP...
  local vis=$1 port=$2; shift 2
  server_py=$repo/samples/cuda-workload/server.py
  pkill -9 -f samples/cuda-workload/ 2>/dev/null; sleep 1
  local pid; pid=$(server_on "$port" "$vis")
  ready "$port" || { log "probe server not ready"; return; }
  local before; before=$(infer "$port")
  local minors; minors=$(ls -l /proc/"$pid"/fd 2>/dev/null | grep -o '/dev/nvidia[0-9]*$' | sed 's|/dev/nvidia||' | sort -un | tr '\n' ' ')
  "$carry/cuda-checkpoint" --action lock --pid "$pid" && "$carry/cuda-checkpoint" --action checkpoint --pid "$pid" ||
    { log "probe: in-place checkpoint failed"; kill_tree "$pid"; return; }
  local m spec out rc
  for m in "$@"; do
    spec=${m//A/$gpu_a}; spec=${spec//B/$gpu_b}
    out=$(WARMSTART_LIBCUDA=$libcuda "$ours/warmstart-cuda" activate --remap "$spec" "$pid" 2>&1); rc=$?
    log "probe $vis map $m: rc $rc: $out"
    if [ $rc -eq 0 ]; then
      local got; got=$(infer "$port" 2>/dev/null || echo none)
      echo "$vis,$minors,\"$m\",true,,$([ "$got" = "$before" ] && echo true || echo false),$(mib_on "$pid" "$gpu_b"),$(mib_on "$pid" "$gpu_a")" >>"$rules"
      break
    fi
    echo "$vis,$minors,\"$m\",false,\"$(echo "$out" | tr '\n",' '  ;' | cut -c1-200)\",,," >>"$rules"
  done
  kill_tree "$pid"
}
probe a 18311 "A=B" "A=B,B=A"
probe both 18312 "A=B" "A=B,B=A"
cat "$rules" >&2

start_agent true "" || exit 1
one_workload sample a 18301
one_workload transformers a 18302
one_workload sample both 18303
stop_agent
pkill -9 -f samples/cuda-workload/ 2>/dev/null

python3 - "$csv" "$OUT" <<'PY'
import csv, os, sys
rows = list(csv.DictReader(open(sys.argv[1])))
out = ["A checkpoint from GPU A restored onto GPU B (same model) through the node agent. 'visible': what the",
       "server saw (a: only GPU A, by CUDA_VISIBLE_DEVICES; both: both GPUs). ok = the pre-checkpoint checksum",
       "AND the restored process's memory on B, none on A.", "",
       "| workload | visible | case | ok | identical output | MiB on B | MiB on A | checkpoint ms | restore/activation ms | error |",
       "|---|---|---|---|---|---|---|---|---|---|"]
for r in rows:
    out.append("| " + " | ".join(r[k] for k in ["workload", "visible", "case", "ok", "checksum_identical", "mib_on_target",
               "mib_on_source", "checkpoint_ms", "restore_ms", "error"]) + " |")
rules = os.path.join(sys.argv[2], "driver-rules.csv")
if os.path.exists(rules):
    out += ["", "The driver's rule, in place (no CRIU, no agent): a server checkpointed by the exec helper, restored by",
            "warmstart-cuda with each map in turn. opened: the /dev/nvidiaN minors the server held open.", "",
            "| visible | opened | map | accepted | error | identical output | MiB on B | MiB on A |", "|---|---|---|---|---|---|---|---|"]
    for r in csv.DictReader(open(rules)):
        out.append("| " + " | ".join(r[k] for k in ["visible", "opened_minors", "map", "accepted", "error",
                   "checksum_identical", "mib_on_b", "mib_on_a"]) + " |")
out += ["", "Files written outside volumes while starting and answering (upper bound of a container's writable layer):", ""]
for f in sorted(os.listdir(sys.argv[2])):
    if f.startswith("writable-"):
        lines = [l.split(" ", 1) for l in open(os.path.join(sys.argv[2], f)).read().splitlines() if l]
        total = sum(int(s) for s, _ in lines)
        out.append(f"- {f[9:-4]}: {total / 1048576:.1f} MiB in {len(lines)} files; largest: " +
                   ", ".join(f"{p} ({int(s) / 1048576:.1f} MiB)" for s, p in lines[:3]))
open(os.path.join(sys.argv[2], "cross-gpu.md"), "w").write("\n".join(out) + "\n")
print("\n".join(out))
PY
tar -C "$work" -czf "$OUT/logs.tar.gz" logs
rm -rf "$store" "$work" # the images (GiBs on /dev/shm), the unpacked agent and CRIU: nothing stays behind
log "failures: $failures"
[ "$failures" -eq 0 ]
