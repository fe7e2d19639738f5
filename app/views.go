package app

import "warden/backend/audit"

// The types below are what the frontend sees. They are plain JSON objects on the JavaScript
// side, identical in the desktop window and in browser mode.

// ConnectRequest is the connector form: what an admin types to connect an organization.
type ConnectRequest struct {
	Name    string `json:"name"`
	OrgID   string `json:"org_id"`
	APIKey  string `json:"api_key"`
	Expires string `json:"expires"` // YYYY-MM-DD, at most one year ahead
	APIBase string `json:"api_base,omitempty"`
	// BackfillDays is how far back the first sync reaches: 1 to 180, default 180 (all that
	// Atlassian keeps).
	BackfillDays int `json:"backfill_days,omitempty"`
}

// TestResult is the answer of "Test connection".
type TestResult struct {
	OK      bool   `json:"ok"`
	OrgName string `json:"org_name,omitempty"`
	// Problem is a short machine-readable reason: bad_key, wrong_org, forbidden, rate_limited,
	// unreachable, invalid_input, keychain.
	Problem string `json:"problem,omitempty"`
	Message string `json:"message"`
}

// ConnectorView is one configured connector and its sync state.
type ConnectorView struct {
	ID         string       `json:"id"`
	Name       string       `json:"name"`
	OrgID      string       `json:"org_id"`
	OrgName    string       `json:"org_name"`
	Demo       bool         `json:"demo"`
	Expires    string       `json:"expires"`
	DaysLeft   int          `json:"days_left"`
	Events     int          `json:"events"`
	Users      int          `json:"users"`
	Domains    int          `json:"domains"`
	LastSync   string       `json:"last_sync,omitempty"`
	LastError  string       `json:"last_error,omitempty"`
	Progress   ProgressView `json:"progress"`
	Backfilled bool         `json:"backfilled"`
}

// ProgressView is the state of a running or finished sync.
type ProgressView struct {
	Running    bool    `json:"running"`
	Phase      string  `json:"phase"` // idle, backfill, incremental, users, done, error
	Events     int     `json:"events"`
	Added      int     `json:"added"`
	Pages      int     `json:"pages"`
	PerSecond  float64 `json:"per_second"`
	Fraction   float64 `json:"fraction"` // 0..1 of the backfill window covered
	ETASeconds float64 `json:"eta_seconds"`
	Message    string  `json:"message,omitempty"`
}

// StatusView is what the window shows in its header.
type StatusView struct {
	Version    string          `json:"version"`
	Demo       bool            `json:"demo"`
	DataDir    string          `json:"data_dir"`
	Connectors []ConnectorView `json:"connectors"`
}

// EventQuery is the activity log's filter bar.
type EventQuery struct {
	Org     string `json:"org"`
	Range   string `json:"range"` // 1h, 24h, 7d, 30d, 180d, all; ignored when Since is set
	Since   string `json:"since"` // RFC 3339, optional
	Until   string `json:"until"` // RFC 3339, optional
	User    string `json:"user"`
	Action  string `json:"action"`
	IP      string `json:"ip"`
	Country string `json:"country"`
	Product string `json:"product"`
	Before  string `json:"before"` // continuation cursor from EventPageView.Next
	Limit   int    `json:"limit"`
}

// EventRow is one line of the activity log table.
type EventRow struct {
	ID         string `json:"id"`
	Org        string `json:"org"`
	Time       string `json:"time"`
	Action     string `json:"action"`
	ActionName string `json:"action_name"`
	Category   string `json:"category"`
	ActorID    string `json:"actor_id"`
	ActorName  string `json:"actor_name"`
	ActorEmail string `json:"actor_email"`
	IP         string `json:"ip"`
	IPInvalid  bool   `json:"ip_invalid"`
	Country    string `json:"country"`
	City       string `json:"city"`
	Product    string `json:"product"`
	Token      bool   `json:"token"`
	Summary    string `json:"summary"`
}

// EventPageView is one page of the activity log.
type EventPageView struct {
	Rows []EventRow `json:"rows"`
	Next string     `json:"next,omitempty"`
	Took string     `json:"took"`
}

// EventDetail is everything known about one event.
type EventDetail struct {
	Event      audit.Event `json:"event"`
	ActionName string      `json:"action_name"`
	ActorAdmin bool        `json:"actor_admin"`
	Raw        string      `json:"raw"` // the event as received, pretty-printed
}

// FilterOptions lists the values the filter bar offers.
type FilterOptions struct {
	Actions   []audit.ActionInfo `json:"actions"`
	Countries []string           `json:"countries"`
	Products  []string           `json:"products"`
	Users     []audit.User       `json:"users"`
}
