#!/usr/bin/env bash
# The README's test command (`npm test`): installs what the tests need, type-checks, runs every test
# against real services, and ends with the line "N passed, N failed" (the type check counts as one).
set -uo pipefail
cd "$(dirname "$0")/.."

bash scripts/test-services.sh install || exit 1
if [ ! -x node_modules/.bin/bun ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund || exit 1
fi
bash scripts/test-services.sh start || exit 1
trap 'bash scripts/test-services.sh stop' EXIT

typecheck_passed=1
echo "typecheck: tsc --noEmit -p ."
node_modules/.bin/tsc --noEmit -p . || typecheck_passed=0

log=$(mktemp)
node_modules/.bin/bun test --timeout 30000 "$@" 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}

count() { local n; n=$(sed -n "s/^ *\([0-9][0-9]*\) $1\$/\1/p" "$log" | tail -1); echo "${n:-0}"; }
passed=$(( $(count pass) + typecheck_passed ))
failed=$(( $(count fail) + 1 - typecheck_passed ))
skipped=$(count skip)
rm -f "$log"
# bun exits 1 when no test ran at all; that is a failure too.
[ "$rc" -ne 0 ] && [ "$failed" -eq 0 ] && failed=1
echo "${passed} passed, ${failed} failed, ${skipped} skipped"
[ "$rc" -eq 0 ] && [ "$typecheck_passed" -eq 1 ]
