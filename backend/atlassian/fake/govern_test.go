package fake

import (
	"bytes"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"warden/backend/atlassian"
)

// Fixture people used by the governance tests.
const (
	hana   = "712020:9c4e7a15-2b8f-4d63-a0e1-7f5b3d9c2a86" // managed, active, colon in id
	noah   = "5f3c6e9a1d4b7e0c2f5a8d1b"                    // SCIM-synced, suspended
	amara  = "5e8b2d4f6a1c3e5b7d9f0a2c"                    // SCIM-synced, active
	mateus = "63c9f2b5e8a1d4c7f0b3e6a9"                    // unmanaged
)

func (h *harness) dirUser(id, rest string) string {
	return "/admin/v2/orgs/" + h.opts.OrgID + "/directories/" + h.fake.opts.DirectoryID +
		"/users/" + id + rest
}

func (h *harness) userState(id string) atlassian.User {
	h.t.Helper()
	var env struct {
		Data atlassian.User `json:"data"`
	}
	r := h.get(h.dirUser(id, ""))
	if r.status != http.StatusOK {
		h.t.Fatalf("user details %s: %d %s", id, r.status, r.body)
	}
	r.decode(h.t, &env)
	return env.Data
}

func TestGovernMembership(t *testing.T) {
	h := startFixtures(t)
	org := h.opts.OrgID
	tests := []struct {
		name       string
		method     string
		path       string
		wantStatus int
		wantBody   string // JSON compared semantically; "" means empty body
		wantState  string // membershipStatus afterwards
		user       string
	}{
		{name: "v2 suspend", method: "POST", path: h.dirUser(hana, "/suspend"), user: hana,
			wantStatus: 204, wantState: "suspended"},
		{name: "v2 suspend again is a no-op", method: "POST", path: h.dirUser(hana, "/suspend"),
			user: hana, wantStatus: 204, wantState: "suspended"},
		{name: "v2 restore", method: "POST", path: h.dirUser(hana, "/restore"), user: hana,
			wantStatus: 204, wantState: "active"},
		{name: "v1 suspend-access", method: "POST",
			path: "/admin/v1/orgs/" + org + "/directory/users/" + hana + "/suspend-access",
			user: hana, wantStatus: 200, wantState: "suspended",
			wantBody: `{"message":"Access to organization ` + org +
				` was suspended for user ` + hana + `"}`},
		{name: "v1 restore-access", method: "POST",
			path: "/admin/v1/orgs/" + org + "/directory/users/" + hana + "/restore-access",
			user: hana, wantStatus: 200, wantState: "active",
			wantBody: `{"message":"Access to organization ` + org +
				` was restored for user ` + hana + `"}`},
		{name: "SCIM user can be suspended in the org", method: "POST",
			path: h.dirUser(amara, "/suspend"), user: amara, wantStatus: 204,
			wantState: "suspended"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := h.do(tt.method, tt.path, h.key, nil)
			if r.status != tt.wantStatus {
				t.Fatalf("status %d, want %d: %s", r.status, tt.wantStatus, r.body)
			}
			if tt.wantBody == "" && len(r.body) != 0 {
				t.Errorf("body %s, want none", r.body)
			}
			if tt.wantBody != "" {
				jsonEqual(t, r.body, []byte(tt.wantBody))
			}
			u := h.userState(tt.user)
			if u.MembershipStatus != tt.wantState || u.Status != tt.wantState {
				t.Errorf("state %s/%s, want %s", u.Status, u.MembershipStatus, tt.wantState)
			}
		})
	}

	errs := []struct {
		name, path, code string
		status           int
	}{
		{"unknown user", h.dirUser("nobody", "/suspend"), "ADMIN-404-8", 404},
		{"directory dash", "/admin/v2/orgs/" + org + "/directories/-/users/" + hana + "/suspend",
			"ADMIN-404-1", 404},
		{"v1 unknown user",
			"/admin/v1/orgs/" + org + "/directory/users/nobody/restore-access", "ADMIN-404-8", 404},
		{"wrong org", "/admin/v2/orgs/x/directories/d/users/" + hana + "/suspend", "ADMIN-404-2",
			404},
	}
	for _, tt := range errs {
		t.Run(tt.name, func(t *testing.T) {
			r := h.do("POST", tt.path, h.key, nil)
			var body struct {
				Errors []struct{ Code string } `json:"errors"`
			}
			r.decode(t, &body)
			if r.status != tt.status || len(body.Errors) == 0 || body.Errors[0].Code != tt.code {
				t.Fatalf("got %d %s, want %d %s", r.status, r.body, tt.status, tt.code)
			}
		})
	}
}

func TestGovernUserManagement(t *testing.T) {
	h := startFixtures(t)
	scimBody := readFixture(t, "errors/403-user-management-forbidden-action.json")

	t.Run("permission check", func(t *testing.T) {
		tests := []struct {
			user, priv string
			want       string // JSON of the rule
		}{
			{hana, "lifecycle.enablement", `{"allowed":true}`},
			{noah, "lifecycle.enablement",
				`{"allowed":false,"reason":{"key":"externalDirectory.scim"}}`},
			{noah, "apiToken.delete", `{"allowed":true}`},
			{mateus, "lifecycle.enablement",
				`{"allowed":false,"reason":{"key":"managedAccount"}}`},
		}
		for _, tt := range tests {
			r := h.get("/users/" + tt.user + "/manage?privileges=" + tt.priv)
			var got map[string]json.RawMessage
			r.decode(t, &got)
			if r.status != 200 || len(got) != 1 {
				t.Fatalf("%s %s: %d %s", tt.user, tt.priv, r.status, r.body)
			}
			jsonEqual(t, got[tt.priv], []byte(tt.want))
		}
		r := h.get("/users/" + noah + "/manage?privileges[]=profile.write")
		var fields map[string]map[string]json.RawMessage
		r.decode(t, &fields)
		jsonEqual(t, fields["profile.write"]["name"],
			[]byte(`{"allowed":false,"reason":{"key":"externalDirectory.scim"}}`))
		jsonEqual(t, fields["profile.write"]["nickname"], []byte(`{"allowed":true}`))
	})

	t.Run("lifecycle", func(t *testing.T) {
		tests := []struct {
			name, user, verb string
			body             []byte
			status           int
			wantBody         []byte
			wantAccount      string
		}{
			{"SCIM disable is the fixture 403", noah, "disable", []byte(`{}`), 403, scimBody, ""},
			{"SCIM enable refused too", noah, "enable", nil, 403, scimBody, ""},
			{"unknown account", "nobody", "disable", []byte(`{}`), 404,
				[]byte(`{"key":"accountNotFound"}`), ""},
			{"unmanaged account", mateus, "disable", []byte(`{}`), 403,
				[]byte(`{"key":"forbidden.targetUnverified"}`), ""},
			{"disable needs a body", hana, "disable", nil, 400,
				[]byte(`{"key":"bodyParseFailure"}`), ""},
			{"disable", hana, "disable", []byte(`{"message":"Offboarded by security"}`), 204,
				nil, "inactive"},
			{"disable again is a no-op", hana, "disable", []byte(`{}`), 204, nil, "inactive"},
			{"enable", hana, "enable", nil, 204, nil, "active"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				r := h.do("POST", "/users/"+tt.user+"/manage/lifecycle/"+tt.verb, h.key, tt.body)
				if r.status != tt.status {
					t.Fatalf("status %d, want %d: %s", r.status, tt.status, r.body)
				}
				if tt.wantBody != nil {
					jsonEqual(t, r.body, tt.wantBody)
				}
				if tt.wantAccount == "" {
					return
				}
				var p struct {
					Account atlassian.Account `json:"account"`
				}
				h.get("/users/"+tt.user+"/manage/profile").decode(t, &p)
				if p.Account.AccountStatus != tt.wantAccount {
					t.Errorf("account_status %q, want %q", p.Account.AccountStatus, tt.wantAccount)
				}
				if u := h.userState(tt.user); (u.Status == "deactivated") !=
					(tt.wantAccount == "inactive") {
					t.Errorf("directory status %q after %s", u.Status, tt.verb)
				}
			})
		}
	})

	t.Run("api tokens", func(t *testing.T) {
		r := h.get("/users/" + hana + "/manage/api-tokens")
		if !bytes.HasPrefix(bytes.TrimSpace(r.body), []byte("[")) {
			t.Fatalf("tokens are not a bare array: %s", r.body)
		}
		var tokens []atlassian.APIToken
		r.decode(t, &tokens)
		if len(tokens) != 2 || tokens[0].ID == "" || tokens[0].CreatedAt.IsZero() {
			t.Fatalf("tokens: %s", r.body)
		}
		del := h.do("DELETE", "/users/"+hana+"/manage/api-tokens/"+tokens[0].ID, h.key, nil)
		if del.status != 204 {
			t.Fatalf("delete: %d %s", del.status, del.body)
		}
		again := h.do("DELETE", "/users/"+hana+"/manage/api-tokens/"+tokens[0].ID, h.key, nil)
		if again.status != 404 {
			t.Fatalf("second delete: %d %s", again.status, again.body)
		}
		if left := h.fake.Tokens(hana); len(left) != 1 || left[0].ID != tokens[1].ID {
			t.Fatalf("left: %+v", left)
		}
		if r := h.get("/users/" + mateus + "/manage/api-tokens"); r.status != 403 {
			t.Errorf("unmanaged tokens: %d", r.status)
		}
	})

	t.Run("scoped key", func(t *testing.T) {
		r := h.do("POST", "/users/"+hana+"/manage/lifecycle/enable", h.opts.ScopedKey, nil)
		if r.status != 403 {
			t.Fatalf("scoped key: %d", r.status)
		}
	})
}

func TestGovernExplicitTokensAndAfterApply(t *testing.T) {
	o, err := LoadFixtures(fixtureDir)
	if err != nil {
		t.Fatal(err)
	}
	o.Tokens = map[string][]atlassian.APIToken{hana: {{ID: "t1", Label: "only"}}}
	h := start(t, o)
	if got := h.fake.Tokens(hana); len(got) != 1 || got[0].ID != "t1" {
		t.Fatalf("explicit tokens: %+v", got)
	}
	if got := h.fake.Tokens(noah); len(got) != 0 {
		t.Fatalf("a user outside Tokens has tokens: %+v", got)
	}

	h.fake.InjectAfterApply(AfterApply{Path: "/admin/v2/", Status: http.StatusBadGateway})
	r := h.do("POST", h.dirUser(hana, "/suspend"), h.key, nil)
	if r.status != http.StatusBadGateway {
		t.Fatalf("status %d", r.status)
	}
	if u, _ := h.fake.User(hana); u.MembershipStatus != "suspended" {
		t.Fatalf("the mutation was not applied before the fault: %+v", u)
	}
	// Used up: the next one answers normally.
	if r := h.do("POST", h.dirUser(hana, "/restore"), h.key, nil); r.status != 204 {
		t.Fatalf("after the fault: %d", r.status)
	}

	h.fake.InjectAfterApply(AfterApply{Delay: 20 * time.Millisecond})
	start := time.Now()
	if r := h.do("POST", h.dirUser(hana, "/suspend"), h.key, nil); r.status != 204 {
		t.Fatalf("delayed: %d", r.status)
	}
	if time.Since(start) < 20*time.Millisecond {
		t.Errorf("the answer was not delayed")
	}
}

func jsonEqual(t *testing.T, got, want []byte) {
	t.Helper()
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("decode %s: %v", got, err)
	}
	if err := json.Unmarshal(want, &w); err != nil {
		t.Fatalf("decode %s: %v", want, err)
	}
	gb, _ := json.Marshal(g)
	wb, _ := json.Marshal(w)
	if !bytes.Equal(gb, wb) {
		t.Errorf("got %s\nwant %s", gb, wb)
	}
}
