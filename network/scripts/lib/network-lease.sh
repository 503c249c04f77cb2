# A lease on the network for the whole run of a script (make demo, make bench), taken the way the
# integration tests take theirs (network.sh acquire/release with the script's pid). Sourced after
# lib/log.sh; needs HERE (the scripts directory).
#
#   network_acquire   the running network is reused (its chaincode redeployed if it changed) or
#                     started; sets an EXIT trap that calls network_release
#   network_release   gives the lease back; the network stops only if this run started it and no
#                     other run uses it (MEDBRIDGE_KEEP_NETWORK=1 keeps it up); keeps the exit code
#                     of the script, or 1 if the release failed

network_acquire() {
  step "network: take a lease (reuse the running one or start it)"
  local t0
  t0=$(now_ms)
  trap network_release EXIT
  "$HERE/network.sh" acquire $$
  info "network ready ($(($(now_ms) - t0)) ms)"
}

network_release() {
  local rc=$?
  step "network: give the lease back"
  "$HERE/network.sh" release $$ || rc=1
  exit "$rc"
}
