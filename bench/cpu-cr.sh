#!/usr/bin/env bash
# Benchmark (not a test): CRIU dump and restore times of a CPU process against its image size,
# through the warmstart CLI (real CRIU from scripts/install-criu.sh). Run as root.
#   bench/cpu-cr.sh [SIZE_MIB ...]      default sizes: 64 256 1024
# Prints a markdown table; each restore is checked (the buffer checksum recorded before the
# checkpoint, after three /mutate requests, must match).
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
sizes=("$@"); [ ${#sizes[@]} -gt 0 ] || sizes=(64 256 1024)
ws="$repo/warmstart"
export WARMSTART_STORE=$(mktemp -d /tmp/warmstart-bench.XXXX)
trap 'rm -rf "$WARMSTART_STORE"' EXIT
port=18190
ms() { echo $(( ($(date +%s%N) - $1) / 1000000 )); }
json() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }

echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB RAM, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), kernel $(uname -r)"
echo "criu: $("$repo/.local/criu/bin/criu" --version | head -1)"
echo
echo "| state MiB | image MiB | criu dump ms | checkpoint total ms (CLI, incl. sha256 + JVM) | verify ms | criu restore ms | restore total ms (CLI) | state intact |"
echo "|---|---|---|---|---|---|---|---|"
for size in "${sizes[@]}"; do
  port=$((port + 1))
  setsid python3 "$repo/samples/cpu-workload/stateful_server.py" --port $port --size-mib "$size" >/dev/null 2>&1 </dev/null &
  pid=$!
  for _ in $(seq 1 600); do curl -sf "http://127.0.0.1:$port/state" >/dev/null && break; sleep 0.1; done
  # State made after start (random bytes written by /mutate): only a faithful restore has it.
  for _ in 1 2 3; do curl -s -X POST "http://127.0.0.1:$port/mutate" >/dev/null; done
  expected=$(curl -s "http://127.0.0.1:$port/state" | json 'd["checksum"]')

  t=$(date +%s%N)
  ck=$("$ws" --json checkpoint --pid "$pid" --name "bench-$size" --stop)
  ck_total=$(ms "$t")
  while kill -0 "$pid" 2>/dev/null; do sleep 0.02; done
  dump=$(echo "$ck" | json 'd["timings"]["dump"]')
  image=$(echo "$ck" | json 'round(d["sizeBytes"]/1048576)')

  t=$(date +%s%N)
  rs=$("$ws" --json restore "bench-$size")
  rs_total=$(ms "$t")
  verify=$(echo "$rs" | json 'd["timings"]["verify"]')
  criu=$(echo "$rs" | json 'd["timings"]["criuRestore"]')
  newpid=$(echo "$rs" | json 'd["pid"]')
  got=$(curl -s --retry 20 --retry-connrefused "http://127.0.0.1:$port/state" | json 'd["checksum"]')
  kill -9 "$newpid" 2>/dev/null || true
  echo "| $size | $image | $dump | $ck_total | $verify | $criu | $rs_total | $([ "$got" = "$expected" ] && echo yes || echo NO) |"
done
