#!/usr/bin/env bash
# Container images for FABRIC_RUNTIME=docker, built on this machine; nothing is ever pulled.
#
#   images.sh            build what is missing or stale, print the image names (KEY=image lines)
#   images.sh --env      the same lines only, no build progress when everything is current
#   images.sh --remove   remove the local medbridge/* images this script built
#   images.sh --official-tags
#                        also give the peer and orderer images the names fabric-samples' compose
#                        files use (hyperledger/fabric-peer:latest, hyperledger/fabric-orderer:latest);
#                        prints TAGGED=<name> for each tag it set. A name that already holds an
#                        image not built here (e.g. a pulled official image) is left alone (KEPT=).
#   images.sh --remove-official-tags NAME...
#                        remove those tags again, each only while it still names an image built here
#
# peer / orderer: the official hyperledger/fabric-peer:2.5.0 / fabric-orderer:2.5.0 when they are
# present locally (docker image inspect; e.g. loaded with `docker load`), otherwise
# medbridge/fabric-{peer,orderer}:2.5.0-<commit>: FROM scratch with the binary that
# network/scripts/fabric-bin.sh built, exactly the shared libraries `ldd` lists, Fabric's default
# core.yaml / orderer.yaml in /etc/hyperledger/fabric (FABRIC_CFG_PATH) and, in the peer, the
# static chaincode-as-a-service builder (network/builders/ccaas-static) at
# /opt/hyperledger/ccaas_builder, where the official image has its own.
# chaincode: medbridge/node:<node version>: FROM scratch with this machine's node binary, its
# ldd libraries and those of the native add-ons in node_modules (the same glibc), and the CA
# certificates; the compiled chaincode and its node_modules are bind-mounted at run time.
#
# Each image carries the hash of its build context (label medbridge.context); an image whose
# context did not change is not rebuilt.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
# shellcheck source=../scripts/lib/log.sh
source "$REPO/network/scripts/lib/log.sh"
# shellcheck source=engine.sh
source "$HERE/engine.sh"

FABRIC_VERSION_LABEL=2.5.0
OFFICIAL_PEER=hyperledger/fabric-peer:$FABRIC_VERSION_LABEL
OFFICIAL_ORDERER=hyperledger/fabric-orderer:$FABRIC_VERSION_LABEL

image_exists() { docker image inspect "$1" >/dev/null 2>&1; }

# add_with_libs ROOTFS FILE DEST: FILE at DEST in ROOTFS plus every library ldd resolves for it,
# at the same absolute paths (the dynamic loader included).
add_with_libs() {
  local root=$1 file=$2 dest=$3
  install -D -m 0755 "$file" "$root$dest"
  add_libs "$root" "$file"
}

# add_libs ROOTFS FILE: every library ldd resolves for FILE, at the same absolute paths.
add_libs() {
  local root=$1 file=$2 lib
  while read -r lib; do
    [[ -n $lib ]] || continue
    mkdir -p "$root$(dirname "$lib")"
    cp -L "$lib" "$root$lib"
  done < <(ldd "$file" 2>/dev/null | awk '/=> \// {print $3} /^\t\// {print $1}')
}

base_rootfs() {
  local root=$1
  mkdir -p "$root/etc" "$root/tmp"
  chmod 1777 "$root/tmp"
  printf 'root:x:0:0:root:/root:/sbin/nologin\n' >"$root/etc/passwd"
  printf 'root:x:0:\n' >"$root/etc/group"
  printf 'hosts: files dns\n' >"$root/etc/nsswitch.conf"
}

# build_image TAG CONTEXT KIND: docker build of CONTEXT unless TAG exists with the same context hash.
build_image() {
  local tag=$1 ctx=$2 kind=$3 hash have start
  hash=$(cd "$ctx" && tar --sort=name --mtime='@0' --owner=0 --group=0 --numeric-owner -cf - . | sha256sum | cut -c1-16)
  have=$(docker image inspect -f '{{index .Config.Labels "medbridge.context"}}' "$tag" 2>/dev/null || true)
  if [[ $have == "$hash" ]]; then
    [[ -n ${QUIET:-} ]] || info "$tag is current (context $hash)"
    return
  fi
  step "docker: building $tag ($kind, context $(du -sh "$ctx" | cut -f1))"
  start=$(now_ms)
  docker build --pull=false --no-cache=false -q \
    --label "medbridge.context=$hash" --label "medbridge.image=$kind" -t "$tag" "$ctx" >"$ctx.log" 2>&1 ||
    die_with_log "docker build of $tag failed" "$ctx.log"
  info "built $tag in $(( ($(now_ms) - start) / 1000 )).$(( ($(now_ms) - start) % 1000 / 100 )) s ($(docker image inspect -f '{{.Size}}' "$tag" | awk '{printf "%d MB", $1/1048576}'))"
}

fabric_image() {
  local kind=$1 tag=$2 work=$3 root cfg cmd
  root="$work/$kind/rootfs"
  rm -rf "$work/$kind"
  base_rootfs "$root"
  add_with_libs "$root" "$FABRIC_BIN/$kind" "/usr/local/bin/$kind"
  if [[ $kind == peer ]]; then
    cfg=core.yaml cmd='["peer","node","start"]'
    mkdir -p "$root/opt/hyperledger/ccaas_builder/bin"
    (cd "$REPO/network/builders/ccaas-static" && CGO_ENABLED=0 go build -trimpath -ldflags '-s -w' \
      -o "$root/opt/hyperledger/ccaas_builder/bin/detect" .) || die "building the static ccaas builder failed (Go needed)"
    cp "$root/opt/hyperledger/ccaas_builder/bin/detect" "$root/opt/hyperledger/ccaas_builder/bin/build"
    cp "$root/opt/hyperledger/ccaas_builder/bin/detect" "$root/opt/hyperledger/ccaas_builder/bin/release"
    mkdir -p "$root/var/hyperledger/production"
  else
    cfg=orderer.yaml cmd='["orderer"]'
    mkdir -p "$root/var/hyperledger/production/orderer"
  fi
  install -D -m 0644 "$FABRIC_SAMPLECONFIG/$cfg" "$root/etc/hyperledger/fabric/$cfg"
  cat >"$work/$kind/Dockerfile" <<DOCKERFILE
FROM scratch
COPY rootfs/ /
ENV PATH=/usr/local/bin FABRIC_CFG_PATH=/etc/hyperledger/fabric
LABEL org.opencontainers.image.title="medbridge fabric-$kind" org.opencontainers.image.version="$FABRIC_VERSION_LABEL-$FABRIC_COMMIT"
CMD $cmd
DOCKERFILE
  build_image "$tag" "$work/$kind" "fabric-$kind"
}

node_image() {
  local tag=$1 work=$2 root node
  node=$(command -v node) || die "node is not installed"
  node=$(readlink -f "$node")
  root="$work/node/rootfs"
  rm -rf "$work/node"
  base_rootfs "$root"
  add_with_libs "$root" "$node" /usr/bin/node
  # Native add-ons in node_modules (the chaincode's BLS backend, @chainsafe/blst's prebuilt
  # linux-x64-gnu binary) load this machine's glibc libraries beyond node's own (librt).
  local addon
  while IFS= read -r addon; do
    add_libs "$root" "$addon"
  done < <(find "$REPO/node_modules" -name '*.node' -type f 2>/dev/null | sort)
  if [[ -f /etc/ssl/certs/ca-certificates.crt ]]; then
    install -D -m 0644 /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/certs/ca-certificates.crt"
  fi
  cat >"$work/node/Dockerfile" <<DOCKERFILE
FROM scratch
COPY rootfs/ /
ENV PATH=/usr/bin NODE_ENV=production SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt
LABEL org.opencontainers.image.title="medbridge node" org.opencontainers.image.version="$NODE_VERSION"
CMD ["node","--version"]
DOCKERFILE
  build_image "$tag" "$work/node" node
}

resolve_images() {
  local envlines work
  envlines=$(MB_QUIET=1 "$REPO/network/scripts/fabric-bin.sh" --env) || die "could not provide the Fabric binaries"
  FABRIC_BIN=$(sed -n 's/^FABRIC_BIN=//p' <<<"$envlines")
  FABRIC_SAMPLECONFIG=$(sed -n 's/^FABRIC_SAMPLECONFIG=//p' <<<"$envlines")
  FABRIC_COMMIT=$(awk '$1=="require" && $2=="github.com/hyperledger/fabric" {print $3}' "$REPO/network/fabric/go.mod")
  FABRIC_COMMIT=${FABRIC_COMMIT##*-}
  NODE_VERSION=$(node -p 'process.versions.node')
  work="${MEDBRIDGE_RUNTIME:-$REPO/.runtime}/docker-build"
  mkdir -p "$work"
  exec 7>"$work/.lock"
  flock 7
  if image_exists "$OFFICIAL_PEER"; then
    PEER_IMAGE=$OFFICIAL_PEER
    [[ -n ${QUIET:-} ]] || info "using the official $OFFICIAL_PEER found locally"
  else
    PEER_IMAGE=medbridge/fabric-peer:$FABRIC_VERSION_LABEL-$FABRIC_COMMIT
    fabric_image peer "$PEER_IMAGE" "$work"
  fi
  if image_exists "$OFFICIAL_ORDERER"; then
    ORDERER_IMAGE=$OFFICIAL_ORDERER
    [[ -n ${QUIET:-} ]] || info "using the official $OFFICIAL_ORDERER found locally"
  else
    ORDERER_IMAGE=medbridge/fabric-orderer:$FABRIC_VERSION_LABEL-$FABRIC_COMMIT
    fabric_image orderer "$ORDERER_IMAGE" "$work"
  fi
  CHAINCODE_IMAGE=medbridge/node:$NODE_VERSION
  node_image "$CHAINCODE_IMAGE" "$work"
  exec 7>&-
}

OFFICIAL_LATEST=(hyperledger/fabric-peer:latest hyperledger/fabric-orderer:latest)

built_here() { [[ -n $(docker image inspect -f '{{index .Config.Labels "medbridge.image"}}' "$1" 2>/dev/null) ]]; }

# official_tags: after resolve_images; a tag only, never a pull (docker tag of a local image).
official_tags() {
  local name src
  for name in "${OFFICIAL_LATEST[@]}"; do
    case $name in
      *fabric-peer:*) src=$PEER_IMAGE ;;
      *) src=$ORDERER_IMAGE ;;
    esac
    if image_exists "$name" && ! built_here "$name"; then
      [[ -n ${QUIET:-} ]] || info "$name exists and was not built here: keeping it"
      echo "KEPT=$name"
      continue
    fi
    [[ $src == "$name" ]] && continue
    docker tag "$src" "$name"
    [[ -n ${QUIET:-} ]] || info "tagged $src as $name"
    echo "TAGGED=$name"
  done
}

remove_official_tags() {
  local name
  for name in "$@"; do
    [[ " ${OFFICIAL_LATEST[*]} " == *" $name "* ]] || die "$name is not one of the tags --official-tags sets"
    if ! image_exists "$name"; then continue; fi
    if built_here "$name"; then
      docker rmi "$name" >/dev/null
      info "removed the tag $name"
    else
      warn "$name now names an image not built here; leaving it"
    fi
  done
}

remove_images() {
  local ids
  ids=$(docker images -q --filter 'label=medbridge.image' | sort -u)
  if [[ -z $ids ]]; then info "no medbridge images"; return; fi
  # shellcheck disable=SC2086
  docker rmi $ids
}

main() {
  local official=''
  ensure_docker
  case ${1:-} in
    --remove) remove_images; return ;;
    --remove-official-tags) shift; remove_official_tags "$@"; return ;;
    --official-tags) official=1 ;;
    --env) QUIET=1 ;;
    "") ;;
    *) die "usage: $0 [--env|--remove|--official-tags|--remove-official-tags NAME...]" ;;
  esac
  local start
  start=$(now_ms)
  resolve_images
  [[ -n ${QUIET:-} ]] || step "docker: images ready in $(( ($(now_ms) - start) / 1000 )).$(( ($(now_ms) - start) % 1000 / 100 )) s"
  printf 'PEER_IMAGE=%s\nORDERER_IMAGE=%s\nCHAINCODE_IMAGE=%s\n' "$PEER_IMAGE" "$ORDERER_IMAGE" "$CHAINCODE_IMAGE"
  [[ -z $official ]] || official_tags
}

main "$@"
