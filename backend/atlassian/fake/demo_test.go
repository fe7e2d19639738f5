package fake

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"warden/backend/atlassian"
)

var demoNow = time.Date(2026, 12, 4, 14, 30, 0, 0, time.UTC)

func TestDemoIsDeterministic(t *testing.T) {
	a, b := Demo(42, demoNow), Demo(42, demoNow)
	ja, _ := json.Marshal(a.Events)
	jb, _ := json.Marshal(b.Events)
	if string(ja) != string(jb) || !reflect.DeepEqual(a.Users, b.Users) {
		t.Fatal("same seed and now gave different data")
	}
	if !reflect.DeepEqual(DemoAttacks(42, demoNow), DemoAttacks(42, demoNow)) {
		t.Fatal("attacks differ")
	}
	c := Demo(43, demoNow)
	if c.Events[0].ID == a.Events[0].ID {
		t.Fatal("another seed should give other ids")
	}
}

func TestDemoOrganization(t *testing.T) {
	o := Demo(1, demoNow)
	if o.OrgName != DemoOrgName || o.APIKey != DemoAPIKey {
		t.Fatalf("org %q key %q", o.OrgName, o.APIKey)
	}

	var admins, syncedAdmins, mfaOff, suspended, external int
	for _, u := range o.Users {
		if u.IsOrgAdmin() {
			admins++
			if u.ManagementSource == "synced" {
				syncedAdmins++
			}
		}
		if u.MFAEnabled != nil && !*u.MFAEnabled {
			mfaOff++
		}
		if u.Status == "suspended" {
			suspended++
		}
		if u.ClaimStatus == "unmanaged" {
			external++
		}
	}
	if len(o.Users) != 40 || admins != 3 || syncedAdmins != 1 || mfaOff < 3 || suspended != 1 ||
		external != 1 {
		t.Fatalf("users %d admins %d synced admins %d mfa off %d suspended %d external %d",
			len(o.Users), admins, syncedAdmins, mfaOff, suspended, external)
	}

	if n := len(o.Events); n < 3000 || n > 8000 {
		t.Fatalf("%d events for the month", n)
	}
	known := map[string]bool{}
	for _, a := range o.Actions {
		known[a.ID] = true
	}
	var late, system, token, messages int
	for _, e := range o.Events {
		a := e.Attributes
		if !a.Time.Before(demoNow) || a.Time.Before(demoNow.AddDate(0, 0, -31)) {
			t.Fatalf("event %s at %v is outside the month", e.ID, a.Time)
		}
		if !known[a.Action] {
			t.Fatalf("action %q is not in the catalogue", a.Action)
		}
		if a.ProcessedAt.Sub(a.Time.Time) > time.Hour {
			late++
		}
		if a.Actor.ID == systemID {
			system++
		}
		if a.Actor.Auth != nil {
			token++
		}
		if e.Message != nil {
			messages++
		}
	}
	if late == 0 || system == 0 || token == 0 || messages == 0 {
		t.Fatalf("late %d system %d token %d messages %d", late, system, token, messages)
	}
}

func TestDemoPlantedAttacks(t *testing.T) {
	o := Demo(1, demoNow)
	byID := map[string]atlassian.Event{}
	countries := map[string]int{}
	for _, e := range o.Events {
		byID[e.ID] = e
		if l := e.Attributes.Location; l != nil && l.CountryName != "" {
			countries[l.CountryName]++
		}
	}

	attacks := DemoAttacks(1, demoNow)
	kinds := map[string]Attack{}
	for _, a := range attacks {
		kinds[a.Kind] = a
		for _, id := range a.EventIDs {
			if _, ok := byID[id]; !ok {
				t.Fatalf("%s: event %s missing from the demo", a.Kind, id)
			}
		}
	}
	if len(kinds) != 6 {
		t.Fatalf("got %d attack kinds", len(kinds))
	}
	ev := func(kind string, i int) atlassian.EventAttributes {
		return byID[kinds[kind].EventIDs[i]].Attributes
	}

	t.Run("impossible travel", func(t *testing.T) {
		a, b := ev(AttackImpossibleTravel, 0), ev(AttackImpossibleTravel, 1)
		if a.Actor.ID != b.Actor.ID || b.Time.Sub(a.Time.Time) > time.Hour ||
			a.Location.CountryName == b.Location.CountryName || b.Location.City != "Sydney" {
			t.Fatalf("%+v then %+v", a.Location, b.Location)
		}
	})
	t.Run("password spray", func(t *testing.T) {
		at := kinds[AttackPasswordSpray]
		fails := 0
		for i := range at.EventIDs {
			e := ev(AttackPasswordSpray, i)
			if e.Location.IP != at.IP || e.Actor.ID != at.UserID {
				t.Fatalf("event %d from %s", i, e.Location.IP)
			}
			if e.Action == "user_login_failed" {
				fails++
			}
		}
		last := ev(AttackPasswordSpray, len(at.EventIDs)-1)
		if fails < 12 || last.Action != "user_logged_in" || at.End.Sub(at.Start) > 4*time.Minute {
			t.Fatalf("%d failures, last %s, span %v", fails, last.Action, at.End.Sub(at.Start))
		}
	})
	t.Run("impersonation", func(t *testing.T) {
		e := ev(AttackImpersonation, 1)
		if e.Action != "user_logged_in_as_user" || e.Context[0].ID != "" ||
			e.Context[0].Attributes["email"] == nil {
			t.Fatalf("%+v", e)
		}
		for _, other := range o.Events {
			a := other.Attributes
			if a.Actor.ID == e.Actor.ID && a.Container != nil && a.Action != "user_logged_in" &&
				a.Action != "user_logged_in_as_user" {
				t.Fatalf("the impersonating admin should make no other admin changes: %s",
					a.Action)
			}
		}
	})
	t.Run("anonymous ip", func(t *testing.T) {
		if e := ev(AttackAnonymousIP, 0); e.Location.IP != DemoAnonymousIP {
			t.Fatalf("ip %s", e.Location.IP)
		}
	})
	t.Run("admin burst", func(t *testing.T) {
		at := kinds[AttackAdminBurst]
		if len(at.EventIDs) < 30 || at.End.Sub(at.Start) > 10*time.Minute {
			t.Fatalf("%d events over %v", len(at.EventIDs), at.End.Sub(at.Start))
		}
	})
	t.Run("new country", func(t *testing.T) {
		e := ev(AttackNewCountry, 0)
		if countries[e.Location.CountryName] != 1 {
			t.Fatalf("%s seen %d times", e.Location.CountryName, countries[e.Location.CountryName])
		}
	})
}

func TestDemoServes(t *testing.T) {
	o := Demo(1, demoNow)
	o.Now = func() time.Time { return demoNow.Add(24 * time.Hour) }
	h := start(t, o)
	if r := h.get(h.org()); r.status != 200 {
		t.Fatalf("org: %d", r.status)
	}
	total := 0
	url := h.org() + "/events-stream?limit=500"
	for url != "" {
		var p atlassian.EventPage
		h.get(url).decode(t, &p)
		total += len(p.Data)
		url = ""
		if p.Meta.Next != "" {
			url = h.org() + "/events-stream?cursor=" + p.Meta.Next
		}
	}
	if total != len(o.Events) {
		t.Fatalf("streamed %d of %d events", total, len(o.Events))
	}
}

func TestGenerate(t *testing.T) {
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	a, b := Generate(2000, 5, start), Generate(2000, 5, start)
	ids := map[string]bool{}
	for i := range a {
		if a[i].ID != b[i].ID {
			t.Fatal("Generate is not deterministic")
		}
		if ids[a[i].ID] {
			t.Fatalf("duplicate id %s", a[i].ID)
		}
		ids[a[i].ID] = true
		if i > 0 && a[i].Attributes.Time.Before(a[i-1].Attributes.Time.Time) {
			t.Fatal("times go backwards")
		}
		if a[i].Attributes.ProcessedAt.Before(a[i].Attributes.Time.Time) {
			t.Fatal("processed before it happened")
		}
	}
	if _, err := json.Marshal(a[0]); err != nil {
		t.Fatal(err)
	}
}

func BenchmarkGenerate1M(b *testing.B) {
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for b.Loop() {
		evs := Generate(1_000_000, 1, start)
		if len(evs) != 1_000_000 {
			b.Fatal(len(evs))
		}
	}
}
