#!/usr/bin/env bash
# make demo: the medbridge story end to end on the embedded network.
#   1. network up (reused when it is already running; chaincode redeployed only if it changed)
#   2. the story (gateway/src/demo/story.ts): route set-up by each chain's governance, relays and
#      the record exchange started as real processes, then patient -> consent -> cross-chain ->
#      fetch -> revoke -> refusal -> access log, each step timed; non-zero exit if one misbehaves.
# The network stays up afterwards (make network-down stops it).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
# shellcheck source=lib/log.sh
source "$HERE/lib/log.sh"

network_ready() {
  step "network: reuse the running one or start it"
  local t0
  t0=$(now_ms)
  if "$HERE/network.sh" check >/dev/null 2>&1; then
    info "net1 is up; deploying the chaincode only if it changed"
    "$HERE/network.sh" deploy
  else
    "$HERE/network.sh" up
  fi
  info "network ready ($(($(now_ms) - t0)) ms)"
}

gateway_built() {
  step "gateway: compile"
  (cd "$REPO" && npx tsc -b chaincode gateway)
}

story() {
  step "story"
  (cd "$REPO" && node gateway/dist/demo/story.js)
}

network_ready
gateway_built
story
