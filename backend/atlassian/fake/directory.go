package fake

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"

	"warden/backend/atlassian"
)

// Org, catalogue, users, directories, domains and policies.

type orgRelationLink struct {
	Links struct {
		Related string `json:"related"`
	} `json:"links"`
}

type orgModel struct {
	ID         string `json:"id"`
	Type       string `json:"type"`
	Attributes struct {
		Name string `json:"name"`
	} `json:"attributes"`
	Relationships struct {
		Domains orgRelationLink `json:"domains"`
		Users   orgRelationLink `json:"users"`
	} `json:"relationships"`
	Links atlassian.Links `json:"links"`
}

func (s *Server) org(r *http.Request) orgModel {
	self := baseURL(r) + "/v1/orgs/" + s.opts.OrgID
	m := orgModel{ID: s.opts.OrgID, Type: "orgs", Links: atlassian.Links{Self: self}}
	m.Attributes.Name = s.opts.OrgName
	m.Relationships.Domains.Links.Related = self + "/domains"
	m.Relationships.Users.Links.Related = self + "/users"
	return m
}

// GET /v1/orgs: the one org, or none for a scoped key (as a live test observed).
func (s *Server) listOrgs(c *call) {
	data := []orgModel{}
	if !s.isScoped(c.r) {
		data = append(data, s.org(c.r))
	}
	writeJSON(c.w, http.StatusOK, nil, map[string]any{
		"data": data, "links": atlassian.Links{Self: selfURL(c.r)},
	})
}

func (s *Server) isScoped(r *http.Request) bool {
	return s.opts.ScopedKey != "" && r.Header.Get("Authorization") == "Bearer "+s.opts.ScopedKey
}

// GET /v1/orgs/{orgId}: the connection test.
func (s *Server) getOrg(c *call) {
	writeJSON(c.w, http.StatusOK, nil, map[string]any{"data": s.org(c.r)})
}

// GET /v1/orgs/{orgId}/event-actions: unpaginated, links and meta empty like the fixture.
func (s *Server) eventActions(c *call) {
	data := s.opts.Actions
	if data == nil {
		data = []atlassian.EventAction{}
	}
	writeJSON(c.w, http.StatusOK, nil, map[string]any{
		"data": data, "links": struct{}{}, "meta": struct{}{},
	})
}

// cursorLinks are v2 links: cursor strings or explicit nulls.
type cursorLinks struct {
	Self string  `json:"self"`
	Prev *string `json:"prev"`
	Next *string `json:"next"`
}

// offsetCursor is the users cursor: an offset, tagged so the two lists cannot mix.
func (s *Server) offsetCursor(kind string, off int) string {
	s.mu.Lock()
	gen := s.gen
	s.mu.Unlock()
	return base64.RawURLEncoding.EncodeToString(
		[]byte(kind + "|" + strconv.Itoa(gen) + "|" + strconv.Itoa(off)))
}

func (s *Server) parseOffsetCursor(kind, c string) (int, bool) {
	if c == "" {
		return 0, true
	}
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return 0, false
	}
	f := strings.Split(string(b), "|")
	if len(f) != 3 || f[0] != kind {
		return 0, false
	}
	s.mu.Lock()
	gen := s.gen
	s.mu.Unlock()
	off, err := strconv.Atoi(f[2])
	return off, err == nil && off >= 0 && f[1] == strconv.Itoa(gen)
}

// usersSearch is the v2 search body; only the filters the fake implements are listed.
type usersSearch struct {
	Cursor           string   `json:"cursor"`
	Limit            int      `json:"limit"`
	AccountIDs       []string `json:"accountIds"`
	MFAEnabled       *bool    `json:"mfaEnabled"`
	ClaimStatus      string   `json:"claimStatus"`
	Status           []string `json:"status"`
	AccountStatus    []string `json:"accountStatus"`
	MembershipStatus []string `json:"membershipStatus"`
	EmailDomains     []string `json:"emailDomains"`
	SearchTerm       string   `json:"searchTerm"`
	Emails           []string `json:"emails"`
	Expand           []string `json:"expand"`
}

// has reports whether list names v.
func has(list []string, v string) bool { return len(list) > 0 && in(list, v) }

// in reports whether v is in list, an empty list allowing everything (a filter not given).
func in(list []string, v string) bool {
	for _, x := range list {
		if strings.EqualFold(x, v) {
			return true
		}
	}
	return len(list) == 0
}

func (q usersSearch) match(u atlassian.User) bool {
	domain := u.Email[strings.LastIndexByte(u.Email, '@')+1:]
	term := strings.ToLower(q.SearchTerm)
	switch {
	case !in(q.AccountIDs, u.AccountID), !in(q.Status, u.Status),
		!in(q.AccountStatus, u.AccountStatus), !in(q.MembershipStatus, u.MembershipStatus),
		!in(q.EmailDomains, domain), !in(q.Emails, u.Email):
		return false
	case q.MFAEnabled != nil && (u.MFAEnabled == nil || *u.MFAEnabled != *q.MFAEnabled):
		return false
	case q.ClaimStatus != "" && q.ClaimStatus != u.ClaimStatus:
		return false
	case term != "" && !strings.Contains(strings.ToLower(u.Name+" "+u.Nickname+" "+u.Email), term):
		return false
	}
	return true
}

// POST /v2/orgs/{orgId}/directories/{directoryId}/users/search: camelCase users, the cursor in
// the body, links.next a bare cursor or null. platformRoles and productAccess appear only when
// asked for in expand, as the reference describes.
func (s *Server) usersV2Search(c *call) {
	if s.opts.UsersV2Disabled {
		s.appError(c.w, nil, http.StatusNotFound, "ADMIN-404-1", "Not Found",
			"The requested resource does not exist")
		return
	}
	if dir := c.params["dir"]; dir != "-" && dir != s.opts.DirectoryID {
		s.appError(c.w, nil, http.StatusNotFound, "ADMIN-404-1", "Not Found",
			"Directory "+dir+" was not found")
		return
	}
	var q usersSearch
	if len(c.body) > 0 {
		if err := json.Unmarshal(c.body, &q); err != nil {
			s.appError(c.w, nil, http.StatusBadRequest, "ADMIN-400-24", "Bad Request",
				"The request body is invalid")
			return
		}
	}
	if q.SearchTerm != "" && len(q.Emails) > 0 {
		s.appError(c.w, nil, http.StatusBadRequest, "ADMIN-400-24", "Bad Request",
			"searchTerm and emails cannot be combined")
		return
	}
	off, ok := s.parseOffsetCursor("users2", q.Cursor)
	if !ok {
		s.badCursor(c.w)
		return
	}
	if q.Limit <= 0 {
		q.Limit = 50
	}
	q.Limit = min(q.Limit, 100)

	var all []atlassian.User
	for _, u := range s.usersSnapshot() {
		if q.match(u) {
			all = append(all, u)
		}
	}
	page := pageOf(all, off, q.Limit)
	out := make([]atlassian.User, len(page))
	for i, u := range page {
		if !has(q.Expand, "platformRoles") {
			u.PlatformRoles = nil
		}
		if !has(q.Expand, "productAccess") {
			u.ProductAccess = nil
		}
		if !has(q.Expand, "groups") {
			u.Groups = nil
		}
		out[i] = u
	}
	links := cursorLinks{Self: s.offsetCursor("users2", off)}
	if end := off + len(page); end < len(all) {
		n := s.offsetCursor("users2", end)
		links.Next = &n
	}
	if off > 0 {
		p := s.offsetCursor("users2", max(0, off-q.Limit))
		links.Prev = &p
	}
	writeJSON(c.w, http.StatusOK, nil, map[string]any{"data": out, "links": links})
}

func pageOf[T any](all []T, off, n int) []T {
	if off >= len(all) {
		return nil
	}
	return all[off:min(len(all), off+n)]
}

// v1 users are snake_case managed accounts.

type v1ProductAccess struct {
	Key        string `json:"key"`
	Name       string `json:"name"`
	URL        string `json:"url,omitempty"`
	LastActive string `json:"last_active,omitempty"`
}

type v1User struct {
	AccountID      string            `json:"account_id"`
	AccountType    string            `json:"account_type"`
	AccountStatus  string            `json:"account_status"`
	Name           string            `json:"name"`
	Picture        string            `json:"picture"`
	Email          string            `json:"email,omitempty"`
	AccessBillable bool              `json:"access_billable"`
	LastActive     string            `json:"last_active,omitempty"`
	ProductAccess  []v1ProductAccess `json:"product_access"`
	Links          atlassian.Links   `json:"links"`
}

var v1Products = map[string][2]string{
	"jira":             {"jira-software", "Jira Software"},
	"confluence":       {"confluence", "Confluence"},
	"bitbucket":        {"bitbucket", "Bitbucket"},
	"jira-servicedesk": {"jira-service-desk", "Jira Service Management"},
}

func toV1(u atlassian.User, orgURL string) v1User {
	v := v1User{
		AccountID: u.AccountID, AccountType: u.AccountType, AccountStatus: u.AccountStatus,
		Name: u.Name, Email: u.Email, AccessBillable: u.Status == "active",
		Picture:       "https://avatar-management.example.com/avatars/" + u.AccountID,
		ProductAccess: []v1ProductAccess{},
		Links:         atlassian.Links{Self: orgURL + "/users/" + u.AccountID},
	}
	if v.AccountType == "" {
		v.AccountType = "atlassian"
	}
	var last atlassian.Time
	for _, p := range u.ProductAccess {
		key, name := p.Key, p.Name
		if m, ok := v1Products[p.Key]; ok {
			key, name = m[0], m[1]
		}
		pa := v1ProductAccess{Key: key, Name: name}
		if !p.LastActiveTimestamp.IsZero() {
			pa.LastActive = p.LastActiveTimestamp.UTC().Format("2006-01-02T15:04:05.000Z")
			if p.LastActiveTimestamp.After(last.Time) {
				last = p.LastActiveTimestamp
			}
		}
		v.ProductAccess = append(v.ProductAccess, pa)
	}
	if !last.IsZero() {
		v.LastActive = last.UTC().Format("2006-01-02T15:04:05.000Z")
	}
	return v
}

// GET /v1/orgs/{orgId}/users: managed accounts only, meta.total, links.next a full URL.
func (s *Server) usersV1(c *call) {
	off, ok := s.parseOffsetCursor("users1", first(c.r.URL.Query(), "cursor"))
	if !ok {
		s.badCursor(c.w)
		return
	}
	var managed []atlassian.User
	for _, u := range s.usersSnapshot() {
		if u.ClaimStatus != "unmanaged" {
			managed = append(managed, u)
		}
	}
	orgURL := baseURL(c.r) + "/v1/orgs/" + s.opts.OrgID
	page := pageOf(managed, off, s.opts.UsersPageSize)
	data := make([]v1User, len(page))
	for i, u := range page {
		data[i] = toV1(u, orgURL)
	}
	links := atlassian.Links{Self: selfURL(c.r)}
	if end := off + len(page); end < len(managed) {
		links.Next = orgURL + "/users?cursor=" + s.offsetCursor("users1", end)
	}
	writeJSON(c.w, http.StatusOK, nil, map[string]any{
		"data": data, "meta": map[string]int{"total": len(managed)}, "links": links,
	})
}

// GET /v2/orgs/{orgId}/directories[?accountId=]: the org's one directory.
func (s *Server) directories(c *call) {
	type directory struct {
		DirectoryID string `json:"directoryId"`
		Name        string `json:"name"`
		Icon        string `json:"icon"`
	}
	data := []directory{}
	acct := first(c.r.URL.Query(), "accountId")
	found := acct == ""
	for _, u := range s.usersSnapshot() {
		found = found || u.AccountID == acct
	}
	if found {
		data = append(data, directory{DirectoryID: s.opts.DirectoryID, Name: s.opts.OrgName,
			Icon: "https://admin.example.com/icons/directory.svg"})
	}
	writeJSON(c.w, http.StatusOK, nil, map[string]any{
		"data": data, "links": cursorLinks{Self: s.offsetCursor("dirs", 0)},
	})
}

// GET /v1/orgs/{orgId}/domains: every claimed domain; clients keep the verified ones.
func (s *Server) domains(c *call) {
	type domain struct {
		atlassian.Domain
		Links atlassian.Links `json:"links"`
	}
	orgURL := baseURL(c.r) + "/v1/orgs/" + s.opts.OrgID
	data := make([]domain, len(s.opts.Domains))
	for i, d := range s.opts.Domains {
		if d.Type == "" {
			d.Type = "domains"
		}
		data[i] = domain{Domain: d, Links: atlassian.Links{Self: orgURL + "/domains/" + d.ID}}
	}
	writeJSON(c.w, http.StatusOK, nil, map[string]any{
		"data": data, "links": atlassian.Links{Self: selfURL(c.r)},
	})
}

// GET /v1/orgs/{orgId}/policies[?type=]: one page, meta.next null.
func (s *Server) policies(c *call) {
	type policy struct {
		atlassian.Policy
		Links atlassian.Links `json:"links"`
	}
	orgURL := baseURL(c.r) + "/v1/orgs/" + s.opts.OrgID
	kind := first(c.r.URL.Query(), "type")
	data := []policy{}
	for _, p := range s.opts.Policies {
		if kind != "" && p.Attributes.Type != kind {
			continue
		}
		if p.Type == "" {
			p.Type = "policy"
		}
		self := atlassian.Links{Self: orgURL + "/policies/" + p.ID}
		data = append(data, policy{Policy: p, Links: self})
	}
	type meta struct {
		Next     *string `json:"next"`
		PageSize int     `json:"page_size"`
	}
	writeJSON(c.w, http.StatusOK, nil, map[string]any{
		"data": data, "meta": meta{PageSize: 20}, "links": atlassian.Links{Self: selfURL(c.r)},
	})
}
