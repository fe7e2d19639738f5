#!/usr/bin/env bash
# Desktop smoke test: starts the real desktop binary on the demo organization under Xvfb and a
# private D-Bus session, takes a screenshot, and proves that the SA_ONSTACK signal fix works:
# with --selftest-nil-deref the app dereferences nil (and recovers) 1.5 s and 12 s after
# startup, i.e. after WebKit's JavaScript engine has installed its own fault handlers. Without
# the fix the process dies with "non-Go code set up signal handler without SA_ONSTACK flag".
#
# Usage: e2e/desktop-smoke.sh            (binary: build/bin/warden, or $WARDEN_BIN)
# Output: e2e/out/desktop.png and e2e/out/desktop-{stdout,stderr}.log
# Needs: xvfb xauth imagemagick x11-utils xdotool dbus-daemon (scripts/deps.sh installs them).
set -euo pipefail

if [ "${1:-}" = "--inner" ]; then
	inner=1
else
	inner=0
fi

say() { echo "desktop-smoke: $*"; }
fail() {
	echo "desktop-smoke: FAIL: $*" >&2
	exit 1
}

# ---------------------------------------------------------------------------------------
# Outer part: a throwaway HOME and an Xvfb display, then the inner part under dbus-run-session.
if [ "$inner" = 0 ]; then
	cd "$(dirname "$0")/.."
	bin="${WARDEN_BIN:-build/bin/warden}"
	[ -x "$bin" ] || fail "$bin not found: run 'make build' first"
	for tool in Xvfb xdotool import convert dbus-run-session; do
		command -v "$tool" >/dev/null || fail "$tool missing: run scripts/deps.sh"
	done

	tmp="$(mktemp -d)"
	xvfb_pid=""
	cleanup() {
		if [ -n "$xvfb_pid" ]; then
			kill "$xvfb_pid" 2>/dev/null || true
			wait "$xvfb_pid" 2>/dev/null || true
		fi
		rm -rf "$tmp"
	}
	trap cleanup EXIT

	# HOME and XDG_RUNTIME_DIR must be set before dbus-run-session: services the bus starts
	# inherit them, and WebKit writes its caches under HOME (recipe §5).
	export HOME="$tmp/home" XDG_RUNTIME_DIR="$tmp/home/run" NO_AT_BRIDGE=1
	mkdir -p "$HOME" && mkdir -m 700 "$XDG_RUNTIME_DIR"
	unset DBUS_SESSION_BUS_ADDRESS WAYLAND_DISPLAY

	# -displayfd picks a free display number and writes it once the server is ready.
	Xvfb -displayfd 3 -screen 0 1280x800x24 -nolisten tcp 3>"$tmp/display" \
		>"$tmp/xvfb.log" 2>&1 &
	xvfb_pid=$!
	for _ in $(seq 100); do
		[ -s "$tmp/display" ] && break
		kill -0 "$xvfb_pid" 2>/dev/null || { cat "$tmp/xvfb.log" >&2; fail "Xvfb did not start"; }
		sleep 0.1
	done
	[ -s "$tmp/display" ] || fail "Xvfb did not report a display"
	export DISPLAY=":$(tr -d '[:space:]' <"$tmp/display")"
	say "Xvfb on $DISPLAY"

	mkdir -p e2e/out
	export SMOKE_BIN="$bin" SMOKE_DATA="$tmp/data" SMOKE_OUT="$PWD/e2e/out"
	dbus-run-session -- bash "$0" --inner 2> >(grep -v 'Failed to set fd limit' >&2)
	say "PASS"
	exit 0
fi

# ---------------------------------------------------------------------------------------
# Inner part, inside the private session bus.
out="$SMOKE_OUT"
stdout_log="$out/desktop-stdout.log"
stderr_log="$out/desktop-stderr.log"
selftest_line="selftest: recovered nil dereference"
mkdir -p "$out"
rm -f "$out/desktop.png" "$stdout_log" "$stderr_log"

start=$SECONDS
"$SMOKE_BIN" --demo --data-dir "$SMOKE_DATA" --selftest-nil-deref \
	>"$stdout_log" 2>"$stderr_log" &
pid=$!
trap 'kill "$pid" 2>/dev/null || true' EXIT

show_logs() {
	echo "--- stderr of the app (last 40 lines) ---" >&2
	tail -n 40 "$stderr_log" >&2 || true
}

# alive fails the test, with the app's exit status and log, once the app has died.
alive() {
	if ! kill -0 "$pid" 2>/dev/null; then
		local rc=0
		wait "$pid" || rc=$?
		show_logs
		if grep -q "without SA_ONSTACK" "$stderr_log"; then
			fail "the app crashed on a signal handler without SA_ONSTACK (exit $rc): $1"
		fi
		fail "the app exited with status $rc: $1"
	fi
}

# 1. The window appears.
window=""
for _ in $(seq 300); do
	alive "before its window appeared"
	# xdotool matches names case-insensitively, and GTK also maps a window named "warden"
	# (the program name) for a moment; insist on the capitalised title.
	for w in $(xdotool search --onlyvisible --name '^Warden' 2>/dev/null || true); do
		name="$(xdotool getwindowname "$w" 2>/dev/null || true)"
		if [[ "$name" == Warden* ]]; then
			window="$w"
			break
		fi
	done
	[ -n "$window" ] && break
	sleep 0.1
done
[ -n "$window" ] || { show_logs; fail "no window titled Warden within 30 s"; }
say "window $window appeared after $((SECONDS - start)) s: $(xdotool getwindowname "$window")"

# 2. Let the page render, then screenshot the whole screen.
sleep 3
alive "while the page loaded"
mkdir -p "$out" # the browser test may have recreated e2e/out meanwhile
import -window root "$out/desktop.png"
colours="$(convert "$out/desktop.png" -format '%k' info:)"
spread="$(convert "$out/desktop.png" -colorspace Gray \
	-format '%[fx:int(standard_deviation*1000)]' info:)"
say "screenshot $out/desktop.png: $colours colours, grey stddev $spread/1000"
[ "$colours" -gt 50 ] || fail "the screenshot looks blank ($colours colours)"
[ "$spread" -gt 20 ] || fail "the screenshot has almost no contrast (stddev $spread/1000)"

# 3. The signal fix: both recovered nil dereferences are reported and the app lives on.
for _ in $(seq 250); do
	alive "during the nil-dereference self test"
	seen="$(grep -c "$selftest_line" "$stderr_log" || true)"
	[ "$seen" -ge 2 ] && break
	sleep 0.1
done
seen="$(grep -c "$selftest_line" "$stderr_log" || true)"
[ "$seen" -ge 2 ] || { show_logs; fail "saw $seen of 2 '$selftest_line' lines"; }
sleep 1
alive "after the nil-dereference self test"
say "both nil dereferences recovered, $((SECONDS - start)) s after start; the app is alive"

# 4. SIGTERM closes the app cleanly.
kill -TERM "$pid"
rc=0
for _ in $(seq 100); do
	kill -0 "$pid" 2>/dev/null || break
	sleep 0.1
done
if kill -0 "$pid" 2>/dev/null; then
	kill -KILL "$pid"
	fail "the app ignored SIGTERM for 10 s"
fi
wait "$pid" || rc=$?
trap - EXIT
[ "$rc" -eq 0 ] || { show_logs; fail "exit status $rc after SIGTERM, want 0"; }
say "clean exit after SIGTERM"
