#!/usr/bin/env bash
# Packs what scripts/gpu-e2e.sh needs on a GPU machine that has no CRIU, no Java and no internet,
# into .carry/gpu (git-ignored, carried to the device): the project-local CRIU, our plugin, the GPU memory
# shim (libwarmstart_gpumem.so, for the *-shim benchmark rows), CRIU's own
# plugins/cuda built from the same Debian CRIU source (the baseline), the exec-per-action helper, and
# the node agent and the warmstart CLI with a jlink'd Java runtime (agent.tar.xz: jre/, quarkus-app/,
# cli/, bin/warmstart).
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
out=$repo/.carry/gpu
mkdir -p "$out"
"$repo/scripts/install-criu.sh" --no-check
version=$(cut -d" " -f1 "$repo/.local/criu/.installed")

make -s -C "$repo/native-plugin" CRIU_PREFIX="$repo/.local/criu" all
cp "$repo/native-plugin/build/warmstart_cuda_plugin.so" "$repo/native-plugin/build/warmstart-cuda" "$out/"
make -s -C "$repo/gpu-shim" all
cp "$repo/gpu-shim/build/libwarmstart_gpumem.so" "$out/"
gcc -Wall -Werror -O2 -o "$out/cuda-checkpoint" "$repo/bench/cuda_checkpoint_helper.c" -ldl

if [ ! -f "$out/cuda_plugin.so" ] || [ "$(cat "$out/cuda_plugin.version" 2>/dev/null)" != "$version" ]; then
  src=$(mktemp -d)
  echo "deb-src http://deb.debian.org/debian testing main" >"$src/sources.list"
  o=(-o "Dir::Etc::SourceList=$src/sources.list" -o Dir::Etc::SourceParts=/dev/null -o "Dir::State::Lists=$src/lists"
     -o "Dir::Cache=$src/cache" -o APT::Sandbox::User=root)
  mkdir -p "$src/lists/partial" "$src/cache/archives/partial"
  apt-get "${o[@]}" -qq update
  (cd "$src" && apt-get "${o[@]}" -qq source --tar-only "criu=${version}-1" || apt-get "${o[@]}" -qq source --tar-only criu)
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends protobuf-c-compiler libprotobuf-c-dev \
    protobuf-compiler libprotobuf-dev libnl-3-dev libnet1-dev libcap-dev pkg-config libbsd-dev python3-protobuf \
    libnftables-dev libgnutls28-dev uuid-dev libdrm-dev >/dev/null
  tar -C "$src" -xf "$src"/criu_*.orig.tar.*
  make -s -C "$src"/criu-*/ -j"$(nproc)" cuda_plugin >/dev/null
  cp "$src"/criu-*/plugins/cuda/cuda_plugin.so "$out/"
  echo "$version" >"$out/cuda_plugin.version"
  rm -rf "$src"
fi
tar -C "$repo/.local" -cJf "$out/criu.tar.xz" criu

# The node agent, the CLI and a Java runtime trimmed to what it uses (the GPU machine has no Java).
# package, not install: the reactor resolves api from its module, and ~/.m2 stays as other builds left it.
mods=api,node-agent-core,node-agent,node-agent-cli
(cd "$repo" && mvn -B -ntp -q -o package -DskipTests -pl $mods 2>/dev/null ||
  mvn -B -ntp -q package -DskipTests -pl $mods)
pack=$(mktemp -d)
"$repo/scripts/agent-jre.sh" "$pack/jre"
cp -r "$repo/node-agent/target/quarkus-app" "$pack/"
# The CLI's jars that the agent holds too are hard links: tar stores them once.
"$repo/scripts/pack-cli.sh" "$pack"
tar -C "$pack" -cf - jre quarkus-app cli bin | xz -T0 -6 >"$out/agent.tar.xz"
rm -rf "$pack"
du -sh "$out"/*
