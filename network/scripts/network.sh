#!/usr/bin/env bash
# The embedded Fabric networks of medbridge, as native processes or containers on 127.0.0.1.
#
#   network.sh up       crypto, configs, orderers, peers, channels, chaincode (idempotent)
#   network.sh down     stop what this script started for the network and remove its state
#   network.sh status   nodes, channel heights, committed chaincode
#   network.sh deploy   package the current chaincode/dist and commit it with the next sequence
#   network.sh check    exit 0 when every node of the network runs (quiet)
#   network.sh acquire PID / release PID   shared use (tests, bench, demo): reuse or start /
#                       leave or stop, with one lease per PID (lib/leases.sh)
#
# Which networks: NETWORKS=net1,net2 or NETWORK=net1 (default net1); each one is described by
# network/networks/<name>.json and lives in ${MEDBRIDGE_RUNTIME:-<repo>/.runtime}/<name>/.
# Runtime: FABRIC_RUNTIME=native (processes, default) or docker (one container per node, same ports
# and runtime dir, network/DOCKER.md). Exactly one runtime module is loaded:
# lib/runtime-<runtime>.sh, which implements the runtime interface written at its top (rt_*). A
# network's runtime dir records the runtime that made it; status/check follow it,
# up/deploy/down/acquire refuse the other one.
#
# This file is the sequence of each command; the steps live in lib/: setup.sh (tools, Fabric
# binaries, the description, the runtime dir), fabric-cli.sh (peer/osnadmin), nodes.sh (orderers,
# peers), channels.sh, chaincode.sh, leases.sh, and the runtime modules.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
TOPOLOGY="$HERE/lib/topology.js"
RUNTIME_BASE=$(realpath -m "${MEDBRIDGE_RUNTIME:-$REPO/.runtime}")
FABRIC_RUNTIME=${FABRIC_RUNTIME:-native}
NODE_LOG_SPEC=${MEDBRIDGE_FABRIC_LOGGING:-info}
START_TIMEOUT_S=${MEDBRIDGE_START_TIMEOUT:-40}

# shellcheck source=lib/log.sh
source "$HERE/lib/log.sh"
# shellcheck source=lib/setup.sh
source "$HERE/lib/setup.sh"
# shellcheck source=lib/fabric-cli.sh
source "$HERE/lib/fabric-cli.sh"
# shellcheck source=lib/nodes.sh
source "$HERE/lib/nodes.sh"
# shellcheck source=lib/channels.sh
source "$HERE/lib/channels.sh"
# shellcheck source=lib/chaincode.sh
source "$HERE/lib/chaincode.sh"
# shellcheck source=lib/leases.sh
source "$HERE/lib/leases.sh"

RUNTIME_INTERFACE=(rt_prepare rt_claim_dir rt_node_config rt_launch rt_is_running rt_stop rt_stop_all rt_show_nodes)

# load_runtime: the module of $FABRIC_RUNTIME, checked against the interface.
load_runtime() {
  local fn missing=()
  # shellcheck source=/dev/null
  source "$HERE/lib/runtime-$FABRIC_RUNTIME.sh"
  for fn in "${RUNTIME_INTERFACE[@]}"; do declare -F "$fn" >/dev/null || missing+=("$fn"); done
  ((${#missing[@]} == 0)) || die "lib/runtime-$FABRIC_RUNTIME.sh lacks ${missing[*]} of the runtime interface"
}

# ============================================================ commands

cmd_up() {
  local start
  rt_prepare
  rt_claim_dir
  start=$(now_ms)
  prepare_runtime
  generate_crypto
  write_profiles
  create_channel_blocks
  start_orderers
  start_peers
  join_orderers
  join_peers
  deploy_chaincode
  step "[$NET] up in $(( ($(now_ms) - start) / 1000 )).$(( ($(now_ms) - start) % 1000 / 100 )) s; profiles in $RT/profiles"
}

cmd_deploy() {
  rt_prepare
  [[ -d $RT/crypto ]] || die "network $NET is not up (run make network-up)"
  local n
  for n in "${ORDERERS[@]}" "${PEERS[@]}"; do rt_is_running "$n" || die "$n is not running: run make network-up first"; done
  step "[$NET] deploying $(cc_dir)/dist"
  deploy_chaincode
  step "[$NET] deployed $CC_LABEL"
}

cmd_down() {
  rt_stop_all
  remove_runtime_dir
}

cmd_status() {
  printf '%s (%s runtime) in %s\n' "$NET" "$FABRIC_RUNTIME" "$RT"
  if [[ ! -d $RT ]]; then
    printf '  not up (no runtime directory)\n'
    return
  fi
  show_processes
  if ((RUNNING_COUNT > 0)); then show_channels; fi
}

# cmd_check: quiet; succeeds when every node and chaincode server of the network runs and the
# profiles exist (what a lease holder needs before it reuses a network).
cmd_check() {
  local name org
  [[ -f $RT/network.json ]] || return 1
  for name in "${ORDERERS[@]}" "${PEERS[@]}"; do rt_is_running "$name" || return 1; done
  for org in "${ORGS[@]}"; do [[ -n $(running_servers "$org") ]] || return 1; done
}

main() {
  local cmd=${1:-} net rc=0 kind
  case $cmd in
    up | down | status | deploy | check) ;;
    acquire | release) [[ ${2:-} =~ ^[0-9]+$ ]] || die "usage: $0 $cmd <pid of the test run>" ;;
    *) die "usage: $0 up|down|status|deploy|check  (NETWORKS=net1,net2 or NETWORK=net1)" ;;
  esac
  check_tools
  load_runtime
  [[ $cmd == down || $cmd == check || $cmd == release ]] || resolve_fabric
  mkdir -p "$RUNTIME_BASE"
  for net in $(networks); do
    # One network at a time per runtime; the lock file sits beside (not in) the removable dir.
    exec 8>"$RUNTIME_BASE/.$net.lock"
    flock 8
    select_network "$net"
    kind=$(recorded_runtime)
    if [[ -n $kind && $kind != "$FABRIC_RUNTIME" ]]; then
      case $cmd in
        status | check)
          exec 8>&-
          [[ $cmd == check ]] || info "[$net] runs with the $kind runtime (recorded in $RT): using FABRIC_RUNTIME=$kind"
          FABRIC_RUNTIME=$kind NETWORKS=$net "$0" "$@" || rc=1
          continue ;;
        release) rm -f "$(lease_dir)/$2"; exec 8>&-; continue ;;
        *) die "$net is up with the $kind runtime ($RT); stop it with FABRIC_RUNTIME=$kind make network-down, or use FABRIC_RUNTIME=$kind" ;;
      esac
    fi
    case $cmd in
      up) cmd_up ;;
      down) cmd_down ;;
      deploy) cmd_deploy ;;
      status) cmd_status ;;
      check) cmd_check || rc=1 ;;
      acquire) cmd_acquire "$2" ;;
      release) cmd_release "$2" ;;
    esac
    exec 8>&-
  done
  return $rc
}

main "$@"
