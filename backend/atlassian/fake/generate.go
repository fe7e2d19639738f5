package fake

import (
	"math/rand/v2"
	"slices"
	"strconv"
	"time"

	"warden/backend/atlassian"
)

// genAction is one entry of Generate's action mix, weighted by how often it occurs.
type genAction struct {
	key    string
	weight int
	admin  bool
}

var genActions = []genAction{
	{"user_logged_in", 55, false}, {"user_logged_out", 22, false},
	{"user_login_failed", 6, false}, {"password_recovery_requested", 1, false},
	{"group_user_added", 6, true}, {"group_user_removed", 2, true},
	{"product_access_granted", 4, true}, {"product_access_revoked", 1, true},
	{"api_token_created", 1, false}, {"auth_policy_updated", 1, true},
	{"user_logged_in_as_user", 1, true},
}

// Generate returns n synthetic, realistic events starting at start, about two seconds apart,
// for benchmarks. It is deterministic for a seed and fast (a million events in well under a
// few seconds). To stay small in memory, events of one user share their actor, context and
// location values, and each id is a substring of the event's self link: treat the result as
// read-only.
func Generate(n int, seed int64, start time.Time) []atlassian.Event {
	rng := rand.New(rand.NewPCG(uint64(seed), 0x67656e6572617465))
	users := genUsers(rng, 2000)
	admins := users[:20]
	site := []atlassian.EventObject{{ID: DemoSiteID, Type: "sites",
		Attributes: map[string]any{"siteHostName": DemoSiteHost, "siteName": "northwind"},
		Links:      atlassian.Links{Alt: DemoSiteHost}}}
	org := []atlassian.EventObject{{ID: DemoOrgID, Type: "orgs",
		Attributes: map[string]any{"name": DemoOrgName}}}
	total := 0
	for _, a := range genActions {
		total += a.weight
	}

	prefix := "https://api.atlassian.com/admin/v1/orgs/" + DemoOrgID + "/events/"
	out := make([]atlassian.Event, n)
	t := start.UTC().Truncate(time.Millisecond)
	for i := range out {
		t = t.Add(time.Duration(200+rng.IntN(3600)) * time.Millisecond)
		w := rng.IntN(total)
		a := genActions[0]
		for _, c := range genActions {
			if w < c.weight {
				a = c
				break
			}
			w -= c.weight
		}

		u := &users[rng.IntN(len(users))]
		ctx, container := u.self, []atlassian.EventObject(nil)
		if a.admin {
			target := &users[rng.IntN(len(users))]
			ctx, container = target.self, org
			u = &admins[rng.IntN(len(admins))]
		} else if rng.IntN(3) == 0 {
			container = site
		}

		var tmp [160]byte
		self := string(appendUUID(append(tmp[:0], prefix...), rng.Uint64(), rng.Uint64()))
		processed := t.Add(time.Duration(800+rng.IntN(2200)) * time.Millisecond)
		if rng.IntN(100) == 0 {
			processed = processed.Add(time.Duration(rng.IntN(4*3600)) * time.Second)
		}
		out[i] = atlassian.Event{
			ID: self[len(prefix):], Type: "events",
			Attributes: atlassian.EventAttributes{
				Time: atlassian.Time{Time: t}, ProcessedAt: atlassian.Time{Time: processed},
				Action: a.key, Actor: u.actor, Context: ctx, Container: container,
				Location: u.loc,
			},
			Links: atlassian.Links{Self: self},
		}
	}
	return out
}

type genUser struct {
	actor atlassian.Actor
	self  []atlassian.EventObject
	loc   *atlassian.Location
}

var genFirst = []string{"Alex", "Sam", "Kim", "Noor", "Jun", "Lea", "Omar", "Ines", "Tomás",
	"Yuki", "Ava", "Ben", "Chen", "Dara", "Elif", "Femi", "Gaia", "Hiro", "Ivo", "Jana"}
var genLast = []string{"Andersen", "Baptiste", "Castillo", "Dubois", "Eriksen", "Fujita",
	"García", "Hansen", "Ivanova", "Jensen", "Kowalski", "Lopez", "Moreau", "Nakamura",
	"Okafor", "Petrov", "Quinn", "Rossi", "Silva", "Tanaka"}

func genUsers(rng *rand.Rand, n int) []genUser {
	keys := make([]string, 0, len(cities))
	for k := range cities {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	out := make([]genUser, n)
	for i := range out {
		first, last := genFirst[i%len(genFirst)], genLast[(i/len(genFirst))%len(genLast)]
		name := first + " " + last
		if i >= len(genFirst)*len(genLast) {
			name += " " + strconv.Itoa(i)
		}
		email := "user" + strconv.Itoa(i) + "@example.com"
		id := accountIDFrom("gen:"+strconv.Itoa(i), i%3 == 1)
		c := cities[keys[rng.IntN(len(keys))]]
		ip := c.ipBase[:len(c.ipBase)-1] + strconv.Itoa(rng.IntN(254)+1)
		if i%4 == 0 {
			ip = ipv6For(c, i)
		}
		out[i] = genUser{
			actor: atlassian.Actor{ID: id, Name: name, Email: email,
				Links: atlassian.Links{Self: "https://api.atlassian.com/users/" + id}},
			self: []atlassian.EventObject{{ID: id, Type: "users", Attributes: map[string]any{
				"accountType": "atlassian", "email": email, "name": name}}},
			loc: &atlassian.Location{IP: ip, Geo: c.geo, CountryName: c.country,
				RegionName: c.region, City: c.name},
		}
	}
	return out
}
