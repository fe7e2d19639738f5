package atlassian

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestNewValidates(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		ok   bool
	}{
		{"defaults", Config{OrgID: "o", APIKey: "k"}, true},
		{"trailing slash", Config{BaseURL: "https://api.example.com/", OrgID: "o", APIKey: "k"}, true},
		{"http", Config{BaseURL: "http://127.0.0.1:8080", OrgID: "o", APIKey: "k"}, true},
		{"no org", Config{APIKey: "k"}, false},
		{"blank org", Config{OrgID: "  ", APIKey: "k"}, false},
		{"no key", Config{OrgID: "o"}, false},
		{"ftp", Config{BaseURL: "ftp://example.com", OrgID: "o", APIKey: "k"}, false},
		{"no scheme", Config{BaseURL: "api.atlassian.com", OrgID: "o", APIKey: "k"}, false},
		{"no host", Config{BaseURL: "https://", OrgID: "o", APIKey: "k"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := New(tt.cfg)
			if (err == nil) != tt.ok {
				t.Fatalf("err = %v, want ok %v", err, tt.ok)
			}
			if err != nil && strings.Contains(err.Error(), "k\"") {
				t.Errorf("error mentions the key: %v", err)
			}
			if tt.ok && tt.cfg.BaseURL == "" && c.base.String() != DefaultBaseURL {
				t.Errorf("base = %s", c.base)
			}
		})
	}
}

func TestBaseURLWithPathPrefix(t *testing.T) {
	env := newEnv(t, func(w http.ResponseWriter, r *http.Request) {
		serveJSON(w, 200, fixture(t, "org.json"))
	}, func(c *Config) { c.BaseURL += "proxy/atl/" })
	if _, err := env.client.Org(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := env.rec.requests()[0].Path; got != "/proxy/atl"+orgPath("v1", "") {
		t.Fatalf("path = %s", got)
	}
}

func TestOrgAndHeaders(t *testing.T) {
	env := newEnv(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != orgPath("v1", "") {
			http.NotFound(w, r)
			return
		}
		serveJSON(w, 200, fixture(t, "org.json"))
	}, func(c *Config) { c.UserAgent = "warden-test/1" })

	org, err := env.client.Org(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if org.Attributes.Name != "Example Robotics" || org.ID != testOrgID {
		t.Errorf("org = %+v", org)
	}
	h := env.rec.requests()[0].Header
	want := map[string]string{
		"Authorization": "Bearer " + testKey, "Accept": "application/json",
		"User-Agent": "warden-test/1", "Content-Type": "",
	}
	for k, v := range want {
		if h.Get(k) != v {
			t.Errorf("header %s = %q, want %q", k, h.Get(k), v)
		}
	}
}

func TestEventActions(t *testing.T) {
	env := newEnv(t, func(w http.ResponseWriter, r *http.Request) {
		serveJSON(w, 200, fixture(t, "event-actions.json"))
	})
	acts, err := env.client.EventActions(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(acts) != 25 {
		t.Fatalf("actions = %d, want 25", len(acts))
	}
	for _, a := range acts {
		if a.ID == "user_logged_in_as_user" && len(a.Attributes.GroupDisplayNames) != 2 {
			t.Errorf("impersonation groups = %v", a.Attributes.GroupDisplayNames)
		}
	}
	if got := env.rec.requests()[0].Path; got != orgPath("v1", "/event-actions") {
		t.Errorf("path = %s", got)
	}
}

func TestUsersV2(t *testing.T) {
	env := newEnv(t, func(w http.ResponseWriter, r *http.Request) {
		serveJSON(w, 200, fixture(t, "users-v2-search.json"))
	})
	users, err := env.client.Users(context.Background())
	if err != nil {
		t.Fatal(err)
	}

	var admins, mfa, managed, scim, suspended int
	for _, u := range users {
		if u.IsOrgAdmin() {
			admins++
		}
		if u.MFAEnabled != nil && *u.MFAEnabled {
			mfa++
		}
		if u.ClaimStatus == "managed" {
			managed++
		}
		if u.ManagementSource == "synced" {
			scim++
		}
		if u.Status == "suspended" {
			suspended++
		}
	}
	if len(users) != 9 || admins != 2 || mfa != 5 || managed != 8 || scim != 2 || suspended != 1 {
		t.Errorf("users %d admins %d mfa %d managed %d scim %d suspended %d",
			len(users), admins, mfa, managed, scim, suspended)
	}

	reqs := env.rec.requests()
	if len(reqs) != 1 {
		t.Fatalf("requests = %d, want 1 (next is null)", len(reqs))
	}
	r := reqs[0]
	if r.Method != "POST" || r.Path != orgPath("v2", "/directories/-/users/search") {
		t.Errorf("request = %s %s", r.Method, r.Path)
	}
	if r.Header.Get("Content-Type") != "application/json" {
		t.Errorf("content type = %q", r.Header.Get("Content-Type"))
	}
	var body map[string]any
	_ = json.Unmarshal(r.Body, &body)
	if body["limit"] != float64(100) || len(body["expand"].([]any)) != 3 || body["cursor"] != nil {
		t.Errorf("body = %s", r.Body)
	}
}

func TestUsersV2Pages(t *testing.T) {
	page := func(id, next string) []byte {
		b, _ := json.Marshal(map[string]any{
			"data":  []map[string]any{{"accountId": id}},
			"links": map[string]any{"next": next},
		})
		return b
	}
	env := newEnv(t, func(w http.ResponseWriter, r *http.Request) {
		var body struct{ Cursor string }
		_ = json.NewDecoder(r.Body).Decode(&body)
		switch body.Cursor {
		case "":
			serveJSON(w, 200, page("a", "c1"))
		case "c1":
			// A full URL to another host: only its cursor is used.
			serveJSON(w, 200, page("b", "https://elsewhere.example.com/x?cursor=c2"))
		case "c2":
			serveJSON(w, 200, []byte(`{"data":[{"accountId":"c"}],"links":{"next":null}}`))
		}
	})
	users, err := env.client.Users(context.Background())
	if err != nil || len(users) != 3 || users[2].AccountID != "c" {
		t.Fatalf("users = %+v, err %v", users, err)
	}
}

func TestUsersFallback(t *testing.T) {
	v1 := `{"data":[{"account_id":"712020:3b7e1c52","account_type":"atlassian",` +
		`"account_status":"active","name":"Zoë","email":"zoe@example.com",` +
		`"product_access":[{"key":"jira-software","name":"Jira",` +
		`"last_active":"2026-11-17T09:00:00Z"}]},` +
		`{"account_id":"x","account_status":"inactive"}],"links":{"next":null}}`
	tests := []struct {
		name     string
		status   int
		body     string
		fallback bool
		is       error
	}{
		{"404 falls back", 404, `{"errors":[{"status":"404","code":"ADMIN-404-1"}]}`, true, nil},
		{"405 falls back", 405, ``, true, nil},
		{"403 does not", 403, string(fixture(t, "errors/403-no-perms.json")), false, ErrForbidden},
		{"org not found does not", 404, string(fixture(t, "errors/404-org-not-found.json")), false,
			ErrOrgNotFound},
		{"401 does not", 401, string(fixture(t, "errors/401-proxy-error.json")), false, ErrUnauthorized},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := newEnv(t, func(w http.ResponseWriter, r *http.Request) {
				if strings.Contains(r.URL.Path, "/v2/") {
					serveJSON(w, tt.status, []byte(tt.body))
					return
				}
				serveJSON(w, 200, []byte(v1))
			})
			users, err := env.client.Users(context.Background())
			if !tt.fallback {
				if !errors.Is(err, tt.is) {
					t.Fatalf("err = %v, want %v", err, tt.is)
				}
				if n := len(env.rec.requests()); n != 1 {
					t.Errorf("requests = %d, want 1", n)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			reqs := env.rec.requests()
			if len(reqs) != 2 || reqs[1].Method != "GET" || reqs[1].Path != orgPath("v1", "/users") {
				t.Fatalf("requests = %+v", reqs)
			}
			u := users[0]
			if len(users) != 2 || u.AccountID != "712020:3b7e1c52" || u.Status != "active" ||
				u.ClaimStatus != "managed" || u.Email != "zoe@example.com" ||
				len(u.ProductAccess) != 1 || u.ProductAccess[0].LastActiveTimestamp.IsZero() {
				t.Errorf("users = %+v", users)
			}
			if users[1].Status != "deactivated" {
				t.Errorf("inactive account status = %q", users[1].Status)
			}
		})
	}
}

func TestDomains(t *testing.T) {
	env := newEnv(t, func(w http.ResponseWriter, r *http.Request) {
		serveJSON(w, 200, fixture(t, "domains.json"))
	})
	doms, err := env.client.Domains(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var verified []string
	for _, d := range doms {
		if d.Verified() {
			verified = append(verified, d.Attributes.Name)
		}
	}
	if len(doms) != 2 || len(verified) != 1 || verified[0] != "example.com" {
		t.Errorf("domains = %+v", doms)
	}
	if n := len(env.rec.requests()); n != 1 {
		t.Errorf("requests = %d", n)
	}
}

func TestPolicies(t *testing.T) {
	env := newEnv(t, func(w http.ResponseWriter, r *http.Request) {
		serveJSON(w, 200, fixture(t, "policies.json"))
	})
	pols, err := env.client.Policies(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	enabled := 0
	for _, p := range pols {
		if p.Attributes.Status == "enabled" {
			enabled++
		}
	}
	if len(pols) != 2 || enabled != 1 {
		t.Errorf("policies = %d, enabled %d", len(pols), enabled)
	}
	if n := len(env.rec.requests()); n != 1 {
		t.Errorf("requests = %d, want 1 (meta.next is null)", n)
	}
}

// TestListNextStyles covers the three pagination styles on a v1 list.
func TestListNextStyles(t *testing.T) {
	var srvURL string
	env := newEnv(t, func(w http.ResponseWriter, r *http.Request) {
		item := func(id, links string) []byte {
			return []byte(`{"data":[{"id":"` + id + `"}],` + links + `}`)
		}
		switch r.URL.Query().Get("cursor") {
		case "":
			serveJSON(w, 200, item("d1", `"links":{"next":"`+srvURL+r.URL.Path+`?cursor=u2&extra=1"}`))
		case "u2":
			if r.URL.Query().Get("extra") != "1" {
				t.Error("same-origin next url was not fetched as is")
			}
			serveJSON(w, 200, item("d2", `"links":{"next":"bare3"}`))
		case "bare3":
			serveJSON(w, 200, item("d3", `"meta":{"next":"meta4"},"links":{"next":"ignored"}`))
		case "meta4":
			serveJSON(w, 200, item("d4", `"meta":{"next":null},"links":{"next":null}`))
		}
	})
	srvURL = env.srv.URL
	doms, err := env.client.Domains(context.Background())
	if err != nil || len(doms) != 4 || doms[3].ID != "d4" {
		t.Fatalf("domains = %+v, err %v", doms, err)
	}
}

func TestListNextLoopStops(t *testing.T) {
	env := newEnv(t, func(w http.ResponseWriter, r *http.Request) {
		serveJSON(w, 200, []byte(`{"data":[{"id":"p"}],"meta":{"next":"same"}}`))
	})
	if _, err := env.client.Policies(context.Background()); !errors.Is(err, ErrMalformed) {
		t.Fatalf("err = %v, want ErrMalformed", err)
	}
	if n := len(env.rec.requests()); n != 2 {
		t.Errorf("requests = %d, want 2", n)
	}
}

func TestForeignNextNeverGetsTheKey(t *testing.T) {
	foreign := &recorder{h: func(w http.ResponseWriter, r *http.Request) {
		serveJSON(w, 200, []byte(`{"data":[{"id":"stolen"}]}`))
	}}
	fsrv := httptest.NewServer(foreign)
	defer fsrv.Close()

	env := newEnv(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("cursor") == "" {
			serveJSON(w, 200, []byte(`{"data":[{"id":"d1"}],"links":{"next":"`+
				fsrv.URL+`/admin/v1/orgs/x/domains?cursor=c2"}}`))
			return
		}
		serveJSON(w, 200, []byte(`{"data":[{"id":"d2"}]}`))
	})
	doms, err := env.client.Domains(context.Background())
	if err != nil || len(doms) != 2 || doms[1].ID != "d2" {
		t.Fatalf("domains = %+v, err %v", doms, err)
	}
	if n := len(foreign.requests()); n != 0 {
		t.Fatalf("foreign host received %d requests", n)
	}
	if q := env.rec.requests()[1].Query; q != "cursor=c2" {
		t.Errorf("second query = %q", q)
	}

	// Nor with a foreign next link without a cursor: that list cannot go on safely.
	env2 := newEnv(t, func(w http.ResponseWriter, r *http.Request) {
		serveJSON(w, 200, []byte(`{"data":[],"links":{"next":"`+fsrv.URL+`/steal"}}`))
	})
	if _, err := env2.client.Domains(context.Background()); !errors.Is(err, ErrMalformed) {
		t.Errorf("err = %v, want ErrMalformed", err)
	}
	if n := len(foreign.requests()); n != 0 {
		t.Fatalf("foreign host received %d requests", n)
	}
}

func TestRedirectToForeignHostIsRefused(t *testing.T) {
	foreign := &recorder{h: func(w http.ResponseWriter, r *http.Request) {}}
	fsrv := httptest.NewServer(foreign)
	defer fsrv.Close()
	env := newEnv(t, func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, fsrv.URL+"/x", http.StatusFound)
	})
	_, err := env.client.Org(context.Background())
	var apiErr *APIError
	if !errors.As(err, &apiErr) || apiErr.Status != http.StatusFound {
		t.Errorf("err = %v, want a 302 APIError", err)
	}
	if n := len(foreign.requests()); n != 0 {
		t.Fatalf("redirect target received %d requests", n)
	}
	if n := len(env.rec.requests()); n != 1 {
		t.Errorf("requests = %d, want 1 (no retry)", n)
	}
}

func TestEventsStreamPaging(t *testing.T) {
	tests := []struct {
		name  string
		strip string // a key removed from page 1's meta, to test links.next alone
	}{
		{"meta and links next", ""},
		{"links next url only", "next"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			page1 := fixture(t, "events-stream-page-1.json")
			if tt.strip != "" {
				var m map[string]map[string]any
				_ = json.Unmarshal(page1, &m)
				var raw map[string]json.RawMessage
				_ = json.Unmarshal(page1, &raw)
				delete(m["meta"], tt.strip)
				raw["meta"], _ = json.Marshal(m["meta"])
				page1, _ = json.Marshal(raw)
			}
			env := newEnv(t, func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path != orgPath("v1", "/events-stream") {
					http.NotFound(w, r)
					return
				}
				switch r.URL.Query().Get("cursor") {
				case "":
					serveJSON(w, 200, page1)
				case "6iML84Ezfe6wPrdAkBWwhWhF5YCoW3Mb51x-WBCbVfjo8QHh":
					serveJSON(w, 200, fixture(t, "events-stream-page-2.json"))
				case "nKDcoii-TN8OBybDSg5xg2OjGg6NurNgY1S4OT0laeiqlSv_":
					serveJSON(w, 200, fixture(t, "events-stream-page-3.json"))
				default:
					serveJSON(w, 400, fixture(t, "errors/400-invalid-cursor.json"))
				}
			})

			from := time.UnixMilli(1794787200000)
			p := StreamParams{From: from, Limit: 15}
			ids := map[string]bool{}
			var last string
			for i := 0; i < 10; i++ {
				page, err := env.client.EventsStream(context.Background(), p)
				if err != nil {
					t.Fatal(err)
				}
				for _, e := range page.Data {
					ids[e.ID] = true
				}
				if page.Meta.Next == "" {
					break
				}
				if isURL(page.Meta.Next) {
					t.Fatalf("Meta.Next is a url: %s", page.Meta.Next)
				}
				last, p.Cursor = page.Meta.Next, page.Meta.Next
			}
			reqs := env.rec.requests()
			if len(reqs) != 3 || len(ids) != 40 {
				t.Fatalf("requests = %d, ids = %d; want 3 and 40", len(reqs), len(ids))
			}
			if last != "nKDcoii-TN8OBybDSg5xg2OjGg6NurNgY1S4OT0laeiqlSv_" {
				t.Errorf("cursor kept for the next poll = %q", last)
			}
			for _, r := range reqs {
				q, _ := url.ParseQuery(r.Query)
				if q.Get("from") != "1794787200000" || q.Get("limit") != "15" ||
					q.Get("sortOrder") != "asc" || q.Has("to") {
					t.Errorf("query = %s", r.Query)
				}
			}

			// Stale cursor: ErrInvalidCursor, so the sync restarts from its watermark.
			_, err := env.client.EventsStream(context.Background(), StreamParams{Cursor: "stale"})
			if !errors.Is(err, ErrInvalidCursor) {
				t.Errorf("stale cursor: err = %v", err)
			}
		})
	}
}

func TestEventsResendsFilters(t *testing.T) {
	env := newEnv(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != orgPath("v1", "/events") {
			http.NotFound(w, r)
			return
		}
		serveJSON(w, 200, fixture(t, "events-search-page.json"))
	})
	p := SearchParams{
		From: time.UnixMilli(1794787200000), To: time.UnixMilli(1795046400000), Limit: 10,
		Action: "user_logged_in", Query: "zoë", Actors: []string{"712020:3b7e", "5d2f"},
		IPs: []string{"192.0.2.10", "2001:db8::1"}, Products: []string{"jira", "confluence"},
	}
	page, err := env.client.Events(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Data) != 10 || page.Meta.Next != "OFrIwLl-ZUvpI6a_WvRRPDAOcVuIsEg5S_ZdBGw7rIgG6s04" {
		t.Fatalf("page: %d events, next %q", len(page.Data), page.Meta.Next)
	}

	// Continue once with the bare cursor and once with the links.next url a caller might keep.
	for _, cur := range []string{page.Meta.Next, page.Links.Next} {
		p.Cursor = cur
		if _, err := env.client.Events(context.Background(), p); err != nil {
			t.Fatal(err)
		}
	}
	reqs := env.rec.requests()
	want := map[string]string{
		"from": "1794787200000", "to": "1795046400000", "limit": "10", "action": "user_logged_in",
		"q": "zoë", "actor": "712020:3b7e,5d2f", "ip": "192.0.2.10,2001:db8::1",
		"product": "jira,confluence",
	}
	for i, r := range reqs {
		q, _ := url.ParseQuery(r.Query)
		for k, v := range want {
			if q.Get(k) != v {
				t.Errorf("request %d: %s = %q, want %q", i, k, q.Get(k), v)
			}
		}
		wantCur := page.Meta.Next
		if i == 0 {
			wantCur = ""
		}
		if q.Get("cursor") != wantCur {
			t.Errorf("request %d: cursor = %q", i, q.Get("cursor"))
		}
		if q.Has("sortOrder") {
			t.Errorf("request %d: sortOrder sent to /events", i)
		}
	}
}

func TestAccountIDColonInPath(t *testing.T) {
	env := newEnv(t, func(w http.ResponseWriter, r *http.Request) {
		serveJSON(w, 200, []byte(`{}`))
	})
	id := "712020:3b7e1c52-9a4d-4f08-b6e2-5c1d9f3a7e40"
	u := env.client.apiURL("/users/"+url.PathEscape(id)+"/manage", nil)
	if _, err := env.client.do(context.Background(), call{method: "GET", url: u}); err != nil {
		t.Fatal(err)
	}
	r := env.rec.requests()[0]
	if r.Path != "/users/"+id+"/manage" || !strings.Contains(r.RawPath, id) {
		t.Errorf("server saw path %q (raw %q)", r.Path, r.RawPath)
	}
}

func TestMalformedResponses(t *testing.T) {
	tests := []struct {
		name string
		body string
		call func(*Client) error
	}{
		{"stream html", `<html></html>`, func(c *Client) error {
			_, err := c.EventsStream(context.Background(), StreamParams{})
			return err
		}},
		{"stream data object", `{"data":{}}`, func(c *Client) error {
			_, err := c.EventsStream(context.Background(), StreamParams{})
			return err
		}},
		{"org not json", `nope`, func(c *Client) error {
			_, err := c.Org(context.Background())
			return err
		}},
		{"domains data string", `{"data":"x"}`, func(c *Client) error {
			_, err := c.Domains(context.Background())
			return err
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := newEnv(t, func(w http.ResponseWriter, r *http.Request) {
				serveJSON(w, 200, []byte(tt.body))
			})
			if err := tt.call(env.client); !errors.Is(err, ErrMalformed) {
				t.Fatalf("err = %v, want ErrMalformed", err)
			}
		})
	}
}

func TestOneBadEventKeepsPage(t *testing.T) {
	page := fixture(t, "events-stream-page-3.json")
	bad := bytes.Replace(page, []byte(`"actor": {`), []byte(`"actor": "oops", "x": {`), 1)
	env := newEnv(t, func(w http.ResponseWriter, r *http.Request) {
		serveJSON(w, 200, bad)
	})
	p, err := env.client.EventsStream(context.Background(), StreamParams{})
	if err != nil {
		t.Fatal(err)
	}
	var bads int
	for _, e := range p.Data {
		if e.DecodeError != "" {
			bads++
			if e.ID == "" {
				t.Error("bad event lost its id")
			}
		}
	}
	if len(p.Data) != 11 || bads != 1 {
		t.Errorf("events = %d, bad = %d", len(p.Data), bads)
	}
}

func TestSameOriginRedirectFollowed(t *testing.T) {
	env := newEnv(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/old" {
			http.Redirect(w, r, orgPath("v1", ""), http.StatusTemporaryRedirect)
			return
		}
		if r.Header.Get("Authorization") != "Bearer "+testKey {
			w.WriteHeader(401)
			return
		}
		serveJSON(w, 200, fixture(t, "org.json"))
	})
	r := call{method: "GET", url: env.srv.URL + "/old"}
	if _, err := env.client.do(context.Background(), r); err != nil {
		t.Fatal(err)
	}
}
