package detect

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"
)

// infrequentCountry is "Activity from infrequent country".
//
// Algorithm: for each interactive activity of a user (not a failed login, logout or API
// token) from an IP that is not VPN, cloud, anonymous or a threat, the country is new when
// the user was not active from it in the 30 days before (earlier the same day counts). A new
// country becomes a candidate that waits OrgChangeWindow (2 hours) of event time, then:
//   - when three or more users turn up new in the same country within the window either
//     side, it is an organization change (a new office, a VPN egress move): no alert;
//   - when the country is common in the organization (at medium, two or more other users
//     were active from it in the last 30 days; at low, one), no alert;
//   - otherwise it alerts (severity medium, high for org admins).
//
// The user's baseline must exist: no alert during the learning period (7 days from the
// user's first located activity). At low and medium sensitivity a country bordering one of
// the user's recent countries does not alert (commuters, weekend trips); high alerts on it.
// Feedback "this location is normal for this user" adds the country to the user's normal
// list, which never alerts. One alert per user and new country.
func infrequentCountry(o *orgRun, a *activity, u *userState) {
	if u == nil || !a.interactive() {
		return
	}
	if c, ok := a.ipClass(); ok && (c.Category == IPVPN || c.Category == IPCloud ||
		isAnonymous(c) || isThreat(c)) {
		return
	}
	cc := a.country()
	if cc == "" {
		return
	}
	t := a.time()
	p := a.where()
	if p.CountryName != "" {
		o.meta.setName(cc, p.CountryName)
	}

	cfg := o.settings.policy(PolicyInfrequentCountry)
	known := u.seenCountry(cc, t)
	recent := u.recentCountries(t)
	u.FirstLoc = minTime(u.FirstLoc, t)
	u.addCountry(cc, t)
	o.meta.addCountryUser(cc, a.user, dayOf(t))

	if known || !learned(u.FirstLoc, t, cfg.learning()) || o.normalFor(a.user, cc) {
		return
	}
	if cfg.Sensitivity != SensitivityHigh {
		for _, r := range recent {
			if o.eng.geo.Bordering(r, cc) {
				return
			}
		}
	}

	o.meta.Novel = append(o.meta.Novel, novel{Country: cc, User: a.user, T: t})
	sev := SeverityMedium
	if o.isAdmin(a.user) {
		sev = SeverityHigh
	}
	d := draftFor(PolicyInfrequentCountry, a, sev)
	d.Title = fmt.Sprintf("Activity from %s, infrequent for %s", o.meta.name(cc), a.who())
	usual := "no other country"
	if len(recent) > 0 {
		names := make([]string, len(recent))
		for i, r := range recent {
			names[i] = o.meta.name(r)
		}
		usual = strings.Join(names, ", ")
	}
	d.Evidence = []string{
		fmt.Sprintf("%s: %s from %s (%s).", stamp(t), a.label(), p.label(), a.ev.IP),
		fmt.Sprintf("Not seen for this user in the last %d days; usual: %s.", baselineDays, usual),
	}
	d.Countries = []string{o.meta.name(cc)}
	if p.hasCoords() {
		d.Locations = []Location{a.location()}
	}
	d.Dedup = fmt.Sprintf("country|%s|%s|%d", a.user, cc, dayOf(t))
	d.Window = 24 * time.Hour
	o.meta.Candidates = append(o.meta.Candidates, candidate{Policy: PolicyInfrequentCountry,
		User: a.user, Country: cc, T: t, DecideAt: t.Add(o.eng.orgWindow), Draft: d})
}

// decide settles the candidates whose decision time has come, oldest first.
func (o *orgRun) decide(until time.Time) {
	if len(o.meta.Candidates) == 0 {
		return
	}
	slices.SortStableFunc(o.meta.Candidates, func(x, y candidate) int {
		if c := x.T.Compare(y.T); c != 0 {
			return c
		}
		return strings.Compare(x.User, y.User)
	})
	var keep []candidate
	for _, c := range o.meta.Candidates {
		if c.DecideAt.After(until) {
			keep = append(keep, c)
			continue
		}
		o.decideCountry(c)
	}
	o.meta.Candidates = keep
}

func (o *orgRun) decideCountry(c candidate) {
	w := o.eng.orgWindow
	movers := map[string]bool{}
	for _, n := range o.meta.Novel {
		if n.Country == c.Country && n.T.Sub(c.T) <= w && c.T.Sub(n.T) <= w {
			movers[n.User] = true
		}
	}
	if len(movers) >= 3 {
		return // an organization change, not one user's anomaly
	}

	cfg := o.settings.policy(PolicyInfrequentCountry)
	day := dayOf(c.T)
	others := 0
	for u, last := range o.meta.CountryUsers[c.Country] {
		if u != c.User && !movers[u] && last >= day-baselineDays {
			others++
		}
	}
	if others >= pick(cfg.Sensitivity, 1, 2, 1<<30) {
		return
	}
	d := c.Draft
	if others == 0 {
		d.Evidence = append(d.Evidence, fmt.Sprintf(
			"No one else in the organization was active from %s in the last %d days.",
			o.meta.name(c.Country), baselineDays))
	} else {
		d.Evidence = append(d.Evidence, fmt.Sprintf(
			"Only %d other user(s) in the organization were active from %s in the last %d days.",
			others, o.meta.name(c.Country), baselineDays))
	}
	o.raise(d)
}

// seenCountry reports whether the user was active from cc in the baseline window before t.
func (u *userState) seenCountry(cc string, t time.Time) bool {
	day := dayOf(t)
	for _, s := range u.Countries[cc] {
		if s.Day >= day-baselineDays && (s.Day < day || (s.Day == day && s.First < t.Unix())) {
			return true
		}
	}
	return false
}

// recentCountries lists the countries of the baseline window before t, sorted.
func (u *userState) recentCountries(t time.Time) []string {
	day := dayOf(t)
	var out []string
	for cc, days := range u.Countries {
		for _, s := range days {
			if s.Day >= day-baselineDays && (s.Day < day || s.First < t.Unix()) {
				out = append(out, cc)
				break
			}
		}
	}
	sort.Strings(out)
	return out
}

// regularCountry reports whether cc was the user's on at least n days of the baseline window.
func (u *userState) regularCountry(cc string, t time.Time, n int) bool {
	day, k := dayOf(t), 0
	for _, s := range u.Countries[cc] {
		if s.Day >= day-baselineDays && s.Day < day {
			k++
		}
	}
	return k >= n
}

// addCountry records activity from cc at t and drops days out of retention.
func (u *userState) addCountry(cc string, t time.Time) {
	if u.Countries == nil {
		u.Countries = map[string][]daySeen{}
	}
	day, sec := dayOf(t), t.Unix()
	days := u.Countries[cc]
	i := sort.Search(len(days), func(i int) bool { return days[i].Day >= day })
	switch {
	case i < len(days) && days[i].Day == day:
		days[i].First = min(days[i].First, sec)
	default:
		days = slices.Insert(days, i, daySeen{Day: day, First: sec})
	}
	cut := dayOf(u.Last) - retainDays
	j := sort.Search(len(days), func(i int) bool { return days[i].Day >= cut })
	u.Countries[cc] = days[j:]
	for c, d := range u.Countries {
		if len(d) == 0 || d[len(d)-1].Day < cut {
			delete(u.Countries, c)
		}
	}
}

func (m *orgMeta) addCountryUser(cc, user string, day int32) {
	users := m.CountryUsers[cc]
	if users == nil {
		users = map[string]int32{}
		m.CountryUsers[cc] = users
	}
	users[user] = max(users[user], day)
}

func (m *orgMeta) setName(cc, name string) {
	if m.Names == nil {
		m.Names = map[string]string{}
	}
	if _, ok := m.Names[cc]; !ok {
		m.Names[cc] = name
	}
}

func (m *orgMeta) name(cc string) string {
	if n, ok := m.Names[cc]; ok {
		return n
	}
	return cc
}

// normalFor reports whether the admin marked cc as normal for the user.
func (o *orgRun) normalFor(user, cc string) bool {
	for _, c := range o.normal[user] {
		if strings.EqualFold(c, cc) || strings.EqualFold(c, o.meta.name(cc)) {
			return true
		}
	}
	return false
}
