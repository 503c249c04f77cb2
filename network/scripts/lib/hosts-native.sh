# The hosts of make test-multihost for FABRIC_RUNTIME=native: plain network namespaces on a bridge
# made here (sourced by multihost.sh; lib/hosts-docker.sh implements the same functions).
#
# The hosts interface (multihost.sh sources exactly one hosts module and checks these exist):
#   mh_prepare                   root and the tools this module needs
#   mh_subnet                    the subnet the descriptions' hosts are moved into
#                                (MEDBRIDGE_HOSTS_SUBNET), empty to keep the described addresses
#   mh_add_medium                what the hosts share: here the bridge $BRIDGE, inside a namespace
#                                of its own ($SWITCH) so no frame crosses the machine's namespace
#   mh_add_host KEY ADDRESS INDEX NAME...
#                                a network namespace `mbmh-KEY` holding ADDRESS on the medium,
#                                recorded in $STATE/namespaces and $MEDBRIDGE_NETNS_MAP; the NAMEs
#                                must resolve to ADDRESS on every host
#   mh_resolve                   once every host exists: every name resolves in every namespace;
#                                $STATE/hosts (every host's names, from the descriptions) is there
#                                to use, as /etc/netns/<ns>/hosts, which `ip netns exec` mounts
#   mh_remove_all                every namespace, link, file and process this module made
#   mh_show                      the hosts, for `multihost.sh status`
# Needs from multihost.sh: NS_PREFIX, STATE, MEDBRIDGE_NETNS_MAP, log.sh.

BRIDGE=mbmh0
SWITCH=${NS_PREFIX}switch

mh_prepare() {
  [[ $(id -u) == 0 ]] || die "network namespaces need root (ip netns); run as root or use the loopback network (make test-integration)"
  command -v ip >/dev/null 2>&1 || die "ip (iproute2) is missing: apt-get install iproute2"
}

mh_subnet() { :; }

ns_exists() { ip netns list | grep -q "^$1\b"; }

mh_add_medium() {
  ns_exists "$SWITCH" && return
  info "bridge $BRIDGE inside namespace $SWITCH (no address, no route)"
  ip netns add "$SWITCH"
  echo "- $SWITCH" >>"$STATE/namespaces"
  ip -n "$SWITCH" link add "$BRIDGE" type bridge
  ip -n "$SWITCH" link set "$BRIDGE" up
}

# mh_add_host KEY ADDRESS INDEX NAME...: a namespace with loopback and one veth to the bridge.
mh_add_host() {
  local key=$1 addr=$2 i=$3 ns veth
  shift 3
  ns="$NS_PREFIX$key"
  veth="mbmhv$i"
  if ns_exists "$ns"; then info "$ns exists"; return; fi
  ip netns add "$ns"
  echo "$addr $ns" >>"$STATE/namespaces"
  ip -n "$ns" link set lo up
  ip -n "$SWITCH" link add "$veth" type veth peer name eth0 netns "$ns"
  ip -n "$SWITCH" link set "$veth" master "$BRIDGE" up
  ip -n "$ns" addr add "$addr/24" dev eth0
  ip -n "$ns" link set eth0 up
  echo "$addr $ns" >>"$MEDBRIDGE_NETNS_MAP"
  info "$ns: $addr on $BRIDGE (veth $veth)"
}

# mh_resolve: the hosts file as /etc/netns/<ns>/hosts of each namespace (`ip netns exec` shows it
# as /etc/hosts inside).
mh_resolve() {
  local addr ns
  while read -r addr ns; do
    [[ $addr == - ]] && continue
    mkdir -p "/etc/netns/$ns"
    cp "$STATE/hosts" "/etc/netns/$ns/hosts"
  done <"$STATE/namespaces"
  info "names: hosts file $STATE/hosts in /etc/netns/<ns>/hosts"
}

# mh_remove_all: each namespace made here (its veth goes with it; the bridge goes with the switch
# namespace), newest first, and its files. Anything still running in one was started by these scripts.
mh_remove_all() {
  local ns
  [[ -f $STATE/namespaces ]] || return 0
  while read -r _ ns; do
    ip netns pids "$ns" 2>/dev/null | xargs -r kill -KILL 2>/dev/null || true
    if ip netns del "$ns" 2>/dev/null; then info "removed namespace $ns"; fi
    rm -rf "/etc/netns/$ns"
  done < <(tac "$STATE/namespaces")
}

mh_show() {
  ip netns list | grep "^$NS_PREFIX" || echo "  no namespaces"
}
