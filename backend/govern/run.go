package govern

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"

	"warden/backend/atlassian"
	"warden/backend/mail"
)

// ErrFailed is returned by Run when the action was attempted and failed; the entry has the
// details. Refused and already-done actions are outcomes, not errors.
var ErrFailed = errors.New("govern: action failed")

// Run performs one request and returns its log entry. The entry is written as pending before
// anything is read or sent, and updated with the outcome; if the first write fails nothing is
// sent. The error is nil for every recorded outcome except failed (ErrFailed, wrapping the
// cause), and for a request that is not valid (no log entry then).
func (s *Service) Run(ctx context.Context, r Request) (Entry, error) {
	if _, ok := descriptions[r.Action]; !ok {
		return Entry{}, fmt.Errorf("govern: unknown action %q", r.Action)
	}
	if r.Trigger == "" {
		return Entry{}, errors.New("govern: no trigger (manual:<who> or policy:<id>)")
	}
	now := s.cfg.Now().UTC()
	e := Entry{ID: newID(), Action: r.Action, User: r.User, Trigger: r.Trigger,
		AlertID: r.AlertID, Status: StatusPending, Time: now, Updated: now,
		DryRun: r.DryRun, Simulate: r.Simulate}
	if err := s.put(e); err != nil {
		return e, err
	}
	s.log.Info("governance action started", "id", e.ID, "action", e.Action,
		"trigger", e.Trigger, "dry_run", r.DryRun || r.Simulate)

	cause := s.run(ctx, r, &e)
	e.Updated = s.cfg.Now().UTC()
	if err := s.put(e); err != nil {
		s.log.Error("governance outcome not recorded", "id", e.ID, "status", e.Status,
			"error", err)
		return e, err
	}
	s.log.Info("governance action finished", "id", e.ID, "action", e.Action,
		"status", e.Status, "http_status", e.HTTPStatus)
	if e.Status == StatusFailed {
		return e, fmt.Errorf("%w: %w", ErrFailed, cause)
	}
	return e, nil
}

// run fills e with the outcome and returns the cause of a failure.
func (s *Service) run(ctx context.Context, r Request, e *Entry) error {
	api, err := s.connect(ctx)
	if err != nil {
		return fail(e, err, "Could not connect to Atlassian (is the keychain locked, or the "+
			"connector missing its API key?). Nothing was sent.")
	}
	t, err := s.resolve(ctx, api, r.User)
	if err != nil {
		return fail(e, err, "")
	}
	e.User, e.UserName, e.UserEmail = t.AccountID, t.Name, t.Email
	if r.User != t.AccountID {
		e.UserInput = r.User
	}

	if r.Automatic() && t.Protected && !r.AllowProtected {
		who := "an organization admin"
		if !t.OrgAdmin {
			who = "a protected account (the connector's own)"
		}
		e.Status = StatusRefused
		e.Reason = "The user is " + who + "; automatic actions never touch it unless the " +
			"policy explicitly opts in."
		e.ReasonKey = "protected"
		return nil
	}

	unlock := s.lockUser(t.AccountID)
	defer unlock()
	p, err := s.plan(ctx, api, r.Action, t)
	if err != nil {
		return fail(e, err, "")
	}
	e.Steps = p.Steps
	switch p.Verdict {
	case AlreadyDone:
		e.Status, e.Reason = StatusAlreadyDone, p.Reason
		return nil
	case Refused:
		e.Status, e.Reason, e.ReasonKey = StatusRefused, p.Reason, p.ReasonKey
		return nil
	}
	if r.Action == Notify {
		e.Recipients = append([]string{t.Email}, r.CC...)
	}
	if r.DryRun || r.Simulate {
		e.Status = StatusWouldDo
		e.Reason = "Simulation: nothing was sent."
		if r.DryRun {
			e.Reason = "Dry run: nothing was sent."
		}
		if p.Reason != "" {
			e.Reason += " " + p.Reason
		}
		return nil
	}

	var mu sync.Mutex
	ctx = atlassian.WithRecorder(ctx, func(x atlassian.Exchange) {
		mu.Lock()
		defer mu.Unlock()
		e.Requests = append(e.Requests, x)
	})
	err = s.execute(ctx, api, p, r, e)
	mu.Lock()
	defer mu.Unlock()
	if err != nil {
		return fail(e, err, "")
	}
	e.Status = StatusDone
	if p.Reason != "" {
		e.Reason = p.Reason
	}
	return nil
}

// execute sends the planned calls in order.
func (s *Service) execute(ctx context.Context, api Atlassian, p Plan, r Request,
	e *Entry) error {
	t := p.Target
	switch p.Action {
	case Notify:
		return s.notify(ctx, t, r, e.Recipients)
	case Suspend:
		return api.SuspendUser(ctx, t.DirectoryID, t.AccountID)
	case Restore:
		return api.RestoreUser(ctx, t.DirectoryID, t.AccountID)
	case Deactivate:
		return api.DisableAccount(ctx, t.AccountID, s.cfg.DeactivateMessage)
	case Reactivate:
		return api.EnableAccount(ctx, t.AccountID)
	case RevokeTokens:
		return revoke(ctx, api, t.AccountID, p.tokens)
	case Reauth:
		if err := revoke(ctx, api, t.AccountID, p.tokens); err != nil {
			return err
		}
		if !p.bounce {
			return nil
		}
		if err := api.SuspendUser(ctx, t.DirectoryID, t.AccountID); err != nil {
			return fmt.Errorf("suspend step (tokens were deleted): %w", err)
		}
		if err := api.RestoreUser(ctx, t.DirectoryID, t.AccountID); err != nil {
			return &stuckError{err: err}
		}
		return nil
	}
	return fmt.Errorf("govern: unknown action %q", p.Action)
}

// stuckError is a reauth whose restore failed: the user is left suspended.
type stuckError struct{ err error }

func (e *stuckError) Error() string { return "restore step failed: " + e.err.Error() }
func (e *stuckError) Unwrap() error { return e.err }

// revoke deletes the tokens one by one; a token already gone (404) counts as deleted.
func revoke(ctx context.Context, api Atlassian, id string, tokens []atlassian.APIToken) error {
	for i, t := range tokens {
		err := api.DeleteAPIToken(ctx, id, t.ID)
		if err != nil && !errors.Is(err, atlassian.ErrNotFound) {
			return fmt.Errorf("deleted %d of %d api tokens: %w", i, len(tokens), err)
		}
	}
	return nil
}

func (s *Service) notify(ctx context.Context, t Target, r Request, to []string) error {
	if s.cfg.Mail == nil {
		return fmt.Errorf("%w: smtp is not set up", mail.ErrConfig)
	}
	m, err := s.cfg.Mail(ctx)
	if err != nil {
		return err
	}
	tpl := mail.DefaultTemplate()
	if s.cfg.Template != nil {
		tpl = s.cfg.Template()
	}
	subject, body, err := tpl.Render(mail.Fields{UserName: t.Name, UserEmail: t.Email,
		AlertID: r.AlertID, AlertTitle: r.AlertTitle, Evidence: r.Evidence,
		OrgName: s.cfg.OrgName, Contact: s.cfg.Contact, Time: s.cfg.Now()})
	if err != nil {
		return err
	}
	return m.Send(ctx, mail.Message{To: to[:1], Cc: to[1:], Subject: subject, Body: body})
}

// fail records err on e with an explanation for the admin (reason, when given, wins), and
// returns err.
func fail(e *Entry, err error, reason string) error {
	e.Status = StatusFailed
	e.Error = err.Error()
	var apiErr *atlassian.APIError
	if errors.As(err, &apiErr) {
		e.HTTPStatus, e.ErrorBody = apiErr.Status, string(apiErr.Body)
		e.ReasonKey = apiErr.Reason
		if e.ReasonKey == "" {
			e.ReasonKey = apiErr.Key
		}
	}
	if reason == "" {
		reason = explainError(err, e.Action, apiErr)
	}
	var stuck *stuckError
	if errors.As(err, &stuck) {
		reason = "The user's API tokens were deleted and access was suspended, but restoring " +
			"access failed: THE USER IS STILL SUSPENDED. Use \"Restore access\". " + reason
	}
	e.Reason = reason
	return err
}

// explainError says in words what went wrong and whether anything changed.
func explainError(err error, a Action, apiErr *atlassian.APIError) string {
	switch {
	case errors.Is(err, atlassian.ErrOutcomeUnknown):
		return "Atlassian's answer was lost and the user's state could not be read back, so " +
			"it is not known whether the change was made. Check the user in Atlassian " +
			"before acting again."
	case errors.Is(err, atlassian.ErrRateLimited):
		return "Atlassian kept rate limiting the request; nothing was changed. Try again later."
	case errors.Is(err, atlassian.ErrServer):
		return "Atlassian answered with server errors and a re-read showed the change was " +
			"not made. Try again later."
	case errors.Is(err, atlassian.ErrUnauthorized):
		return "Atlassian refused the organization API key (401). Check or replace the key " +
			"in Settings."
	case apiErr != nil && apiErr.Status == http.StatusForbidden:
		if key := firstNonEmpty(apiErr.Reason, apiErr.Key); key == "forbidden.targetUnverified" ||
			apiErr.Reason != "" {
			return explainReason(key, a)
		}
		return "Atlassian refused the request (403): the API key lacks permission. Use an " +
			"organization API key without scopes, created by an org admin."
	case errors.Is(err, atlassian.ErrNotFound):
		return "Atlassian does not know this user (404): check the account id or email."
	case errors.Is(err, atlassian.ErrUnreachable):
		return "Atlassian could not be reached; nothing is known to have changed."
	case errors.Is(err, mail.ErrPassword):
		return "The SMTP password could not be read (is the keychain locked?). No email was sent."
	case errors.Is(err, mail.ErrUnreachable):
		return "The SMTP server could not be reached. No email was sent."
	case errors.Is(err, mail.ErrAuth):
		return "The SMTP server refused the username or password. No email was sent."
	case errors.Is(err, mail.ErrTLS):
		return "The TLS connection to the SMTP server failed. No email was sent."
	case errors.Is(err, mail.ErrRejected):
		return "The SMTP server rejected the message. No email was sent."
	case errors.Is(err, mail.ErrConfig):
		return "Email is not set up correctly in Settings. No email was sent."
	}
	return "The action failed; see the error."
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}
