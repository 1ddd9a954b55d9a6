#!/usr/bin/env bash
# Installs, starts and stops the outside programs the test suite runs against. Idempotent.
#   install  apt-get the Debian packages that are missing (needs root; prints what to install otherwise)
#   start    start dockerd when its socket does not answer (the one shared service: each suite starts its
#            own redis-server, pebble, haproxy and docker-registry on random ports)
#   stop     remove the containers, networks and volumes tests left behind (label ohp-test=true),
#            then stop the dockerd that start started (never one that was already running)
# DOCKER_SOCK (default /var/run/docker.sock) chooses the engine's socket. Any other socket gets a dockerd of
# its own (data and exec roots under $STATE, bridge ohp-docker1, no iptables) so it can run beside the main engine.
set -euo pipefail
cd "$(dirname "$0")/.."
STATE=${TEST_STATE_DIR:-$PWD/.state}
DOCKER_SOCK=${DOCKER_SOCK:-/var/run/docker.sock}
TEST_LABEL=ohp-test=true

# command → Debian package
declare -A PACKAGES=(
  [redis-server]=redis-server
  [pebble]=pebble # also gives pebble-challtestsrv; test/support/pebble.ts starts both per test file
  [chromium]=chromium
  [haproxy]=haproxy
  [nginx]=nginx-light
  [caddy]=caddy # test/e2e/forward-auth-caddy.test.ts: forward_auth in front of /verify
  [wrk]=wrk
  [curl]=curl
  [openssl]=openssl
  [setpriv]=util-linux
  [dockerd]=docker.io # also gives a docker client, used when none is installed (test/support/docker.ts)
  [busybox]=busybox-static # copied into the offline test image; must be the static build (checked below)
  [docker-registry]=docker-registry # a loopback registry for image pulls (test/support/docker.ts)
  [docker-compose]=docker-compose
)

present() {
  case "$1" in
    # Debian's plain busybox is dynamically linked and useless inside an image of its own.
    busybox) dpkg-query -W -f='${Status}' busybox-static 2>/dev/null | grep -q 'ok installed' ;;
    *) command -v "$1" >/dev/null 2>&1 ;;
  esac
}

install() {
  local missing=()
  for cmd in "${!PACKAGES[@]}"; do present "$cmd" || missing+=("${PACKAGES[$cmd]}"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" -ne 0 ]; then
    echo "test-services: missing ${missing[*]}; install them (apt-get install ${missing[*]}) or run as root" >&2
    return 1
  fi
  echo "test-services: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

docker_cli() { docker -H "unix://$DOCKER_SOCK" "$@"; }
docker_answers() { timeout 10 docker -H "unix://$DOCKER_SOCK" version >/dev/null 2>&1; }
DOCKERD_PIDFILE=$STATE/dockerd.pid
SIDE_BRIDGE=ohp-docker1

start() {
  mkdir -p "$STATE"
  docker_answers && return 0
  if [ "$(id -u)" -ne 0 ]; then
    echo "test-services: no Docker engine answers on $DOCKER_SOCK; start dockerd as root (or run this script as root)" >&2
    return 1
  fi
  local args=()
  if [ "$DOCKER_SOCK" != /var/run/docker.sock ]; then
    # A second engine beside the main one: its own state and bridge, and no iptables rules to clash with.
    # Never --bridge=none: dockerd then deletes the host's docker0, which the main engine's containers use.
    ip link show "$SIDE_BRIDGE" >/dev/null 2>&1 || {
      ip link add "$SIDE_BRIDGE" type bridge && ip addr add 10.213.0.1/24 dev "$SIDE_BRIDGE" && ip link set "$SIDE_BRIDGE" up
    }
    args=(-H "unix://$DOCKER_SOCK" --data-root "$STATE/docker-data" --exec-root "$STATE/docker-exec"
      --pidfile "$STATE/docker-engine.pid" --iptables=false --bridge "$SIDE_BRIDGE")
  fi
  # setsid: the engine outlives this script; $! is dockerd itself (no fork in a non-interactive shell).
  setsid dockerd "${args[@]}" >>"$STATE/dockerd.log" 2>&1 </dev/null &
  echo $! >"$DOCKERD_PIDFILE"
  local deadline=$((SECONDS + 30))
  until docker_answers; do
    if ! kill -0 "$(cat "$DOCKERD_PIDFILE")" 2>/dev/null || [ $SECONDS -ge $deadline ]; then
      echo "test-services: dockerd did not answer on $DOCKER_SOCK within 30 s; last lines of $STATE/dockerd.log:" >&2
      tail -20 "$STATE/dockerd.log" >&2
      return 1
    fi
    sleep 0.2
  done
  echo "test-services: dockerd started on $DOCKER_SOCK (pid $(cat "$DOCKERD_PIDFILE"))" >&2
}

remove_test_objects() {
  docker_answers || return 0
  docker_cli ps -aq --filter "label=$TEST_LABEL" | xargs -r docker -H "unix://$DOCKER_SOCK" rm -f -v >/dev/null || true
  docker_cli network ls -q --filter "label=$TEST_LABEL" | xargs -r docker -H "unix://$DOCKER_SOCK" network rm >/dev/null || true
  docker_cli volume ls -q --filter "label=$TEST_LABEL" | xargs -r docker -H "unix://$DOCKER_SOCK" volume rm -f >/dev/null || true
}

stop_dockerd() {
  [ -f "$DOCKERD_PIDFILE" ] || return 0
  local pid
  pid=$(cat "$DOCKERD_PIDFILE")
  rm -f "$DOCKERD_PIDFILE"
  [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = dockerd ] || return 0
  kill "$pid"
  local deadline=$((SECONDS + 20))
  while kill -0 "$pid" 2>/dev/null; do
    if [ $SECONDS -ge $deadline ]; then kill -9 "$pid" 2>/dev/null || true; break; fi
    sleep 0.2
  done
  if [ "$DOCKER_SOCK" != /var/run/docker.sock ]; then ip link delete "$SIDE_BRIDGE" 2>/dev/null || true; fi
}

stop() {
  remove_test_objects
  stop_dockerd
  # Suites stop their own servers. Leftovers from an interrupted run:
  pkill -f "redis-server 127.0.0.1:.* --dir /tmp/ohp-redis-" 2>/dev/null || true
  pkill -f "docker-registry serve /tmp/ohp-registry-" 2>/dev/null || true
}

case "${1:-}" in
  install) install ;;
  start) start ;;
  stop) stop ;;
  *) echo "usage: $0 install|start|stop" >&2; exit 2 ;;
esac
