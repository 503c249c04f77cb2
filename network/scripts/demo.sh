#!/usr/bin/env bash
# make demo: the medbridge story end to end on the embedded network.
#   1. a lease on the network (network.sh acquire): reused when it is already running (chaincode
#      redeployed only if it changed), otherwise started
#   2. the story (gateway/src/demo/story.ts): route set-up by each chain's governance, relays and
#      the record exchange started as real processes, then patient -> consent -> cross-chain ->
#      fetch -> revoke -> refusal -> access log, each step timed; non-zero exit if one misbehaves.
#   3. the patient app: HospitalA's gateway API serves it at /app/ and its URL is printed; on a
#      terminal it runs until Ctrl-C (gateway/APP.md), otherwise it is checked and stopped.
# A network that was already up stays up; one the demo started is stopped when it ends
# (MEDBRIDGE_KEEP_NETWORK=1 keeps it up; make network-down stops it).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
# shellcheck source=lib/log.sh
source "$HERE/lib/log.sh"
# shellcheck source=lib/network-lease.sh
source "$HERE/lib/network-lease.sh"

gateway_built() {
  step "gateway: compile"
  (cd "$REPO" && npx tsc -b chaincode gateway)
}

story() {
  step "story"
  (cd "$REPO" && node gateway/dist/demo/story.js)
}

patient_app() {
  step "patient app"
  (cd "$REPO" && node gateway/dist/demo/app.js)
}

network_acquire
gateway_built
story
patient_app
