# Orderers and peers: their settings, their start-up and their status (sourced by network.sh).
# How a node is started, checked and stopped is the runtime module's business (rt_* functions of
# lib/runtime-native.sh or lib/runtime-docker.sh); what a node is configured with is decided here,
# once, for both runtimes.
#
#   orderer_env NAME / peer_env NAME    a node's whole environment, one VAR=value a line
#   start_orderers / start_peers        steps of `up`: start what does not run, wait until it listens
#   wait_listening NAME HOST PORT       until the node accepts connections; its log tail if it dies
#   show_processes                      status table of every node and chaincode server
#   pid_file NAME, port_open HOST PORT, http_get HOST PORT PATH, require_port_free HOST PORT WHAT, rss_kb PID
# A node listens on its host's address (O_HOST, P_HOST, ORG_HOST: 127.0.0.1 unless the description
# places its org elsewhere) and is dialled by O_ADDR / P_ADDR (the same address, or its DNS name).

pid_file() { echo "$PIDS/$1.pid"; }

port_open() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }

# http_get HOST PORT PATH: body of a plain HTTP GET (operations endpoints), without curl.
http_get() {
  (exec 3<>"/dev/tcp/$1/$2" && printf 'GET %s HTTP/1.0\r\nHost: %s\r\n\r\n' "$3" "$1" >&3 && timeout 5 cat <&3) 2>/dev/null
}

# require_port_free HOST PORT WHAT: a clear error instead of a node that dies on bind.
require_port_free() {
  local host=$1 port=$2 what=$3 owner
  if port_open "$host" "$port"; then
    owner=$(ss -ltnpH "sport = :$port" 2>/dev/null | sed -n 's/.*users:((\(.*\)))/\1/p' | head -1)
    die "port $port ($what) is already taken${owner:+ by $owner}. Stop that process or change the port in $NET_FILE"
  fi
}

# wait_listening NAME HOST PORT: until the node accepts connections; its log tail if it dies.
wait_listening() {
  local name=$1 host=$2 port=$3 deadline=$((SECONDS + START_TIMEOUT_S))
  until port_open "$host" "$port"; do
    rt_is_running "$name" || die_with_log "$name exited during start-up" "$LOGS/$name.log"
    ((SECONDS < deadline)) || die_with_log "$name did not listen on $host:$port within ${START_TIMEOUT_S}s" "$LOGS/$name.log"
    sleep 0.2
  done
}

orderer_env() {
  local o=$1 dir="$RT/nodes/$1" tls=${O_TLS[$1]} host=${O_HOST[$1]}
  cat <<EOF
FABRIC_CFG_PATH=$dir
FABRIC_LOGGING_SPEC=$NODE_LOG_SPEC
ORDERER_GENERAL_LISTENADDRESS=$host
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
ORDERER_ADMIN_LISTENADDRESS=$host:${O_ADMIN[$o]}
ORDERER_ADMIN_TLS_ENABLED=true
ORDERER_ADMIN_TLS_CERTIFICATE=$tls/server.crt
ORDERER_ADMIN_TLS_PRIVATEKEY=$tls/server.key
ORDERER_ADMIN_TLS_ROOTCAS=[$tls/ca.crt]
ORDERER_ADMIN_TLS_CLIENTAUTHREQUIRED=true
ORDERER_ADMIN_TLS_CLIENTROOTCAS=[$ORDERER_TLSCA]
ORDERER_OPERATIONS_LISTENADDRESS=$host:${O_OPS[$o]}
ORDERER_METRICS_PROVIDER=prometheus
ORDERER_FILELEDGER_LOCATION=$dir/data/ledger
ORDERER_CONSENSUS_WALDIR=$dir/data/etcdraft/wal
ORDERER_CONSENSUS_SNAPDIR=$dir/data/etcdraft/snapshot
EOF
}

# CHAINCODE_AS_A_SERVICE_BUILDER_CONFIG: what the ccaas builder fills connection.json templates
# with ({{.peername}}, {{.host}}), as Fabric's ccaas builder does; core.yaml propagates it.
peer_env() {
  local p=$1 dir="$RT/nodes/$1" tls=${P_TLS[$1]} org=${P_ORG[$1]} host=${P_HOST[$1]} addr=${P_ADDR[$1]}
  cat <<EOF
FABRIC_CFG_PATH=$dir
FABRIC_LOGGING_SPEC=$NODE_LOG_SPEC
CORE_PEER_ID=$p
CORE_PEER_LISTENADDRESS=$host:${P_PORT[$p]}
CORE_PEER_ADDRESS=$addr:${P_PORT[$p]}
CORE_PEER_CHAINCODELISTENADDRESS=$host:${P_CC[$p]}
CORE_PEER_CHAINCODEADDRESS=$addr:${P_CC[$p]}
CORE_PEER_GOSSIP_BOOTSTRAP=${P_BOOTSTRAP[$p]}
CORE_PEER_GOSSIP_EXTERNALENDPOINT=$addr:${P_PORT[$p]}
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
CORE_OPERATIONS_LISTENADDRESS=$host:${P_OPS[$p]}
CORE_METRICS_PROVIDER=prometheus
CORE_PEER_GATEWAY_ENABLED=true
CORE_VM_ENDPOINT=
CORE_CHAINCODE_EXECUTETIMEOUT=60s
CHAINCODE_AS_A_SERVICE_BUILDER_CONFIG={"peername":"$p","host":"$host"}
EOF
}

start_orderers() {
  local o
  step "[$NET] starting ${#ORDERERS[@]} orderers (Raft, channel participation, no system channel)"
  for o in "${ORDERERS[@]}"; do
    if rt_is_running "$o"; then info "$o already running (pid $(<"$(pid_file "$o")"))"; continue; fi
    require_port_free "${O_HOST[$o]}" "${O_PORT[$o]}" "$o listen"
    require_port_free "${O_HOST[$o]}" "${O_ADMIN[$o]}" "$o admin"
    require_port_free "${O_HOST[$o]}" "${O_OPS[$o]}" "$o operations"
    rt_node_config "$o" orderer
    orderer_env "$o" >"$RT/nodes/$o/env"
    rt_launch "$o" orderer "$RT/nodes/$o/env" "$FABRIC_BIN/orderer"
    info "$o on ${O_HOST[$o]}:${O_PORT[$o]} (admin ${O_ADMIN[$o]}), log $LOGS/$o.log"
  done
  for o in "${ORDERERS[@]}"; do wait_listening "$o" "${O_HOST[$o]}" "${O_ADMIN[$o]}"; done
}

start_peers() {
  local p
  step "[$NET] starting ${#PEERS[@]} peers (TLS, Gateway service, external ccaas builder)"
  for p in "${PEERS[@]}"; do
    if rt_is_running "$p"; then info "$p already running (pid $(<"$(pid_file "$p")"))"; continue; fi
    require_port_free "${P_HOST[$p]}" "${P_PORT[$p]}" "$p listen"
    require_port_free "${P_HOST[$p]}" "${P_CC[$p]}" "$p chaincode listener"
    require_port_free "${P_HOST[$p]}" "${P_OPS[$p]}" "$p operations"
    rt_node_config "$p" peer
    peer_env "$p" >"$RT/nodes/$p/env"
    rt_launch "$p" peer "$RT/nodes/$p/env" "$FABRIC_BIN/peer" node start
    info "$p on ${P_HOST[$p]}:${P_PORT[$p]}, log $LOGS/$p.log"
  done
  for p in "${PEERS[@]}"; do wait_listening "$p" "${P_HOST[$p]}" "${P_PORT[$p]}"; done
}

rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }

# show_processes: every orderer, peer and chaincode server of the network (the running servers,
# or the first slot's name when none runs), as the runtime's status table; sets RUNNING_COUNT.
show_processes() {
  local names=("${ORDERERS[@]}" "${PEERS[@]}") org running
  for org in "${ORGS[@]}"; do
    running=$(running_servers "$org" | cut -d' ' -f1)
    # shellcheck disable=SC2206 # one name per running server
    if [[ -n $running ]]; then names+=($running); else names+=("$(server_name "$org" "${ORG_CC_PORT[$org]}")"); fi
  done
  rt_show_nodes "${names[@]}"
}
