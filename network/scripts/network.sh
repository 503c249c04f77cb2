#!/usr/bin/env bash
# The embedded Fabric networks of medbridge, as native processes on 127.0.0.1.
#
#   network.sh up       crypto, configs, orderers, peers, channels, chaincode (idempotent)
#   network.sh down     stop the processes this script started (pid files) and remove the state
#   network.sh status   processes, channel heights, committed chaincode
#   network.sh deploy   package the current chaincode/dist and commit it with the next sequence
#   network.sh check    exit 0 when every node of the network runs (quiet)
#   network.sh acquire PID / release PID   test harness: reuse or start / leave or stop (leases)
#
# Which networks: NETWORKS=net1,net2 or NETWORK=net1 (default net1); each one is described by
# network/networks/<name>.json and lives in ${MEDBRIDGE_RUNTIME:-<repo>/.runtime}/<name>/.
# Runtime: FABRIC_RUNTIME=native (processes, default) or docker (one container per node, same ports
# and runtime dir: lib/runtime-docker.sh, network/DOCKER.md). A network's runtime dir records the
# runtime that made it; status/check follow it, up/deploy/down/acquire refuse the other one.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
# shellcheck source=lib/log.sh
source "$HERE/lib/log.sh"
TOPOLOGY="$HERE/lib/topology.js"
BUILDER_DIR="$REPO/network/builders/ccaas"
RUNTIME_BASE=$(realpath -m "${MEDBRIDGE_RUNTIME:-$REPO/.runtime}")
FABRIC_RUNTIME=${FABRIC_RUNTIME:-native}
NODE_LOG_SPEC=${MEDBRIDGE_FABRIC_LOGGING:-info}
START_TIMEOUT_S=${MEDBRIDGE_START_TIMEOUT:-40}

# ============================================================ setup

check_tools() {
  command -v node >/dev/null 2>&1 || die "node is not installed (needed for the chaincode servers and config rendering)"
  command -v setsid >/dev/null 2>&1 || die "setsid (util-linux) is missing"
  case $FABRIC_RUNTIME in
    native | docker) ;;
    *) die "FABRIC_RUNTIME=$FABRIC_RUNTIME is not supported (native or docker)" ;;
  esac
}

resolve_fabric() {
  local envlines
  envlines=$(MB_QUIET=1 "$HERE/fabric-bin.sh" --env) || die "could not provide the Fabric binaries (see above)"
  FABRIC_BIN=$(sed -n 's/^FABRIC_BIN=//p' <<<"$envlines")
  FABRIC_SAMPLECONFIG=$(sed -n 's/^FABRIC_SAMPLECONFIG=//p' <<<"$envlines")
  export FABRIC_BIN FABRIC_SAMPLECONFIG
}

# select_network NAME: loads the description of one network into shell variables.
select_network() {
  NET=$1
  NET_FILE="$REPO/network/networks/$NET.json"
  [[ -f $NET_FILE ]] || die "no network description $NET_FILE (known: $(cd "$REPO/network/networks" && ls -- *.json | sed 's/\.json$//' | tr '\n' ' '))"
  RT="$RUNTIME_BASE/$NET"
  LOGS="$RT/logs"
  PIDS="$RT/pids"
  local decl
  decl=$(node "$TOPOLOGY" "$NET_FILE" "$RT" shell) || die "invalid network description $NET_FILE"
  eval "$decl"
}

# ============================================================ processes

pid_file() { echo "$PIDS/$1.pid"; }

# is_running NAME: true when the pid file names a live process that runs in the node's own
# directory, i.e. a process this script started (guards against recycled pids).
is_running() {
  local f pid cwd
  f=$(pid_file "$1")
  [[ -f $f ]] || return 1
  pid=$(<"$f")
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  kill -0 "$pid" 2>/dev/null || return 1
  cwd=$(readlink "/proc/$pid/cwd" 2>/dev/null || true)
  [[ $cwd == "$RT/nodes/$1" ]]
}

port_open() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }

# http_get HOST PORT PATH: body of a plain HTTP GET (operations endpoints), without curl.
http_get() {
  (exec 3<>"/dev/tcp/$1/$2" && printf 'GET %s HTTP/1.0\r\nHost: %s\r\n\r\n' "$3" "$1" >&3 && timeout 5 cat <&3) 2>/dev/null
}

# require_port_free PORT WHAT: a clear error instead of a node that dies on bind.
require_port_free() {
  local port=$1 what=$2 owner
  if port_open "$NET_HOST" "$port"; then
    owner=$(ss -ltnpH "sport = :$port" 2>/dev/null | sed -n 's/.*users:((\(.*\)))/\1/p' | head -1)
    die "port $port ($what) is already taken${owner:+ by $owner}. Stop that process or change the port in $NET_FILE"
  fi
}

# launch NAME ENVFILE CMD...: start CMD in its own session, in $RT/nodes/NAME, with exactly
# the environment listed in ENVFILE (nothing leaks in from the caller's shell).
launch() {
  local name=$1 envfile=$2; shift 2
  local dir="$RT/nodes/$name" log="$LOGS/$name.log" envs=()
  mkdir -p "$dir" "$LOGS" "$PIDS"
  mapfile -t envs <"$envfile"
  printf '\n==== %s start %s\n' "$(date -u +%FT%TZ)" "$name" >>"$log"
  # fds 8 and 9 hold the scripts' locks: a node must not inherit (and so keep) them.
  (cd "$dir" && exec setsid env -i PATH="$PATH" HOME="$HOME" "${envs[@]}" "$@" >>"$log" 2>&1 </dev/null 8>&- 9>&-) &
  echo $! >"$(pid_file "$name")"
}

# wait_listening NAME PORT: until the node accepts connections; its log tail if it dies.
wait_listening() {
  local name=$1 port=$2 deadline=$((SECONDS + START_TIMEOUT_S))
  until port_open "$NET_HOST" "$port"; do
    is_running "$name" || die_with_log "$name exited during start-up" "$LOGS/$name.log"
    ((SECONDS < deadline)) || die_with_log "$name did not listen on $NET_HOST:$port within ${START_TIMEOUT_S}s" "$LOGS/$name.log"
    sleep 0.2
  done
}

# stop_processes NAME...: TERM to all at once, KILL what still runs after 10 s; only processes
# this script started.
stop_processes() {
  local name pid i alive
  local -A pids=()
  for name in "$@"; do
    if is_running "$name"; then
      pids[$name]=$(<"$(pid_file "$name")")
      info "stopping $name (pid ${pids[$name]})"
      kill -TERM "${pids[$name]}" 2>/dev/null || true
    else
      rm -f "$(pid_file "$name")"
    fi
  done
  for ((i = 0; i < 100; i++)); do
    alive=0
    for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
    ((alive)) || break
    sleep 0.1
  done
  for name in "${!pids[@]}"; do
    if kill -0 "${pids[$name]}" 2>/dev/null; then
      warn "$name did not stop within 10 s, killing it"
      kill -KILL "${pids[$name]}" 2>/dev/null || true
    fi
    rm -f "$(pid_file "$name")"
  done
}

stop_process() { stop_processes "$1"; }

# ============================================================ CLI helpers

# peer_cli ORG PEER IDENTITY ARGS...: Fabric's peer CLI as an org identity (admin|user) against PEER.
peer_cli() {
  local org=$1 peer=$2 who=$3; shift 3
  local msp=${ORG_ADMIN_MSP[$org]}
  [[ $who == user ]] && msp=${ORG_USER_MSP[$org]}
  env -i PATH="$PATH" HOME="$HOME" FABRIC_CFG_PATH="$RT/cli" FABRIC_LOGGING_SPEC="${CLI_LOG:-warning}" \
    CORE_PEER_LOCALMSPID="${ORG_MSPID[$org]}" CORE_PEER_MSPCONFIGPATH="$msp" \
    CORE_PEER_ADDRESS="$NET_HOST:${P_PORT[$peer]}" CORE_PEER_TLS_ENABLED=true \
    CORE_PEER_TLS_ROOTCERT_FILE="${P_TLS[$peer]}/ca.crt" \
    "$FABRIC_BIN/peer" "$@"
}

# orderer_flags CHANNEL: where the CLI sends transactions (first orderer of the channel).
orderer_flags() {
  local o
  read -r o _ <<<"${CH_ORDERERS[$1]}"
  echo "-o $NET_HOST:${O_PORT[$o]} --tls --cafile $ORDERER_TLSCA"
}

osnadmin_cli() {
  local o=$1; shift
  env -i PATH="$PATH" HOME="$HOME" "$FABRIC_BIN/osnadmin" "$@" -o "$NET_HOST:${O_ADMIN[$o]}" \
    --ca-file "${O_TLS[$o]}/ca.crt" --client-cert "$ORDERER_ADMIN_TLS/client.crt" --client-key "$ORDERER_ADMIN_TLS/client.key"
}

first_peer() { local p; read -r p _ <<<"${ORG_PEERS[$1]}"; echo "$p"; }

# member_peer_flags CHANNEL: --peerAddresses/--tlsRootCertFiles for the first peer of every member org.
member_peer_flags() {
  local org p flags=()
  for org in ${CH_MEMBERS[$1]}; do
    p=$(first_peer "$org")
    flags+=(--peerAddresses "$NET_HOST:${P_PORT[$p]}" --tlsRootCertFiles "${P_TLS[$p]}/ca.crt")
  done
  echo "${flags[@]}"
}

# ============================================================ up: steps

prepare_runtime() {
  step "[$NET] runtime directory $RT"
  mkdir -p "$RT" "$LOGS" "$PIDS" "$RT/nodes" "$RT/cli" "$RT/channel-artifacts"
  echo "$NET" >"$RT/.medbridge-network"
  cp "$FABRIC_SAMPLECONFIG/core.yaml" "$RT/cli/core.yaml"
}

generate_crypto() {
  if [[ -d $RT/crypto ]]; then
    info "crypto material exists, keeping it"
    return
  fi
  step "[$NET] generating crypto material (cryptogen, NodeOUs on, SANs localhost and $NET_HOST)"
  node "$TOPOLOGY" "$NET_FILE" "$RT" crypto-config >"$RT/crypto-config.yaml"
  "$FABRIC_BIN/cryptogen" generate --config "$RT/crypto-config.yaml" --output "$RT/crypto.tmp" >"$LOGS/cryptogen.log" 2>&1 ||
    die_with_log "cryptogen failed" "$LOGS/cryptogen.log"
  mv "$RT/crypto.tmp" "$RT/crypto"
  # The chaincode TLS identities need no MSP (they never sign transactions).
  local org
  for org in "${ORGS[@]}"; do
    rm -rf "${ORG_CC_SERVER_TLS[$org]%/tls}/msp" "${ORG_CC_CLIENT_TLS[$org]%/tls}/msp"
  done
}

write_profiles() {
  step "[$NET] writing connection profiles to $RT/profiles and $RT/network.json"
  MB_FABRIC_BIN="$FABRIC_BIN" MB_PEER_CLI_CONFIG="$RT/cli" node "$TOPOLOGY" "$NET_FILE" "$RT" profiles | sed 's/^/    /' >&2
}

# Per-node config directories: Fabric's defaults with only the external builder changed; all
# node-specific settings are passed as environment (see *_env below).
node_config() {
  local name=$1 kind=$2 dir="$RT/nodes/$1"
  mkdir -p "$dir/data"
  if [[ $kind == orderer ]]; then
    cp "$FABRIC_SAMPLECONFIG/orderer.yaml" "$dir/orderer.yaml"
  else
    sed -e "s#name: ccaas_builder#name: medbridge-ccaas#" \
        -e "s#path: /opt/hyperledger/ccaas_builder#path: $BUILDER_DIR#" \
        "$FABRIC_SAMPLECONFIG/core.yaml" >"$dir/core.yaml"
    grep -q "path: $BUILDER_DIR" "$dir/core.yaml" || die "could not set the external builder in $dir/core.yaml (unexpected core.yaml layout)"
  fi
}

orderer_env() {
  local o=$1 dir="$RT/nodes/$1" tls=${O_TLS[$1]}
  cat <<EOF
FABRIC_CFG_PATH=$dir
FABRIC_LOGGING_SPEC=$NODE_LOG_SPEC
ORDERER_GENERAL_LISTENADDRESS=$NET_HOST
ORDERER_GENERAL_LISTENPORT=${O_PORT[$o]}
ORDERER_GENERAL_LOCALMSPID=$ORDERER_MSPID
ORDERER_GENERAL_LOCALMSPDIR=${O_MSP[$o]}
ORDERER_GENERAL_BOOTSTRAPMETHOD=none
ORDERER_GENERAL_TLS_ENABLED=true
ORDERER_GENERAL_TLS_CERTIFICATE=$tls/server.crt
ORDERER_GENERAL_TLS_PRIVATEKEY=$tls/server.key
ORDERER_GENERAL_TLS_ROOTCAS=[$tls/ca.crt]
ORDERER_GENERAL_CLUSTER_CLIENTCERTIFICATE=$tls/server.crt
ORDERER_GENERAL_CLUSTER_CLIENTPRIVATEKEY=$tls/server.key
ORDERER_GENERAL_CLUSTER_ROOTCAS=[$tls/ca.crt]
ORDERER_CHANNELPARTICIPATION_ENABLED=true
ORDERER_ADMIN_LISTENADDRESS=$NET_HOST:${O_ADMIN[$o]}
ORDERER_ADMIN_TLS_ENABLED=true
ORDERER_ADMIN_TLS_CERTIFICATE=$tls/server.crt
ORDERER_ADMIN_TLS_PRIVATEKEY=$tls/server.key
ORDERER_ADMIN_TLS_ROOTCAS=[$tls/ca.crt]
ORDERER_ADMIN_TLS_CLIENTAUTHREQUIRED=true
ORDERER_ADMIN_TLS_CLIENTROOTCAS=[$ORDERER_TLSCA]
ORDERER_OPERATIONS_LISTENADDRESS=$NET_HOST:${O_OPS[$o]}
ORDERER_METRICS_PROVIDER=prometheus
ORDERER_FILELEDGER_LOCATION=$dir/data/ledger
ORDERER_CONSENSUS_WALDIR=$dir/data/etcdraft/wal
ORDERER_CONSENSUS_SNAPDIR=$dir/data/etcdraft/snapshot
EOF
}

# CHAINCODE_AS_A_SERVICE_BUILDER_CONFIG: what the ccaas builder fills connection.json templates
# with ({{.peername}}, {{.host}}), as Fabric's ccaas builder does; core.yaml propagates it.
peer_env() {
  local p=$1 dir="$RT/nodes/$1" tls=${P_TLS[$1]} org=${P_ORG[$1]}
  cat <<EOF
FABRIC_CFG_PATH=$dir
FABRIC_LOGGING_SPEC=$NODE_LOG_SPEC
CORE_PEER_ID=$p
CORE_PEER_LISTENADDRESS=$NET_HOST:${P_PORT[$p]}
CORE_PEER_ADDRESS=$NET_HOST:${P_PORT[$p]}
CORE_PEER_CHAINCODELISTENADDRESS=$NET_HOST:${P_CC[$p]}
CORE_PEER_CHAINCODEADDRESS=$NET_HOST:${P_CC[$p]}
CORE_PEER_GOSSIP_BOOTSTRAP=${P_BOOTSTRAP[$p]}
CORE_PEER_GOSSIP_EXTERNALENDPOINT=$NET_HOST:${P_PORT[$p]}
CORE_PEER_GOSSIP_PUBLISHSTATEINFOINTERVAL=1s
CORE_PEER_GOSSIP_REQUESTSTATEINFOINTERVAL=1s
CORE_PEER_GOSSIP_ALIVETIMEINTERVAL=1s
CORE_PEER_GOSSIP_ALIVEEXPIRATIONTIMEOUT=5s
CORE_PEER_GOSSIP_RECONNECTINTERVAL=2s
CORE_PEER_LOCALMSPID=${ORG_MSPID[$org]}
CORE_PEER_MSPCONFIGPATH=${P_MSP[$p]}
CORE_PEER_TLS_ENABLED=true
CORE_PEER_TLS_CERT_FILE=$tls/server.crt
CORE_PEER_TLS_KEY_FILE=$tls/server.key
CORE_PEER_TLS_ROOTCERT_FILE=$tls/ca.crt
CORE_PEER_FILESYSTEMPATH=$dir/data
CORE_LEDGER_SNAPSHOTS_ROOTDIR=$dir/data/snapshots
CORE_OPERATIONS_LISTENADDRESS=$NET_HOST:${P_OPS[$p]}
CORE_METRICS_PROVIDER=prometheus
CORE_PEER_GATEWAY_ENABLED=true
CORE_VM_ENDPOINT=
CORE_CHAINCODE_EXECUTETIMEOUT=60s
CHAINCODE_AS_A_SERVICE_BUILDER_CONFIG={"peername":"$p","host":"$NET_HOST"}
EOF
}

start_orderers() {
  local o
  step "[$NET] starting ${#ORDERERS[@]} orderers (Raft, channel participation, no system channel)"
  for o in "${ORDERERS[@]}"; do
    if is_running "$o"; then info "$o already running (pid $(<"$(pid_file "$o")"))"; continue; fi
    require_port_free "${O_PORT[$o]}" "$o listen"
    require_port_free "${O_ADMIN[$o]}" "$o admin"
    require_port_free "${O_OPS[$o]}" "$o operations"
    node_config "$o" orderer
    orderer_env "$o" >"$RT/nodes/$o/env"
    launch "$o" "$RT/nodes/$o/env" "$FABRIC_BIN/orderer"
    info "$o on $NET_HOST:${O_PORT[$o]} (admin ${O_ADMIN[$o]}), log $LOGS/$o.log"
  done
  for o in "${ORDERERS[@]}"; do wait_listening "$o" "${O_ADMIN[$o]}"; done
}

start_peers() {
  local p
  step "[$NET] starting ${#PEERS[@]} peers (TLS, Gateway service, external ccaas builder)"
  for p in "${PEERS[@]}"; do
    if is_running "$p"; then info "$p already running (pid $(<"$(pid_file "$p")"))"; continue; fi
    require_port_free "${P_PORT[$p]}" "$p listen"
    require_port_free "${P_CC[$p]}" "$p chaincode listener"
    require_port_free "${P_OPS[$p]}" "$p operations"
    node_config "$p" peer
    peer_env "$p" >"$RT/nodes/$p/env"
    launch "$p" "$RT/nodes/$p/env" "$FABRIC_BIN/peer" node start
    info "$p on $NET_HOST:${P_PORT[$p]}, log $LOGS/$p.log"
  done
  for p in "${PEERS[@]}"; do wait_listening "$p" "${P_PORT[$p]}"; done
}

create_channel_blocks() {
  local ch block
  node "$TOPOLOGY" "$NET_FILE" "$RT" configtx >"$RT/configtx.yaml"
  for ch in "${CHANNELS[@]}"; do
    block="$RT/channel-artifacts/$ch.block"
    [[ -f $block ]] && continue
    step "[$NET] genesis block of $ch (members: ${CH_MSPIDS[$ch]})"
    env -i PATH="$PATH" HOME="$HOME" FABRIC_CFG_PATH="$RT" "$FABRIC_BIN/configtxgen" \
      -profile "$ch" -channelID "$ch" -outputBlock "$block" >"$LOGS/configtxgen-$ch.log" 2>&1 ||
      die_with_log "configtxgen failed for $ch" "$LOGS/configtxgen-$ch.log"
  done
}

orderer_has_channel() {
  local out
  out=$(osnadmin_cli "$1" channel list --channelID "$2" 2>/dev/null || true)
  grep -q '"name": *"'"$2"'"' <<<"$out"
}

join_orderers() {
  local ch o out
  for ch in "${CHANNELS[@]}"; do
    for o in ${CH_ORDERERS[$ch]}; do
      if orderer_has_channel "$o" "$ch"; then continue; fi
      step "[$NET] $o joins $ch (osnadmin channel join)"
      out=$(osnadmin_cli "$o" channel join --channelID "$ch" --config-block "$RT/channel-artifacts/$ch.block" 2>&1) ||
        die "osnadmin channel join $ch on $o failed: $out"
      grep -q 'Status: 201' <<<"$out" || die "osnadmin channel join $ch on $o answered: $out"
    done
  done
}

# raft_leader CHANNEL: the orderer that reports itself Raft leader of CHANNEL (operations metrics).
raft_leader() {
  local o metrics
  for o in ${CH_ORDERERS[$1]}; do
    metrics=$(http_get "$NET_HOST" "${O_OPS[$o]}" /metrics || true)
    if grep -q "^consensus_etcdraft_is_leader{channel=\"$1\"} 1" <<<"$metrics"; then
      echo "$o"
      return 0
    fi
  done
  return 1
}

# wait_raft_leader CHANNEL: block until the channel's Raft cluster has elected a leader.
wait_raft_leader() {
  local ch=$1 o deadline=$((SECONDS + START_TIMEOUT_S))
  until o=$(raft_leader "$ch"); do
    ((SECONDS < deadline)) || die_with_log "channel $ch has no Raft leader after ${START_TIMEOUT_S}s" "$LOGS/${CH_ORDERERS[$ch]%% *}.log"
    sleep 0.2
  done
  info "$ch: Raft leader $o"
}

peer_has_channel() {
  local org=${P_ORG[$1]}
  local out
  out=$(peer_cli "$org" "$1" admin channel list 2>/dev/null || true)
  grep -qx "$2" <<<"$out"
}

join_peers() {
  local ch org p out
  for ch in "${CHANNELS[@]}"; do
    wait_raft_leader "$ch"
    for org in ${CH_MEMBERS[$ch]}; do
      for p in ${ORG_PEERS[$org]}; do
        if peer_has_channel "$p" "$ch"; then continue; fi
        step "[$NET] $p joins $ch"
        out=$(peer_cli "$org" "$p" admin channel join -b "$RT/channel-artifacts/$ch.block" 2>&1) ||
          { printf '%s\n' "$out" >&2; die_with_log "$p could not join $ch" "$LOGS/$p.log" 20; }
      done
    done
  done
}

# ============================================================ chaincode

cc_dir() { echo "$REPO/$CC_SOURCE"; }

# The label names the chaincode build: a hash of the compiled code and its package.json, so an
# unchanged build gives the same packages (same ids) and a changed one a new definition.
cc_label() {
  local src hash
  src=$(cc_dir)
  [[ -f $src/dist/index.js ]] || die "$src/dist/index.js is missing: compile the chaincode first (npx tsc -b $CC_SOURCE)"
  hash=$(cd "$src" && { find dist -type f ! -name '*.tsbuildinfo' -print0 | LC_ALL=C sort -z | xargs -0 sha256sum; sha256sum package.json; } | sha256sum | cut -c1-12)
  echo "${CC_NAME}_$hash"
}

# deterministic_tgz OUT DIR FILES...: same bytes for the same inputs (no times, owners, order).
deterministic_tgz() {
  local out=$1 dir=$2; shift 2
  tar --sort=name --mtime='@0' --owner=0 --group=0 --numeric-owner --format=gnu -C "$dir" -cf - "$@" | gzip -n -9 >"$out"
}

# Each org's chaincode server has two port slots (chaincodePort and chaincodePort+1): a new
# build starts on the free slot while the old one keeps serving the committed definition, and
# the old server stops only once every channel has committed the new one (no downtime).
server_name() { echo "ccaas.${ORG_KEY[$1]}.$NET-$2"; }
slot_ports() { echo "${ORG_CC_PORT[$1]} $(( ${ORG_CC_PORT[$1]} + 1 ))"; }

# running_servers ORG: "name port package-id" per running chaincode server of ORG.
running_servers() {
  local port name
  for port in $(slot_ports "$1"); do
    name=$(server_name "$1" "$port")
    if is_running "$name"; then echo "$name $port $(<"$RT/nodes/$name/package-id")"; fi
  done
}

# pick_port ORG: the slot for a new package: one not used by a running server (if both are
# busy, an interrupted deploy left a spare: the older server is stopped).
pick_port() {
  local org=$1 port oldest='' name
  for port in $(slot_ports "$org"); do
    is_running "$(server_name "$org" "$port")" || { echo "$port"; return; }
  done
  for port in $(slot_ports "$org"); do
    name=$(server_name "$org" "$port")
    if [[ -z $oldest || $(pid_file "$name") -ot $(pid_file "$oldest") ]]; then oldest=$name; fi
  done
  warn "both chaincode ports of $org are busy (an interrupted deploy); stopping $oldest"
  stop_process "$oldest"
  echo "${oldest##*-}"
}

# package_chaincode: one ccaas package per org, each pointing at that org's chaincode server.
package_chaincode() {
  local org dir line
  CC_LABEL=$(cc_label)
  CC_VERSION=${CC_LABEL#"${CC_NAME}_"}
  declare -gA CC_PKG_ID=() CC_PORT=()
  for org in "${ORGS[@]}"; do
    dir="$RT/chaincode/$CC_LABEL/${ORG_KEY[$org]}"
    if [[ ! -f $dir/package.tar.gz ]]; then
      mkdir -p "$dir/src"
      pick_port "$org" >"$dir/port"
      node "$TOPOLOGY" "$NET_FILE" "$RT" connection "$org" "$(<"$dir/port")" >"$dir/src/connection.json"
      printf '{"label":"%s","type":"ccaas"}\n' "$CC_LABEL" >"$dir/metadata.json"
      deterministic_tgz "$dir/code.tar.gz" "$dir/src" connection.json
      deterministic_tgz "$dir/package.tar.gz" "$dir" code.tar.gz metadata.json
    fi
    CC_PORT[$org]=$(<"$dir/port")
    CC_PKG_ID[$org]=$(env -i PATH="$PATH" HOME="$HOME" FABRIC_CFG_PATH="$RT/cli" "$FABRIC_BIN/peer" lifecycle chaincode calculatepackageid "$dir/package.tar.gz")
  done
  info "chaincode $CC_NAME build $CC_VERSION (label $CC_LABEL)"
}

install_chaincode() {
  local org p installed
  for org in "${ORGS[@]}"; do
    for p in ${ORG_PEERS[$org]}; do
      installed=$(peer_cli "$org" "$p" admin lifecycle chaincode queryinstalled 2>/dev/null || true)
      if grep -qF "${CC_PKG_ID[$org]}" <<<"$installed"; then continue; fi
      step "[$NET] installing ${CC_PKG_ID[$org]} on $p"
      peer_cli "$org" "$p" admin lifecycle chaincode install "$RT/chaincode/$CC_LABEL/${ORG_KEY[$org]}/package.tar.gz" >/dev/null 2>"$LOGS/install-$p.log" ||
        die_with_log "install on $p failed" "$LOGS/install-$p.log"
    done
  done
}

# start_chaincode_servers: one fabric-shim server per org for the current package, serving the
# org's peers on every channel; servers of older packages keep running until retire_old_servers.
start_chaincode_servers() {
  local org name dir cli tls port
  cli=$(cd "$(cc_dir)" && node -p "require.resolve('fabric-shim/cli.js')" 2>/dev/null) ||
    die "fabric-shim is not installed: run npm ci (make deps)"
  for org in "${ORGS[@]}"; do
    port=${CC_PORT[$org]}
    name=$(server_name "$org" "$port")
    dir="$RT/nodes/$name"
    if is_running "$name"; then
      [[ $(<"$dir/package-id") == "${CC_PKG_ID[$org]}" ]] && continue
      # Our own server of an unfinished earlier deploy sits on this slot.
      stop_process "$name"
    fi
    step "[$NET] starting the $org chaincode server on $NET_HOST:$port"
    require_port_free "$port" "$org chaincode server"
    mkdir -p "$dir"
    tls=${ORG_CC_SERVER_TLS[$org]}
    echo "${CC_PKG_ID[$org]}" >"$dir/package-id"
    printf '%s\n' "CORE_CHAINCODE_LOGGING_LEVEL=${MEDBRIDGE_CHAINCODE_LOGGING:-info}" "NODE_ENV=production" >"$dir/env"
    launch "$name" "$dir/env" node "$cli" server \
      --chaincode-address "$NET_HOST:$port" --chaincode-id "${CC_PKG_ID[$org]}" \
      --module-path "$(cc_dir)" \
      --chaincode-tls-cert-file "$tls/server.crt" --chaincode-tls-key-file "$tls/server.key" \
      --chaincode-tls-client-cacert-file "$tls/ca.crt"
    wait_listening "$name" "$port"
    info "$name runs ${CC_PKG_ID[$org]}, log $LOGS/$name.log"
  done
}

# retire_old_servers: once every channel runs the current definition, stop the servers of
# older packages.
retire_old_servers() {
  local org name port pkg
  for org in "${ORGS[@]}"; do
    while read -r name port pkg; do
      [[ -n $name && $pkg != "${CC_PKG_ID[$org]}" ]] || continue
      info "retiring the $org chaincode server of ${pkg%%:*} on port $port"
      stop_process "$name"
    done < <(running_servers "$org")
  done
}

# committed_field CHANNEL FIELD: sequence or version of the committed definition, empty if none.
committed_field() {
  local ch=$1 field=$2 org p
  read -r org _ <<<"${CH_MEMBERS[$ch]}"
  p=$(first_peer "$org")
  { peer_cli "$org" "$p" admin lifecycle chaincode querycommitted -C "$ch" -n "$CC_NAME" -O json 2>/dev/null || true; } |
    node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{try{const j=JSON.parse(s);process.stdout.write(String(j[process.argv[1]]??""))}catch{}})' "$field"
}

# definition_flags CHANNEL: what every org approves and the committer commits (must match).
definition_flags() {
  local ch=$1 flags=(-C "$ch" -n "$CC_NAME" -v "$CC_VERSION" --sequence "$CC_SEQUENCE")
  [[ -n ${CH_CC_POLICY[$ch]} ]] && flags+=(--signature-policy "${CH_CC_POLICY[$ch]}")
  printf '%s\n' "${flags[@]}"
}

approve_and_commit() {
  local ch=$1 org p committed_version committed_seq readiness defs=() out
  committed_version=$(committed_field "$ch" version)
  committed_seq=$(committed_field "$ch" sequence)
  if [[ $committed_version == "$CC_VERSION" ]]; then
    info "$ch: $CC_NAME $CC_VERSION already committed (sequence $committed_seq)"
    return
  fi
  CC_SEQUENCE=$(( ${committed_seq:-0} + 1 ))
  mapfile -t defs < <(definition_flags "$ch")
  step "[$NET] $ch: approving $CC_NAME version $CC_VERSION sequence $CC_SEQUENCE (policy: ${CH_CC_POLICY[$ch]:-channel default})"
  for org in ${CH_MEMBERS[$ch]}; do
    p=$(first_peer "$org")
    readiness=$(peer_cli "$org" "$p" admin lifecycle chaincode checkcommitreadiness "${defs[@]}" -O json 2>/dev/null || true)
    if grep -q "\"${ORG_MSPID[$org]}\": *true" <<<"$readiness"; then continue; fi
    info "approve for ${ORG_MSPID[$org]} (package ${CC_PKG_ID[$org]})"
    # shellcheck disable=SC2046
    out=$(peer_cli "$org" "$p" admin lifecycle chaincode approveformyorg $(orderer_flags "$ch") "${defs[@]}" \
      --package-id "${CC_PKG_ID[$org]}" --waitForEvent 2>&1) || die "approve by ${ORG_MSPID[$org]} on $ch failed: $out"
  done
  read -r org _ <<<"${CH_MEMBERS[$ch]}"
  step "[$NET] $ch: committing $CC_NAME sequence $CC_SEQUENCE"
  # shellcheck disable=SC2046
  out=$(peer_cli "$org" "$(first_peer "$org")" admin lifecycle chaincode commit $(orderer_flags "$ch") "${defs[@]}" \
    $(member_peer_flags "$ch") --waitForEvent 2>&1) || die "commit on $ch failed: $out"
}

# The compiled chaincode decides whether a Governance contract with Bootstrap exists.
has_governance_bootstrap() {
  (cd "$(cc_dir)" && CORE_CHAINCODE_LOGGING_LEVEL=error node -e '
    const m = require("./dist/index.js");
    const ok = (m.contracts || []).some((C) => {
      try { return new C().getName() === "Governance" && typeof C.prototype.Bootstrap === "function"; }
      catch { return false; }
    });
    process.exit(ok ? 0 : 1);' >/dev/null 2>&1)
}

# bootstrap_governance CHANNEL: Governance:Bootstrap(chainId, members) once per channel, by an
# admin of the first member org, endorsed by every member org.
bootstrap_governance() {
  local ch=$1 marker="$RT/chaincode/bootstrapped-$1" org args out
  [[ -f $marker ]] && return
  if ! has_governance_bootstrap; then
    info "$ch: the compiled chaincode has no Governance:Bootstrap yet, skipping the bootstrap call"
    return
  fi
  read -r org _ <<<"${CH_MEMBERS[$ch]}"
  args=$(node -e 'const [ch, ...m] = process.argv.slice(1); console.log(JSON.stringify({function: "Governance:Bootstrap", Args: [ch, JSON.stringify(m.sort())]}))' "$ch" ${CH_MSPIDS[$ch]})
  step "[$NET] $ch: Governance:Bootstrap as ${ORG_MSPID[$org]} admin: $args"
  # shellcheck disable=SC2046
  if out=$(CLI_LOG=info peer_cli "$org" "$(first_peer "$org")" admin chaincode invoke $(orderer_flags "$ch") -C "$ch" -n "$CC_NAME" \
      $(member_peer_flags "$ch") -c "$args" --waitForEvent 2>&1); then
    info "bootstrapped: $(grep -o 'payload:.*' <<<"$out" | tail -1)"
  elif grep -qi 'already' <<<"$out"; then
    info "already bootstrapped: $(grep -i already <<<"$out" | tail -1)"
  else
    die "Governance:Bootstrap on $ch failed: $out"
  fi
  date -u +%FT%TZ >"$marker"
}

deploy_chaincode() {
  local ch
  package_chaincode
  install_chaincode
  start_chaincode_servers
  for ch in "${CHANNELS[@]}"; do
    approve_and_commit "$ch"
    wait_endorsable "$ch"
    bootstrap_governance "$ch"
  done
  retire_old_servers
}

# wait_endorsable CHANNEL: every member org's gateway can plan endorsements for the committed
# definition (discovery learns it through gossip a moment after the commit).
wait_endorsable() {
  local ch=$1 org start times=()
  start=$(now_ms)
  for org in ${CH_MEMBERS[$ch]}; do
    node "$HERE/lib/wait-endorsable.js" "$REPO" "$RT/profiles/${ORG_KEY[$org]}.json" "$ch" "$START_TIMEOUT_S" ||
      die "$ch: the Gateway service of ${ORG_MSPID[$org]} found no peers to endorse $CC_NAME (discovery/gossip); see $LOGS/$(first_peer "$org").log"
    times+=("${ORG_MSPID[$org]} $(( $(now_ms) - start )) ms")
  done
  info "$ch: every member org's gateway plans endorsements (waited ${times[*]})"
}

# ============================================================ status

rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }

show_processes() {
  local name pid rss total=0 n=0 names=("${ORDERERS[@]}" "${PEERS[@]}") org running
  for org in "${ORGS[@]}"; do
    running=$(running_servers "$org" | cut -d' ' -f1)
    if [[ -n $running ]]; then names+=($running); else names+=("$(server_name "$org" "${ORG_CC_PORT[$org]}")"); fi
  done
  printf '  %-40s %-8s %-9s %s\n' NODE PID RSS_MB STATE
  for name in "${names[@]}"; do
    if is_running "$name"; then
      pid=$(<"$(pid_file "$name")")
      rss=$(rss_kb "$pid")
      total=$((total + rss)); n=$((n + 1))
      printf '  %-40s %-8s %-9s %s\n' "$name" "$pid" "$((rss / 1024))" running
    else
      printf '  %-40s %-8s %-9s %s\n' "$name" - - stopped
    fi
  done
  printf '  %d of %d processes running, resident memory %d MB\n' "$n" "${#names[@]}" "$((total / 1024))"
  RUNNING_COUNT=$n
}

show_channels() {
  local ch org p height seq ver
  for ch in "${CHANNELS[@]}"; do
    read -r org _ <<<"${CH_MEMBERS[$ch]}"
    p=$(first_peer "$org")
    height=$(peer_cli "$org" "$p" admin channel getinfo -c "$ch" 2>/dev/null | sed -n 's/.*"height":\([0-9]*\).*/\1/p')
    seq=$(committed_field "$ch" sequence)
    ver=$(committed_field "$ch" version)
    if [[ -n $seq ]]; then ver="$CC_NAME version $ver sequence $seq"; else ver="no chaincode committed"; fi
    printf '  %-10s members %-28s height %-5s %s\n' "$ch" "${CH_MSPIDS[$ch]}" "${height:-?}" "$ver"
    printf '  %-10s endorsement %s\n' "" "${CH_CC_POLICY[$ch]:-channel default /Channel/Application/Endorsement}"
  done
}

# ============================================================ commands

cmd_up() {
  local start
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
  [[ -d $RT/crypto ]] || die "network $NET is not up (run make network-up)"
  local n
  for n in "${ORDERERS[@]}" "${PEERS[@]}"; do is_running "$n" || die "$n is not running: run make network-up first"; done
  step "[$NET] deploying $(cc_dir)/dist"
  deploy_chaincode
  step "[$NET] deployed $CC_LABEL"
}

cmd_down() {
  local tier f names
  step "[$NET] stopping the processes started for $NET"
  if [[ -d $PIDS ]]; then
    # Chaincode servers first, then peers, then orderers (and anything else with a pid file).
    for tier in 'ccaas.*' 'peer*' '*'; do
      names=()
      for f in "$PIDS"/$tier.pid; do [[ -f $f ]] && names+=("$(basename "$f" .pid)"); done
      ((${#names[@]} == 0)) || stop_processes "${names[@]}"
    done
  fi
  if [[ -d $RT ]]; then
    [[ -f $RT/.medbridge-network ]] || die "$RT does not look like a medbridge runtime directory; not removing it"
    info "removing $RT"
    rm -rf "$RT"
  fi
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
# profiles exist (what a test harness needs before it reuses a network).
cmd_check() {
  local name org
  [[ -f $RT/network.json ]] || return 1
  for name in "${ORDERERS[@]}" "${PEERS[@]}"; do is_running "$name" || return 1; done
  for org in "${ORGS[@]}"; do [[ -n $(running_servers "$org") ]] || return 1; done
}

# ============================================================ test harness leases
# Several test runs may share one network. Each run holds a lease (its pid) while it runs; the
# network that a harness started is stopped by the last run to leave, never under another run,
# and a network started by hand (make network-up) is never stopped by a test run.

lease_dir() { echo "$RUNTIME_BASE/.leases/$NET"; }

live_leases() {
  local f pid
  for f in "$(lease_dir)"/*; do
    [[ -f $f ]] || continue
    pid=$(basename "$f")
    if kill -0 "$pid" 2>/dev/null; then echo "$pid"; else rm -f "$f"; fi
  done
}

cmd_acquire() {
  local owner=$1
  mkdir -p "$(lease_dir)"
  echo "$owner" >"$(lease_dir)/$owner"
  if cmd_check; then
    step "[$NET] reusing the running network for test run $owner"
    cmd_deploy
  else
    # Marked before it is up: a failed start is cleaned up by the release of this run.
    mkdir -p "$RT"
    date -u +%FT%TZ >"$RT/.harness-started"
    cmd_up
  fi
}

cmd_release() {
  local owner=$1 others
  rm -f "$(lease_dir)/$owner"
  others=$(live_leases | tr '\n' ' ')
  if [[ ! -d $RT ]]; then
    return
  elif [[ -n $others ]]; then
    step "[$NET] leaving the network up: other test runs use it (pids $others)"
  elif [[ ! -f $RT/.harness-started ]]; then
    step "[$NET] leaving the network up: it was not started by a test run (make network-down stops it)"
  elif [[ ${MEDBRIDGE_KEEP_NETWORK:-} == 1 ]]; then
    step "[$NET] MEDBRIDGE_KEEP_NETWORK=1: leaving the network up (make network-down stops it)"
  else
    cmd_down
  fi
}

networks() {
  local list=${NETWORKS:-${NETWORK:-net1}}
  tr ',' ' ' <<<"$list"
}

# recorded_runtime: the runtime that made $RT (the docker runtime writes .medbridge-runtime; a
# native runtime dir has nodes/ and no such file); empty when the network is not up.
recorded_runtime() {
  if [[ -f $RT/.medbridge-runtime ]]; then cat "$RT/.medbridge-runtime"
  elif [[ -d $RT/nodes ]]; then echo native
  fi
}

main() {
  local cmd=${1:-} net rc=0 kind
  case $cmd in
    up | down | status | deploy | check) ;;
    acquire | release) [[ ${2:-} =~ ^[0-9]+$ ]] || die "usage: $0 $cmd <pid of the test run>" ;;
    *) die "usage: $0 up|down|status|deploy|check  (NETWORKS=net1,net2 or NETWORK=net1)" ;;
  esac
  check_tools
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

if [[ $FABRIC_RUNTIME == docker ]]; then
  # shellcheck source=lib/runtime-docker.sh
  source "$HERE/lib/runtime-docker.sh"
fi

main "$@"
