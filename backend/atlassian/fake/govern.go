package fake

import (
	"encoding/json"
	"net/http"
	"sort"
	"strings"
	"time"

	"warden/backend/atlassian"
)

// Governance endpoints: v2 user details, suspend and restore (with the v1 fallbacks), and the
// user management API (permission check, profile, lifecycle, API tokens).
//
// State: a mutation changes the user in Options.Users in place (status, membershipStatus,
// accountStatus, deactivatedOn), under the server's lock, so the users search and the v1 list
// show it too. Answers the reference leaves open, chosen here and relied on by tests:
//
//   - Suspending a suspended user, restoring an active one, disabling an inactive account or
//     enabling an active one succeeds (204, or 200 on v1) and changes nothing: the calls are
//     idempotent, so only the recorded requests show whether a client sent one twice.
//   - The v2 suspend and restore paths need the real directory id; "-" gets 404 ADMIN-404-1
//     like any unknown directory. An unknown account gets 404 ADMIN-404-8.
//   - SCIM-synced users (managementSource "synced") can be suspended in the org directory (the
//     fixtures have Noah suspended) but their lifecycle is locked: the permission check denies
//     lifecycle.enablement, lifecycle.delete, email.set and the name and email profile fields
//     with externalDirectory.scim, and disable or enable answers 403 forbidden.action with that
//     reason, byte for byte the shared fixture.
//   - Unmanaged accounts (claimStatus "unmanaged") are outside the user management API: the
//     permission check denies everything with reason managedAccount and every other call
//     answers 403 forbidden.targetUnverified.
//   - Unknown account ids get 404 {"key":"accountNotFound"}; an unknown token 404 notFound.
//
// Listings (directory.go) read the users through usersSnapshot, under the lock, so a mutation
// racing a listing is safe.

// AfterApply is a fault that strikes after the mutation was applied: the change is made, then
// the answer is delayed (past the client's timeout) or replaced by Status. It proves that a
// client retrying an unanswered mutation does not send it twice.
type AfterApply struct {
	Path   string        // prefix of the URL path; "" matches every mutation
	Delay  time.Duration // wait before answering, or until the client gives up
	Status int           // answer this status (usual error body) instead of the real answer
	Times  int           // how many mutations to hit; 0 means 1, negative means every one
}

// govState is the fake's governance state, created on first use.
type govState struct {
	tokens     map[string][]atlassian.APIToken
	afterApply []*AfterApply
}

// InjectAfterApply queues an AfterApply fault.
func (s *Server) InjectAfterApply(f AfterApply) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if f.Times == 0 {
		f.Times = 1
	}
	g := s.govLocked()
	g.afterApply = append(g.afterApply, &f)
}

// govLocked returns the governance state; s.mu must be held.
func (s *Server) govLocked() *govState {
	if s.gov != nil {
		return s.gov
	}
	g := &govState{tokens: map[string][]atlassian.APIToken{}}
	if s.opts.Tokens != nil {
		for id, list := range s.opts.Tokens {
			g.tokens[id] = append([]atlassian.APIToken(nil), list...)
		}
	} else {
		for _, u := range s.opts.Users {
			if u.ClaimStatus != "unmanaged" {
				g.tokens[u.AccountID] = defaultTokens(u)
			}
		}
	}
	s.gov = g
	return g
}

// defaultTokens are two invented tokens per managed user, used when Options.Tokens is nil
// (the demo and the fixtures), with stable ids.
func defaultTokens(u atlassian.User) []atlassian.APIToken {
	base := u.AddedToOrg.Time
	if base.IsZero() {
		base = time.Date(2025, 6, 2, 9, 0, 0, 0, time.UTC)
	}
	mk := func(label string, days int) atlassian.APIToken {
		created := base.Add(time.Duration(days) * 24 * time.Hour).UTC()
		return atlassian.APIToken{
			ID:         uuidFrom("token:" + u.AccountID + ":" + label),
			Label:      label,
			CreatedAt:  stamp(created),
			LastAccess: stamp(created.Add(9 * 24 * time.Hour)),
			Expiry:     stamp(created.Add(365 * 24 * time.Hour)),
		}
	}
	return []atlassian.APIToken{mk("cli", 30), mk("automation", 90)}
}

// takeAfterApply uses up one matching AfterApply fault.
func (s *Server) takeAfterApply(path string) *AfterApply {
	s.mu.Lock()
	defer s.mu.Unlock()
	g := s.govLocked()
	for i, f := range g.afterApply {
		if !strings.HasPrefix(path, f.Path) {
			continue
		}
		if f.Times > 0 {
			f.Times--
			if f.Times == 0 {
				g.afterApply = append(g.afterApply[:i:i], g.afterApply[i+1:]...)
			}
		}
		c := *f
		return &c
	}
	return nil
}

// applied finishes a mutation: the answer, unless an AfterApply fault takes over.
func (s *Server) applied(c *call, status int, v any) {
	if f := s.takeAfterApply(c.r.URL.Path); f != nil {
		if f.Delay > 0 && !wait(c.r.Context(), f.Delay) {
			return
		}
		if f.Status != 0 {
			writeRaw(c.w, f.Status, nil, s.defaultErrorBody(f.Status, c.r.URL.Path, c.now))
			return
		}
	}
	if v == nil {
		writeRaw(c.w, status, nil, nil)
		return
	}
	writeJSON(c.w, status, nil, v)
}

func (s *Server) governRoutes() []route {
	dirUser := "/admin/v2/orgs/{org}/directories/{dir}/users/{id}"
	v1User := "/admin/v1/orgs/{org}/directory/users/{id}"
	um := "/users/{id}/manage"
	return []route{
		{method: "GET", pattern: split(dirUser), scoped: true, handle: (*Server).userDetails},
		{method: "POST", pattern: split(dirUser + "/suspend"), handle: (*Server).suspendV2},
		{method: "POST", pattern: split(dirUser + "/restore"), handle: (*Server).restoreV2},
		{method: "POST", pattern: split(v1User + "/suspend-access"), handle: (*Server).suspendV1},
		{method: "POST", pattern: split(v1User + "/restore-access"), handle: (*Server).restoreV1},
		{method: "GET", pattern: split(um), scoped: true, handle: (*Server).permissions},
		{method: "GET", pattern: split(um + "/profile"), scoped: true, handle: (*Server).profile},
		{method: "POST", pattern: split(um + "/lifecycle/disable"), scoped: true,
			handle: (*Server).disable},
		{method: "POST", pattern: split(um + "/lifecycle/enable"), scoped: true,
			handle: (*Server).enable},
		{method: "GET", pattern: split(um + "/api-tokens"), scoped: true,
			handle: (*Server).apiTokens},
		{method: "DELETE", pattern: split(um + "/api-tokens/{token}"), scoped: true,
			handle: (*Server).deleteAPIToken},
	}
}

// userIndex finds an account in Options.Users; s.mu must be held.
func (s *Server) userIndex(id string) int {
	for i := range s.opts.Users {
		if s.opts.Users[i].AccountID == id {
			return i
		}
	}
	return -1
}

// usersSnapshot copies the users under the lock, for handlers that list them while
// governance calls may change them.
func (s *Server) usersSnapshot() []atlassian.User {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]atlassian.User(nil), s.opts.Users...)
}

// lookup returns a copy of the user with id, under the lock.
func (s *Server) lookup(id string) (atlassian.User, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	i := s.userIndex(id)
	if i < 0 {
		return atlassian.User{}, false
	}
	return s.opts.Users[i], true
}

// change applies fn to the user with id under the lock; false when there is no such user.
func (s *Server) change(id string, fn func(u *atlassian.User)) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	i := s.userIndex(id)
	if i < 0 {
		return false
	}
	fn(&s.opts.Users[i])
	return true
}

func (s *Server) userNotFound(c *call) {
	s.appError(c.w, nil, http.StatusNotFound, "ADMIN-404-8", "Not Found",
		"User "+c.params["id"]+" was not found")
}

// v2Directory checks the directory of a v2 user path; "-" is accepted only for reads.
func (s *Server) v2Directory(c *call, read bool) bool {
	dir := c.params["dir"]
	if dir == s.opts.DirectoryID || (read && dir == "-") {
		return true
	}
	s.appError(c.w, nil, http.StatusNotFound, "ADMIN-404-1", "Not Found",
		"Directory "+dir+" was not found")
	return false
}

// GET /v2/orgs/{orgId}/directories/{directoryId}/users/{accountId}: {"data": user}.
func (s *Server) userDetails(c *call) {
	if !s.v2Directory(c, true) {
		return
	}
	u, ok := s.lookup(c.params["id"])
	if !ok {
		s.userNotFound(c)
		return
	}
	writeJSON(c.w, http.StatusOK, nil, map[string]any{"data": u})
}

func setSuspended(suspend bool) func(u *atlassian.User) {
	return func(u *atlassian.User) {
		if suspend {
			u.MembershipStatus = "suspended"
			if u.Status != "deactivated" {
				u.Status = "suspended"
			}
			return
		}
		u.MembershipStatus = "active"
		if u.Status == "suspended" {
			u.Status = "active"
		}
	}
}

func (s *Server) membershipV2(c *call, suspend bool) {
	if !s.v2Directory(c, false) {
		return
	}
	if !s.change(c.params["id"], setSuspended(suspend)) {
		s.userNotFound(c)
		return
	}
	s.applied(c, http.StatusNoContent, nil)
}

func (s *Server) membershipV1(c *call, suspend bool) {
	id := c.params["id"]
	if !s.change(id, setSuspended(suspend)) {
		s.userNotFound(c)
		return
	}
	verb := "restored"
	if suspend {
		verb = "suspended"
	}
	s.applied(c, http.StatusOK, map[string]string{
		"message": "Access to organization " + s.opts.OrgID + " was " + verb + " for user " + id,
	})
}

func (s *Server) suspendV2(c *call) { s.membershipV2(c, true) }
func (s *Server) restoreV2(c *call) { s.membershipV2(c, false) }
func (s *Server) suspendV1(c *call) { s.membershipV1(c, true) }
func (s *Server) restoreV1(c *call) { s.membershipV1(c, false) }

// User management API.

type umError struct {
	Key     string         `json:"key"`
	Context map[string]any `json:"context,omitempty"`
}

func umWrite(c *call, status int, key string, ctx map[string]any) {
	writeJSON(c.w, status, nil, umError{Key: key, Context: ctx})
}

// forbiddenAction is the shared fixture's body for a locked account.
func forbiddenAction(reason string) map[string]any {
	return map[string]any{"allowed": false, "reason": map[string]string{"key": reason}}
}

// managedUser resolves the account of a user management path, answering 404 or 403 itself.
func (s *Server) managedUser(c *call) (atlassian.User, bool) {
	u, ok := s.lookup(c.params["id"])
	if !ok {
		umWrite(c, http.StatusNotFound, "accountNotFound", nil)
		return u, false
	}
	if u.ClaimStatus == "unmanaged" {
		umWrite(c, http.StatusForbidden, "forbidden.targetUnverified", nil)
		return u, false
	}
	return u, true
}

func synced(u atlassian.User) bool { return u.ManagementSource == "synced" }

// rule is a permission-check rule on the wire.
func rule(allowed bool, reason string) map[string]any {
	if allowed {
		return map[string]any{"allowed": true}
	}
	return forbiddenAction(reason)
}

var allPrivileges = []string{"profile", "profile.write", "profile.read", "email.set",
	"lifecycle.enablement", "lifecycle.delete", "apiToken.read", "apiToken.delete"}

// GET /users/{id}/manage?privileges=…: each asked privilege mapped to a rule (all of them when
// none is asked), profile and profile.write as field maps.
func (s *Server) permissions(c *call) {
	u, ok := s.lookup(c.params["id"])
	if !ok {
		umWrite(c, http.StatusNotFound, "accountNotFound", nil)
		return
	}
	q := c.r.URL.Query()
	asked := append(q["privileges"], q["privileges[]"]...)
	if len(asked) == 0 {
		asked = allPrivileges
	}

	unmanaged := u.ClaimStatus == "unmanaged"
	locked := synced(u)
	reason := "externalDirectory.scim"
	if unmanaged {
		reason = "managedAccount"
	}
	fields := func(write bool) map[string]any {
		m := map[string]any{}
		for _, f := range []string{"name", "nickname", "email", "zoneinfo", "locale",
			"extended_profile.job_title", "extended_profile.department"} {
			deny := unmanaged || (write && locked && (f == "name" || f == "email"))
			m[f] = rule(!deny, reason)
		}
		return m
	}
	out := map[string]any{}
	for _, p := range asked {
		switch p {
		case "profile":
			out[p] = fields(false)
		case "profile.write":
			out[p] = fields(true)
		case "lifecycle.enablement", "lifecycle.delete", "email.set":
			out[p] = rule(!unmanaged && !locked, reason)
		case "profile.read", "apiToken.read", "apiToken.delete":
			out[p] = rule(!unmanaged, reason)
		}
	}
	writeJSON(c.w, http.StatusOK, nil, out)
}

// GET /users/{id}/manage/profile: {"account": AtlassianAccountUser}.
func (s *Server) profile(c *call) {
	u, ok := s.managedUser(c)
	if !ok {
		return
	}
	acct := map[string]any{
		"account_id": u.AccountID, "account_type": orDefault(u.AccountType, "atlassian"),
		"account_status": orDefault(u.AccountStatus, "active"), "name": u.Name,
		"nickname": u.Nickname, "email": u.Email, "zoneinfo": u.TimeZone, "locale": "en-US",
		"picture": "https://avatar-management.example.com/avatars/" + u.AccountID,
		"extended_profile": map[string]string{"job_title": u.JobTitle,
			"organization": u.Organization, "department": u.Department, "location": u.Location},
	}
	writeJSON(c.w, http.StatusOK, nil, map[string]any{"account": acct})
}

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}

// POST /users/{id}/manage/lifecycle/disable with {"message": …}.
func (s *Server) disable(c *call) {
	u, ok := s.managedUser(c)
	if !ok {
		return
	}
	var body struct {
		Message string `json:"message"`
	}
	if len(c.body) == 0 || json.Unmarshal(c.body, &body) != nil {
		umWrite(c, http.StatusBadRequest, "bodyParseFailure", nil)
		return
	}
	if synced(u) {
		umWrite(c, http.StatusForbidden, "forbidden.action", forbiddenAction("externalDirectory.scim"))
		return
	}
	now := c.now.UTC()
	s.change(u.AccountID, func(u *atlassian.User) {
		if u.AccountStatus == "inactive" {
			return
		}
		u.AccountStatus, u.Status = "inactive", "deactivated"
		u.DeactivatedOn = stamp(now)
	})
	s.applied(c, http.StatusNoContent, nil)
}

// POST /users/{id}/manage/lifecycle/enable, no body.
func (s *Server) enable(c *call) {
	u, ok := s.managedUser(c)
	if !ok {
		return
	}
	if synced(u) {
		umWrite(c, http.StatusForbidden, "forbidden.action", forbiddenAction("externalDirectory.scim"))
		return
	}
	s.change(u.AccountID, func(u *atlassian.User) {
		u.AccountStatus = "active"
		u.DeactivatedOn = atlassian.Time{}
		u.Status = "active"
		if u.MembershipStatus == "suspended" {
			u.Status = "suspended"
		}
	})
	s.applied(c, http.StatusNoContent, nil)
}

// GET /users/{id}/manage/api-tokens: a bare array, oldest first.
func (s *Server) apiTokens(c *call) {
	u, ok := s.managedUser(c)
	if !ok {
		return
	}
	s.mu.Lock()
	list := append([]atlassian.APIToken{}, s.govLocked().tokens[u.AccountID]...)
	s.mu.Unlock()
	sort.SliceStable(list, func(i, j int) bool {
		return list[i].CreatedAt.Before(list[j].CreatedAt.Time)
	})
	writeJSON(c.w, http.StatusOK, nil, list)
}

// DELETE /users/{id}/manage/api-tokens/{tokenId}: 204, or 404 notFound.
func (s *Server) deleteAPIToken(c *call) {
	u, ok := s.managedUser(c)
	if !ok {
		return
	}
	s.mu.Lock()
	g := s.govLocked()
	list := g.tokens[u.AccountID]
	found := false
	for i, t := range list {
		if t.ID == c.params["token"] {
			g.tokens[u.AccountID] = append(list[:i:i], list[i+1:]...)
			found = true
			break
		}
	}
	s.mu.Unlock()
	if !found {
		umWrite(c, http.StatusNotFound, "notFound", nil)
		return
	}
	s.applied(c, http.StatusNoContent, nil)
}

// Tokens returns the account's current API tokens, for tests.
func (s *Server) Tokens(accountID string) []atlassian.APIToken {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]atlassian.APIToken(nil), s.govLocked().tokens[accountID]...)
}

// User returns the account's current state, for tests.
func (s *Server) User(accountID string) (atlassian.User, bool) { return s.lookup(accountID) }

// State is the directory state governance changes: users' statuses and their API tokens. The
// demo organization saves it after each action and starts from it again, so a suspension
// survives a restart as it would in a real organization.
type State struct {
	Users  []atlassian.User                `json:"users"`
	Tokens map[string][]atlassian.APIToken `json:"tokens"`
}

// State returns a copy of the current directory state.
func (s *Server) State() State {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := State{Users: append([]atlassian.User(nil), s.opts.Users...),
		Tokens: map[string][]atlassian.APIToken{}}
	for id, ts := range s.govLocked().tokens {
		st.Tokens[id] = append([]atlassian.APIToken(nil), ts...)
	}
	return st
}

// WithState returns o with a saved directory state applied.
func (o Options) WithState(st State) Options {
	if len(st.Users) > 0 {
		o.Users = st.Users
	}
	if st.Tokens != nil {
		o.Tokens = st.Tokens
	}
	return o
}
