# Sourced by the end-to-end suites' run.sh: exports SWITCHYARD_BIN and SWITCHYARD_FAKE_BIN
# (the debug builds under <repo>/target unless set) and stops with a hint when one is not built.
# Expects `repo` to be set to the repository's root.
export SWITCHYARD_BIN="${SWITCHYARD_BIN:-$repo/target/debug/switchyard}"
export SWITCHYARD_FAKE_BIN="${SWITCHYARD_FAKE_BIN:-$repo/target/debug/switchyard-fake}"
for bin in "$SWITCHYARD_BIN" "$SWITCHYARD_FAKE_BIN"; do
  if [[ ! -x "$bin" ]]; then
    echo "run.sh: $bin is missing; build it first: cargo build -p switchyard-cli -p switchyard-testkit --bins" >&2
    exit 2
  fi
done
