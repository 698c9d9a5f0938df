#!/usr/bin/env bash
# Installs Warmstart's own CRIU: CRIU 4.2.1 built from Debian's source package with the project's
# patches (patches/criu/*.patch, applied in order) into a project-local prefix, without touching the
# system's CRIU.
#
# Why our own build: CRIU fills a restored process's private memory with one serial preadv loop
# (~1.2-1.6 GB/s); patches/criu fills large VMAs from threads with huge pages (see the patch headers).
# Why >= 4.2: bookworm's 3.17 fails on kernels >= 6.x here (vDSO bounds), and 4.1.1 cannot dump any
# process holding a TCP socket on kernels >= 6.16 (upstream #2705, fixed in 4.2).
#
# The build is cached outside the work tree, keyed by the source's sha256 and the patches, in
# $WARMSTART_CACHE/criu (default /var/cache/warmstart/criu): a second install copies it (~1 s).
#
# Result (relocatable: copy the prefix anywhere, e.g. to a GPU machine or an image):
#   $PREFIX/bin/criu            wrapper running CRIU through the prefix's own ld-linux and libraries
#   $PREFIX/include/criu/       criu-plugin.h, criu-log.h, criu.h, for building plugins
#   $PREFIX/share/criu/rpc.proto
#   $PREFIX/etc/criu.conf       network-lock nftables (no iptables needed)
#   $PREFIX/lib/criu/           the plugin directory CRIU loads by default
#
# Usage: scripts/install-criu.sh [--prefix DIR] [--force] [--no-check]
#   env WARMSTART_CRIU_PREFIX overrides the default prefix (<repo>/.local/criu),
#   env WARMSTART_CRIU_SOURCE a local criu_4.2.1.orig.tar.xz to build from (checked against its sha256).
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
prefix=${WARMSTART_CRIU_PREFIX:-$repo/.local/criu}
cache_root=${WARMSTART_CACHE:-/var/cache/warmstart}/criu
mirror=${WARMSTART_DEBIAN_MIRROR:-http://deb.debian.org/debian}
version=4.2.1
source_sha256=29ec0ee09e296479fe7048c80980e8ef1d0684d0b0204c2b101dfea19f6725b9
min_version=4.2
force=0
check=1
while [ $# -gt 0 ]; do
  case "$1" in
    --prefix) prefix=$2; shift 2 ;;
    --force) force=1; shift ;;
    --no-check) check=0; shift ;;
    -h|--help) sed -n '2,25p' "$0"; exit 0 ;;
    *) echo "install-criu: unknown argument: $1" >&2; exit 2 ;;
  esac
done

log() { echo "install-criu: $*" >&2; }
die() { echo "install-criu: ERROR: $*" >&2; exit 1; }
version_ge() { [ "$(printf '%s\n%s\n' "$2" "$1" | sort -V | head -n1)" = "$2" ]; }

run_check() {
  [ "$check" = 1 ] || return 0
  if [ "$(id -u)" != 0 ]; then log "not root: skipping 'criu check'"; return 0; fi
  "$prefix/bin/criu" check || die "'criu check' failed: see above"
}

# The build's identity: the source, the patches and this script's build steps.
key=$( { echo "$version $source_sha256"; cat "$repo"/patches/criu/*.patch; sed -n '/^# BUILD-BEGIN/,/^# BUILD-END/p' "$0"; } |
  sha256sum | cut -c1-16)
build=$cache_root/$version-$key

if [ "$force" = 0 ] && [ "$(cat "$prefix/.installed" 2>/dev/null)" = "$version $key" ] && [ -x "$prefix/bin/criu" ]; then
  log "CRIU $version ($key) already installed in $prefix"
  run_check
  exit 0
fi

# BUILD-BEGIN
fetch_source() { # DIR: puts criu_$version.orig.tar.xz there, checked
  local dir=$1 tarball=$1/criu_$version.orig.tar.xz
  if [ -n "${WARMSTART_CRIU_SOURCE:-}" ]; then
    cp "$WARMSTART_CRIU_SOURCE" "$tarball"
  else
    local suite
    for suite in testing sid; do
      mkdir -p "$dir/lists/partial" "$dir/cache/archives/partial"
      echo "deb-src $mirror $suite main" >"$dir/sources.list"
      local o=(-o "Dir::Etc::SourceList=$dir/sources.list" -o Dir::Etc::SourceParts=/dev/null
        -o "Dir::State::Lists=$dir/lists" -o "Dir::Cache=$dir/cache" -o Dir::State::status=/dev/null
        -o APT::Sandbox::User=root -o Debug::NoLocking=1)
      apt-get "${o[@]}" -qq update >/dev/null 2>&1 || continue
      (cd "$dir" && apt-get "${o[@]}" -qq source --tar-only --download-only "criu=$version-1") >/dev/null 2>&1 && break
    done
  fi
  [ -f "$tarball" ] || die "cannot get CRIU $version's source from Debian (testing, sid); set WARMSTART_CRIU_SOURCE to criu_$version.orig.tar.xz"
  echo "$source_sha256  $tarball" | sha256sum -c --quiet - || die "CRIU source $tarball does not match its sha256"
}

build_deps=(make gcc libc6-dev patch pkg-config protobuf-c-compiler libprotobuf-c-dev protobuf-compiler libprotobuf-dev
  libnl-3-dev libnet1-dev libcap-dev libbsd-dev python3-protobuf libnftables-dev libgnutls28-dev uuid-dev)
install_build_deps() {
  local missing=() p
  for p in "${build_deps[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  [ "$(id -u)" = 0 ] || die "building CRIU needs these Debian packages: ${missing[*]} (run as root to install them)"
  log "installing build dependencies: ${missing[*]}"
  apt-get -qq update >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

build_criu() { # into $build (atomically)
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  fetch_source "$work"
  install_build_deps
  tar -C "$work" -xf "$work/criu_$version.orig.tar.xz"
  local src=$work/criu-$version p
  for p in "$repo"/patches/criu/*.patch; do
    log "applying $(basename "$p")"
    patch -d "$src" -p1 --quiet --forward <"$p" || die "patch $(basename "$p") does not apply to CRIU $version"
  done
  log "building CRIU $version (about 1-2 minutes)"
  make -C "$src" -j"$(nproc)" criu >"$work/build.log" 2>&1 || { tail -30 "$work/build.log" >&2; die "CRIU build failed"; }

  local stage=$build.tmp.$$
  rm -rf "$stage"
  mkdir -p "$stage/bin" "$stage/libexec" "$stage/lib/criu" "$stage/include/criu" "$stage/share/criu" "$stage/etc"
  cp "$src/criu/criu" "$stage/libexec/criu"
  # The runtime closure, so the prefix runs on hosts without these libraries (GPU machines, images).
  ldd "$src/criu/criu" | awk '$2 == "=>" && $3 ~ /^\// {print $3} $1 ~ /^\// {print $1}' | while read -r lib; do
    cp -L "$lib" "$stage/lib/"
  done
  [ -e "$stage/lib/ld-linux-x86-64.so.2" ] || die "no ld-linux in criu's runtime closure"
  cp "$src/criu/include/criu-plugin.h" "$src/criu/include/criu-log.h" "$src/lib/c/criu.h" "$stage/include/criu/"
  cp "$src/images/rpc.proto" "$stage/share/criu/rpc.proto"
  cp "$repo"/patches/criu/*.patch "$stage/share/criu/"
  echo "network-lock nftables" >"$stage/etc/criu.conf"
  cat >"$stage/bin/criu" <<'WRAP'
#!/bin/sh
# Warmstart's CRIU (scripts/install-criu.sh), run through its own dynamic loader and libraries.
here=$(dirname "$(readlink -f "$0")")
p=$(dirname "$here")
: "${CRIU_CONFIG_FILE:=$p/etc/criu.conf}"
: "${CRIU_LIBS_DIR:=$p/lib/criu}"
export CRIU_CONFIG_FILE CRIU_LIBS_DIR
exec "$p/lib/ld-linux-x86-64.so.2" --library-path "$p/lib" "$p/libexec/criu" "$@"
WRAP
  chmod 0755 "$stage/bin/criu"
  mkdir -p "$cache_root"
  rm -rf "$build"
  mv "$stage" "$build"
}
# BUILD-END

if [ ! -x "$build/bin/criu" ] || [ "$force" = 1 ]; then
  build_criu
else
  log "using the cached build $build"
fi

v=$("$build/bin/criu" --version 2>/dev/null | sed -n 's/^Version: *//p' | head -n1)
[ -n "$v" ] || die "the built criu does not run here: $("$build/bin/criu" --version 2>&1 | head -n3)"
version_ge "$v" "$min_version" || die "built criu $v, need >= $min_version"

stage="$prefix.tmp.$$"
rm -rf "$stage"
mkdir -p "$(dirname "$prefix")"
cp -a "$build" "$stage"
echo "$version $key" >"$stage/.installed"
rm -rf "$prefix.old"
[ -e "$prefix" ] && mv "$prefix" "$prefix.old"
mv "$stage" "$prefix"
rm -rf "$prefix.old"
log "installed CRIU $v with $(ls "$repo"/patches/criu/*.patch | wc -l) patch(es) into $prefix ($(du -sh "$prefix" | cut -f1))"
run_check
