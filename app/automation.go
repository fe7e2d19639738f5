package app

import (
	"context"
	"errors"
	"strings"
	"time"

	"warden/backend/detect"
	"warden/backend/govern"
)

// Automation is what a policy does by itself when it raises an alert.
type Automation struct {
	// Actions run on the alert's user; when several apply the stronger wins (govern.Resolve).
	Actions []string `json:"actions"`
	// Simulate records "would have done" in the governance log instead of acting.
	Simulate bool `json:"simulate"`
	// AllowProtected lets the policy act on org admins and the connector's own account, which
	// automation never touches otherwise.
	AllowProtected bool `json:"allow_protected,omitempty"`
}

// maxAutomationAge is the oldest alert automation still acts on. History found by a backfill
// never triggers actions at all (see liveOrgs); this also stops a late event from last month
// suspending someone today.
const maxAutomationAge = 24 * time.Hour

func automationKey(org, policy string) string { return "automation/" + org + "/" + policy }

// Automation returns a policy's automatic actions.
func (c *Core) Automation(org, policy string) (Automation, error) {
	var a Automation
	_, err := c.store.GetJSON(automationKey(org, policy), &a)
	return a, err
}

// SetAutomation validates and stores a policy's automatic actions.
func (c *Core) SetAutomation(org, policy string, a Automation) error {
	for _, name := range a.Actions {
		act, err := govern.ParseAction(name)
		if err != nil {
			return invalid("%v", err)
		}
		if act == govern.Restore || act == govern.Reactivate {
			return invalid("%s undoes an action; it cannot be automatic", act)
		}
	}
	return c.store.PutJSON(automationKey(org, policy), a)
}

// setLive records whether an organization's sync is past its first backfill, so automation
// acts only on activity found live.
func (c *Core) setLive(org string, live bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.liveOrgs == nil {
		c.liveOrgs = map[string]bool{}
	}
	c.liveOrgs[org] = live
}

func (c *Core) isLive(org string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.liveOrgs[org]
}

// onAlert runs a new alert's automatic actions in the background, so detection is never held
// up by a slow Atlassian call.
func (c *Core) onAlert(al detect.Alert) {
	c.bg.Add(1)
	go func() {
		defer c.bg.Done()
		if err := c.automate(al); err != nil {
			c.log.Error("automatic response failed", "alert", al.ID, "policy", al.Policy,
				"err", err)
		}
	}()
}

func (c *Core) automate(al detect.Alert) error {
	auto, err := c.Automation(al.Org, al.Policy)
	if err != nil || len(auto.Actions) == 0 || al.User == "" {
		return err
	}
	if !c.isLive(al.Org) || c.o.Now().Sub(al.LastTime) > maxAutomationAge {
		c.log.Info("automation skipped for historical alert", "alert", al.ID)
		return nil
	}
	g, _, err := c.governor(al.Org)
	if err != nil {
		return err
	}

	var actions []govern.Action
	for _, name := range auto.Actions {
		if act, err := govern.ParseAction(name); err == nil {
			actions = append(actions, act)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()

	var errs []error
	for _, act := range govern.Resolve(actions) {
		_, err := g.Run(ctx, govern.Request{
			Action: act, User: al.User, AlertID: al.ID, AlertTitle: al.Title,
			Evidence: strings.Join(al.Evidence, "\n"), Trigger: "policy:" + al.Policy,
			Simulate: auto.Simulate, AllowProtected: auto.AllowProtected,
		})
		if err != nil && !errors.Is(err, govern.ErrFailed) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Automations returns the automatic actions of every built-in and custom policy.
func (a *API) Automations(org string) (map[string]Automation, error) {
	org, err := a.core.orgOf(org)
	if err != nil {
		return map[string]Automation{}, nil
	}
	ids := append([]string(nil), detect.BuiltinPolicies...)
	custom, err := a.core.detect.CustomPolicies(org)
	if err != nil {
		return nil, uiError(err)
	}
	for _, p := range custom {
		ids = append(ids, p.ID)
	}
	out := map[string]Automation{}
	for _, id := range ids {
		auto, err := a.core.Automation(org, id)
		if err != nil {
			return nil, uiError(err)
		}
		out[id] = auto
	}
	return out, nil
}

// SetAutomation saves a policy's automatic actions and its simulation switch.
func (a *API) SetAutomation(org, policy string, auto Automation) error {
	org, err := a.core.orgOf(org)
	if err != nil {
		return uiError(err)
	}
	return uiError(a.core.SetAutomation(org, policy, auto))
}
