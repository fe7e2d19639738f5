// Package fake is an in-process imitation of the Atlassian organization admin API, built from
// the wire-format reference and the shared fixtures rather than from Warden's client, so tests
// catch the places where the client and the real API disagree. It also generates the built-in
// demo organization (see Demo) and synthetic event volumes for benchmarks (see Generate).
//
// The fake serves everything under /admin, as api.atlassian.com does: point a client's base URL
// at the fake's root (for example httptest.NewServer(fake.New(o)).URL). Every response is JSON.
// It reproduces the quirks a client must survive: three pagination styles, /events cursor links
// that drop the filters, stale cursors, gateway ProxyError bodies, rate limits with
// X-RateLimit-* headers, late-arriving events and scoped keys.
//
// Time: the fake reads its clock from Options.Now. An event whose processedAt lies after the
// clock is not visible yet, so advancing a fake clock makes late events "arrive".
package fake

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"warden/backend/atlassian"
)

// Options configures a fake organization. The slices are kept as given (not copied), so do not
// modify them after New.
type Options struct {
	// OrgID and OrgName identify the one organization the fake knows; any other org id in a
	// path gets 404 ADMIN-404-2.
	OrgID, OrgName string

	// APIKey is the only bearer key accepted; a wrong or missing key gets 401 ProxyError.
	APIKey string

	// ScopedKey, when set, is accepted like a key created with scopes: the org calls work but
	// the events and users endpoints answer 403 NoPermsError.
	ScopedKey string

	// Events are full events including processedAt; the stream serves them sorted by
	// processedAt (stable, so equal times keep their order). A zero processedAt means "same as
	// time".
	Events []atlassian.Event

	// RawEvents are JSON events served byte for byte (fixtures mode). They are appended after
	// Events. Duplicates are kept on the stream, as the fixtures have one.
	RawEvents [][]byte

	// StreamPages and SearchPages are whole fixture pages of /events-stream and /events. When a
	// request's answer has exactly the records of a stored page (same ids in the same order, and
	// a next cursor exactly when the page has one), the stored bytes are sent unchanged. The
	// pages' meta.next cursors are accepted as aliases for "after this page's last record".
	StreamPages, SearchPages [][]byte

	Users    []atlassian.User
	Domains  []atlassian.Domain
	Policies []atlassian.Policy
	Actions  []atlassian.EventAction

	// DirectoryID is the org's one user directory, returned by GET /v2/orgs/{orgId}/directories
	// and accepted in v2 directory paths besides "-". Default: derived from OrgID.
	DirectoryID string

	// MaxPageSize caps limit on /events-stream (default 500; the default limit is 200) and on
	// /events.
	MaxPageSize int

	// EventsPageSize is the default page size of /events (default 25, the documented example).
	EventsPageSize int

	// UsersPageSize is the page size of GET /v1/orgs/{orgId}/users (default 100).
	UsersPageSize int

	// PerMinute limits all authenticated requests per clock minute, and EventsPerMinute limits
	// GET /events (Atlassian allows 10). Over the limit the fake answers 429 ProxyError with
	// X-RateLimit-Limit, -Remaining and -Reset (next minute, "2006-01-02T15:04Z"). 0 = unlimited.
	PerMinute, EventsPerMinute int

	// SendRetryAfter adds a Retry-After header (seconds) to 429 answers; Atlassian does not
	// document it, so by default it is absent.
	SendRetryAfter bool

	// UsersV2Disabled makes the v2 users search answer 404, so clients must fall back to v1.
	UsersV2Disabled bool

	// Tokens are the users' API tokens by account id, for the user management API (copied on
	// first use). Nil gives every managed user two invented tokens (see govern.go).
	Tokens map[string][]atlassian.APIToken

	// Now is the clock for rate limits, NoPerms timestamps and late arrival. Default time.Now.
	Now func() time.Time
}

// Server is the fake API. It is safe for concurrent use.
type Server struct {
	opts   Options
	routes []route

	mu        sync.Mutex
	data      *eventData
	faults    []*Fault
	requests  []Request
	window    map[string]*rateWindow
	gen       int // cursor generation; ExpireCursors bumps it
	idCounter int
	gov       *govState // governance state, see govern.go
}

// Fault hijacks matching responses, for testing a client's error handling.
type Fault struct {
	// Path is a prefix of the URL path ("" matches every request).
	Path string

	// Status and Body replace the response; a zero Status with Malformed false means "only
	// delay, then answer normally". An empty Body gets the usual error body for Status.
	Status int
	Body   []byte
	Header http.Header

	// Times is how many responses to hijack; 0 means 1, a negative value means every one.
	Times int

	// Malformed sends 200 with the real answer cut in half, i.e. truncated JSON.
	Malformed bool

	// Delay waits before answering (or until the client gives up).
	Delay time.Duration

	// After lets this many matching requests through untouched before the fault applies, so
	// a test can break the second page of a sync rather than the first.
	After int
}

// Request is one request as the fake received it, Authorization header included, so tests can
// check what a client sent.
type Request struct {
	Method, Path, RawQuery string
	Header                 http.Header
	Body                   []byte
	Time                   time.Time
}

// route is one endpoint: a method and a slash-separated pattern where {name} matches a segment.
type route struct {
	method  string
	pattern []string
	scoped  bool // answers 403 NoPerms to the scoped key
	handle  func(s *Server, c *call)
}

// call carries one request through a handler.
type call struct {
	w      http.ResponseWriter
	r      *http.Request
	body   []byte
	params map[string]string
	now    time.Time
}

// New builds a fake from o, filling in defaults.
func New(o Options) *Server {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.MaxPageSize <= 0 {
		o.MaxPageSize = 500
	}
	if o.EventsPageSize <= 0 {
		o.EventsPageSize = 25
	}
	if o.UsersPageSize <= 0 {
		o.UsersPageSize = 100
	}
	if o.DirectoryID == "" {
		o.DirectoryID = uuidFrom("directory:" + o.OrgID)
	}

	s := &Server{opts: o, window: map[string]*rateWindow{}}
	s.data = newEventData(o)
	s.routes = s.buildRoutes()
	return s
}

// buildRoutes lists the endpoints. New endpoints (user lifecycle, policies writes) are one more
// line here.
func (s *Server) buildRoutes() []route {
	return append([]route{
		{method: "GET", pattern: split("/admin/v1/orgs"), handle: (*Server).listOrgs},
		{method: "GET", pattern: split("/admin/v1/orgs/{org}"), handle: (*Server).getOrg},
		{method: "GET", pattern: split("/admin/v1/orgs/{org}/event-actions"),
			handle: (*Server).eventActions},
		{method: "GET", pattern: split("/admin/v1/orgs/{org}/events-stream"), scoped: true,
			handle: (*Server).eventsStream},
		{method: "GET", pattern: split("/admin/v1/orgs/{org}/events"), scoped: true,
			handle: (*Server).searchEvents},
		{method: "GET", pattern: split("/admin/v1/orgs/{org}/events/{id}"), scoped: true,
			handle: (*Server).getEvent},
		{method: "GET", pattern: split("/admin/v1/orgs/{org}/users"), scoped: true,
			handle: (*Server).usersV1},
		{method: "POST", pattern: split("/admin/v2/orgs/{org}/directories/{dir}/users/search"),
			scoped: true, handle: (*Server).usersV2Search},
		{method: "GET", pattern: split("/admin/v2/orgs/{org}/directories"),
			handle: (*Server).directories},
		{method: "GET", pattern: split("/admin/v1/orgs/{org}/domains"), handle: (*Server).domains},
		{method: "GET", pattern: split("/admin/v1/orgs/{org}/policies"),
			handle: (*Server).policies},
	}, s.governRoutes()...)
}

func split(p string) []string { return strings.Split(strings.Trim(p, "/"), "/") }

// ServeHTTP records the request, applies faults, authentication, the org check, rate limits
// and routing, in that order.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, 8<<20))
	now := s.opts.Now()
	s.record(r, body, now)
	w.Header().Set("Date", now.UTC().Format(http.TimeFormat))

	f := s.takeFault(r.URL.Path)
	if f != nil && f.Delay > 0 {
		if !wait(r.Context(), f.Delay) {
			return
		}
	}
	if f != nil && f.Malformed {
		rec := &bufferWriter{header: http.Header{}}
		s.serve(rec, r, body, now)
		writeRaw(w, http.StatusOK, nil, rec.buf.Bytes()[:rec.buf.Len()/2])
		return
	}
	if f != nil && f.Status != 0 {
		b := f.Body
		if len(b) == 0 {
			b = s.defaultErrorBody(f.Status, r.URL.Path, now)
		}
		writeRaw(w, f.Status, f.Header, b)
		return
	}
	s.serve(w, r, body, now)
}

// serve is everything after faults: auth, routing, org check, rate limit, handler.
func (s *Server) serve(w http.ResponseWriter, r *http.Request, body []byte, now time.Time) {
	key, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	scoped := ok && s.opts.ScopedKey != "" && key == s.opts.ScopedKey
	if !ok || (key != s.opts.APIKey && !scoped) || key == "" {
		writeJSON(w, http.StatusUnauthorized, nil, proxyError{Code: 401, Message: "Unauthorized"})
		return
	}

	rt, params, allowed := s.match(r.Method, r.URL.Path)
	if rt == nil && len(allowed) > 0 {
		h := http.Header{"Allow": {strings.Join(allowed, ", ")}}
		s.appError(w, h, http.StatusMethodNotAllowed, "ADMIN-405-1", "Method Not Allowed",
			"The method "+r.Method+" is not supported for this resource")
		return
	}
	if rt == nil {
		s.appError(w, nil, http.StatusNotFound, "ADMIN-404-1", "Not Found",
			"The requested resource does not exist")
		return
	}
	if org, has := params["org"]; has && org != s.opts.OrgID {
		s.appError(w, nil, http.StatusNotFound, "ADMIN-404-2", "Not Found",
			"Organization "+org+" was not found")
		return
	}

	if !s.allow(w, r.URL.Path, now) {
		return
	}
	if rt.scoped && scoped {
		s.noPerms(w, r.URL.Path, now)
		return
	}
	rt.handle(s, &call{w: w, r: r, body: body, params: params, now: now})
}

// match finds the route for a path; allowed lists the methods of routes that match the path
// with another method, for 405.
func (s *Server) match(method, path string) (*route, map[string]string, []string) {
	segs := split(path)
	var allowed []string
	for i := range s.routes {
		rt := &s.routes[i]
		params, ok := matchPattern(rt.pattern, segs)
		if !ok {
			continue
		}
		if rt.method == method {
			return rt, params, nil
		}
		allowed = append(allowed, rt.method)
	}
	return nil, nil, allowed
}

func matchPattern(pattern, segs []string) (map[string]string, bool) {
	if len(pattern) != len(segs) {
		return nil, false
	}
	params := map[string]string{}
	for i, p := range pattern {
		if strings.HasPrefix(p, "{") && strings.HasSuffix(p, "}") {
			if segs[i] == "" {
				return nil, false
			}
			params[p[1:len(p)-1]] = segs[i]
			continue
		}
		if p != segs[i] {
			return nil, false
		}
	}
	return params, true
}

// record keeps a copy of the request for Requests.
func (s *Server) record(r *http.Request, body []byte, now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests = append(s.requests, Request{
		Method: r.Method, Path: r.URL.Path, RawQuery: r.URL.RawQuery,
		Header: r.Header.Clone(), Body: body, Time: now,
	})
}

// Requests returns every request received since New or the last ResetRequests, oldest first.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// ResetRequests forgets the recorded requests.
func (s *Server) ResetRequests() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests = nil
}

// Inject queues a fault; faults are tried in the order injected.
func (s *Server) Inject(f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if f.Times == 0 {
		f.Times = 1
	}
	s.faults = append(s.faults, &f)
}

// takeFault returns the first fault matching path and uses up one of its times.
func (s *Server) takeFault(path string) *Fault {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, f := range s.faults {
		if !strings.HasPrefix(path, f.Path) {
			continue
		}
		if f.After > 0 {
			f.After--
			continue
		}
		if f.Times > 0 {
			f.Times--
			if f.Times == 0 {
				s.faults = append(s.faults[:i:i], s.faults[i+1:]...)
			}
		}
		return f
	}
	return nil
}

// ExpireCursors makes every cursor issued so far stale (400 ADMIN-400-1), as happens to a cursor
// kept too long. Fixture cursor aliases stay valid.
func (s *Server) ExpireCursors() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.gen++
}

func wait(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// rateWindow counts requests in one clock minute.
type rateWindow struct {
	minute time.Time
	count  int
}

// allow applies PerMinute and EventsPerMinute and writes the 429 answer when over.
func (s *Server) allow(w http.ResponseWriter, path string, now time.Time) bool {
	type limit struct {
		key string
		n   int
	}
	limits := []limit{{"all", s.opts.PerMinute}}
	if strings.HasSuffix(path, "/events") {
		limits = append(limits, limit{"events", s.opts.EventsPerMinute})
	}

	minute := now.UTC().Truncate(time.Minute)
	reset := minute.Add(time.Minute)
	s.mu.Lock()
	defer s.mu.Unlock()

	var tightest *limit
	remaining := -1
	for i := range limits {
		l := &limits[i]
		if l.n <= 0 {
			continue
		}
		win := s.window[l.key]
		if win == nil || !win.minute.Equal(minute) {
			win = &rateWindow{minute: minute}
			s.window[l.key] = win
		}
		if win.count >= l.n {
			h := rateHeaders(l.n, 0, reset)
			if s.opts.SendRetryAfter {
				secs := int((reset.Sub(now) + time.Second - 1) / time.Second)
				h.Set("Retry-After", strconv.Itoa(secs))
			}
			writeJSON(w, http.StatusTooManyRequests, h,
				proxyError{Code: 429, Message: "Rate limit exceeded"})
			return false
		}
		if left := l.n - win.count - 1; remaining < 0 || left < remaining {
			remaining, tightest = left, l
		}
	}
	for _, l := range limits {
		if l.n > 0 {
			s.window[l.key].count++
		}
	}
	if tightest != nil {
		for k, v := range rateHeaders(tightest.n, remaining, reset) {
			w.Header()[k] = v
		}
	}
	return true
}

func rateHeaders(limit, remaining int, reset time.Time) http.Header {
	h := http.Header{}
	h.Set("X-RateLimit-Limit", strconv.Itoa(limit))
	h.Set("X-RateLimit-Remaining", strconv.Itoa(remaining))
	h.Set("X-RateLimit-Reset", reset.UTC().Format("2006-01-02T15:04Z"))
	return h
}

// Error bodies, in the four shapes the reference lists.

type proxyError struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
}

type appErrorItem struct {
	ID     string `json:"id"`
	Status string `json:"status"`
	Code   string `json:"code"`
	Title  string `json:"title"`
	Detail string `json:"detail"`
}

type appErrors struct {
	Errors []appErrorItem `json:"errors"`
}

type noPermsError struct {
	Timestamp string `json:"timestamp"`
	Path      string `json:"path"`
	Status    int    `json:"status"`
	Error     string `json:"error"`
	Message   string `json:"message"`
	RequestID string `json:"requestId"`
}

func (s *Server) nextID(kind string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.idCounter++
	return uuidFrom(fmt.Sprintf("%s:%s:%d", kind, s.opts.OrgID, s.idCounter))
}

func (s *Server) appErrorBody(status int, code, title, detail string) appErrors {
	return appErrors{Errors: []appErrorItem{{
		ID: s.nextID("error"), Status: strconv.Itoa(status), Code: code, Title: title,
		Detail: detail,
	}}}
}

func (s *Server) appError(w http.ResponseWriter, h http.Header, status int, code, title,
	detail string) {
	writeJSON(w, status, h, s.appErrorBody(status, code, title, detail))
}

func (s *Server) badCursor(w http.ResponseWriter) {
	s.appError(w, nil, http.StatusBadRequest, "ADMIN-400-1", "Bad Request",
		"The page cursor is invalid or has expired")
}

func (s *Server) noPermsBody(path string, now time.Time) noPermsError {
	s.mu.Lock()
	s.idCounter++
	n := s.idCounter
	s.mu.Unlock()
	return noPermsError{
		Timestamp: now.UTC().Format("2006-01-02T15:04:05.000-07:00"),
		Path:      "/api" + path, Status: 403, Error: "Forbidden",
		Message:   "User has no permission to access resource.",
		RequestID: fmt.Sprintf("%012x-%06d", uint64(len(path))*0x9e3779b9, n),
	}
}

func (s *Server) noPerms(w http.ResponseWriter, path string, now time.Time) {
	writeJSON(w, http.StatusForbidden, nil, s.noPermsBody(path, now))
}

// defaultErrorBody is the body a fault with only a Status gets: the shape Atlassian uses for
// that status.
func (s *Server) defaultErrorBody(status int, path string, now time.Time) []byte {
	var v any
	switch status {
	case http.StatusUnauthorized:
		v = proxyError{Code: 401, Message: "Unauthorized"}
	case http.StatusTooManyRequests:
		v = proxyError{Code: 429, Message: "Rate limit exceeded"}
	case http.StatusForbidden:
		v = s.noPermsBody(path, now)
	default:
		code := fmt.Sprintf("ADMIN-%d-1", status)
		v = s.appErrorBody(status, code, http.StatusText(status), "Injected fault")
	}
	b, _ := json.Marshal(v)
	return b
}

// Writing responses.

func writeJSON(w http.ResponseWriter, status int, h http.Header, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		b = []byte(`{"errors":[{"status":"500","code":"ADMIN-500-1",` +
			`"title":"Internal Server Error"}]}`)
	}
	writeRaw(w, status, h, b)
}

func writeRaw(w http.ResponseWriter, status int, h http.Header, b []byte) {
	w.Header().Set("Content-Type", "application/json")
	for k, v := range h {
		w.Header()[k] = v
	}
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// bufferWriter captures a response so a Malformed fault can truncate it.
type bufferWriter struct {
	header http.Header
	buf    bytes.Buffer
}

func (b *bufferWriter) Header() http.Header         { return b.header }
func (b *bufferWriter) WriteHeader(int)             {}
func (b *bufferWriter) Write(p []byte) (int, error) { return b.buf.Write(p) }

// baseURL is the fake's own /admin base as the client reached it, so full-URL links lead back
// to the fake.
func baseURL(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host + "/admin"
}

// selfURL is the request's own URL, for links.self.
func selfURL(r *http.Request) string {
	u := baseURL(r) + strings.TrimPrefix(r.URL.Path, "/admin")
	if r.URL.RawQuery != "" {
		u += "?" + r.URL.RawQuery
	}
	return u
}
