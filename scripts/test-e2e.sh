#!/usr/bin/env bash
# Browser tests of Warden's frontend: builds warden, then drives Debian's Chromium through
# `warden serve` against `warden fakeapi` serving the shared fixtures. The run happens inside a
# private D-Bus session with a freshly unlocked gnome-keyring, because saving a connector puts
# its API key in the real Secret Service. Screenshots land in e2e/out/.
#
# Needs: go, node/npm, chromium, dbus-run-session, gnome-keyring-daemon (see scripts/deps.sh).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
fixtures="${WARDEN_FIXTURES:-$root/../shared/fixtures/atlassian}"

for tool in go node npm chromium dbus-run-session gnome-keyring-daemon; do
  if ! command -v "$tool" >/dev/null; then
    echo "test-e2e: $tool is not installed (run scripts/deps.sh)" >&2
    exit 1
  fi
done
if [ ! -d "$fixtures" ]; then
  echo "test-e2e: fixtures not found at $fixtures (set WARDEN_FIXTURES)" >&2
  exit 1
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/home"

echo "test-e2e: building warden"
(cd "$root" && go build -o "$work/warden" .)

if [ ! -d "$root/e2e/node_modules/playwright-core" ]; then
  echo "test-e2e: installing playwright-core (no browser download)"
  (cd "$root/e2e" && npm install --no-audit --no-fund)
fi

rm -rf "$root/e2e/out"

# A temp HOME keeps the keyring, Chromium's profile and crash reports out of the user's.
export HOME="$work/home" WARDEN_BIN="$work/warden" WARDEN_FIXTURES="$fixtures"
export XDG_DATA_HOME="$work/home/.local/share" XDG_CONFIG_HOME="$work/home/.config"
unset DBUS_SESSION_BUS_ADDRESS

dbus-run-session -- bash -c '
  set -euo pipefail
  echo -n pw | gnome-keyring-daemon --unlock --components=secrets >/dev/null
  cd "$1/e2e"
  node --test --test-concurrency=1 --test-reporter=spec activity.test.mjs demo.test.mjs governance.test.mjs \
    alerts.test.mjs automation.test.mjs
' test-e2e "$root"
