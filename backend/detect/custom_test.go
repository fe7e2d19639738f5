package detect

import (
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestValidateCustom(t *testing.T) {
	ok := CustomPolicy{Name: "n", Severity: SeverityLow,
		Filters: []Condition{{Field: "action", Op: "equals", Values: []string{"x"}}}}
	tests := []struct {
		name    string
		edit    func(p *CustomPolicy)
		wantErr string
	}{
		{"valid", func(*CustomPolicy) {}, ""},
		{"no name", func(p *CustomPolicy) { p.Name = " " }, "a name is required"},
		{"bad severity", func(p *CustomPolicy) { p.Severity = "loud" }, "severity"},
		{"nothing to match", func(p *CustomPolicy) { p.Filters = nil }, "at least one filter"},
		{"unknown field", func(p *CustomPolicy) { p.Filters[0].Field = "actr" },
			`filter 1: unknown field "actr"`},
		{"equals two values", func(p *CustomPolicy) { p.Filters[0].Values = []string{"a", "b"} },
			"exactly one value"},
		{"bad op", func(p *CustomPolicy) { p.Filters[0].Op = "contains" }, "op must be"},
		{"expression syntax", func(p *CustomPolicy) { p.Expression = "category ==" },
			"expression:"},
		{"expression unknown name", func(p *CustomPolicy) { p.Expression = `colour == "red"` },
			"unknown name colour"},
		{"expression not bool", func(p *CustomPolicy) { p.Expression = `hour + 1` },
			"expression:"},
		{"valid expression", func(p *CustomPolicy) {
			p.Expression = `category == "admin_action" && hour < 6 && !token`
		}, ""},
		{"bad repeat", func(p *CustomPolicy) { p.Repeated = &Repeat{Count: 1, WithinMinutes: 5} },
			"count of at least 2"},
		{"bad repeat per", func(p *CustomPolicy) {
			p.Repeated = &Repeat{Count: 2, WithinMinutes: 5, Per: "site"}
		}, "per must be"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := ok
			p.Filters = append([]Condition(nil), ok.Filters...)
			tt.edit(&p)
			err := ValidateCustom(p)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Errorf("unexpected error %v", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Errorf("err = %v, want it to mention %q", err, tt.wantErr)
			}
		})
	}
}

// TestCustomPolicies runs custom policies over the admin scenario: a single-activity rule, a
// repeated rule, the daily cap, negation and an expression, live and in simulation.
func TestCustomPolicies(t *testing.T) {
	evs, cfg := loadScenario(t, filepath.Join("testdata", "scenarios", PolicyUnusualAdmin))
	tests := []struct {
		name string
		p    CustomPolicy
		want int
	}{
		{"single activity", CustomPolicy{Name: "Admin role granted", Severity: SeverityHigh,
			Filters: []Condition{{Field: "action", Op: "equals",
				Values: []string{"org_admin_role_granted"}}}}, 1},
		{"repeated per user", CustomPolicy{Name: "Mass removal", Severity: SeverityMedium,
			Filters:  []Condition{{Field: "action", Op: "one_of", Values: []string{"group_user_removed"}}},
			Repeated: &Repeat{Count: 10, WithinMinutes: 10}}, 1},
		{"daily cap", CustomPolicy{Name: "Any group add", Severity: SeverityLow, DailyCap: 1,
			Filters: []Condition{{Field: "action", Op: "equals", Values: []string{"group_user_added"}}}},
			20},
		{"negation and is_set", CustomPolicy{Name: "Admin work off the office IPs",
			Severity: SeverityLow, Filters: []Condition{
				{Field: "admin", Op: "equals", Values: []string{"true"}},
				{Field: "ip", Op: "is_set"},
				{Field: "actor", Op: "one_of", Not: true,
					Values: []string{"adam@example.com", "mallory@example.com", "u-oscar"}}}}, 1},
		{"expression", CustomPolicy{Name: "Self 2SV off", Severity: SeverityMedium,
			Expression: `action == "two_step_verification_disabled" && actor_email in target_user`}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := openStore(t)
			e := newEngine(t, st, Options{})
			tt.p.Enabled = true
			saved, err := e.SaveCustom(testOrg, tt.p)
			if err != nil {
				t.Fatal(err)
			}
			_, alerts := runScenarioWith(t, e, st, evs, cfg)
			got := 0
			for _, al := range alerts {
				if al.Policy == saved.ID {
					got++
				}
			}
			if got != tt.want {
				t.Errorf("live: %d alerts, want %d", got, tt.want)
			}

			sim, err := e.Simulate(t.Context(), testOrg, tt.p, time.Time{}, time.Time{})
			if err != nil {
				t.Fatal(err)
			}
			if len(sim.Alerts) != tt.want || sim.Events != len(evs) {
				t.Errorf("simulation: %d alerts over %d events, want %d over %d",
					len(sim.Alerts), sim.Events, tt.want, len(evs))
			}
			after, _ := e.List(testOrg, Filter{Policy: saved.ID})
			if len(after) != got {
				t.Errorf("simulation stored alerts: %d, want %d", len(after), got)
			}
			if tt.p.DailyCap == 1 && sim.Capped == 0 {
				t.Error("daily cap dropped nothing")
			}
		})
	}
}

func TestCustomStorage(t *testing.T) {
	st := openStore(t)
	e := newEngine(t, st, Options{})
	p, err := e.SaveCustom(testOrg, CustomPolicy{Name: "Exports", Severity: SeverityLow,
		Filters: []Condition{{Field: "category", Op: "equals", Values: []string{"data_export"}}}})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(p.ID, "custom-") {
		t.Errorf("id = %q", p.ID)
	}
	if _, err := e.SaveCustom(testOrg, CustomPolicy{ID: PolicyImpossibleTravel, Name: "x",
		Severity: SeverityLow, Expression: "true"}); err == nil {
		t.Error("a custom policy took a built-in id")
	}
	e = newEngine(t, st, Options{}) // restart: stored as data, compiled on load
	list, err := e.CustomPolicies(testOrg)
	if err != nil || len(list) != 1 || list[0].Name != "Exports" {
		t.Fatalf("after restart: %v, %v", list, err)
	}
	if err := e.ExcludeUser(testOrg, p.ID, "u-alice"); err != nil {
		t.Fatal(err)
	}
	list, _ = e.CustomPolicies(testOrg)
	if len(list[0].Scope.ExcludeUsers) != 1 {
		t.Errorf("exclusion not saved: %+v", list[0].Scope)
	}
	if err := e.DeleteCustom(testOrg, p.ID); err != nil {
		t.Fatal(err)
	}
	if list, _ := e.CustomPolicies(testOrg); len(list) != 0 {
		t.Errorf("after delete: %v", list)
	}
}
