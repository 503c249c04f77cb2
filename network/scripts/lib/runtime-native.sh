# FABRIC_RUNTIME=native: every orderer, peer and chaincode server is a process of this machine,
# in its own session, working directory $RT/nodes/<name>, output in $LOGS/<name>.log.
#
# The runtime interface (network.sh sources exactly one runtime module; lib/runtime-docker.sh
# implements the same functions, and network.sh checks that all of them exist):
#   rt_prepare                       before `up` and `deploy`: what the runtime needs first
#   rt_claim_dir                     `up`: record in $RT which runtime made it (recorded_runtime)
#   rt_node_config NAME KIND         config dir $RT/nodes/NAME of an orderer or peer (KIND)
#   rt_launch NAME KIND ENVFILE CMD...
#                                    start node NAME (KIND orderer|peer|chaincode) running the
#                                    host command CMD with exactly ENVFILE's environment; its
#                                    handle goes to pid_file NAME, its output to $LOGS/NAME.log
#   rt_is_running NAME               true when NAME runs and this runtime started it for $RT
#   rt_stop NAME...                  stop those nodes (TERM, KILL after 10 s), drop their pid files
#   rt_stop_all                      `down`: stop everything this runtime started for $NET
#   rt_show_nodes NAME...            `status`: one line per node and a total; sets RUNNING_COUNT
#
# Here: pid files name the processes; a pid counts only while its process runs in the node's own
# directory (a recycled pid is not ours).
#
# Hosts as network namespaces (make test-multihost, network/scripts/multihost.sh): with
# MEDBRIDGE_NETNS_MAP=<file> of `<address> <namespace>` lines, a node whose host address
# (NODE_HOST, from the description's placement) is listed starts inside that namespace with
# `ip netns exec`, which also gives it the namespace's /etc/hosts; without the map every node is a
# process of the caller's namespace, as on loopback.

BUILDER_DIR="$REPO/network/builders/ccaas"

rt_prepare() { :; }

# A native runtime dir is recognised by its nodes/ directory; it carries no marker.
rt_claim_dir() { :; }

# rt_node_config NAME KIND: Fabric's defaults with only the external builder changed; all
# node-specific settings are passed as environment (orderer_env/peer_env).
rt_node_config() {
  local name=$1 kind=$2 dir="$RT/nodes/$1"
  mkdir -p "$dir/data"
  if [[ $kind == orderer ]]; then
    cp "$FABRIC_SAMPLECONFIG/orderer.yaml" "$dir/orderer.yaml"
  else
    sed -e "s#name: ccaas_builder#name: medbridge-ccaas#" \
        -e "s#path: /opt/hyperledger/ccaas_builder#path: $BUILDER_DIR#" \
        "$FABRIC_SAMPLECONFIG/core.yaml" >"$dir/core.yaml"
    grep -q "path: $BUILDER_DIR" "$dir/core.yaml" || die "could not set the external builder in $dir/core.yaml (unexpected core.yaml layout)"
  fi
}

# rt_launch NAME KIND ENVFILE CMD...: CMD in its own session, in $RT/nodes/NAME, with exactly the
# environment listed in ENVFILE (nothing leaks in from the caller's shell). KIND is not needed here.
rt_launch() {
  local name=$1 envfile=$3; shift 3
  local dir="$RT/nodes/$name" log="$LOGS/$name.log" envs=() ns inside=()
  mkdir -p "$dir" "$LOGS" "$PIDS"
  mapfile -t envs <"$envfile"
  ns=$(netns_of "${NODE_HOST[$name]:-}")
  [[ -z $ns ]] || inside=(ip netns exec "$ns")
  printf '\n==== %s start %s%s\n' "$(date -u +%FT%TZ)" "$name" "${ns:+ in network namespace $ns}" >>"$log"
  # fds 8 and 9 hold the scripts' locks, and a caller may hold one too (`flock FILE make ...`): a
  # node must not inherit (and so keep) any of them.
  (cd "$dir" && close_lock_fds && exec "${inside[@]}" setsid env -i PATH="$PATH" HOME="$HOME" "${envs[@]}" "$@" >>"$log" 2>&1 </dev/null 8>&- 9>&-) &
  echo $! >"$(pid_file "$name")"
}

# close_lock_fds: closes every descriptor of this shell that is open on a *.lock file.
close_lock_fds() {
  local fd target
  for fd in /proc/"$BASHPID"/fd/*; do
    target=$(readlink "$fd" 2>/dev/null) || continue
    if [[ $target == *.lock ]]; then eval "exec ${fd##*/}>&-"; fi
  done
}

# netns_of ADDRESS: the network namespace that holds ADDRESS in $MEDBRIDGE_NETNS_MAP (empty when
# there is no map or the address is not in it).
netns_of() {
  local host=$1 addr ns
  [[ -n ${MEDBRIDGE_NETNS_MAP:-} && -n $host ]] || return 0
  [[ -f $MEDBRIDGE_NETNS_MAP ]] || die "MEDBRIDGE_NETNS_MAP=$MEDBRIDGE_NETNS_MAP does not exist (network/scripts/multihost.sh up writes it)"
  while read -r addr ns; do
    if [[ $addr == "$host" ]]; then echo "$ns"; return 0; fi
  done <"$MEDBRIDGE_NETNS_MAP"
}

# rt_is_running NAME: the pid file names a live process that runs in the node's own directory,
# i.e. a process this script started (guards against recycled pids).
rt_is_running() {
  local f pid cwd
  f=$(pid_file "$1")
  [[ -f $f ]] || return 1
  pid=$(<"$f")
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  kill -0 "$pid" 2>/dev/null || return 1
  cwd=$(readlink "/proc/$pid/cwd" 2>/dev/null || true)
  [[ $cwd == "$RT/nodes/$1" ]]
}

# rt_stop NAME...: TERM to all at once, KILL what still runs after 10 s; only processes this
# script started.
rt_stop() {
  local name pid i alive
  local -A pids=()
  for name in "$@"; do
    if rt_is_running "$name"; then
      pids[$name]=$(<"$(pid_file "$name")")
      info "stopping $name (pid ${pids[$name]})"
      kill -TERM "${pids[$name]}" 2>/dev/null || true
    else
      rm -f "$(pid_file "$name")"
    fi
  done
  for ((i = 0; i < 100; i++)); do
    alive=0
    for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
    ((alive)) || break
    sleep 0.1
  done
  for name in "${!pids[@]}"; do
    if kill -0 "${pids[$name]}" 2>/dev/null; then
      warn "$name did not stop within 10 s, killing it"
      kill -KILL "${pids[$name]}" 2>/dev/null || true
      # Gone before the next start reuses its ports.
      for ((i = 0; i < 50; i++)); do kill -0 "${pids[$name]}" 2>/dev/null || break; sleep 0.1; done
    fi
    rm -f "$(pid_file "$name")"
  done
}

# rt_stop_all: chaincode servers first, then peers, then orderers (and anything else with a pid
# file).
rt_stop_all() {
  local tier f names
  step "[$NET] stopping the processes started for $NET"
  [[ -d $PIDS ]] || return 0
  for tier in 'ccaas.*' 'peer*' '*'; do
    names=()
    for f in "$PIDS"/$tier.pid; do [[ -f $f ]] && names+=("$(basename "$f" .pid)"); done
    ((${#names[@]} == 0)) || rt_stop "${names[@]}"
  done
}

rt_show_nodes() {
  local name pid rss total=0 n=0
  printf '  %-40s %-8s %-9s %s\n' NODE PID RSS_MB STATE
  for name in "$@"; do
    if rt_is_running "$name"; then
      pid=$(<"$(pid_file "$name")")
      rss=$(rss_kb "$pid")
      total=$((total + rss)); n=$((n + 1))
      printf '  %-40s %-8s %-9s %s\n' "$name" "$pid" "$((rss / 1024))" running
    else
      printf '  %-40s %-8s %-9s %s\n' "$name" - - stopped
    fi
  done
  printf '  %d of %d processes running, resident memory %d MB\n' "$n" "$#" "$((total / 1024))"
  RUNNING_COUNT=$n
}
