#!/usr/bin/env bash
# make bench: proof sizes and verification times of both schemes (no network), and
# end-to-end share latency (grant on chain-a -> usable on chain-b) over
# BENCH_SHARES shares (default 200) and a plain commit on each channel in the same run.
# Results: test/bench/results/${BENCH_NAME:-share-latency}.{json,md}. A script, not a test: the
# numbers depend on the machine and on the channels' BatchTimeout (printed with them).
# The network is leased the way the tests lease it (lib/network-lease.sh): reused when it runs,
# otherwise started and stopped again at the end.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
# shellcheck source=lib/log.sh
source "$HERE/lib/log.sh"
# shellcheck source=lib/network-lease.sh
source "$HERE/lib/network-lease.sh"

SHARES=${BENCH_SHARES:-200}
COMMITS=${BENCH_COMMITS:-100}
NAME=${BENCH_NAME:-share-latency}

gateway_built() {
  step "gateway: compile"
  (cd "$REPO" && npx tsc -b chaincode gateway)
}

share_latency() {
  step "share latency: $SHARES shares, $COMMITS plain commits per channel"
  (cd "$REPO" && node gateway/dist/bench/share-latency.js --shares "$SHARES" --commits "$COMMITS" --name "$NAME")
}

proof_schemes() {
  step "proof schemes: fabric-endorsement vs bls12381-aggregate at ${BENCH_SIGNERS:-4,16,64,256} signers"
  (cd "$REPO" && npx tsc -p test/bench/tsconfig.json && node .runtime/bench/test/bench/bls-vs-ecdsa.js)
}

network_acquire
gateway_built
share_latency
proof_schemes
