#!/usr/bin/env bash
# A new organisation joins a RUNNING chain by a channel configuration update: network/DEPLOY.md,
# path A, one subcommand per step of the guide. Each subcommand is run by the org that owns the
# step, on that org's host (make test-multihost runs each with `ip netns exec mbmh-<org>`):
#
#   join-org.sh identities ORG      ORG    1. cryptogen: ORG's peers, chaincode server and client
#                                             TLS pairs, admin and user, names of ORG's host
#   join-org.sh definition ORG      ORG    2. configtxgen -printOrg: ORG's public definition, and
#                                             its sha256 to read out to the chain's admins
#   join-org.sh update ORG BY       BY     3. BY's admin fetches the chain's config block and
#                                             computes the update that adds ORG and its anchor
#                                             peer (configtxlator), wrapped in an envelope
#   join-org.sh sign ORG BY         BY     3. BY's admin signs the update (peer channel signconfigtx)
#   join-org.sh submit ORG BY       BY     3. BY's admin submits it (peer channel update, which
#                                             adds BY's signature): a MAJORITY of Admins in all
#   join-org.sh join ORG            ORG    6. ORG's peers start, fetch the chain's block 0 from the
#                                             ordering service as ORG's admin, join
#   join-org.sh chaincode ORG       ORG    4, 6. ORG's chaincode server starts first, then the
#                                             ccaas package whose connection.json names it is
#                                             installed, and ORG approves the committed definition
#                                             unchanged (querycommitted on its own peer); ORG's
#                                             connection profile is written, and the step waits
#                                             until ORG's gateway can plan endorsements
#   join-org.sh down ORG                   stops ORG's nodes (make test-multihost, on exit)
#
# Every step skips what is already done: identities that exist, an org already in the chain's
# configuration (update, sign and submit then do nothing), a peer that runs or has joined, a
# server, package or approval that is already there.
#
# ORG is a "joining" org of the network's description (network/networks/<NETWORK>.json, default
# net1-hosts): its name, MSP id, ports, the chain it joins and its host (placement) are data there;
# nothing about it is in any genesis block. The network must be up (network.sh up; make
# test-multihost). What the orgs send each other (the definition, the update and its signatures)
# is a file in $RT/join/<org>/, the mailbox of this machine; ORG's nodes keep their pid files and
# logs there too, so the network's own node list is unchanged. The runtime is the network's
# (recorded in its runtime directory): native processes or containers, on ORG's host when the
# network's hosts are namespaces (MEDBRIDGE_NETNS_MAP).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
TOPOLOGY="$HERE/lib/topology.js"
RUNTIME_BASE=$(realpath -m "${MEDBRIDGE_RUNTIME:-$REPO/.runtime}")
NODE_LOG_SPEC=${MEDBRIDGE_FABRIC_LOGGING:-info}
START_TIMEOUT_S=${MEDBRIDGE_START_TIMEOUT:-40}
NETWORK=${NETWORK:-net1-hosts}

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

# load: the network with ORG joined (MEDBRIDGE_JOIN: ORG is a member of its chain in every array),
# its runtime, ORG's mailbox and node state. Sets ORG (the org's name), CH (the chain it joins), BOX.
load() {
  local wanted=$1 o kind
  export MEDBRIDGE_JOIN=$wanted
  FABRIC_RUNTIME=${FABRIC_RUNTIME:-native}
  check_tools
  select_network "$NETWORK"
  ORG=''
  for o in "${ORGS[@]}"; do
    if [[ ${ORG_KEY[$o]} == "${wanted,,}" || ${ORG_MSPID[$o],,} == "${wanted,,}" ]]; then ORG=$o; fi
  done
  [[ -n $ORG && -n ${ORG_JOINS[$ORG]:-} ]] || die "$wanted is not a joining org of $NET_FILE"
  CH=${ORG_JOINS[$ORG]}
  kind=$(recorded_runtime)
  [[ -n $kind ]] || die "network $NET is not up ($RT); start it first (network.sh up, or multihost.sh up)"
  FABRIC_RUNTIME=$kind
  # shellcheck source=/dev/null
  source "$HERE/lib/runtime-$FABRIC_RUNTIME.sh"
  BOX="$RT/join/${ORG_KEY[$ORG]}"
  LOGS="$BOX/logs"
  PIDS="$BOX/pids"
  mkdir -p "$BOX" "$LOGS" "$PIDS"
}

# by_org NAME: the member org NAME (name, key or MSP id) of $CH.
by_org() {
  local o
  for o in ${CH_MEMBERS[$CH]}; do
    if [[ $o != "$ORG" && (${ORG_KEY[$o]} == "${1,,}" || ${ORG_MSPID[$o],,} == "${1,,}") ]]; then echo "$o"; return; fi
  done
  die "$1 is not a member org of $CH"
}

fabric_env() { env -i PATH="$PATH" HOME="$HOME" "$@"; }

# ------------------------------------------------------------------ 1. identities (ORG)
step_identities() {
  local dir=${ORG_TLSCA[$ORG]%/tlsca/*}
  if [[ -d $dir ]]; then info "$ORG's crypto material exists ($dir), keeping it"; return; fi
  step "[$ORG] 1. identities: cryptogen (NodeOUs on, names of $ORG's host)"
  node "$TOPOLOGY" "$NET_FILE" "$RT" join-crypto-config "$ORG" >"$BOX/crypto-config.yaml"
  rm -rf "$BOX/crypto"
  fabric_env "$FABRIC_BIN/cryptogen" generate --config "$BOX/crypto-config.yaml" --output "$BOX/crypto" >"$LOGS/cryptogen.log" 2>&1 ||
    die_with_log "cryptogen failed" "$LOGS/cryptogen.log"
  mv "$BOX/crypto/peerOrganizations/${dir##*/}" "$dir"
  rm -rf "$BOX/crypto" "${ORG_CC_SERVER_TLS[$ORG]%/tls}/msp" "${ORG_CC_CLIENT_TLS[$ORG]%/tls}/msp"
  info "$dir"
}

# ------------------------------------------------------------------ 2. definition (ORG)
step_definition() {
  local out="$BOX/${ORG_KEY[$ORG]}.json"
  step "[$ORG] 2. definition: configtxgen -printOrg ${ORG_MSPID[$ORG]}"
  node "$TOPOLOGY" "$NET_FILE" "$RT" join-configtx "$ORG" >"$BOX/configtx.yaml"
  fabric_env FABRIC_CFG_PATH="$BOX" "$FABRIC_BIN/configtxgen" -printOrg "${ORG_MSPID[$ORG]}" >"$out" 2>"$LOGS/configtxgen.log" ||
    die_with_log "configtxgen -printOrg failed" "$LOGS/configtxgen.log"
  # The anchor peer is a value of the org's group in the channel; -printOrg leaves it out.
  node -e 'const c = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")); const a = c.Organizations[0].AnchorPeers;
    console.log(JSON.stringify(a.map((p) => ({ host: p.Host, port: p.Port }))))' "$BOX/configtx.yaml" >"$BOX/anchor-peers.json"
  info "$out (sha256 $(sha256sum "$out" | cut -d' ' -f1)), anchor peers $(<"$BOX/anchor-peers.json")"
  printf '{"definition":"%s","sha256":"%s"}\n' "$out" "$(sha256sum "$out" | cut -d' ' -f1)"
}

# ------------------------------------------------------------------ 3. the chain's admins (BY)
step_update() {
  local by=$1 def="$BOX/${ORG_KEY[$ORG]}.json" w="$BOX/update" p
  [[ -f $def ]] || die "no definition of $ORG in $def (join-org.sh definition $ORG first)"
  p=$(first_peer "$by")
  step "[$by] 3. update of $CH adding ${ORG_MSPID[$ORG]}: fetch config, configtxlator compute_update"
  rm -rf "$w" && mkdir -p "$w"
  # shellcheck disable=SC2046 # orderer_flags: one word per flag
  peer_cli "$by" "$p" admin channel fetch config "$w/config_block.pb" $(orderer_flags "$CH") -c "$CH" 2>"$LOGS/fetch-config.log" ||
    die_with_log "fetching the config block of $CH failed" "$LOGS/fetch-config.log"
  fabric_env "$FABRIC_BIN/configtxlator" proto_decode --input "$w/config_block.pb" --type common.Block --output "$w/config_block.json"
  jq '.data.data[0].payload.data.config' "$w/config_block.json" >"$w/config.json"
  if jq -e --arg msp "${ORG_MSPID[$ORG]}" '.channel_group.groups.Application.groups | has($msp)' "$w/config.json" >/dev/null; then
    info "${ORG_MSPID[$ORG]} is already a member of $CH: no update"
    rm -f "$BOX/update_in_envelope.pb"
    touch "$BOX/member"
    return
  fi
  jq --arg msp "${ORG_MSPID[$ORG]}" --slurpfile org "$def" --slurpfile anchors "$BOX/anchor-peers.json" \
    '.channel_group.groups.Application.groups[$msp] = ($org[0] | .values.AnchorPeers = {mod_policy: "Admins", value: {anchor_peers: $anchors[0]}, version: "0"})' \
    "$w/config.json" >"$w/modified.json"
  fabric_env "$FABRIC_BIN/configtxlator" proto_encode --input "$w/config.json" --type common.Config --output "$w/config.pb"
  fabric_env "$FABRIC_BIN/configtxlator" proto_encode --input "$w/modified.json" --type common.Config --output "$w/modified.pb"
  fabric_env "$FABRIC_BIN/configtxlator" compute_update --channel_id "$CH" --original "$w/config.pb" --updated "$w/modified.pb" --output "$w/update.pb"
  fabric_env "$FABRIC_BIN/configtxlator" proto_decode --input "$w/update.pb" --type common.ConfigUpdate --output "$w/update.json"
  jq -n --arg ch "$CH" --slurpfile u "$w/update.json" \
    '{payload: {header: {channel_header: {channel_id: $ch, type: 2}}, data: {config_update: $u[0]}}}' >"$w/envelope.json"
  fabric_env "$FABRIC_BIN/configtxlator" proto_encode --input "$w/envelope.json" --type common.Envelope --output "$BOX/update_in_envelope.pb"
  info "$BOX/update_in_envelope.pb (sha256 $(sha256sum "$BOX/update_in_envelope.pb" | cut -d' ' -f1))"
}

# already_member: `update` found ORG in the chain's configuration; sign and submit have nothing to do.
already_member() {
  [[ -f $BOX/member && ! -f $BOX/update_in_envelope.pb ]] || return 1
  info "${ORG_MSPID[$ORG]} is already a member of $CH"
}

step_sign() {
  local by=$1
  already_member && return
  [[ -f $BOX/update_in_envelope.pb ]] || die "no update in $BOX (join-org.sh update $ORG <member> first)"
  step "[$by] 3. ${ORG_MSPID[$by]} admin signs the update of $CH"
  peer_cli "$by" "$(first_peer "$by")" admin channel signconfigtx -f "$BOX/update_in_envelope.pb" 2>"$LOGS/sign-${ORG_KEY[$by]}.log" ||
    die_with_log "signconfigtx by ${ORG_MSPID[$by]} failed" "$LOGS/sign-${ORG_KEY[$by]}.log"
}

step_submit() {
  local by=$1
  already_member && return
  step "[$by] 3. ${ORG_MSPID[$by]} admin submits the update of $CH"
  # shellcheck disable=SC2046
  peer_cli "$by" "$(first_peer "$by")" admin channel update -f "$BOX/update_in_envelope.pb" -c "$CH" $(orderer_flags "$CH") 2>"$LOGS/submit.log" ||
    die_with_log "the channel update of $CH was refused" "$LOGS/submit.log"
}

# ------------------------------------------------------------------ 6. join (ORG)
step_join() {
  local p block="$BOX/$CH.block" deadline=$((SECONDS + START_TIMEOUT_S)) out
  step "[$ORG] 6. starting ${ORG_PEERS[$ORG]} on ${ORG_HOST[$ORG]}"
  for p in ${ORG_PEERS[$ORG]}; do
    if rt_is_running "$p"; then info "$p already running"; continue; fi
    rt_node_config "$p" peer
    peer_env "$p" >"$RT/nodes/$p/env"
    rt_launch "$p" peer "$RT/nodes/$p/env" "$FABRIC_BIN/peer" node start
  done
  for p in ${ORG_PEERS[$ORG]}; do wait_listening "$p" "${P_HOST[$p]}" "${P_PORT[$p]}"; done
  p=$(first_peer "$ORG")
  # The ordering service serves block 0 to ORG's admin once the update that names ORG is committed.
  # shellcheck disable=SC2046
  until out=$(peer_cli "$ORG" "$p" admin channel fetch 0 "$block" $(orderer_flags "$CH") -c "$CH" 2>&1); do
    ((SECONDS < deadline)) || die "${ORG_MSPID[$ORG]} could not fetch block 0 of $CH within ${START_TIMEOUT_S}s: $out"
    sleep 0.5
  done
  for p in ${ORG_PEERS[$ORG]}; do
    if peer_has_channel "$p" "$CH"; then continue; fi
    step "[$ORG] 6. $p joins $CH (block 0)"
    out=$(peer_cli "$ORG" "$p" admin channel join -b "$block" 2>&1) ||
      { printf '%s\n' "$out" >&2; die_with_log "$p could not join $CH" "$LOGS/$p.log" 20; }
  done
}

# ------------------------------------------------------------------ 4, 6. chaincode (ORG)
step_chaincode() {
  local p committed="" deadline=$((SECONDS + START_TIMEOUT_S)) defs=() all_orgs=("${ORGS[@]}")
  p=$(first_peer "$ORG")
  # 4. The committed definition, as ORG's own peer has it once it caught up with the chain.
  until committed=$(peer_cli "$ORG" "$p" admin lifecycle chaincode querycommitted -C "$CH" -n "$CC_NAME" -O json 2>/dev/null); do
    ((SECONDS < deadline)) || die "$p has no committed definition of $CC_NAME on $CH after ${START_TIMEOUT_S}s (still catching up? see $LOGS/$p.log)"
    sleep 0.5
  done
  ORGS=("$ORG")
  package_chaincode
  [[ $(jq -r .version <<<"$committed") == "$CC_VERSION" ]] ||
    warn "the committed version $(jq -r .version <<<"$committed") is not this build's $CC_VERSION; approving the committed one"
  CC_VERSION=$(jq -r .version <<<"$committed")
  CC_SEQUENCE=$(jq -r .sequence <<<"$committed")
  # MAJORITY Endorsement grows with membership: ORG's server runs before its peers announce the
  # chaincode, so no gateway ever picks a peer of ORG that cannot execute it.
  start_chaincode_servers
  install_chaincode
  ORGS=("${all_orgs[@]}")
  # definition_flags reads its caller's `ch` (as approve_and_commit has it).
  local ch=$CH
  mapfile -t defs < <(definition_flags "$ch")
  if peer_cli "$ORG" "$p" admin lifecycle chaincode queryapproved -C "$CH" -n "$CC_NAME" --sequence "$CC_SEQUENCE" -O json 2>/dev/null |
      grep -qF "\"${CC_PKG_ID[$ORG]}\""; then
    info "${ORG_MSPID[$ORG]} already approved sequence $CC_SEQUENCE with ${CC_PKG_ID[$ORG]}"
  else
    approve_committed "$p" "${defs[@]}"
  fi
  node "$TOPOLOGY" "$NET_FILE" "$RT" profile "$ORG" >/dev/null
  wait_endorsable_by "$ORG"
}

# approve_committed PEER DEFINITION_FLAGS...: ORG's approval of the committed definition, unchanged.
approve_committed() {
  local p=$1 out
  shift
  step "[$ORG] 6. approving the committed $CC_NAME version $CC_VERSION sequence $CC_SEQUENCE unchanged"
  # shellcheck disable=SC2046
  out=$(peer_cli "$ORG" "$p" admin lifecycle chaincode approveformyorg $(orderer_flags "$CH") "$@" \
    --package-id "${CC_PKG_ID[$ORG]}" --waitForEvent 2>&1) ||
    die "approve by ${ORG_MSPID[$ORG]} on $CH ($* --package-id ${CC_PKG_ID[$ORG]}) failed: $(grep -v '^ ' <<<"$out" | head -5)"
}

# wait_endorsable_by ORG: ORG's gateway plans endorsements for the chaincode on $CH.
wait_endorsable_by() {
  local start
  start=$(now_ms)
  node "$HERE/lib/wait-endorsable.js" "$REPO" "$RT/profiles/${ORG_KEY[$1]}.json" "$CH" "$START_TIMEOUT_S" ||
    die "$CH: the Gateway service of ${ORG_MSPID[$1]} found no peers to endorse $CC_NAME; see $LOGS/$(first_peer "$1").log"
  info "$CH: ${ORG_MSPID[$1]}'s gateway plans endorsements (waited $(( $(now_ms) - start )) ms); profile $RT/profiles/${ORG_KEY[$1]}.json"
}

step_down() {
  local f names=()
  for f in "$PIDS"/*.pid; do [[ -f $f ]] && names+=("$(basename "$f" .pid)"); done
  ((${#names[@]} == 0)) || rt_stop "${names[@]}"
}

main() {
  local cmd=${1:-} org=${2:-}
  [[ -n $org ]] || die "usage: $0 identities|definition|update|sign|submit|join|chaincode|down ORG [BY]  (NETWORK=net1-hosts)"
  load "$org"
  case $cmd in
    identities | definition | join | chaincode | down) ;;
    update | sign | submit) [[ -n ${3:-} ]] || die "usage: $0 $cmd $org BY  (BY: a member org of $CH, on its own host)" ;;
    *) die "unknown step $cmd" ;;
  esac
  [[ $cmd == join || $cmd == chaincode ]] && rt_prepare
  [[ $cmd == down ]] || resolve_fabric
  case $cmd in
    identities) step_identities ;;
    definition) step_definition ;;
    update) step_update "$(by_org "$3")" ;;
    sign) step_sign "$(by_org "$3")" ;;
    submit) step_submit "$(by_org "$3")" ;;
    join) step_join ;;
    chaincode) step_chaincode ;;
    down) step_down ;;
  esac
}

main "$@"
