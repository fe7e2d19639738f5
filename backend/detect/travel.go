package detect

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"warden/backend/audit"
	"warden/backend/store"
)

// Impossible-travel defaults.
const (
	travelMinKM      = 500
	defaultRadiusKM  = 50 // error radius for a place that came without one
	neighbourLookups = 50 // events read from the store to find a late event's neighbour
)

// impossibleTravel is "Impossible travel".
//
// Algorithm: every interactive activity of a user (not a failed login, logout or API token)
// with coordinates is compared with the user's previous located activity by event time, and a
// late event also with the next one. For a pair A then B:
//
//	distance = great-circle(A, B) - radius(A) - radius(B)    (radius floor 50 km)
//	speed    = distance / max(elapsed, 1 minute)
//
// It alerts when distance > 500 km and speed > 900 km/h (1,000 at low, 800 at high). Never
// for the same IP, the same ASN or network owner, both sides Corporate (unless high), or, when
// either side is placed only at country precision, the same or a bordering country. An IP in
// a VPN, cloud, anonymous or threat range is not a place the user is, so it never takes part.
// At low and medium, a pair whose two countries are both regular for the user (active there
// on 3+ days of the last 30) is suppressed, and so is a country the admin marked normal.
//
// Learning: 7 days from the user's first located activity. Severity medium, high for org
// admins. One alert per pair; pairs of one user within 24 hours share an alert.
func impossibleTravel(o *orgRun, a *activity, u *userState) {
	if u == nil || !a.interactive() {
		return
	}
	p := a.where()
	if !p.hasCoords() {
		return
	}
	c, hasC := a.ipClass()
	if hasC && (c.Category == IPVPN || c.Category == IPCloud || isAnonymous(c) || isThreat(c)) {
		return
	}
	t := a.time()
	pt := locPoint{T: t, ID: a.ev.ID, IP: a.ev.IP, P: p, IPCat: c.Category}
	u.FirstLoc = minTime(u.FirstLoc, t)

	i := sort.Search(len(u.Locs), func(i int) bool { return u.Locs[i].T.After(t) })
	var prev, next *locPoint
	if i > 0 {
		x := u.Locs[i-1]
		prev = &x
	} else if a.late || len(u.Locs) > 0 {
		prev = o.neighbour(a, false)
	}
	switch {
	case a.late && i == 0:
		// Older than every remembered place: the true next one may be older than the
		// first remembered one, so ask the store.
		next = o.neighbour(a, true)
		if next == nil && len(u.Locs) > 0 {
			x := u.Locs[0]
			next = &x
		}
	case i < len(u.Locs):
		x := u.Locs[i]
		next = &x
	case a.late:
		next = o.neighbour(a, true)
	}
	u.Locs = append(u.Locs[:i], append([]locPoint{pt}, u.Locs[i:]...)...)
	if len(u.Locs) > recentLocs {
		u.Locs = u.Locs[len(u.Locs)-recentLocs:]
	}

	cfg := o.settings.policy(PolicyImpossibleTravel)
	if !learned(u.FirstLoc, t, cfg.learning()) {
		return
	}
	if prev != nil {
		o.travelPair(a, u, *prev, pt, cfg)
	}
	if next != nil {
		o.travelPair(a, u, pt, *next, cfg)
	}
}

// neighbour finds the user's located activity just before (or after) a late event in the
// store's time-ordered user index. Only processed events count going forward: pending ones
// are compared when their turn comes.
func (o *orgRun) neighbour(a *activity, forward bool) *locPoint {
	if o.sim {
		return nil
	}
	var found *locPoint
	n := 0
	err := o.eng.st.ScanUserEvents(o.id, a.ev.ActorID, a.time(), forward,
		func(ev *audit.Event) error {
			n++
			if n > neighbourLookups || (forward && ev.Time.After(o.meta.Frontier)) {
				return store.ErrStop
			}
			b := newActivity(o, ev)
			if !b.interactive() {
				return nil
			}
			p := b.where()
			c, hasC := b.ipClass()
			if !p.hasCoords() || (hasC && (c.Category == IPVPN || c.Category == IPCloud ||
				isAnonymous(c) || isThreat(c))) {
				return nil
			}
			found = &locPoint{T: ev.Time, ID: ev.ID, IP: ev.IP, P: p, IPCat: c.Category}
			return store.ErrStop
		})
	if err != nil && !errors.Is(err, store.ErrStop) {
		o.eng.log.Warn("Reading a user's neighbouring events failed", "org", o.id, "err", err)
	}
	return found
}

// travelPair checks one pair, x before y, and raises the alert.
func (o *orgRun) travelPair(a *activity, u *userState, x, y locPoint, cfg PolicyConfig) {
	if x.ID == y.ID || (x.IP != "" && x.IP == y.IP) {
		return
	}
	if (x.P.ASN != 0 && x.P.ASN == y.P.ASN) ||
		(x.P.ASOrg != "" && strings.EqualFold(x.P.ASOrg, y.P.ASOrg)) {
		return
	}
	if x.IPCat == IPCorporate && y.IPCat == IPCorporate && cfg.Sensitivity != SensitivityHigh {
		return
	}
	cx, cy := strings.ToUpper(x.P.Country), strings.ToUpper(y.P.Country)
	coarse := x.P.Precision == PrecisionCountry || y.P.Precision == PrecisionCountry
	if coarse && (cx == cy || o.eng.geo.Bordering(cx, cy)) {
		return
	}

	raw := distanceKM(x.P, y.P)
	dist := raw - radius(x.P) - radius(y.P)
	if dist <= travelMinKM {
		return
	}
	secs := y.T.Sub(x.T).Seconds()
	speed := dist / (max(secs, 60) / 3600)
	if speed <= pick(cfg.Sensitivity, 1000.0, 900.0, 800.0) {
		return
	}
	if o.normalFor(a.user, cx) || o.normalFor(a.user, cy) {
		return
	}
	if cfg.Sensitivity != SensitivityHigh && cx != cy &&
		u.regularCountry(cx, y.T, 3) && u.regularCountry(cy, y.T, 3) {
		return
	}

	sev := SeverityMedium
	if o.isAdmin(a.user) {
		sev = SeverityHigh
	}
	d := draftFor(PolicyImpossibleTravel, a, sev)
	d.Time, d.LastTime = x.T, y.T
	d.EventIDs = []string{x.ID, y.ID}
	d.IPs = []string{x.IP, y.IP}
	d.Countries = []string{x.P.CountryName, y.P.CountryName}
	d.Title = fmt.Sprintf("Impossible travel by %s: %s to %s", a.who(), placeName(x.P),
		placeName(y.P))
	d.Evidence = []string{
		fmt.Sprintf("%s %s then %s %s: %s in %s.", placeName(x.P), clock(x.T), placeName(y.P),
			clock(y.T), km(raw), humanDuration(secs)),
		fmt.Sprintf("That is %s/h after allowing %s of location uncertainty, above the %d km/h "+
			"a flight allows.", strings.TrimSuffix(km(speed), " km")+" km", km(radius(x.P)+radius(y.P)),
			int(pick(cfg.Sensitivity, 1000.0, 900.0, 800.0))),
		fmt.Sprintf("IP addresses %s then %s, on %s.", x.IP, y.IP, y.T.UTC().Format("2006-01-02")),
	}
	d.Locations = []Location{point(x), point(y)}
	d.Dedup = "travel|" + x.ID + "|" + y.ID
	d.Window = 24 * time.Hour
	o.raise(d)
}

func radius(p Place) float64 {
	if p.RadiusKM <= 0 {
		return defaultRadiusKM
	}
	return p.RadiusKM
}

// placeName is the city when known, else the place label.
func placeName(p Place) string {
	if p.City != "" {
		return p.City
	}
	return p.label()
}

func point(x locPoint) Location {
	return Location{Time: x.T, EventID: x.ID, IP: x.IP, Label: x.P.label(), Country: x.P.Country,
		Lat: x.P.Lat, Lon: x.P.Lon, RadiusKM: radius(x.P)}
}
