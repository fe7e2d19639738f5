package app

import (
	"testing"

	"warden/backend/govern"
)

func TestDemoRemembersGovernanceAcrossRestarts(t *testing.T) {
	dir := t.TempDir()
	c := newTestCore(t, dir)
	if _, err := c.EnsureDemo(); err != nil {
		t.Fatal(err)
	}
	const user = "lukas.schneider@example.com"
	e, err := c.runAction(ActRequest{Action: "suspend", User: user}, "manual:test")
	if err != nil || e.Status != govern.StatusDone {
		t.Fatalf("suspend: %s %v", e.Status, err)
	}
	if _, err := c.runAction(ActRequest{Action: "suspend", User: user,
		AlertID: "no-such-alert"}, "manual:test"); err == nil {
		t.Error("an action linked to an alert that does not exist was run")
	}
	c.Close()

	c = newTestCore(t, dir)
	defer c.Close()
	if _, err := c.EnsureDemo(); err != nil {
		t.Fatal(err)
	}
	e, err = c.runAction(ActRequest{Action: "suspend", User: user}, "manual:test")
	if err != nil || e.Status != govern.StatusAlreadyDone {
		t.Errorf("suspend after restart: %s %v; want already_done", e.Status, err)
	}
	e, err = c.runAction(ActRequest{Action: "restore", User: user}, "manual:test")
	if err != nil || e.Status != govern.StatusDone {
		t.Errorf("restore after restart: %s %v; want done", e.Status, err)
	}
}
