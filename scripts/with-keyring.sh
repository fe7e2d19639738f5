#!/usr/bin/env bash
# Runs a command inside a private D-Bus session with an unlocked gnome-keyring, so that tests
# which store API keys use a real Secret Service without touching the user's own keyring.
# HOME is a throwaway directory; the bus and the keyring daemon end with the command.
set -euo pipefail

home="$(mktemp -d)"
trap 'rm -rf "$home"' EXIT
mkdir -p -m 700 "$home/run"
unset DISPLAY WAYLAND_DISPLAY DBUS_SESSION_BUS_ADDRESS

# Keep the caller's Go caches: the throwaway HOME would otherwise rebuild everything.
export GOCACHE="${GOCACHE:-$(go env GOCACHE)}" GOMODCACHE="${GOMODCACHE:-$(go env GOMODCACHE)}"
export HOME="$home" XDG_RUNTIME_DIR="$home/run" WARDEN_REQUIRE_KEYRING=1

exec dbus-run-session -- bash -c '
	echo -n warden-test-keyring | gnome-keyring-daemon --unlock --components=secrets >/dev/null
	exec "$@"' bash "$@" 2> >(grep -v "Failed to set fd limit" >&2)
