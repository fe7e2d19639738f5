package app

import (
	"context"
	"strings"
	"time"

	"warden/backend/govern"
	"warden/backend/mail"
)

// ActRequest asks for a governance action from the window.
type ActRequest struct {
	Org     string `json:"org"` // connector id or org id; empty for the first connector
	Action  string `json:"action"`
	User    string `json:"user"` // account id or email
	AlertID string `json:"alert_id,omitempty"`
	DryRun  bool   `json:"dry_run,omitempty"`
	// CC are admins who get a copy of a notification.
	CC []string `json:"cc,omitempty"`
}

// ActionInfo describes one governance action for the confirmation dialog.
type ActionInfo struct {
	Action      string             `json:"action"`
	Description govern.Description `json:"description"`
}

// LogQuery filters the governance log.
type LogQuery struct {
	User   string `json:"user"`
	Action string `json:"action"`
	Status string `json:"status"`
	Since  string `json:"since"`
	Limit  int    `json:"limit"`
}

// SMTPView is the email settings form, without the password.
type SMTPView struct {
	Configured  bool          `json:"configured"`
	Config      mail.Config   `json:"config"`
	HasPassword bool          `json:"has_password"`
	Template    mail.Template `json:"template"`
}

// SMTPRequest saves the email settings; an empty password keeps the stored one.
type SMTPRequest struct {
	Config   mail.Config    `json:"config"`
	Password string         `json:"password"`
	Template *mail.Template `json:"template,omitempty"`
}

// GovernanceActions lists the actions and what each does, does not do, and how to undo it.
func (a *API) GovernanceActions() []ActionInfo {
	var out []ActionInfo
	for _, act := range govern.Actions() {
		out = append(out, ActionInfo{Action: string(act), Description: govern.Describe(act)})
	}
	return out
}

// PlanAction checks an action against Atlassian without changing anything, so the
// confirmation names the user, the action, its reach and its undo, and a refusal (a SCIM-synced
// account, say) is explained before the click.
func (a *API) PlanAction(req ActRequest) (govern.Plan, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	act, err := govern.ParseAction(req.Action)
	if err != nil {
		return govern.Plan{}, uiError(invalid("%v", err))
	}
	g, _, err := a.core.governor(req.Org)
	if err != nil {
		return govern.Plan{}, uiError(err)
	}
	p, err := g.Plan(ctx, act, strings.TrimSpace(req.User))
	return p, uiError(err)
}

// RunAction runs a governance action on a user and returns its log entry.
func (a *API) RunAction(req ActRequest) (govern.Entry, error) {
	return a.core.runAction(req, "manual:window")
}

func (c *Core) runAction(req ActRequest, trigger string) (govern.Entry, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()

	act, err := govern.ParseAction(req.Action)
	if err != nil {
		return govern.Entry{}, uiError(invalid("%v", err))
	}
	g, conn, err := c.governor(req.Org)
	if err != nil {
		return govern.Entry{}, uiError(err)
	}
	r := govern.Request{Action: act, User: strings.TrimSpace(req.User), AlertID: req.AlertID,
		Trigger: trigger, DryRun: req.DryRun, CC: req.CC}
	if req.AlertID != "" {
		// The notification template names the alert and its evidence; the log links it.
		al, err := c.detect.Get(conn.OrgID, req.AlertID)
		if err != nil {
			return govern.Entry{}, uiError(invalid("no alert %q in %s", req.AlertID,
				conn.OrgName))
		}
		r.AlertTitle, r.Evidence = al.Title, strings.Join(al.Evidence, "\n")
	}
	e, err := g.Run(ctx, r)
	if conn.Demo && !req.DryRun {
		c.saveDemoState()
	}
	if err != nil && e.ID == "" {
		return e, uiError(err)
	}
	// A failed action is still a log entry the window shows with its reason.
	return e, nil
}

// GovernanceLog returns governance log entries, newest first.
func (a *API) GovernanceLog(q LogQuery) ([]govern.Entry, error) {
	f, err := a.core.logFilter(q)
	if err != nil {
		return nil, uiError(err)
	}
	g, _, err := a.core.governor("")
	if err != nil {
		return []govern.Entry{}, nil // no connector, no log
	}
	entries, err := g.List(f)
	if entries == nil {
		entries = []govern.Entry{}
	}
	return entries, uiError(err)
}

func (c *Core) logFilter(q LogQuery) (govern.Filter, error) {
	f := govern.Filter{User: q.User, Limit: q.Limit}
	if q.Action != "" {
		act, err := govern.ParseAction(q.Action)
		if err != nil {
			return f, invalid("%v", err)
		}
		f.Action = act
	}
	switch st := govern.Status(q.Status); st {
	case "", govern.StatusPending, govern.StatusDone, govern.StatusAlreadyDone,
		govern.StatusRefused, govern.StatusFailed, govern.StatusWouldDo,
		govern.StatusInterrupted:
		f.Status = st
	default:
		return f, invalid("status must be one of done, already_done, refused, failed, " +
			"would_do, pending, interrupted")
	}
	if q.Since != "" {
		t, err := parseSince(q.Since, c.o.Now())
		if err != nil {
			return f, err
		}
		f.Since = t
	}
	return f, nil
}

// EmailSettings returns the SMTP settings and the notification template.
func (a *API) EmailSettings() (SMTPView, error) {
	cfg, ok, err := a.core.SMTPSettings()
	if err != nil {
		return SMTPView{}, uiError(err)
	}
	_, pwErr := a.core.keys.Get(smtpAccount)
	return SMTPView{Configured: ok, Config: cfg, HasPassword: pwErr == nil,
		Template: a.core.mailTemplate()}, nil
}

// SaveEmailSettings stores the SMTP settings (password in the keychain) and the template.
func (a *API) SaveEmailSettings(req SMTPRequest) error {
	if req.Template != nil {
		if err := a.core.SaveMailTemplate(*req.Template); err != nil {
			return uiError(err)
		}
	}
	return uiError(a.core.SaveSMTPSettings(req.Config, req.Password))
}

// SendTestEmail sends a test message through the configured SMTP server.
func (a *API) SendTestEmail(to string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := a.core.SendTestEmail(ctx, to); err != nil {
		return "", uiError(err)
	}
	return "Test email sent to " + to + ".", nil
}
