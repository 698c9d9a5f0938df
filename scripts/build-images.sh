#!/usr/bin/env bash
# Builds the operator, node-agent and CPU sample workload images with podman from their Dockerfiles
# without any registry, and writes each as a docker-archive into OUT (for `ctr images import`).
#   warmstart.local/operator:dev     images/operator/Dockerfile    (needs operator/target/quarkus-app)
#   warmstart.local/node-agent:dev   images/node-agent/Dockerfile  (needs node-agent/target/quarkus-app
#                                    and node-agent-cli/target/warmstart-cli.jar)
#   warmstart.local/cpu-workload:dev samples/cpu-workload/Dockerfile
# The bases are made here and cached in $WARMSTART_IMAGE_CACHE (default /var/cache/warmstart/images):
#   warmstart.local/debian:bookworm  debootstrap --variant=minbase from Debian's packages, plus python3,
#                                    nftables and ca-certificates (what the images' RUN steps would install)
#   warmstart.local/jre:17           that + a jlink'd runtime of the host's JDK at /opt/java/openjdk
# Usage: scripts/build-images.sh OUT
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
out=${1:?usage: build-images.sh OUT}
cache=${WARMSTART_IMAGE_CACHE:-/var/cache/warmstart/images}
mirror=${WARMSTART_DEBIAN_MIRROR:-http://deb.debian.org/debian}
tag=dev
log() { echo "build-images: $*" >&2; }
die() { echo "build-images: ERROR: $*" >&2; exit 1; }
for c in podman debootstrap jlink; do command -v $c >/dev/null || die "$c not found"; done
mkdir -p "$cache" "$out"
start=$SECONDS

# The rootfs tarballs are cached; podman's store may be wiped between runs, so import when missing.
base_pkgs=ca-certificates,nftables,python3
base_tar=$cache/debian-bookworm-$(echo "$base_pkgs" | sha256sum | cut -c1-8).tar
if [ ! -f "$base_tar" ]; then
  log "debootstrap Debian bookworm (minbase) into a base image"
  w=$(mktemp -d)
  debootstrap --variant=minbase --include=$base_pkgs bookworm "$w/root" "$mirror" \
    >"$cache/debootstrap.log" 2>&1 || { tail -20 "$cache/debootstrap.log" >&2; rm -rf "$w"; die "debootstrap failed"; }
  rm -rf "$w/root/var/cache/apt/archives/"*.deb "$w/root/var/lib/apt/lists/"*
  tar --numeric-owner -C "$w/root" -cf "$base_tar.tmp" . && mv "$base_tar.tmp" "$base_tar"
  rm -rf "$w"
fi
jre_tar=${base_tar%.tar}-jre17.tar
if [ ! -f "$jre_tar" ]; then
  log "adding a jlink'd Java runtime to the base"
  w=$(mktemp -d)
  mkdir -p "$w/root/opt/java"
  tar -C "$w/root" -xf "$base_tar"
  "$repo/scripts/agent-jre.sh" "$w/root/opt/java/openjdk"
  tar --numeric-owner -C "$w/root" -cf "$jre_tar.tmp" . && mv "$jre_tar.tmp" "$jre_tar"
  rm -rf "$w"
fi
path=/opt/java/openjdk/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
# Tagged by content: a new base tarball gets imported again.
base_id=$(basename "$base_tar" .tar)
[ "$(podman image inspect -f '{{index .Labels "dev.warmstart.base"}}' warmstart.local/debian:bookworm 2>/dev/null)" = "$base_id" ] ||
  podman import -q --change "LABEL dev.warmstart.base=$base_id" "$base_tar" warmstart.local/debian:bookworm >/dev/null
[ "$(podman image inspect -f '{{index .Labels "dev.warmstart.base"}}' warmstart.local/jre:17 2>/dev/null)" = "$base_id" ] ||
  podman import --change "LABEL dev.warmstart.base=$base_id" -q --change "ENV PATH=$path" --change "ENV JAVA_HOME=/opt/java/openjdk" "$jre_tar" \
    warmstart.local/jre:17 >/dev/null

[ -f "$repo/operator/target/quarkus-app/quarkus-run.jar" ] || die "build the operator first (mvn package -pl operator)"
[ -f "$repo/node-agent/target/quarkus-app/quarkus-run.jar" ] || die "build the agent first (mvn package -pl node-agent)"
[ -f "$repo/node-agent-cli/target/warmstart-cli.jar" ] || die "build the CLI first (mvn package -pl node-agent-cli -am)"
"$repo/scripts/build-agent-rootfs.sh" "$repo/node-agent/target/agent-rootfs" 2>"$cache/agent-rootfs.log" ||
  { tail -20 "$cache/agent-rootfs.log" >&2; die "scripts/build-agent-rootfs.sh failed"; }

# No RUN step needs the network (the bases carry the packages), so builds run with none. Lower
# ulimits: runc cannot set the defaults without CAP_SYS_RESOURCE (platform-facts.md).
build() { # name dockerfile build-args...
  local name=$1 file=$2; shift 2
  podman build --network=none --ulimit nofile=1024:1024 --ulimit nproc=4096:4096 "$@" \
    -f "$repo/$file" -t "warmstart.local/$name:$tag" "$repo" >"$cache/build-$name.log" 2>&1 ||
    { tail -20 "$cache/build-$name.log" >&2; die "podman build of $file failed"; }
}
build operator images/operator/Dockerfile --build-arg BASE=warmstart.local/jre:17
build node-agent images/node-agent/Dockerfile --build-arg BASE=warmstart.local/debian:bookworm \
  --build-arg ROOTFS=prebuilt
build cpu-workload samples/cpu-workload/Dockerfile --build-arg BASE=warmstart.local/debian:bookworm
for i in operator node-agent cpu-workload; do
  rm -f "$out/$i.tar"
  podman save -q --format docker-archive -o "$out/$i.tar" "warmstart.local/$i:$tag"
done
log "images built into $out in $((SECONDS - start)) s"
