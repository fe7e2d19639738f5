#!/usr/bin/env bash
# Runs backend/keys against a real Secret Service (gnome-keyring), once per situation the
# package must recognise: unlocked, never unlocked, no provider on the bus, and no bus at all.
# Each case gets a throwaway HOME and its own dbus-run-session, so nothing touches the user's
# keyring and no daemon outlives the script. Needs: dbus-daemon, gnome-keyring, go.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/usr/local/go/bin"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# Without a display the unlock prompt (gcr-prompter) fails at once instead of waiting for a
# user who is not there.
unset DISPLAY WAYLAND_DISPLAY DBUS_SESSION_BUS_ADDRESS

echo "test-keyring: building the test binary"
go test -c -o "$work/keys.test" ./backend/keys

# run_case NAME TEST_REGEX COMMAND...: runs the test binary through COMMAND with a fresh HOME.
run_case() {
	local name="$1" regex="$2"
	shift 2
	local home="$work/home-$name"
	mkdir -p "$home/run"
	chmod 700 "$home/run"
	echo "test-keyring: case $name"
	HOME="$home" XDG_RUNTIME_DIR="$home/run" KEYRING_SETUP="$name" REAL_KEYRING=1 \
		"$@" "$work/keys.test" -test.run "^${regex}\$" -test.count=1 -test.v 2>&1 |
		grep -v 'Failed to set fd limit' || return 1
}

# check_pass TEST: a PASS line proves the test ran instead of skipping.
check_pass() {
	grep -q -- "--- PASS: $1" "$work/out" || { echo "test-keyring: $1 did not pass"; exit 1; }
}

# 1. An unlocked login keyring: round trip, ErrNotFound after Delete, then locked.
run_case unlocked TestRealKeyringUnlocked dbus-run-session -- bash -c '
	echo -n warden-test-pw | gnome-keyring-daemon --unlock --components=secrets >/dev/null
	exec "$@"' bash | tee "$work/out"
check_pass TestRealKeyringUnlocked

# 2. gnome-keyring is activated by the first call but nobody ever unlocked it.
run_case never-unlocked TestRealKeyringNeverUnlocked dbus-run-session -- | tee "$work/out"
check_pass TestRealKeyringNeverUnlocked

# 3. A bus whose only service directory is empty: nothing provides org.freedesktop.secrets.
mkdir -p "$work/no-services"
cat >"$work/session-empty.conf" <<CONF
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:tmpdir=$work</listen>
  <servicedir>$work/no-services</servicedir>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
CONF
run_case no-provider TestRealKeyringNoProvider \
	dbus-run-session --config-file="$work/session-empty.conf" -- | tee "$work/out"
check_pass TestRealKeyringNoProvider

# 4. No session bus at all. The keychain must say so instead of autolaunching dbus-launch
#    (which would leave a bus and a locked keyring daemon running, and write ~/.dbus).
if [ -e "/run/user/$(id -u)/bus" ]; then
	echo "test-keyring: skipping case no-bus: /run/user/$(id -u)/bus exists on this machine"
else
	run_case no-bus TestRealKeyringNoBus env | tee "$work/out"
	check_pass TestRealKeyringNoBus
	if [ -e "$work/home-no-bus/.dbus" ]; then
		echo "test-keyring: a session bus was autolaunched (found ~/.dbus)"
		exit 1
	fi
fi

echo "test-keyring: all cases passed"
