# FABRIC_RUNTIME=docker: every orderer, peer and chaincode server runs in its own container.
# Everything else (crypto, configs, channel blocks, joins, packaging, approve/commit, profiles) is
# the same code as for the native runtime: the CLI runs on the host against the same 127.0.0.1
# ports, so profiles, gateway and tests do not change.
#
# The runtime interface (the same functions as lib/runtime-native.sh, where each is described):
#   rt_prepare                        engine up (network/docker/engine.sh), images built or current
#   rt_claim_dir                      writes "docker" to $RT/.medbridge-runtime
#   rt_node_config NAME KIND          Fabric's defaults, set for the builder inside the peer image
#   rt_launch NAME KIND ENVFILE CMD...  `docker run` of KIND's image, CMD's arguments translated
#   rt_is_running NAME                our container (name and runtime-dir label) is running
#   rt_stop NAME...                   docker stop (TERM, KILL after 10 s), log saved, container removed
#   rt_stop_all                       every container, network and volume labelled with $NET and $RT
#   rt_show_nodes NAME...             container, pid and resident memory of its processes
#
# The containers:
#   --network host            listens on the same 127.0.0.1 ports as the native processes; on a
#                             host of make test-multihost (the node's address, NODE_HOST, is listed
#                             in $MEDBRIDGE_NETNS_MAP as `<address> <namespace>`) instead
#                             --network container:<namespace>: the container that holds that
#                             host's address and names on the multi-host docker network
#                             (lib/hosts-docker.sh names it like the namespace)
#   -v $RT:$RT                the runtime dir at the same absolute path (crypto, data, env files);
#                             chaincode servers mount it read-only
#   --env-file nodes/<n>/env  exactly the settings the native runtime passes (orderer_env/peer_env),
#                             FABRIC_CFG_PATH=nodes/<n> included: the node's config is mounted,
#                             for the official images as for ours (see rt_node_config below)
#   --pull never              images are local only (network/docker/images.sh)
#   labels                    medbridge.network=<net>, medbridge.runtime-dir=<RT>, medbridge.node,
#                             medbridge.tier: `down` removes exactly what carries them
# Containers are named medbridge-<net>-<node>; `docker stop/start <name>` works as expected. The
# pid file of a node holds its container id. Chaincode servers run the compiled chaincode staged
# (dist + production node_modules) under $RT/chaincode/<label>/app by
# network/docker/stage-chaincode.js.

# shellcheck source=../../docker/engine.sh
source "$REPO/network/docker/engine.sh"

container_name() { echo "medbridge-$NET-$1"; }

# network_mode NAME: host, or container:<holder> when NAME's address is a multi-host host's.
network_mode() {
  local host=${NODE_HOST[$1]:-} addr ns
  if [[ -n ${MEDBRIDGE_NETNS_MAP:-} && -n $host ]]; then
    [[ -f $MEDBRIDGE_NETNS_MAP ]] || die "MEDBRIDGE_NETNS_MAP=$MEDBRIDGE_NETNS_MAP does not exist (network/scripts/multihost.sh up writes it)"
    while read -r addr ns; do
      if [[ $addr == "$host" ]]; then echo "container:$ns"; return 0; fi
    done <"$MEDBRIDGE_NETNS_MAP"
  fi
  echo host
}

# rt_prepare: engine up and images built/current (once per invocation).
rt_prepare() {
  [[ -n ${DOCKER_READY:-} ]] && return
  ensure_docker
  local lines
  lines=$("$REPO/network/docker/images.sh" --env) || die "could not build the container images (network/docker/images.sh)"
  PEER_IMAGE=$(sed -n 's/^PEER_IMAGE=//p' <<<"$lines")
  ORDERER_IMAGE=$(sed -n 's/^ORDERER_IMAGE=//p' <<<"$lines")
  CHAINCODE_IMAGE=$(sed -n 's/^CHAINCODE_IMAGE=//p' <<<"$lines")
  [[ -n $PEER_IMAGE && -n $ORDERER_IMAGE && -n $CHAINCODE_IMAGE ]] || die "images.sh named no images: $lines"
  info "images: peer $PEER_IMAGE, orderer $ORDERER_IMAGE, chaincode $CHAINCODE_IMAGE"
  DOCKER_READY=1
}

rt_claim_dir() {
  mkdir -p "$RT"
  echo docker >"$RT/.medbridge-runtime"
}

# container_state NAME: "<running> <pid> <runtime-dir label>" of our container, empty if none.
container_state() {
  docker inspect -f '{{.State.Running}} {{.State.Pid}} {{index .Config.Labels "medbridge.runtime-dir"}}' "$(container_name "$1")" 2>/dev/null || true
}

# save_log NAME: the container's output into logs/NAME.log (where the native runtime keeps it,
# and where error messages quote it from).
save_log() {
  mkdir -p "$LOGS"
  docker logs "$(container_name "$1")" >"$LOGS/$1.log" 2>&1 || true
}

rt_is_running() {
  local state running rest
  state=$(container_state "$1")
  [[ -n $state ]] || return 1
  read -r running _ rest <<<"$state"
  [[ $rest == "$RT" ]] || return 1
  [[ $running == true ]] && return 0
  save_log "$1"
  return 1
}

# stage_chaincode: the compiled chaincode and its production dependencies for the current label.
stage_chaincode() {
  local app="$RT/chaincode/$CC_LABEL/app" out
  [[ -f $app/.complete ]] && return
  out=$(node "$REPO/network/docker/stage-chaincode.js" "$REPO" "$(cc_dir)" "$app") || die "staging the chaincode for its container failed"
  info "staged $CC_LABEL for the chaincode containers: $out"
  touch "$app/.complete"
}

# rt_node_config NAME KIND: Fabric's default orderer.yaml / core.yaml, with two peer settings for
# containers: the external builder is the one every peer image carries at
# /opt/hyperledger/ccaas_builder (official images have Fabric's, ours network/builders/ccaas-static),
# and vm.endpoint is empty: no Docker chaincode builder, so no docker.sock in the peer containers
# and no failing "docker" check in /healthz.
rt_node_config() {
  local name=$1 kind=$2 dir="$RT/nodes/$1"
  mkdir -p "$dir/data"
  if [[ $kind == orderer ]]; then
    cp "$FABRIC_SAMPLECONFIG/orderer.yaml" "$dir/orderer.yaml"
  else
    sed -e 's#^\(\s*\)name: ccaas_builder$#\1name: medbridge-ccaas#' \
        -e 's#^\(\s*endpoint: \)unix:///var/run/docker.sock$#\1""#' \
        "$FABRIC_SAMPLECONFIG/core.yaml" >"$dir/core.yaml"
    grep -q 'path: /opt/hyperledger/ccaas_builder$' "$dir/core.yaml" && grep -q '^ *endpoint: ""$' "$dir/core.yaml" ||
      die "could not set the external builder / vm.endpoint in $dir/core.yaml (unexpected core.yaml layout)"
  fi
}

# rt_launch NAME KIND ENVFILE CMD...: the container of a node, from the host command CMD the native
# runtime would run (the binary becomes the image's, repository paths their staged copies).
rt_launch() {
  local name=$1 kind=$2 envfile=$3; shift 3
  local dir="$RT/nodes/$name" cname image mount="$RT:$RT" args=() a app netmode
  cname=$(container_name "$name")
  netmode=$(network_mode "$name")
  mkdir -p "$dir" "$LOGS" "$PIDS"
  case $kind in
    orderer) image=$ORDERER_IMAGE args=(orderer) ;;
    peer) image=$PEER_IMAGE; shift; args=(peer "$@") ;;
    chaincode)
      image=$CHAINCODE_IMAGE mount="$RT:$RT:ro"
      stage_chaincode
      app="$RT/chaincode/$CC_LABEL/app"
      shift
      # Repository paths (fabric-shim's cli.js, --module-path) become their staged copies.
      for a in "$@"; do
        if [[ $a == "$RT"/* ]]; then args+=("$a"); else args+=("${a/#$REPO\//$app/}"); fi
      done
      args=(node "${args[@]}")
      ;;
    *) die "docker runtime: no image for a node of kind $kind" ;;
  esac
  # A stopped container of an earlier run of ours is replaced.
  if [[ -n $(container_state "$name") ]]; then
    save_log "$name"
    docker rm -f "$cname" >/dev/null 2>&1 || true
  fi
  printf '\n==== %s start %s (container %s, %s, network %s)\n' "$(date -u +%FT%TZ)" "$name" "$cname" "$image" "$netmode" >>"$LOGS/$name.log"
  # --init: a signal-forwarding init as PID 1 (docker-init), so TERM stops node as it does natively.
  docker run -d --pull never --init --name "$cname" --network "$netmode" \
    --label "medbridge.network=$NET" --label "medbridge.runtime-dir=$RT" \
    --label "medbridge.node=$name" --label "medbridge.tier=$kind" \
    --log-opt max-size=50m \
    -v "$mount" -w "$dir" --env-file "$envfile" \
    "$image" "${args[@]}" >"$(pid_file "$name")" 2>"$LOGS/$name.docker-run.log" ||
    die_with_log "docker run of $name ($image) failed" "$LOGS/$name.docker-run.log"
}

# rt_stop NAME...: docker stop (TERM, KILL after 10 s) of our containers, then remove them (their
# output is kept in logs/NAME.log).
rt_stop() {
  local name cnames=() names=()
  for name in "$@"; do
    if [[ $(container_state "$name" | cut -d' ' -f3-) == "$RT" ]]; then
      info "stopping $name (container $(container_name "$name"))"
      cnames+=("$(container_name "$name")") names+=("$name")
    fi
    rm -f "$(pid_file "$name")"
  done
  ((${#cnames[@]})) || return 0
  docker stop -t 10 "${cnames[@]}" >/dev/null 2>&1 || true
  for name in "${names[@]}"; do save_log "$name"; done
  docker rm -v "${cnames[@]}" >/dev/null 2>&1 || true
}

# our_objects KIND: ids of the containers/networks/volumes of this network and runtime dir.
our_objects() {
  local filters=(--filter "label=medbridge.network=$NET" --filter "label=medbridge.runtime-dir=$RT")
  case $1 in
    container) docker ps -aq "${filters[@]}" "${@:2}" ;;
    network) docker network ls -q "${filters[@]}" ;;
    volume) docker volume ls -q "${filters[@]}" ;;
  esac
}

# rt_stop_all: chaincode containers first, then peers, then orderers, then anything else of ours.
rt_stop_all() {
  local tier ids
  if ! command -v docker >/dev/null 2>&1; then
    info "docker is not installed: no containers to remove"
    return 0
  fi
  docker_answers || ensure_docker
  step "[$NET] removing the containers of $NET (labels medbridge.network=$NET, medbridge.runtime-dir=$RT)"
  for tier in chaincode peer orderer; do
    ids=$(our_objects container --filter "label=medbridge.tier=$tier" | tr '\n' ' ')
    [[ -n ${ids// /} ]] || continue
    # shellcheck disable=SC2086 # ids: one word per container
    info "stopping and removing $tier containers: $(docker inspect -f '{{.Name}}' $ids | tr -d / | tr '\n' ' ')"
    # shellcheck disable=SC2086
    docker stop -t 10 $ids >/dev/null 2>&1 || true
    # shellcheck disable=SC2086
    docker rm -v $ids >/dev/null
  done
  ids=$(our_objects container | tr '\n' ' ')
  # shellcheck disable=SC2086
  [[ -z ${ids// /} ]] || docker rm -fv $ids >/dev/null
  ids=$(our_objects network | tr '\n' ' ')
  # shellcheck disable=SC2086
  [[ -z ${ids// /} ]] || { info "removing networks $ids"; docker network rm $ids >/dev/null; }
  ids=$(our_objects volume | tr '\n' ' ')
  # shellcheck disable=SC2086
  [[ -z ${ids// /} ]] || { info "removing volumes $ids"; docker volume rm $ids >/dev/null; }
}

# tree_rss_kb PID: resident memory of PID and all its descendants (the container's init, the node
# process under it and anything that one started).
tree_rss_kb() {
  local total child
  total=$(rss_kb "$1")
  for child in $(cat /proc/"$1"/task/*/children 2>/dev/null); do
    total=$((total + $(tree_rss_kb "$child")))
  done
  echo "$total"
}

rt_show_nodes() {
  local name state running pid rss total=0 n=0
  printf '  %-40s %-8s %-9s %-8s %s\n' NODE PID RSS_MB STATE CONTAINER
  for name in "$@"; do
    state=$(container_state "$name")
    running='' pid=''
    read -r running pid _ <<<"$state"
    if [[ ${running:-} == true ]]; then
      rss=$(tree_rss_kb "$pid")
      total=$((total + rss)); n=$((n + 1))
      printf '  %-40s %-8s %-9s %-8s %s\n' "$name" "$pid" "$((rss / 1024))" running "$(container_name "$name")"
    else
      printf '  %-40s %-8s %-9s %-8s %s\n' "$name" - - "$([[ -n $state ]] && echo exited || echo absent)" "$(container_name "$name")"
    fi
  done
  printf '  %d of %d containers running, resident memory %d MB (processes inside the containers)\n' "$n" "$#" "$((total / 1024))"
  RUNNING_COUNT=$n
}
