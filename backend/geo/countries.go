package geo

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"warden/backend/geo/internal/norm"
)

// country is one row of the country table.
type country struct {
	code, name string
	lat, lon   float64
	radiusKM   float64
	borders    []string // ISO2 codes of land neighbours
}

// countryTable indexes the countries by code and by every folded name they are known by.
type countryTable struct {
	byCode  map[string]*country
	byAlias map[string]string
}

// parseCountries reads countries.tsv: cca2, cca3, name, lat, lon, area, borders, aliases.
func parseCountries(text string) (*countryTable, error) {
	t := &countryTable{byCode: map[string]*country{}, byAlias: map[string]string{}}
	for n, line := range lines(text) {
		f := strings.Split(line, "\t")
		if len(f) != 8 || len(f[0]) != 2 {
			return nil, fmt.Errorf("country table line %d: want 8 fields", n)
		}
		lat, err1 := strconv.ParseFloat(f[3], 64)
		lon, err2 := strconv.ParseFloat(f[4], 64)
		area, err3 := strconv.ParseFloat(f[5], 64)
		if err1 != nil || err2 != nil || err3 != nil {
			return nil, fmt.Errorf("country table line %d: bad number", n)
		}
		c := &country{code: f[0], name: f[2], lat: lat, lon: lon, radiusKM: areaRadius(area)}
		if f[6] != "" {
			c.borders = strings.Split(f[6], ",")
		}
		t.byCode[c.code] = c
		for _, a := range strings.Split(f[7], "|") {
			if a != "" {
				t.byAlias[a] = c.code
			}
		}
	}
	return t, nil
}

// areaRadius is the radius of a disc as large as the country: a fair error radius for a point
// at its centroid, with a floor for city states.
func areaRadius(areaKM2 float64) float64 {
	return math.Max(minRadiusKM, math.Round(math.Sqrt(areaKM2/math.Pi)))
}

// centroid places a country at its centre with a country-sized radius.
func (t *countryTable) centroid(code string) (Location, bool) {
	c := t.byCode[code]
	if c == nil {
		return Location{}, false
	}
	return Location{Country: c.code, CountryName: c.name, Lat: c.lat, Lon: c.lon,
		RadiusKM: c.radiusKM, Precision: PrecisionCountry, Source: srcCountries}, true
}

// CountryCode returns the ISO 3166-1 alpha-2 code for a country name ("Germany",
// "Deutschland", "germany", "DE", "DEU" and "Federal Republic of Germany" all give "DE"), or ""
// when the name is unknown. Case, accents and punctuation do not matter.
func (d *DB) CountryCode(name string) string {
	if d == nil {
		return ""
	}
	return d.countries.byAlias[norm.Fold(name)]
}

// Bordering reports whether two countries, by ISO2 code, share a land border. A country does
// not border itself: callers treat "same country" as its own case.
func (d *DB) Bordering(a, b string) bool {
	if d == nil {
		return false
	}
	a, b = strings.ToUpper(strings.TrimSpace(a)), strings.ToUpper(strings.TrimSpace(b))
	c := d.countries.byCode[a]
	return c != nil && a != b && slices.Contains(c.borders, b)
}

// lines yields the data lines of a generated table with their 1-based line numbers, skipping
// blank and # comment lines.
func lines(text string) func(func(int, string) bool) {
	return func(yield func(int, string) bool) {
		n := 0
		for line := range strings.Lines(text) {
			n++
			line = strings.TrimRight(line, "\r\n")
			if line == "" || line[0] == '#' {
				continue
			}
			if !yield(n, line) {
				return
			}
		}
	}
}
