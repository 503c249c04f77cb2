#!/usr/bin/env bash
# Validates the deployment chart without a cluster (make deploy-check):
#   1. builds helm and kubeconform from their Go modules (pinned in tools/go.mod) and the schema
#      generator (tools/k8s-schemas), once, into ${MEDBRIDGE_TOOLS:-~/.cache/medbridge/tools}/<go.sum hash>;
#   2. writes one JSON schema per built-in kind from the Go types of k8s.io/api (no download);
#   3. helm lint, then helm template with each values file in chart/ci/ (and the defaults);
#   4. kubeconform -strict on every rendered manifest and on the Secrets org-secrets.sh writes
#      for a cryptogen-shaped fixture.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
# shellcheck source=../scripts/lib/log.sh
source "$REPO/network/scripts/lib/log.sh"
CHART="$HERE/chart/medbridge-org"
TOOLS_MOD="$HERE/tools"

tools_dir() {
  local hash
  hash=$(cat "$TOOLS_MOD/go.mod" "$TOOLS_MOD/go.sum" "$TOOLS_MOD/k8s-schemas/main.go" | sha256sum | cut -c1-12)
  echo "${MEDBRIDGE_TOOLS:-${XDG_CACHE_HOME:-$HOME/.cache}/medbridge/tools}/$hash"
}

build_tools() {
  local start log
  BIN=$(tools_dir)
  if [[ -x $BIN/helm && -x $BIN/kubeconform && -x $BIN/k8s-schemas && -f $BIN/schemas/.complete ]]; then
    info "tools cached in $BIN"
    return
  fi
  command -v go >/dev/null 2>&1 || die "Go is needed to build helm and kubeconform (apt-get install golang, or Go >= 1.24)"
  mkdir -p "$BIN"
  log="$BIN/build.log"
  step "building helm, kubeconform and k8s-schemas from their Go modules into $BIN (first time only)"
  start=$(now_ms)
  (cd "$TOOLS_MOD" && go build -trimpath -o "$BIN/" helm.sh/helm/v3/cmd/helm github.com/yannh/kubeconform/cmd/kubeconform ./k8s-schemas) >"$log" 2>&1 ||
    die_with_log "building the deployment tools failed (go $(go env GOVERSION)); full log: $log" "$log" 30
  info "built in $(( ($(now_ms) - start) / 1000 )) s"
  rm -rf "$BIN/schemas"
  "$BIN/k8s-schemas" "$BIN/schemas" >/dev/null
  touch "$BIN/schemas/.complete"
}

# fixture_org DIR: an org folder of cryptogen's layout with placeholder files (the schema check
# looks at the Secrets' shape, not at the certificates).
fixture_org() {
  local d=$1/peerOrganizations/hospitald.example.org n
  for n in peer0 peer1 chaincode chaincode-client; do
    mkdir -p "$d/peers/$n.hospitald.example.org/"{msp/cacerts,msp/tlscacerts,msp/signcerts,msp/keystore,tls}
    for f in msp/config.yaml msp/cacerts/ca.pem msp/tlscacerts/tlsca.pem msp/signcerts/cert.pem msp/keystore/priv_sk tls/server.crt tls/server.key tls/ca.crt; do
      echo "placeholder $n $f" >"$d/peers/$n.hospitald.example.org/$f"
    done
  done
  mkdir -p "$d/users/User1@hospitald.example.org/"{msp/signcerts,msp/keystore,tls} "$1/bls/chain-a"
  for f in msp/signcerts/User1@hospitald.example.org-cert.pem msp/keystore/priv_sk tls/client.crt tls/client.key tls/ca.crt; do
    echo "placeholder user $f" >"$d/users/User1@hospitald.example.org/$f"
  done
  echo '{}' >"$1/bls/chain-a/peer0.hospitald.example.org.json"
  local o=$1/ordererOrganizations/hospitald.example.org/orderers/orderer0.hospitald.example.org
  mkdir -p "$o/"{msp/cacerts,msp/tlscacerts,msp/signcerts,msp/keystore,tls}
  for f in msp/config.yaml msp/cacerts/ca.pem msp/tlscacerts/tlsca.pem msp/signcerts/cert.pem msp/keystore/priv_sk tls/server.crt tls/server.key tls/ca.crt; do
    echo "placeholder orderer0 $f" >"$o/$f"
  done
  echo "$d"
}

main() {
  local values name docs
  build_tools
  out=$(mktemp -d)
  trap 'rm -rf "$out"' EXIT
  step "helm lint $CHART"
  "$BIN/helm" lint --strict "$CHART" >"$out/lint.log" 2>&1 || die_with_log "helm lint failed" "$out/lint.log" 40
  for values in "" "$CHART"/ci/*-values.yaml; do
    name=${values:+$(basename "$values" -values.yaml)}
    name=${name:-defaults}
    "$BIN/helm" template "mb-$name" "$CHART" ${values:+-f "$values"} >"$out/$name.yaml" 2>"$out/$name.err" ||
      die_with_log "helm template ($name) failed" "$out/$name.err" 40
    docs=$(grep -c '^kind:' "$out/$name.yaml")
    info "helm template ($name): $docs objects"
  done
  "$HERE/org-secrets.sh" "$(fixture_org "$out/crypto")" hospitald "$out/crypto/bls" >"$out/secrets.yaml"
  "$HERE/org-secrets.sh" "$out/crypto/ordererOrganizations/hospitald.example.org" hospitald >>"$out/secrets.yaml"
  info "org-secrets.sh: $(grep -c '^kind: Secret' "$out/secrets.yaml") Secrets"

  step "kubeconform -strict (schemas derived from the Go types of k8s.io/api)"
  "$BIN/kubeconform" -strict -summary -schema-location "$BIN/schemas/{{ .ResourceKind }}{{ .KindSuffix }}.json" "$out"/*.yaml
}

main "$@"
