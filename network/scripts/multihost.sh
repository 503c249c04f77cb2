#!/usr/bin/env bash
# Networks whose orgs each run on their own host, on this machine: one Linux network namespace
# per host of the descriptions' placement (network/networks/net1-hosts.json, net2-hosts.json), each with its
# address on a bridge created here, names resolved through a hosts file per namespace, and every
# node of an org (orderers, peers, chaincode servers) started inside its org's namespace.
#
#   multihost.sh up            bridge, namespaces, hosts files; then `network.sh up` from the
#                              client namespace (the network's nodes go to their org's namespace)
#   multihost.sh down          `network.sh down`, then every namespace, link, hosts file made here
#   multihost.sh exec HOST CMD...   run CMD in the namespace of HOST (client, orderer, hospitala, ...)
#   multihost.sh test          up, the multihost jest suite (test/multihost) from the client
#                              namespace, down (also when the suite fails)
#   multihost.sh status        namespaces, addresses and the network's nodes
#
# NETWORKS=<description>,... (default net1-hosts,net2-hosts), all on one bridge; MEDBRIDGE_RUNTIME
# defaults to .runtime/multihost, so
# the embedded loopback network in .runtime/ is never touched. Needs root (ip netns). Traffic stays
# on the bridge: the bridge has no address, the namespaces have no default route, and nothing is
# forwarded or routed anywhere else. The bridge itself lives in a namespace of its own
# (mbmh-switch), so no frame between the hosts crosses the machine's own network namespace or its
# packet filter. Run it under the Fabric lock like every network command:
#   flock /tmp/medbridge-fabric.lock make test-multihost
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
# shellcheck source=lib/log.sh
source "$HERE/lib/log.sh"

NETWORKS=${NETWORKS:-net1-hosts,net2-hosts}
NETWORK=${NETWORKS//,/+}
export MEDBRIDGE_RUNTIME=${MEDBRIDGE_RUNTIME:-$REPO/.runtime/multihost}
BRIDGE=mbmh0
NS_PREFIX=mbmh-
SWITCH=${NS_PREFIX}switch
CLIENT=client
STATE="$MEDBRIDGE_RUNTIME/.multihost"
export MEDBRIDGE_NETNS_MAP="$STATE/netns.map"

# read_hosts: the placement of every network as `key address names...` lines (topology.js hosts).
read_hosts() {
  local net file lines=()
  HOSTS=()
  for net in ${NETWORKS//,/ }; do
    file="$REPO/network/networks/$net.json"
    [[ -f $file ]] || die "no network description $file"
    mapfile -t lines < <(node "$HERE/lib/topology.js" "$file" "$MEDBRIDGE_RUNTIME/$net" hosts)
    ((${#lines[@]} > 0)) || die "$file places no org on a host of its own (\"placement\", network/NETWORKS.md)"
    HOSTS+=("${lines[@]}")
  done
  local first
  read -r _ first _ <<<"${HOSTS[0]}"
  SUBNET=${first%.*}
  CLIENT_ADDR=${MEDBRIDGE_MULTIHOST_CLIENT:-$SUBNET.2}
}

ns_of() { echo "$NS_PREFIX$1"; }

require_root() {
  [[ $(id -u) == 0 ]] || die "network namespaces need root (ip netns); run as root or use the loopback network (make test-integration)"
  command -v ip >/dev/null 2>&1 || die "ip (iproute2) is missing: apt-get install iproute2"
}

ns_exists() { ip netns list | grep -q "^$1\b"; }

# add_switch: the namespace that holds the bridge (and nothing else: no address, no route).
add_switch() {
  ns_exists "$SWITCH" && return
  ip netns add "$SWITCH"
  echo "- $SWITCH" >>"$STATE/namespaces"
  ip -n "$SWITCH" link add "$BRIDGE" type bridge
  ip -n "$SWITCH" link set "$BRIDGE" up
}

# add_host KEY ADDRESS INDEX: a namespace with loopback and one veth to the bridge.
add_host() {
  local key=$1 addr=$2 i=$3 ns veth
  ns=$(ns_of "$key")
  veth="mbmhv$i"
  if ns_exists "$ns"; then info "$ns exists"; return; fi
  ip netns add "$ns"
  echo "$addr $ns" >>"$STATE/namespaces"
  ip -n "$ns" link set lo up
  ip -n "$SWITCH" link add "$veth" type veth peer name eth0 netns "$ns"
  ip -n "$SWITCH" link set "$veth" master "$BRIDGE" up
  ip -n "$ns" addr add "$addr/24" dev eth0
  ip -n "$ns" link set eth0 up
  echo "$addr $ns" >>"$MEDBRIDGE_NETNS_MAP"
  info "$ns: $addr on $BRIDGE (veth $veth)"
}

# write_hosts_files: /etc/netns/<ns>/hosts, which `ip netns exec` shows as /etc/hosts inside.
write_hosts_files() {
  local line key ns
  {
    printf '127.0.0.1 localhost\n::1 localhost\n'
    for line in "${HOSTS[@]}"; do
      read -r _ rest <<<"$line"
      echo "$rest"
    done
  } >"$STATE/hosts"
  for line in "${HOSTS[@]}" "$CLIENT"; do
    read -r key _ <<<"$line"
    ns=$(ns_of "$key")
    mkdir -p "/etc/netns/$ns"
    cp "$STATE/hosts" "/etc/netns/$ns/hosts"
  done
}

cmd_up() {
  local line key addr i=0 start
  require_root
  read_hosts
  start=$(now_ms)
  step "[$NETWORK] hosts: bridge $BRIDGE in $SWITCH, one network namespace per host ($SUBNET.0/24), client $CLIENT_ADDR"
  mkdir -p "$STATE"
  : >>"$MEDBRIDGE_NETNS_MAP"
  add_switch
  add_host "$CLIENT" "$CLIENT_ADDR" "$i"
  for line in "${HOSTS[@]}"; do
    read -r key addr _ <<<"$line"
    i=$((i + 1))
    add_host "$key" "$addr" "$i"
  done
  write_hosts_files
  info "hosts file: $STATE/hosts"
  step "[$NETWORK] network.sh up from $(ns_of "$CLIENT") (nodes start in their org's namespace)"
  in_ns "$CLIENT" env NETWORKS="$NETWORKS" FABRIC_RUNTIME=native "$HERE/network.sh" up
  step "[$NETWORK] multi-host network up in $(( ($(now_ms) - start) / 1000 )) s"
}

# cmd_down: the network, then each namespace this script made (its veth goes with it; the
# bridge goes with the switch namespace) and its hosts file.
cmd_down() {
  local ns
  require_root
  step "[$NETWORK] stopping the network and removing the hosts made for it"
  if [[ -f $MEDBRIDGE_NETNS_MAP ]]; then
    NETWORKS="$NETWORKS" FABRIC_RUNTIME=native "$HERE/network.sh" down || warn "network.sh down failed (see above)"
  fi
  if [[ -f $STATE/namespaces ]]; then
    while read -r _ ns; do
      # Anything still running in a namespace made here was started by these scripts.
      ip netns pids "$ns" 2>/dev/null | xargs -r kill -KILL 2>/dev/null || true
      if ip netns del "$ns" 2>/dev/null; then info "removed namespace $ns"; fi
      rm -rf "/etc/netns/$ns"
    done < <(tac "$STATE/namespaces")
  fi
  rmdir /etc/netns 2>/dev/null || true
  rm -rf "$STATE"
  rmdir "$MEDBRIDGE_RUNTIME" 2>/dev/null || true
}

# in_ns HOST CMD...: CMD inside HOST's namespace, with the multi-host environment.
in_ns() {
  local key=$1
  shift
  ip netns exec "$(ns_of "$key")" env MEDBRIDGE_RUNTIME="$MEDBRIDGE_RUNTIME" MEDBRIDGE_NETNS_MAP="$MEDBRIDGE_NETNS_MAP" "$@"
}

cmd_test() {
  local rc=0
  if [[ $(id -u) != 0 ]]; then
    info "multihost suite skipped: network namespaces need root (ip netns); run it as root"
    return 0
  fi
  trap 'cmd_down' EXIT
  cmd_up
  step "[$NETWORK] multihost suite from $(ns_of "$CLIENT")"
  (cd "$REPO" && in_ns "$CLIENT" env MULTIHOST_NETWORKS="$NETWORKS" npx jest --selectProjects multihost --runInBand) || rc=$?
  return $rc
}

cmd_status() {
  read_hosts
  ip netns list | grep "^$NS_PREFIX" || echo "  no namespaces"
  [[ -f $MEDBRIDGE_NETNS_MAP ]] && cat "$MEDBRIDGE_NETNS_MAP"
  [[ -f $MEDBRIDGE_NETNS_MAP ]] && in_ns "$CLIENT" env NETWORKS="$NETWORKS" "$HERE/network.sh" status
  return 0
}

main() {
  local cmd=${1:-}
  shift || true
  case $cmd in
    up) cmd_up ;;
    down) cmd_down ;;
    test) cmd_test ;;
    status) cmd_status ;;
    exec)
      (($# >= 2)) || die "usage: $0 exec HOST CMD..."
      in_ns "$@" ;;
    *) die "usage: $0 up|down|test|status|exec HOST CMD...  (NETWORKS=net1-hosts,net2-hosts)" ;;
  esac
}

main "$@"
