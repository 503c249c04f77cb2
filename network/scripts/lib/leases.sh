# Test-run leases: several runs (test suites, make bench, make demo) may share one network
# (sourced by network.sh).
#
#   cmd_acquire OWNER   take OWNER's lease (a pid), then reuse the running network (redeploying
#                       changed chaincode) or start it, marked as started by a lease holder
#   cmd_release OWNER   give the lease back; stop the network only when no other live lease
#                       remains and a lease holder started it (MEDBRIDGE_KEEP_NETWORK=1 keeps it up)
#   lease_dir           where the leases of $NET are (one file per owner pid)
# A network started by hand (make network-up) is never stopped by a release. The lease files sit
# beside, not in, the runtime dir ($RUNTIME_BASE/.leases/<net>), so `down` does not drop them.
# Uses the dispatcher's commands: cmd_check, cmd_up, cmd_deploy, cmd_down.

lease_dir() { echo "$RUNTIME_BASE/.leases/$NET"; }

# live_leases: pids of lease holders that still run; leases of dead runs are dropped.
live_leases() {
  local f pid
  for f in "$(lease_dir)"/*; do
    [[ -f $f ]] || continue
    pid=$(basename "$f")
    if kill -0 "$pid" 2>/dev/null; then echo "$pid"; else rm -f "$f"; fi
  done
}

cmd_acquire() {
  local owner=$1
  mkdir -p "$(lease_dir)"
  echo "$owner" >"$(lease_dir)/$owner"
  if cmd_check; then
    step "[$NET] reusing the running network for test run $owner"
    cmd_deploy
  else
    # Marked before it is up: a failed start is cleaned up by the release of this run.
    mkdir -p "$RT"
    date -u +%FT%TZ >"$RT/.harness-started"
    cmd_up
  fi
}

cmd_release() {
  local owner=$1 others
  rm -f "$(lease_dir)/$owner"
  others=$(live_leases | tr '\n' ' ')
  if [[ ! -d $RT ]]; then
    return
  elif [[ -n $others ]]; then
    step "[$NET] leaving the network up: other test runs use it (pids $others)"
  elif [[ ! -f $RT/.harness-started ]]; then
    step "[$NET] leaving the network up: it was not started by a test run (make network-down stops it)"
  elif [[ ${MEDBRIDGE_KEEP_NETWORK:-} == 1 ]]; then
    step "[$NET] MEDBRIDGE_KEEP_NETWORK=1: leaving the network up (make network-down stops it)"
  else
    cmd_down
  fi
}
