package detect

import (
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"warden/backend/audit"
)

const testOrg = "scenario-org"

// travelEngine runs the impossible-travel scenario and returns the engine with its alerts.
func travelEngine(t *testing.T) (*Engine, Alert) {
	t.Helper()
	evs, cfg := loadScenario(t, filepath.Join("testdata", "scenarios", PolicyImpossibleTravel))
	e, alerts := runScenario(t, evs, cfg)
	for _, al := range alerts {
		if al.Policy == PolicyImpossibleTravel {
			return e, al
		}
	}
	t.Fatal("no impossible travel alert")
	return nil, Alert{}
}

func TestResolveLifecycle(t *testing.T) {
	e, al := travelEngine(t)

	tests := []struct {
		name    string
		r       Resolution
		wantErr bool
	}{
		{"unknown verdict", Resolution{As: "maybe"}, true},
		{"false positive", Resolution{As: FalsePositive, Reason: "inaccurate",
			Comment: "she was on a VPN"}, false},
		{"benign", Resolution{As: Benign, Reason: "confirmed_with_user"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := e.Resolve(testOrg, al.ID, tt.r)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, want error %v", err, tt.wantErr)
			}
			if err != nil {
				return
			}
			if got.Status != StatusResolved || got.Resolution.As != tt.r.As ||
				got.Resolution.At.IsZero() {
				t.Errorf("resolved alert = %+v", got)
			}
			open, err := e.List(testOrg, Filter{Status: StatusOpen, Policy: PolicyImpossibleTravel})
			if err != nil || len(open) != 0 {
				t.Errorf("open travel alerts = %d, %v; want none", len(open), err)
			}
		})
	}
	if _, err := e.Resolve(testOrg, "nope", Resolution{As: Benign}); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown alert: err = %v, want ErrNotFound", err)
	}
	got, err := e.Reopen(testOrg, al.ID)
	if err != nil || got.Status != StatusOpen || got.Resolution != nil {
		t.Errorf("reopen = %+v, %v", got, err)
	}

	// A replay recreates the alert with the same id and keeps the admin's verdict.
	if _, err := e.Resolve(testOrg, al.ID, Resolution{As: TruePositive}); err != nil {
		t.Fatal(err)
	}
	if err := e.Replay(t.Context(), testOrg); err != nil {
		t.Fatal(err)
	}
	got, err = e.Get(testOrg, al.ID)
	if err != nil || got.Status != StatusResolved || got.Resolution.As != TruePositive {
		t.Errorf("after replay = %+v, %v", got, err)
	}
}

func TestListFilters(t *testing.T) {
	evs, cfg := loadScenario(t, filepath.Join("testdata", "scenarios", PolicySuspiciousIP))
	e, all := runScenario(t, evs, cfg)
	tests := []struct {
		name string
		f    Filter
		want int
	}{
		{"all", Filter{}, len(all)},
		{"policy", Filter{Policy: PolicySuspiciousIP}, 3},
		{"user by email", Filter{User: "bob@example.com"}, 1},
		{"severity", Filter{Severity: SeverityHigh}, 3},
		{"min severity", Filter{MinSeverity: SeverityMedium}, len(all)},
		{"since", Filter{Since: scenarioStart.Add(12 * 24 * time.Hour)}, 1},
		{"until", Filter{Until: scenarioStart.Add(12 * 24 * time.Hour)}, 2},
		{"limit", Filter{Limit: 1}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := e.List(testOrg, tt.f)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != tt.want {
				t.Errorf("got %d alerts, want %d", len(got), tt.want)
			}
		})
	}
}

// TestFeedback proves each feedback kind changes later detection.
func TestFeedback(t *testing.T) {
	day := func(d int, hhmm string) time.Time { return at(d, hhmm) }
	base := func() *scenario {
		s := &scenario{name: "fb", people: []person{alice}}
		s.routine(alice, 0, 10)
		return s
	}
	trip := func(s *scenario, d int, pl place) {
		s.add(day(d, "9h"), alice, "user_logged_in", alice.home, "")
		s.add(day(d, "9h30m"), alice, "user_logged_in", pl, "")
	}
	tests := []struct {
		name     string
		feedback Feedback
		policy   string
	}{
		{"safe range", Feedback{Kind: FeedbackSafeRange, CIDR: "203.0.113.0/24",
			Category: IPVPN}, PolicyImpossibleTravel},
		{"exclude user", Feedback{Kind: FeedbackExcludeUser}, PolicyImpossibleTravel},
		{"normal location", Feedback{Kind: FeedbackNormalLocation}, PolicyInfrequentCountry},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := base()
			trip(s, 10, sydney)
			cfg := scenarioConfig{Users: []audit.User{alice.user()}}
			e, alerts := runScenario(t, s.events, cfg)
			var target *Alert
			for i := range alerts {
				if alerts[i].Policy == tt.policy {
					target = &alerts[i]
				}
			}
			if target == nil {
				t.Fatalf("no %s alert before feedback", tt.policy)
			}
			if err := e.ApplyFeedback(testOrg, target.ID, tt.feedback); err != nil {
				t.Fatal(err)
			}

			// The same trip a month later must not alert again for this policy.
			var later []audit.Event
			for _, n := range s.events {
				ev := n.Event
				ev.ID += "-later"
				ev.Time = ev.Time.Add(40 * 24 * time.Hour)
				later = append(later, ev)
			}
			if err := e.Process(testOrg, later); err != nil {
				t.Fatal(err)
			}
			if err := e.Flush(testOrg); err != nil {
				t.Fatal(err)
			}
			if err := e.Settle(testOrg, scenarioStart.Add(365*24*time.Hour)); err != nil {
				t.Fatal(err)
			}
			got, err := e.List(testOrg, Filter{Policy: tt.policy,
				Since: scenarioStart.Add(39 * 24 * time.Hour)})
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != 0 {
				t.Errorf("after %s feedback: %d new %s alerts: %v", tt.name, len(got), tt.policy,
					got[0].Evidence)
			}
		})
	}
}

func TestMappingOverride(t *testing.T) {
	st := openStore(t)
	if err := st.PutActions(testOrg, []audit.ActionInfo{
		{Key: "custom_sso_config_changed", DisplayName: "Changed SSO", Groups: []string{"Admin actions"}},
		{Key: "page_exported", DisplayName: "Exported page", Groups: []string{"Confluence"}},
	}); err != nil {
		t.Fatal(err)
	}
	e := newEngine(t, st, Options{})
	rows, err := e.Mappings(testOrg)
	if err != nil {
		t.Fatal(err)
	}
	find := func(rows []ActionMapping, key string) ActionMapping {
		for _, r := range rows {
			if r.Key == key {
				return r
			}
		}
		t.Fatalf("no mapping for %s", key)
		return ActionMapping{}
	}
	if r := find(rows, "custom_sso_config_changed"); r.Category != audit.CategoryAdmin ||
		!r.Privileged || r.DisplayName != "Changed SSO" {
		t.Errorf("catalogue mapping = %+v", r)
	}
	if err := e.SetMapping(testOrg, "page_exported", "nonsense"); err == nil {
		t.Error("unknown category accepted")
	}
	if err := e.SetMapping(testOrg, "user_logged_in", audit.CategoryOther); err != nil {
		t.Fatal(err)
	}

	// The correction survives a restart and changes detection input.
	e = newEngine(t, st, Options{})
	rows, _ = e.Mappings(testOrg)
	if r := find(rows, "user_logged_in"); r.Category != audit.CategoryOther || r.Source != "admin" {
		t.Errorf("after override = %+v", r)
	}
	over, err := e.Overrides(testOrg)
	if err != nil || over["user_logged_in"] != audit.CategoryOther {
		t.Errorf("overrides = %v, %v", over, err)
	}
	if err := e.SetMapping(testOrg, "user_logged_in", ""); err != nil {
		t.Fatal(err)
	}
	rows, _ = e.Mappings(testOrg)
	if r := find(rows, "user_logged_in"); r.Source != "default" {
		t.Errorf("cleared override = %+v", r)
	}
}

func TestScopeAndSettings(t *testing.T) {
	st := openStore(t)
	e := newEngine(t, st, Options{})
	bad := []PolicyConfig{{Sensitivity: "extreme"}, {LearningDays: 400}, {Severity: "urgent"}}
	for _, c := range bad {
		if err := e.SetPolicy(testOrg, PolicyImpossibleTravel, c); err == nil {
			t.Errorf("SetPolicy(%+v) accepted", c)
		}
	}
	if err := e.SetPolicy(testOrg, "no_such_policy", PolicyConfig{}); err == nil {
		t.Error("unknown policy accepted")
	}

	tests := []struct {
		name  string
		scope Scope
		want  bool
	}{
		{"everyone", Scope{}, true},
		{"included by email", Scope{IncludeUsers: []string{"ALICE@example.com"}}, true},
		{"not included", Scope{IncludeUsers: []string{"bob@example.com"}}, false},
		{"included by group", Scope{IncludeGroups: []string{"department:Finance"}}, true},
		{"exclusion wins", Scope{IncludeGroups: []string{"managed"},
			ExcludeUsers: []string{"u-alice"}}, false},
		{"excluded group", Scope{ExcludeGroups: []string{"org-admins"}}, false},
		{"excluded directory group", Scope{ExcludeGroups: []string{"travellers"}}, false},
		{"included directory group", Scope{IncludeGroups: []string{"finance-team"}}, true},
	}
	if err := st.PutUsers(testOrg, []audit.User{{AccountID: "u-alice", Email: "alice@example.com",
		Admin: true, Managed: true, Department: "Finance",
		Groups: []string{"finance-team", "travellers"}}}); err != nil {
		t.Fatal(err)
	}
	if err := e.DirectoryChanged(testOrg); err != nil {
		t.Fatal(err)
	}
	e.mu.Lock()
	o, _ := e.org(testOrg)
	e.mu.Unlock()
	for _, tt := range tests {
		if got := o.inScope(tt.scope, "u-alice"); got != tt.want {
			t.Errorf("%s: inScope = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestMarkRangeOverlap(t *testing.T) {
	e := newEngine(t, openStore(t), Options{})
	if err := e.MarkRange(testOrg, FeedbackRange{Category: IPVPN, Name: "vpn"}, "10.0.0.0/8"); err != nil {
		t.Fatal(err)
	}
	err := e.MarkRange(testOrg, FeedbackRange{Category: IPCorporate, Name: "office"}, "10.1.0.0/16")
	if err == nil || !strings.Contains(err.Error(), "overlaps") {
		t.Errorf("overlap: err = %v", err)
	}
	if err := e.MarkRange(testOrg, FeedbackRange{Category: IPRisky}, "192.0.2.1"); err == nil {
		t.Error("risky accepted as feedback category")
	}
	ranges, _ := e.Ranges(testOrg)
	if len(ranges) != 1 {
		t.Errorf("ranges = %v", ranges)
	}
}

// TestLateEventNeighbours delivers a far-away login ten days late: older than every place
// kept in memory, it is compared with its neighbours found in the store's user index.
func TestLateEventNeighbours(t *testing.T) {
	s := &scenario{name: "late", people: []person{alice}}
	s.routine(alice, 0, 20)
	s.add(at(10, "9h40m"), alice, "user_logged_in", sydney, "late event")
	_, alerts := runScenario(t, s.events, scenarioConfig{Users: []audit.User{alice.user()}})
	var travel *Alert
	for i := range alerts {
		if alerts[i].Policy == PolicyImpossibleTravel {
			travel = &alerts[i]
		}
	}
	if travel == nil {
		t.Fatal("late Sydney login raised no impossible travel alert")
	}
	want := []string{"late-0031", "late-0032", "late-0061"} // day 10 08:30, 13:05, Sydney
	for _, id := range want {
		if !slices.Contains(travel.EventIDs, id) {
			t.Errorf("alert events %v lack %s", travel.EventIDs, id)
		}
	}
	if !strings.Contains(strings.Join(travel.Evidence, " "), "Berlin 08:30 then Sydney 09:40") {
		t.Errorf("evidence = %v", travel.Evidence)
	}
}
