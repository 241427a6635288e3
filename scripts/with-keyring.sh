#!/usr/bin/env bash
# Runs CMD ARGS... where an OS keychain answers, with SWITCHYARD_KEYRING_TESTS=1 exported so the
# keychain tests run against it (and fail loudly if it turns out unusable).
#
#   Linux: when no Secret Service owns org.freedesktop.secrets on the session bus (or there is
#          no session bus), starts a throwaway one: a private D-Bus session (dbus-run-session)
#          with gnome-keyring unlocked by a random password, its keyrings under a temp dir, so
#          the user's own login keyring is never read or written. Both go away afterwards.
#   macOS: the login Keychain is always there; runs the command as is.
#
# Exits with the command's status. Needs gnome-keyring and dbus-x11 on Linux (`make deps-keyring`).
set -euo pipefail

if [ "$#" -eq 0 ]; then
  echo "usage: $0 CMD [ARGS...]" >&2
  exit 2
fi

export SWITCHYARD_KEYRING_TESTS=1

if [ "$(uname -s)" != Linux ]; then
  exec "$@"
fi

# True when something owns the Secret Service name on the current session bus.
secret_service_running() {
  [ -n "${DBUS_SESSION_BUS_ADDRESS:-}" ] || return 1
  command -v dbus-send >/dev/null || return 1
  dbus-send --session --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus \
    org.freedesktop.DBus.NameHasOwner string:org.freedesktop.secrets 2>/dev/null |
    grep -q 'boolean true'
}

if secret_service_running; then
  exec "$@"
fi

for tool in dbus-run-session dbus-send gnome-keyring-daemon; do
  if ! command -v "$tool" >/dev/null; then
    echo "with-keyring: no Secret Service is running and $tool is missing;" \
      "install gnome-keyring and dbus-x11 (make deps-keyring)" >&2
    exit 127
  fi
done

tmp="$(mktemp -d "${TMPDIR:-/tmp}/switchyard-keyring.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
mkdir -m 700 "$tmp/home" "$tmp/data" "$tmp/run"

# Runs inside the private session: $1 is the temp dir, the rest is the command.
inner='
set -euo pipefail
tmp="$1"
shift
# gnome-keyring keeps keyrings in $XDG_DATA_HOME/keyrings (else ~/.local/share/keyrings) and its
# control socket in $XDG_RUNTIME_DIR/keyring: point all of them into the temp dir. Only the
# daemon sees these, so the command keeps the real HOME (and with it cargo and rustup).
password="$(od -An -N16 -tx1 /dev/urandom | tr -d " \n")"
printf "%s" "$password" |
  HOME="$tmp/home" XDG_DATA_HOME="$tmp/data" XDG_RUNTIME_DIR="$tmp/run" \
    gnome-keyring-daemon --foreground --unlock --components=secrets >"$tmp/daemon.log" 2>&1 &
daemon=$!
unset password
trap '\''kill "$daemon" 2>/dev/null || true'\'' EXIT

# The daemon claims org.freedesktop.secrets once its login keyring is unlocked.
for _ in $(seq 100); do
  if dbus-send --session --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus \
    org.freedesktop.DBus.NameHasOwner string:org.freedesktop.secrets 2>/dev/null |
    grep -q "boolean true"; then
    ready=1
    break
  fi
  if ! kill -0 "$daemon" 2>/dev/null; then
    break
  fi
  sleep 0.1
done
if [ -z "${ready:-}" ]; then
  echo "with-keyring: gnome-keyring-daemon did not start a Secret Service:" >&2
  cat "$tmp/daemon.log" >&2
  exit 1
fi

status=0
"$@" || status=$?
exit "$status"
'

status=0
# dbus-daemon complains when it may not raise its fd limit (containers); that is harmless.
dbus-run-session -- bash -c "$inner" with-keyring "$tmp" "$@" || status=$?
exit "$status"
