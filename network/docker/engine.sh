#!/usr/bin/env bash
# The Docker engine for FABRIC_RUNTIME=docker (sourced by runtime-docker.sh and images.sh).
#
# ensure_docker: installs Debian's docker.io (apt-get update + install) when `dockerd` is missing,
# starts dockerd when no engine answers (log: ${MEDBRIDGE_RUNTIME:-<repo>/.runtime}/dockerd.log),
# and says what it did. Nothing here pulls an image: every `docker run` uses --pull never and
# every image is built locally from files on this machine.

# The installed CLI may be newer than Debian's engine and may lack buildx: the legacy builder is
# what works here (it prints a deprecation notice).
export DOCKER_BUILDKIT=0
export DOCKER_CLI_HINTS=false

docker_engine_log() { echo "${MEDBRIDGE_RUNTIME:-$REPO/.runtime}/dockerd.log"; }

docker_answers() { timeout 10 docker info >/dev/null 2>&1; }

ensure_docker() {
  if ! command -v docker >/dev/null 2>&1 || ! command -v dockerd >/dev/null 2>&1; then
    [[ $(id -u) == 0 ]] || die "docker/dockerd are missing and installing Debian's docker.io needs root (apt-get install docker.io)"
    command -v apt-get >/dev/null 2>&1 || die "docker/dockerd are missing and this is not a Debian/Ubuntu system: install a Docker engine yourself"
    step "docker: dockerd is missing; installing Debian's docker.io (apt-get update, apt-get install docker.io)"
    DEBIAN_FRONTEND=noninteractive apt-get update -q >/dev/null || die "apt-get update failed"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends docker.io >/dev/null ||
      die "apt-get install docker.io failed"
    info "installed: $(dockerd --version 2>/dev/null)"
  fi
  docker_answers && return 0
  local log pid deadline
  log=$(docker_engine_log)
  mkdir -p "$(dirname "$log")"
  [[ $(id -u) == 0 ]] || die "no Docker engine answers and starting dockerd needs root"
  step "docker: no engine answers; starting dockerd (log $log)"
  printf '\n==== %s dockerd start\n' "$(date -u +%FT%TZ)" >>"$log"
  # Its own session, no inherited lock fds; it keeps running after this script (a system service).
  (setsid dockerd >>"$log" 2>&1 </dev/null 8>&- 9>&- &)
  deadline=$((SECONDS + 60))
  until docker_answers; do
    ((SECONDS < deadline)) || die_with_log "dockerd did not answer within 60 s" "$log" 30
    sleep 0.5
  done
  pid=$(pgrep -xo dockerd || true)
  info "dockerd runs (pid ${pid:-?}, $(docker version -f '{{.Server.Version}}' 2>/dev/null), storage $(docker info -f '{{.Driver}}' 2>/dev/null))"
}
