package govern

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"sync"
	"time"

	"warden/backend/atlassian"
	"warden/backend/mail"
)

// Atlassian is what govern needs from the Atlassian client; *atlassian.Client has it, and
// tests point a real client at the fake.
type Atlassian interface {
	LookupUser(ctx context.Context, idOrEmail string) (atlassian.User, error)
	Directories(ctx context.Context, accountID string) ([]atlassian.Directory, error)
	UserDetails(ctx context.Context, directoryID, accountID string) (atlassian.User, error)
	SuspendUser(ctx context.Context, directoryID, accountID string) error
	RestoreUser(ctx context.Context, directoryID, accountID string) error
	Permissions(ctx context.Context, accountID string, privileges ...string) (
		map[string]atlassian.Rule, error)
	Profile(ctx context.Context, accountID string) (atlassian.Account, error)
	DisableAccount(ctx context.Context, accountID, message string) error
	EnableAccount(ctx context.Context, accountID string) error
	APITokens(ctx context.Context, accountID string) ([]atlassian.APIToken, error)
	DeleteAPIToken(ctx context.Context, accountID, tokenID string) error
}

// Mailer sends one email; *mail.Sender has it.
type Mailer interface {
	Send(ctx context.Context, m mail.Message) error
}

// Config wires a Service. Connect and Mail are called for every action, so a locked keychain
// or missing SMTP settings become a clear failed log entry instead of a start-up error.
type Config struct {
	// Connect returns the Atlassian client, reading the org API key (from the keychain).
	Connect func(ctx context.Context) (Atlassian, error)
	// Mail returns the SMTP sender; nil or an error means notify cannot run.
	Mail func(ctx context.Context) (Mailer, error)
	// Template returns the notification template; nil uses mail.DefaultTemplate.
	Template func() mail.Template

	Store LogStore

	OrgID, OrgName string
	// Contact is named in notifications as who to answer.
	Contact string
	// ProtectedAccounts are account ids never acted on automatically, besides org admins:
	// the connector's own account(s).
	ProtectedAccounts []string
	// DeactivateMessage is the lifecycle/disable message; default below.
	DeactivateMessage string

	Now    func() time.Time
	Logger *slog.Logger
}

// DefaultDeactivateMessage is sent with lifecycle/disable.
const DefaultDeactivateMessage = "Deactivated by your organization's security team (Warden)"

// Service runs governance actions and keeps their log. It is safe for concurrent use.
type Service struct {
	cfg Config
	log *slog.Logger

	umu   sync.Mutex
	users map[string]*sync.Mutex // per account id: one action at a time per user
}

// New returns a Service. Entries left pending by a previous run (Warden stopped between
// sending and recording) are marked interrupted, so the log never shows them as in flight.
func New(cfg Config) (*Service, error) {
	if cfg.Store == nil {
		return nil, errors.New("govern: no log store")
	}
	if cfg.Connect == nil {
		return nil, errors.New("govern: no atlassian connector")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.DeactivateMessage == "" {
		cfg.DeactivateMessage = DefaultDeactivateMessage
	}
	s := &Service{cfg: cfg, log: cfg.Logger, users: map[string]*sync.Mutex{}}

	pending, err := listEntries(cfg.Store, Filter{Status: StatusPending})
	if err != nil {
		return nil, err
	}
	for _, e := range pending {
		e.Status, e.Updated = StatusInterrupted, cfg.Now().UTC()
		e.Reason = "Warden stopped before the outcome was recorded; check the user's state " +
			"in Atlassian before acting again."
		if err := s.put(e); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// List returns log entries, newest first.
func (s *Service) List(f Filter) ([]Entry, error) { return listEntries(s.cfg.Store, f) }

// Request asks for one action on one user.
type Request struct {
	Action Action
	// User is an account id or an email address.
	User    string
	AlertID string
	// AlertTitle and Evidence feed the notification template.
	AlertTitle, Evidence string
	// Trigger is "manual:<who>" or "policy:<id>"; anything not manual counts as automatic.
	Trigger string
	// DryRun and Simulate send nothing and record would_do with the planned calls.
	DryRun, Simulate bool
	// AllowProtected lets an automatic trigger act on org admins and protected accounts.
	AllowProtected bool
	// CC are extra recipients (admins) of a notification.
	CC []string
}

// Automatic reports whether the trigger is not a person.
func (r Request) Automatic() bool { return !strings.HasPrefix(r.Trigger, "manual:") }

// Verdict is a plan's pre-check result.
type Verdict string

// Verdicts.
const (
	Ready       Verdict = "ready"
	AlreadyDone Verdict = "already_done"
	Refused     Verdict = "refused"
)

// Target is the user an action is about, as read just before acting.
type Target struct {
	AccountID        string `json:"accountId"`
	Name             string `json:"name,omitempty"`
	Email            string `json:"email,omitempty"`
	DirectoryID      string `json:"directoryId,omitempty"`
	Status           string `json:"status,omitempty"`
	MembershipStatus string `json:"membershipStatus,omitempty"`
	AccountStatus    string `json:"accountStatus,omitempty"`
	ManagementSource string `json:"managementSource,omitempty"`
	OrgAdmin         bool   `json:"orgAdmin,omitempty"`
	// Protected is an org admin or one of Config.ProtectedAccounts.
	Protected bool `json:"protected,omitempty"`
}

// Plan is what an action would do to a user, checked against the live state before the click.
type Plan struct {
	Action      Action      `json:"action"`
	Target      Target      `json:"target"`
	Verdict     Verdict     `json:"verdict"`
	Reason      string      `json:"reason,omitempty"`
	ReasonKey   string      `json:"reasonKey,omitempty"`
	Steps       []Step      `json:"steps,omitempty"`
	Description Description `json:"description"`

	tokens []atlassian.APIToken
	bounce bool // reauth: suspend and restore too
}

// Plan resolves user and checks action against Atlassian without changing anything: the
// permission check for lifecycle and tokens, the current status for suspend and restore.
func (s *Service) Plan(ctx context.Context, action Action, user string) (Plan, error) {
	if _, ok := descriptions[action]; !ok {
		return Plan{}, fmt.Errorf("govern: unknown action %q", action)
	}
	api, err := s.connect(ctx)
	if err != nil {
		return Plan{}, err
	}
	t, err := s.resolve(ctx, api, user)
	if err != nil {
		return Plan{}, err
	}
	return s.plan(ctx, api, action, t)
}

func (s *Service) connect(ctx context.Context) (Atlassian, error) {
	api, err := s.cfg.Connect(ctx)
	if err != nil {
		return nil, fmt.Errorf("govern: connect to atlassian: %w", err)
	}
	return api, nil
}

// resolve finds the user and their directory.
func (s *Service) resolve(ctx context.Context, api Atlassian, user string) (Target, error) {
	user = strings.TrimSpace(user)
	if user == "" {
		return Target{}, errors.New("govern: no user given")
	}
	u, err := api.LookupUser(ctx, user)
	if err != nil {
		return Target{}, fmt.Errorf("govern: find user %s: %w", user, err)
	}
	t := Target{AccountID: u.AccountID, Name: u.Name, Email: u.Email, Status: u.Status,
		MembershipStatus: u.MembershipStatus, AccountStatus: u.AccountStatus,
		ManagementSource: u.ManagementSource, OrgAdmin: u.IsOrgAdmin()}
	t.Protected = t.OrgAdmin
	for _, id := range s.cfg.ProtectedAccounts {
		t.Protected = t.Protected || id == u.AccountID
	}
	return t, nil
}

func (s *Service) plan(ctx context.Context, api Atlassian, a Action, t Target) (Plan, error) {
	p := Plan{Action: a, Target: t, Verdict: Ready, Description: Describe(a)}
	id := t.AccountID
	switch a {
	case Notify:
		if t.Email == "" {
			return p.refuse("The user has no visible email address to notify.", ""), nil
		}
		p.Steps = []Step{{Method: "SMTP", Path: t.Email, What: "send the notification email"}}

	case Suspend, Restore:
		if err := s.membership(ctx, api, &p); err != nil {
			return p, err
		}
		suspended := atlassian.IsSuspended(atlassian.User{Status: p.Target.Status,
			MembershipStatus: p.Target.MembershipStatus})
		if a == Suspend && suspended {
			return p.done("The user's access is already suspended."), nil
		}
		if a == Restore && !suspended {
			return p.done("The user's access is not suspended."), nil
		}
		p.Steps = []Step{s.membershipStep(p.Target, a)}

	case Deactivate, Reactivate:
		rule, err := s.permission(ctx, api, id, atlassian.PrivLifecycle)
		if err != nil {
			return p, err
		}
		if !rule.Allowed {
			return p.refuse(explainReason(rule.Reason, a), rule.Reason), nil
		}
		acct, err := api.Profile(ctx, id)
		if err != nil {
			return p, fmt.Errorf("govern: read account status: %w", err)
		}
		p.Target.AccountStatus = acct.AccountStatus
		active := strings.EqualFold(acct.AccountStatus, "active")
		if a == Deactivate && !active {
			return p.done("The account is already deactivated."), nil
		}
		if a == Reactivate && active {
			return p.done("The account is already active."), nil
		}
		verb := "disable"
		if a == Reactivate {
			verb = "enable"
		}
		p.Steps = []Step{{Method: "POST", Path: manage(id, "/lifecycle/"+verb),
			What: verb + " the Atlassian account"}}

	case RevokeTokens, Reauth:
		if err := s.planTokens(ctx, api, &p); err != nil || p.Verdict != Ready {
			return p, err
		}
	}
	return p, nil
}

func (p Plan) refuse(reason, key string) Plan {
	p.Verdict, p.Reason, p.ReasonKey = Refused, reason, key
	return p
}

func (p Plan) done(reason string) Plan {
	p.Verdict, p.Reason = AlreadyDone, reason
	return p
}

// membership fills the target's directory and live status.
func (s *Service) membership(ctx context.Context, api Atlassian, p *Plan) error {
	dirs, err := api.Directories(ctx, p.Target.AccountID)
	if err != nil {
		return fmt.Errorf("govern: find the user's directory: %w", err)
	}
	if len(dirs) == 0 {
		return fmt.Errorf("govern: user %s is in no directory of the organization: %w",
			p.Target.AccountID, atlassian.ErrNotFound)
	}
	// TODO(#4): an org with several directories holds the user in each; suspend acts on the
	// first only. The reference shows one directory per org, and so do the fixtures.
	p.Target.DirectoryID = dirs[0].DirectoryID
	u, err := api.UserDetails(ctx, p.Target.DirectoryID, p.Target.AccountID)
	if err != nil {
		return fmt.Errorf("govern: read the user's status: %w", err)
	}
	p.Target.Status, p.Target.MembershipStatus = u.Status, u.MembershipStatus
	return nil
}

func (s *Service) membershipStep(t Target, a Action) Step {
	org := s.cfg.OrgID
	if org == "" {
		org = "{orgId}"
	}
	return Step{Method: "POST", Path: "/admin/v2/orgs/" + url.PathEscape(org) + "/directories/" +
		url.PathEscape(t.DirectoryID) + "/users/" + url.PathEscape(t.AccountID) + "/" + string(a),
		What: string(a) + " the user's organization access"}
}

func manage(id, rest string) string { return "/users/" + url.PathEscape(id) + "/manage" + rest }

// permission asks for one privilege; a privilege missing from the answer counts as denied.
func (s *Service) permission(ctx context.Context, api Atlassian, id, priv string) (
	atlassian.Rule, error) {
	rules, err := api.Permissions(ctx, id, priv)
	if err != nil {
		return atlassian.Rule{}, fmt.Errorf("govern: permission check: %w", err)
	}
	r, ok := rules[priv]
	if !ok {
		return atlassian.Rule{Reason: "missing"}, nil
	}
	return r, nil
}

func (s *Service) planTokens(ctx context.Context, api Atlassian, p *Plan) error {
	id := p.Target.AccountID
	rules, err := api.Permissions(ctx, id, atlassian.PrivAPITokenRead,
		atlassian.PrivAPITokenDelete)
	if err != nil {
		return fmt.Errorf("govern: permission check: %w", err)
	}
	for _, priv := range []string{atlassian.PrivAPITokenRead, atlassian.PrivAPITokenDelete} {
		if r := rules[priv]; !r.Allowed {
			*p = p.refuse(explainReason(r.Reason, p.Action), r.Reason)
			return nil
		}
	}
	tokens, err := api.APITokens(ctx, id)
	if err != nil {
		return fmt.Errorf("govern: list api tokens: %w", err)
	}
	p.tokens = tokens
	for _, t := range tokens {
		p.Steps = append(p.Steps, Step{Method: "DELETE",
			Path: manage(id, "/api-tokens/"+url.PathEscape(t.ID)),
			What: "delete API token " + quoteLabel(t.Label)})
	}

	if p.Action == RevokeTokens {
		if len(tokens) == 0 {
			*p = p.done("The user has no API tokens.")
		}
		return nil
	}

	// reauth: bounce the org access unless it is suspended on purpose.
	if err := s.membership(ctx, api, p); err != nil {
		return err
	}
	if atlassian.IsSuspended(atlassian.User{Status: p.Target.Status,
		MembershipStatus: p.Target.MembershipStatus}) {
		if len(tokens) == 0 {
			*p = p.done("The user's access is suspended and they have no API tokens.")
			return nil
		}
		p.Reason = "The user's access is already suspended, so it is left suspended; only " +
			"the API tokens are deleted."
		return nil
	}
	p.bounce = true
	p.Steps = append(p.Steps, s.membershipStep(p.Target, Suspend),
		s.membershipStep(p.Target, Restore))
	return nil
}

func quoteLabel(l string) string {
	if l == "" {
		return "(no label)"
	}
	return fmt.Sprintf("%q", l)
}

// explainReason turns a user management reason key into advice for the admin.
func explainReason(key string, a Action) string {
	what := "This action"
	if d, ok := descriptions[a]; ok {
		what = d.Title
	}
	switch key {
	case "externalDirectory.scim":
		return what + " is locked: the account is managed by your SCIM identity provider. " +
			"Do it in the identity provider; Atlassian then syncs the change."
	case "externalDirectory.google":
		return what + " is locked: the account is synced from Google Workspace. Do it in the " +
			"Google Admin console."
	case "administrative", "administrative.notMyself":
		return what + " is not allowed on this administrator account through the API."
	case "myselfOnly":
		return what + " can only be done by the account owner."
	case "managedAccount", "forbidden.targetUnverified":
		return what + " needs a managed account: this user's email domain is not verified " +
			"by the organization."
	case "authPolicy.saml":
		return what + " is locked by the account's SAML authentication policy."
	case "blocked.exportControl":
		return what + " is blocked: the account is restricted for US export control."
	case "missing":
		return "Atlassian's permission check did not answer for this action; it was not sent."
	case "":
		return what + " is not allowed for this account by Atlassian's permission check."
	}
	return what + " is not allowed for this account (Atlassian reason " + key + ")."
}

// lockUser serializes actions per account, so two triggers cannot act on one user at once;
// the second one re-plans after the first and finds it already done.
func (s *Service) lockUser(id string) func() {
	s.umu.Lock()
	m := s.users[id]
	if m == nil {
		m = &sync.Mutex{}
		s.users[id] = m
	}
	s.umu.Unlock()
	m.Lock()
	return m.Unlock
}

func newID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return "act-" + hex.EncodeToString(b[:])
}

func (s *Service) put(e Entry) error {
	if err := s.cfg.Store.PutJSON(entryKey(e), e); err != nil {
		return fmt.Errorf("govern: write log entry: %w", err)
	}
	return nil
}
