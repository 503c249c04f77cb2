#!/usr/bin/env bash
# Kubernetes Secrets for one org's part of a medbridge consortium (chart/medbridge-org), from the
# org's crypto material in cryptogen's layout (network/DEPLOY.md, step 2). Prints the manifests;
# pipe them to `kubectl apply -f -`. Nothing is written to disk.
#
#   org-secrets.sh ORG_DIR ORG_KEY [BLS_KEY_DIR]
#
#   ORG_DIR      crypto/peerOrganizations/<org domain> (peers, chaincode server, user), or
#                crypto/ordererOrganizations/<domain> for the ordering nodes an org runs
#   ORG_KEY      the org name in lower case (the chart's object prefix), e.g. hospitald
#   BLS_KEY_DIR  folder of BLS key files, <channel>/<peer fqdn>.json as `signer enrol` writes them
set -euo pipefail

die() { printf 'error: %s\n' "$*" >&2; exit 1; }

(($# >= 2)) || die "usage: $0 ORG_DIR ORG_KEY [BLS_KEY_DIR]"
ORG_DIR=${1%/}
KEY=$2
BLS_DIR=${3:-}
[[ -d $ORG_DIR/peers || -d $ORG_DIR/orderers ]] || die "$ORG_DIR is not an org folder of cryptogen's layout (peers/ or orderers/)"
[[ $KEY =~ ^[a-z0-9]([-a-z0-9]*[a-z0-9])?$ ]] || die "ORG_KEY must be a DNS label (lower case), got $KEY"
DOMAIN=$(basename "$ORG_DIR")

b64() { base64 -w0 <"$1"; }
# only FILE_GLOB: the single file a glob names (cryptogen writes one cert per folder).
only() {
  local files=()
  mapfile -t files < <(compgen -G "$1" || true)
  ((${#files[@]} == 1)) || die "expected exactly one file for $1, found ${#files[@]}"
  echo "${files[0]}"
}

# secret NAME TYPE KEY=FILE...
secret() {
  local name=$1 type=$2 pair
  shift 2
  printf -- '---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: %s\n  labels:\n    app.kubernetes.io/part-of: medbridge\n    medbridge.org/org: %s\ntype: %s\ndata:\n' "$name" "$KEY" "$type"
  for pair in "$@"; do
    [[ -f ${pair#*=} ]] || die "missing ${pair#*=}"
    printf '  %s: %s\n' "${pair%%=*}" "$(b64 "${pair#*=}")"
  done
}

# node_secrets DIR NODE: the MSP (flat keys the chart maps back to Fabric's layout) and TLS pair.
node_secrets() {
  local dir=$1 node=$2
  secret "$KEY-$node-msp" Opaque config.yaml="$dir/msp/config.yaml" cacert.pem="$(only "$dir/msp/cacerts/*.pem")" \
    tlscacert.pem="$(only "$dir/msp/tlscacerts/*.pem")" signcert.pem="$(only "$dir/msp/signcerts/*.pem")" \
    key.pem="$(only "$dir/msp/keystore/*")"
  secret "$KEY-$node-tls" kubernetes.io/tls tls.crt="$dir/tls/server.crt" tls.key="$dir/tls/server.key" ca.crt="$dir/tls/ca.crt"
}

if [[ -d $ORG_DIR/orderers ]]; then
  for dir in "$ORG_DIR"/orderers/*; do
    fqdn=$(basename "$dir")
    node_secrets "$dir" "${fqdn%%."$DOMAIN"}"
  done
  exit 0
fi

for dir in "$ORG_DIR"/peers/*; do
  fqdn=$(basename "$dir")
  node=${fqdn%%."$DOMAIN"}
  case $node in
    chaincode)
      secret "$KEY-chaincode-tls" kubernetes.io/tls tls.crt="$dir/tls/server.crt" tls.key="$dir/tls/server.key" ca.crt="$dir/tls/ca.crt" ;;
    chaincode-client) ;; # inside the chaincode package's connection.json, not a Secret
    *) node_secrets "$dir" "$node" ;;
  esac
done

user="$ORG_DIR/users/User1@$DOMAIN"
[[ -d $user ]] || die "no User1@$DOMAIN in $ORG_DIR/users"
secret "$KEY-user-msp" Opaque cert.pem="$(only "$user/msp/signcerts/*.pem")" key.pem="$(only "$user/msp/keystore/*")"
secret "$KEY-user-tls" kubernetes.io/tls tls.crt="$user/tls/client.crt" tls.key="$user/tls/client.key" ca.crt="$user/tls/ca.crt"

if [[ -n $BLS_DIR ]]; then
  for f in "$BLS_DIR"/*/*."$DOMAIN".json; do
    [[ -f $f ]] || continue
    channel=$(basename "$(dirname "$f")")
    node=$(basename "$f" ".$DOMAIN.json")
    secret "$KEY-signer-$node-$channel" Opaque key.json="$f"
  done
fi
