package atlassian_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"warden/backend/atlassian"
	"warden/backend/atlassian/fake"
)

const (
	fakeFixtures = "fake/testdata/atlassian"
	hana         = "712020:9c4e7a15-2b8f-4d63-a0e1-7f5b3d9c2a86"
	noah         = "5f3c6e9a1d4b7e0c2f5a8d1b"
	emile        = "61b4d7e0a3c6f9b2e5d8a1c4"
)

// sleeper is a fake clock: Sleep advances it and returns at once.
type sleeper struct {
	mu sync.Mutex
	t  time.Time
}

func (s *sleeper) Now() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.t
}

func (s *sleeper) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.t = s.t.Add(d)
	return nil
}

type govEnv struct {
	fake   *fake.Server
	client *atlassian.Client
	dir    string
}

// newGovEnv serves the fixtures' fake and a client with a short HTTP timeout (so a delayed
// answer times out quickly) and a fake clock for backoff.
func newGovEnv(t *testing.T) *govEnv {
	t.Helper()
	o, err := fake.LoadFixtures(fakeFixtures)
	if err != nil {
		t.Fatal(err)
	}
	f := fake.New(o)
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	clock := &sleeper{t: time.Date(2026, 11, 19, 9, 0, 0, 0, time.UTC)}
	c, err := atlassian.New(atlassian.Config{
		BaseURL: srv.URL, OrgID: o.OrgID, APIKey: o.APIKey,
		HTTPClient: &http.Client{Timeout: 300 * time.Millisecond},
		Logger:     slog.New(slog.NewTextHandler(io.Discard, nil)),
		Sleep:      clock.Sleep, Now: clock.Now,
	})
	if err != nil {
		t.Fatal(err)
	}
	dirs, err := c.Directories(context.Background(), hana)
	if err != nil || len(dirs) != 1 || dirs[0].DirectoryID == "" {
		t.Fatalf("directories: %v %+v", err, dirs)
	}
	f.ResetRequests()
	return &govEnv{fake: f, client: c, dir: dirs[0].DirectoryID}
}

// calls lists the recorded requests as "METHOD path", without the org prefix noise.
func (e *govEnv) calls() []string {
	var out []string
	for _, r := range e.fake.Requests() {
		out = append(out, r.Method+" "+r.Path)
	}
	return out
}

func (e *govEnv) mutations() []string {
	var out []string
	for _, c := range e.calls() {
		if !strings.HasPrefix(c, "GET ") {
			out = append(out, c)
		}
	}
	return out
}

func TestGovernClientCalls(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name  string
		setup func(e *govEnv)
		run   func(e *govEnv) error
		want  []string // every request, in order; {dir} and {org} are filled in
		check func(t *testing.T, e *govEnv, err error)
	}{
		{
			name: "v2 suspend",
			run:  func(e *govEnv) error { return e.client.SuspendUser(ctx, e.dir, hana) },
			want: []string{"POST /admin/v2/orgs/{org}/directories/{dir}/users/" + hana + "/suspend"},
			check: func(t *testing.T, e *govEnv, err error) {
				if u, _ := e.fake.User(hana); err != nil || !atlassian.IsSuspended(u) {
					t.Fatalf("err %v, user %+v", err, u)
				}
			},
		},
		{
			name: "v1 fallback when the v2 path is missing",
			setup: func(e *govEnv) {
				e.fake.Inject(fake.Fault{Path: "/admin/v2/", Status: http.StatusNotFound})
			},
			run: func(e *govEnv) error { return e.client.SuspendUser(ctx, e.dir, hana) },
			want: []string{
				"POST /admin/v2/orgs/{org}/directories/{dir}/users/" + hana + "/suspend",
				"POST /admin/v1/orgs/{org}/directory/users/" + hana + "/suspend-access",
			},
			check: func(t *testing.T, e *govEnv, err error) {
				if u, _ := e.fake.User(hana); err != nil || !atlassian.IsSuspended(u) {
					t.Fatalf("err %v, user %+v", err, u)
				}
			},
		},
		{
			name: "unknown user is final, no fallback",
			run:  func(e *govEnv) error { return e.client.SuspendUser(ctx, e.dir, "nobody") },
			want: []string{"POST /admin/v2/orgs/{org}/directories/{dir}/users/nobody/suspend"},
			check: func(t *testing.T, e *govEnv, err error) {
				if !errors.Is(err, atlassian.ErrNotFound) {
					t.Fatalf("err = %v", err)
				}
			},
		},
		{
			name: "restore of a suspended SCIM user",
			run:  func(e *govEnv) error { return e.client.RestoreUser(ctx, e.dir, noah) },
			want: []string{"POST /admin/v2/orgs/{org}/directories/{dir}/users/" + noah + "/restore"},
		},
		{
			name: "SCIM disable: 403 forbidden.action, not retried",
			run:  func(e *govEnv) error { return e.client.DisableAccount(ctx, noah, "") },
			want: []string{"POST /users/" + noah + "/manage/lifecycle/disable"},
			check: func(t *testing.T, e *govEnv, err error) {
				var apiErr *atlassian.APIError
				if !errors.As(err, &apiErr) || !errors.Is(err, atlassian.ErrForbidden) ||
					apiErr.Key != "forbidden.action" || apiErr.Reason != "externalDirectory.scim" {
					t.Fatalf("err = %#v", err)
				}
			},
		},
		{
			name: "unknown account: 404 accountNotFound",
			run:  func(e *govEnv) error { return e.client.EnableAccount(ctx, "nobody") },
			want: []string{"POST /users/nobody/manage/lifecycle/enable"},
			check: func(t *testing.T, e *govEnv, err error) {
				var apiErr *atlassian.APIError
				if !errors.As(err, &apiErr) || apiErr.Key != "accountNotFound" ||
					!errors.Is(err, atlassian.ErrNotFound) {
					t.Fatalf("err = %v", err)
				}
			},
		},
		{
			name: "timeout after apply: re-read, not re-sent",
			setup: func(e *govEnv) {
				e.fake.InjectAfterApply(fake.AfterApply{Path: "/admin/v2/", Delay: 5 * time.Second})
			},
			run: func(e *govEnv) error { return e.client.SuspendUser(ctx, e.dir, hana) },
			want: []string{
				"POST /admin/v2/orgs/{org}/directories/{dir}/users/" + hana + "/suspend",
				"GET /admin/v2/orgs/{org}/directories/{dir}/users/" + hana,
			},
		},
		{
			name: "500 after apply: re-read, not re-sent",
			setup: func(e *govEnv) {
				e.fake.InjectAfterApply(fake.AfterApply{Status: http.StatusInternalServerError})
			},
			run: func(e *govEnv) error { return e.client.DisableAccount(ctx, hana, "bye") },
			want: []string{
				"POST /users/" + hana + "/manage/lifecycle/disable",
				"GET /users/" + hana + "/manage/profile",
			},
		},
		{
			name: "503 before apply: re-read says not applied, sent again",
			setup: func(e *govEnv) {
				e.fake.Inject(fake.Fault{Path: "/users/", Status: http.StatusServiceUnavailable})
			},
			run: func(e *govEnv) error { return e.client.DisableAccount(ctx, hana, "bye") },
			want: []string{
				"POST /users/" + hana + "/manage/lifecycle/disable",
				"GET /users/" + hana + "/manage/profile",
				"POST /users/" + hana + "/manage/lifecycle/disable",
			},
		},
		{
			name: "429 storm: refused requests are re-sent without re-reading",
			setup: func(e *govEnv) {
				e.fake.Inject(fake.Fault{Path: "/admin/v2/", Status: http.StatusTooManyRequests,
					Times: 3})
			},
			run: func(e *govEnv) error { return e.client.SuspendUser(ctx, e.dir, hana) },
			want: []string{
				"POST /admin/v2/orgs/{org}/directories/{dir}/users/" + hana + "/suspend",
				"POST /admin/v2/orgs/{org}/directories/{dir}/users/" + hana + "/suspend",
				"POST /admin/v2/orgs/{org}/directories/{dir}/users/" + hana + "/suspend",
				"POST /admin/v2/orgs/{org}/directories/{dir}/users/" + hana + "/suspend",
			},
		},
		{
			name: "endless 429: rate limited, after the retries",
			setup: func(e *govEnv) {
				e.fake.Inject(fake.Fault{Path: "/admin/v2/", Status: http.StatusTooManyRequests,
					Times: -1})
			},
			run: func(e *govEnv) error { return e.client.SuspendUser(ctx, e.dir, hana) },
			check: func(t *testing.T, e *govEnv, err error) {
				if !errors.Is(err, atlassian.ErrRateLimited) || len(e.mutations()) != 7 {
					t.Fatalf("err %v after %d sends", err, len(e.mutations()))
				}
				if u, _ := e.fake.User(hana); atlassian.IsSuspended(u) {
					t.Fatal("suspended despite 429s")
				}
			},
		},
		{
			name: "answer lost and state unreadable: outcome unknown, not re-sent",
			setup: func(e *govEnv) {
				e.fake.InjectAfterApply(fake.AfterApply{Status: http.StatusBadGateway})
				e.fake.Inject(fake.Fault{Path: "/users/" + hana + "/manage/profile",
					Status: http.StatusInternalServerError, Times: -1})
			},
			run: func(e *govEnv) error { return e.client.DisableAccount(ctx, hana, "") },
			check: func(t *testing.T, e *govEnv, err error) {
				if !errors.Is(err, atlassian.ErrOutcomeUnknown) || len(e.mutations()) != 1 {
					t.Fatalf("err %v after %d sends", err, len(e.mutations()))
				}
			},
		},
		{
			name: "token delete timing out after apply counts as done",
			setup: func(e *govEnv) {
				e.fake.InjectAfterApply(fake.AfterApply{Delay: 5 * time.Second})
			},
			run: func(e *govEnv) error {
				return e.client.DeleteAPIToken(ctx, emile, e.fake.Tokens(emile)[0].ID)
			},
			check: func(t *testing.T, e *govEnv, err error) {
				if err != nil || len(e.mutations()) != 1 || len(e.fake.Tokens(emile)) != 1 {
					t.Fatalf("err %v, calls %v", err, e.calls())
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newGovEnv(t)
			if tt.setup != nil {
				tt.setup(e)
			}
			err := tt.run(e)
			if tt.want != nil {
				got := e.calls()
				org := "8c3f6a2e-0b1d-4c5e-9f7a-2d4b6e8f0a1c"
				if len(got) != len(tt.want) {
					t.Fatalf("calls:\n%s\nwant:\n%s", strings.Join(got, "\n"),
						strings.Join(tt.want, "\n"))
				}
				for i, w := range tt.want {
					w = strings.ReplaceAll(strings.ReplaceAll(w, "{dir}", e.dir), "{org}", org)
					if got[i] != w {
						t.Errorf("call %d = %s, want %s", i, got[i], w)
					}
				}
			}
			if tt.check != nil {
				tt.check(t, e, err)
			} else if err != nil {
				t.Fatalf("err = %v", err)
			}
		})
	}
}

func TestGovernClientReads(t *testing.T) {
	e := newGovEnv(t)
	ctx := context.Background()

	u, err := e.client.LookupUser(ctx, "HANA.SATO@example.com")
	if err != nil || u.AccountID != hana {
		t.Fatalf("lookup by email: %v %+v", err, u)
	}
	if u, err := e.client.LookupUser(ctx, noah); err != nil || u.ManagementSource != "synced" {
		t.Fatalf("lookup by id: %v %+v", err, u)
	}
	if _, err := e.client.LookupUser(ctx, "ghost@example.com"); !errors.Is(err,
		atlassian.ErrNotFound) {
		t.Fatalf("lookup unknown: %v", err)
	}
	d, err := e.client.UserDetails(ctx, e.dir, noah)
	if err != nil || !atlassian.IsSuspended(d) {
		t.Fatalf("noah details: %v %+v", err, d)
	}

	rules, err := e.client.Permissions(ctx, noah, atlassian.PrivLifecycle, "profile.write")
	if err != nil {
		t.Fatal(err)
	}
	if r := rules[atlassian.PrivLifecycle]; r.Allowed || r.Reason != "externalDirectory.scim" {
		t.Errorf("lifecycle rule %+v", r)
	}
	if r, ok := rules["profile.write.name"]; !ok || r.Allowed {
		t.Errorf("profile.write.name rule %+v (flattened field rules)", r)
	}
	if r := rules["profile.write.nickname"]; !r.Allowed {
		t.Errorf("profile.write.nickname rule %+v", r)
	}

	tokens, err := e.client.APITokens(ctx, emile)
	if err != nil || len(tokens) != 2 || tokens[0].Label == "" {
		t.Fatalf("tokens: %v %+v", err, tokens)
	}
	acct, err := e.client.Profile(ctx, emile)
	if err != nil || acct.AccountStatus != "active" || acct.Email == "" {
		t.Fatalf("profile: %v %+v", err, acct)
	}

	// The recorder sees every governance request, never the key.
	var mu sync.Mutex
	var seen []atlassian.Exchange
	rctx := atlassian.WithRecorder(ctx, func(x atlassian.Exchange) {
		mu.Lock()
		defer mu.Unlock()
		seen = append(seen, x)
	})
	if err := e.client.DisableAccount(rctx, noah, ""); err == nil {
		t.Fatal("disable of a SCIM user succeeded")
	}
	if err := e.client.DeleteAPIToken(rctx, emile, tokens[0].ID); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(seen) != 2 || seen[0].Status != 403 || !strings.Contains(seen[0].Body,
		"externalDirectory.scim") || seen[1].Status != 204 || seen[1].Method != "DELETE" {
		t.Fatalf("exchanges: %+v", seen)
	}
	for _, x := range seen {
		if strings.Contains(x.Path+x.Body+x.Error, "fixture-key") {
			t.Fatalf("key in exchange: %+v", x)
		}
	}
}
