#!/usr/bin/env bash
# make soak / make test-soak: the chaos soak (network/RELIABILITY.md) on a leased network (reused
# when it runs, otherwise started and stopped again at the end, as the tests lease theirs).
# Settings from the environment: SOAK_SEED, SOAK_PACKETS, SOAK_MINUTES, SOAK_RATE, SOAK_WORKERS,
# SOAK_DRAIN_MINUTES, SOAK_FAULTS, SOAK_NET2 (gateway/src/soak/options.ts). With SOAK_NET2=1 (the
# default) the lease is on net1 and net2 (chain-c). Exit 1 on a violation, 2 when
# the soak could not run; the seed and the replay command are printed either way.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
# shellcheck source=lib/log.sh
source "$HERE/lib/log.sh"
# shellcheck source=lib/network-lease.sh
source "$HERE/lib/network-lease.sh"

if [[ ${SOAK_NET2:-1} != 0 ]]; then export NETWORKS=net1,net2; fi

network_acquire
step "soak: compile"
(cd "$REPO" && npx tsc -b chaincode gateway)
step "soak: load, faults, drain, check"
t0=$(now_ms)
rc=0
(cd "$REPO" && node gateway/dist/soak/main.js) || rc=$?
info "soak: $(( ($(now_ms) - t0) / 1000 )) s, exit $rc"
exit "$rc"
