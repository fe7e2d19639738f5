package audit

import "time"

// User is a member of the organization directory, as Warden keeps it. Knowing who is an admin
// and who is managed by an identity provider is what lets detection and governance be precise.
type User struct {
	AccountID   string    `json:"account_id"`
	Name        string    `json:"name"`
	Email       string    `json:"email"`
	AccountType string    `json:"account_type,omitempty"`
	Status      string    `json:"status,omitempty"` // active, suspended, deactivated, ...
	Admin       bool      `json:"admin"`            // holds atlassian/org-admin
	Roles       []string  `json:"roles,omitempty"`
	Managed     bool      `json:"managed"`          // claimed by a verified domain
	Source      string    `json:"source,omitempty"` // invited, synced (SCIM), or empty
	MFA         *bool     `json:"mfa,omitempty"`    // nil when the API did not say
	Products    []string  `json:"products,omitempty"`
	Groups      []string  `json:"groups,omitempty"` // directory group names
	LastActive  time.Time `json:"last_active,omitzero"`
	AddedToOrg  time.Time `json:"added_to_org,omitzero"`
	Department  string    `json:"department,omitempty"`
	JobTitle    string    `json:"job_title,omitempty"`
	Location    string    `json:"location,omitempty"`
}

// Domain is a domain the organization claims.
type Domain struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	ClaimType string `json:"claim_type,omitempty"`
	Status    string `json:"status"`
	Verified  bool   `json:"verified"`
}

// ActionInfo is one entry of the organization's action catalogue.
type ActionInfo struct {
	Key         string   `json:"key"`
	DisplayName string   `json:"display_name"`
	Groups      []string `json:"groups,omitempty"`
}
