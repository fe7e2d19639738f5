package atlassian

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// fixtureDir holds the shared fixtures, relative to this package.
const fixtureDir = "../../../shared/fixtures/atlassian"

const (
	testOrgID = "8c3f6a2e-0b1d-4c5e-9f7a-2d4b6e8f0a1c"
	testKey   = "test-key-DO-NOT-LEAK-0123456789"
)

func fixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(fixtureDir, name))
	if err != nil {
		t.Fatalf("read fixture: %v", err)
	}
	return b
}

// fakeClock is a clock whose Sleep advances time instead of waiting.
type fakeClock struct {
	mu     sync.Mutex
	t      time.Time
	sleeps []time.Duration
}

func newFakeClock(t time.Time) *fakeClock { return &fakeClock{t: t} }

func (f *fakeClock) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.t
}

func (f *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.t = f.t.Add(d)
	f.sleeps = append(f.sleeps, d)
	return nil
}

// longSleeps returns the sleeps of at least 1 ms, leaving out sub-millisecond limiter pacing.
func (f *fakeClock) longSleeps() []time.Duration {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []time.Duration
	for _, d := range f.sleeps {
		if d >= time.Millisecond {
			out = append(out, d)
		}
	}
	return out
}

// seenRequest is what a test server recorded about one request.
type seenRequest struct {
	Method, Path, RawPath, Query string
	Header                       http.Header
	Body                         []byte
	At                           time.Time
}

// recorder wraps a handler and records every request it serves.
type recorder struct {
	mu    sync.Mutex
	reqs  []seenRequest
	clock *fakeClock
	h     http.HandlerFunc
}

func (rec *recorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	r.Body = io.NopCloser(bytes.NewReader(body))
	s := seenRequest{
		Method: r.Method, Path: r.URL.Path, RawPath: r.URL.EscapedPath(),
		Query: r.URL.RawQuery, Header: r.Header.Clone(), Body: body,
	}
	if rec.clock != nil {
		s.At = rec.clock.Now()
	}
	rec.mu.Lock()
	rec.reqs = append(rec.reqs, s)
	rec.mu.Unlock()
	rec.h(w, r)
}

func (rec *recorder) requests() []seenRequest {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return append([]seenRequest(nil), rec.reqs...)
}

// testEnv is a client wired to a recording test server and a fake clock.
type testEnv struct {
	client *Client
	srv    *httptest.Server
	rec    *recorder
	clock  *fakeClock
}

// newEnv starts a server running h and a client for it; opt may adjust the config.
func newEnv(t *testing.T, h http.HandlerFunc, opt ...func(*Config)) *testEnv {
	t.Helper()
	clock := newFakeClock(time.Date(2026, 11, 18, 12, 0, 0, 0, time.UTC))
	rec := &recorder{h: h, clock: clock}
	srv := httptest.NewServer(rec)
	t.Cleanup(srv.Close)

	cfg := Config{
		BaseURL: srv.URL + "/",
		OrgID:   testOrgID,
		APIKey:  testKey,
		Logger:  slog.New(slog.NewTextHandler(io.Discard, nil)),
		Sleep:   clock.Sleep,
		Now:     clock.Now,
	}
	for _, o := range opt {
		o(&cfg)
	}
	c, err := New(cfg)
	if err != nil {
		t.Fatalf("new client: %v", err)
	}
	return &testEnv{client: c, srv: srv, rec: rec, clock: clock}
}

// serveJSON writes body with a JSON content type and the given status.
func serveJSON(w http.ResponseWriter, status int, body []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// orgPath is the org prefix of every path the test servers see.
func orgPath(version, rest string) string {
	return "/admin/" + version + "/orgs/" + testOrgID + rest
}

func discardLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }
