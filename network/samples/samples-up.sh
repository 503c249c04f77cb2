#!/usr/bin/env bash
# make samples-up FABRIC_SAMPLES=<fabric-samples checkout>: medbridge on fabric-samples'
# test-network, with this project's Fabric binaries and locally built images (nothing is pulled).
#
#   1. checks: no earlier run recorded, the test-network's host ports free
#   2. Docker engine (network/docker/engine.sh) and a compose tool (Debian's docker-compose via
#      apt-get when neither docker-compose nor `docker compose` answers)
#   3. records what exists (containers, networks, volumes, images, files) for samples-down
#   4. bin/ (links to the Fabric binaries of network/scripts/fabric-bin.sh) and config/ (its
#      core.yaml, orderer.yaml), each only when the checkout has none
#   5. images: `make images`, then hyperledger/fabric-{peer,orderer}:latest tags on them
#   6. ./network.sh up createChannel -c mychannel
#   7. ./network.sh deployCCAAS -ccn medbridge -ccp <context from prepare-ccaas.sh>
#   8. connection profiles (Org1, Org2), wait until Org1's gateway endorses, Governance:Bootstrap
#   9. prints the timings and the CLI story to try (network/samples/story.sh)
# samples-down removes what this made, without network.sh down.
set -euo pipefail
# shellcheck source=network/samples/common.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/common.sh"

TIMINGS=()
timed() {
  local what=$1 start
  shift
  start=$(now_ms)
  "$@"
  TIMINGS+=("$(printf '%-58s %s' "$what" "$(elapsed "$start")")")
}

record() { printf '%s=%q\n' "$1" "$2" >>"$STATE_FILE"; }

check_start() {
  step "samples: fabric-samples $FS (commit $(samples_commit "$FS"))"
  [[ ! -f $STATE_FILE ]] || die "a samples run is already recorded in $STATE: run \`make samples-down\` first"
  local port busy=()
  for port in "${SAMPLES_PORTS[@]}"; do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then busy+=("$port"); fi
  done
  ((${#busy[@]} == 0)) || die "ports ${busy[*]} are in use; the test-network needs them (the embedded network uses the same ones: \`make network-down\`)"
}

ensure_compose() {
  step "samples: compose tool"
  if command -v docker-compose >/dev/null 2>&1 && docker-compose version >/dev/null 2>&1; then
    info "docker-compose $(docker-compose version --short 2>/dev/null)"
  elif docker compose version >/dev/null 2>&1; then
    info "docker compose plugin $(docker compose version --short 2>/dev/null)"
  else
    if [[ $(id -u) != 0 ]] || ! command -v apt-get >/dev/null 2>&1; then
      die "no compose tool (docker-compose or the docker compose plugin); install one (Debian: apt-get install docker-compose)"
    fi
    info "none found; installing Debian's docker-compose (apt-get update, apt-get install docker-compose)"
    DEBIAN_FRONTEND=noninteractive apt-get update -q >"$STATE/logs/apt.log" 2>&1 || die_with_log "apt-get update failed" "$STATE/logs/apt.log"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends docker-compose >>"$STATE/logs/apt.log" 2>&1 ||
      die_with_log "apt-get install docker-compose failed" "$STATE/logs/apt.log"
    record COMPOSE_INSTALLED docker-compose
    info "installed docker-compose $(docker-compose version --short 2>/dev/null)"
  fi
}

snapshot() {
  local dir=$STATE/before
  mkdir -p "$dir"
  docker ps -aq --no-trunc | sort >"$dir/containers"
  docker network ls -q --no-trunc | sort >"$dir/networks"
  docker volume ls -q | sort >"$dir/volumes"
  docker images -aq --no-trunc | sort -u >"$dir/images"
  docker image inspect -f '{{.Id}}' "${CC_NAME}_ccaas_image:latest" >"$dir/ccaas-image" 2>/dev/null || : >"$dir/ccaas-image"
  list_files "$FS" >"$dir/files"
  info "recorded $(wc -l <"$dir/containers") containers, $(wc -l <"$dir/networks") networks, $(wc -l <"$dir/volumes") volumes, $(wc -l <"$dir/files") paths under $FS"
}

fabric_tools() {
  step "samples: bin/ and config/ of $FS"
  local envlines tool
  envlines=$(MB_QUIET=1 "$REPO/network/scripts/fabric-bin.sh" --env) || die "could not provide the Fabric binaries"
  FABRIC_BIN=$(sed -n 's/^FABRIC_BIN=//p' <<<"$envlines")
  FABRIC_SAMPLECONFIG=$(sed -n 's/^FABRIC_SAMPLECONFIG=//p' <<<"$envlines")
  if [[ -e $FS/bin/peer ]]; then
    info "keeping $FS/bin ($("$FS/bin/peer" version 2>/dev/null | sed -n 's/^ Version: //p' || true))"
  else
    mkdir -p "$FS/bin"
    for tool in peer orderer configtxgen configtxlator cryptogen osnadmin; do ln -s "$FABRIC_BIN/$tool" "$FS/bin/$tool"; done
    info "bin/: links to $FABRIC_BIN ($("$FS/bin/peer" version | sed -n 's/^ Version: //p'))"
  fi
  if [[ -e $FS/config/core.yaml ]]; then
    info "keeping $FS/config"
  else
    mkdir -p "$FS/config"
    cp "$FABRIC_SAMPLECONFIG/core.yaml" "$FABRIC_SAMPLECONFIG/orderer.yaml" "$FS/config/"
    info "config/: core.yaml and orderer.yaml from $FABRIC_SAMPLECONFIG"
  fi
}

images() {
  step "samples: images (built here, tagged with the names the compose files use)"
  local lines tags
  lines=$("$REPO/network/docker/images.sh" --official-tags) || die "images.sh failed"
  CHAINCODE_IMAGE=$(sed -n 's/^CHAINCODE_IMAGE=//p' <<<"$lines")
  tags=$(sed -n 's/^TAGGED=//p' <<<"$lines" | tr '\n' ' ')
  record OFFICIAL_TAGS "${tags% }"
  sed -n 's/^\(PEER_IMAGE\|ORDERER_IMAGE\|CHAINCODE_IMAGE\|TAGGED\|KEPT\)=/    \1 /p' <<<"$lines" >&2
}

test_network() {
  local log=$STATE/logs/$1.log
  shift
  (cd "$FS/test-network" && ./network.sh "$@") >"$log" 2>&1 || die_with_log "./network.sh $* failed (log $log)" "$log" 60
}

network_up() {
  step "samples: ./network.sh up createChannel -c $CHANNEL (log $STATE/logs/up.log)"
  test_network up up createChannel -c "$CHANNEL"
  info "$(docker ps --filter network=fabric_test --format '{{.Names}}' | sort | tr '\n' ' ')"
}

deploy_ccaas() {
  step "samples: ./network.sh deployCCAAS -ccn $CC_NAME (log $STATE/logs/deployCCAAS.log)"
  NODE_IMAGE=$CHAINCODE_IMAGE "$REPO/network/docker/fabric-samples/prepare-ccaas.sh" "$STATE/ccaas" >/dev/null
  test_network deployCCAAS deployCCAAS -c "$CHANNEL" -ccn "$CC_NAME" -ccp "$STATE/ccaas"
  info "$(grep -o "Package ID: [^ ,]*" "$STATE/logs/deployCCAAS.log" | head -1); chaincode containers: $(docker ps --filter "name=_${CC_NAME}_ccaas" --format '{{.Names}}' | sort | tr '\n' ' ')"
}

profiles() {
  step "samples: connection profiles in $STATE/profiles"
  node "$REPO/network/docker/fabric-samples/profiles.js" "$FS/test-network" "$STATE/profiles" "$CHANNEL" "$CC_NAME" | sed 's/^/    /' >&2
}

wait_chaincode() {
  step "samples: waiting until Org1's gateway gets $CC_NAME endorsed (peers dial the chaincode containers)"
  node "$REPO/network/scripts/lib/wait-endorsable.js" "$REPO" "$STATE/profiles/org1.json" "$CHANNEL" 60 ||
    die "Org1's gateway could not get $CC_NAME endorsed; see \`docker logs peer0.org1.example.com\` and \`docker logs peer0org1_${CC_NAME}_ccaas\`"
}

bootstrap() {
  step "samples: Governance:Bootstrap on $CHANNEL as Org1's admin, endorsed by Org1 and Org2"
  local orgs=$FS/test-network/organizations out args
  args='{"function":"Governance:Bootstrap","Args":["'"$CHANNEL"'","[\"Org1MSP\",\"Org2MSP\"]"]}'
  if out=$(env -i PATH="$PATH" HOME="$HOME" FABRIC_CFG_PATH="$FABRIC_SAMPLECONFIG" FABRIC_LOGGING_SPEC=info \
      CORE_PEER_LOCALMSPID=Org1MSP CORE_PEER_TLS_ENABLED=true CORE_PEER_ADDRESS=localhost:7051 \
      CORE_PEER_MSPCONFIGPATH="$orgs/peerOrganizations/org1.example.com/users/Admin@org1.example.com/msp" \
      CORE_PEER_TLS_ROOTCERT_FILE="$orgs/peerOrganizations/org1.example.com/tlsca/tlsca.org1.example.com-cert.pem" \
      "$FABRIC_BIN/peer" chaincode invoke -o localhost:7050 --ordererTLSHostnameOverride orderer.example.com --tls \
      --cafile "$orgs/ordererOrganizations/example.com/tlsca/tlsca.example.com-cert.pem" -C "$CHANNEL" -n "$CC_NAME" \
      --peerAddresses localhost:7051 --tlsRootCertFiles "$orgs/peerOrganizations/org1.example.com/tlsca/tlsca.org1.example.com-cert.pem" \
      --peerAddresses localhost:9051 --tlsRootCertFiles "$orgs/peerOrganizations/org2.example.com/tlsca/tlsca.org2.example.com-cert.pem" \
      -c "$args" --waitForEvent 2>&1); then
    info "bootstrapped: $(grep -o 'payload:.*' <<<"$out" | tail -1)"
  elif grep -qi 'already' <<<"$out"; then
    info "already bootstrapped"
  else
    die "Governance:Bootstrap failed: $out"
  fi
}

on_exit() {
  local rc=$?
  ((rc == 0)) || warn "samples-up stopped; \`make samples-down\` removes what it made so far"
}

main() {
  local t0
  t0=$(now_ms)
  FS=$(samples_dir)
  check_start
  trap on_exit EXIT
  mkdir -p "$STATE/logs"
  : >"$STATE_FILE"
  record FABRIC_SAMPLES "$FS"
  record SAMPLES_COMMIT "$(samples_commit "$FS")"
  timed "docker engine" ensure_docker
  timed "compose tool" ensure_compose
  timed "record what exists" snapshot
  timed "bin/ and config/" fabric_tools
  timed "images + official tags" images
  timed "network.sh up createChannel" network_up
  timed "prepare-ccaas.sh + network.sh deployCCAAS" deploy_ccaas
  timed "connection profiles" profiles
  timed "chaincode endorsable through Org1's gateway" wait_chaincode
  timed "Governance:Bootstrap" bootstrap
  record UP_SECONDS "$(elapsed "$t0")"
  step "samples: up in $(elapsed "$t0")"
  printf '    %s\n' "${TIMINGS[@]}" | tee "$STATE/timings.txt" >&2
  "$HERE/story.sh"
}

main "$@"
