#!/usr/bin/env bash
# Builds kube-apiserver, kube-controller-manager, kube-scheduler, kubelet, kube-proxy and kubectl of the release pinned in
# go.mod into DEST (default /var/cache/warmstart/k8s/<version>/bin), from the Go module proxy. Idempotent: a
# complete DEST (stamp file) is reused. Needs Go >= the go line of go.mod.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
version=$(awk '$1=="require" && $2=="k8s.io/kubernetes" {print $3}' "$here/go.mod")
dest=${1:-/var/cache/warmstart/k8s/$version/bin}
cmds=(kube-apiserver kube-controller-manager kube-scheduler kubelet kube-proxy kubectl)
missing=()
for c in "${cmds[@]}"; do [[ -x $dest/$c ]] || missing+=("$c"); done
if [[ ${#missing[@]} -eq 0 ]] && [[ -f $dest/.complete ]] && [[ $(cat "$dest/.complete") == "$version" ]]; then
  echo "kubernetes $version binaries reused from $dest"
  exit 0
fi
# Go: the host's when recent enough, else the toolchain module of the go.mod's Go release from the Go
# module proxy (golang.org/toolchain, the same zip `GOTOOLCHAIN=auto` downloads), cached.
need_go=$(awk '$1=="go" {print $2}' "$here/go.mod")
go_ok() { command -v go >/dev/null && [ "$(printf '%s\n%s\n' "$need_go" "$(go env GOVERSION | sed 's/^go//')" | sort -V | head -n1)" = "$need_go" ]; }
if ! go_ok; then
  tc=$(dirname "$dest")/../go$need_go
  if [ ! -x "$tc/bin/go" ]; then
    echo "fetching the Go $need_go toolchain from the Go module proxy" >&2
    tmp=$(mktemp -d)
    curl -fsSL -o "$tmp/go.zip" "${GOPROXY_URL:-https://proxy.golang.org}/golang.org/toolchain/@v/v0.0.1-go$need_go.linux-amd64.zip"
    (cd "$tmp" && python3 -c 'import sys,zipfile; zipfile.ZipFile("go.zip").extractall("x")')
    rm -rf "$tc"; mkdir -p "$(dirname "$tc")"
    mv "$tmp/x/golang.org/toolchain@v0.0.1-go$need_go.linux-amd64" "$tc"
    chmod -R u+x "$tc/bin" "$tc/pkg/tool"
    rm -rf "$tmp"
  fi
  export PATH=$tc/bin:$PATH GOROOT=$tc
fi
work=$(dirname "$dest")/src
mkdir -p "$work" "$dest"
cp "$here/go.mod" "$work/go.mod"
[[ -f $here/go.sum ]] && cp "$here/go.sum" "$work/go.sum"
minor=${version#v1.}; minor=${minor%%.*}
pkg=k8s.io/component-base/version
ldflags="-s -w -X $pkg.gitVersion=$version -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor -X $pkg.gitTreeState=clean"
ldflags+=" -X $pkg.buildDate=1970-01-01T00:00:00Z"
ldflags+=" -X k8s.io/client-go/pkg/version.gitVersion=$version -X k8s.io/client-go/pkg/version.gitMajor=1"
ldflags+=" -X k8s.io/client-go/pkg/version.gitMinor=$minor"
start=$(date +%s)
cd "$work"
export CGO_ENABLED=0 GOFLAGS=-mod=mod GOTOOLCHAIN=local
for c in "${missing[@]}"; do
  go build -trimpath -ldflags "$ldflags" -o "$dest/$c" "k8s.io/kubernetes/cmd/$c"
done
echo "$version" > "$dest/.complete"
echo "kubernetes $version built into $dest in $(($(date +%s) - start)) s"
