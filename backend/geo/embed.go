package geo

import _ "embed"

// The small tables are committed, so a clean checkout builds, tests and can still answer
// Place, CountryCode and Bordering before scripts/geo-data.sh has run. They are strings so the
// tables read the binary's read-only data in place.

//go:embed data/countries.tsv
var countriesTSV string

//go:embed data/admin1.tsv
var admin1TSV string

//go:embed data/cities-core.tsv
var citiesCoreTSV string

// bundle holds the big data files. embed_gen.go, written by scripts/geo-data.sh and ignored by
// git, fills it in an init function; without it every field is empty and Open degrades.
type bundle struct {
	country, asn, cities, manifest string
}

var bundled bundle
