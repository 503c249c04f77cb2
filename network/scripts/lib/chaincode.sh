# The chaincode as a service: packages, installs, servers, definitions and the governance
# bootstrap (sourced by network.sh).
#
#   deploy_chaincode        package, install, start servers, approve/commit and bootstrap on every
#                           channel, then retire servers of older packages (idempotent: an
#                           unchanged build is already installed, committed and served)
#   running_servers ORG     "name port package-id" per running chaincode server of ORG
#   server_name ORG PORT, committed_field CHANNEL FIELD, cc_dir
# Starting and stopping a server is the runtime's (rt_launch, rt_is_running, rt_stop).

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
    if rt_is_running "$name"; then echo "$name $port $(<"$RT/nodes/$name/package-id")"; fi
  done
}

# pick_port ORG: the slot for a new package: one not used by a running server (if both are
# busy, an interrupted deploy left a spare: the older server is stopped).
pick_port() {
  local org=$1 port oldest='' name
  for port in $(slot_ports "$org"); do
    rt_is_running "$(server_name "$org" "$port")" || { echo "$port"; return; }
  done
  for port in $(slot_ports "$org"); do
    name=$(server_name "$org" "$port")
    if [[ -z $oldest || $(pid_file "$name") -ot $(pid_file "$oldest") ]]; then oldest=$name; fi
  done
  warn "both chaincode ports of $org are busy (an interrupted deploy); stopping $oldest"
  rt_stop "$oldest"
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
    if rt_is_running "$name"; then
      [[ $(<"$dir/package-id") == "${CC_PKG_ID[$org]}" ]] && continue
      # Our own server of an unfinished earlier deploy sits on this slot.
      rt_stop "$name"
    fi
    step "[$NET] starting the $org chaincode server on ${ORG_HOST[$org]}:$port"
    require_port_free "${ORG_HOST[$org]}" "$port" "$org chaincode server"
    mkdir -p "$dir"
    tls=${ORG_CC_SERVER_TLS[$org]}
    echo "${CC_PKG_ID[$org]}" >"$dir/package-id"
    printf '%s\n' "CORE_CHAINCODE_LOGGING_LEVEL=${MEDBRIDGE_CHAINCODE_LOGGING:-info}" "NODE_ENV=production" >"$dir/env"
    NODE_HOST[$name]=${ORG_HOST[$org]}
    rt_launch "$name" chaincode "$dir/env" node "$cli" server \
      --chaincode-address "${ORG_HOST[$org]}:$port" --chaincode-id "${CC_PKG_ID[$org]}" \
      --module-path "$(cc_dir)" \
      --chaincode-tls-cert-file "$tls/server.crt" --chaincode-tls-key-file "$tls/server.key" \
      --chaincode-tls-client-cacert-file "$tls/ca.crt"
    wait_listening "$name" "${ORG_HOST[$org]}" "$port"
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
      rt_stop "$name"
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
  local ch=$1 org p committed_version committed_seq readiness defs=() out attempt
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
    for ((attempt = 1; ; attempt++)); do
      # Checked again before a retry: an approval whose event wait timed out may have committed.
      readiness=$(peer_cli "$org" "$p" admin lifecycle chaincode checkcommitreadiness "${defs[@]}" -O json 2>/dev/null || true)
      if grep -q "\"${ORG_MSPID[$org]}\": *true" <<<"$readiness"; then break; fi
      info "approve for ${ORG_MSPID[$org]} (package ${CC_PKG_ID[$org]})"
      # shellcheck disable=SC2046
      out=$(peer_cli "$org" "$p" admin lifecycle chaincode approveformyorg $(orderer_flags "$ch") "${defs[@]}" \
        --package-id "${CC_PKG_ID[$org]}" --waitForEvent 2>&1) && break
      retry_or_die "$attempt" "approve by ${ORG_MSPID[$org]} on $ch failed: $out"
    done
  done
  read -r org _ <<<"${CH_MEMBERS[$ch]}"
  step "[$NET] $ch: committing $CC_NAME sequence $CC_SEQUENCE"
  for ((attempt = 1; ; attempt++)); do
    # shellcheck disable=SC2046
    out=$(peer_cli "$org" "$(first_peer "$org")" admin lifecycle chaincode commit $(orderer_flags "$ch") "${defs[@]}" \
      $(member_peer_flags "$ch") --waitForEvent 2>&1) && break
    # A commit whose event wait timed out may have committed.
    [[ $(committed_field "$ch" version) == "$CC_VERSION" ]] && break
    retry_or_die "$attempt" "commit on $ch failed: $out"
  done
}

# retry_or_die ATTEMPT MESSAGE: after a failed lifecycle or bootstrap call (each retried only
# after checking that it did not take effect), wait and go on while attempts are left
# (MEDBRIDGE_CLI_ATTEMPTS, default 3: a peer or orderer busy right after start can time out);
# otherwise fail with MESSAGE.
retry_or_die() {
  local attempt=$1 msg=$2 attempts=${MEDBRIDGE_CLI_ATTEMPTS:-3}
  ((attempt < attempts)) || die "$msg (attempt $attempt of $attempts)"
  warn "$msg (attempt $attempt of $attempts; again in 5 s)"
  sleep 5
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
  local ch=$1 marker="$RT/chaincode/bootstrapped-$1" org args out attempt
  [[ -f $marker ]] && return
  if ! has_governance_bootstrap; then
    info "$ch: the compiled chaincode has no Governance:Bootstrap yet, skipping the bootstrap call"
    return
  fi
  read -r org _ <<<"${CH_MEMBERS[$ch]}"
  args=$(node -e 'const [ch, ...m] = process.argv.slice(1); console.log(JSON.stringify({function: "Governance:Bootstrap", Args: [ch, JSON.stringify(m.sort())]}))' "$ch" ${CH_MSPIDS[$ch]})
  step "[$NET] $ch: Governance:Bootstrap as ${ORG_MSPID[$org]} admin: $args"
  for ((attempt = 1; ; attempt++)); do
    # shellcheck disable=SC2046
    if out=$(CLI_LOG=info peer_cli "$org" "$(first_peer "$org")" admin chaincode invoke $(orderer_flags "$ch") -C "$ch" -n "$CC_NAME" \
        $(member_peer_flags "$ch") -c "$args" --waitForEvent 2>&1); then
      info "bootstrapped: $(grep -o 'payload:.*' <<<"$out" | tail -1)"
      break
    elif grep -qi 'already' <<<"$out"; then
      # Also the answer to a retry after a bootstrap whose event wait timed out.
      info "already bootstrapped: $(grep -i already <<<"$out" | tail -1)"
      break
    fi
    retry_or_die "$attempt" "Governance:Bootstrap on $ch failed: $out"
  done
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
