# Switchyard — the two commands: `make run` (the app) and `make test` (every test).
# Both install what they need on a fresh Debian/Ubuntu or macOS machine.

SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
CARGO ?= cargo
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
CONFIG ?=
SERVE_ARGS := $(if $(CONFIG),--config $(CONFIG),)

.PHONY: run serve test lint unit compat bench build deps deps-rust deps-node deps-python deps-keyring check-config clean

## run: start Switchyard (the headless gateway until the desktop app lands)
run: serve

## serve: run the headless gateway on 127.0.0.1:7137 (CONFIG=path to pick a config file)
serve: deps-rust
	$(CARGO) run --release -p switchyard-cli --bin switchyard -- serve $(SERVE_ARGS)

## test: formatting, lints, Rust tests, then the official-SDK compatibility suites
test: deps lint unit compat

lint: deps-rust
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets --locked -- -D warnings

# The keychain tests need a Secret Service: with-keyring.sh starts a throwaway one when there is none.
unit: deps-rust deps-keyring
	bash scripts/with-keyring.sh $(CARGO) test --workspace --locked

build: deps-rust
	$(CARGO) build --workspace --bins --locked

compat: build deps-node deps-python deps-keyring
	SWITCHYARD_BIN=$(CURDIR)/target/debug/switchyard \
	SWITCHYARD_FAKE_BIN=$(CURDIR)/target/debug/switchyard-fake \
	bash scripts/with-keyring.sh bash tests/compat/run.sh

## bench: the gateway against direct calls to a fake upstream; prints added latency and RSS
bench: deps-rust
	$(CARGO) build --release --locked -p switchyard-cli -p switchyard-testkit --bins
	target/release/switchyard-bench --gateway-bin target/release/switchyard $(BENCH_ARGS)

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

# Installs system packages with the platform's package manager.
apt:
	@if command -v apt-get >/dev/null; then \
	  $(SUDO) apt-get update -qq && $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(PKGS); \
	elif command -v brew >/dev/null && [ -n "$(BREW)" ]; then brew install $(BREW); \
	else echo "Please install: $(PKGS)" >&2; exit 1; fi

clean:
	$(CARGO) clean
	rm -rf .venv tests/compat/node/node_modules bench-results
