package atlassian

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
)

// usersPageSize is the v2 search page size (the API default is 50).
const usersPageSize = 100

// Users lists every user of the organization's directories through the v2 search, expanded
// with platform roles and product access, which posture checks need (org admins, MFA, last
// activity).
//
// When the v2 search is not there for this org, answering 404 or 405, it falls back to the
// legacy v1 list of managed accounts and converts those users. A 404 that says the org itself
// does not exist (ADMIN-404-2) is returned as is: v1 would say the same.
//
// A 403 is not a reason to fall back. It means the key lacks a permission or scope (a scoped
// key without read:directories:admin, a key of a non-admin), and v1 would quietly answer with
// less: managed accounts only, without roles or MFA. Posture would then report "no admins" and
// "MFA unknown" as facts. Surfacing ErrForbidden lets the admin fix the key instead.
func (c *Client) Users(ctx context.Context) ([]User, error) {
	users, err := c.usersV2(ctx)
	if err == nil {
		return users, nil
	}
	var apiErr *APIError
	if !errors.As(err, &apiErr) || errors.Is(err, ErrOrgNotFound) ||
		(apiErr.Status != http.StatusNotFound && apiErr.Status != http.StatusMethodNotAllowed) {
		return nil, err
	}

	c.log.Info("atlassian v2 user search unavailable, using v1 managed accounts",
		"status", apiErr.Status, "code", apiErr.Code)
	return c.usersV1(ctx)
}

// usersV2 pages through POST /admin/v2/orgs/{orgId}/directories/-/users/search; the cursor
// goes in the body.
func (c *Client) usersV2(ctx context.Context) ([]User, error) {
	type searchBody struct {
		Expand []string `json:"expand"`
		Limit  int      `json:"limit"`
		Cursor string   `json:"cursor,omitempty"`
	}
	q := searchBody{Expand: []string{"platformRoles", "productAccess", "groups"},
		Limit: usersPageSize}
	u := c.apiURL(c.v2("/directories/-/users/search"), nil)
	request := func() call {
		body, _ := json.Marshal(q)
		return call{method: http.MethodPost, url: u, body: body}
	}
	return collect[User](ctx, c, request(), c.do, func(next string) (call, error) {
		cur, err := bareCursor(next)
		q.Cursor = cur
		return request(), err
	})
}

// userV1 is a managed account of GET /admin/v1/orgs/{orgId}/users, in snake_case.
type userV1 struct {
	AccountID      string `json:"account_id"`
	AccountType    string `json:"account_type"`
	AccountStatus  string `json:"account_status"`
	Name           string `json:"name"`
	Nickname       string `json:"nickname"`
	Email          string `json:"email"`
	AccessBillable *bool  `json:"access_billable"`
	LastActive     Time   `json:"last_active"`
	ProductAccess  []struct {
		Key        string `json:"key"`
		Name       string `json:"name"`
		URL        string `json:"url"`
		LastActive Time   `json:"last_active"`
	} `json:"product_access"`
}

// usersV1 lists the legacy managed accounts and converts them to the v2 shape.
func (c *Client) usersV1(ctx context.Context) ([]User, error) {
	old, err := getAll[userV1](ctx, c, c.v1("/users"))
	if err != nil {
		return nil, err
	}
	users := make([]User, len(old))
	for i, o := range old {
		users[i] = o.toUser()
	}
	return users, nil
}

// toUser converts a v1 managed account. v1 lists only managed accounts, hence ClaimStatus;
// it knows nothing of roles, MFA or directory membership, which stay empty (unknown).
func (o userV1) toUser() User {
	u := User{
		AccountID:     o.AccountID,
		AccountType:   o.AccountType,
		AccountStatus: o.AccountStatus,
		ClaimStatus:   "managed",
		Name:          o.Name,
		Nickname:      o.Nickname,
		Email:         o.Email,
	}
	// The v2 composite status: an inactive or closed account is a deactivated user.
	switch strings.ToLower(o.AccountStatus) {
	case "active":
		u.Status = "active"
	case "inactive", "closed":
		u.Status = "deactivated"
	}
	for _, p := range o.ProductAccess {
		u.ProductAccess = append(u.ProductAccess, ProductAccess{
			Key: p.Key, Name: p.Name, LastActiveTimestamp: p.LastActive,
		})
	}
	return u
}
