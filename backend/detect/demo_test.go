package detect

import (
	"context"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"warden/backend/atlassian"
	"warden/backend/atlassian/fake"
	"warden/backend/audit"
	"warden/backend/geo"
	"warden/backend/store"
	"warden/backend/syncer"
)

// attackPolicy is the policy that must find each kind of planted attack.
var attackPolicy = map[string]string{
	fake.AttackImpossibleTravel: PolicyImpossibleTravel,
	fake.AttackPasswordSpray:    PolicyFailedLogins,
	fake.AttackImpersonation:    PolicyImpersonation,
	fake.AttackAnonymousIP:      PolicyAnonymousIP,
	fake.AttackAdminBurst:       PolicyUnusualAdmin,
	fake.AttackNewCountry:       PolicyInfrequentCountry,
}

var demoNow = time.Date(2026, 6, 15, 12, 0, 0, 0, time.UTC)

// syncDemo syncs the demo org through the real syncer and fake API, detecting on every
// committed page as the app does.
func syncDemo(t *testing.T, seed int64, e *Engine, st *store.Store) int {
	t.Helper()
	opts := fake.Demo(seed, demoNow)
	opts.Now = func() time.Time { return demoNow }
	srv := httptest.NewServer(fake.New(opts))
	t.Cleanup(srv.Close)
	cl, err := atlassian.New(atlassian.Config{
		BaseURL: srv.URL, OrgID: opts.OrgID, APIKey: opts.APIKey,
		Sleep: func(ctx context.Context, d time.Duration) error { return ctx.Err() },
		Limiters: atlassian.NewLimiterPool(atlassian.Budget{PerMinute: 1e6,
			EventsPerMinute: 1e6}),
	})
	if err != nil {
		t.Fatal(err)
	}
	var procErr error
	s := syncer.New(syncer.Options{Store: st, Now: func() time.Time { return demoNow },
		Window: 40 * 24 * time.Hour,
		OnPage: func(org string, added []audit.Event) {
			if err := e.Process(org, added); err != nil && procErr == nil {
				procErr = err
			}
		}})
	res, err := s.Run(context.Background(), opts.OrgID, cl)
	if err != nil {
		t.Fatal(err)
	}
	if procErr != nil {
		t.Fatal(procErr)
	}
	if err := e.DirectoryChanged(opts.OrgID); err != nil {
		t.Fatal(err)
	}
	if err := e.Flush(opts.OrgID); err != nil {
		t.Fatal(err)
	}
	if err := e.Settle(opts.OrgID, demoNow); err != nil {
		t.Fatal(err)
	}
	return res.Added
}

// TestDemoAttacks runs a month of the demo organization through detection: every planted
// attack must be found by its policy, and benign traffic may raise at most one alert per
// 10,000 events.
func TestDemoAttacks(t *testing.T) {
	for _, seed := range []int64{1, 2, 3} {
		st := openStore(t)
		e := newEngine(t, st, Options{})
		n := syncDemo(t, seed, e, st)
		alerts, err := e.List(fake.DemoOrgID, Filter{Limit: 10000})
		if err != nil {
			t.Fatal(err)
		}

		attacks := fake.DemoAttacks(seed, demoNow)
		explained := map[string]bool{}
		for _, at := range attacks {
			found := false
			for _, al := range alerts {
				if overlaps(al.EventIDs, at.EventIDs) || (al.User == at.UserID &&
					!al.LastTime.Before(at.Start.Add(-time.Hour)) &&
					!al.Time.After(at.End.Add(time.Hour))) {
					explained[al.ID] = true
					if al.Policy == attackPolicy[at.Kind] {
						found = true
					}
				}
			}
			if !found {
				t.Errorf("seed %d: attack %s (%s) not found by %s", seed, at.Kind, at.Summary,
					attackPolicy[at.Kind])
			}
		}

		var benign []Alert
		for _, al := range alerts {
			if !explained[al.ID] {
				benign = append(benign, al)
			}
		}
		rate := float64(len(benign)) / float64(n) * 10000
		t.Logf("seed %d: %d events, %d alerts, %d benign (%.2f per 10,000 events)", seed, n,
			len(alerts), len(benign), rate)
		if rate > 1 {
			for _, al := range benign {
				t.Logf("benign alert: %s %s %s: %v", al.Policy, al.Time.Format(time.RFC3339),
					al.Title, al.Evidence)
			}
			t.Errorf("seed %d: %.2f benign alerts per 10,000 events, want at most 1", seed, rate)
		}
	}
}

func overlaps(a, b []string) bool {
	for _, x := range a {
		if slices.Contains(b, x) {
			return true
		}
	}
	return false
}

// TestDemoWithGeo runs the demo through the real geo package (embedded data, the demo's Tor
// list) instead of the test stubs, as the app wires it.
func TestDemoWithGeo(t *testing.T) {
	db, err := geo.Open(geo.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	st := openStore(t)
	e := newEngine(t, st, Options{Geo: NewGeo(db), Classifier: NewClassifier(nil, geo.DemoLists())})
	syncDemo(t, 1, e, st)
	alerts, err := e.List(fake.DemoOrgID, Filter{})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for _, al := range alerts {
		got[al.Policy] = true
	}
	for kind, policy := range attackPolicy {
		if !got[policy] {
			t.Errorf("attack %s: no %s alert with the real geo data", kind, policy)
		}
	}
	if len(alerts) > 8 {
		t.Errorf("%d alerts with the real geo data, want the planted ones only", len(alerts))
		for _, al := range alerts {
			t.Log(al.Policy, al.Title, al.Evidence)
		}
	}
}

// TestFixtureOrg syncs the shared fixture org with learning switched off: the impersonation
// whose target is known only by email must name the target, and Hana's five failures in 69
// seconds stay below the failed-login threshold.
func TestFixtureOrg(t *testing.T) {
	opts, err := fake.LoadFixtures("../../../shared/fixtures/atlassian")
	if err != nil {
		t.Skip("fixtures not available:", err)
	}
	now := time.Date(2026, 11, 19, 0, 0, 0, 0, time.UTC)
	opts.Now = func() time.Time { return now }
	srv := httptest.NewServer(fake.New(opts))
	t.Cleanup(srv.Close)
	cl, err := atlassian.New(atlassian.Config{BaseURL: srv.URL, OrgID: opts.OrgID,
		APIKey: opts.APIKey,
		Sleep:  func(ctx context.Context, d time.Duration) error { return ctx.Err() }})
	if err != nil {
		t.Fatal(err)
	}
	st := openStore(t)
	e := newEngine(t, st, Options{})
	for _, id := range BuiltinPolicies {
		if err := e.SetPolicy(opts.OrgID, id, PolicyConfig{Enabled: true, LearningDays: 0,
			Sensitivity: SensitivityMedium}); err != nil {
			t.Fatal(err)
		}
	}
	s := syncer.New(syncer.Options{Store: st, Now: func() time.Time { return now },
		Window: 10 * 24 * time.Hour, PageSize: 15,
		OnPage: func(org string, added []audit.Event) {
			if err := e.Process(org, added); err != nil {
				t.Error(err)
			}
		}})
	if _, err := s.Run(context.Background(), opts.OrgID, cl); err != nil {
		t.Fatal(err)
	}
	if err := e.Flush(opts.OrgID); err != nil {
		t.Fatal(err)
	}
	alerts, err := e.List(opts.OrgID, Filter{})
	if err != nil {
		t.Fatal(err)
	}
	var imp int
	for _, al := range alerts {
		switch al.Policy {
		case PolicyImpersonation:
			imp++
			if !strings.Contains(al.Title, "noah.fitzgerald@example.com") {
				t.Errorf("impersonation alert does not name the target: %q", al.Title)
			}
		case PolicyFailedLogins:
			t.Errorf("five failures alerted: %v", al.Evidence)
		}
	}
	if imp != 1 {
		t.Errorf("%d impersonation alerts, want 1", imp)
	}
}
