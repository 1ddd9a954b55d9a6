#!/usr/bin/env bash
# The README's run command (`npm start`): installs dependencies on first use, then serves on the
# embedded store. Flags pass through: npm start -- --api-port 9001
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x node_modules/.bin/bun ]; then npm ci --no-audit --no-fund >&2; fi
exec node_modules/.bin/bun src/main.ts serve "$@"
