#!/usr/bin/env bash
# Prepares a build context for fabric-samples' `./network.sh deployCCAAS`: OUTDIR/Dockerfile,
# OUTDIR/app/ccaas-entry.js, OUTDIR/app/chaincode/{dist,package.json} and the chaincode's
# production node_modules (the same staging the docker runtime uses).
#
#   prepare-ccaas.sh OUTDIR
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../../.." && pwd)
out=${1:?usage: prepare-ccaas.sh OUTDIR}
[[ -f $REPO/chaincode/dist/index.js ]] || { echo "error: compile the chaincode first (make build)" >&2; exit 1; }
rm -rf "$out"
mkdir -p "$out"
out=$(cd "$out" && pwd)
node "$REPO/network/docker/stage-chaincode.js" "$REPO" "$REPO/chaincode" "$out/app" >/dev/null
install -m 0644 "$HERE/ccaas-entry.js" "$out/app/ccaas-entry.js"
install -m 0644 "$HERE/Dockerfile" "$out/Dockerfile"
echo "$out"
