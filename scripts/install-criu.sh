#!/usr/bin/env bash
# Installs CRIU >= 4.2 from Debian testing into a project-local prefix, without touching the system.
#
# Why not the system's CRIU: bookworm's 3.17 fails on kernels >= 6.x here (vDSO bounds), and trixie's 4.1.1 cannot
# dump any process holding a TCP socket on kernels >= 6.16 (upstream #2705, fixed in 4.2).
#
# Result (relocatable: copy the prefix anywhere, e.g. to a GPU machine):
#   $PREFIX/bin/criu            wrapper running CRIU through the prefix's own ld-linux and libraries
#   $PREFIX/include/criu/       criu-plugin.h, criu.h (libcriu-dev), for building plugins
#   $PREFIX/share/criu/rpc.proto
#   $PREFIX/etc/criu.conf       network-lock nftables (no iptables needed)
#
# Usage: scripts/install-criu.sh [--prefix DIR] [--force] [--no-check]
#   env WARMSTART_CRIU_PREFIX overrides the default prefix (<repo>/.local/criu),
#   env WARMSTART_CRIU_SUITE the Debian suite (default: testing).
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
prefix=${WARMSTART_CRIU_PREFIX:-$repo/.local/criu}
suite=${WARMSTART_CRIU_SUITE:-testing}
mirror=${WARMSTART_DEBIAN_MIRROR:-http://deb.debian.org/debian}
min_version=4.2
force=0
check=1
while [ $# -gt 0 ]; do
  case "$1" in
    --prefix) prefix=$2; shift 2 ;;
    --force) force=1; shift ;;
    --no-check) check=0; shift ;;
    -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
    *) echo "install-criu: unknown argument: $1" >&2; exit 2 ;;
  esac
done

log() { echo "install-criu: $*" >&2; }
die() { echo "install-criu: ERROR: $*" >&2; exit 1; }

# version_ge A B: true when dotted version A >= B.
version_ge() { [ "$(printf '%s\n%s\n' "$2" "$1" | sort -V | head -n1)" = "$2" ]; }

installed_version() {
  [ -x "$prefix/bin/criu" ] || return 1
  "$prefix/bin/criu" --version 2>/dev/null | sed -n 's/^Version: *//p' | head -n1
}

run_check() {
  [ "$check" = 1 ] || return 0
  if [ "$(id -u)" != 0 ]; then log "not root: skipping 'criu check'"; return 0; fi
  "$prefix/bin/criu" check || die "'criu check' failed: see above"
}

if [ "$force" = 0 ] && [ -f "$prefix/.installed" ]; then
  v=$(installed_version || true)
  if [ -n "$v" ] && version_ge "$v" "$min_version"; then
    log "CRIU $v already installed in $prefix"
    run_check
    exit 0
  fi
  log "existing install in $prefix is unusable (version '${v:-none}'); reinstalling"
fi

command -v apt-get >/dev/null || die "apt-get not found: this script needs a Debian-based host"
command -v dpkg >/dev/null || die "dpkg not found"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/lists/partial" "$work/cache/archives/partial" "$work/debs"
echo "deb $mirror $suite main" >"$work/sources.list"
apt_opts=(
  -o "Dir::Etc::SourceList=$work/sources.list" -o Dir::Etc::SourceParts=/dev/null
  -o "Dir::State::Lists=$work/lists" -o "Dir::Cache=$work/cache"
  -o Dir::State::status=/dev/null -o APT::Architecture=amd64 -o Debug::NoLocking=1
  -o APT::Sandbox::User=root
)

log "reading Debian $suite package lists"
apt-get "${apt_opts[@]}" -qq update || die "apt-get update for Debian $suite failed (network or archive key?)"

candidate=$(apt-cache "${apt_opts[@]}" policy criu | sed -n 's/^ *Candidate: *//p')
[ -n "$candidate" ] && [ "$candidate" != "(none)" ] || die "Debian $suite has no criu package any more"
upstream=${candidate#*:}; upstream=${upstream%%-*}; upstream=${upstream%%+*}
version_ge "$upstream" "$min_version" ||
  die "Debian $suite offers criu $candidate, older than $min_version; set WARMSTART_CRIU_SUITE=sid"
log "Debian $suite offers criu $candidate"

# Runtime closure of criu, plus headers and rpc.proto for plugins and the agent's RPC client.
mapfile -t pkgs < <(apt-cache "${apt_opts[@]}" depends --recurse --no-recommends --no-suggests --no-conflicts \
  --no-breaks --no-replaces --no-enhances --no-pre-depends criu libcriu2 libcriu-dev |
  grep -v '^ ' | grep -v '^<' | sort -u)
# Drop what a static runtime needs no copy of: debconf/perl machinery pulled in by maintainer scripts.
mapfile -t pkgs < <(printf '%s\n' "${pkgs[@]}" | grep -Ev '^(debconf|perl.*|dpkg|install-info|base-files|usrmerge|tar|gcc-.*-base|.*-dev)$|:i386$')
pkgs+=(libcriu-dev)
log "downloading ${#pkgs[@]} packages"
(cd "$work/debs" && apt-get "${apt_opts[@]}" -qq download "${pkgs[@]}") || die "download from Debian $suite failed"

stage="$prefix.tmp.$$"
rm -rf "$stage"
mkdir -p "$stage/root"
for deb in "$work"/debs/*.deb; do dpkg -x "$deb" "$stage/root"; done

root=$stage/root
libdir=usr/lib/x86_64-linux-gnu
[ -x "$root/usr/sbin/criu" ] || die "criu binary missing from the package (layout changed in $suite?)"
[ -e "$root/$libdir/ld-linux-x86-64.so.2" ] || die "no ld-linux in $suite's libc6 (layout changed?)"
[ -f "$root/usr/include/criu/criu-plugin.h" ] || die "libcriu-dev ships no criu-plugin.h (layout changed?)"

mkdir -p "$stage/bin" "$stage/etc" "$stage/include" "$stage/share/criu" "$stage/lib/criu"
cp -r "$root/usr/include/criu" "$stage/include/"
proto=$(find "$root/usr" -name rpc.proto | head -n1)
[ -n "$proto" ] || die "libcriu-dev ships no rpc.proto (layout changed?)"
cp "$proto" "$stage/share/criu/rpc.proto"
echo "network-lock nftables" >"$stage/etc/criu.conf"
# The wrapper resolves its own location, so the prefix stays relocatable.
cat >"$stage/bin/criu" <<'WRAP'
#!/bin/sh
# CRIU from Debian testing, run through its own dynamic loader and libraries (installed by scripts/install-criu.sh).
here=$(dirname "$(readlink -f "$0")")
p=$(dirname "$here")
lib="$p/root/usr/lib/x86_64-linux-gnu"
: "${CRIU_CONFIG_FILE:=$p/etc/criu.conf}"
: "${CRIU_LIBS_DIR:=$p/lib/criu}"
export CRIU_CONFIG_FILE CRIU_LIBS_DIR
exec "$lib/ld-linux-x86-64.so.2" --library-path "$lib:$lib/criu" "$p/root/usr/sbin/criu" "$@"
WRAP
chmod 0755 "$stage/bin/criu"

v=$("$stage/bin/criu" --version 2>/dev/null | sed -n 's/^Version: *//p' | head -n1)
[ -n "$v" ] || die "the downloaded criu does not run here: $("$stage/bin/criu" --version 2>&1 | head -n3)"
version_ge "$v" "$min_version" || die "got criu $v from $suite, need >= $min_version"
echo "$v" >"$stage/.installed"

rm -rf "$prefix.old"
[ -e "$prefix" ] && mv "$prefix" "$prefix.old"
mv "$stage" "$prefix"
rm -rf "$prefix.old"
log "installed CRIU $v into $prefix ($(du -sh "$prefix" | cut -f1))"
run_check
