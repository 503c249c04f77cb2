# Fabric's own CLIs against the selected network (sourced by network.sh).
#
#   peer_cli ORG PEER admin|user ARGS...   `peer` as an identity of ORG against PEER
#   osnadmin_cli ORDERER ARGS...           `osnadmin` against the orderer's admin endpoint
#   orderer_flags CHANNEL                  -o/--tls/--cafile of the channel's first orderer
#   member_peer_flags CHANNEL              --peerAddresses/--tlsRootCertFiles of each member org
#   first_peer ORG
# Every call runs with exactly the environment it needs (env -i): a logging spec or MSP setting
# of the caller's shell never reaches Fabric.

# peer_cli ORG PEER IDENTITY ARGS...: Fabric's peer CLI as an org identity (admin|user) against PEER.
peer_cli() {
  local org=$1 peer=$2 who=$3; shift 3
  local msp=${ORG_ADMIN_MSP[$org]}
  [[ $who == user ]] && msp=${ORG_USER_MSP[$org]}
  env -i PATH="$PATH" HOME="$HOME" FABRIC_CFG_PATH="$RT/cli" FABRIC_LOGGING_SPEC="${CLI_LOG:-warning}" \
    CORE_PEER_LOCALMSPID="${ORG_MSPID[$org]}" CORE_PEER_MSPCONFIGPATH="$msp" \
    CORE_PEER_ADDRESS="${P_ADDR[$peer]}:${P_PORT[$peer]}" CORE_PEER_TLS_ENABLED=true \
    CORE_PEER_TLS_ROOTCERT_FILE="${P_TLS[$peer]}/ca.crt" \
    "$FABRIC_BIN/peer" "$@"
}

# orderer_flags CHANNEL: where the CLI sends transactions (first orderer of the channel).
orderer_flags() {
  local o
  read -r o _ <<<"${CH_ORDERERS[$1]}"
  echo "-o ${O_ADDR[$o]}:${O_PORT[$o]} --tls --cafile $ORDERER_TLSCA"
}

osnadmin_cli() {
  local o=$1; shift
  env -i PATH="$PATH" HOME="$HOME" "$FABRIC_BIN/osnadmin" "$@" -o "${O_ADDR[$o]}:${O_ADMIN[$o]}" \
    --ca-file "${O_TLS[$o]}/ca.crt" --client-cert "$ORDERER_ADMIN_TLS/client.crt" --client-key "$ORDERER_ADMIN_TLS/client.key"
}

first_peer() { local p; read -r p _ <<<"${ORG_PEERS[$1]}"; echo "$p"; }

# member_peer_flags CHANNEL: --peerAddresses/--tlsRootCertFiles for the first peer of every member org.
member_peer_flags() {
  local org p flags=()
  for org in ${CH_MEMBERS[$1]}; do
    p=$(first_peer "$org")
    flags+=(--peerAddresses "${P_ADDR[$p]}:${P_PORT[$p]}" --tlsRootCertFiles "${P_TLS[$p]}/ca.crt")
  done
  echo "${flags[@]}"
}
