package detect

import (
	"fmt"
	"math"
	"net/netip"
	"slices"
	"strconv"
	"strings"
)

// Place is where an activity came from, as detection needs it. It mirrors geo.Location so
// this package can be tested with a stub and switched to the geo package through Geo.
type Place struct {
	Country     string  `json:"country,omitempty"` // ISO2 when known, else the event's name
	CountryName string  `json:"country_name,omitempty"`
	Region      string  `json:"region,omitempty"`
	City        string  `json:"city,omitempty"`
	Lat         float64 `json:"lat"`
	Lon         float64 `json:"lon"`
	RadiusKM    float64 `json:"radius_km,omitempty"`
	// Precision is city, region, country or none.
	Precision string `json:"precision,omitempty"`
	ASN       uint32 `json:"asn,omitempty"`
	ASOrg     string `json:"as_org,omitempty"`
}

// Precisions of a Place, the same words as package geo uses.
const (
	PrecisionCity    = "city"
	PrecisionRegion  = "region"
	PrecisionCountry = "country"
	PrecisionNone    = "none"
)

// hasCoords reports whether Lat and Lon mean anything.
func (p Place) hasCoords() bool {
	return p.Precision == PrecisionCity || p.Precision == PrecisionRegion ||
		p.Precision == PrecisionCountry
}

// label names the place for evidence: "Berlin, Germany", or the country alone.
func (p Place) label() string {
	name := p.CountryName
	if name == "" {
		name = p.Country
	}
	switch {
	case p.City != "" && name != "":
		return p.City + ", " + name
	case p.City != "":
		return p.City
	case name != "":
		return name
	}
	return "an unknown place"
}

// Geo locates activities and knows which countries border each other. The composition root
// adapts *geo.DB to it (see NewGeo); tests use a table.
type Geo interface {
	// Locate places an event by its IP and the city, region and country name it carries.
	Locate(ip, city, region, countryName string) Place
	// Bordering reports whether two ISO2 countries share a land border.
	Bordering(a, b string) bool
}

// IP categories, the same words as package geo and Defender use.
const (
	IPCorporate      = "corporate"
	IPVPN            = "vpn"
	IPCloud          = "cloud"
	IPAdministrative = "administrative"
	IPRisky          = "risky"
)

// IPClass is what an IP range or list says about an address.
type IPClass struct {
	Category string `json:"category,omitempty"`
	Tag      string `json:"tag,omitempty"`
	Name     string `json:"name,omitempty"` // range or list name, for evidence
}

// Classifier tags IP addresses from admin-defined ranges and imported lists (Tor exits, threat
// lists, VPN and data-centre blocks). The composition root adapts geo.Ranges and geo.ListSet.
type Classifier interface {
	Classify(ip netip.Addr) (IPClass, bool)
}

// ClassifierFunc adapts a function to Classifier.
type ClassifierFunc func(ip netip.Addr) (IPClass, bool)

// Classify implements Classifier.
func (f ClassifierFunc) Classify(ip netip.Addr) (IPClass, bool) { return f(ip) }

// Tags that mark an anonymizer (policy anonymous_ip) or a threat source (policy
// suspicious_ip). A Risky range without a tag counts as an anonymizer, as Defender's "Risky"
// category defaults to anonymous proxy, botnet and Tor.
var (
	anonymousTags = []string{"tor", "tor_exit", "anonymous_proxy", "anonymous", "proxy",
		"anonymizer"}
	threatTags = []string{"botnet", "malware", "c2", "cnc", "scanner", "threat",
		"password_spray", "spray", "darknet_scanning"}
)

func isAnonymous(c IPClass) bool {
	t := normTag(c.Tag)
	return slices.Contains(anonymousTags, t) || (c.Category == IPRisky && t == "")
}

func isThreat(c IPClass) bool { return slices.Contains(threatTags, normTag(c.Tag)) }

func normTag(t string) string {
	return strings.ReplaceAll(strings.ReplaceAll(strings.ToLower(strings.TrimSpace(t)), " ", "_"),
		"-", "_")
}

// FeedbackRange is an IP range the admin marked from an alert ("this is our VPN"). Detection
// consults these before the configured Classifier, because the admin's word beats a list.
type FeedbackRange struct {
	CIDR     netip.Prefix `json:"cidr"`
	Category string       `json:"category"`
	Name     string       `json:"name"`
	AlertID  string       `json:"alert_id,omitempty"`
}

// parseGeo reads Atlassian's "lat,lon" location.geo value.
func parseGeo(s string) (lat, lon float64, ok bool) {
	a, b, found := strings.Cut(s, ",")
	if !found {
		return 0, 0, false
	}
	lat, err1 := strconv.ParseFloat(strings.TrimSpace(a), 64)
	lon, err2 := strconv.ParseFloat(strings.TrimSpace(b), 64)
	if err1 != nil || err2 != nil || lat < -90 || lat > 90 || lon < -180 || lon > 180 {
		return 0, 0, false
	}
	return lat, lon, true
}

// distanceKM is the great-circle distance between two places.
func distanceKM(a, b Place) float64 {
	const r = 6371.0
	la1, la2 := a.Lat*math.Pi/180, b.Lat*math.Pi/180
	dla, dlo := la2-la1, (b.Lon-a.Lon)*math.Pi/180
	h := math.Sin(dla/2)*math.Sin(dla/2) + math.Cos(la1)*math.Cos(la2)*math.Sin(dlo/2)*math.Sin(dlo/2)
	return 2 * r * math.Asin(math.Min(1, math.Sqrt(h)))
}

// km formats a distance for evidence: "16,000 km", rounded to what the data supports.
func km(d float64) string {
	switch {
	case d >= 1000:
		return thousands(int(math.Round(d/100)*100)) + " km"
	case d >= 100:
		return strconv.Itoa(int(math.Round(d/10)*10)) + " km"
	}
	return strconv.Itoa(int(math.Round(d))) + " km"
}

func thousands(n int) string {
	s := strconv.Itoa(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// humanDuration is "38 minutes", "2 hours 5 minutes" or "45 seconds".
func humanDuration(secs float64) string {
	switch {
	case secs < 90:
		return fmt.Sprintf("%d seconds", int(math.Round(secs)))
	case secs < 90*60:
		return fmt.Sprintf("%d minutes", int(math.Round(secs/60)))
	}
	h := int(secs / 3600)
	m := int(math.Round((secs - float64(h)*3600) / 60))
	if m == 60 {
		h, m = h+1, 0
	}
	if m == 0 {
		return fmt.Sprintf("%d hours", h)
	}
	return fmt.Sprintf("%d hours %d minutes", h, m)
}
