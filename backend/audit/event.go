// Package audit defines Warden's normalized audit event: the one shape every other package
// reads, whatever the Atlassian wire format looked like. An event is normalized once, when it
// is fetched or imported, and stored in this form together with the raw JSON it came from.
package audit

import (
	"strings"
	"time"
)

// Category is the normalized kind of activity, used by filters and detection.
type Category string

// The activity categories. Unknown actions are CategoryOther and stay searchable by key.
const (
	CategoryLoginSucceeded Category = "login_succeeded"
	CategoryLoginFailed    Category = "login_failed"
	CategoryLogout         Category = "logout"
	CategoryImpersonation  Category = "impersonation"
	CategoryAdmin          Category = "admin_action"
	CategoryTokenUse       Category = "api_token_use"
	CategoryDataExport     Category = "data_export"
	CategoryOther          Category = "other"
)

// Event is one normalized audit log event.
type Event struct {
	ID          string    `json:"id"`
	Org         string    `json:"org"`
	Time        time.Time `json:"time"`
	ProcessedAt time.Time `json:"processed_at,omitzero"`
	Action      string    `json:"action"`
	Category    Category  `json:"category"`

	ActorID    string `json:"actor_id"`
	ActorName  string `json:"actor_name,omitempty"`
	ActorEmail string `json:"actor_email"`
	// AuthType, TokenID and TokenLabel are set when the actor used a token, not a browser.
	AuthType   string `json:"auth_type,omitempty"`
	TokenID    string `json:"token_id,omitempty"`
	TokenLabel string `json:"token_label,omitempty"`
	// OnBehalfOfID is the account an app or admin acted for, when the API says so.
	OnBehalfOfID string `json:"on_behalf_of_id,omitempty"`

	// IP is the canonical address, empty when the API sent none or an unusable one. RawIP keeps
	// exactly what was sent, and IPInvalid flags a value that did not parse.
	IP        string `json:"ip"`
	RawIP     string `json:"raw_ip,omitempty"`
	IPInvalid bool   `json:"ip_invalid,omitempty"`
	Country   string `json:"country"`
	Region    string `json:"region,omitempty"`
	City      string `json:"city"`
	Geo       string `json:"geo,omitempty"`

	// Product is the Atlassian product the event concerns (jira, confluence, bitbucket, ...),
	// or "admin" for organization-level activity.
	Product    string   `json:"product"`
	Targets    []Object `json:"targets,omitempty"`
	Containers []Object `json:"containers,omitempty"`
	Message    string   `json:"message,omitempty"`

	// Raw is the event exactly as received, so the detail view can show every field, including
	// ones this version of Warden does not understand.
	Raw []byte `json:"-"`
}

// Object is a normalized target or container of an event.
type Object struct {
	ID    string `json:"id,omitempty"`
	Type  string `json:"type,omitempty"`
	Name  string `json:"name,omitempty"`
	Email string `json:"email,omitempty"`
	// Host is the site host name for site containers.
	Host string `json:"host,omitempty"`
}

// Filter selects stored events. Zero fields do not filter.
type Filter struct {
	Org     string
	Since   time.Time
	Until   time.Time
	User    string // account id or email (case-insensitive)
	Action  string
	IP      string
	Country string // country name, case-insensitive
	Product string
	// Before continues a newest-first listing: only events strictly older than this cursor
	// (as returned in Page.Next) are returned.
	Before string
	Limit  int
}

// Matches reports whether e passes every set field of f except Before and Limit. Stores use it
// to post-filter what an index cannot narrow.
func (f Filter) Matches(e *Event) bool {
	switch {
	case f.Org != "" && e.Org != f.Org:
		return false
	case !f.Since.IsZero() && e.Time.Before(f.Since):
		return false
	case !f.Until.IsZero() && !e.Time.Before(f.Until):
		return false
	case f.User != "" && !strings.EqualFold(e.ActorID, f.User) &&
		!strings.EqualFold(e.ActorEmail, f.User):
		return false
	case f.Action != "" && e.Action != f.Action:
		return false
	case f.IP != "" && e.IP != f.IP && e.RawIP != f.IP:
		return false
	case f.Country != "" && !strings.EqualFold(e.Country, f.Country):
		return false
	case f.Product != "" && !strings.EqualFold(e.Product, f.Product):
		return false
	}
	return true
}
