package geo

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"warden/backend/geo/internal/norm"
)

// ambiguousKM is how far apart same-named candidates may lie and still count as one place
// (GeoNames lists some cities twice, or a city next to a suburb of its name).
const ambiguousKM = 100

// region is one first-level administrative division, placed at the mean of its cities.
type region struct {
	cc, code, name, key string
	lat, lon, radiusKM  float64
}

// regionTable indexes admin1.tsv by "CC.code" and by country.
type regionTable struct {
	byCode    map[string]*region
	byCountry map[string][]*region
}

func parseRegions(text string) (*regionTable, error) {
	t := &regionTable{byCode: map[string]*region{}, byCountry: map[string][]*region{}}
	for n, line := range lines(text) {
		f := strings.Split(line, "\t")
		if len(f) != 6 {
			return nil, fmt.Errorf("region table line %d: want 6 fields", n)
		}
		cc, code, ok := strings.Cut(f[0], ".")
		lat, err1 := strconv.ParseFloat(f[3], 64)
		lon, err2 := strconv.ParseFloat(f[4], 64)
		rad, err3 := strconv.ParseFloat(f[5], 64)
		if !ok || err1 != nil || err2 != nil || err3 != nil {
			return nil, fmt.Errorf("region table line %d: bad field", n)
		}
		r := &region{cc: cc, code: code, name: f[1], key: f[2], lat: lat, lon: lon,
			radiusKM: max(rad, minRadiusKM)}
		t.byCode[f[0]] = r
		t.byCountry[cc] = append(t.byCountry[cc], r)
	}
	return t, nil
}

// find returns the region of country cc whose name matches the folded region key.
func (t *regionTable) find(cc, key string) *region {
	var loose *region
	for _, r := range t.byCountry[cc] {
		if r.key == key {
			return r
		}
		if loose == nil && regionMatch(r.key, key) {
			loose = r
		}
	}
	return loose
}

// regionMatch compares two folded region keys, allowing one to be a run of words in the other
// ("ile de france" and "region ile de france").
func regionMatch(a, b string) bool {
	if a == "" || b == "" {
		return false
	}
	return a == b || strings.Contains(" "+a+" ", " "+b+" ") ||
		strings.Contains(" "+b+" ", " "+a+" ")
}

// gazetteer is the city table: the generated text itself, sorted by folded name, and the
// offset of each line. Keeping the text as it is embedded costs no heap beyond the offsets.
type gazetteer struct {
	text string
	off  []uint32
}

// place is one gazetteer row.
type place struct {
	cc, admin1 string
	lat, lon   float64
}

func parseGazetteer(text string) (*gazetteer, error) {
	g := &gazetteer{text: text}
	prev := ""
	pos := 0
	for line := range strings.Lines(text) {
		start := pos
		pos += len(line)
		if line == "" || line[0] == '#' || line == "\n" {
			continue
		}
		key, _, _ := strings.Cut(line, "\t")
		if key < prev {
			return nil, fmt.Errorf("gazetteer is not sorted at %q", key)
		}
		prev = key
		g.off = append(g.off, uint32(start))
	}
	return g, nil
}

func (g *gazetteer) line(i int) string {
	s := g.text[g.off[i]:]
	if j := strings.IndexByte(s, '\n'); j >= 0 {
		s = s[:j]
	}
	return s
}

func (g *gazetteer) key(i int) string {
	k, _, _ := strings.Cut(g.line(i), "\t")
	return k
}

// lookup returns the rows for a folded city name.
func (g *gazetteer) lookup(key string) []place {
	if key == "" {
		return nil
	}
	i := sort.Search(len(g.off), func(i int) bool { return g.key(i) >= key })
	var out []place
	for ; i < len(g.off); i++ {
		f := strings.Split(g.line(i), "\t")
		if f[0] != key {
			break
		}
		if len(f) != 5 {
			continue
		}
		lat, err1 := strconv.ParseFloat(f[3], 64)
		lon, err2 := strconv.ParseFloat(f[4], 64)
		if err1 == nil && err2 == nil {
			out = append(out, place{cc: f[1], admin1: f[2], lat: lat, lon: lon})
		}
	}
	return out
}

// Place locates an event from its own city, region and country text (a country name or code)
// through the offline gazetteer. It prefers a city of that name in that country, disambiguated
// by region; then the region; then the country centroid with a country-sized radius. A city
// name that stays ambiguous (two "Springfield"s and no region) falls back rather than guesses.
func (d *DB) Place(city, region, countryName string) Location {
	none := Location{Precision: PrecisionNone}
	if d == nil {
		return none
	}
	cc := d.CountryCode(countryName)
	rkey := norm.Region(region)

	if l, ok := d.placeCity(norm.Fold(city), rkey, cc); ok {
		l.City = strings.TrimSpace(city)
		return l
	}
	if cc != "" && rkey != "" {
		if r := d.regions.find(cc, rkey); r != nil {
			l := Location{Country: cc, Region: r.name, Lat: r.lat, Lon: r.lon,
				RadiusKM: r.radiusKM, Precision: PrecisionRegion, Source: srcGazetteer}
			d.fillCountryName(&l)
			return l
		}
	}
	if l, ok := d.countries.centroid(cc); ok {
		return l
	}
	return none
}

// placeCity picks the gazetteer row for a city: in country cc when known, narrowed by the
// region when that matches any candidate, and only when the candidates left are one place.
func (d *DB) placeCity(key, rkey, cc string) (Location, bool) {
	var cands []place
	for _, p := range d.places.lookup(key) {
		if cc == "" || p.cc == cc {
			cands = append(cands, p)
		}
	}
	if rkey != "" {
		var inRegion []place
		for _, p := range cands {
			if r := d.regions.byCode[p.cc+"."+p.admin1]; r != nil && regionMatch(r.key, rkey) {
				inRegion = append(inRegion, p)
			}
		}
		if len(inRegion) > 0 {
			cands = inRegion
		}
	}
	if len(cands) == 0 {
		return Location{}, false
	}

	first := cands[0]
	radius := float64(gazetteerRadiusKM)
	for _, p := range cands[1:] {
		dist := haversineKM(first.lat, first.lon, p.lat, p.lon)
		if p.cc != first.cc || dist > ambiguousKM {
			return Location{}, false
		}
		radius = max(radius, gazetteerRadiusKM+dist)
	}
	l := Location{Country: first.cc, Lat: first.lat, Lon: first.lon, RadiusKM: radius,
		Precision: PrecisionCity, Source: srcGazetteer}
	if r := d.regions.byCode[first.cc+"."+first.admin1]; r != nil {
		l.Region = r.name
	}
	d.fillCountryName(&l)
	return l, true
}
