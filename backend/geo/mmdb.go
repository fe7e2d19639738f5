package geo

import (
	"net/netip"
	"path/filepath"
	"strings"
	"unsafe"

	"github.com/oschwald/maxminddb-golang/v2"
)

// stringBytes views an embedded string as bytes without copying it. The readers only read, so
// the read-only memory behind the string is never written.
func stringBytes(s string) []byte {
	if s == "" {
		return nil
	}
	return unsafe.Slice(unsafe.StringData(s), len(s))
}

// cityShape is the record layout of a city database: GeoIP2-style nested maps (MaxMind, DB-IP's
// own files) or ip-location-db's flat records.
type cityShape int

const (
	shapeUnknown cityShape = iota // try nested, then flat
	shapeNested
	shapeFlat
)

// detectShape looks at a few well-known addresses to tell the layouts apart, since "city" is a
// map in one and a string in the other.
func detectShape(r *maxminddb.Reader) cityShape {
	for _, s := range []string{"1.1.1.1", "8.8.8.8", "2001:4860:4860::8888", "81.2.69.142"} {
		ip := netip.MustParseAddr(s)
		if r.Metadata.IPVersion == 4 && !ip.Is4() {
			continue
		}
		var v any
		res := r.Lookup(ip)
		if !res.Found() || res.DecodePath(&v, "city") != nil || v == nil {
			continue
		}
		if _, ok := v.(string); ok {
			return shapeFlat
		}
		return shapeNested
	}
	return shapeUnknown
}

// asnRecord uses GeoLite2-ASN field names, which the embedded database copies.
type asnRecord struct {
	Number uint32 `maxminddb:"autonomous_system_number"`
	Org    string `maxminddb:"autonomous_system_organization"`
}

func (r *reader) lookupASN(ip netip.Addr) (uint32, string) {
	if !r.usable(ip) {
		return 0, ""
	}
	var rec asnRecord
	res := r.r.Lookup(ip)
	if !res.Found() || res.Decode(&rec) != nil {
		return 0, ""
	}
	return rec.Number, rec.Org
}

// countryRecord reads both the flat {country_code} layout and GeoIP2's country.iso_code.
type countryRecord struct {
	Code    string `maxminddb:"country_code"`
	Country struct {
		ISO string `maxminddb:"iso_code"`
	} `maxminddb:"country"`
}

func (r *reader) lookupCountry(ip netip.Addr) string {
	if !r.usable(ip) {
		return ""
	}
	var rec countryRecord
	res := r.r.Lookup(ip)
	if !res.Found() || res.Decode(&rec) != nil {
		return ""
	}
	if rec.Code != "" {
		return strings.ToUpper(rec.Code)
	}
	return strings.ToUpper(rec.Country.ISO)
}

type names struct {
	En string `maxminddb:"en"`
}

// nestedCity is the GeoIP2 City layout (GeoLite2-City, DB-IP City Lite in MaxMind format).
type nestedCity struct {
	City struct {
		Names names `maxminddb:"names"`
	} `maxminddb:"city"`
	Country struct {
		ISO   string `maxminddb:"iso_code"`
		Names names  `maxminddb:"names"`
	} `maxminddb:"country"`
	Subdivisions []struct {
		Names names `maxminddb:"names"`
	} `maxminddb:"subdivisions"`
	Location struct {
		Lat    *float64 `maxminddb:"latitude"`
		Lon    *float64 `maxminddb:"longitude"`
		Radius uint16   `maxminddb:"accuracy_radius"`
	} `maxminddb:"location"`
}

// flatCity is ip-location-db's dbip-city and geolite2-city layout.
type flatCity struct {
	City    string   `maxminddb:"city"`
	Country string   `maxminddb:"country_code"`
	State1  string   `maxminddb:"state1"`
	Lat     *float64 `maxminddb:"latitude"`
	Lon     *float64 `maxminddb:"longitude"`
}

// lookupCity answers only with coordinates; a record without them (some GeoLite2 entries
// carry a country only) leaves the question to the next source.
func (r *reader) lookupCity(ip netip.Addr) (Location, bool) {
	if !r.usable(ip) {
		return Location{}, false
	}
	res := r.r.Lookup(ip)
	if !res.Found() {
		return Location{}, false
	}
	if r.shape != shapeFlat {
		var c nestedCity
		if err := res.Decode(&c); err == nil {
			if c.Location.Lat == nil || c.Location.Lon == nil {
				return Location{}, false
			}
			l := Location{Country: strings.ToUpper(c.Country.ISO), CountryName: c.Country.Names.En,
				City: c.City.Names.En, Lat: *c.Location.Lat, Lon: *c.Location.Lon,
				RadiusKM: float64(c.Location.Radius), Precision: PrecisionCity, Source: r.name}
			if len(c.Subdivisions) > 0 {
				l.Region = c.Subdivisions[0].Names.En
			}
			return finishCity(l), true
		} else if r.shape == shapeNested {
			return Location{}, false
		}
	}
	var c flatCity
	if err := res.Decode(&c); err != nil || c.Lat == nil || c.Lon == nil {
		return Location{}, false
	}
	return finishCity(Location{Country: strings.ToUpper(c.Country), City: c.City,
		Region: c.State1, Lat: *c.Lat, Lon: *c.Lon, Precision: PrecisionCity,
		Source: r.name}), true
}

// finishCity gives a city answer without a usable accuracy radius the default one, and marks
// an answer without a city name (GeoLite2 has country-level records) as what it is.
func finishCity(l Location) Location {
	if l.RadiusKM <= 0 {
		l.RadiusKM = cityDBRadiusKM
	}
	switch {
	case l.City != "":
	case l.Region != "":
		l.Precision = PrecisionRegion
	default:
		l.Precision = PrecisionCountry
	}
	return l
}

// userSourceName names a user-supplied database for Location.Source and the About screen.
func userSourceName(dbType, path string) string {
	if dbType == "" {
		return filepath.Base(path)
	}
	return dbType + " (" + filepath.Base(path) + ")"
}
