#!/usr/bin/env bash
# The UI's tests: Vitest over the frontend's logic, then the browser suite (playwright-core
# driving Chromium) against a real `switchyard serve` and its built-in /ui/, in front of
# `switchyard-fake`. Expects the UI built into the binaries already (`make ui-test` does both):
#   make frontend build
# Binaries: SWITCHYARD_BIN / SWITCHYARD_FAKE_BIN (default target/debug). Browser:
# SWITCHYARD_CHROMIUM, else /usr/bin/chromium or an installed Google Chrome (macOS).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"

for dir in "$repo/frontend" "$here"; do
  if [[ ! -f "$dir/node_modules/.package-lock.json" || "$dir/package-lock.json" -nt "$dir/node_modules/.package-lock.json" ]]; then
    (cd "$dir" && npm ci --no-audit --no-fund)
  fi
done

log="$(mktemp)"
trap 'rm -f "$log"' EXIT
vitest_rc=0
browser_rc=0
echo "== Vitest (frontend logic)"
(cd "$repo/frontend" && npx vitest run --reporter=default) 2>&1 | tee -a "$log" || vitest_rc=$?
echo "== Browser ($(node --version), playwright-core $(node -p "require('$here/node_modules/playwright-core/package.json').version"))"
rm -rf "$here/screenshots"
(cd "$here" && node --test --test-concurrency=1 --test-reporter=spec) 2>&1 | tee -a "$log" || browser_rc=$?

# One closing line for both: Vitest's "Tests  2 failed | 55 passed (57)", node's "ℹ pass N".
plain="$(sed -e 's/\x1b\[[0-9;]*m//g' "$log")"
# The first number in what matches $1 within $2, or 0.
num() {
  local m
  m="$(grep -Eo "$1" <<<"$2" | head -n 1 | grep -Eo '[0-9]+' | head -n 1)" || true
  echo "${m:-0}"
}
tests_line="$(grep -E '^ *Tests ' <<<"$plain" | tail -n 1)" || true
passed=$(( $(num '[0-9]+ passed' "$tests_line") + $(num 'ℹ pass [0-9]+' "$plain") ))
failed=$(( $(num '[0-9]+ failed' "$tests_line") + $(num 'ℹ fail [0-9]+' "$plain") ))
shots=$(find "$here/screenshots" -name '*.png' 2>/dev/null | wc -l | tr -d ' ')
echo "ui: $shots screenshots in tests/ui/screenshots/"
if [[ $vitest_rc -ne 0 || $browser_rc -ne 0 ]]; then
  echo "ui: FAILED (vitest exit $vitest_rc, browser exit $browser_rc)" >&2
  echo "ui: $passed passed, $failed failed"
  exit 1
fi
echo "ui: $passed passed, $failed failed"
