package detect

import (
	"net/netip"
	"strings"
	"time"

	"warden/backend/audit"
)

// activity is one event as the policies see it: the normalized event plus its corrected
// category, the actor's directory facts and, computed on first use, its place and IP class.
type activity struct {
	ev   *audit.Event
	org  *orgRun
	cat  audit.Category
	mapp ActionMapping
	user string // actor account id; "" for the system and for anonymous events
	// late is set when the event arrived after later events of the org were processed.
	late bool

	addr netip.Addr

	placed bool
	place  Place

	classed bool
	class   IPClass
	hasCls  bool
}

// systemActors never get per-user detection: they are Atlassian's own processes.
var systemActors = map[string]bool{"atlassian-internal-system": true, "": true}

func newActivity(o *orgRun, e *audit.Event) *activity {
	a := &activity{ev: e, org: o, mapp: o.mapper.lookup(e.Action)}
	a.cat = a.mapp.Category
	if a.cat == audit.CategoryOther && e.AuthType != "" {
		a.cat = audit.CategoryTokenUse
	}
	if !systemActors[e.ActorID] {
		a.user = e.ActorID
	}
	if e.IP != "" {
		if ip, err := netip.ParseAddr(e.IP); err == nil {
			a.addr = ip.Unmap()
		}
	}
	return a
}

func (a *activity) time() time.Time { return a.ev.Time }

// token reports whether the actor used an API token rather than a browser session.
func (a *activity) token() bool { return a.ev.AuthType != "" || a.ev.TokenID != "" }

// interactive reports whether the activity is a person at a browser: location policies look
// only at these, as Defender ignores non-interactive sign-ins.
func (a *activity) interactive() bool {
	return a.user != "" && !a.token() && a.cat != audit.CategoryLoginFailed &&
		a.cat != audit.CategoryLogout
}

// where returns the activity's place, located once. Coordinates that Atlassian sent in
// location.geo win over a country-level guess.
func (a *activity) where() Place {
	if a.placed {
		return a.place
	}
	a.placed = true
	e := a.ev
	if e.IP == "" && e.Country == "" && e.City == "" {
		a.place = Place{Precision: PrecisionNone}
		return a.place
	}
	p := a.org.eng.geo.Locate(e.IP, e.City, e.Region, e.Country)
	if lat, lon, ok := parseGeo(e.Geo); ok &&
		(p.Precision == PrecisionCountry || p.Precision == PrecisionNone || p.Precision == "") {
		p.Lat, p.Lon, p.RadiusKM, p.Precision = lat, lon, geoRadiusKM, PrecisionCity
		if p.City == "" {
			p.City, p.Region = e.City, e.Region
		}
	}
	if p.Country == "" {
		p.Country = e.Country
	}
	if p.CountryName == "" {
		p.CountryName = e.Country
	}
	a.place = p
	return p
}

// geoRadiusKM is the error radius given to coordinates from location.geo, whose accuracy
// Atlassian does not state; it matches the floor the detection reference recommends.
const geoRadiusKM = 50

// country is the key detection uses for the activity's country: ISO2 when geo knows it.
func (a *activity) country() string {
	p := a.where()
	return strings.ToUpper(p.Country)
}

// ipClass returns the IP's category and tag, the admin's feedback ranges first.
func (a *activity) ipClass() (IPClass, bool) {
	if a.classed {
		return a.class, a.hasCls
	}
	a.classed = true
	if !a.addr.IsValid() {
		return IPClass{}, false
	}
	for _, r := range a.org.ranges {
		if r.CIDR.Contains(a.addr) {
			a.class, a.hasCls = IPClass{Category: r.Category, Name: r.Name}, true
			return a.class, true
		}
	}
	if c := a.org.eng.classifier; c != nil {
		a.class, a.hasCls = c.Classify(a.addr)
	}
	return a.class, a.hasCls
}

// safeIP reports whether the IP is in a Corporate or VPN range.
func (a *activity) safeIP() bool {
	c, ok := a.ipClass()
	return ok && (c.Category == IPCorporate || c.Category == IPVPN)
}

// targetUsers returns the user objects the event acted on.
func (a *activity) targetUsers() []audit.Object {
	var out []audit.Object
	for _, t := range a.ev.Targets {
		if t.Type == "users" || t.Type == "user" {
			out = append(out, t)
		}
	}
	return out
}

// selfService reports whether an admin-category action only touched the actor's own account
// (turning off one's own 2SV, creating one's own API token): not administration of others.
func (a *activity) selfService() bool {
	users := a.targetUsers()
	if len(users) == 0 {
		return false
	}
	for _, t := range users {
		if t.ID != a.ev.ActorID && !strings.EqualFold(t.Email, a.ev.ActorEmail) {
			return false
		}
	}
	return true
}

// who names the actor for titles and evidence.
func (a *activity) who() string {
	e := a.ev
	switch {
	case e.ActorEmail != "":
		return e.ActorEmail
	case e.ActorName != "":
		return e.ActorName
	}
	return e.ActorID
}

// dayOf is the UTC day number of t, the unit of baselines.
func dayOf(t time.Time) int32 { return int32(t.Unix() / 86400) }

// clock is the time of day for evidence, in UTC.
func clock(t time.Time) string { return t.UTC().Format("15:04") }

// stamp is a date and time for evidence, in UTC.
func stamp(t time.Time) string { return t.UTC().Format("2006-01-02 15:04 UTC") }
