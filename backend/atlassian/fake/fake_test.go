package fake

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"warden/backend/atlassian"
)

const fixtureDir = "testdata/atlassian"

// clock is a fake clock tests move by hand.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// reply is one response as a test sees it.
type reply struct {
	status int
	header http.Header
	body   []byte
}

func (r reply) decode(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("decode %s: %v", r.body, err)
	}
}

type harness struct {
	t     *testing.T
	fake  *Server
	srv   *httptest.Server
	key   string
	clock *clock
	opts  Options
}

func start(t *testing.T, o Options) *harness {
	t.Helper()
	c := &clock{t: time.Date(2026, 11, 19, 0, 0, 0, 0, time.UTC)}
	if o.Now == nil {
		o.Now = c.Now
	}
	f := New(o)
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return &harness{t: t, fake: f, srv: srv, key: o.APIKey, clock: c, opts: o}
}

func startFixtures(t *testing.T) *harness {
	t.Helper()
	o, err := LoadFixtures(fixtureDir)
	if err != nil {
		t.Fatal(err)
	}
	return start(t, o)
}

func (h *harness) do(method, pathOrURL, key string, body []byte) reply {
	h.t.Helper()
	u := pathOrURL
	if !strings.HasPrefix(u, "http") {
		u = h.srv.URL + pathOrURL
	}
	req, err := http.NewRequest(method, u, bytes.NewReader(body))
	if err != nil {
		h.t.Fatal(err)
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	resp, err := h.srv.Client().Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		h.t.Fatal(err)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		h.t.Errorf("%s %s: Content-Type %q", method, pathOrURL, ct)
	}
	return reply{status: resp.StatusCode, header: resp.Header, body: b}
}

func (h *harness) get(pathOrURL string) reply {
	h.t.Helper()
	return h.do("GET", pathOrURL, h.key, nil)
}

func (h *harness) org() string { return "/admin/v1/orgs/" + h.opts.OrgID }

func readFixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(fixtureDir, name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestFixtureStreamReproducesPages(t *testing.T) {
	h := startFixtures(t)

	var records int
	ids := map[string]bool{}
	url := h.org() + "/events-stream?from=1794787200000&limit=15&sortOrder=asc"
	var lastCursor string
	for i := 1; i <= 3; i++ {
		r := h.get(url)
		if r.status != 200 {
			t.Fatalf("page %d: status %d %s", i, r.status, r.body)
		}
		want := readFixture(t, "events-stream-page-"+string(rune('0'+i))+".json")
		if !bytes.Equal(r.body, want) {
			t.Fatalf("page %d is not the fixture page byte for byte", i)
		}
		var p atlassian.EventPage
		r.decode(t, &p)
		records += len(p.Data)
		for _, e := range p.Data {
			ids[e.ID] = true
		}
		if i == 3 {
			if p.Meta.Next != "" || p.Links.Next != "" {
				t.Fatal("page 3 must end the list")
			}
			break
		}
		lastCursor = p.Meta.Next
		url = h.org() + "/events-stream?cursor=" + lastCursor + "&limit=15"
	}
	if records != 41 || len(ids) != 40 {
		t.Fatalf("records %d distinct %d, want 41 and 40", records, len(ids))
	}
	if lastCursor != "nKDcoii-TN8OBybDSg5xg2OjGg6NurNgY1S4OT0laeiqlSv_" {
		t.Fatalf("cursor of page 3 is %q", lastCursor)
	}

	// Re-using page 3's cursor answers page 3 again.
	again := h.get(h.org() + "/events-stream?cursor=" + lastCursor + "&limit=15")
	if !bytes.Equal(again.body, readFixture(t, "events-stream-page-3.json")) {
		t.Fatal("re-used cursor should answer page 3 again")
	}

	// A late event becomes visible through the same cursor.
	late := atlassian.Event{ID: "0f3b1a52-7c4e-4d6a-9b1f-2e8c5d7a9b31", Type: "events"}
	late.Attributes.Action = "user_logged_in"
	late.Attributes.Time = atlassian.Time{Time: time.Date(2026, 11, 18, 15, 0, 0, 0, time.UTC)}
	late.Attributes.ProcessedAt = atlassian.Time{Time: time.Date(2026, 11, 18, 20, 0, 0, 0,
		time.UTC)}
	h.fake.AddEvents(late)
	var p atlassian.EventPage
	h.get(h.org()+"/events-stream?cursor="+lastCursor+"&limit=15").decode(t, &p)
	if len(p.Data) != 12 || p.Data[11].ID != late.ID {
		t.Fatalf("after AddEvents got %d events, last %q", len(p.Data), p.Data[len(p.Data)-1].ID)
	}
	if h.fake.EventCount() != 42 {
		t.Fatalf("EventCount %d", h.fake.EventCount())
	}
}

func TestFixtureSearchPageAndFilterDrop(t *testing.T) {
	h := startFixtures(t)

	r := h.get(h.org() + "/events?from=1794787200000&to=1795046400000&limit=10")
	if !bytes.Equal(r.body, readFixture(t, "events-search-page.json")) {
		t.Fatalf("first /events page is not the fixture: %s", r.body)
	}

	// A filtered search whose next link is followed as given loses the filter.
	var p atlassian.EventPage
	h.get(h.org()+"/events?action=user_logged_in&limit=5").decode(t, &p)
	if len(p.Data) != 5 || strings.Contains(p.Links.Next, "action") {
		t.Fatalf("got %d events, next %q", len(p.Data), p.Links.Next)
	}
	for _, e := range p.Data {
		if e.Attributes.Action != "user_logged_in" || !e.Attributes.ProcessedAt.IsZero() {
			t.Fatalf("unexpected event %+v", e.Attributes)
		}
	}
	var unfiltered, refiltered atlassian.EventPage
	h.get(p.Links.Next).decode(t, &unfiltered)
	h.get(h.org()+"/events?action=user_logged_in&limit=5&cursor="+p.Meta.Next).decode(t,
		&refiltered)
	other := 0
	for _, e := range unfiltered.Data {
		if e.Attributes.Action != "user_logged_in" {
			other++
		}
	}
	if other == 0 || len(unfiltered.Data) != 25 {
		t.Fatalf("following links.next should drop the filter and the limit: %d events, %d other",
			len(unfiltered.Data), other)
	}
	for _, e := range refiltered.Data {
		if e.Attributes.Action != "user_logged_in" {
			t.Fatalf("re-sent filter not applied: %s", e.Attributes.Action)
		}
	}
	if len(refiltered.Data) != 5 {
		t.Fatalf("refiltered page has %d events", len(refiltered.Data))
	}

	var single struct {
		Data atlassian.Event `json:"data"`
	}
	h.get(h.org()+"/events/638dcaaf-63a6-40d2-be7b-00e0d60b43d6").decode(t, &single)
	if single.Data.Attributes.Action != "user_logged_in_as_user" {
		t.Fatalf("single event: %+v", single.Data)
	}
	if r := h.get(h.org() + "/events/nope"); r.status != 404 ||
		!bytes.Contains(r.body, []byte("ADMIN-404-4")) {
		t.Fatalf("missing event: %d %s", r.status, r.body)
	}
}

func TestErrors(t *testing.T) {
	h := startFixtures(t)
	wrongOrg := "/admin/v1/orgs/8c3f6a2e-0b1d-4c5e-9f7a-2d4b6e8f0a1d"

	tests := []struct {
		name, method, path, key string
		status                  int
		contains                []string
	}{
		{"wrong key", "GET", h.org(), "nope", 401, []string{`"code":401`, `"Unauthorized"`}},
		{"no key", "GET", h.org(), "", 401, []string{`"code":401`}},
		{"wrong org", "GET", wrongOrg, h.key, 404, []string{"ADMIN-404-2", wrongOrg[15:]}},
		{"wrong org stream", "GET", wrongOrg + "/events-stream", h.key, 404,
			[]string{"ADMIN-404-2"}},
		{"unknown path", "GET", "/admin/v1/nothing", h.key, 404, []string{"ADMIN-404-1"}},
		{"wrong method", "DELETE", h.org(), h.key, 405, []string{"ADMIN-405-1"}},
		{"garbage cursor", "GET", h.org() + "/events-stream?cursor=xyz", h.key, 400,
			[]string{"ADMIN-400-1", `"status":"400"`}},
		{"search cursor on stream", "GET", h.org() +
			"/events-stream?cursor=OFrIwLl-ZUvpI6a_WvRRPDAOcVuIsEg5S_ZdBGw7rIgG6s04", h.key, 400,
			[]string{"ADMIN-400-1"}},
		{"bad from", "GET", h.org() + "/events-stream?from=yesterday", h.key, 400,
			[]string{"ADMIN-400-3"}},
		{"scoped key events", "GET", h.org() + "/events-stream", "fixture-scoped-key", 403,
			[]string{`"status":403`, "User has no permission", "+00:00", `"path":"/api/admin`}},
		{"scoped key org", "GET", h.org(), "fixture-scoped-key", 200, []string{"Example Robotics"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := h.do(tt.method, tt.path, tt.key, nil)
			if r.status != tt.status {
				t.Fatalf("status %d, want %d: %s", r.status, tt.status, r.body)
			}
			for _, c := range tt.contains {
				if !bytes.Contains(r.body, []byte(c)) {
					t.Errorf("body %s lacks %s", r.body, c)
				}
			}
		})
	}
}

func TestExpiredCursor(t *testing.T) {
	h := start(t, Options{OrgID: "o1", OrgName: "O", APIKey: "k",
		Events: Generate(20, 1, time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC))})
	var p atlassian.EventPage
	h.get(h.org()+"/events-stream?limit=5").decode(t, &p)
	if p.Meta.Next == "" || !strings.HasPrefix(p.Links.Next, h.srv.URL+"/admin/") {
		t.Fatalf("first page should carry meta.next and a full links.next: %+v", p.Links)
	}
	if r := h.get(p.Links.Next); r.status != 200 {
		t.Fatalf("links.next: %d", r.status)
	}
	h.fake.ExpireCursors()
	if r := h.get(h.org() + "/events-stream?cursor=" + p.Meta.Next); r.status != 400 {
		t.Fatalf("expired cursor: %d", r.status)
	}
}

func TestStreamPollingAndLateArrival(t *testing.T) {
	base := time.Date(2026, 11, 18, 0, 0, 0, 0, time.UTC)
	evs := Generate(10, 3, base)
	// One event is processed after the clock: it must stay hidden until the clock gets there.
	evs[4].Attributes.ProcessedAt = atlassian.Time{Time: time.Date(2026, 11, 19, 0, 5, 0, 0,
		time.UTC)}
	h := start(t, Options{OrgID: "o1", OrgName: "O", APIKey: "k", Events: evs})

	seen := map[string]bool{}
	url := h.org() + "/events-stream?limit=4&sortOrder=asc"
	var keep string
	for pages := 0; ; pages++ {
		var p atlassian.EventPage
		h.get(url).decode(t, &p)
		for _, e := range p.Data {
			seen[e.ID] = true
		}
		if p.Meta.Next == "" {
			break
		}
		if pages > 0 && p.Links.Next != "" {
			t.Fatal("only the first page carries links.next")
		}
		keep = p.Meta.Next
		url = h.org() + "/events-stream?cursor=" + keep
	}
	if len(seen) != 9 || seen[evs[4].ID] {
		t.Fatalf("saw %d events (hidden one seen: %v)", len(seen), seen[evs[4].ID])
	}

	h.clock.Advance(10 * time.Minute)
	late := Generate(1, 99, base.Add(-time.Hour))[0]
	late.Attributes.ProcessedAt = atlassian.Time{Time: h.clock.Now().Add(-time.Minute)}
	h.fake.AddEvents(late)

	var p atlassian.EventPage
	h.get(h.org()+"/events-stream?cursor="+keep).decode(t, &p)
	got := map[string]bool{}
	for _, e := range p.Data {
		got[e.ID] = true
	}
	if !got[evs[4].ID] || !got[late.ID] {
		t.Fatalf("polling with the kept cursor missed late events: %v", got)
	}

	// Descending order is by processedAt too.
	var desc atlassian.EventPage
	h.get(h.org()+"/events-stream?sortOrder=desc&limit=2").decode(t, &desc)
	if desc.Data[0].ID != late.ID && desc.Data[0].ID != evs[4].ID {
		t.Fatalf("desc should start with the newest processed event")
	}
}

func TestRateLimit(t *testing.T) {
	o, err := LoadFixtures(fixtureDir)
	if err != nil {
		t.Fatal(err)
	}
	o.EventsPerMinute, o.SendRetryAfter = 10, true
	h := start(t, o)
	h.clock.t = time.Date(2026, 11, 18, 10, 15, 18, 0, time.UTC)

	for i := 0; i < 10; i++ {
		r := h.get(h.org() + "/events")
		if r.status != 200 {
			t.Fatalf("request %d: %d", i, r.status)
		}
		if got := r.header.Get("X-RateLimit-Remaining"); got != string(rune('0'+9-i)) {
			t.Fatalf("request %d: remaining %q", i, got)
		}
	}
	r := h.get(h.org() + "/events")
	want := map[string]string{"X-RateLimit-Limit": "10", "X-RateLimit-Remaining": "0",
		"X-RateLimit-Reset": "2026-11-18T10:16Z", "Retry-After": "42",
		"Date": "Wed, 18 Nov 2026 10:15:18 GMT"}
	if r.status != 429 || !bytes.Contains(r.body, []byte(`"code":429`)) {
		t.Fatalf("11th request: %d %s", r.status, r.body)
	}
	for k, v := range want {
		if got := r.header.Get(k); got != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
	if r := h.get(h.org() + "/events-stream"); r.status != 200 {
		t.Fatalf("the stream has its own budget: %d", r.status)
	}
	h.clock.Advance(42 * time.Second)
	if r := h.get(h.org() + "/events"); r.status != 200 {
		t.Fatalf("after reset: %d", r.status)
	}
}

func TestUsers(t *testing.T) {
	o, err := LoadFixtures(fixtureDir)
	if err != nil {
		t.Fatal(err)
	}
	o.UsersPageSize = 3
	h := start(t, o)

	body := []byte(`{"limit":100,"expand":["platformRoles","productAccess"]}`)
	r := h.do("POST", "/admin/v2/orgs/"+o.OrgID+"/directories/-/users/search", h.key, body)
	var v2 struct {
		Data  []atlassian.User `json:"data"`
		Links map[string]any   `json:"links"`
	}
	r.decode(t, &v2)
	admins := 0
	for _, u := range v2.Data {
		if u.IsOrgAdmin() {
			admins++
		}
	}
	if len(v2.Data) != 9 || admins != 2 || v2.Links["next"] != nil {
		t.Fatalf("v2: %d users, %d admins, next %v", len(v2.Data), admins, v2.Links["next"])
	}

	// Without expand, roles are not sent; paging uses a bare cursor in the body.
	r = h.do("POST", "/admin/v2/orgs/"+o.OrgID+"/directories/-/users/search", h.key,
		[]byte(`{"limit":5}`))
	v2.Data = nil
	r.decode(t, &v2)
	next, _ := v2.Links["next"].(string)
	if len(v2.Data) != 5 || v2.Data[0].IsOrgAdmin() || next == "" {
		t.Fatalf("unexpanded page: %d users, next %q", len(v2.Data), next)
	}
	r = h.do("POST", "/admin/v2/orgs/"+o.OrgID+"/directories/-/users/search", h.key,
		[]byte(`{"limit":5,"cursor":"`+next+`"}`))
	v2.Data, v2.Links = nil, nil
	r.decode(t, &v2)
	if len(v2.Data) != 4 || v2.Links["next"] != nil {
		t.Fatalf("second page: %d users", len(v2.Data))
	}

	// v1: managed accounts only, snake_case, links.next a full URL.
	var ids []string
	url := h.org() + "/users"
	for url != "" {
		var p struct {
			Data  []map[string]any `json:"data"`
			Links atlassian.Links  `json:"links"`
		}
		h.get(url).decode(t, &p)
		for _, u := range p.Data {
			ids = append(ids, u["account_id"].(string))
		}
		if p.Links.Next != "" && !strings.HasPrefix(p.Links.Next, "http") {
			t.Fatalf("v1 next is not a URL: %q", p.Links.Next)
		}
		url = p.Links.Next
	}
	if len(ids) != 8 {
		t.Fatalf("v1 listed %d managed users", len(ids))
	}

	var dirs struct {
		Data []struct {
			DirectoryID string `json:"directoryId"`
		} `json:"data"`
	}
	h.get("/admin/v2/orgs/"+o.OrgID+"/directories?accountId=5f3c6e9a1d4b7e0c2f5a8d1b").decode(t,
		&dirs)
	if len(dirs.Data) != 1 || dirs.Data[0].DirectoryID == "" {
		t.Fatalf("directories: %+v", dirs)
	}

	o.UsersV2Disabled = true
	h2 := start(t, o)
	if r := h2.do("POST", "/admin/v2/orgs/"+o.OrgID+"/directories/-/users/search", h.key,
		nil); r.status != 404 {
		t.Fatalf("disabled v2: %d", r.status)
	}
}

func TestDomainsPoliciesActions(t *testing.T) {
	h := startFixtures(t)
	var d struct {
		Data []atlassian.Domain `json:"data"`
	}
	h.get(h.org()+"/domains").decode(t, &d)
	var p struct {
		Data []atlassian.Policy `json:"data"`
		Meta map[string]any     `json:"meta"`
	}
	r := h.get(h.org() + "/policies")
	r.decode(t, &p)
	var a struct {
		Data []atlassian.EventAction `json:"data"`
	}
	h.get(h.org()+"/event-actions").decode(t, &a)
	if len(d.Data) != 2 || !d.Data[0].Verified() || len(p.Data) != 2 || len(a.Data) != 25 {
		t.Fatalf("domains %d policies %d actions %d", len(d.Data), len(p.Data), len(a.Data))
	}
	if next, ok := p.Meta["next"]; !ok || next != nil {
		t.Fatalf("policies meta.next should be null: %s", r.body)
	}
}

func TestFaultsAndRequests(t *testing.T) {
	h := startFixtures(t)
	h.fake.Inject(Fault{Path: h.org() + "/events-stream", Status: 500, Times: 2})
	h.fake.Inject(Fault{Path: h.org() + "/domains", Malformed: true})
	status, hdr, body, err := ErrorFixture(fixtureDir, "429-proxy-error")
	if err != nil || status != 429 || hdr.Get("X-RateLimit-Reset") != "2026-11-18T10:16Z" {
		t.Fatalf("ErrorFixture: %d %v %v", status, hdr, err)
	}
	h.fake.Inject(Fault{Path: h.org() + "/users", Status: status, Header: hdr, Body: body})

	for i, want := range []int{500, 500, 200} {
		if r := h.get(h.org() + "/events-stream"); r.status != want {
			t.Fatalf("stream request %d: %d", i, r.status)
		}
	}
	r := h.get(h.org() + "/domains")
	if r.status != 200 || json.Valid(r.body) {
		t.Fatalf("malformed fault: %d valid=%v", r.status, json.Valid(r.body))
	}
	r = h.get(h.org() + "/users")
	if r.status != 429 || r.header.Get("Retry-After") != "42" || !bytes.Equal(r.body, body) {
		t.Fatalf("fixture fault: %d %v", r.status, r.header)
	}

	reqs := h.fake.Requests()
	if len(reqs) != 5 || reqs[0].Header.Get("Authorization") != "Bearer fixture-key" {
		t.Fatalf("recorded %d requests", len(reqs))
	}
	h.fake.ResetRequests()
	if len(h.fake.Requests()) != 0 {
		t.Fatal("ResetRequests kept requests")
	}
}

func TestFaultDelayHonoursClientCancel(t *testing.T) {
	h := startFixtures(t)
	h.fake.Inject(Fault{Delay: time.Minute})
	client := &http.Client{Timeout: 50 * time.Millisecond}
	req, _ := http.NewRequest("GET", h.srv.URL+h.org(), nil)
	req.Header.Set("Authorization", "Bearer "+h.key)
	if _, err := client.Do(req); err == nil {
		t.Fatal("delayed request should time out")
	}
}
