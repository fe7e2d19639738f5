#!/usr/bin/env bash
# Installs what building and testing Warden needs on Debian 12, and does nothing when it is all
# there already, so `make` can run it every time. As root it installs missing Debian packages
# itself; as anyone else it prints the apt-get command and fails. It also installs the browser
# test's npm packages (e2e/package.json) when node_modules is missing.
# Go (/usr/local/go/bin) and Node.js are expected to be installed already.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
	# build: cgo toolchain, GTK and WebKitGTK 4.1 for the desktop shell
	make gcc pkg-config libgtk-3-dev libwebkit2gtk-4.1-dev ca-certificates
	# desktop smoke test under Xvfb: screenshots, window lookup, fonts
	xvfb xauth imagemagick x11-utils xdotool fonts-dejavu-core
	# browser tests
	chromium
	# keychain tests against a real Secret Service, in a private D-Bus session
	gnome-keyring dbus-x11 libsecret-tools dbus-daemon libglib2.0-bin
	# report checks
	poppler-utils
)

# installed PKG: true when dpkg knows the package as installed ("ii").
installed() {
	[ "$(dpkg-query -W -f='${db:Status-Abbrev}' "$1" 2>/dev/null)" = "ii " ]
}

missing=()
for p in "${packages[@]}"; do
	installed "$p" || missing+=("$p")
done

if [ "${#missing[@]}" -gt 0 ]; then
	cmd="apt-get install -y --no-install-recommends ${missing[*]}"
	if [ "$(id -u)" -ne 0 ]; then
		echo "deps: missing Debian packages: ${missing[*]}" >&2
		echo "deps: install them as root with:" >&2
		echo "  apt-get update && $cmd" >&2
		exit 1
	fi
	echo "deps: installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -q
	# shellcheck disable=SC2086 # word splitting of the package list is intended
	apt-get install -y -q --no-install-recommends ${missing[*]}
else
	echo "deps: all ${#packages[@]} Debian packages present"
fi

export PATH="/usr/local/go/bin:$PATH"
if ! command -v go >/dev/null; then
	echo "deps: go not found (expected in /usr/local/go/bin)" >&2
	exit 1
fi

# The browser test's node packages (playwright-core drives the Debian chromium; no download).
if [ -f e2e/package.json ] && [ ! -d e2e/node_modules ]; then
	command -v npm >/dev/null || { echo "deps: npm not found; install Node.js 20" >&2; exit 1; }
	echo "deps: installing e2e node packages"
	if [ -f e2e/package-lock.json ]; then
		(cd e2e && npm ci --no-audit --no-fund)
	else
		(cd e2e && npm install --no-audit --no-fund)
	fi
fi

# The offline IP and place data that backend/geo embeds (npm packages, cached; see the script).
bash scripts/geo-data.sh
