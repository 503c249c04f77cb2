#!/usr/bin/env bash
# Prepares a build context for fabric-samples' `./network.sh deployCCAAS`: OUTDIR/Dockerfile,
# OUTDIR/app/ccaas-entry.js, OUTDIR/app/chaincode/{dist,package.json} and the chaincode's
# production node_modules (the same staging the docker runtime uses).
#
#   prepare-ccaas.sh OUTDIR
#
# deployCCAAS builds the context without build arguments, so the Dockerfile's default base image
# is the one used: it is set here to an image that exists locally (nothing is ever pulled), the
# first of $NODE_IMAGE, medbridge/node:<this node's version> (`make images`) and
# node:20-bookworm-slim. When none exists (or no Docker engine answers) the default stays
# node:20-bookworm-slim, which a machine with registry access pulls.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../../.." && pwd)
FALLBACK_IMAGE=node:20-bookworm-slim
out=${1:?usage: prepare-ccaas.sh OUTDIR}
[[ -f $REPO/chaincode/dist/index.js ]] || { echo "error: compile the chaincode first (make build)" >&2; exit 1; }

local_image() { command -v docker >/dev/null 2>&1 && timeout 10 docker image inspect "$1" >/dev/null 2>&1; }

base_image() {
  local candidate
  if [[ -n ${NODE_IMAGE:-} ]]; then
    local_image "$NODE_IMAGE" || echo "note: NODE_IMAGE=$NODE_IMAGE is not a local image; docker build will try to pull it" >&2
    echo "$NODE_IMAGE"
    return
  fi
  for candidate in "medbridge/node:$(node -p 'process.versions.node')" "$FALLBACK_IMAGE"; do
    if local_image "$candidate"; then echo "$candidate"; return; fi
  done
  echo "note: no local node image (run \`make images\` for medbridge/node); the Dockerfile keeps $FALLBACK_IMAGE" >&2
  echo "$FALLBACK_IMAGE"
}

base=$(base_image)
rm -rf "$out"
mkdir -p "$out"
out=$(cd "$out" && pwd)
node "$REPO/network/docker/stage-chaincode.js" "$REPO" "$REPO/chaincode" "$out/app" >/dev/null
install -m 0644 "$HERE/ccaas-entry.js" "$out/app/ccaas-entry.js"
sed "s#^ARG NODE_IMAGE=.*#ARG NODE_IMAGE=$base#" "$HERE/Dockerfile" >"$out/Dockerfile"
grep -qx "ARG NODE_IMAGE=$base" "$out/Dockerfile" || { echo "error: could not set the base image in $out/Dockerfile" >&2; exit 1; }
echo "base image: $base" >&2
echo "$out"
