#!/usr/bin/env bash
# Packs the warmstart CLI (node-agent-cli/target: warmstart-cli.jar + lib/) beside a packed agent:
#   OUT/cli/           the jar and its dependencies
#   OUT/bin/warmstart  its launcher, on OUT/jre when there is one, with OUT/criu and OUT/plugins
# A jar the agent's OUT/quarkus-app already holds byte for byte becomes a hard link to it, so the
# image and the GPU carry (tar keeps hard links) hold it once. One place for the image rootfs
# (build-agent-rootfs.sh) and the GPU carry (prepare-gpu-carry.sh).
# Usage: scripts/pack-cli.sh OUT
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
out=${1:?usage: pack-cli.sh OUT}
cli=$repo/node-agent-cli/target
[ -f "$cli/warmstart-cli.jar" ] || { echo "pack-cli: build the CLI first (mvn package -pl node-agent-cli -am)" >&2; exit 1; }
rm -rf "$out/cli"
mkdir -p "$out/cli/lib" "$out/bin"
cp "$cli/warmstart-cli.jar" "$out/cli/"
cp "$cli"/lib/*.jar "$out/cli/lib/"
if [ -d "$out/quarkus-app/lib" ]; then
  declare -A agent_jar
  while read -r sum path; do agent_jar[$sum]=$path; done < <(find "$out/quarkus-app/lib" -name '*.jar' -exec sha256sum {} +)
  for f in "$out"/cli/lib/*.jar; do
    sum=$(sha256sum "$f" | cut -d" " -f1)
    [ -n "${agent_jar[$sum]:-}" ] && ln -f "${agent_jar[$sum]}" "$f"
  done
fi
cat >"$out/bin/warmstart" <<'LAUNCHER'
#!/bin/sh
# The warmstart CLI beside the node agent: `warmstart --agent-socket /run/warmstart/agent.sock ...`
# sends work to the running agent; without it, it works on the store itself with this CRIU.
home=$(dirname "$(readlink -f "$0")")/..
java=$home/jre/bin/java
[ -x "$java" ] || java=java
export WARMSTART_CRIU="${WARMSTART_CRIU:-$home/criu/bin/criu}"
export WARMSTART_PLUGIN_DIR="${WARMSTART_PLUGIN_DIR:-$home/plugins}"
exec "$java" -XX:+UseSerialGC -Djava.util.logging.SimpleFormatter.format='%1$tT %4$s [%3$s] %5$s%6$s%n' \
  -jar "$home/cli/warmstart-cli.jar" "$@"
LAUNCHER
chmod 755 "$out/bin/warmstart"
