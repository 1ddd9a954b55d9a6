#!/usr/bin/env bash
# The README's run command (`npm start`): installs dependencies on first use, then serves on the
# embedded store. Flags pass through: npm start -- --api-port 9001
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x node_modules/.bin/bun ]; then npm ci --no-audit --no-fund >&2; fi
# Ports below 1024 need root; a first try as a normal user should still come up.
if [ "$(id -u)" -ne 0 ] && [ -z "${HTTP_PORT:-}" ] && [ -z "${HTTPS_PORT:-}" ]; then
  export HTTP_PORT=8080 HTTPS_PORT=8443
  echo "start: not root, so the public listeners use HTTP_PORT=8080 and HTTPS_PORT=8443" >&2
fi
exec node_modules/.bin/bun src/main.ts serve "$@"
