#!/usr/bin/env bash
# The medbridge CLI story on fabric-samples' test-network (after samples-up):
#   story.sh         prints the commands to try
#   story.sh --run   runs them, times each step and checks what it prints: patient, anchored record,
#                    consent grant, access check, record fetch by Org2 with the hash checked against
#                    the anchor, the patient's access log; the record server it starts is stopped
# Org1 is the custodian hospital, Org2 the requester; both are members of mychannel.
set -euo pipefail
# shellcheck source=network/samples/common.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/common.sh"

[[ -f $STATE/profiles/org1.json ]] || die "no samples network recorded in $STATE: run \`make samples-up FABRIC_SAMPLES=...\` first"

print_story() {
  cat <<EOF

medbridge on fabric-samples' test-network: try the CLI (Org1 = custodian hospital, Org2 = requester)

  cd $REPO
  export MEDBRIDGE_PROFILES=$STATE/profiles
  npx medbridge ping --org Org1
  npx medbridge patient keygen                                   # prints patientId (pt_...); key in ~/.medbridge/keys
  P=<patientId>
  npx medbridge patient register --org Org1 --key \$P --public
  echo '{"resourceType":"Observation","status":"final","code":{"text":"Blood pressure"}}' >/tmp/obs.json
  npx medbridge records put --org Org1 --patient \$P --category Observation --file /tmp/obs.json --record-id rec-1
  npx medbridge consent grant --org Org1 --key \$P --grantee Org2MSP --records rec-1 --purpose TREAT --days 7
  npx medbridge access check --org Org1 --grantee Org2MSP --record rec-1 --purpose TREAT
  npx medbridge records serve --org Org1 --port 0 &              # Org1's record exchange (mutual TLS)
  npx medbridge records fetch rec-1 --org Org2 --from Org1 --purpose TREAT --out /tmp/rec-1.json
  npx medbridge access log \$P --org Org1 --key \$P
  kill %1

  Or all of it, timed and checked: network/samples/story.sh --run
  Record stores: $STATE/gateway; \`make samples-down\` removes them with the network
  (patient keys stay where keygen wrote them, outside the repository).
EOF
}

# ---------------------------------------------------------------- --run

export MEDBRIDGE_PROFILES=$STATE/profiles MEDBRIDGE_LOG_LEVEL=warn
WORK=$STATE/story
SERVER_PID='' KEYS=''

stop_server() {
  [[ -n $SERVER_PID ]] || return 0
  kill -TERM "$SERVER_PID" 2>/dev/null || true
  wait "$SERVER_PID" 2>/dev/null || true
  SERVER_PID=''
}
# The CLI refuses to write a private key inside the repository: the story's throwaway patient key
# lives in a temporary folder removed at the end.
cleanup() {
  stop_server
  [[ -z $KEYS ]] || rm -rf "$KEYS"
}
trap cleanup EXIT

# mb ARGS...: the CLI with --json; the output must be JSON without an error.
mb() {
  local out
  out=$(node "$REPO/gateway/bin/medbridge.js" "$@" --json) || die "medbridge $* failed: $out"
  echo "$out"
}

# field JSON EXPR: a value from JSON output (EXPR is JavaScript over `j`).
field() { node -e 'const j = JSON.parse(process.argv[1]); const v = eval(process.argv[2]); if (v === undefined) process.exit(1); console.log(typeof v === "string" ? v : JSON.stringify(v));' "$1" "$2"; }

# expect JSON EXPR WHAT: EXPR must be true.
expect() { [[ $(field "$1" "$2") == true ]] || die "unexpected: $3 (got $1)"; }

STEP_T=0
story_step() { STEP_T=$(now_ms); step "story: $*"; }
done_step() { info "$* ($(elapsed "$STEP_T"))"; }

run_story() {
  local t0 out patient recordId hash consent url deadline
  t0=$(now_ms)
  rm -rf "$WORK"
  mkdir -p "$WORK"
  KEYS=$(mktemp -d "${TMPDIR:-/tmp}/medbridge-samples-keys.XXXXXX")
  export MEDBRIDGE_KEYS_DIR=$KEYS
  (cd "$REPO" && npx tsc -b chaincode gateway)
  recordId="rec-samples-$(date +%s)"
  printf '{"resourceType":"Observation","status":"final","code":{"text":"Blood pressure"},"valueQuantity":{"value":120,"unit":"mmHg"}}' >"$WORK/obs.json"

  story_step "ping through Org1's peer"
  out=$(mb ping --org Org1)
  expect "$out" 'j.mspId === "Org1MSP" && j.chaincode === "medbridge"' "ping answers as Org1MSP from medbridge"
  done_step "channel $(field "$out" j.channel), role $(field "$out" j.role)"

  story_step "patient: key on the patient's side, registered at Org1"
  out=$(mb patient keygen)
  patient=$(field "$out" j.patientId)
  out=$(mb patient register --org Org1 --key "$patient" --public)
  expect "$out" "j.patientId === '$patient'" "the registered patient is the key's"
  done_step "patient ${patient:0:14}..."

  story_step "anchor: Org1 stores an Observation off chain and anchors its salted hash"
  out=$(mb records put --org Org1 --patient "$patient" --category Observation --file "$WORK/obs.json" --record-id "$recordId")
  hash=$(field "$out" j.hash)
  done_step "record $recordId version $(field "$out" j.version), hash ${hash:0:16}..."

  story_step "grant: the patient lets Org2 read it for treatment"
  out=$(mb consent grant --org Org1 --key "$patient" --grantee Org2MSP --records "$recordId" --purpose TREAT --days 7)
  consent=$(field "$out" j.consentId)
  expect "$out" 'j.effectiveStatus === "active"' "the consent is active"
  done_step "consent ${consent:0:14}... active"

  story_step "access check: Org2 for TREAT (allowed) and for research (refused)"
  out=$(mb access check --org Org1 --grantee Org2MSP --record "$recordId" --purpose TREAT)
  expect "$out" 'j.allowed === true' "Org2 may read the record for TREAT"
  out=$(mb access check --org Org1 --grantee Org2MSP --record "$recordId" --purpose HRESCH)
  expect "$out" 'j.allowed === false' "Org2 may not read the record for research"
  done_step "TREAT allowed, HRESCH refused"

  story_step "record exchange: Org1 serves, Org2 fetches and checks the hash against the anchor"
  node "$REPO/gateway/bin/medbridge.js" records serve --org Org1 --port 0 --json >"$WORK/serve.out" 2>"$WORK/serve.err" &
  SERVER_PID=$!
  deadline=$((SECONDS + 30))
  until url=$(field "$(cat "$WORK/serve.out" 2>/dev/null)" j.url 2>/dev/null); do
    kill -0 "$SERVER_PID" 2>/dev/null || die_with_log "records serve exited" "$WORK/serve.err"
    ((SECONDS < deadline)) || die_with_log "records serve did not start within 30 s" "$WORK/serve.err"
    sleep 0.2
  done
  out=$(mb records fetch "$recordId" --org Org2 --from Org1 --purpose TREAT --out "$WORK/fetched.json")
  expect "$out" "j.verified === true && j.hash === '$hash' && j.consentId === '$consent'" "the fetched record is verified against its anchor"
  cmp -s "$WORK/obs.json" "$WORK/fetched.json" || die "the fetched record differs from the stored one"
  stop_server
  done_step "served at $url; fetched, verified: hash matches the anchor, content identical"

  story_step "access log: the patient sees Org2's read"
  out=$(mb access log "$patient" --org Org1 --key "$patient")
  expect "$out" 'Array.isArray(j) && j.length > 0' "the access log has entries"
  expect "$out" 'JSON.stringify(j).includes("Org2MSP")' "the access log names Org2MSP"
  done_step "$(field "$out" j.length) entries: $(field "$out" 'j.map((e) => e.kind + (e.decision ? "/" + e.decision : "")).join(", ")')"

  step "story: done in $(elapsed "$t0")"
}

case ${1:-} in
  --run) run_story ;;
  "") print_story ;;
  *) die "usage: $0 [--run]" ;;
esac
