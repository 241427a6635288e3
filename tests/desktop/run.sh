#!/usr/bin/env bash
# The desktop suite: the app in a real window under Xvfb, driven by WebDriver (tauri-driver in
# front of WebKitWebDriver). Run it inside a Secret Service and an X server, as `make
# desktop-test` does:
#   bash scripts/with-keyring.sh xvfb-run -a -s "-screen 0 1280x860x24" bash tests/desktop/run.sh
# Expects the binaries built already (make desktop-test builds them):
#   target/debug/switchyard-desktop, target/debug/switchyard-fake, target/tools/bin/tauri-driver
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

if [[ -z "${DISPLAY:-}" ]]; then
  echo "run.sh: no X display; run it under xvfb-run (make desktop-test does)" >&2
  exit 2
fi

venv="$here/.venv"
if [[ ! -x "$venv/bin/python" ]]; then
  python3 -m venv "$venv"
fi
"$venv/bin/python" -m pip install -q --disable-pip-version-check -r "$here/requirements.txt"

cd "$here"
exec "$venv/bin/python" -m pytest -q -s -p no:cacheprovider "$@"
