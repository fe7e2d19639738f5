package atlassian

import (
	"bytes"
	"encoding/json"
	"strings"
	"time"
)

// Time is a timestamp as the admin APIs send it: RFC 3339 with or without fractional seconds,
// and sometimes with a numeric offset instead of Z. An unparsable value decodes to the zero
// time and keeps its raw text, because one odd timestamp must never fail a whole page.
type Time struct {
	time.Time
	Raw string
}

// UnmarshalJSON accepts a string, null, or anything else (kept raw, zero time).
func (t *Time) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		return nil
	}

	// Fast path: a plain quoted string without escapes, which is every timestamp seen so far.
	if n := len(b); n >= 2 && b[0] == '"' && b[n-1] == '"' && !bytes.ContainsAny(b[1:n-1], `\"`) {
		t.Raw = string(b[1 : n-1])
		t.Time = ParseTime(t.Raw)
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		t.Raw = string(b)
		return nil
	}
	t.Raw = s
	t.Time = ParseTime(s)
	return nil
}

// MarshalJSON writes the raw text back, so a decoded event re-encodes to what was received.
func (t Time) MarshalJSON() ([]byte, error) {
	if t.Raw == "" && t.Time.IsZero() {
		return []byte("null"), nil
	}
	if t.Raw != "" {
		return json.Marshal(t.Raw)
	}
	return json.Marshal(t.Time.UTC().Format(time.RFC3339Nano))
}

// ParseTime parses the timestamp shapes the admin APIs are known to send. It returns the zero
// time for anything else.
func ParseTime(s string) time.Time {
	s = strings.TrimSpace(s)
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04Z07:00", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC()
		}
	}
	return time.Time{}
}

// Links is the JSON:API links object. Next may be a full URL or a bare cursor.
type Links struct {
	Self string `json:"self,omitempty"`
	Prev string `json:"prev,omitempty"`
	Next string `json:"next,omitempty"`
	Alt  string `json:"alt,omitempty"`
}

// Meta is the page metadata of the events, events-stream and policies lists.
type Meta struct {
	Next     string `json:"next,omitempty"`
	PageSize int    `json:"page_size,omitempty"`
	Total    int    `json:"total,omitempty"`
}

// NextCursor returns the value that continues a list: meta.next wins over links.next because
// the events endpoints document meta.next, and links.next may be either a URL or a cursor.
func NextCursor(m Meta, l Links) string {
	if m.Next != "" {
		return m.Next
	}
	return l.Next
}

// Org is one organization as GET /admin/v1/orgs/{orgId} returns it.
type Org struct {
	ID         string `json:"id"`
	Type       string `json:"type,omitempty"`
	Attributes struct {
		Name string `json:"name,omitempty"`
	} `json:"attributes"`
	Links Links `json:"links"`
}

// Event is one audit log event on the wire (EventModel, plus processedAt on events-stream).
type Event struct {
	ID         string          `json:"id"`
	Type       string          `json:"type,omitempty"`
	Attributes EventAttributes `json:"attributes"`
	Links      Links           `json:"links"`
	Message    *Message        `json:"message,omitempty"`

	// Raw is the event's JSON exactly as received. DecodeError is set when the event did not
	// fit the typed shape; the event is then kept with what could be read, never dropped.
	Raw         []byte `json:"-"`
	DecodeError string `json:"-"`
}

// EventAttributes holds what happened, who did it, to what, where and from which address.
// Extra carries attributes this client does not know, so nothing the API sends is lost.
type EventAttributes struct {
	Time        Time           `json:"time"`
	ProcessedAt Time           `json:"processedAt"`
	Action      string         `json:"action"`
	Actor       Actor          `json:"actor"`
	Context     []EventObject  `json:"context,omitempty"`
	Container   []EventObject  `json:"container,omitempty"`
	Location    *Location      `json:"location,omitempty"`
	Extra       map[string]any `json:"-"`
}

// knownAttributes are the attribute names EventAttributes decodes into typed fields.
var knownAttributes = map[string]bool{
	"time": true, "processedAt": true, "action": true, "actor": true, "context": true,
	"container": true, "location": true,
}

// UnmarshalJSON decodes the known attributes and keeps every other one in Extra.
func (a *EventAttributes) UnmarshalJSON(b []byte) error {
	type plain EventAttributes
	if err := json.Unmarshal(b, (*plain)(a)); err != nil {
		return err
	}

	// The unknown names come from a key scan (jsonscan.go) rather than a second decode into a
	// map: this runs for every event of every page.
	extra, err := extraAttributes(b)
	if err != nil {
		return err
	}
	a.Extra = extra
	return nil
}

// Actor is who performed the action: a user, the Atlassian system, or an app.
type Actor struct {
	ID         string     `json:"id"`
	Name       string     `json:"name,omitempty"`
	Email      string     `json:"email,omitempty"`
	Auth       *ActorAuth `json:"auth,omitempty"`
	OnBehalfOf *Person    `json:"onBehalfOf,omitempty"`
	App        *App       `json:"app,omitempty"`
	Links      Links      `json:"links"`
}

// ActorAuth is present when the action was made with a token rather than interactively.
type ActorAuth struct {
	AuthType   string `json:"authType,omitempty"`
	TokenID    string `json:"tokenId,omitempty"`
	TokenLabel string `json:"tokenLabel,omitempty"`
}

// Person is an account reference with optional name and email.
type Person struct {
	ID    string `json:"id"`
	Name  string `json:"name,omitempty"`
	Email string `json:"email,omitempty"`
}

// App is the app an action was made through.
type App struct {
	ID         string         `json:"id"`
	Type       string         `json:"type,omitempty"`
	Attributes map[string]any `json:"attributes,omitempty"`
}

// EventObject is a target (context) or place (container) of an event. The id is optional in
// practice even though the spec requires it.
type EventObject struct {
	ID         string         `json:"id,omitempty"`
	Type       string         `json:"type,omitempty"`
	Attributes map[string]any `json:"attributes,omitempty"`
	Links      Links          `json:"links"`
}

// Location is where an event came from, by IP geolocation on Atlassian's side.
type Location struct {
	IP          string `json:"ip,omitempty"`
	Geo         string `json:"geo,omitempty"`
	CountryName string `json:"countryName,omitempty"`
	RegionName  string `json:"regionName,omitempty"`
	City        string `json:"city,omitempty"`
}

// Message is the human-readable summary some events carry.
type Message struct {
	Content string `json:"content,omitempty"`
	Format  string `json:"format,omitempty"`
}

// EventPage is one page of /events or /events-stream.
type EventPage struct {
	Data  []Event `json:"data"`
	Meta  Meta    `json:"meta"`
	Links Links   `json:"links"`
}

// EventAction is one entry of the organization's action catalogue.
type EventAction struct {
	ID         string `json:"id"`
	Type       string `json:"type,omitempty"`
	Attributes struct {
		DisplayName       string   `json:"displayName,omitempty"`
		GroupDisplayName  string   `json:"groupDisplayName,omitempty"`
		GroupDisplayNames []string `json:"groupDisplayNames,omitempty"`
	} `json:"attributes"`
}

// User is a directory user in the v2 camelCase shape; v1 snake_case users are converted to it.
type User struct {
	AccountID        string          `json:"accountId"`
	AccountType      string          `json:"accountType,omitempty"`
	Status           string          `json:"status,omitempty"`
	AccountStatus    string          `json:"accountStatus,omitempty"`
	MembershipStatus string          `json:"membershipStatus,omitempty"`
	ClaimStatus      string          `json:"claimStatus,omitempty"`
	AddedToOrg       Time            `json:"addedToOrg"`
	Name             string          `json:"name,omitempty"`
	Nickname         string          `json:"nickname,omitempty"`
	Email            string          `json:"email,omitempty"`
	EmailVerified    *bool           `json:"emailVerified,omitempty"`
	PlatformRoles    []string        `json:"platformRoles,omitempty"`
	ManagementSource string          `json:"managementSource,omitempty"`
	MFAEnabled       *bool           `json:"mfaEnabled,omitempty"`
	JobTitle         string          `json:"jobTitle,omitempty"`
	Department       string          `json:"department,omitempty"`
	Organization     string          `json:"organization,omitempty"`
	Location         string          `json:"location,omitempty"`
	TimeZone         string          `json:"timeZone,omitempty"`
	ProductAccess    []ProductAccess `json:"productAccess,omitempty"`
	Groups           Groups          `json:"groups,omitempty"`
	DeactivatedOn    Time            `json:"deactivatedOn"`
	ForDeletion      bool            `json:"forDeletion,omitempty"`
}

// Groups are the directory groups of a user, present when the users search expands
// "groups". The reference does not confirm the item shape, so both plain names and
// {"id","name"} objects are accepted.
type Groups []Group

// Group is one directory group.
type Group struct {
	ID   string `json:"id,omitempty"`
	Name string `json:"name,omitempty"`
}

// UnmarshalJSON accepts an array of names or of group objects; anything else is ignored.
func (g *Groups) UnmarshalJSON(b []byte) error {
	var raw []json.RawMessage
	if json.Unmarshal(b, &raw) != nil {
		return nil
	}
	for _, r := range raw {
		var name string
		if json.Unmarshal(r, &name) == nil {
			*g = append(*g, Group{Name: name})
			continue
		}
		var x Group
		if json.Unmarshal(r, &x) == nil && (x.Name != "" || x.ID != "") {
			*g = append(*g, x)
		}
	}
	return nil
}

// IsOrgAdmin reports whether the user holds the organization admin role.
func (u User) IsOrgAdmin() bool {
	for _, r := range u.PlatformRoles {
		if r == "atlassian/org-admin" {
			return true
		}
	}
	return false
}

// ProductAccess is one product a user can reach, with the last time they used it.
type ProductAccess struct {
	Key                 string `json:"key,omitempty"`
	ID                  string `json:"id,omitempty"`
	Name                string `json:"name,omitempty"`
	LastActiveTimestamp Time   `json:"lastActiveTimestamp"`
}

// Domain is a domain the organization has claimed or tried to claim.
type Domain struct {
	ID         string `json:"id"`
	Type       string `json:"type,omitempty"`
	Attributes struct {
		Name  string `json:"name,omitempty"`
		Claim struct {
			Type   string `json:"type,omitempty"`
			Status string `json:"status,omitempty"`
		} `json:"claim"`
	} `json:"attributes"`
}

// Verified reports whether the domain's claim is verified, the only state worth trusting.
func (d Domain) Verified() bool { return d.Attributes.Claim.Status == "verified" }

// Policy is one organization policy (IP allowlist, data security, ...).
type Policy struct {
	ID         string `json:"id"`
	Type       string `json:"type,omitempty"`
	Attributes struct {
		Type      string          `json:"type,omitempty"`
		Name      string          `json:"name,omitempty"`
		Status    string          `json:"status,omitempty"`
		Rule      json.RawMessage `json:"rule,omitempty"`
		Resources []struct {
			ID                string `json:"id,omitempty"`
			ApplicationStatus string `json:"applicationStatus,omitempty"`
		} `json:"resources,omitempty"`
		CreatedAt Time `json:"createdAt"`
		UpdatedAt Time `json:"updatedAt"`
	} `json:"attributes"`
}
