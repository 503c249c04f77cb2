# Channels: genesis blocks, orderer and peer joins, and their status (sourced by network.sh).
#
#   create_channel_blocks   configtx.yaml from the description, one genesis block per channel
#   join_orderers           osnadmin channel join on every orderer of each channel
#   join_peers              each channel's Raft leader first, then every member peer joins
#   show_channels           status: members, height, committed chaincode, endorsement policy
# Every step skips what is already done (a block that exists, a channel a node already has).

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
    metrics=$(http_get "${O_HOST[$o]}" "${O_OPS[$o]}" /metrics || true)
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
