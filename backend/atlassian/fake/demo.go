package fake

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"sort"
	"strconv"
	"strings"
	"time"

	"warden/backend/atlassian"
)

// The demo organization, "Northwind Labs (demo)": 40 people in 18 cities, a month of ordinary
// activity and six planted attacks for the detection engine to find. Everything is invented:
// example.com/example.org names and documentation IP ranges only.
//
// Planted attacks (times relative to D = now truncated to a UTC day; event ids depend on the
// seed, so read them from DemoAttacks):
//
//  1. AttackImpossibleTravel, D-9 08:10 UTC: Lukas Schneider logs in from Berlin (192.0.2.20),
//     then 37 minutes later from Sydney (203.0.113.201).
//  2. AttackPasswordSpray, D-6 03:14 UTC: 14 failed logins against Priya Raman from
//     203.0.113.77 (Frankfurt am Main) within 3.5 minutes, then a successful login from it.
//  3. AttackImpersonation, D-4 13:22 UTC: Mei Tanaka, an org admin who otherwise makes no admin
//     changes, uses "log in as user" on Olivia Bennett; the context item has only
//     attributes.email.
//  4. AttackAnonymousIP, D-3 23:41 UTC: Sofia Marques logs in from DemoAnonymousIP
//     (198.51.100.250, the planted Tor-like exit address) and creates an API token there.
//  5. AttackAdminBurst, D-2 16:05 UTC: Daniel Okoye, an org admin who usually makes a change or
//     two a week, makes 30 admin changes in under 10 minutes.
//  6. AttackNewCountry, D-1 10:12 UTC: Ethan Brooks logs in from Reykjavík, Iceland
//     (2001:db8:1ce::66), a country nobody in the org has used; he was inactive the two days
//     before, so this is not impossible travel.
//
// Other features: one API-token script (Daniel's "nightly-group-sync", from a Frankfurt server
// at 192.0.2.240), system-actor events without location, messages on some events, about 2% of
// events processed 1-6 hours late, a suspended user (Harry Patel, suspended at D-12), six users
// with 2SV off, SCIM-synced users in the APAC offices, and an unmanaged contractor at
// example.org.
const (
	DemoOrgID       = "5e0c7a3d-2b4f-4c1e-8d9a-6f7b1c2d3e4f"
	DemoOrgName     = "Northwind Labs (demo)"
	DemoAPIKey      = "demo-key-not-secret"
	DemoSiteID      = "a7d3e5f1-9c2b-4e8a-b6d4-1f3e5a7c9b20"
	DemoSiteHost    = "https://northwind.example.com"
	DemoAnonymousIP = "198.51.100.250"
)

// Kinds of planted attack.
const (
	AttackImpossibleTravel = "impossible_travel"
	AttackPasswordSpray    = "password_spray"
	AttackImpersonation    = "impersonation"
	AttackAnonymousIP      = "anonymous_ip"
	AttackAdminBurst       = "admin_burst"
	AttackNewCountry       = "new_country"
)

// Attack is one planted attack in the demo organization, the answer key for detection tests.
type Attack struct {
	Kind    string
	Summary string
	// UserID is the account the attack is about: the victim, or the acting admin.
	UserID string
	// ActorID performed the events (the same as UserID except for impersonation targets).
	ActorID    string
	IP         string
	Start, End time.Time // event times of the first and last planted event
	EventIDs   []string
}

// Demo returns the demo organization for a seed and a reference time. It is deterministic: the
// same seed and now give the same data. Serve it with New (Now defaults to the wall clock, so
// events processed after now "arrive" later).
func Demo(seed int64, now time.Time) Options {
	o, _ := demo(seed, now)
	return o
}

// DemoAttacks returns the attacks planted in Demo(seed, now).
func DemoAttacks(seed int64, now time.Time) []Attack {
	_, a := demo(seed, now)
	return a
}

// city is a place people log in from, with the documentation range block used for it.
type city struct {
	name, region, country, geo, tz string
	offsetMin                      int // standard-time UTC offset, good enough for work hours
	ipBase                         string
}

var cities = map[string]city{
	"stockholm": {"Stockholm", "Stockholm County", "Sweden", "59.33,18.07", "Europe/Stockholm", 60, "192.0.2.1"},
	"berlin":    {"Berlin", "Berlin", "Germany", "52.52,13.40", "Europe/Berlin", 60, "192.0.2.2"},
	"london":    {"London", "England", "United Kingdom", "51.51,-0.13", "Europe/London", 0, "192.0.2.3"},
	"dublin":    {"Dublin", "Leinster", "Ireland", "53.35,-6.26", "Europe/Dublin", 0, "192.0.2.4"},
	"amsterdam": {"Amsterdam", "North Holland", "Netherlands", "52.37,4.90", "Europe/Amsterdam", 60, "192.0.2.5"},
	"lisbon":    {"Lisbon", "Lisbon", "Portugal", "38.72,-9.14", "Europe/Lisbon", 0, "192.0.2.6"},
	"paris":     {"Paris", "Île-de-France", "France", "48.86,2.35", "Europe/Paris", 60, "192.0.2.7"},
	"capetown":  {"Cape Town", "Western Cape", "South Africa", "-33.92,18.42", "Africa/Johannesburg", 120, "192.0.2.8"},
	"toronto":   {"Toronto", "Ontario", "Canada", "43.65,-79.38", "America/Toronto", -300, "198.51.100.1"},
	"newyork":   {"New York", "New York", "United States", "40.71,-74.01", "America/New_York", -300, "198.51.100.2"},
	"austin":    {"Austin", "Texas", "United States", "30.27,-97.74", "America/Chicago", -360, "198.51.100.3"},
	"seattle":   {"Seattle", "Washington", "United States", "47.61,-122.33", "America/Los_Angeles", -480, "198.51.100.4"},
	"mexico":    {"Mexico City", "Mexico City", "Mexico", "19.43,-99.13", "America/Mexico_City", -360, "198.51.100.5"},
	"saopaulo":  {"São Paulo", "São Paulo", "Brazil", "-23.55,-46.63", "America/Sao_Paulo", -180, "198.51.100.6"},
	"bengaluru": {"Bengaluru", "Karnataka", "India", "12.97,77.59", "Asia/Kolkata", 330, "203.0.113.1"},
	"singapore": {"Singapore", "Singapore", "Singapore", "1.29,103.85", "Asia/Singapore", 480, "203.0.113.2"},
	"tokyo":     {"Tokyo", "Tokyo", "Japan", "35.68,139.69", "Asia/Tokyo", 540, "203.0.113.3"},
	"sydney":    {"Sydney", "New South Wales", "Australia", "-33.87,151.21", "Australia/Sydney", 600, "203.0.113.4"},
}

// Places that only attacks and servers use.
var (
	locSydneyAttacker = &atlassian.Location{IP: "203.0.113.201", Geo: "-33.87,151.21",
		CountryName: "Australia", RegionName: "New South Wales", City: "Sydney"}
	locSprayer = &atlassian.Location{IP: "203.0.113.77", Geo: "50.11,8.68",
		CountryName: "Germany", RegionName: "Hesse", City: "Frankfurt am Main"}
	locAnonymous = &atlassian.Location{IP: DemoAnonymousIP, CountryName: "Netherlands"}
	locReykjavik = &atlassian.Location{IP: "2001:db8:1ce::66", Geo: "64.15,-21.94",
		CountryName: "Iceland", RegionName: "Capital Region", City: "Reykjavík"}
	locScriptHost = &atlassian.Location{IP: "192.0.2.240", Geo: "50.11,8.68",
		CountryName: "Germany", RegionName: "Hesse", City: "Frankfurt am Main"}
)

// person is one row of the demo staff table.
type person struct {
	name, email, city, dept, title string
	admin, synced, mfaOff          bool
}

var staff = []person{
	{"Astrid Lindqvist", "astrid.lindqvist", "stockholm", "IT", "IT Operations Lead", true, false, false},
	{"Daniel Okoye", "daniel.okoye", "london", "Security", "Security Engineer", true, false, false},
	{"Mei Tanaka", "mei.tanaka", "tokyo", "IT", "Identity Engineer", true, true, false},
	{"Erik Johansson", "erik.johansson", "stockholm", "Engineering", "Platform Engineer", false, false, true},
	{"Maja Nilsson", "maja.nilsson", "stockholm", "Design", "Product Designer", false, false, false},
	{"Lukas Schneider", "lukas.schneider", "berlin", "Engineering", "Backend Engineer", false, false, false},
	{"Anna Becker", "anna.becker", "berlin", "Finance", "Controller", false, false, false},
	{"Felix Wagner", "felix.wagner", "berlin", "Engineering", "Site Reliability Engineer", false, false, false},
	{"Olivia Bennett", "olivia.bennett", "london", "Finance", "Head of Finance", false, false, false},
	{"Harry Patel", "harry.patel", "london", "Sales", "Account Executive", false, false, false},
	{"Siobhán Murphy", "siobhan.murphy", "dublin", "Support", "Support Lead", false, false, false},
	{"Conor Byrne", "conor.byrne", "dublin", "Support", "Support Engineer", false, false, true},
	{"Sanne de Vries", "sanne.devries", "amsterdam", "Marketing", "Content Strategist", false, false, false},
	{"Thijs Bakker", "thijs.bakker", "amsterdam", "Engineering", "Frontend Engineer", false, false, true},
	{"Sofia Marques", "sofia.marques", "lisbon", "Marketing", "Marketing Manager", false, false, false},
	{"Tiago Ferreira", "tiago.ferreira", "lisbon", "Engineering", "Data Engineer", false, false, false},
	{"Chloé Martin", "chloe.martin", "paris", "Legal", "Legal Counsel", false, false, false},
	{"Hugo Lefèvre", "hugo.lefevre", "paris", "Sales", "Sales Director", false, false, false},
	{"Thabo Nkosi", "thabo.nkosi", "capetown", "Support", "Support Engineer", false, false, false},
	{"Aiden Tremblay", "aiden.tremblay", "toronto", "Engineering", "Mobile Engineer", false, false, false},
	{"Nadia Haddad", "nadia.haddad", "toronto", "People", "People Partner", false, false, false},
	{"Marcus Johnson", "marcus.johnson", "newyork", "Sales", "VP Sales", false, false, false},
	{"Rachel Kim", "rachel.kim", "newyork", "Product", "Product Manager", false, false, false},
	{"Isabella Rossi", "isabella.rossi", "newyork", "Finance", "Financial Analyst", false, false, false},
	{"Carlos Mendoza", "carlos.mendoza", "austin", "Engineering", "Staff Engineer", false, false, true},
	{"Emily Carter", "emily.carter", "austin", "Product", "Product Owner", false, false, false},
	{"Ethan Brooks", "ethan.brooks", "seattle", "Sales", "Solutions Engineer", false, false, false},
	{"Grace Liu", "grace.liu", "seattle", "Engineering", "Engineering Manager", false, false, false},
	{"Diego Hernández", "diego.hernandez", "mexico", "Support", "Support Engineer", false, false, false},
	{"Valeria Ruiz", "valeria.ruiz", "mexico", "Marketing", "Growth Marketer", false, false, false},
	{"Beatriz Costa", "beatriz.costa", "saopaulo", "Engineering", "QA Lead", false, false, false},
	{"Priya Raman", "priya.raman", "bengaluru", "Engineering", "QA Engineer", false, true, false},
	{"Arjun Mehta", "arjun.mehta", "bengaluru", "Engineering", "DevOps Engineer", false, true, false},
	{"Kavya Iyer", "kavya.iyer", "bengaluru", "Data", "Data Scientist", false, true, false},
	{"Wei Ling Tan", "weiling.tan", "singapore", "Operations", "Operations Manager", false, true, false},
	{"Ravi Chandran", "ravi.chandran", "singapore", "Engineering", "Security Analyst", false, true, false},
	{"Haruto Sato", "haruto.sato", "tokyo", "Engineering", "Embedded Engineer", false, true, true},
	{"Jack Wilson", "jack.wilson", "sydney", "Sales", "Account Manager", false, false, false},
	{"Chloe Nguyen", "chloe.nguyen", "sydney", "Design", "UX Researcher", false, false, false},
	{"Lucas Almeida", "lucas.almeida@example.org", "saopaulo", "", "", false, false, true},
}

// demoUser is a staff member with everything derived from the table.
type demoUser struct {
	person
	user     atlassian.User
	id       string
	email    string
	home     *atlassian.Location
	actor    atlassian.Actor
	self     []atlassian.EventObject // context: the user themself
	external bool
}

// demoGen builds one demo organization.
type demoGen struct {
	rng       *rand.Rand
	now       time.Time
	events    []atlassian.Event
	users     []*demoUser
	byName    map[string]*demoUser
	org, site []atlassian.EventObject
}

const (
	systemID   = "atlassian-internal-system"
	systemName = "Atlassian Internal System"
)

func demo(seed int64, now time.Time) (Options, []Attack) {
	now = now.UTC()
	g := &demoGen{
		rng:    rand.New(rand.NewPCG(uint64(seed), 0x6e6f72746877696e)),
		now:    now,
		byName: map[string]*demoUser{},
		org: []atlassian.EventObject{{ID: DemoOrgID, Type: "orgs",
			Attributes: map[string]any{"name": DemoOrgName},
			Links: atlassian.Links{
				Alt: "https://api.atlassian.com/admin/v1/orgs/" + DemoOrgID}}},
		site: []atlassian.EventObject{{ID: DemoSiteID, Type: "sites",
			Attributes: map[string]any{"siteHostName": DemoSiteHost, "siteName": "northwind"},
			Links:      atlassian.Links{Alt: DemoSiteHost}}},
	}
	g.makeUsers()

	day := now.Truncate(24 * time.Hour)
	start := day.Add(-30 * 24 * time.Hour)
	skip := map[string]bool{ // attack days on which the victim's routine is replaced
		dayKey("Lukas Schneider", day.Add(-9*24*time.Hour)): true,
		dayKey("Priya Raman", day.Add(-6*24*time.Hour)):     true,
		dayKey("Ethan Brooks", day.Add(-1*24*time.Hour)):    true,
		dayKey("Ethan Brooks", day.Add(-2*24*time.Hour)):    true,
		dayKey("Ethan Brooks", day.Add(-3*24*time.Hour)):    true,
	}
	suspendedAt := day.Add(-12*24*time.Hour + 15*time.Hour + 7*time.Minute)

	g.event(start.Add(2*time.Hour+13*time.Minute), "domain_verified", g.system(),
		[]atlassian.EventObject{{ID: uuidFrom("domain:example.com"), Type: "domains",
			Attributes: map[string]any{"name": "example.com", "verificationType": "dns"}}},
		g.org, nil, "Domain example.com verified")

	for d := start; d.Before(now); d = d.Add(24 * time.Hour) {
		for _, u := range g.users {
			if skip[dayKey(u.name, d)] || (u.name == "Harry Patel" && d.After(suspendedAt)) {
				continue
			}
			g.routine(u, d)
		}
		g.adminWork(d)
		g.script(d)
		g.systemWork(d)
	}
	harry, astrid := g.byName["Harry Patel"], g.byName["Astrid Lindqvist"]
	g.event(suspendedAt, "user_access_suspended", astrid, userCtx(harry), g.org, astrid.home,
		"Suspended access for "+harry.email)

	g.oneOffs(start)
	attacks := g.plant(day)

	var kept []atlassian.Event
	for _, e := range g.events {
		if e.Attributes.Time.Time.Before(now) {
			kept = append(kept, e)
		}
	}
	sort.SliceStable(kept, func(i, j int) bool {
		return kept[i].Attributes.Time.Time.Before(kept[j].Attributes.Time.Time)
	})
	g.setLastActive(kept)

	o := Options{
		OrgID: DemoOrgID, OrgName: DemoOrgName, APIKey: DemoAPIKey,
		Events: kept, Actions: demoActions(), Domains: demoDomains(), Policies: demoPolicies(start),
	}
	for _, u := range g.users {
		o.Users = append(o.Users, u.user)
	}
	return o, attacks
}

func dayKey(name string, d time.Time) string { return name + d.Format("2006-01-02") }

func (g *demoGen) makeUsers() {
	perCity := map[string]int{}
	for i, p := range staff {
		c := cities[p.city]
		slot := perCity[p.city]
		perCity[p.city]++

		u := &demoUser{person: p, id: accountIDFrom(p.name, i%3 == 1)}
		u.email = p.email + "@example.com"
		if strings.HasSuffix(p.email, "@example.org") {
			u.email, u.external = p.email, true
		}
		ip := c.ipBase + strconv.Itoa(slot) // e.g. 192.0.2.2 + "0" = 192.0.2.20
		if i%5 == 4 {
			ip = ipv6For(c, slot)
		}
		u.home = &atlassian.Location{IP: ip, Geo: c.geo, CountryName: c.country,
			RegionName: c.region, City: c.name}
		u.actor = atlassian.Actor{ID: u.id, Name: p.name, Email: u.email,
			Links: atlassian.Links{Self: "https://api.atlassian.com/users/" + u.id}}
		u.self = userCtx(u)
		u.user = g.directoryUser(u, i)
		g.users = append(g.users, u)
		g.byName[p.name] = u
	}
}

// ipv6For gives a city's IPv6 users addresses in 2001:db8::/32, one block per city, derived
// from the city's IPv4 block (192.0.2.2x becomes 2001:db8:a2::).
func ipv6For(c city, slot int) string {
	rng := map[string]string{"192": "a", "198": "b", "203": "c"}[c.ipBase[:3]]
	return fmt.Sprintf("2001:db8:%s%s::%x", rng, c.ipBase[strings.LastIndexByte(c.ipBase, '.')+1:],
		0x10+slot)
}

func userCtx(u *demoUser) []atlassian.EventObject {
	return []atlassian.EventObject{{ID: u.id, Type: "users", Attributes: map[string]any{
		"accountType": "atlassian", "email": u.email, "name": u.name}}}
}

func boolp(b bool) *bool { return &b }

func (g *demoGen) directoryUser(u *demoUser, i int) atlassian.User {
	c := cities[u.city]
	added := time.Date(2022, 1, 10, 9, 0, 0, 0, time.UTC).Add(time.Duration(i*23) * 24 * time.Hour)
	du := atlassian.User{
		AccountID: u.id, AccountType: "atlassian", Status: "active", AccountStatus: "active",
		MembershipStatus: "active", ClaimStatus: "managed", Name: u.name,
		Nickname: u.email[:indexByte(u.email, '.')], Email: u.email,
		EmailVerified: boolp(true), MFAEnabled: boolp(!u.mfaOff), PlatformRoles: []string{},
		ManagementSource: "invited", JobTitle: u.title, Department: u.dept,
		Organization: "Northwind Labs", Location: c.name, TimeZone: c.tz,
		AddedToOrg: atlassian.Time{Time: added, Raw: added.Format(time.RFC3339)},
	}
	du.Groups = atlassian.Groups{{ID: groupID("all-staff"), Name: "all-staff"}}
	if u.dept != "" {
		name := strings.ToLower(u.dept)
		du.Groups = append(du.Groups, atlassian.Group{ID: groupID(name), Name: name})
	}
	if u.admin {
		du.PlatformRoles = []string{"atlassian/org-admin"}
		du.Groups = append(du.Groups, atlassian.Group{ID: groupID("site-admins"),
			Name: "site-admins"})
	}
	if u.synced {
		du.ManagementSource = "synced"
	}
	if u.name == "Harry Patel" {
		du.Status, du.MembershipStatus = "suspended", "suspended"
	}
	if u.external {
		du.Groups = atlassian.Groups{{ID: groupID("contractors"), Name: "contractors"}}
		du.ClaimStatus, du.ManagementSource = "unmanaged", ""
		du.JobTitle, du.Department, du.Organization, du.Location = "", "", "", ""
	}
	return du
}

// groupID is a stable invented id for a demo group.
func groupID(name string) string {
	sum := sha256.Sum256([]byte("demo-group:" + name))
	return hex.EncodeToString(sum[:8])
}

func indexByte(s string, c byte) int {
	for i := 0; i < len(s); i++ {
		if s[i] == c {
			return i
		}
	}
	return len(s)
}

// setLastActive fills productAccess from each user's last login.
func (g *demoGen) setLastActive(evs []atlassian.Event) {
	last := map[string]time.Time{}
	for _, e := range evs {
		if e.Attributes.Action == "user_logged_in" {
			last[e.Attributes.Actor.ID] = e.Attributes.Time.Time
		}
	}
	for _, u := range g.users {
		t := last[u.id].Truncate(time.Second)
		if t.IsZero() {
			continue
		}
		ts := atlassian.Time{Time: t, Raw: t.Format(time.RFC3339)}
		u.user.ProductAccess = []atlassian.ProductAccess{
			{Key: "jira", ID: "ari:cloud:jira::site/" + DemoSiteID, LastActiveTimestamp: ts},
			{Key: "confluence", ID: "ari:cloud:confluence::site/" + DemoSiteID,
				LastActiveTimestamp: ts},
		}
	}
}

func (g *demoGen) system() *demoUser {
	return &demoUser{actor: atlassian.Actor{ID: systemID, Name: systemName}}
}

func stamp(t time.Time) atlassian.Time {
	return atlassian.Time{Time: t, Raw: t.UTC().Format("2006-01-02T15:04:05.000Z")}
}

// event appends one event; processedAt is a second or two after time, or hours for ~2%.
func (g *demoGen) event(t time.Time, action string, actor *demoUser, ctx,
	container []atlassian.EventObject, loc *atlassian.Location, msg string) *atlassian.Event {
	t = t.Add(time.Duration(g.rng.IntN(1000)) * time.Millisecond).Truncate(time.Millisecond)
	processed := t.Add(time.Duration(1000+g.rng.IntN(2000)) * time.Millisecond)
	if g.rng.IntN(50) == 0 {
		processed = t.Add(time.Hour + time.Duration(g.rng.IntN(5*3600))*time.Second)
	}
	id := randUUID(g.rng)
	e := atlassian.Event{
		ID: id, Type: "events",
		Attributes: atlassian.EventAttributes{
			Time: stamp(t), ProcessedAt: stamp(processed), Action: action, Actor: actor.actor,
			Context: ctx, Container: container, Location: loc,
		},
		Links: atlassian.Links{Self: "https://api.atlassian.com/admin/v1/orgs/" + DemoOrgID +
			"/events/" + id},
	}
	if msg != "" {
		e.Message = &atlassian.Message{Content: msg, Format: "simple"}
	}
	g.events = append(g.events, e)
	return &g.events[len(g.events)-1]
}

// local is a time of day at the user's home, as UTC.
func local(u *demoUser, d time.Time, minutes int) time.Time {
	return d.Add(time.Duration(minutes-cities[u.city].offsetMin) * time.Minute)
}

// routine is one ordinary day of one person: logins, an occasional typo, logouts.
func (g *demoGen) routine(u *demoUser, d time.Time) {
	wd := local(u, d, 12*60).Weekday()
	p := 92
	if wd == time.Saturday || wd == time.Sunday {
		p = 7
	}
	if u.external {
		p /= 2
	}
	if g.rng.IntN(100) >= p {
		return
	}

	login := local(u, d, 8*60+g.rng.IntN(150))
	switch n := g.rng.IntN(100); {
	case n < 2:
		g.event(login.Add(-9*time.Minute), "password_recovery_requested", u, u.self, nil,
			u.home, "")
		g.event(login.Add(-6*time.Minute), "password_reset_with_recovery_link", u, u.self, nil,
			u.home, "")
	case n < 10:
		for k := g.rng.IntN(2) + 1; k > 0; k-- {
			g.event(login.Add(-time.Duration(k)*time.Minute), "user_login_failed", u, u.self,
				nil, u.home, "Login failed: incorrect password")
		}
	}
	g.event(login, "user_logged_in", u, u.self, nil, u.home, "")

	if g.rng.IntN(100) < 85 {
		mid := local(u, d, 13*60+g.rng.IntN(120))
		g.event(mid, "user_logged_in", u, u.self, g.site, u.home, "")
		if g.rng.IntN(100) < 40 {
			g.event(mid.Add(time.Duration(30+g.rng.IntN(90))*time.Minute), "user_logged_out",
				u, u.self, nil, u.home, "")
		}
	}
	if g.rng.IntN(100) < 45 {
		g.event(local(u, d, 19*60+g.rng.IntN(180)), "user_logged_in", u, u.self, g.site,
			u.home, "")
	}
	if g.rng.IntN(100) < 80 {
		g.event(local(u, d, 17*60+g.rng.IntN(120)), "user_logged_out", u, u.self, nil, u.home, "")
	}
}

var groups = []string{"jira-software-users", "confluence-users", "engineering", "finance",
	"sales", "support", "contractors", "design"}

func (g *demoGen) groupCtx(target *demoUser, name string) []atlassian.EventObject {
	return append(userCtx(target), atlassian.EventObject{ID: uuidFrom("group:" + name),
		Type: "groups", Attributes: map[string]any{"name": name}})
}

func productCtx(target *demoUser, product, productName string) []atlassian.EventObject {
	return append(userCtx(target), atlassian.EventObject{
		ID: "ari:cloud:" + product + "::site/" + DemoSiteID, Type: "products",
		Attributes: map[string]any{"productKey": product, "productName": productName}})
}

func (g *demoGen) pick() *demoUser { return g.users[3+g.rng.IntN(len(g.users)-3)] }

// adminWork is the usual admin: Astrid a few changes a workday, Daniel one now and then.
func (g *demoGen) adminWork(d time.Time) {
	astrid, daniel := g.byName["Astrid Lindqvist"], g.byName["Daniel Okoye"]
	if wd := d.Weekday(); wd == time.Saturday || wd == time.Sunday {
		return
	}
	for k := g.rng.IntN(4); k > 0; k-- {
		at := local(astrid, d, 9*60+30+g.rng.IntN(420))
		target := g.pick()
		switch n := g.rng.IntN(10); {
		case n < 4:
			grp := groups[g.rng.IntN(len(groups))]
			g.event(at, "group_user_added", astrid, g.groupCtx(target, grp), g.org, astrid.home, "")
		case n < 6:
			g.event(at, "product_access_granted", astrid, productCtx(target, "confluence",
				"Confluence"), g.site, astrid.home, "")
		case n < 7:
			grp := groups[g.rng.IntN(len(groups))]
			g.event(at, "group_user_removed", astrid, g.groupCtx(target, grp), g.org, astrid.home,
				"Removed "+target.email+" from "+grp)
		case n < 8:
			g.event(at, "auth_policy_updated", astrid, []atlassian.EventObject{{
				ID: uuidFrom("policy:employees"), Type: "auth-policies",
				Attributes: map[string]any{"name": "Employees (2SV enforced)"}}}, g.org,
				astrid.home, "")
		case n < 9:
			g.event(at, "user_invited", astrid, userCtx(target), g.org, astrid.home,
				"Invited "+target.email)
		default:
			g.event(at, "data_export_created", astrid, []atlassian.EventObject{{
				ID: randUUID(g.rng), Type: "exports",
				Attributes: map[string]any{"name": "Managed accounts", "format": "csv"}}},
				g.org, astrid.home, "")
		}
	}
	if g.rng.IntN(5) == 0 {
		at := local(daniel, d, 10*60+g.rng.IntN(360))
		g.event(at, "product_access_revoked", daniel, productCtx(g.pick(), "jira", "Jira"),
			g.site, daniel.home, "")
	}
}

// script is Daniel's nightly group sync, acting with an API token from a server.
func (g *demoGen) script(d time.Time) {
	daniel := g.byName["Daniel Okoye"]
	actor := &demoUser{actor: daniel.actor}
	actor.actor.Auth = &atlassian.ActorAuth{AuthType: "api-token",
		TokenID: uuidFrom("token:nightly-group-sync"), TokenLabel: "nightly-group-sync"}
	at := d.Add(2*time.Hour + time.Duration(g.rng.IntN(600))*time.Second)
	for k := 1 + g.rng.IntN(3); k > 0; k-- {
		g.event(at, "group_user_added", actor, g.groupCtx(g.pick(), groups[g.rng.IntN(3)]), g.org,
			locScriptHost, "")
		at = at.Add(time.Duration(2+g.rng.IntN(5)) * time.Second)
	}
}

// systemWork is SCIM provisioning done by the Atlassian system: no email, no location.
func (g *demoGen) systemWork(d time.Time) {
	if g.rng.IntN(3) != 0 {
		return
	}
	var synced []*demoUser
	for _, u := range g.users {
		if u.synced {
			synced = append(synced, u)
		}
	}
	u := synced[g.rng.IntN(len(synced))]
	g.event(d.Add(time.Duration(g.rng.IntN(86400))*time.Second), "group_user_added", g.system(),
		g.groupCtx(u, "apac-scim"), g.org, nil, "Synced from identity provider")
}

// oneOffs are single admin and security events that give the month some texture.
func (g *demoGen) oneOffs(start time.Time) {
	astrid, daniel, erik := g.byName["Astrid Lindqvist"], g.byName["Daniel Okoye"],
		g.byName["Erik Johansson"]
	day := func(n int, h int) time.Time { return start.Add(time.Duration(n*24+h) * time.Hour) }

	g.event(day(0, 9), "ip_allowlist_updated", astrid, []atlassian.EventObject{{
		ID: uuidFrom("policy:office-networks"), Type: "policies",
		Attributes: map[string]any{"name": "Office networks"}}}, g.org, astrid.home,
		"Updated IP allowlist Office networks")
	g.event(day(5, 11), "org_api_key_created", daniel, []atlassian.EventObject{{
		ID: uuidFrom("orgkey:warden"), Type: "api-keys",
		Attributes: map[string]any{"name": "warden-readonly"}}}, g.org, daniel.home, "")
	g.event(day(10, 14), "two_step_verification_disabled", erik, erik.self, nil, erik.home,
		"Two-step verification disabled")
	g.event(day(14, 10), "group_created", astrid, []atlassian.EventObject{{
		ID: uuidFrom("group:design"), Type: "groups",
		Attributes: map[string]any{"name": "design"}}},
		g.org, astrid.home, "Created group design")
	g.event(day(21, 15), "api_token_revoked", astrid, []atlassian.EventObject{{
		ID: uuidFrom("token:old-ci"), Type: "api-tokens", Attributes: map[string]any{
			"label": "old-ci"}}}, g.org, astrid.home, "")
}

// plant adds the six attacks and returns their answer key.
func (g *demoGen) plant(day time.Time) []Attack {
	var out []Attack
	at := func(daysBack, h, m int) time.Time {
		return day.Add(-time.Duration(daysBack)*24*time.Hour + time.Duration(h)*time.Hour +
			time.Duration(m)*time.Minute)
	}
	record := func(a Attack, evs ...*atlassian.Event) {
		for _, e := range evs {
			a.EventIDs = append(a.EventIDs, e.ID)
			t := e.Attributes.Time.Time
			if a.Start.IsZero() || t.Before(a.Start) {
				a.Start = t
			}
			if t.After(a.End) {
				a.End = t
			}
		}
		out = append(out, a)
	}

	lukas := g.byName["Lukas Schneider"]
	e1 := g.event(at(9, 8, 10), "user_logged_in", lukas, lukas.self, nil, lukas.home, "")
	e2 := g.event(at(9, 8, 47), "user_logged_in", lukas, lukas.self, g.site, locSydneyAttacker, "")
	record(Attack{Kind: AttackImpossibleTravel, UserID: lukas.id, ActorID: lukas.id,
		IP:      locSydneyAttacker.IP,
		Summary: "Lukas Schneider logs in from Berlin, then from Sydney 37 minutes later"}, e1, e2)

	priya := g.byName["Priya Raman"]
	var spray []*atlassian.Event
	t := at(6, 3, 14)
	for k := 0; k < 14; k++ {
		spray = append(spray, g.event(t, "user_login_failed", priya, priya.self, nil, locSprayer,
			"Login failed: incorrect password"))
		t = t.Add(14 * time.Second)
	}
	spray = append(spray, g.event(at(6, 3, 17).Add(40*time.Second), "user_logged_in", priya,
		priya.self, nil, locSprayer, ""))
	record(Attack{Kind: AttackPasswordSpray, UserID: priya.id, ActorID: priya.id, IP: locSprayer.IP,
		Summary: "14 failed logins against Priya Raman from one IP in 3.5 minutes, then a success"},
		spray...)

	mei, olivia := g.byName["Mei Tanaka"], g.byName["Olivia Bennett"]
	e3 := g.event(at(4, 13, 15), "user_logged_in", mei, mei.self, nil, mei.home, "")
	e4 := g.event(at(4, 13, 22), "user_logged_in_as_user", mei, []atlassian.EventObject{{
		Type: "users", Attributes: map[string]any{"email": olivia.email}}}, g.site, mei.home,
		"Logged in as "+olivia.email)
	record(Attack{Kind: AttackImpersonation, UserID: mei.id, ActorID: mei.id, IP: mei.home.IP,
		Summary: "Mei Tanaka, an admin who makes no admin changes, logs in as Olivia Bennett"},
		e3, e4)

	sofia := g.byName["Sofia Marques"]
	e5 := g.event(at(3, 23, 41), "user_logged_in", sofia, sofia.self, nil, locAnonymous, "")
	e6 := g.event(at(3, 23, 47), "api_token_created", sofia, append([]atlassian.EventObject{{
		ID: randUUID(g.rng), Type: "api-tokens", Attributes: map[string]any{"label": "backup",
			"expiresAt": at(3, 23, 47).AddDate(1, 0, 0).Format(time.RFC3339)}}}, sofia.self...),
		nil, locAnonymous, "")
	record(Attack{Kind: AttackAnonymousIP, UserID: sofia.id, ActorID: sofia.id,
		IP:      DemoAnonymousIP,
		Summary: "Sofia Marques logs in from a Tor-like exit address and creates an API token"},
		e5, e6)

	daniel := g.byName["Daniel Okoye"]
	var burst []*atlassian.Event
	t = at(2, 16, 5)
	for k := 0; k < 30; k++ {
		target := g.users[3+k%(len(g.users)-4)]
		switch k % 3 {
		case 0:
			burst = append(burst, g.event(t, "group_user_removed", daniel,
				g.groupCtx(target, groups[k%len(groups)]), g.org, daniel.home, ""))
		case 1:
			burst = append(burst, g.event(t, "product_access_revoked", daniel,
				productCtx(target, "confluence", "Confluence"), g.site, daniel.home, ""))
		default:
			burst = append(burst, g.event(t, "group_user_removed", daniel,
				g.groupCtx(target, "jira-software-users"), g.org, daniel.home,
				"Removed "+target.email+" from jira-software-users"))
		}
		t = t.Add(19 * time.Second)
	}
	record(Attack{Kind: AttackAdminBurst, UserID: daniel.id, ActorID: daniel.id,
		IP: daniel.home.IP, Summary: "Daniel Okoye makes 30 admin changes in under 10 minutes"},
		burst...)

	ethan := g.byName["Ethan Brooks"]
	e7 := g.event(at(1, 10, 12), "user_logged_in", ethan, ethan.self, nil, locReykjavik, "")
	record(Attack{Kind: AttackNewCountry, UserID: ethan.id, ActorID: ethan.id, IP: locReykjavik.IP,
		Summary: "Ethan Brooks logs in from Iceland, a country nobody in the org has used"}, e7)

	// The pointers above may refer to a backing array that a later append replaced; only
	// their id and time are read, and those are the same in the old array.
	return out
}

// demoActions is the fixture catalogue plus the keys the demo adds. All keys besides
// user_logged_in_as_user are invented, as the fixture README warns.
func demoActions() []atlassian.EventAction {
	rows := [][3]string{
		{"user_logged_in", "Logged in to account", "Atlassian accounts"},
		{"user_login_failed", "Failed to log in to account", "Atlassian accounts"},
		{"user_logged_out", "Logged out of account", "Atlassian accounts"},
		{"user_logged_in_as_user", "Logged in as user", "User security|Admin actions"},
		{"password_recovery_requested", "Requested password recovery link", "Atlassian accounts"},
		{"password_reset_with_recovery_link", "Reset password with recovery link",
			"Atlassian accounts"},
		{"two_step_verification_disabled", "Disabled two-step verification", "User security"},
		{"api_token_created", "Created API token", "API tokens"},
		{"api_token_revoked", "Revoked API token", "API tokens"},
		{"org_api_key_created", "Created organization API key", "Organization API keys"},
		{"org_api_key_revoked", "Revoked organization API key", "Organization API keys"},
		{"org_admin_role_granted", "Granted organization admin role", "Roles"},
		{"org_admin_role_revoked", "Revoked organization admin role", "Roles"},
		{"group_user_added", "Added user to group", "Groups"},
		{"group_user_removed", "Removed user from group", "Groups"},
		{"auth_policy_updated", "Updated authentication policy", "Authentication policies"},
		{"ip_allowlist_updated", "Updated IP allowlist", "Security policies"},
		{"domain_verified", "Verified domain", "Domains"},
		{"domain_removed", "Removed domain", "Domains"},
		{"data_export_created", "Exported managed accounts", "Data"},
		{"product_access_granted", "Granted product access", "Product access"},
		{"user_access_suspended", "Suspended user access", "User management"},
		{"user_access_restored", "Restored user access", "User management"},
		{"account_deactivated", "Deactivated account", "Atlassian accounts"},
		{"account_reactivated", "Reactivated account", "Atlassian accounts"},
		// Added for the demo.
		{"product_access_revoked", "Revoked product access", "Product access"},
		{"user_invited", "Invited user", "User management"},
		{"group_created", "Created group", "Groups"},
		{"group_deleted", "Deleted group", "Groups"},
		{"user_email_changed", "Changed email address", "Atlassian accounts"},
	}
	out := make([]atlassian.EventAction, len(rows))
	for i, r := range rows {
		out[i].ID, out[i].Type = r[0], "event-actions"
		out[i].Attributes.DisplayName = r[1]
		out[i].Attributes.GroupDisplayNames = splitBar(r[2])
		out[i].Attributes.GroupDisplayName = out[i].Attributes.GroupDisplayNames[0]
	}
	return out
}

func splitBar(s string) []string {
	var out []string
	for len(s) > 0 {
		i := indexByte(s, '|')
		out = append(out, s[:i])
		if i == len(s) {
			break
		}
		s = s[i+1:]
	}
	return out
}

func demoDomains() []atlassian.Domain {
	mk := func(name, claimType, status string) atlassian.Domain {
		var d atlassian.Domain
		d.ID, d.Type = uuidFrom("domain:"+name), "domains"
		d.Attributes.Name = name
		d.Attributes.Claim.Type, d.Attributes.Claim.Status = claimType, status
		return d
	}
	return []atlassian.Domain{
		mk("example.com", "dns", "verified"),
		mk("northwind.example.net", "http", "unverified"),
	}
}

func demoPolicies(start time.Time) []atlassian.Policy {
	var allow, dsp atlassian.Policy
	allow.ID, allow.Type = uuidFrom("policy:office-networks"), "policy"
	allow.Attributes.Type, allow.Attributes.Name, allow.Attributes.Status =
		"ip-allowlist", "Office networks", "enabled"
	allow.Attributes.Rule, _ = json.Marshal(map[string][]string{
		"in": {"192.0.2.0/25", "198.51.100.0/25", "203.0.113.0/25", "2001:db8::/40"}})
	allow.Attributes.Resources = append(allow.Attributes.Resources, struct {
		ID                string `json:"id,omitempty"`
		ApplicationStatus string `json:"applicationStatus,omitempty"`
	}{ID: "ari:cloud:jira::site/" + DemoSiteID, ApplicationStatus: "applied"})
	allow.Attributes.CreatedAt = atlassian.Time{Time: time.Date(2024, 5, 6, 9, 0, 0, 0, time.UTC),
		Raw: "2024-05-06T09:00:00Z"}
	allow.Attributes.UpdatedAt = stamp(start)

	dsp.ID, dsp.Type = uuidFrom("policy:block-exports"), "policy"
	dsp.Attributes.Type, dsp.Attributes.Name, dsp.Attributes.Status =
		"data-security", "Block exports from Finance spaces", "disabled"
	dsp.Attributes.CreatedAt = allow.Attributes.CreatedAt
	dsp.Attributes.UpdatedAt = allow.Attributes.CreatedAt
	return []atlassian.Policy{allow, dsp}
}
