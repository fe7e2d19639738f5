package detect

import (
	"fmt"
	"time"

	"warden/backend/audit"
)

// anonymousIP is "Activity from anonymous IP addresses".
//
// Algorithm: an activity by a user (not a failed login) whose IP is a Tor exit, an anonymous
// proxy, or in a range of category Risky without a threat tag, from the admin's ranges or an
// imported list. The admin's feedback ranges are consulted first, so marking the range
// Corporate or VPN silences it.
//
// Defaults: no learning period (none is needed to know an address is an anonymizer);
// severity medium, high when the actor is an org admin or the activity is administrative or
// an impersonation. Sensitivity: low alerts only on logins and administrative activity,
// medium and high on any activity. Every matching activity is a detection; those of one user
// within 24 hours are grouped into one alert.
func anonymousIP(o *orgRun, a *activity, _ *userState) {
	if a.user == "" || a.cat == audit.CategoryLoginFailed || !a.addr.IsValid() {
		return
	}
	c, ok := a.ipClass()
	if !ok || !isAnonymous(c) {
		return
	}
	cfg := o.settings.policy(PolicyAnonymousIP)
	if cfg.Sensitivity == SensitivityLow && a.cat != audit.CategoryLoginSucceeded &&
		a.cat != audit.CategoryAdmin && a.cat != audit.CategoryImpersonation {
		return
	}

	sev := SeverityMedium
	if o.isAdmin(a.user) || a.cat == audit.CategoryAdmin || a.cat == audit.CategoryImpersonation {
		sev = SeverityHigh
	}
	d := draftFor(PolicyAnonymousIP, a, sev)
	d.Title = "Activity from an anonymous IP address by " + a.who()
	d.Evidence = []string{fmt.Sprintf("%s: %s from %s, which is %s.", stamp(a.time()),
		a.label(), a.ev.IP, classLabel(c))}
	if p := a.where(); p.hasCoords() {
		d.Locations = []Location{a.location()}
		d.Countries = []string{p.CountryName}
	}
	d.Dedup = "anon|" + a.ev.ID
	d.Window = 24 * time.Hour
	o.raise(d)
}

// classLabel describes an IP class in words: `on the list "tor-exits" (tag tor)`.
func classLabel(c IPClass) string {
	what := "in a range tagged " + c.Category
	if c.Tag != "" {
		what = "tagged " + c.Tag
	}
	if c.Name != "" {
		return fmt.Sprintf("%s (%q)", what, c.Name)
	}
	return what
}

// label names the activity for evidence: the catalogue's display name, else the key.
func (a *activity) label() string {
	if a.mapp.DisplayName != "" {
		return fmt.Sprintf("%q", a.mapp.DisplayName)
	}
	return a.ev.Action
}

// location is the activity's point for the alert map.
func (a *activity) location() Location {
	p := a.where()
	return Location{Time: a.time(), EventID: a.ev.ID, IP: a.ev.IP, Label: p.label(),
		Country: p.Country, Lat: p.Lat, Lon: p.Lon, RadiusKM: p.RadiusKM}
}
