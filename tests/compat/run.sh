#!/usr/bin/env bash
# End-to-end compatibility suites: the official OpenAI Python and Node SDKs
# against a real `switchyard serve` in front of `switchyard-fake` upstreams.
# Expects the binaries built already:
#   cargo build -p switchyard-cli -p switchyard-testkit --bins
# or SWITCHYARD_BIN / SWITCHYARD_FAKE_BIN pointing at them.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"

source "$repo/tests/lib/binaries.sh"

# Python: a venv at <repo>/.venv with the pinned requirements.
venv="$repo/.venv"
if [[ ! -x "$venv/bin/python" ]]; then
  python3 -m venv "$venv"
fi
"$venv/bin/python" -m pip install -q --disable-pip-version-check -r "$here/python/requirements.txt"

# Node: npm ci when node_modules is missing or older than the lock file.
node_dir="$here/node"
if [[ ! -f "$node_dir/node_modules/.package-lock.json" || "$node_dir/package-lock.json" -nt "$node_dir/node_modules/.package-lock.json" ]]; then
  (cd "$node_dir" && npm ci --no-audit --no-fund)
fi

py_rc=0
node_rc=0
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
echo "== Python (openai $("$venv/bin/python" -c 'import openai; print(openai.__version__)'))"
(cd "$here/python" && "$venv/bin/python" -m pytest -q) | tee -a "$log" || py_rc=$?
echo "== Node ($(node --version), openai $(node -p "require('$node_dir/node_modules/openai/package.json').version"))"
(cd "$node_dir" && node --test --test-reporter=spec) | tee -a "$log" || node_rc=$?

# One closing line for both suites.
count() { { grep -Eo "$1" "$log" || true; } | grep -Eo '[0-9]+' | awk '{ s += $1 } END { print s + 0 }'; }
passed=$(( $(count '[0-9]+ passed') + $(count 'ℹ pass [0-9]+') ))
failed=$(( $(count '[0-9]+ failed') + $(count 'ℹ fail [0-9]+') ))

if [[ $py_rc -ne 0 || $node_rc -ne 0 ]]; then
  echo "compat: FAILED (pytest exit $py_rc, node --test exit $node_rc)" >&2
  echo "compat: $passed passed, $failed failed"
  exit 1
fi
echo "compat: $passed passed, $failed failed"
