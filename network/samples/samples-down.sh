#!/usr/bin/env bash
# make samples-down: removes what samples-up made, compared with what it recorded before it
# started (never `network.sh down`):
#   1. containers created since then on the fabric_test network or named *_medbridge_ccaas
#   2. the fabric_test network and compose volumes created since then
#   3. the medbridge_ccaas_image image deployCCAAS built, the hyperledger/*:latest tags samples-up set
#   4. every path under FABRIC_SAMPLES that did not exist before (crypto material, channel
#      artifacts, the package, log.txt, bin/ and config/ when samples-up made them)
#   5. the state folder (profiles, the CLI story's keys and record stores)
# Kept on purpose: the medbridge/* images (`make images` builds them for the docker runtime too),
# a compose tool samples-up installed, the Docker engine.
set -euo pipefail
# shellcheck source=network/samples/common.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/common.sh"

new_since() { comm -13 "$1" <(sort -u); }

containers() {
  step "samples: containers"
  local id name nets ids=()
  while read -r id; do
    [[ -n $id ]] || continue
    name=$(docker inspect -f '{{.Name}}' "$id" 2>/dev/null) || continue
    nets=$(docker inspect -f '{{range $k, $v := .NetworkSettings.Networks}}{{$k}} {{end}}' "$id" 2>/dev/null || true)
    if [[ " $nets " == *" fabric_test "* || $name == *"_${CC_NAME}_ccaas" ]]; then
      ids+=("$id")
      info "removing ${name#/}"
    fi
  done < <(docker ps -aq --no-trunc | new_since "$BEFORE/containers")
  ((${#ids[@]} == 0)) || docker rm -f "${ids[@]}" >/dev/null
  REMOVED+=("${#ids[@]} containers")
}

networks_and_volumes() {
  step "samples: network and volumes"
  local id name n=0 v=0
  while read -r id; do
    [[ -n $id ]] || continue
    name=$(docker network inspect -f '{{.Name}}' "$id" 2>/dev/null) || continue
    [[ $name == fabric_test ]] || continue
    docker network rm "$id" >/dev/null
    info "removed network $name"
    n=$((n + 1))
  done < <(docker network ls -q --no-trunc | new_since "$BEFORE/networks")
  while read -r name; do
    [[ -n $name ]] || continue
    docker volume rm "$name" >/dev/null
    info "removed volume $name"
    v=$((v + 1))
  done < <(docker volume ls -q --filter label=com.docker.compose.project | new_since "$BEFORE/volumes")
  REMOVED+=("$n network" "$v volumes")
}

images() {
  step "samples: images and tags"
  local id n=0
  id=$(docker image inspect -f '{{.Id}}' "${CC_NAME}_ccaas_image:latest" 2>/dev/null || true)
  if [[ -n $id && $id != "$(<"$BEFORE/ccaas-image")" ]]; then
    docker rmi "${CC_NAME}_ccaas_image:latest" >/dev/null
    info "removed ${CC_NAME}_ccaas_image:latest"
    n=$((n + 1))
  fi
  if [[ -n ${OFFICIAL_TAGS:-} ]]; then
    # shellcheck disable=SC2086
    "$REPO/network/docker/images.sh" --remove-official-tags $OFFICIAL_TAGS
    n=$((n + $(wc -w <<<"$OFFICIAL_TAGS")))
  fi
  REMOVED+=("$n images/tags")
}

files() {
  step "samples: files created under $FS"
  local path n=0
  [[ -d $FS ]] || { warn "$FS is gone"; return; }
  # Sorted, a new directory comes before its contents: once it is removed they are gone too.
  while read -r path; do
    [[ -n $path && ( -e $FS/${path#./} || -L $FS/${path#./} ) ]] || continue
    rm -rf "${FS:?}/${path#./}"
    info "removed ${path#./}"
    n=$((n + 1))
  done < <(list_files "$FS" | comm -13 "$BEFORE/files" -)
  REMOVED+=("$n paths")
}

leftovers() {
  local c n v
  c=$(docker ps -aq --filter network=fabric_test | wc -l)
  c=$((c + $(docker ps -aq --filter "name=_${CC_NAME}_ccaas" | wc -l)))
  n=$(docker network ls -q --filter name='^fabric_test$' | wc -l)
  v=$(docker volume ls -q --filter label=com.docker.compose.project | new_since "$BEFORE/volumes" | wc -l)
  info "left: $c test-network containers, $n fabric_test networks, $v new compose volumes"
  ((c + n + v == 0)) || die "samples-down left something behind (see above)"
}

main() {
  local t0
  t0=$(now_ms)
  if [[ ! -f $STATE_FILE ]]; then
    info "no samples run recorded in $STATE; nothing to remove"
    return
  fi
  # shellcheck disable=SC1090
  source "$STATE_FILE"
  FS=$FABRIC_SAMPLES BEFORE=$STATE/before REMOVED=()
  step "samples: removing what samples-up made in $FS (commit $SAMPLES_COMMIT)"
  if [[ ! -f $BEFORE/files ]]; then
    warn "samples-up stopped before it recorded anything; removing its state folder only"
  else
    ensure_docker
    containers
    networks_and_volumes
    images
    files
    leftovers
  fi
  [[ -z ${COMPOSE_INSTALLED:-} ]] || info "kept the $COMPOSE_INSTALLED package samples-up installed (apt-get remove $COMPOSE_INSTALLED to remove it)"
  rm -rf "$STATE"
  step "samples: down in $(elapsed "$t0") (removed ${REMOVED[*]:-nothing})"
}

main "$@"
