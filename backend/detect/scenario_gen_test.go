package detect

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"warden/backend/audit"
)

// The scenario folders under testdata/scenarios are data: events.jsonl (normalized events,
// each with a "note" saying whether it is a positive or a negative case), config.json (the
// directory and settings) and alerts.golden (the expected alerts with their evidence). This
// file writes events.jsonl and config.json from the descriptions below; run
//
//	go test ./backend/detect -run TestGenerateScenarios -gen-scenarios
//
// after changing them, then `-run TestScenarios -update` to refresh the golden files.
var genScenarios = flag.Bool("gen-scenarios", false, "rewrite testdata/scenarios inputs")

// scenarioStart is day 0 of every scenario.
var scenarioStart = time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)

// place is a login location of a scenario.
type place struct{ ip, city, region, country, geo string }

var (
	berlin      = place{"192.0.2.20", "Berlin", "Berlin", "Germany", "52.52,13.40"}
	berlin2     = place{"192.0.2.21", "Berlin", "Berlin", "Germany", "52.52,13.40"}
	berlin3     = place{"192.0.2.22", "Berlin", "Berlin", "Germany", "52.52,13.40"}
	london      = place{"192.0.2.30", "London", "England", "United Kingdom", "51.51,-0.13"}
	stockholm   = place{"192.0.2.10", "Stockholm", "Stockholm County", "Sweden", "59.33,18.07"}
	vienna      = place{"192.0.2.160", "Vienna", "Vienna", "Austria", "48.21,16.37"}
	newYork     = place{"198.51.100.20", "New York", "New York", "United States", "40.71,-74.01"}
	vpnNY       = place{"198.51.100.130", "New York", "New York", "United States", "40.71,-74.01"}
	sydney      = place{"203.0.113.201", "Sydney", "New South Wales", "Australia", "-33.87,151.21"}
	tokyo       = place{"203.0.113.30", "Tokyo", "Tokyo", "Japan", "35.68,139.69"}
	singapore   = place{"203.0.113.20", "Singapore", "Singapore", "Singapore", "1.29,103.85"}
	torExit     = place{"203.0.113.250", "", "", "Netherlands", ""}
	botnet      = place{"203.0.113.66", "Amsterdam", "North Holland", "Netherlands", "52.37,4.90"}
	sprayer     = place{"192.0.2.199", "Bucharest", "Bucharest", "Romania", "44.43,26.10"}
	guesser     = place{"198.51.100.77", "Frankfurt am Main", "Hesse", "Germany", "50.11,8.68"}
	lisbon      = place{"192.0.2.60", "Lisbon", "Lisbon", "Portugal", "38.72,-9.14"}
	madrid      = place{"192.0.2.61", "Madrid", "Madrid", "Spain", "40.42,-3.70"}
	franceOnly  = place{"192.0.2.170", "", "", "France", ""}
	germanyOnly = place{"192.0.2.171", "", "", "Germany", ""}
)

// person is a scenario user.
type person struct {
	id, email, name string
	admin           bool
	home            place
}

func (p person) user() audit.User {
	return audit.User{AccountID: p.id, Email: p.email, Name: p.name, Admin: p.admin, Managed: true}
}

var (
	alice   = person{"u-alice", "alice@example.com", "Alice Adler", false, berlin}
	bob     = person{"u-bob", "bob@example.com", "Bob Brandt", false, berlin2}
	carol   = person{"u-carol", "carol@example.com", "Carol Cole", false, london}
	dave    = person{"u-dave", "dave@example.com", "Dave Dahl", false, stockholm}
	erin    = person{"u-erin", "erin@example.com", "Erin Ek", false, stockholm}
	frank   = person{"u-frank", "frank@example.com", "Frank Fors", false, stockholm}
	greg    = person{"u-greg", "greg@example.com", "Greg Gray", false, lisbon}
	vince   = person{"u-vince", "vince@example.com", "Vince VPN", false, berlin3}
	nora    = person{"u-nora", "nora@example.com", "Nora Nomad", false, berlin}
	pete    = person{"u-pete", "pete@example.com", "Pete Pilot", false, london}
	tina    = person{"u-tina", "tina@example.com", "Tina Typo", false, london}
	adam    = person{"u-adam", "adam@example.com", "Adam Admin", true, stockholm}
	mallory = person{"u-mallory", "mallory@example.com", "Mallory Moss", true, london}
	oscar   = person{"u-oscar", "oscar@example.com", "Oscar Olsen", true, berlin}
	mei     = person{"u-mei", "mei@example.com", "Mei Mori", true, tokyo}
	zoe     = person{"u-zoe", "zoe@example.com", "Zoe Zand", true, london}
	rafael  = person{"u-rafael", "rafael@example.com", "Rafael Ruiz", true, berlin}
	sam     = person{"u-sam", "sam@example.com", "Sam Support", true, london}
)

// scenario collects the events of one folder.
type scenario struct {
	name   string
	people []person
	events []noted
	seq    int
}

// noted is an event line of events.jsonl.
type noted struct {
	audit.Event
	Note string `json:"note,omitempty"`
}

// travellerScope leaves the frequent traveller out of infrequent country, as Defender advises.
var travellerScope = &Settings{Policies: map[string]PolicyConfig{PolicyInfrequentCountry: {
	Enabled: true, Sensitivity: SensitivityMedium, LearningDays: 7,
	Scope: Scope{ExcludeUsers: []string{pete.email}}}}}

type scenarioConfig struct {
	Users    []audit.User `json:"users"`
	Settings *Settings    `json:"settings,omitempty"`
}

func at(day int, hhmm string) time.Time {
	d, _ := time.ParseDuration(hhmm)
	return scenarioStart.Add(time.Duration(day)*24*time.Hour + d)
}

// add appends one event.
func (s *scenario) add(t time.Time, p person, action string, pl place, note string,
	targets ...audit.Object) {
	s.seq++
	e := audit.Event{ID: fmt.Sprintf("%s-%04d", s.name, s.seq), Org: "scenario-org", Time: t,
		Action: action, Category: audit.Categorize(action, nil), ActorID: p.id,
		ActorName: p.name, ActorEmail: p.email, IP: pl.ip, Country: pl.country,
		Region: pl.region, City: pl.city, Geo: pl.geo, Product: "organization", Targets: targets}
	if len(targets) == 0 {
		e.Targets = []audit.Object{{ID: p.id, Type: "users", Email: p.email}}
	}
	s.events = append(s.events, noted{Event: e, Note: note})
}

// routine is an ordinary workday at home: a login, a second login after lunch, a logout.
func (s *scenario) routine(p person, from, to int) {
	for d := from; d < to; d++ {
		s.add(at(d, "8h30m"), p, "user_logged_in", p.home, "")
		s.add(at(d, "13h05m"), p, "user_logged_in", p.home, "")
		s.add(at(d, "17h40m"), p, "user_logged_out", p.home, "")
	}
}

// background adds the negatives every scenario shares: a VPN user, a traveller between
// neighbouring countries, a possible flight, a typo burst below threshold, an admin doing
// their usual work.
func (s *scenario) background() {
	s.people = append(s.people, vince, nora, pete, tina, adam)
	for d := 0; d < 20; d++ {
		s.add(at(d, "8h10m"), vince, "user_logged_in", vince.home, "negative: VPN user at home")
		s.add(at(d, "8h40m"), vince, "user_logged_in", vpnNY, "negative: VPN user on the VPN")
		s.add(at(d, "16h"), vince, "user_logged_in", vince.home, "negative: VPN user at home")
	}
	s.routine(nora, 0, 12)
	s.add(at(12, "7h"), nora, "user_logged_in", nora.home, "negative: traveller at home")
	s.add(at(12, "11h"), nora, "user_logged_in", vienna, "negative: traveller to a neighbouring country")
	s.add(at(13, "9h"), nora, "user_logged_in", vienna, "negative: traveller to a neighbouring country")
	s.add(at(14, "9h"), nora, "user_logged_in", nora.home, "negative: traveller back home")
	s.routine(pete, 0, 12)
	s.add(at(12, "8h"), pete, "user_logged_in", pete.home, "negative: flight that is possible")
	s.add(at(12, "17h30m"), pete, "user_logged_in", newYork, "negative: flight that is possible")
	s.routine(tina, 0, 20)
	for d := 3; d < 20; d += 4 {
		for k := 0; k < 4; k++ {
			s.add(at(d, "8h28m").Add(time.Duration(k)*15*time.Second), tina, "user_login_failed",
				tina.home, "negative: typo burst below threshold")
		}
	}
	s.routine(adam, 0, 20)
	for d := 0; d < 20; d++ {
		for k := 0; k < 2+d%4; k++ {
			s.add(at(d, "10h").Add(time.Duration(k)*20*time.Minute), adam, "group_user_added",
				adam.home, "negative: admin doing usual work", groupTarget(bob, "engineering")...)
		}
		if d%5 == 1 {
			s.add(at(d, "15h"), adam, "product_access_granted", adam.home,
				"negative: admin doing usual work", userTarget(carol))
		}
	}
}

func userTarget(p person) audit.Object {
	return audit.Object{ID: p.id, Type: "users", Email: p.email}
}

func groupTarget(p person, group string) []audit.Object {
	return []audit.Object{userTarget(p), {ID: "g-" + group, Type: "groups", Name: group}}
}

// scenarios describes every folder.
func scenarios() []*scenario {
	var out []*scenario
	mk := func(name string, people ...person) *scenario {
		s := &scenario{name: name, people: people}
		s.background()
		out = append(out, s)
		return s
	}

	s := mk(PolicyAnonymousIP, alice, bob, carol)
	s.routine(alice, 0, 20)
	s.add(at(10, "22h15m"), alice, "user_logged_in", torExit, "positive: login from a Tor exit")
	s.add(at(10, "22h20m"), alice, "api_token_created", torExit, "positive: token created over Tor")
	s.routine(bob, 0, 20)
	s.routine(carol, 0, 20)
	s.add(at(11, "3h"), carol, "user_login_failed", torExit, "negative: failed login from Tor")

	s = mk(PolicyInfrequentCountry, alice, bob, carol, dave, erin, frank, greg)
	s.routine(alice, 0, 12)
	s.add(at(12, "23h"), alice, "user_logged_in", tokyo, "positive: first login from Japan")
	s.add(at(13, "9h"), alice, "user_logged_in", tokyo, "negative: Japan is known by now")
	s.routine(bob, 0, 20)
	s.add(at(12, "12h"), bob, "user_logged_in", vienna, "negative: neighbouring country")
	s.routine(carol, 0, 20)
	s.add(at(12, "12h"), carol, "user_logged_in", vpnNY, "negative: VPN egress abroad")
	for i, p := range []person{dave, erin, frank} {
		s.routine(p, 0, 14)
		s.add(at(14, "9h").Add(time.Duration(i)*25*time.Minute), p, "user_logged_in", singapore,
			"negative: three users in a new country at once (organization change)")
		s.routine(p, 16, 20)
	}
	s.routine(greg, 12, 20)
	s.add(at(13, "19h"), greg, "user_logged_in", madrid, "negative: new user still learning")

	s = mk(PolicySuspiciousIP, alice, bob, carol)
	s.routine(alice, 0, 20)
	s.add(at(9, "10h"), alice, "user_logged_in", botnet, "positive: login from a botnet address")
	s.routine(bob, 0, 20)
	for k := 0; k < 6; k++ {
		s.add(at(11, "2h").Add(time.Duration(k)*40*time.Second), bob, "user_login_failed",
			guesser, "positive: failures from an IP that never succeeded")
	}
	s.add(at(11, "2h6m"), bob, "user_logged_in", guesser, "positive: success from an only-failed IP")
	s.routine(carol, 0, 20)
	s.add(at(12, "8h29m"), carol, "user_login_failed", carol.home, "negative: typo")
	s.add(at(12, "8h29m30s"), carol, "user_login_failed", carol.home, "negative: typo")
	for i := 0; i < 16; i++ {
		victim := person{fmt.Sprintf("u-victim%02d", i), fmt.Sprintf("victim%02d@example.com", i),
			fmt.Sprintf("Victim %d", i), false, london}
		s.add(at(13, "4h").Add(time.Duration(i)*70*time.Second), victim, "user_login_failed",
			sprayer, "positive: password spray")
	}

	s = mk(PolicyImpossibleTravel, alice, bob, carol, dave, erin)
	s.routine(alice, 0, 20)
	s.add(at(10, "9h2m"), alice, "user_logged_in", alice.home, "positive: Berlin")
	s.add(at(10, "9h40m"), alice, "user_logged_in", sydney, "positive: then Sydney")
	s.routine(bob, 0, 20)
	s.add(at(11, "9h"), bob, "user_logged_in", germanyOnly, "negative: country precision, bordering")
	s.add(at(11, "9h20m"), bob, "user_logged_in", franceOnly, "negative: country precision, bordering")
	s.routine(carol, 0, 20)
	s.add(at(12, "9h"), carol, "user_logged_in", carol.home, "negative: same IP, late event")
	s.routine(dave, 0, 20)
	s.add(at(12, "9h10m"), dave, "user_login_failed", sydney, "negative: failed login far away")
	s.routine(erin, 0, 3)
	s.add(at(3, "9h"), erin, "user_logged_in", erin.home, "negative: still learning")
	s.add(at(3, "9h30m"), erin, "user_logged_in", tokyo, "negative: still learning")

	s = mk(PolicyFailedLogins, alice, bob, carol)
	s.routine(alice, 0, 20)
	for k := 0; k < 12; k++ {
		s.add(at(10, "3h").Add(time.Duration(k)*15*time.Second), alice, "user_login_failed",
			guesser, "positive: 12 failures in 3 minutes")
	}
	s.add(at(10, "3h5m"), alice, "user_logged_in", guesser, "positive: success after the failures")
	s.routine(bob, 0, 20)
	for k := 0; k < 5; k++ {
		s.add(at(11, "6h12m").Add(time.Duration(k)*17*time.Second), bob, "user_login_failed",
			sprayer, "negative: five failures, below threshold")
	}
	s.routine(carol, 0, 20)
	for d := 0; d < 20; d++ {
		for k := 0; k < 12; k++ {
			s.add(at(d, "7h").Add(time.Duration(k)*20*time.Second), carol, "user_login_failed",
				carol.home, "negative: a client that fails daily (baseline)")
		}
	}

	s = mk(PolicyUnusualAdmin, mallory, oscar, bob)
	s.routine(mallory, 0, 20)
	for d := 0; d < 20; d++ {
		s.add(at(d, "11h"), mallory, "group_user_added", mallory.home, "",
			groupTarget(bob, "support")...)
	}
	for k := 0; k < 25; k++ {
		s.add(at(15, "16h").Add(time.Duration(k)*30*time.Second), mallory, "group_user_removed",
			mallory.home, "positive: 25 removals in 12 minutes", groupTarget(bob, "support")...)
	}
	s.routine(oscar, 0, 20)
	for d := 0; d < 20; d++ {
		s.add(at(d, "14h"), oscar, "product_access_granted", oscar.home, "", userTarget(bob))
	}
	s.add(at(12, "14h30m"), oscar, "group_created", oscar.home, "negative: new but ordinary type",
		audit.Object{ID: "g-new", Type: "groups", Name: "new"})
	s.add(at(14, "15h"), oscar, "org_admin_role_granted", oscar.home,
		"positive: first privileged action", userTarget(bob))
	s.routine(bob, 0, 20)
	s.add(at(13, "10h"), bob, "two_step_verification_disabled", bob.home,
		"negative: self-service change")

	s = mk(PolicyImpersonation, mei, zoe, rafael, sam, bob, carol)
	for _, p := range []person{mei, zoe, rafael, sam, bob, carol} {
		s.routine(p, 0, 20)
	}
	s.add(at(12, "13h22m"), mei, "user_logged_in_as_user", mei.home,
		"positive: first impersonation by this admin", audit.Object{Type: "users", Email: bob.email})
	s.add(at(3, "10h"), rafael, "user_logged_in_as_user", rafael.home,
		"positive: impersonation of an org admin (target known by email only)",
		audit.Object{Type: "users", Email: zoe.email})
	for d := 1; d < 20; d += 2 {
		s.add(at(d, "9h"), sam, "user_logged_in_as_user", sam.home,
			"negative: support admin who impersonates regularly", userTarget(carol))
	}
	return out
}

func TestGenerateScenarios(t *testing.T) {
	if !*genScenarios {
		t.Skip("run with -gen-scenarios to rewrite the scenario inputs")
	}
	for _, s := range scenarios() {
		dir := filepath.Join("testdata", "scenarios", s.name)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		f, err := os.Create(filepath.Join(dir, "events.jsonl"))
		if err != nil {
			t.Fatal(err)
		}
		enc := json.NewEncoder(f)
		for _, e := range s.events {
			if err := enc.Encode(e); err != nil {
				t.Fatal(err)
			}
		}
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
		cfg := scenarioConfig{Settings: travellerScope}
		for _, p := range s.people {
			cfg.Users = append(cfg.Users, p.user())
		}
		b, err := json.MarshalIndent(cfg, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "config.json"), append(b, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
