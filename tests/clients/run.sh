#!/usr/bin/env bash
# The real clients against the gateway: Codex CLI (`codex exec`, Responses API through a custom
# provider) and Claude Code (`claude -p`, Anthropic Messages via ANTHROPIC_BASE_URL), both from
# npm at the versions pinned in package-lock.json, in front of `switchyard-fake` upstreams.
# Expects the binaries built already:
#   cargo build -p switchyard-cli -p switchyard-testkit --bins
# or SWITCHYARD_BIN / SWITCHYARD_FAKE_BIN pointing at them.
# SWITCHYARD_CLIENTS_CAPTURE=DIR records every request the clients send (see lib/stack.mjs).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"

source "$repo/tests/lib/binaries.sh"

# npm ci when node_modules is missing or older than the lock file. The clients' native
# binaries come as optional platform packages from the registry; only this machine's is fetched.
if [[ ! -f "$here/node_modules/.package-lock.json" || "$here/package-lock.json" -nt "$here/node_modules/.package-lock.json" ]]; then
  (cd "$here" && npm ci --no-audit --no-fund)
fi

echo "== Clients ($(node --version), $("$here/node_modules/.bin/codex" --version), claude $("$here/node_modules/.bin/claude" --version))"
cd "$here" && exec node --test --test-reporter=spec
