#!/usr/bin/env bash
# make bench: verification in chaincode against the raw signature checks (no network),
# end-to-end share latency (grant on chain-a -> usable on chain-b) over
# BENCH_SHARES shares (default 200) and a plain commit on each channel in the same run,
# open-loop relay throughput over 1, 4 and 16 routes against chain-b's plain puts
# (BENCH_RELAY=0 skips it; BENCH_RELAY_BUDGET_S bounds each route count, default 150;
# BENCH_RELAY_LOG=<file> keeps the relay's log), and the hospital gateway
# API under load (BENCH_API_SECONDS per endpoint class, default 20), then Hyperledger Caliper's
# plain-put and consent-grant rounds (about 2.5 min; BENCH_CALIPER=0 skips them).
# Results: test/bench/results/verify.json, consent.json, ${BENCH_NAME:-share-latency}.{json,md},
# relay-throughput.json, api-load.json, all folded into summary.{json,md} (make bench-verify runs
# the first part alone; make bench-api, i.e. `bench.sh api`, the API load alone; `bench.sh share` the
# share latency alone, into ${BENCH_NAME:-share-latency}.{json,md}; `bench.sh relay`
# the relay throughput alone, into ${BENCH_RELAY_NAME:-relay-throughput}.json; `bench.sh relay-backlog`
# a backlog drained by the relay with and without batches, relay-backlog.json). `bench.sh caliper`
# (make bench-caliper) runs Hyperledger Caliper's plain-put and consent-grant rounds alone, Caliper
# installed on demand in test/bench/caliper: test/bench/results/caliper.json. A script, not a test: the
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
  (cd "$REPO" && node gateway/dist/bench/share-latency.js --shares "$SHARES" --commits "$COMMITS" --name "$NAME" --scheme "${BENCH_SCHEME:-both}")
}

relay_throughput() {
  [[ ${BENCH_RELAY:-1} == 1 ]] || { step "relay throughput: skipped (BENCH_RELAY=0)"; return 0; }
  step "relay throughput: routes ${BENCH_RELAY_ROUTES:-1,4,16}, offered rates (all routes) doubling from 4/s until one is not sustained, then 2 steps halving the interval, value transfer off then on, at most ${BENCH_RELAY_BUDGET_S:-150} s per route count"
  (cd "$REPO" && node gateway/dist/bench/relay-throughput.js --routes "${BENCH_RELAY_ROUTES:-1,4,16}" --budget-s "${BENCH_RELAY_BUDGET_S:-150}" --name "${BENCH_RELAY_NAME:-relay-throughput}" ${BENCH_RELAY_LOG:+--log-file "$BENCH_RELAY_LOG"})
}

# A microbenchmark of code that allocates is disturbed by whatever else runs (the build just before
# it, a network still stopping): wait, at most BENCH_QUIET_WAIT_S (120) seconds, for the 1-minute
# load to fall below 0.5. verify.json records the load when the runs began and ended.
wait_quiet() {
  local waited=0 limit=${BENCH_QUIET_WAIT_S:-120}
  while (( waited < limit )) && awk '{ exit !($1 >= 0.5) }' /proc/loadavg; do
    sleep 5
    waited=$((waited + 5))
  done
  step "verification: 1-minute load $(cut -d' ' -f1 /proc/loadavg) after ${waited} s of waiting for a quiet machine"
}

verification() {
  step "verification: parseProof + verifyProof against the raw signature checks at ${BENCH_SIGNERS:-4,16,64} signers (no network)"
  (cd "$REPO" && npx tsc -p test/bench/tsconfig.json)
  wait_quiet
  (cd "$REPO" && node .runtime/bench/test/bench/verify.js && BENCH_COMMAND="make bench" node .runtime/bench/test/bench/consent.js)
}

api_load() {
  step "API load: ${BENCH_API_SECONDS:-20} s per endpoint class (read, access check, patient-signed grants), loopback, autocannon"
  (cd "$REPO" && BENCH_COMMAND="${BENCH_COMMAND:-make bench-api}" node gateway/dist/bench/api-load.js --seconds "${BENCH_API_SECONDS:-20}")
}

CALIPER_DIR="$REPO/test/bench/caliper"

# Caliper lives in its own folder with its own lock file (make test never installs it): npm ci there
# when the lock file changed, then Caliper's bind of the Fabric peer-gateway connector (bind.yaml pins
# the gateway's fabric-gateway and grpc-js, which package.json pins too, so the bind changes nothing).
caliper_installed() {
  [[ ${BENCH_CALIPER:-1} == 1 ]] || return 0
  local stamp="$CALIPER_DIR/node_modules/.installed"
  if [[ -f $stamp && ! $CALIPER_DIR/package-lock.json -nt $stamp ]]; then
    step "caliper: installed in test/bench/caliper ($(node -p "require('$CALIPER_DIR/node_modules/@hyperledger/caliper-cli/package.json').version"))"
    return 0
  fi
  step "caliper: npm ci in test/bench/caliper, then caliper bind --caliper-bind-sut fabric:2.4"
  (cd "$CALIPER_DIR" && npm ci --workspaces=false --no-fund --no-audit --loglevel=error)
  (cd "$CALIPER_DIR" && npx --no-install caliper bind --caliper-bind-sut fabric:2.4 --caliper-bind-file bind.yaml --caliper-bind-cwd .)
  touch "$stamp"
}

caliper_workloads() {
  step "caliper: compile the workloads (test/bench/caliper/workloads -> .runtime/bench)"
  (cd "$REPO" && npx tsc -p test/bench/caliper/tsconfig.json)
}

caliper_rounds() {
  [[ ${BENCH_CALIPER:-1} == 1 ]] || { step "caliper: skipped (BENCH_CALIPER=0)"; return 0; }
  step "caliper: plain puts on chain-b and consent grants on chain-a, a fixed-rate and a fixed-load round of ${BENCH_CALIPER_SECONDS:-20} s each"
  (cd "$REPO" && node gateway/dist/bench/caliper.js --seconds "${BENCH_CALIPER_SECONDS:-20}")
}

summary_api() {
  step "summary: api.* of test/bench/results/summary.json"
  (cd "$REPO" && npx tsc -p test/bench/tsconfig.json && BENCH_ONLY_API=1 node .runtime/bench/test/bench/summary.js)
}

summary() {
  step "summary: test/bench/results/summary.json"
  (cd "$REPO" && BENCH_COMMAND="make bench" BENCH_WITH_SHARE=1 BENCH_WITH_RELAY=${BENCH_RELAY:-1} BENCH_NAME="$NAME" node .runtime/bench/test/bench/summary.js)
}

if [[ "${1:-all}" == caliper ]]; then
  caliper_installed
  network_acquire
  gateway_built
  caliper_workloads
  caliper_rounds
  exit 0
fi

if [[ "${1:-all}" == relay-backlog ]]; then
  network_acquire
  gateway_built
  step "relay backlog: ${BENCH_BACKLOG_PACKETS:-128} pings over ${BENCH_BACKLOG_ROUTES:-4} routes sent with no relay running, then drained by one relay with batches (max 32) and with the single path"
  (cd "$REPO" && BENCH_COMMAND="network/scripts/bench.sh relay-backlog" node gateway/dist/bench/relay-backlog.js --routes "${BENCH_BACKLOG_ROUTES:-4}" --packets "${BENCH_BACKLOG_PACKETS:-128}")
  exit 0
fi

if [[ "${1:-all}" == relay ]]; then
  network_acquire
  gateway_built
  BENCH_COMMAND="${BENCH_COMMAND:-network/scripts/bench.sh relay}" relay_throughput
  exit 0
fi

if [[ "${1:-all}" == share ]]; then
  network_acquire
  gateway_built
  share_latency
  exit 0
fi

if [[ "${1:-all}" == api ]]; then
  network_acquire
  gateway_built
  api_load
  summary_api
  exit 0
fi

verification
caliper_installed
network_acquire
gateway_built
share_latency
relay_throughput
BENCH_COMMAND="make bench" api_load
summary
# Caliper's figures go to caliper.json, not into the summary: after it, so that they cannot cost it.
caliper_workloads
caliper_rounds
