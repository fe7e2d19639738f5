// Package geo locates audit events without a network: it maps an IP address to a country and
// a network owner (ASN) with MaxMind-format databases, turns the city, region and country text an
// event carries into coordinates through an offline gazetteer, and knows country centroids, sizes
// and land borders. Every answer carries an error radius, because detection must not mistake
// the coarseness of the data for travel.
//
// The default data is embedded in the binary (see data/README.md): a CC0 country database, an
// ASN database, the GeoNames gazetteer and a country table. A user may point Warden at a
// GeoLite2 or DB-IP City database for coordinates with an accuracy radius.
//
// The package also holds IP ranges with Defender-style categories and imported address lists
// (Tor exit lists, plain IP and CIDR lists), which detection uses to classify addresses.
package geo

import (
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"strings"

	"github.com/oschwald/maxminddb-golang/v2"
)

// Precision says how finely a Location places its point.
const (
	PrecisionCity    = "city"
	PrecisionRegion  = "region"
	PrecisionCountry = "country"
	PrecisionNone    = "none"
)

// Error radii for answers that come without one. A city database may carry its own accuracy
// radius (67% confidence in MaxMind's); DB-IP's has none, so it gets a floor like the one the
// detection reference recommends. A gazetteer city comes from the event's own text, whose
// accuracy we cannot see, so it is wider.
const (
	cityDBRadiusKM    = 50
	gazetteerRadiusKM = 75
	minRadiusKM       = 50
)

// Location is where an IP or a place is, with how sure we are.
type Location struct {
	Country     string // ISO 3166-1 alpha-2, "" if unknown
	CountryName string
	Region      string
	City        string
	Lat, Lon    float64
	// RadiusKM is the error radius: small for a city database hit, larger for a gazetteer city,
	// country-sized for a country centroid.
	RadiusKM  float64
	Precision string // PrecisionCity, PrecisionRegion, PrecisionCountry or PrecisionNone
	ASN       uint32
	ASOrg     string // network owner
	Source    string // which data set placed the point (SourceInfo.Name)
}

// HasCoords reports whether Lat and Lon mean anything: the zero Location and a "none" answer
// sit at 0,0 without being there.
func (l Location) HasCoords() bool {
	switch l.Precision {
	case PrecisionCity, PrecisionRegion, PrecisionCountry:
		return true
	}
	return false
}

// Options configures Open. Empty paths use the embedded defaults.
type Options struct {
	// CountryMMDB replaces the embedded country database (GeoLite2-Country, DB-IP Country or a
	// flat {country_code} database).
	CountryMMDB string
	// ASNMMDB replaces the embedded ASN database (GeoLite2-ASN or compatible field names).
	ASNMMDB string
	// CityMMDB adds a city database (GeoLite2-City, DB-IP City, or ip-location-db's flat
	// dbip-city files). None is embedded: the free ones are large and need attribution.
	CityMMDB string
	// CityMMDBv6 is a second city file for databases split by IP version, as ip-location-db
	// ships DB-IP City; each address goes to a file that holds its version.
	CityMMDBv6 string
	// Logger receives warnings about missing data; nil means slog.Default().
	Logger *slog.Logger
}

// DB answers location questions. It is safe for concurrent use and immutable after Open.
type DB struct {
	log       *slog.Logger
	country   *reader
	asn       *reader
	cities    []*reader
	places    *gazetteer
	regions   *regionTable
	countries *countryTable
	sources   []SourceInfo
}

// tables is what open builds a DB from: the embedded data in production, samples in tests.
type tables struct {
	countries, admin1, cities string
	fullCities                bool
	country, asn              []byte
	manifest                  string
}

// Open loads the embedded data and any databases named in o. Missing embedded data is not an
// error: lookups degrade to the country table and the core gazetteer, and a warning is logged.
// A named file that cannot be opened is an error, because the user asked for it.
func Open(o Options) (*DB, error) {
	return open(o, embedded())
}

func embedded() tables {
	t := tables{countries: countriesTSV, admin1: admin1TSV, cities: citiesCoreTSV,
		manifest: bundled.manifest}
	if bundled.cities != "" {
		t.cities, t.fullCities = bundled.cities, true
	}
	t.country = stringBytes(bundled.country)
	t.asn = stringBytes(bundled.asn)
	return t
}

func open(o Options, t tables) (*DB, error) {
	d := &DB{log: o.Logger}
	if d.log == nil {
		d.log = slog.Default()
	}

	var err error
	if d.countries, err = parseCountries(t.countries); err != nil {
		return nil, err
	}
	if d.regions, err = parseRegions(t.admin1); err != nil {
		return nil, err
	}
	if d.places, err = parseGazetteer(t.cities); err != nil {
		return nil, err
	}
	man := parseManifest(t.manifest)

	var missing []string
	if d.country, err = openReader(o.CountryMMDB, t.country, srcCountry); err != nil {
		return nil, d.fail(err)
	}
	if d.country == nil {
		missing = append(missing, "country.mmdb")
	}
	if d.asn, err = openReader(o.ASNMMDB, t.asn, srcASN); err != nil {
		return nil, d.fail(err)
	}
	if d.asn == nil {
		missing = append(missing, "asn.mmdb")
	}
	for _, p := range []string{o.CityMMDB, o.CityMMDBv6} {
		if p == "" {
			continue
		}
		r, err := openReader(p, nil, srcUserCity)
		if err != nil {
			return nil, d.fail(err)
		}
		d.cities = append(d.cities, r)
	}
	if !t.fullCities {
		missing = append(missing, "cities.tsv")
	}

	if len(missing) > 0 {
		d.log.Warn("geo data not bundled; IP lookups and small places degrade",
			"missing", missing, "fix", "run scripts/geo-data.sh and rebuild")
	}
	d.sources = d.describe(man, t.fullCities)
	return d, nil
}

// fail closes what open had opened before an error.
func (d *DB) fail(err error) error {
	return errors.Join(err, d.Close())
}

// Close releases databases opened from files. The embedded ones need nothing.
func (d *DB) Close() error {
	if d == nil {
		return nil
	}
	var errs []error
	for _, r := range append([]*reader{d.country, d.asn}, d.cities...) {
		if r != nil && r.file {
			errs = append(errs, r.r.Close())
		}
	}
	return errors.Join(errs...)
}

// LookupIP places an address from the IP databases alone: a city database when one is
// configured, otherwise the country centroid. ASN and owner come from the ASN database. An
// unknown, private or documentation address gives Precision "none". It never panics, even on a
// damaged user file.
func (d *DB) LookupIP(ip netip.Addr) (loc Location) {
	loc.Precision = PrecisionNone
	if d == nil || !ip.IsValid() {
		return loc
	}
	defer func() {
		if r := recover(); r != nil {
			d.log.Warn("geo lookup failed", "ip", ip.String(), "panic", fmt.Sprint(r))
			loc = Location{Precision: PrecisionNone}
		}
	}()
	ip = ip.Unmap()

	loc.ASN, loc.ASOrg = d.asn.lookupASN(ip)
	for _, r := range d.cities {
		if c, ok := r.lookupCity(ip); ok {
			c.ASN, c.ASOrg = loc.ASN, loc.ASOrg
			d.fillCountryName(&c)
			return c
		}
	}
	if cc := d.country.lookupCountry(ip); cc != "" {
		if c, ok := d.countries.centroid(cc); ok {
			c.ASN, c.ASOrg, c.Source = loc.ASN, loc.ASOrg, d.country.name
			return c
		}
		loc.Country = cc
		loc.Source = d.country.name
	}
	return loc
}

func (d *DB) fillCountryName(l *Location) {
	if c := d.countries.byCode[l.Country]; c != nil {
		l.CountryName = c.name
	}
}

// Locate combines the IP and the event's own location text, best source first: a city
// database hit; the event's city (or region) through the gazetteer; the event's country
// centroid; the IP's country centroid. The event's text beats our country database because
// Atlassian geolocated the address when the event happened, while ours is today's data. ASN and
// owner always come from the ASN database.
func (d *DB) Locate(ip string, city, region, countryName string) Location {
	var fromIP Location
	if addr, err := netip.ParseAddr(strings.TrimSpace(ip)); err == nil {
		fromIP = d.LookupIP(addr)
	} else {
		fromIP = Location{Precision: PrecisionNone}
	}
	if fromIP.Precision == PrecisionCity {
		return fromIP
	}

	if strings.TrimSpace(countryName) == "" {
		countryName = fromIP.Country
	}
	p := d.Place(city, region, countryName)
	if p.Precision == PrecisionNone {
		return fromIP
	}
	p.ASN, p.ASOrg = fromIP.ASN, fromIP.ASOrg
	return p
}

// reader is one opened MaxMind database.
type reader struct {
	r      *maxminddb.Reader
	name   string // SourceInfo.Name
	file   bool   // opened from a path, so Close must release it
	path   string
	v4Only bool
	shape  cityShape
}

// openReader opens path when set, else the embedded bytes; neither gives a nil reader.
func openReader(path string, data []byte, name string) (*reader, error) {
	switch {
	case path != "":
		r, err := maxminddb.Open(path)
		if err != nil {
			return nil, fmt.Errorf("open ip database %s: %w", path, err)
		}
		return newReader(r, name, path), nil
	case len(data) > 0:
		r, err := maxminddb.OpenBytes(data)
		if err != nil {
			return nil, fmt.Errorf("open embedded %s: %w", name, err)
		}
		return newReader(r, name, ""), nil
	}
	return nil, nil
}

func newReader(r *maxminddb.Reader, name, path string) *reader {
	rd := &reader{r: r, name: name, file: path != "", path: path,
		v4Only: r.Metadata.IPVersion == 4}
	if path != "" {
		rd.name = userSourceName(r.Metadata.DatabaseType, path)
	}
	rd.shape = detectShape(r)
	return rd
}

// usable reports whether r can be asked about ip: an IPv4-only file errors on IPv6 addresses.
func (r *reader) usable(ip netip.Addr) bool {
	return r != nil && (ip.Is4() || !r.v4Only)
}
