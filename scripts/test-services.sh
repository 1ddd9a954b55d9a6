#!/usr/bin/env bash
# Installs, starts and stops the outside programs the test suite runs against. Idempotent.
#   install  apt-get the Debian packages that are missing (needs root; prints what to install otherwise)
#   start    start shared services (none yet: each suite starts its own redis-server on a random port)
#   stop     stop what start started
# Later issues add dockerd here.
set -euo pipefail
cd "$(dirname "$0")/.."
STATE=${TEST_STATE_DIR:-$PWD/.state}

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
)

install() {
  local missing=()
  for cmd in "${!PACKAGES[@]}"; do command -v "$cmd" >/dev/null 2>&1 || missing+=("${PACKAGES[$cmd]}"); done
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

start() {
  mkdir -p "$STATE"
}

stop() {
  # Nothing shared runs yet; suites stop their own servers. Leftovers from an interrupted run:
  pkill -f "redis-server 127.0.0.1:.* --dir /tmp/ohp-redis-" 2>/dev/null || true
}

case "${1:-}" in
  install) install ;;
  start) start ;;
  stop) stop ;;
  *) echo "usage: $0 install|start|stop" >&2; exit 2 ;;
esac
