package atlassian

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Governance calls: directory membership (suspend, restore), the user management API
// (permission check, lifecycle, API tokens) and the reads they need.
//
// # Never the same action twice
//
// The generic request loop (do) retries a 5xx or a timeout by sending the request again. That
// is right for reads and wrong for a mutation whose outcome is unknown: the server may have
// applied it before the answer was lost. Mutations therefore go through mutate, which:
//
//   - retries a 429 as usual, because a rate-limited request was refused, not applied;
//   - on a 5xx or a transport failure (timeout, reset connection) waits the usual backoff,
//     then re-reads the target's state with the action's own check (user status, account
//     status, token list) and stops when the change is already there, sending nothing more;
//   - sends again only when the re-read shows the change is not there;
//   - gives up with ErrOutcomeUnknown when the state cannot be re-read, never guessing.
//
// One race remains: a request still being processed when the re-read runs looks "not applied"
// and is sent a second time. Waiting the backoff before the re-read makes that unlikely, and
// every mutation here is idempotent in effect (suspending a suspended user changes nothing;
// deleting a deleted token answers 404, which the token check counts as done).

// ErrOutcomeUnknown means a mutation's answer was lost (timeout, 5xx) and its target's state
// could not be read back, so whether the change was applied is not known. It is not retried.
var ErrOutcomeUnknown = errors.New("atlassian: outcome unknown")

// Directory is one user directory of the organization.
type Directory struct {
	DirectoryID string `json:"directoryId"`
	Name        string `json:"name,omitempty"`
	Icon        string `json:"icon,omitempty"`
}

// Rule is the permission check's answer for one privilege (or one profile field): whether the
// key may use it on this account, and if not the reason key (e.g. externalDirectory.scim).
type Rule struct {
	Allowed bool   `json:"allowed"`
	Reason  string `json:"reason,omitempty"`
}

// APIToken is one of a user's API tokens, as the user management API lists them.
type APIToken struct {
	ID         string `json:"id"`
	Label      string `json:"label,omitempty"`
	CreatedAt  Time   `json:"createdAt"`
	LastAccess Time   `json:"lastAccess"`
	Expiry     Time   `json:"expiry"`
}

// Account is the user management profile of an account, in its snake_case shape.
type Account struct {
	AccountID     string `json:"account_id"`
	AccountType   string `json:"account_type,omitempty"`
	AccountStatus string `json:"account_status,omitempty"` // active, inactive, closed
	Name          string `json:"name,omitempty"`
	Nickname      string `json:"nickname,omitempty"`
	Email         string `json:"email,omitempty"`
}

// Privileges of the permission check, GET /users/{id}/manage.
const (
	PrivLifecycle      = "lifecycle.enablement"
	PrivAPITokenRead   = "apiToken.read"
	PrivAPITokenDelete = "apiToken.delete"
	PrivProfileRead    = "profile.read"
)

// Exchange is one governance request as sent, for an audit trail: method and path (never the
// key, never a host), the HTTP status (0 when the request got no answer) and the error body.
type Exchange struct {
	Method string    `json:"method"`
	Path   string    `json:"path"`
	Status int       `json:"status,omitempty"`
	Error  string    `json:"error,omitempty"`
	Body   string    `json:"body,omitempty"`
	Time   time.Time `json:"time"`
}

type recorderKey struct{}

// WithRecorder returns a context under which every governance call (the methods of this file)
// reports each request it sends to fn, retries and fallbacks included. fn must be safe for
// concurrent use if the context is shared.
func WithRecorder(ctx context.Context, fn func(Exchange)) context.Context {
	return context.WithValue(ctx, recorderKey{}, fn)
}

func (c *Client) record(ctx context.Context, r call, status int, err error) {
	fn, _ := ctx.Value(recorderKey{}).(func(Exchange))
	if fn == nil {
		return
	}
	x := Exchange{Method: r.method, Time: c.now().UTC()}
	if u, perr := url.Parse(r.url); perr == nil {
		x.Path = u.EscapedPath()
	}
	x.Status = status
	var apiErr *APIError
	switch {
	case errors.As(err, &apiErr):
		x.Status, x.Body, x.Error = apiErr.Status, string(apiErr.Body), apiErr.Error()
	case err != nil:
		x.Error = err.Error()
	}
	fn(x)
}

// read sends a governance GET with the usual retries and records its outcome.
func (c *Client) read(ctx context.Context, r call) ([]byte, error) {
	body, err := c.do(ctx, r)
	c.record(ctx, r, statusOf(err, http.StatusOK), err)
	return body, err
}

// statusOf is the status an error carries, or ok for success, or 0 for no answer.
func statusOf(err error, ok int) int {
	if err == nil {
		return ok
	}
	var apiErr *APIError
	if errors.As(err, &apiErr) {
		return apiErr.Status
	}
	return 0
}

// applied re-reads a mutation's target and reports whether the change is in place.
type applied func(ctx context.Context) (bool, error)

// mutate sends a state-changing request; see the file comment for the retry rules. okStatus is
// what the log records for a 2xx, which the request loop does not expose (the documented one).
func (c *Client) mutate(ctx context.Context, r call, okStatus int, check applied) error {
	ep := r.endpoint()
	for n := 0; ; n++ {
		_, wait, err := c.attempt(ctx, r, ep, n)
		c.record(ctx, r, statusOf(err, okStatus), err)
		if err == nil {
			return nil
		}
		if wait < 0 {
			return err
		}
		refused := errors.Is(err, ErrRateLimited)
		if refused && n >= c.retries {
			return gaveUp(err, n+1)
		}

		c.log.Warn("atlassian mutation failed, will re-check", "endpoint", ep, "attempt", n+1,
			"wait", wait, "error", err)
		if serr := c.sleep(ctx, wait); serr != nil {
			return fmt.Errorf("atlassian: %s: %w", ep, serr)
		}
		if refused {
			continue // refused, not applied: safe to send again
		}

		done, cerr := check(ctx)
		if cerr != nil {
			return fmt.Errorf("atlassian: %s: %w: re-read failed: %w (after: %w)", ep,
				ErrOutcomeUnknown, cerr, err)
		}
		if done {
			c.log.Info("atlassian mutation found applied on re-read", "endpoint", ep,
				"attempt", n+1)
			return nil
		}
		if n >= c.retries {
			return gaveUp(err, n+1) // re-read: not applied, so a definite failure
		}
	}
}

// manage is the escaped path of an account's user management resource.
func manage(accountID, rest string) string {
	return "/users/" + url.PathEscape(accountID) + "/manage" + rest
}

// directoryUser is the escaped v2 path of a user in a directory.
func (c *Client) directoryUser(directoryID, accountID, rest string) string {
	return c.v2("/directories/" + url.PathEscape(directoryID) + "/users/" +
		url.PathEscape(accountID) + rest)
}

// Directories lists the directories the account belongs to (all of them when accountID is
// empty). The v2 suspend and restore calls need the real directory id, not "-".
func (c *Client) Directories(ctx context.Context, accountID string) ([]Directory, error) {
	q := url.Values{}
	if accountID != "" {
		q.Set("accountId", accountID)
	}
	first := call{method: http.MethodGet, url: c.apiURL(c.v2("/directories"), q)}
	return collect[Directory](ctx, c, first, c.read, func(next string) (call, error) {
		cur, err := bareCursor(next)
		// v2: with a cursor every other parameter is discarded, so send the cursor alone.
		u := c.apiURL(c.v2("/directories"), url.Values{"cursor": {cur}})
		return call{method: http.MethodGet, url: u}, err
	})
}

// LookupUser finds one directory user by account id, or by email when the value has an "@",
// through the v2 search (platform roles expanded, so callers can spot org admins). A user
// that is not there gives ErrNotFound.
func (c *Client) LookupUser(ctx context.Context, idOrEmail string) (User, error) {
	type searchBody struct {
		AccountIDs []string `json:"accountIds,omitempty"`
		Emails     []string `json:"emails,omitempty"`
		Expand     []string `json:"expand"`
		Limit      int      `json:"limit"`
	}
	q := searchBody{Expand: []string{"platformRoles"}, Limit: 2}
	if strings.Contains(idOrEmail, "@") {
		q.Emails = []string{idOrEmail}
	} else {
		q.AccountIDs = []string{idOrEmail}
	}
	body, _ := json.Marshal(q)
	r := call{method: http.MethodPost, url: c.apiURL(c.v2("/directories/-/users/search"), nil),
		body: body}
	resp, err := c.read(ctx, r)
	if err != nil {
		return User{}, err
	}
	users, _, err := decodeList[User](c, r.endpoint(), resp)
	if err != nil {
		return User{}, err
	}
	for _, u := range users {
		if u.AccountID == idOrEmail || strings.EqualFold(u.Email, idOrEmail) {
			return u, nil
		}
	}
	return User{}, fmt.Errorf("atlassian: %s: user %q: %w", r.endpoint(), idOrEmail, ErrNotFound)
}

// UserDetails reads one user of a directory, with its current status and membership status
// (the state suspend and restore change).
func (c *Client) UserDetails(ctx context.Context, directoryID, accountID string) (User, error) {
	r := call{method: http.MethodGet, url: c.apiURL(c.directoryUser(directoryID, accountID, ""),
		nil)}
	return getOne[User](ctx, c, r, c.read)
}

// IsSuspended reports whether a directory user's access is suspended.
func IsSuspended(u User) bool {
	return strings.EqualFold(u.MembershipStatus, "suspended") ||
		strings.EqualFold(u.Status, "suspended")
}

// SuspendUser suspends the account's access to every app of the directory (v2), falling back
// to v1 suspend-access when the v2 path is not there for this org (404 without a user or org
// code, or 405). The account stays active; see DisableAccount for that.
func (c *Client) SuspendUser(ctx context.Context, directoryID, accountID string) error {
	return c.membership(ctx, directoryID, accountID, "/suspend", "/suspend-access", true)
}

// RestoreUser restores a suspended account's access to the directory, with the same v1
// fallback as SuspendUser.
func (c *Client) RestoreUser(ctx context.Context, directoryID, accountID string) error {
	return c.membership(ctx, directoryID, accountID, "/restore", "/restore-access", false)
}

func (c *Client) membership(ctx context.Context, dir, id, v2rest, v1rest string,
	suspend bool) error {
	check := func(ctx context.Context) (bool, error) {
		u, err := c.UserDetails(ctx, dir, id)
		if err != nil {
			return false, err
		}
		return IsSuspended(u) == suspend, nil
	}

	r := call{method: http.MethodPost, url: c.apiURL(c.directoryUser(dir, id, v2rest), nil)}
	err := c.mutate(ctx, r, http.StatusNoContent, check)
	if !v2Missing(err) {
		return err
	}

	c.log.Info("atlassian v2 directory action unavailable, using v1", "endpoint", r.endpoint())
	r = call{method: http.MethodPost,
		url: c.apiURL(c.v1("/directory/users/"+url.PathEscape(id)+v1rest), nil)}
	return c.mutate(ctx, r, http.StatusOK, check)
}

// v2Missing reports whether err says the v2 endpoint itself is not there: 405, or a 404 that
// names neither the user (ADMIN-404-8) nor the org (ADMIN-404-2). A missing user is final.
func v2Missing(err error) bool {
	var e *APIError
	if !errors.As(err, &e) {
		return false
	}
	switch e.Status {
	case http.StatusMethodNotAllowed:
		return true
	case http.StatusNotFound:
		return e.Code != "ADMIN-404-8" && e.Code != "ADMIN-404-2"
	}
	return false
}

// Permissions asks the user management API which of privileges the key may use on the
// account. Field-level answers (profile, profile.write) are flattened to "profile.write.name".
// A privilege missing from the answer is missing from the map (unknown, not allowed).
func (c *Client) Permissions(ctx context.Context, accountID string, privileges ...string) (
	map[string]Rule, error) {
	q := url.Values{}
	for _, p := range privileges {
		q.Add("privileges", p)
	}
	r := call{method: http.MethodGet, url: c.apiURL(manage(accountID, ""), q)}
	body, err := c.read(ctx, r)
	if err != nil {
		return nil, err
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(body, &raw); err != nil {
		return nil, malformed(r.endpoint(), err)
	}
	out := map[string]Rule{}
	for k, v := range raw {
		flattenRules(out, k, v, 0)
	}
	return out, nil
}

// wireRule is a rule as sent: {"allowed":false,"reason":{"key":"…"}}.
type wireRule struct {
	Allowed *bool `json:"allowed"`
	Reason  struct {
		Key string `json:"key"`
	} `json:"reason"`
}

func flattenRules(out map[string]Rule, name string, raw json.RawMessage, depth int) {
	var w wireRule
	if json.Unmarshal(raw, &w) == nil && w.Allowed != nil {
		out[name] = Rule{Allowed: *w.Allowed, Reason: w.Reason.Key}
		return
	}
	var nested map[string]json.RawMessage
	if depth > 4 || json.Unmarshal(raw, &nested) != nil {
		return
	}
	for k, v := range nested {
		flattenRules(out, name+"."+k, v, depth+1)
	}
}

// Profile reads an account's user management profile, whose account_status tells whether the
// account is deactivated.
func (c *Client) Profile(ctx context.Context, accountID string) (Account, error) {
	r := call{method: http.MethodGet, url: c.apiURL(manage(accountID, "/profile"), nil)}
	body, err := c.read(ctx, r)
	if err != nil {
		return Account{}, err
	}
	var env struct {
		Account Account `json:"account"`
	}
	if err := json.Unmarshal(body, &env); err != nil {
		return Account{}, malformed(r.endpoint(), err)
	}
	return env.Account, nil
}

// DisableAccount deactivates the Atlassian account (no login anywhere). message is shown to
// the user; empty lets Atlassian use its default. A SCIM- or Google-synced account answers 403
// forbidden.action with the reason in APIError.Reason; check Permissions first.
func (c *Client) DisableAccount(ctx context.Context, accountID, message string) error {
	body, _ := json.Marshal(struct {
		Message string `json:"message,omitempty"`
	}{message})
	r := call{method: http.MethodPost, url: c.apiURL(manage(accountID, "/lifecycle/disable"), nil),
		body: body}
	return c.mutate(ctx, r, http.StatusNoContent, c.accountIs(accountID, false))
}

// EnableAccount re-activates a deactivated account.
func (c *Client) EnableAccount(ctx context.Context, accountID string) error {
	r := call{method: http.MethodPost, url: c.apiURL(manage(accountID, "/lifecycle/enable"), nil)}
	return c.mutate(ctx, r, http.StatusNoContent, c.accountIs(accountID, true))
}

func (c *Client) accountIs(accountID string, active bool) applied {
	return func(ctx context.Context) (bool, error) {
		a, err := c.Profile(ctx, accountID)
		if err != nil {
			return false, err
		}
		return strings.EqualFold(a.AccountStatus, "active") == active, nil
	}
}

// APITokens lists the account's API tokens (a bare JSON array, not an envelope).
func (c *Client) APITokens(ctx context.Context, accountID string) ([]APIToken, error) {
	r := call{method: http.MethodGet, url: c.apiURL(manage(accountID, "/api-tokens"), nil)}
	body, err := c.read(ctx, r)
	if err != nil {
		return nil, err
	}
	var tokens []APIToken
	if err := json.Unmarshal(body, &tokens); err != nil {
		return nil, malformed(r.endpoint(), err)
	}
	return tokens, nil
}

// DeleteAPIToken revokes one API token of the account.
func (c *Client) DeleteAPIToken(ctx context.Context, accountID, tokenID string) error {
	r := call{method: http.MethodDelete,
		url: c.apiURL(manage(accountID, "/api-tokens/"+url.PathEscape(tokenID)), nil)}
	gone := func(ctx context.Context) (bool, error) {
		tokens, err := c.APITokens(ctx, accountID)
		if err != nil {
			return false, err
		}
		for _, t := range tokens {
			if t.ID == tokenID {
				return false, nil
			}
		}
		return true, nil
	}
	return c.mutate(ctx, r, http.StatusNoContent, gone)
}
