package app

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"
)

const (
	testAddr  = "127.0.0.1:8089"
	testHost  = "127.0.0.1:8089"
	testToken = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
)

var testAssets = fstest.MapFS{
	"index.html": {Data: []byte("<!doctype html><title>Warden</title>")},
	"app.js":     {Data: []byte("// app")},
	"bridge.js":  {Data: []byte("// desktop: Wails injects window.go")},
}

// fakeFacade stands in for *API where a test needs behaviour the real facade does not have.
type fakeFacade struct{}

func (fakeFacade) Add(a, b int) (int, error) { return a + b, nil }
func (fakeFacade) Fail() error               { return errors.New("it failed") }
func (fakeFacade) Boom() string              { panic("boom") }
func (fakeFacade) Nothing()                  {}

// session signs in with the token link and returns the cookie and the CSRF token from
// /bridge.js.
func session(t *testing.T, h http.Handler) (*http.Cookie, string) {
	t.Helper()

	rec := do(h, http.MethodGet, "/?token="+testToken, nil, nil)
	if rec.Code != http.StatusSeeOther {
		t.Fatalf("sign-in status = %d, want 303", rec.Code)
	}
	cookies := rec.Result().Cookies()
	if len(cookies) != 1 {
		t.Fatalf("sign-in set %d cookies, want 1", len(cookies))
	}

	rec = do(h, http.MethodGet, "/bridge.js", nil, func(r *http.Request) { r.AddCookie(cookies[0]) })
	m := regexp.MustCompile(`var csrf = "([0-9a-f]{64})"`).FindStringSubmatch(rec.Body.String())
	if rec.Code != http.StatusOK || m == nil {
		t.Fatalf("bridge.js status %d without a CSRF token:\n%s", rec.Code, rec.Body)
	}
	return cookies[0], m[1]
}

func do(h http.Handler, method, target string, body []byte,
	edit func(*http.Request)) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, "http://"+testHost+target, bytes.NewReader(body))
	if edit != nil {
		edit(req)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func callBody(name string, args ...any) []byte {
	if args == nil {
		args = []any{}
	}
	b, _ := json.Marshal(map[string]any{"name": name, "args": args})
	return b
}

func TestServeRefusesRequests(t *testing.T) {
	h := newServeHandler(ServeOptions{Addr: testAddr, API: &API{}, Assets: testAssets}, testToken)
	cookie, csrf := session(t, h)

	withSession := func(r *http.Request) { r.AddCookie(cookie) }
	withCall := func(r *http.Request) {
		r.AddCookie(cookie)
		r.Header.Set(csrfHeader, csrf)
	}
	status := callBody("app.API.Status")

	tests := []struct {
		name   string
		method string
		target string
		body   []byte
		edit   func(*http.Request)
		want   int
	}{
		{"foreign host", "GET", "/", nil, func(r *http.Request) {
			withSession(r)
			r.Host = "evil.example.com:8089"
		}, http.StatusForbidden},
		{"loopback host on another port", "GET", "/", nil, func(r *http.Request) {
			withSession(r)
			r.Host = "127.0.0.1:9999"
		}, http.StatusForbidden},
		{"foreign host with token", "GET", "/?token=" + testToken, nil, func(r *http.Request) {
			r.Host = "rebind.example.net:8089"
		}, http.StatusForbidden},
		{"no token no cookie", "GET", "/", nil, nil, http.StatusUnauthorized},
		{"no cookie on asset", "GET", "/app.js", nil, nil, http.StatusUnauthorized},
		{"no cookie on bridge", "GET", "/bridge.js", nil, nil, http.StatusUnauthorized},
		{"wrong token", "GET", "/?token=" + strings.Repeat("0", 64), nil, nil,
			http.StatusUnauthorized},
		{"empty token", "GET", "/?token=", nil, nil, http.StatusUnauthorized},
		{"unknown cookie", "GET", "/", nil, func(r *http.Request) {
			r.AddCookie(&http.Cookie{Name: cookie.Name, Value: strings.Repeat("a", 64)})
		}, http.StatusUnauthorized},
		{"no cookie on call", "POST", "/api/call", status, func(r *http.Request) {
			r.Header.Set(csrfHeader, csrf)
		}, http.StatusUnauthorized},
		{"missing csrf", "POST", "/api/call", status, withSession, http.StatusForbidden},
		{"wrong csrf", "POST", "/api/call", status, func(r *http.Request) {
			withSession(r)
			r.Header.Set(csrfHeader, strings.Repeat("f", 64))
		}, http.StatusForbidden},
		{"cross origin call", "POST", "/api/call", status, func(r *http.Request) {
			withCall(r)
			r.Header.Set("Origin", "http://evil.example.com")
		}, http.StatusForbidden},
		{"null origin", "POST", "/api/call", status, func(r *http.Request) {
			withCall(r)
			r.Header.Set("Origin", "null")
		}, http.StatusForbidden},
		{"cross origin asset", "GET", "/", nil, func(r *http.Request) {
			withSession(r)
			r.Header.Set("Origin", "http://127.0.0.1:9999")
		}, http.StatusForbidden},
		{"cross-site call with valid session and csrf", "POST", "/api/call", status,
			func(r *http.Request) {
				withCall(r)
				r.Header.Set("Sec-Fetch-Site", "cross-site")
			}, http.StatusForbidden},
		{"GET on api", "GET", "/api/call", nil, withCall, http.StatusMethodNotAllowed},
		{"POST on asset", "POST", "/index.html", nil, withCall, http.StatusMethodNotAllowed},
		{"PUT on asset", "PUT", "/", nil, withSession, http.StatusMethodNotAllowed},
		{"body too large", "POST", "/api/call", bytes.Repeat([]byte(" "), maxCallBody+10),
			withCall, http.StatusRequestEntityTooLarge},
		{"malformed body", "POST", "/api/call", []byte("{"), withCall, http.StatusBadRequest},

		{"same origin call", "POST", "/api/call", status, func(r *http.Request) {
			withCall(r)
			r.Header.Set("Origin", "http://"+testHost)
		}, http.StatusOK},
		{"localhost host", "GET", "/", nil, func(r *http.Request) {
			withSession(r)
			r.Host = "localhost:8089"
		}, http.StatusOK},
		{"ipv6 loopback host", "GET", "/", nil, func(r *http.Request) {
			withSession(r)
			r.Host = "[::1]:8089"
		}, http.StatusOK},
		{"asset with session", "GET", "/app.js", nil, withSession, http.StatusOK},
		{"HEAD with session", "HEAD", "/", nil, withSession, http.StatusOK},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec := do(h, tc.method, tc.target, tc.body, tc.edit)
			if rec.Code != tc.want {
				t.Errorf("status = %d, want %d; body %q", rec.Code, tc.want, rec.Body)
			}
			if got := rec.Header().Get("Content-Security-Policy"); got != contentSecurityPolicy {
				t.Errorf("CSP = %q", got)
			}
			for k, v := range map[string]string{
				"X-Content-Type-Options": "nosniff",
				"Referrer-Policy":        "no-referrer",
				"X-Frame-Options":        "DENY",
			} {
				if got := rec.Header().Get(k); got != v {
					t.Errorf("%s = %q, want %q", k, got, v)
				}
			}
			for k := range rec.Header() {
				if strings.HasPrefix(k, "Access-Control-") {
					t.Errorf("CORS header %s sent", k)
				}
			}
			if rec.Code == http.StatusUnauthorized &&
				!strings.Contains(rec.Body.String(), "warden serve") {
				t.Errorf("401 body does not say what to do: %q", rec.Body)
			}
		})
	}
}

func TestServeSignIn(t *testing.T) {
	h := newServeHandler(ServeOptions{Addr: testAddr, API: &API{}, Assets: testAssets}, testToken)

	rec := do(h, http.MethodGet, "/?token="+testToken, nil, nil)
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/" {
		t.Fatalf("status %d, Location %q; want 303 to /", rec.Code, rec.Header().Get("Location"))
	}

	c := rec.Result().Cookies()[0]
	if !c.HttpOnly || c.SameSite != http.SameSiteStrictMode || c.Path != "/" {
		t.Errorf("cookie %+v: want HttpOnly, SameSite=Strict, Path=/", c)
	}
	if c.Name != "warden_session_8089" || len(c.Value) != 64 || c.Value == testToken {
		t.Errorf("cookie %s=%s: want a fresh 64-hex session id", c.Name, c.Value)
	}

	rec = do(h, http.MethodGet, "/", nil, func(r *http.Request) { r.AddCookie(c) })
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), "<title>Warden") {
		t.Errorf("index with cookie: status %d body %q", rec.Code, rec.Body)
	}

	// The token link keeps working, for a second tab or browser.
	rec = do(h, http.MethodGet, "/?token="+testToken, nil, nil)
	if rec.Code != http.StatusSeeOther {
		t.Errorf("second sign-in status = %d, want 303", rec.Code)
	}
}

func TestServeSessionsHaveOwnCSRF(t *testing.T) {
	h := newServeHandler(ServeOptions{Addr: testAddr, API: &API{}}, testToken)
	c1, csrf1 := session(t, h)
	_, csrf2 := session(t, h)
	if csrf1 == csrf2 {
		t.Fatal("two sessions share a CSRF token")
	}

	rec := do(h, http.MethodPost, "/api/call", callBody("app.API.Status"), func(r *http.Request) {
		r.AddCookie(c1)
		r.Header.Set(csrfHeader, csrf2)
	})
	if rec.Code != http.StatusForbidden {
		t.Errorf("other session's CSRF: status %d, want 403", rec.Code)
	}
}

func TestServeBridge(t *testing.T) {
	h := newServeHandler(ServeOptions{Addr: testAddr, API: &API{}, Assets: testAssets}, testToken)
	cookie, _ := session(t, h)

	rec := do(h, http.MethodGet, "/bridge.js", nil, func(r *http.Request) { r.AddCookie(cookie) })
	js := rec.Body.String()
	if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/javascript") {
		t.Errorf("Content-Type = %q", ct)
	}
	if cc := rec.Header().Get("Cache-Control"); cc != "no-store" {
		t.Errorf("Cache-Control = %q, want no-store", cc)
	}
	for _, want := range []string{`pkg = "app"`, `struct = "API"`, `"Status"`, `"QueryEvents"`,
		`"X-Warden-CSRF"`, "WindowSetTitle", "BrowserOpenURL", "LogError", "EventsOn"} {
		if !strings.Contains(js, want) {
			t.Errorf("bridge.js lacks %s", want)
		}
	}
	if strings.Contains(js, "desktop: Wails injects") {
		t.Error("served the embedded desktop bridge.js instead of the generated one")
	}
}

func TestServeDispatch(t *testing.T) {
	tests := []struct {
		name      string
		bound     any
		body      []byte
		wantOK    bool   // a result, not an error
		wantError string // substring of the error, when !wantOK
		wantJSON  string // exact result JSON, when set
	}{
		{"real API Status", &API{}, callBody("app.API.Status"), false, "", ""},
		{"unknown method", &API{}, callBody("app.API.DropDatabase"), false, "unknown method", ""},
		{"wrong struct", &API{}, callBody("main.App.Status"), false, "unknown method", ""},
		{"unexported method", &API{}, callBody("app.API.core"), false, "unknown method", ""},
		{"too many args", &API{}, callBody("app.API.Status", 1), false, "takes 0 arguments", ""},
		{"bad arg type", &API{}, callBody("app.API.SyncNow", 42), false, "argument 1", ""},
		{"result", fakeFacade{}, callBody("app.fakeFacade.Add", 20, 22), true, "", "42"},
		{"error return", fakeFacade{}, callBody("app.fakeFacade.Fail"), false, "it failed", ""},
		{"panic", fakeFacade{}, callBody("app.fakeFacade.Boom"), false, "internal error", ""},
		{"no return", fakeFacade{}, callBody("app.fakeFacade.Nothing"), true, "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var logs bytes.Buffer
			o := ServeOptions{Addr: testAddr, Logger: slog.New(slog.NewTextHandler(&logs, nil))}
			h := newHandlerFor(o, testToken, tc.bound)
			cookie, csrf := session(t, h)

			rec := do(h, http.MethodPost, "/api/call", tc.body, func(r *http.Request) {
				r.AddCookie(cookie)
				r.Header.Set(csrfHeader, csrf)
			})
			if rec.Code != http.StatusOK {
				t.Fatalf("status %d: %s", rec.Code, rec.Body)
			}
			if cc := rec.Header().Get("Cache-Control"); cc != "no-store" {
				t.Errorf("Cache-Control = %q, want no-store", cc)
			}

			var resp struct {
				Result json.RawMessage `json:"result"`
				Error  *string         `json:"error"`
			}
			if err := json.Unmarshal(rec.Body.Bytes(), &resp); err != nil {
				t.Fatalf("response is not JSON: %v: %s", err, rec.Body)
			}
			if resp.Error != nil && resp.Result != nil {
				t.Fatalf("both result and error: %s", rec.Body)
			}
			if tc.wantOK && resp.Error != nil {
				t.Fatalf("error %q, want a result", *resp.Error)
			}
			if !tc.wantOK && tc.wantError != "" {
				if resp.Error == nil || !strings.Contains(*resp.Error, tc.wantError) {
					t.Fatalf("got %s, want an error containing %q", rec.Body, tc.wantError)
				}
			}
			if !tc.wantOK && tc.wantError == "" && resp.Error == nil && resp.Result == nil {
				t.Fatalf("neither result nor error: %s", rec.Body)
			}
			if tc.wantJSON != "" && string(resp.Result) != tc.wantJSON {
				t.Errorf("result %s, want %s", resp.Result, tc.wantJSON)
			}
			if tc.name == "panic" && !strings.Contains(logs.String(), "api method panicked") {
				t.Errorf("panic not logged: %s", logs.String())
			}
		})
	}
}

func TestServeRefusesNonLoopback(t *testing.T) {
	for _, addr := range []string{"0.0.0.0:0", ":0", "[::]:0", "192.0.2.1:8089",
		"example.com:80", "127.0.0.1", "127.0.0.1:http-alt-bogus"} {
		t.Run(addr, func(t *testing.T) {
			err := Serve(context.Background(), ServeOptions{Addr: addr, API: &API{}})
			if err == nil {
				t.Fatalf("Serve(%q) accepted a non-loopback or malformed address", addr)
			}
		})
	}
}

// lockedBuffer lets the test read what Serve prints while Serve is still running.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func TestServeEndToEnd(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	out := &lockedBuffer{}
	done := make(chan error, 1)
	go func() {
		done <- Serve(ctx, ServeOptions{Addr: "127.0.0.1:0", API: &API{}, Assets: testAssets,
			Out: out})
	}()

	urlRE := regexp.MustCompile(`http://127\.0\.0\.1:(\d+)/\?token=([0-9a-f]{64})`)
	var m []string
	for range 200 {
		if m = urlRE.FindStringSubmatch(out.String()); m != nil {
			break
		}
		// Polling real I/O from another goroutine; no clock to fake here.
		time.Sleep(10 * time.Millisecond)
	}
	if m == nil {
		t.Fatalf("no opening URL printed: %q", out.String())
	}
	if m[1] == "0" {
		t.Fatal("printed port 0 instead of the real port")
	}

	jar, _ := cookiejar.New(nil)
	client := &http.Client{Jar: jar}
	resp, err := client.Get(m[0])
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "<title>Warden") {
		t.Fatalf("token link: status %d body %q", resp.StatusCode, body)
	}
	if resp.Request.URL.RawQuery != "" {
		t.Errorf("redirect kept the query %q", resp.Request.URL.RawQuery)
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Serve returned %v after cancel", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Serve did not stop after cancel")
	}
}
