# Switchyard — the two commands: `make run` (the app) and `make test` (every test).
# Both install what they need on a fresh Debian/Ubuntu or macOS machine.

SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
CARGO ?= cargo
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
CONFIG ?=
SERVE_ARGS := $(if $(CONFIG),--config $(CONFIG),)

.PHONY: run serve test lint types check-types unit compat test-clients bench build deps deps-rust deps-node deps-python deps-keyring check-config clean \
	bundle desktop-test deps-desktop

# The desktop app (src-tauri). The UI build (`frontend`) comes first: switchyard-ui-assets
# embeds frontend/dist when it is compiled. Its system libraries (Linux): webkit2gtk, the tray, librsvg for icons, xdo, libsecret; and
# for its tests, an X server, the WebDriver for WebKitGTK, a Secret Service, and X tools.
DESKTOP_PKGS := libwebkit2gtk-4.1-dev libayatana-appindicator3-dev librsvg2-dev libxdo-dev \
	libsecret-1-dev build-essential pkg-config
DESKTOP_TEST_PKGS := xvfb webkit2gtk-driver dbus-x11 gnome-keyring libsecret-tools xdotool imagemagick
# Pinned, installed into target/tools so every machine and CI gets the same ones.
TAURI_DRIVER := target/tools/bin/tauri-driver
TAURI_DRIVER_VERSION := 2.1.0
TAURI_CLI := target/tools/bin/cargo-tauri
TAURI_CLI_VERSION := 2.12.4

## run: build the UI and the desktop app, then start it (the gateway runs inside it, on 127.0.0.1:7137)
run: deps-rust deps-desktop frontend
	$(CARGO) run --release --locked -p switchyard-desktop

## serve: run the headless gateway on 127.0.0.1:7137 (CONFIG=path to pick a config file)
serve: deps-rust frontend
	$(CARGO) run --release -p switchyard-cli --bin switchyard -- serve $(SERVE_ARGS)

## test: formatting, lints, Rust tests, the official-SDK compatibility suites, the real coding clients, the UI in a browser, then the desktop app
# (deps-desktop first: the workspace's lints and tests compile src-tauri, which links webkit2gtk)
test: deps deps-desktop lint unit compat test-clients ui-test desktop-test

lint: deps-rust deps-desktop check-types
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets --locked -- -D warnings
	$(CARGO) clippy -p switchyard-core --features ts --all-targets --locked -- -D warnings

## types: regenerate the UI's TypeScript types (frontend/src/api/generated) from the Rust views
types: deps-rust
	$(CARGO) test --locked -p switchyard-core --features ts --lib server::views::typescript

## check-types: fail when the checked-in TypeScript types differ from what the Rust views generate
check-types: types
	@git diff --exit-code --stat -- frontend/src/api/generated || { \
	  echo "frontend/src/api/generated is out of date: run 'make types' and commit the result." >&2; exit 1; }
	@new="$$(git ls-files --others --exclude-standard -- frontend/src/api/generated)"; [ -z "$$new" ] || { \
	  echo "New generated types are not committed: $$new" >&2; exit 1; }

# The keychain tests need a Secret Service: with-keyring.sh starts a throwaway one when there is none.
unit: deps-rust deps-desktop deps-keyring frontend
	bash scripts/with-keyring.sh $(CARGO) test --workspace --locked

build: deps-rust frontend
	$(CARGO) build --workspace --bins --locked

compat: build deps-node deps-python deps-keyring
	SWITCHYARD_BIN=$(CURDIR)/target/debug/switchyard \
	SWITCHYARD_FAKE_BIN=$(CURDIR)/target/debug/switchyard-fake \
	bash scripts/with-keyring.sh bash tests/compat/run.sh

## test-clients: the real Codex CLI and Claude Code (pinned in tests/clients/package-lock.json) against the gateway
test-clients: build deps-node deps-keyring
	SWITCHYARD_BIN=$(CURDIR)/target/debug/switchyard \
	SWITCHYARD_FAKE_BIN=$(CURDIR)/target/debug/switchyard-fake \
	bash scripts/with-keyring.sh bash tests/clients/run.sh

.PHONY: deps-frontend frontend deps-chromium ui-test

# What the built UI depends on: when none of it is newer than frontend/dist, the build is skipped.
FRONTEND_INPUTS := frontend/src frontend/public frontend/index.html frontend/package.json \
  frontend/package-lock.json frontend/vite.config.ts frontend/tsconfig.json

## frontend: build the UI into frontend/dist, which the gateway embeds and serves at /ui/
frontend: deps-frontend
	@if [ -f frontend/dist/index.html ] && [ -z "$$(find $(FRONTEND_INPUTS) -newer frontend/dist/index.html 2>/dev/null | head -n 1)" ]; then \
	  echo "frontend/dist is up to date"; \
	else \
	  cd frontend && npm run build; \
	fi

## ui-test: the UI's Vitest suite, then the browser suite (Chromium) against the debug binaries
ui-test: build frontend deps-chromium deps-keyring
	SWITCHYARD_BIN=$(CURDIR)/target/debug/switchyard \
	SWITCHYARD_FAKE_BIN=$(CURDIR)/target/debug/switchyard-fake \
	bash scripts/with-keyring.sh bash tests/ui/run.sh

# Node 20.19+ and npm (Vite's floor), then `npm ci` in frontend/ and tests/ui/ when node_modules
# is missing or older than the lock file.
deps-frontend: deps-node
	@node -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>20||(a===20&&b>=19)?0:1)' || { \
	  echo "The UI needs Node.js 20.19 or newer (found $$(node --version)): install a newer Node, then run make again." >&2; exit 1; }
	@for dir in frontend tests/ui; do \
	  if [ -f $$dir/package.json ] && { [ ! -f $$dir/node_modules/.package-lock.json ] || [ $$dir/package-lock.json -nt $$dir/node_modules/.package-lock.json ]; }; then \
	    (cd $$dir && npm ci --no-audit --no-fund); \
	  fi; \
	done

# A Chromium for the browser tests: Debian's package on Linux. Elsewhere (macOS) the tests use an
# installed Google Chrome; SWITCHYARD_CHROMIUM=/path/to/chrome picks any other browser binary.
deps-chromium:
	@if [ "$$(uname -s)" = Linux ] && [ -z "$${SWITCHYARD_CHROMIUM:-}" ] && [ ! -x /usr/bin/chromium ]; then \
	  $(MAKE) --no-print-directory apt PKGS="chromium"; \
	fi

## bench: the gateway against direct calls to a fake upstream; prints added latency and RSS
bench: deps-rust
	$(CARGO) build --release --locked -p switchyard-cli -p switchyard-bench --bins
	target/release/switchyard-bench --gateway-bin target/release/switchyard $(BENCH_ARGS)

## bundle: the Linux package (.deb, with the icons from icons/) in target/release/bundle/deb/
# No AppImage: Tauri's AppImage bundler downloads linuxdeploy and the AppImage runtime from
# GitHub, and neither is packaged by Debian.
bundle: deps-rust deps-desktop frontend
	@[ -x $(TAURI_CLI) ] || $(CARGO) install tauri-cli --version $(TAURI_CLI_VERSION) --locked --root target/tools
	cd src-tauri && ../$(TAURI_CLI) build --bundles deb
	@ls -l target/release/bundle/deb/*.deb

## desktop-test: the desktop app in a real window under Xvfb, driven by WebDriver, with a throwaway Secret Service
desktop-test: deps-rust deps-desktop deps-python deps-keyring frontend
	$(CARGO) build --locked -p switchyard-desktop -p switchyard-testkit --bins
	xvfb-run -a -s "-screen 0 1280x860x24" bash scripts/with-keyring.sh bash tests/desktop/run.sh

check-config: deps-rust
	$(CARGO) run -q -p switchyard-cli --bin switchyard -- check-config $(CONFIG)

deps: deps-rust deps-node deps-python

deps-rust:
	@command -v $(CARGO) >/dev/null || { echo "Rust is needed: install it from https://rustup.rs, then run make again." >&2; exit 1; }
	@if command -v rustup >/dev/null; then \
	  rustup component list --installed 2>/dev/null | grep -q '^rustfmt' || rustup component add rustfmt; \
	  rustup component list --installed 2>/dev/null | grep -q '^clippy' || rustup component add clippy; \
	fi
	@command -v cc >/dev/null || $(MAKE) --no-print-directory apt PKGS="build-essential pkg-config"

deps-node:
	@command -v node >/dev/null && command -v npm >/dev/null || $(MAKE) --no-print-directory apt PKGS="nodejs npm" BREW="node"

deps-python:
	@command -v python3 >/dev/null || $(MAKE) --no-print-directory apt PKGS="python3 python3-venv python3-pip" BREW="python3"
	@python3 -c 'import venv, ensurepip' 2>/dev/null || $(MAKE) --no-print-directory apt PKGS="python3-venv python3-pip"

# gnome-keyring and a D-Bus session for the keychain tests (Linux; macOS has its Keychain).
deps-keyring:
	@if [ "$$(uname -s)" = Linux ]; then \
	  command -v gnome-keyring-daemon >/dev/null && command -v dbus-run-session >/dev/null \
	    && command -v dbus-send >/dev/null \
	    || $(MAKE) --no-print-directory apt PKGS="gnome-keyring dbus-x11 libsecret-tools"; \
	fi

# The desktop app's system libraries and test tools (Linux, Debian/Ubuntu), and tauri-driver.
deps-desktop:
	@if [ "$$(uname -s)" = Linux ] && command -v dpkg-query >/dev/null; then \
	  missing=""; \
	  for p in $(DESKTOP_PKGS) $(DESKTOP_TEST_PKGS); do \
	    dpkg-query -W -f='$${Status}' "$$p" 2>/dev/null | grep -q 'ok installed' || missing="$$missing $$p"; \
	  done; \
	  [ -z "$$missing" ] || $(MAKE) --no-print-directory apt PKGS="$$missing"; \
	fi
	@if [ "$$(uname -s)" = Linux ] && [ ! -x $(TAURI_DRIVER) ]; then \
	  $(CARGO) install tauri-driver --version $(TAURI_DRIVER_VERSION) --locked --root target/tools; \
	fi

# Installs system packages with the platform's package manager.
apt:
	@if command -v apt-get >/dev/null; then \
	  $(SUDO) apt-get update -qq && $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(PKGS); \
	elif command -v brew >/dev/null && [ -n "$(BREW)" ]; then brew install $(BREW); \
	else echo "Please install: $(PKGS)" >&2; exit 1; fi

clean:
	$(CARGO) clean
	rm -rf .venv tests/compat/node/node_modules tests/clients/node_modules bench-results
