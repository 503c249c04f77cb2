# shellcheck shell=bash disable=SC2034
# Shared by samples-up.sh, samples-down.sh and story.sh (sourced): where fabric-samples is, where
# the state of a samples run lives, and the names fabric-samples' test-network uses.
#
# State folder: ${MEDBRIDGE_RUNTIME:-<repo>/.runtime}/fabric-samples-test-network, named after the
# network the connection profiles name, so the medbridge gateway keeps its record stores there too.
#   samples.env     FABRIC_SAMPLES, its commit, what samples-up set up (tags, compose install)
#   before/         what existed before samples-up (containers, networks, volumes, images, files)
#   ccaas/          the deployCCAAS build context        profiles/   org1.json, org2.json
#   logs/           output of each network.sh call      gateway/ keys/  the CLI story's state

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
# shellcheck source=network/scripts/lib/log.sh
source "$REPO/network/scripts/lib/log.sh"
# shellcheck source=network/docker/engine.sh
source "$REPO/network/docker/engine.sh"

# One collation for every sorted list compared with comm.
export LC_ALL=C

SAMPLES_NETWORK=fabric-samples-test-network
STATE="${MEDBRIDGE_RUNTIME:-$REPO/.runtime}/$SAMPLES_NETWORK"
STATE_FILE="$STATE/samples.env"
CHANNEL=${SAMPLES_CHANNEL:-mychannel}
CC_NAME=medbridge
# Host ports the test-network publishes (orderer, orderer admin, peers, operations).
SAMPLES_PORTS=(7050 7053 7051 9051 9443 9444 9445)

# samples_dir: $FABRIC_SAMPLES checked, absolute.
samples_dir() {
  [[ -n ${FABRIC_SAMPLES:-} ]] || die "set FABRIC_SAMPLES=<path to a fabric-samples checkout> (make samples-up FABRIC_SAMPLES=...)"
  [[ -x $FABRIC_SAMPLES/test-network/network.sh ]] || die "$FABRIC_SAMPLES/test-network/network.sh not found: is FABRIC_SAMPLES a fabric-samples checkout?"
  (cd "$FABRIC_SAMPLES" && pwd)
}

samples_commit() { git -C "$1" rev-parse --short=12 HEAD 2>/dev/null || echo "unknown (not a git checkout)"; }

# elapsed START_MS: "12.3 s"
elapsed() { local ms=$(( $(now_ms) - $1 )); printf '%d.%d s' $((ms / 1000)) $((ms % 1000 / 100)); }

# The files a run may create in fabric-samples, compared against before/files.
list_files() { (cd "$1" && find . -path ./.git -prune -o -print | LC_ALL=C sort); }
