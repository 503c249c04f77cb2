# The hosts of make test-multihost for FABRIC_RUNTIME=docker: one user-defined docker bridge
# network, and per host one small container that holds the host's address and names (sourced by
# multihost.sh). The interface is the one written at the top of lib/hosts-native.sh:
#   mh_prepare        root, ip, the Docker engine (network/docker/engine.sh) and the local node image
#   mh_subnet         $MEDBRIDGE_MULTIHOST_DOCKER_SUBNET (default 10.78.0.0/24): the hosts keep the
#                     host part of their described address (10.77.0.11 -> 10.78.0.11), so the
#                     native variant's 10.77.0.0/24 is never routed on this machine
#   mh_add_medium     `docker network create --internal` $DOCKER_NET on that subnet, bridge
#                     interface $DOCKER_BRIDGE: no gateway route in the containers, nothing NATed
#                     or forwarded off the bridge
#   mh_add_host KEY ADDRESS INDEX NAME...
#                     container `mbmh-KEY` (the node image, one idle node process) on $DOCKER_NET
#                     with --ip ADDRESS and a network alias per NAME, so docker's embedded DNS
#                     answers every name of the host; its network namespace is given the name
#                     `mbmh-KEY` too (`ip netns attach`), so `ip netns exec mbmh-KEY` runs a host
#                     process (the CLI, a relay, the test suite) on that host, as on the native
#                     variant. The docker runtime starts every node of that address with
#                     `--network container:mbmh-KEY` (lib/runtime-docker.sh): an org's peers and
#                     chaincode server share its one address, as the containers of a pod do
#   mh_resolve        host processes (`ip netns exec`) resolve by the same hosts data, as
#                     /etc/netns/<ns>/hosts, and their resolv.conf names 127.0.0.1, where nothing
#                     listens: docker's embedded DNS answers the hosts' names but lets every other
#                     query (gRPC's TXT look-up of a service config, an unknown name) time out
#                     after 10-24 s on an internal network; this way they fail at once, as on the
#                     native variant
#   mh_remove_all     the holders' namespaces' names, processes left in them, the holder
#                     containers and the network (all found by the label medbridge.multihost=$STATE)
#   mh_show           the holder containers

DOCKER_NET=mbmh-net
DOCKER_BRIDGE=mbmhd0
DOCKER_SUBNET=${MEDBRIDGE_MULTIHOST_DOCKER_SUBNET:-10.78.0.0/24}

# shellcheck source=../../docker/engine.sh
source "$REPO/network/docker/engine.sh"

mh_prepare() {
  [[ $(id -u) == 0 ]] || die "the multi-host docker variant needs root (ip netns attach, /etc/netns)"
  command -v ip >/dev/null 2>&1 || die "ip (iproute2) is missing: apt-get install iproute2"
  ensure_docker
  local lines
  lines=$("$REPO/network/docker/images.sh" --env) || die "could not build the container images (network/docker/images.sh)"
  HOLDER_IMAGE=$(sed -n 's/^CHAINCODE_IMAGE=//p' <<<"$lines")
  [[ -n $HOLDER_IMAGE ]] || die "images.sh named no node image: $lines"
}

mh_subnet() { echo "$DOCKER_SUBNET"; }

our_label() { echo "medbridge.multihost=$STATE"; }

mh_add_medium() {
  if docker network inspect "$DOCKER_NET" >/dev/null 2>&1; then
    [[ $(docker network inspect -f '{{index .Labels "medbridge.multihost"}}' "$DOCKER_NET") == "$STATE" ]] ||
      die "a docker network $DOCKER_NET exists that this run did not make (docker network rm $DOCKER_NET if it is a leftover)"
    info "docker network $DOCKER_NET exists"
    return
  fi
  info "docker network $DOCKER_NET ($DOCKER_SUBNET, bridge $DOCKER_BRIDGE, internal)"
  docker network create --driver bridge --internal --subnet "$DOCKER_SUBNET" \
    -o com.docker.network.bridge.name="$DOCKER_BRIDGE" --label "$(our_label)" "$DOCKER_NET" >/dev/null
}

# mh_add_host KEY ADDRESS INDEX NAME...: the holder container and its named network namespace.
mh_add_host() {
  local key=$1 addr=$2 ns="$NS_PREFIX$1" pid name aliases=()
  shift 3
  for name in "$@"; do aliases+=(--network-alias "$name"); done
  if ! docker inspect "$ns" >/dev/null 2>&1; then
    # --init: TERM stops the idle node process at once when the container is removed.
    docker run -d --pull never --init --name "$ns" --network "$DOCKER_NET" --ip "$addr" "${aliases[@]}" \
      --label "$(our_label)" --label "medbridge.host=$key" --log-opt max-size=1m \
      "$HOLDER_IMAGE" node -e 'setInterval(() => {}, 2 ** 30)' >/dev/null ||
      die "docker run of the holder of $key ($addr) failed"
  fi
  pid=$(docker inspect -f '{{.State.Pid}}' "$ns")
  [[ $pid =~ ^[1-9][0-9]*$ ]] || die "the holder container $ns does not run"
  if ! ip netns list | grep -q "^$ns\b"; then
    ip netns attach "$ns" "$pid"
    echo "$addr $ns" >>"$STATE/namespaces"
    echo "$addr $ns" >>"$MEDBRIDGE_NETNS_MAP"
  fi
  info "$ns: $addr on $DOCKER_NET (container $ns, pid $pid)${1:+, names $*}"
}

mh_resolve() {
  local ns
  while read -r _ ns; do
    mkdir -p "/etc/netns/$ns"
    cp "$STATE/hosts" "/etc/netns/$ns/hosts"
    echo 'nameserver 127.0.0.1' >"/etc/netns/$ns/resolv.conf"
  done <"$STATE/namespaces"
  info "names: network aliases (docker's embedded DNS) for containers; $STATE/hosts for host processes"
}

mh_remove_all() {
  local ns ids
  if ! command -v docker >/dev/null 2>&1 || ! docker_answers; then
    warn "no Docker engine answers: no containers or networks to remove"
  else
    ids=$(docker ps -aq --filter "label=$(our_label)" | tr '\n' ' ')
    if [[ -n ${ids// /} ]]; then
      # shellcheck disable=SC2086 # one word per container
      info "removing the host containers $(docker inspect -f '{{.Name}}' $ids | tr -d / | tr '\n' ' ')"
      # shellcheck disable=SC2086
      docker rm -fv $ids >/dev/null
    fi
  fi
  if [[ -f $STATE/namespaces ]]; then
    while read -r _ ns; do
      # Host processes started in a namespace made here (a relay of a failed suite) outlive its container.
      ip netns pids "$ns" 2>/dev/null | xargs -r kill -KILL 2>/dev/null || true
      if ip netns del "$ns" 2>/dev/null; then info "removed namespace name $ns"; fi
      rm -rf "/etc/netns/$ns"
    done < <(tac "$STATE/namespaces")
  fi
  if command -v docker >/dev/null 2>&1 && docker_answers; then
    ids=$(docker network ls -q --filter "label=$(our_label)" | tr '\n' ' ')
    # shellcheck disable=SC2086
    [[ -z ${ids// /} ]] || { info "removing docker network $DOCKER_NET"; docker network rm $ids >/dev/null; }
  fi
}

mh_show() {
  docker ps -a --filter "label=$(our_label)" --format '  {{.Names}}\t{{.Status}}' 2>/dev/null
  ip netns list | grep "^$NS_PREFIX" || echo "  no namespaces"
}
