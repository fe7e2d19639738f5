package app

import (
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"warden/backend/detect"
	"warden/backend/govern"
	"warden/backend/keys"
)

func TestAutomationActsOnlyLiveAndWithTheStrongestAction(t *testing.T) {
	c, err := OpenCore(CoreOptions{DataDir: t.TempDir(), Keychain: keys.Memory(),
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	conn, err := c.EnsureDemo()
	if err != nil {
		t.Fatal(err)
	}
	org := conn.OrgID
	auto := Automation{Actions: []string{"notify", "suspend"}, Simulate: true}
	if err := c.SetAutomation(org, detect.PolicyImpossibleTravel, auto); err != nil {
		t.Fatal(err)
	}
	custom, err := c.detect.SaveCustom(org, detect.CustomPolicy{Name: "Token created",
		Enabled: true, Severity: detect.SeverityLow,
		Filters: []detect.Condition{{Field: "action", Op: "equals",
			Values: []string{"api_token_created"}}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.SetAutomation(org, custom.ID, Automation{Actions: []string{"notify"},
		Simulate: true}); err != nil {
		t.Fatal(err)
	}
	autos, err := NewAPI(c).Automations(org)
	if err != nil || len(autos[custom.ID].Actions) != 1 {
		t.Errorf("custom policy automation not listed: %v %v", autos[custom.ID], err)
	}
	if err := c.SetAutomation(org, detect.PolicyImpossibleTravel,
		Automation{Actions: []string{"restore"}}); err == nil {
		t.Error("restore accepted as an automatic action")
	}

	// The backfill finds the planted attack but history must not trigger actions.
	if _, err := c.SyncConnector(t.Context(), conn.ID); err != nil {
		t.Fatal(err)
	}
	c.bg.Wait()
	g, _, err := c.governor(conn.ID)
	if err != nil {
		t.Fatal(err)
	}
	if entries, _ := g.List(govern.Filter{}); len(entries) != 0 {
		t.Fatalf("a backfill triggered %d governance actions", len(entries))
	}

	alerts, err := c.detect.List(org, detect.Filter{Policy: detect.PolicyImpossibleTravel})
	if err != nil || len(alerts) == 0 {
		t.Fatalf("no impossible travel alert in the demo: %v", err)
	}
	al := alerts[0]
	al.LastTime = time.Now()
	c.setLive(org, true)
	if err := c.automate(al); err != nil {
		t.Fatal(err)
	}

	entries, err := g.List(govern.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 {
		t.Fatalf("%d entries, want one: suspend contains notify", len(entries))
	}
	e := entries[0]
	if e.Action != govern.Suspend || e.Status != govern.StatusWouldDo ||
		e.Trigger != "policy:impossible_travel" || e.AlertID != al.ID {
		t.Errorf("entry = %s %s %s alert %s; want a simulated suspend for the alert",
			e.Action, e.Status, e.Trigger, e.AlertID)
	}
}

func TestResolvingTwiceKeepsTheFirstVerdict(t *testing.T) {
	c := newTestCore(t, t.TempDir())
	defer c.Close()
	conn, err := c.EnsureDemo()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.SyncConnector(t.Context(), conn.ID); err != nil {
		t.Fatal(err)
	}
	api := NewAPI(c)
	alerts, err := api.ListAlerts(AlertQuery{Org: conn.ID, Status: "open"})
	if err != nil || len(alerts) == 0 {
		t.Fatalf("no open alert: %v", err)
	}
	id := alerts[0].ID
	if _, err := api.ResolveAlert(conn.ID, id, ResolveRequest{As: "benign",
		Reason: "travel", Comment: "on a trip"}); err != nil {
		t.Fatal(err)
	}
	if _, err := api.ResolveAlert(conn.ID, id, ResolveRequest{As: "false_positive"}); err == nil ||
		!strings.Contains(err.Error(), "already resolved as benign") {
		t.Errorf("second resolution: %v; want a refusal naming the first verdict", err)
	}
	al, _ := c.detect.Get(conn.OrgID, id)
	if al.Resolution == nil || al.Resolution.Comment != "on a trip" {
		t.Errorf("first verdict lost: %+v", al.Resolution)
	}
}
