# The tools, the Fabric binaries, one network's description and its runtime directory
# (sourced by network.sh).
#
#   check_tools          node, setsid and a supported FABRIC_RUNTIME
#   resolve_fabric       FABRIC_BIN and FABRIC_SAMPLECONFIG from fabric-bin.sh (built or reused)
#   networks             the networks to act on (NETWORKS=net1,net2 or NETWORK=net1; default net1)
#   select_network NAME  NET, NET_FILE, RT, LOGS, PIDS and the topology's arrays (topology.js shell)
#   recorded_runtime     the runtime that made $RT (empty when it is not up)
#   prepare_runtime, generate_crypto, write_profiles    the first steps of `up`
#   remove_runtime_dir   the last step of `down`
# Needs: HERE, REPO, TOPOLOGY, RUNTIME_BASE, FABRIC_RUNTIME (network.sh) and lib/log.sh.

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

networks() {
  local list=${NETWORKS:-${NETWORK:-net1}}
  tr ',' ' ' <<<"$list"
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

# recorded_runtime: the runtime that made $RT (the docker runtime writes .medbridge-runtime; a
# native runtime dir has nodes/ and no such file); empty when the network is not up.
recorded_runtime() {
  if [[ -f $RT/.medbridge-runtime ]]; then cat "$RT/.medbridge-runtime"
  elif [[ -d $RT/nodes ]]; then echo native
  fi
}

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

remove_runtime_dir() {
  [[ -d $RT ]] || return 0
  [[ -f $RT/.medbridge-network ]] || die "$RT does not look like a medbridge runtime directory; not removing it"
  info "removing $RT"
  rm -rf "$RT"
}
