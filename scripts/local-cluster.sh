#!/usr/bin/env bash
# A real Kubernetes cluster of one or two nodes from upstream components run as host processes, the
# way upstream's hack/local-up-cluster.sh does it: etcd, kube-apiserver, kube-controller-manager,
# kube-scheduler, and per node a kubelet, kube-proxy, containerd + runc and the CNI bridge plugin.
#
#   scripts/local-cluster.sh up [--nodes 2]   build or reuse the binaries, start the cluster, wait for
#                                    the nodes (WARMSTART_CLUSTER_NODES=2 does the same as --nodes 2)
#   scripts/local-cluster.sh down    stop everything and put the machine back as it was found
#   scripts/local-cluster.sh env     print KUBECONFIG and PATH (for: eval "$(scripts/local-cluster.sh env)")
#   scripts/local-cluster.sh import [--node 1|2] IMAGE.tar...   load image archives into every
#                                    node's containerd (or into that node's only)
#
# Where things come from (nothing from a container registry):
#   Kubernetes (server binaries + kubectl): built from the Go module proxy by scripts/k8s-build/build.sh,
#     the release pinned in scripts/k8s-build/go.mod, cached in $WARMSTART_K8S_CACHE/<version>/bin.
#   etcd, containerd 2.x, the CNI plugins: Debian sid's packages (Go binaries run on bookworm), unpacked
#     into $WARMSTART_K8S_CACHE/debian. runc: the host's (bookworm's 1.1.5; sid's needs glibc 2.38).
#   The sandbox ("pause") image: native-plugin's static pause binary in an OCI archive made here.
#
# Network: the cluster runs in a network namespace of its own (warmstart-k8s) joined to the host by a
# veth pair: the node and the API server are 10.213.0.2 (the host side is 10.213.0.1), pods get
# 10.214.0.0/24 on a bridge, Services 10.215.0.0/24. kube-proxy gives pods the in-cluster route to the
# API server through the `kubernetes` Service, as in production. All iptables rules the kubelet and
# kube-proxy write live in that namespace and vanish with it. The host gets one route to the pod range.
#
# The second node (opt-in) is warmstart-node2: its kubelet, containerd (with its shims and containers)
# and kube-proxy run in a network namespace of their own (warmstart-k8s2: node 10.213.0.6, host side
# 10.213.0.5, pods 10.214.1.0/24), routed through the host (which forwards between the two veths), and
# in a mount namespace of their own in which the per-node host paths (`node_local_dirs`: the kubelet's
# root, containerd's root and state, the agent's image store) are bound to directories under
# $state/node2: runc resolves a hostPath volume in containerd's mount namespace, so a DaemonSet pod
# on node 2 sees node 2's directories at the same paths. Its pods live under the cgroup root
# /warmstart-node2 (kubelet cgroupRoot), so the two kubelets never share a `kubepods`. It registers
# with the taint warmstart.dev/second-node=true:NoSchedule: only pods that tolerate it or name the
# node (spec.nodeName) run there. Both nodes share the host's kernel and PID namespace.
#
# Sandbox adaptations (documented in /work/shared/notes/platform-facts.md): cgroupfs driver and
# failCgroupV1=false (hybrid cgroup v1 hosts), restrict_oom_score_adj (no CAP_SYS_RESOURCE),
# imageGCHighThresholdPercent=100 (images are imported, never pulled, so must never be collected).
# The kubelet rewrites vm.overcommit_memory, kernel.panic and kernel.panic_on_oops: `down` restores them.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cache=${WARMSTART_K8S_CACHE:-/var/cache/warmstart/k8s}
state=${WARMSTART_CLUSTER_DIR:-/var/lib/warmstart-cluster}
netns=warmstart-k8s
host_ip=10.213.0.1
node_ip=10.213.0.2
pod_cidr=10.214.0.0/24
svc_cidr=10.215.0.0/24
svc_ip=10.215.0.1
node_name=warmstart-node
run=/run/containerd
# The kubelet's usual root: the agent finds pod volumes there (the chart mounts it), as on real nodes.
kubelet_dir=/var/lib/kubelet
sock=$run/containerd.sock
debian_mirror=${WARMSTART_DEBIAN_MIRROR:-http://deb.debian.org/debian}
k8s_version=$(awk '$1=="require" && $2=="k8s.io/kubernetes" {print $3}' "$repo/scripts/k8s-build/go.mod")
kbin=$cache/$k8s_version/bin
sysctls=(vm.overcommit_memory kernel.panic kernel.panic_on_oops net.ipv4.ip_forward)
# The second node (see the header).
node2_name=warmstart-node2
netns2=warmstart-k8s2
host2_ip=10.213.0.5
node2_ip=10.213.0.6
pod_cidr2=10.214.1.0/24
cluster_cidr=10.214.0.0/16
n2=$state/node2
mntns2=$n2/ns/mnt
cgroup2_root=warmstart-node2
node2_taint=warmstart.dev/second-node=true:NoSchedule
# Per-node host paths: what node 2's kubelet and containerd see at each path (bound in their mount
# namespace). The agent's store is the chart's agent.storage.hostPath of cluster-e2e's values.
node_local_dirs=("$kubelet_dir:kubelet" "$run:run-containerd" "$state/containerd:containerd"
  "$state/agent-images:agent-images")

log() { echo "local-cluster: $*" >&2; }
die() { echo "local-cluster: ERROR: $*" >&2; exit 1; }

# --- binaries -------------------------------------------------------------------------------------

# Debian sid's etcd, containerd and CNI plugins, unpacked once into $cache/debian/<versions>.
fetch_debian() {
  local marker=$cache/debian/current
  if [ -f "$marker" ] && [ -x "$(cat "$marker")/usr/bin/containerd" ]; then
    deb_root=$(cat "$marker"); return
  fi
  command -v apt-get >/dev/null || die "apt-get not found: a Debian host is needed for etcd/containerd"
  local w; w=$(mktemp -d)
  mkdir -p "$w/lists/partial" "$w/cache/archives/partial" "$w/debs"
  echo "deb $debian_mirror sid main" >"$w/sources.list"
  local o=(-o "Dir::Etc::SourceList=$w/sources.list" -o Dir::Etc::SourceParts=/dev/null
    -o "Dir::State::Lists=$w/lists" -o "Dir::Cache=$w/cache" -o Dir::State::status=/dev/null
    -o APT::Architecture=amd64 -o Debug::NoLocking=1 -o APT::Sandbox::User=root)
  log "reading Debian sid package lists"
  apt-get "${o[@]}" -qq update || die "apt-get update for Debian sid failed"
  (cd "$w/debs" && apt-get "${o[@]}" -qq download etcd-server containerd containernetworking-plugins) ||
    die "downloading etcd-server, containerd, containernetworking-plugins from sid failed"
  local key; key=$(cd "$w/debs" && ls *.deb | sed 's/_amd64.deb//' | tr '\n' ' ' | sha256sum | cut -c1-12)
  deb_root=$cache/debian/$key
  rm -rf "$deb_root"; mkdir -p "$deb_root"
  for d in "$w"/debs/*.deb; do dpkg -x "$d" "$deb_root"; done
  (cd "$w/debs" && ls *.deb) >"$deb_root/PACKAGES"
  rm -rf "$w"
  "$deb_root/usr/bin/containerd" --version >/dev/null || die "sid's containerd does not run on this host"
  echo "$deb_root" >"$marker"
}

build_kubernetes() {
  "$repo/scripts/k8s-build/build.sh" "$kbin" >&2 || die "building Kubernetes $k8s_version failed"
}

# The sandbox image: native-plugin's static pause as an OCI image archive (no registry here).
pause_image=warmstart.local/pause:1
build_pause_image() {
  local dir=$cache/pause tar=$cache/pause/pause.tar
  [ -f "$tar" ] && return
  rm -rf "$dir"; mkdir -p "$dir/build" "$dir/layer" "$dir/oci/blobs/sha256"
  make -s -C "$repo/native-plugin" BUILD="$dir/build" "$dir/build/pause" >&2 || die "building pause failed"
  cp "$dir/build/pause" "$dir/layer/pause"
  tar --sort=name --owner=0 --group=0 --numeric-owner --mtime=@0 -C "$dir/layer" -cf "$dir/layer.tar" pause
  local ld ls cfg cd cs man md ms
  ld=$(sha256sum "$dir/layer.tar" | cut -d' ' -f1); ls=$(stat -c %s "$dir/layer.tar")
  cp "$dir/layer.tar" "$dir/oci/blobs/sha256/$ld"
  cfg='{"architecture":"amd64","os":"linux","config":{"Entrypoint":["/pause"]},"rootfs":{"type":"layers","diff_ids":["sha256:'$ld'"]}}'
  printf '%s' "$cfg" >"$dir/cfg.json"
  cd=$(sha256sum "$dir/cfg.json" | cut -d' ' -f1); cs=$(stat -c %s "$dir/cfg.json")
  cp "$dir/cfg.json" "$dir/oci/blobs/sha256/$cd"
  man='{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:'$cd'","size":'$cs'},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"sha256:'$ld'","size":'$ls'}]}'
  printf '%s' "$man" >"$dir/man.json"
  md=$(sha256sum "$dir/man.json" | cut -d' ' -f1); ms=$(stat -c %s "$dir/man.json")
  cp "$dir/man.json" "$dir/oci/blobs/sha256/$md"
  printf '{"imageLayoutVersion":"1.0.0"}' >"$dir/oci/oci-layout"
  printf '{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:%s","size":%s,"annotations":{"io.containerd.image.name":"%s","org.opencontainers.image.ref.name":"1"}}]}' \
    "$md" "$ms" "$pause_image" >"$dir/oci/index.json"
  tar -C "$dir/oci" -cf "$tar.tmp" oci-layout index.json blobs && mv "$tar.tmp" "$tar"
}

# --- PKI and configuration ------------------------------------------------------------------------

cert() { # name CN O [SANs]
  local name=$1 cn=$2 o=$3 san=${4:-}
  local ext="basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=clientAuth,serverAuth"
  [ -n "$san" ] && ext+=$'\n'"subjectAltName=$san"
  openssl req -new -newkey rsa:2048 -nodes -keyout "$pki/$name.key" -subj "/CN=$cn${o:+/O=$o}" \
    -out "$pki/$name.csr" 2>/dev/null
  openssl x509 -req -in "$pki/$name.csr" -CA "$pki/ca.crt" -CAkey "$pki/ca.key" -CAcreateserial \
    -days 30 -out "$pki/$name.crt" -extfile <(printf '%s\n' "$ext") 2>/dev/null
}

kubeconfig() { # file user-cert server
  cat >"$1" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: warmstart
  cluster: {server: "$3", certificate-authority: "$pki/ca.crt"}
users:
- name: $2
  user: {client-certificate: "$pki/$2.crt", client-key: "$pki/$2.key"}
contexts:
- name: warmstart
  context: {cluster: warmstart, user: $2}
current-context: warmstart
EOF
}

write_config() {
  pki=$state/pki
  mkdir -p "$pki" "$state/logs" "$state/pids" "$state/cni/net.d" "$state/etcd"
  openssl req -x509 -new -newkey rsa:2048 -nodes -keyout "$pki/ca.key" -subj "/CN=warmstart-local-ca" \
    -days 30 -out "$pki/ca.crt" 2>/dev/null
  openssl genrsa -out "$pki/sa.key" 2048 2>/dev/null
  openssl rsa -in "$pki/sa.key" -pubout -out "$pki/sa.pub" 2>/dev/null
  cert apiserver kube-apiserver "" \
    "IP:$node_ip,IP:$svc_ip,IP:127.0.0.1,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local,DNS:localhost"
  cert admin kubernetes-admin system:masters
  cert apiserver-kubelet-client kube-apiserver-kubelet-client system:masters
  cert controller-manager system:kube-controller-manager ""
  cert scheduler system:kube-scheduler ""
  cert kube-proxy system:kube-proxy ""
  cert kubelet "system:node:$node_name" system:nodes "IP:$node_ip,DNS:$node_name"
  local server=https://$node_ip:6443
  kubeconfig "$state/admin.kubeconfig" admin "$server"
  kubeconfig "$state/controller-manager.kubeconfig" controller-manager "$server"
  kubeconfig "$state/scheduler.kubeconfig" scheduler "$server"
  kubeconfig "$state/kube-proxy.kubeconfig" kube-proxy "$server"
  kubeconfig "$state/kubelet.kubeconfig" kubelet "$server"

  cat >"$state/containerd.toml" <<EOF
version = 3
root = '$state/containerd'
state = '$run'
[grpc]
  address = '$sock'
[plugins]
  # NRI's socket (/var/run/nri/nri.sock) is a host path outside the per-node binds; nothing here uses NRI.
  [plugins.'io.containerd.nri.v1.nri']
    disable = true
  [plugins.'io.containerd.cri.v1.images']
    snapshotter = 'overlayfs'
    [plugins.'io.containerd.cri.v1.images'.pinned_images]
      sandbox = '$pause_image'
  [plugins.'io.containerd.cri.v1.runtime']
    restrict_oom_score_adj = true
    netns_mounts_under_state_dir = true
    enable_cdi = false
    [plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc]
      runtime_type = 'io.containerd.runc.v2'
      [plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc.options]
        BinaryName = '$(command -v runc)'
        SystemdCgroup = false
    [plugins.'io.containerd.cri.v1.runtime'.cni]
      bin_dirs = ['$deb_root/usr/lib/cni']
      conf_dir = '$state/cni/net.d'
EOF
  cat >"$state/cni/net.d/10-warmstart.conflist" <<EOF
{"cniVersion": "1.0.0", "name": "warmstart", "plugins": [
  {"type": "bridge", "bridge": "cni0", "isGateway": true, "ipMasq": false, "hairpinMode": true,
   "ipam": {"type": "host-local", "ranges": [[{"subnet": "$pod_cidr"}]], "routes": [{"dst": "0.0.0.0/0"}],
            "dataDir": "$state/cni/ipam"}},
  {"type": "portmap", "capabilities": {"portMappings": true}},
  {"type": "loopback"}]}
EOF
  cat >"$state/kubelet.yaml" <<EOF
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: true}
  x509: {clientCAFile: "$pki/ca.crt"}
authorization: {mode: Webhook}
tlsCertFile: "$pki/kubelet.crt"
tlsPrivateKeyFile: "$pki/kubelet.key"
containerRuntimeEndpoint: "unix://$sock"
cgroupDriver: cgroupfs
failCgroupV1: false
failSwapOn: false
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
evictionHard: {memory.available: "100Mi", nodefs.available: "1%", imagefs.available: "1%"}
podLogsDir: "$state/pod-logs"
resolvConf: /etc/resolv.conf
serializeImagePulls: false
clusterDomain: cluster.local
EOF
  cat >"$state/kube-proxy.yaml" <<EOF
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
mode: iptables
clientConnection: {kubeconfig: "$state/kube-proxy.kubeconfig"}
hostnameOverride: $node_name
bindAddress: $node_ip
clusterCIDR: $cluster_cidr
# The namespace's conntrack table is the kernel's; leave the host's conntrack sysctls alone.
conntrack: {maxPerCore: 0, min: 0, tcpEstablishedTimeout: 0s, tcpCloseWaitTimeout: 0s}
EOF
}

# Node 2's configuration: node 1's files with its own name, addresses, pod range, cgroup root, log
# directory and CNI state. Its containerd keeps node 1's paths, which its mount namespace binds to
# node 2's directories.
write_node2_config() {
  mkdir -p "$n2/cni/net.d"
  cert kubelet2 "system:node:$node2_name" system:nodes "IP:$node2_ip,DNS:$node2_name"
  kubeconfig "$state/kubelet2.kubeconfig" kubelet2 "https://$node_ip:6443"
  sed -e "s|conf_dir = '$state/cni/net.d'|conf_dir = '$n2/cni/net.d'|" \
    "$state/containerd.toml" >"$n2/containerd.toml"
  sed -e "s|$pod_cidr|$pod_cidr2|" -e "s|$state/cni/ipam|$n2/cni/ipam|" \
    "$state/cni/net.d/10-warmstart.conflist" >"$n2/cni/net.d/10-warmstart.conflist"
  sed -e "s|$pki/kubelet\.|$pki/kubelet2.|g" -e "s|podLogsDir: .*|podLogsDir: \"$n2/pod-logs\"|" \
    "$state/kubelet.yaml" >"$n2/kubelet.yaml"
  echo "cgroupRoot: /$cgroup2_root" >>"$n2/kubelet.yaml"
  sed -e "s|hostnameOverride: .*|hostnameOverride: $node2_name|" -e "s|bindAddress: .*|bindAddress: $node2_ip|" \
    "$state/kube-proxy.yaml" >"$n2/kube-proxy.yaml"
}

# Node 2's network namespace (a veth to the host, routed by the host to node 1's) and its mount
# namespace, kept by a bind mount of its nsfs file, with the per-node paths bound in it. Made before
# any container runs, so it holds no copy of node 1's container mounts.
make_node2_namespaces() {
  ip netns add "$netns2"
  ip link add ws-k8s2 type veth peer name ws-k8s3
  ip link set ws-k8s3 netns "$netns2"
  ip addr add "$host2_ip/30" dev ws-k8s2
  ip link set ws-k8s2 up
  ip -n "$netns2" addr add "$node2_ip/30" dev ws-k8s3
  ip -n "$netns2" link set ws-k8s3 up
  ip -n "$netns2" link set lo up
  ip -n "$netns2" route add default via "$host2_ip"
  ip route add "$pod_cidr2" via "$node2_ip"
  sysctl -q -w net.ipv4.ip_forward=1
  # Forwarding between the nodes' veths, whatever the host's FORWARD policy is (removed by down).
  iptables -I FORWARD -i ws-k8s+ -o ws-k8s+ -j ACCEPT

  # unshare --mount=FILE needs FILE on a mount that is not shared.
  mkdir -p "$n2/ns"
  mount --bind "$n2/ns" "$n2/ns"
  mount --make-private "$n2/ns"
  touch "$mntns2"
  unshare --mount="$mntns2" --propagation private true
  local e host_dir binds=""
  for e in "${node_local_dirs[@]}"; do
    host_dir=$n2/${e#*:}
    mkdir -p "$host_dir" "${e%%:*}"
    # node 1's bind of the path (copied into the namespace) leaves; node 2's own directory takes its
    # place, shared within the namespace like node 1's on the host (HostToContainer volumes).
    binds+="umount -l '${e%%:*}' 2>/dev/null || true; mount --bind '$host_dir' '${e%%:*}'; mount --make-rshared '${e%%:*}'; "
  done
  nsenter --mount="$mntns2" -- sh -ec "$binds"
}

# A cgroup root of node 2's own in every hierarchy (the kubelet wants its cgroupRoot to exist).
make_node2_cgroups() {
  local d
  for d in $(cgroup_mounts); do
    mkdir -p "$d/$cgroup2_root"
    if [ -f "$d/cpuset.cpus" ]; then # cgroup v1 cpuset: a new group starts without CPUs or memory nodes
      cat "$d/cpuset.cpus" >"$d/$cgroup2_root/cpuset.cpus"
      cat "$d/cpuset.mems" >"$d/$cgroup2_root/cpuset.mems"
    fi
    if [ -f "$d/cgroup.subtree_control" ]; then # cgroup v2: hand its children the root's controllers
      local c
      for c in $(cat "$d/cgroup.subtree_control"); do
        echo "+$c" >"$d/$cgroup2_root/cgroup.subtree_control" 2>/dev/null || true
      done
    fi
  done
}

cgroup_mounts() { awk '$9 == "cgroup" || $9 == "cgroup2" {print $5}' /proc/self/mountinfo | sort -u; }

# --- processes ------------------------------------------------------------------------------------

start() { # name binary args...   runs in the cluster's network namespace; PID kept in pids/NAME
  local name=$1; shift
  setsid nsenter --net="/run/netns/$netns" -- "$@" >"$state/logs/$name.log" 2>&1 </dev/null &
  echo $! >"$state/pids/$name"
}

start2() { # name binary args...   runs in node 2's network and mount namespaces
  local name=$1; shift
  setsid nsenter --net="/run/netns/$netns2" --mount="$mntns2" -- "$@" >"$state/logs/$name.log" 2>&1 </dev/null &
  echo $! >"$state/pids/$name"
}

wait_for() { # seconds description command...
  local t=$1 what=$2; shift 2
  local end=$((SECONDS + t))
  until "$@" >/dev/null 2>&1; do
    if [ $SECONDS -ge $end ]; then
      log "timed out after ${t}s waiting for $what; last log lines:"
      tail -n 30 "$state"/logs/*.log >&2 || true
      return 1
    fi
    sleep 0.5
  done
}

kc() { "$kbin/kubectl" --kubeconfig "$state/admin.kubeconfig" "$@"; }

up() {
  [ "$(id -u)" = 0 ] || die "must run as root (containers, network namespaces, cgroups)"
  if [ -f "$state/pids/kube-apiserver" ] && kill -0 "$(cat "$state/pids/kube-apiserver")" 2>/dev/null &&
    kc get --raw /readyz >/dev/null 2>&1; then
    local running; running=$(cat "$state/nodes" 2>/dev/null || echo 1)
    [ "$running" = "$nodes" ] || die "a cluster of $running node(s) is up ($state): run down first for $nodes"
    log "cluster of $running node(s) already up ($state)"; return
  fi
  [ ! -e "$state" ] || { log "leftovers of an earlier cluster in $state: tearing them down first"; down; }
  for c in runc openssl iptables nsenter ip make gcc; do
    command -v $c >/dev/null || die "$c not found (CI installs it in .ci/run)"
  done
  [ ! -S "$sock" ] || die "another containerd already serves $sock; stop it first"
  [ ! -e "$kubelet_dir" ] || die "$kubelet_dir exists: another kubelet's? (remove it if it is a leftover)"
  local t0=$SECONDS
  build_kubernetes
  fetch_debian
  build_pause_image
  mkdir -p "$state"
  for s in "${sysctls[@]}"; do echo "$s=$(sysctl -n "$s")"; done >"$state/sysctls.saved"
  [ -e "$run" ] || echo "$run" >"$state/created-run-dir"
  write_config
  echo "$nodes" >"$state/nodes"
  [ "$nodes" = 2 ] && write_node2_config
  # Shared mounts, as on systemd hosts (where / is shared): the agent's HostToContainer volumes only
  # see mounts made after it started (placeholder root filesystems, pod volumes) from a shared
  # source, and the kubelet/containerd refuse such volumes otherwise. This sandbox's / is private.
  for d in "$run" "$kubelet_dir"; do
    mkdir -p "$d"
    mount --bind "$d" "$d"
    mount --make-rshared "$d"
  done

  ip netns add "$netns"
  ip link add ws-k8s0 type veth peer name ws-k8s1
  ip link set ws-k8s1 netns "$netns"
  ip addr add "$host_ip/30" dev ws-k8s0
  ip link set ws-k8s0 up
  ip -n "$netns" addr add "$node_ip/30" dev ws-k8s1
  ip -n "$netns" link set ws-k8s1 up
  ip -n "$netns" link set lo up
  ip -n "$netns" route add default via "$host_ip"
  ip route add "$pod_cidr" via "$node_ip"
  if [ "$nodes" = 2 ]; then make_node2_namespaces; make_node2_cgroups; fi

  local deb=$deb_root/usr/bin
  export PATH=$deb:$kbin:$PATH
  start etcd "$deb/etcd" --data-dir "$state/etcd" --name warmstart \
    --listen-client-urls http://127.0.0.1:2379 --advertise-client-urls http://127.0.0.1:2379 \
    --listen-peer-urls http://127.0.0.1:2380 --initial-advertise-peer-urls http://127.0.0.1:2380 \
    --initial-cluster warmstart=http://127.0.0.1:2380 --unsafe-no-fsync
  start containerd "$deb/containerd" --config "$state/containerd.toml"
  [ "$nodes" = 2 ] && start2 containerd2 "$deb/containerd" --config "$n2/containerd.toml"
  start kube-apiserver "$kbin/kube-apiserver" --etcd-servers http://127.0.0.1:2379 \
    --advertise-address "$node_ip" --bind-address 0.0.0.0 --secure-port 6443 \
    --service-cluster-ip-range "$svc_cidr" --allow-privileged=true \
    --authorization-mode Node,RBAC --enable-admission-plugins NodeRestriction \
    --client-ca-file "$pki/ca.crt" --tls-cert-file "$pki/apiserver.crt" --tls-private-key-file "$pki/apiserver.key" \
    --kubelet-client-certificate "$pki/apiserver-kubelet-client.crt" \
    --kubelet-client-key "$pki/apiserver-kubelet-client.key" --kubelet-certificate-authority "$pki/ca.crt" \
    --kubelet-preferred-address-types InternalIP,Hostname \
    --service-account-key-file "$pki/sa.pub" --service-account-signing-key-file "$pki/sa.key" \
    --service-account-issuer https://kubernetes.default.svc.cluster.local
  wait_for 120 "the API server" kc get --raw /readyz
  start kube-controller-manager "$kbin/kube-controller-manager" --kubeconfig "$state/controller-manager.kubeconfig" \
    --authentication-kubeconfig "$state/controller-manager.kubeconfig" \
    --authorization-kubeconfig "$state/controller-manager.kubeconfig" \
    --service-account-private-key-file "$pki/sa.key" --root-ca-file "$pki/ca.crt" \
    --use-service-account-credentials --leader-elect=false --bind-address 127.0.0.1
  start kube-scheduler "$kbin/kube-scheduler" --kubeconfig "$state/scheduler.kubeconfig" \
    --authentication-kubeconfig "$state/scheduler.kubeconfig" --authorization-kubeconfig "$state/scheduler.kubeconfig" \
    --leader-elect=false --bind-address 127.0.0.1
  wait_for 60 "containerd" "$deb/ctr" --address "$sock" version
  "$deb/ctr" --address "$sock" -n k8s.io images import "$cache/pause/pause.tar" >/dev/null
  start kubelet "$kbin/kubelet" --config "$state/kubelet.yaml" --kubeconfig "$state/kubelet.kubeconfig" \
    --root-dir "$kubelet_dir" --hostname-override "$node_name" --node-ip "$node_ip"
  start kube-proxy "$kbin/kube-proxy" --config "$state/kube-proxy.yaml"
  if [ "$nodes" = 2 ]; then
    local sock2=$n2/run-containerd/containerd.sock
    wait_for 60 "node 2's containerd" "$deb/ctr" --address "$sock2" version
    "$deb/ctr" --address "$sock2" -n k8s.io images import "$cache/pause/pause.tar" >/dev/null
    start2 kubelet2 "$kbin/kubelet" --config "$n2/kubelet.yaml" --kubeconfig "$state/kubelet2.kubeconfig" \
      --root-dir "$kubelet_dir" --hostname-override "$node2_name" --node-ip "$node2_ip" \
      --register-with-taints "$node2_taint"
    start2 kube-proxy2 "$kbin/kube-proxy" --config "$n2/kube-proxy.yaml"
  fi
  wait_for 120 "node $node_name to be Ready" kc wait --for=condition=Ready "node/$node_name" --timeout=2s
  if [ "$nodes" = 2 ]; then
    wait_for 120 "node $node2_name to be Ready" kc wait --for=condition=Ready "node/$node2_name" --timeout=2s
  fi
  # No node controller taints to wait out; the default ServiceAccount must exist before pods can be made.
  wait_for 60 "the default ServiceAccount" kc -n default get serviceaccount default
  log "cluster of $nodes node(s) up in $((SECONDS - t0)) s: Kubernetes $k8s_version, $(containerd_version), etcd $("$deb/etcd" --version | sed -n 's/etcd Version: //p'), $(runc --version | head -1), CNI plugins $(cni_version)"
  log "KUBECONFIG=$state/admin.kubeconfig"
}

containerd_version() { "$deb_root/usr/bin/containerd" --version | awk '{print "containerd " $3}'; }
cni_version() { sed -n 's/^containernetworking-plugins_\([^_]*\)_.*/\1/p' "$deb_root/PACKAGES"; }

stop_pid() { # pidfile
  local f=$1 p
  [ -f "$f" ] || return 0
  p=$(cat "$f")
  if kill -0 "$p" 2>/dev/null; then
    kill -TERM "$p" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.2; done
    kill -KILL "$p" 2>/dev/null || true
  fi
  rm -f "$f"
}

# Every process in the kubelet's pod cgroups (the containers) and every shim of our containerd.
pod_processes() {
  local d
  for d in /sys/fs/cgroup/pids/kubepods /sys/fs/cgroup/unified/kubepods /sys/fs/cgroup/kubepods \
    /sys/fs/cgroup/{pids,unified}/$cgroup2_root /sys/fs/cgroup/$cgroup2_root; do
    [ -d "$d" ] && find "$d" -name cgroup.procs -exec cat {} + 2>/dev/null
  done
  local shim=${deb_root:-/nonexistent}/usr/bin/containerd-shim-runc-v2 p
  for p in /proc/[0-9]*; do
    [ "$(readlink "$p/exe" 2>/dev/null)" = "$shim" ] && echo "${p#/proc/}"
  done
  return 0
}

remove_cgroups() { # rmdir the kubelet's cgroup trees, deepest first
  local d
  for d in /sys/fs/cgroup/*/kubepods /sys/fs/cgroup/kubepods /sys/fs/cgroup/*/$cgroup2_root \
    /sys/fs/cgroup/$cgroup2_root; do
    [ -d "$d" ] && find "$d" -depth -type d -exec rmdir {} \; 2>/dev/null
  done
  return 0
}

down() {
  [ "$(id -u)" = 0 ] || die "must run as root"
  local marker=$cache/debian/current
  [ -f "$marker" ] && deb_root=$(cat "$marker")
  for c in kube-proxy kube-proxy2 kube-scheduler kube-controller-manager kubelet kubelet2; do
    stop_pid "$state/pids/$c"
  done
  local i
  for i in 1 2 3; do
    mapfile -t ps < <(pod_processes | sort -u)
    [ ${#ps[@]} -eq 0 ] && break
    kill -KILL "${ps[@]}" 2>/dev/null || true
    sleep 0.5
  done
  for c in containerd containerd2 kube-apiserver etcd; do stop_pid "$state/pids/$c"; done
  # Mounts of the containers, pod volumes and pod network namespaces, innermost first.
  local m
  for i in 1 2 3; do
    mapfile -t ms < <(awk '{print $5}' /proc/self/mountinfo | grep -E "^($state|$run|$kubelet_dir)(/|\$)" | sort -r)
    [ ${#ms[@]} -eq 0 ] && break
    for m in "${ms[@]}"; do umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true; done
  done
  # (node 2's mount namespace went with the unmount of its nsfs file above: no process is left in it,
  # so its mounts went with it.)
  ip netns del "$netns" 2>/dev/null || true
  ip link del ws-k8s0 2>/dev/null || true
  ip netns del "$netns2" 2>/dev/null || true
  ip link del ws-k8s2 2>/dev/null || true
  while iptables -D FORWARD -i ws-k8s+ -o ws-k8s+ -j ACCEPT 2>/dev/null; do :; done
  remove_cgroups
  if [ -f "$state/sysctls.saved" ]; then
    while IFS= read -r kv; do sysctl -q -w "$kv" >/dev/null || log "could not restore $kv"; done <"$state/sysctls.saved"
  fi
  if [ -f "$state/created-run-dir" ]; then rm -rf "$run"; fi
  # up refuses to start when it exists, so it is ours (after the unmounts above, plain files).
  if [ -f "$state/sysctls.saved" ] && ! grep -q " $kubelet_dir" /proc/self/mountinfo; then rm -rf "$kubelet_dir"; fi
  if [ -n "${WARMSTART_CLUSTER_LOGS:-}" ] && [ -d "$state/logs" ]; then
    mkdir -p "$WARMSTART_CLUSTER_LOGS" && cp -r "$state/logs/." "$WARMSTART_CLUSTER_LOGS/" || true
  fi
  rm -rf "$state"
  log "cluster down"
}

import_images() {
  local marker=$cache/debian/current
  [ -f "$marker" ] || die "no cluster binaries yet: run up first"
  deb_root=$(cat "$marker")
  local t
  local socks=("$sock")
  [ "$(cat "$state/nodes" 2>/dev/null)" = 2 ] && socks+=("$n2/run-containerd/containerd.sock")
  if [ "${1:-}" = --node ]; then
    case "${2:-}" in
      1) socks=("$sock") ;;
      2) [ ${#socks[@]} = 2 ] || die "--node 2: the cluster has one node"; socks=("${socks[1]}") ;;
      *) die "--node: 1 or 2" ;;
    esac
    shift 2
  fi
  # One import per node at a time, the nodes in parallel.
  local s pids=() rc=0
  for s in "${socks[@]}"; do
    (for t in "$@"; do "$deb_root/usr/bin/ctr" --address "$s" -n k8s.io images import "$t" >&2; done) &
    pids+=($!)
  done
  for p in "${pids[@]}"; do wait "$p" || rc=1; done
  [ $rc = 0 ] || die "importing images failed"
}

nodes=${WARMSTART_CLUSTER_NODES:-1}
case "${1:-}" in
  up)
    [ "${2:-}" = --nodes ] && nodes=${3:?--nodes needs 1 or 2}
    case "$nodes" in 1 | 2) ;; *) die "--nodes: 1 or 2, not $nodes" ;; esac
    up
    ;;
  down) down ;;
  env)
    echo "export KUBECONFIG=$state/admin.kubeconfig"
    echo "export PATH=$kbin:\$PATH"
    ;;
  import) shift; import_images "$@" ;;
  build) build_kubernetes; fetch_debian; build_pause_image ;;
  *) sed -n '2,12p' "$0"; exit 2 ;;
esac
