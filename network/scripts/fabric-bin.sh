#!/usr/bin/env bash
# Provides the Fabric binaries and their default configs (core.yaml, orderer.yaml).
#
#   fabric-bin.sh            build or reuse, print the bin directory on stdout
#   fabric-bin.sh --config   same, but print the sample config directory
#   fabric-bin.sh --env      print FABRIC_BIN=... and FABRIC_SAMPLECONFIG=... lines
#
# FABRIC_BIN=<dir> with peer, orderer, configtxgen, osnadmin, cryptogen (and configtxlator)
# wins over everything. Otherwise the commands are built from the Fabric module pinned in
# network/fabric/go.mod, with the patches of network/fabric/patches (README.md there) applied by a
# copy of the module, into ${XDG_CACHE_HOME:-~/.cache}/medbridge/fabric/<commit>-<patch id>/, once.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib/log.sh
source "$HERE/lib/log.sh"
MODULE_DIR=$(cd "$HERE/../fabric" && pwd)
PATCH_DIR=$MODULE_DIR/patches
TOOLS=(peer orderer configtxgen osnadmin cryptogen configtxlator)
REQUIRED=(peer orderer configtxgen osnadmin cryptogen)
FABRIC_VERSION_LABEL=2.5.0

# The pseudo-version in go.mod names the commit: v1.4.0-rc1.0.<date>-<12 hex>.
read_pin() {
  MODULE_VERSION=$(awk '$1=="require" && $2=="github.com/hyperledger/fabric" {print $3}' "$MODULE_DIR/go.mod")
  [[ -n $MODULE_VERSION ]] || die "no github.com/hyperledger/fabric requirement in $MODULE_DIR/go.mod"
  FABRIC_COMMIT=${MODULE_VERSION##*-}
  # The patch id covers the patch files and the rewrite rules below (replace_once and patched_module).
  PATCH_ID=$( { cat "$PATCH_DIR"/*; declare -f replace_once patched_module; } | sha256sum | cut -c1-8)
  CACHE_DIR=${MEDBRIDGE_FABRIC_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/medbridge/fabric}/$FABRIC_COMMIT-$PATCH_ID
}

# replace_once FILE OLD NEW: literal substitution of the one line that equals OLD (after its
# indentation); fails unless exactly one line matches.
replace_once() {
  python3 - "$@" <<'PY'
import sys
path, old, new = sys.argv[1:4]
lines = open(path).read().split("\n")
hits = [i for i, l in enumerate(lines) if l.strip() == old]
if len(hits) != 1:
    sys.exit(f"{path}: expected exactly one line '{old}', found {len(hits)}")
i = hits[0]
lines[i] = lines[i][: len(lines[i]) - len(lines[i].lstrip())] + new
sys.stdout.write("\n".join(lines))
PY
}

# patched_module SRC DIR: a copy of the Fabric module at SRC with the patches applied, in DIR/src,
# and a build module in DIR/mod (network/fabric's go.mod and go.sum, the copy replacing the
# module); prints DIR/mod. The Go module cache itself is never modified.
patched_module() {
  local src=$1 dir=$2 pkg=orderer/consensus/etcdraft
  rm -rf "$dir" && mkdir -p "$dir/mod"
  cp -r "$src" "$dir/src" && chmod -R u+w "$dir/src"
  cp "$PATCH_DIR/etcdraft_handover.go" "$dir/src/$pkg/etcdraft_handover.go"
  replace_once "$src/$pkg/node.go" 'n.chain.applyC <- apply{rd.CommittedEntries, rd.SoftState}' 'handOver(n, n.chain.applyC, apply{rd.CommittedEntries, rd.SoftState})' >"$dir/node.go.1" || return 1
  replace_once "$dir/node.go.1" 'n.chain.snapC <- &rd.Snapshot' 'handOver(n, n.chain.snapC, &rd.Snapshot)' >"$dir/src/$pkg/node.go" || return 1
  rm "$dir/node.go.1"
  cp "$MODULE_DIR/go.mod" "$MODULE_DIR/go.sum" "$MODULE_DIR/tools.go" "$dir/mod/"
  printf '\nreplace github.com/hyperledger/fabric => %s\n' "$dir/src" >>"$dir/mod/go.mod"
  echo "$dir/mod"
}

module_src() {
  (cd "$MODULE_DIR" && go mod download -json github.com/hyperledger/fabric 2>/dev/null | awk -F'"' '/"Dir":/ {print $4}')
}

has_tools() {
  local dir=$1 t
  for t in "${REQUIRED[@]}"; do [[ -x $dir/$t ]] || return 1; done
}

require_go() {
  command -v go >/dev/null 2>&1 || die "Go is not installed (needed to build Fabric $FABRIC_VERSION_LABEL from source).
  Install Go >= 1.20 (https://go.dev/dl/ or 'apt-get install golang'), or set FABRIC_BIN=<dir> to existing Fabric binaries."
}

build_binaries() {
  local bin=$CACHE_DIR/bin log=$CACHE_DIR/build.log pkgs=() t start src mod
  require_go
  mkdir -p "$bin"
  for t in "${TOOLS[@]}"; do pkgs+=("github.com/hyperledger/fabric/cmd/$t"); done
  src=$(module_src)
  [[ -n $src && -d $src/orderer ]] || die "cannot find the Fabric module in the Go module cache (go mod download github.com/hyperledger/fabric failed)"
  mod=$(patched_module "$src" "$CACHE_DIR/build") || die "the patches of $PATCH_DIR do not apply to $MODULE_VERSION"
  step "building Fabric $FABRIC_VERSION_LABEL ($MODULE_VERSION, patches $PATCH_ID) into $bin (first time only, ~2 min on 2 cores)"
  start=$(now_ms)
  if ! (cd "$mod" && go build -trimpath -o "$bin/" \
        -ldflags "-X github.com/hyperledger/fabric/common/metadata.Version=$FABRIC_VERSION_LABEL -X github.com/hyperledger/fabric/common/metadata.CommitSHA=$FABRIC_COMMIT-patched-$PATCH_ID" \
        "${pkgs[@]}") >"$log" 2>&1; then
    die_with_log "building the Fabric binaries failed (go $(go env GOVERSION)); full log: $log" "$log" 30
  fi
  has_tools "$bin" || die_with_log "the build finished but binaries are missing in $bin" "$log"
  info "built in $(( ($(now_ms) - start) / 1000 )) s"
  rm -rf "$CACHE_DIR/build"
  touch "$bin/.complete"
}

# The sample configs come from the very module the binaries are built from.
sample_config() {
  local dst=$CACHE_DIR/config src
  if [[ -f $dst/core.yaml && -f $dst/orderer.yaml ]]; then return; fi
  require_go
  src=$(module_src)
  [[ -n $src && -f $src/sampleconfig/core.yaml ]] || die "cannot find Fabric's sampleconfig in the Go module cache (go mod download github.com/hyperledger/fabric failed)"
  step "taking core.yaml and orderer.yaml from $src/sampleconfig"
  mkdir -p "$dst"
  install -m 0644 "$src/sampleconfig/core.yaml" "$src/sampleconfig/orderer.yaml" "$dst/"
}

resolve() {
  read_pin
  if [[ -n ${FABRIC_BIN:-} ]]; then
    has_tools "$FABRIC_BIN" || die "FABRIC_BIN=$FABRIC_BIN lacks one of: ${REQUIRED[*]}"
    BIN_DIR=$(cd "$FABRIC_BIN" && pwd)
    # Release tarballs ship config/ beside bin/.
    if [[ -z ${FABRIC_SAMPLECONFIG:-} && -f $BIN_DIR/../config/core.yaml ]]; then
      FABRIC_SAMPLECONFIG=$(cd "$BIN_DIR/../config" && pwd)
    fi
  else
    mkdir -p "$CACHE_DIR"
    exec 9>"$CACHE_DIR/.lock"
    flock 9   # two concurrent `make` runs build once
    if [[ -f $CACHE_DIR/bin/.complete ]] && has_tools "$CACHE_DIR/bin"; then
      [[ -n ${MB_QUIET:-} ]] || info "reusing Fabric binaries in $CACHE_DIR/bin"
    else
      build_binaries
    fi
    BIN_DIR=$CACHE_DIR/bin
  fi
  if [[ -z ${FABRIC_SAMPLECONFIG:-} ]]; then
    sample_config
    FABRIC_SAMPLECONFIG=$CACHE_DIR/config
  fi
}

main() {
  resolve
  case ${1:-} in
    "") echo "$BIN_DIR" ;;
    --config) echo "$FABRIC_SAMPLECONFIG" ;;
    --env) printf 'FABRIC_BIN=%s\nFABRIC_SAMPLECONFIG=%s\n' "$BIN_DIR" "$FABRIC_SAMPLECONFIG" ;;
    *) die "usage: $0 [--config|--env]" ;;
  esac
}

main "$@"
