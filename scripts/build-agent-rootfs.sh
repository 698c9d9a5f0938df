#!/usr/bin/env bash
# Builds the node agent image's root filesystem content into a folder: the same layout the
# Dockerfile (images/node-agent/Dockerfile) copies into the image, so it can be run and tested here,
# where no Docker engine runs.
#   OUT/opt/warmstart/criu/        CRIU >= 4.2 from scripts/install-criu.sh (relocatable prefix)
#   OUT/opt/warmstart/plugins/     warmstart_cuda_plugin.so (CRIU --libdir), warmstart-cuda (fresh-process driver calls)
#   OUT/opt/warmstart/bin/pause    static wait-forever binary for placeholder pods
#   OUT/opt/warmstart/bin/warmstart the CLI's launcher (scripts/pack-cli.sh), on the same JRE and CRIU
#   OUT/opt/warmstart/gpumem/      libwarmstart_gpumem.so, the GPU memory shim the chart copies to the nodes
#   OUT/opt/warmstart/jre/         jlink'd Java runtime with what the agent uses
#   OUT/opt/warmstart/quarkus-app/ the agent (node-agent)
#   OUT/opt/warmstart/cli/         the warmstart CLI (node-agent-cli), jars the agent holds hard-linked
# Usage: scripts/build-agent-rootfs.sh OUT
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
out=${1:?usage: build-agent-rootfs.sh OUT}
opt=$out/opt/warmstart
rm -rf "$opt"
mkdir -p "$opt/plugins" "$opt/bin" "$opt/gpumem"

"$repo/scripts/install-criu.sh" --prefix "$opt/criu" --no-check >&2
make -s -C "$repo/native-plugin" CRIU_PREFIX="$opt/criu" BUILD="$opt/.build" all >&2
cp "$opt/.build/warmstart_cuda_plugin.so" "$opt/.build/warmstart-cuda" "$opt/plugins/"
cp "$opt/.build/pause" "$opt/bin/pause"
rm -rf "$opt/.build"
make -s -C "$repo/gpu-shim" BUILD="$opt/.build" all >&2
cp "$opt/.build/libwarmstart_gpumem.so" "$opt/gpumem/"
rm -rf "$opt/.build"

app=$repo/node-agent/target/quarkus-app
if [ ! -f "$app/quarkus-run.jar" ] || [ ! -f "$repo/node-agent-cli/target/warmstart-cli.jar" ]; then
  (cd "$repo" && mvn -B -ntp -q install -DskipTests -pl api,node-agent-core,node-agent,node-agent-cli) >&2
fi
cp -r "$app" "$opt/quarkus-app"
"$repo/scripts/pack-cli.sh" "$opt"
"$repo/scripts/agent-jre.sh" "$opt/jre"
chmod -R go-w "$opt"
du -sh "$opt"/* >&2
