#!/usr/bin/env bash
# Networks whose orgs each run on their own host, on this machine: one host per entry of the
# descriptions' placement (network/networks/net1-hosts.json, net2-hosts.json), each with its own
# address on a segment made here and every name of the host resolvable, and every node of an org
# (orderers, peers, chaincode servers) started on its org's host.
#
#   multihost.sh up            segment, hosts, names; then `network.sh up` from the client host
#                              (the network's nodes go to their org's host)
#   multihost.sh down          the nodes of orgs that joined a chain at run time (`join-org.sh down`),
#                              `network.sh down`, then every host, link, file and container made here
#   multihost.sh exec HOST CMD...   run CMD on HOST (client, orderer, hospitala, ...)
#   multihost.sh test          up, the multihost jest suite (test/multihost, in the order of
#                              test/multihost/sequencer.mjs) from the client host, down (also when
#                              the suite fails or is interrupted)
#   multihost.sh status        hosts, addresses and the network's nodes
#
# FABRIC_RUNTIME picks how hosts and nodes are made (one hosts module, lib/hosts-<runtime>.sh, with
# the interface written at the top of lib/hosts-native.sh):
#   native   a network namespace per host on a bridge inside a namespace of its own, hosts files;
#            nodes are processes started in their org's namespace (lib/runtime-native.sh)
#   docker   a user-defined docker bridge network (10.78.0.0/24, internal), a container per host
#            holding its address and its names as network aliases (docker's embedded DNS); nodes are
#            containers sharing their org's host container's network (lib/runtime-docker.sh)
# On both, each host's network namespace is named mbmh-<host>, so `ip netns exec mbmh-<host>` runs
# a process on that host, and $MEDBRIDGE_NETNS_MAP lists `<address> <namespace>` per host.
#
# NETWORKS=<description>,... (default net1-hosts,net2-hosts), all on one segment; MEDBRIDGE_RUNTIME
# defaults to .runtime/multihost (native) or .runtime/multihost-docker, so the embedded loopback
# network in .runtime/ is never touched. Needs root. Traffic stays on the segment: the hosts have no
# default route and nothing is forwarded or routed anywhere else. Run it under the Fabric lock like
# every network command:
#   flock /tmp/medbridge-fabric.lock make test-multihost      (both runtimes, MULTIHOST_RUNTIMES)
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
# shellcheck source=lib/log.sh
source "$HERE/lib/log.sh"

export FABRIC_RUNTIME=${FABRIC_RUNTIME:-native}
NETWORKS=${NETWORKS:-net1-hosts,net2-hosts}
NETWORK=${NETWORKS//,/+}
case $FABRIC_RUNTIME in
  native) export MEDBRIDGE_RUNTIME=${MEDBRIDGE_RUNTIME:-$REPO/.runtime/multihost} ;;
  docker) export MEDBRIDGE_RUNTIME=${MEDBRIDGE_RUNTIME:-$REPO/.runtime/multihost-docker} ;;
  *) die "FABRIC_RUNTIME=$FABRIC_RUNTIME is not supported (native or docker)" ;;
esac
NS_PREFIX=mbmh-
CLIENT=client
STATE="$MEDBRIDGE_RUNTIME/.multihost"
export MEDBRIDGE_NETNS_MAP="$STATE/netns.map"

HOSTS_INTERFACE=(mh_prepare mh_subnet mh_add_medium mh_add_host mh_resolve mh_remove_all mh_show)
# shellcheck source=/dev/null
source "$HERE/lib/hosts-$FABRIC_RUNTIME.sh"
for fn in "${HOSTS_INTERFACE[@]}"; do
  declare -F "$fn" >/dev/null || die "lib/hosts-$FABRIC_RUNTIME.sh lacks $fn of the hosts interface"
done
# Where the runtime's hosts live; topology.js moves the described addresses there.
MEDBRIDGE_HOSTS_SUBNET=$(mh_subnet)
[[ -z $MEDBRIDGE_HOSTS_SUBNET ]] || export MEDBRIDGE_HOSTS_SUBNET

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

# write_hosts_file: $STATE/hosts, every host's names from the descriptions (hosts(5) format).
write_hosts_file() {
  local line rest
  {
    printf '127.0.0.1 localhost\n::1 localhost\n'
    for line in "${HOSTS[@]}"; do
      read -r _ rest <<<"$line"
      echo "$rest"
    done
  } >"$STATE/hosts"
}

cmd_up() {
  local line key addr names i=0 start
  mh_prepare
  read_hosts
  start=$(now_ms)
  step "[$NETWORK] $FABRIC_RUNTIME hosts: one per placed org on $SUBNET.0/24, client $CLIENT_ADDR"
  mkdir -p "$STATE"
  : >>"$MEDBRIDGE_NETNS_MAP"
  mh_add_medium
  mh_add_host "$CLIENT" "$CLIENT_ADDR" "$i"
  for line in "${HOSTS[@]}"; do
    read -r key addr names <<<"$line"
    i=$((i + 1))
    # shellcheck disable=SC2086 # names: one word per DNS name
    mh_add_host "$key" "$addr" "$i" $names
  done
  write_hosts_file
  mh_resolve
  step "[$NETWORK] network.sh up ($FABRIC_RUNTIME) from $(ns_of "$CLIENT") (nodes start on their org's host)"
  in_ns "$CLIENT" env NETWORKS="$NETWORKS" "$HERE/network.sh" up
  step "[$NETWORK] multi-host network up ($FABRIC_RUNTIME) in $(( ($(now_ms) - start) / 1000 )) s"
}

# cmd_down: the network, then each host this script made and its files.
cmd_down() {
  local start
  [[ $(id -u) == 0 ]] || die "removing network namespaces needs root"
  start=$(now_ms)
  step "[$NETWORK] stopping the network ($FABRIC_RUNTIME) and removing the hosts made for it"
  if [[ -f $MEDBRIDGE_NETNS_MAP ]]; then
    stop_joined
    NETWORKS="$NETWORKS" "$HERE/network.sh" down || warn "network.sh down failed (see above)"
  fi
  mh_remove_all
  rmdir /etc/netns 2>/dev/null || true
  rm -rf "$STATE"
  rmdir "$MEDBRIDGE_RUNTIME" 2>/dev/null || true
  step "[$NETWORK] down in $(( ($(now_ms) - start) / 1000 )) s"
}

# stop_joined: the nodes of every org that joined a chain at run time (join-org.sh keeps their
# state in <network>/join/<org>/, beside the network's own).
stop_joined() {
  local net box
  for net in ${NETWORKS//,/ }; do
    for box in "$MEDBRIDGE_RUNTIME/$net/join"/*/; do
      [[ -d $box/pids ]] || continue
      NETWORK=$net "$HERE/join-org.sh" down "$(basename "$box")" || warn "join-org.sh down $(basename "$box") failed (see above)"
    done
  done
}

# in_ns HOST CMD...: CMD on HOST (inside its network namespace), with the multi-host environment.
in_ns() {
  local key=$1
  shift
  ip netns exec "$(ns_of "$key")" env MEDBRIDGE_RUNTIME="$MEDBRIDGE_RUNTIME" MEDBRIDGE_NETNS_MAP="$MEDBRIDGE_NETNS_MAP" "$@"
}

cmd_test() {
  local rc=0
  if [[ $(id -u) != 0 ]]; then
    info "multihost suite ($FABRIC_RUNTIME) skipped: network namespaces need root (ip netns); run it as root"
    return 0
  fi
  trap 'cmd_down' EXIT
  trap 'exit 130' INT TERM
  cmd_up
  step "[$NETWORK] multihost suite ($FABRIC_RUNTIME) from $(ns_of "$CLIENT")"
  (cd "$REPO" && in_ns "$CLIENT" env MULTIHOST_NETWORKS="$NETWORKS" npx jest --selectProjects multihost --runInBand --forceExit --testSequencer ./test/multihost/sequencer.mjs) || rc=$?
  return $rc
}

cmd_status() {
  read_hosts
  mh_show
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
