package detect

import (
	"net/netip"
	"sync/atomic"

	"warden/backend/geo"
)

// NewGeo adapts the geo database to detection.
func NewGeo(db *geo.DB) Geo { return geoDB{db} }

type geoDB struct{ db *geo.DB }

func (g geoDB) Locate(ip, city, region, countryName string) Place {
	l := g.db.Locate(ip, city, region, countryName)
	return Place{Country: l.Country, CountryName: l.CountryName, Region: l.Region, City: l.City,
		Lat: l.Lat, Lon: l.Lon, RadiusKM: l.RadiusKM, Precision: l.Precision, ASN: l.ASN,
		ASOrg: l.ASOrg}
}

func (g geoDB) Bordering(a, b string) bool { return g.db.Bordering(a, b) }

// GeoClassifier answers from the admin's IP ranges first and the imported lists second, as
// Defender lets custom tags beat built-in ones. Both can be swapped while detection runs
// (after the admin edits a range or a list refresh), which is why they sit behind atomics.
type GeoClassifier struct {
	ranges atomic.Pointer[geo.Ranges]
	lists  atomic.Pointer[geo.ListSet]
}

// NewClassifier returns a classifier over ranges and lists; either may be nil.
func NewClassifier(ranges *geo.Ranges, lists *geo.ListSet) *GeoClassifier {
	c := &GeoClassifier{}
	c.SetRanges(ranges)
	c.SetLists(lists)
	return c
}

// SetRanges replaces the admin's ranges.
func (c *GeoClassifier) SetRanges(r *geo.Ranges) { c.ranges.Store(r) }

// SetLists replaces the imported lists.
func (c *GeoClassifier) SetLists(l *geo.ListSet) { c.lists.Store(l) }

// Classify implements Classifier.
func (c *GeoClassifier) Classify(ip netip.Addr) (IPClass, bool) {
	if r := c.ranges.Load(); r != nil {
		if m, ok := r.Match(ip); ok {
			tag := ""
			if len(m.Tags) > 0 {
				tag = m.Tags[0]
			}
			return IPClass{Category: string(m.Category), Tag: tag, Name: m.Name}, true
		}
	}
	if l := c.lists.Load(); l != nil {
		if name, cat, tag, ok := l.Match(ip); ok {
			return IPClass{Category: string(cat), Tag: tag, Name: name}, true
		}
	}
	return IPClass{}, false
}
