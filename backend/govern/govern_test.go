package govern

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"warden/backend/atlassian"
	"warden/backend/atlassian/fake"
)

func suspendPath(dir, id, verb string) string {
	return "POST /admin/v2/orgs/" + orgID + "/directories/" + dir + "/users/" + id + "/" + verb
}

func (e *env) directory() string {
	e.t.Helper()
	dirs, err := e.client.Directories(context.Background(), hana)
	if err != nil || len(dirs) == 0 {
		e.t.Fatalf("directories: %v", err)
	}
	return dirs[0].DirectoryID
}

func TestRunActions(t *testing.T) {
	tests := []struct {
		name       string
		req        Request
		wantStatus Status
		wantErr    error
		// wantCalls are the mutating requests in order; {dir} and {tokenN} are filled in.
		wantCalls []string
		wantKey   string // ReasonKey
		wantText  string // in Reason
		after     func(t *testing.T, e *env)
	}{
		{name: "suspend", req: Request{Action: Suspend, User: hana},
			wantStatus: StatusDone, wantCalls: []string{"suspend " + hana},
			after: func(t *testing.T, e *env) {
				if u, _ := e.fake.User(hana); !atlassian.IsSuspended(u) {
					t.Error("not suspended")
				}
			}},
		{name: "suspend by email", req: Request{Action: Suspend, User: "hana.sato@example.com"},
			wantStatus: StatusDone, wantCalls: []string{"suspend " + hana}},
		{name: "already suspended is recognized", req: Request{Action: Suspend, User: noah},
			wantStatus: StatusAlreadyDone, wantText: "already suspended"},
		{name: "restore", req: Request{Action: Restore, User: noah},
			wantStatus: StatusDone, wantCalls: []string{"restore " + noah}},
		{name: "restore of an active user", req: Request{Action: Restore, User: hana},
			wantStatus: StatusAlreadyDone},
		{name: "deactivate SCIM user is refused before sending",
			req:        Request{Action: Deactivate, User: noah},
			wantStatus: StatusRefused, wantKey: "externalDirectory.scim",
			wantText: "SCIM identity provider"},
		{name: "deactivate", req: Request{Action: Deactivate, User: hana},
			wantStatus: StatusDone,
			wantCalls:  []string{"POST /users/" + hana + "/manage/lifecycle/disable"}},
		{name: "reactivate an active account", req: Request{Action: Reactivate, User: hana},
			wantStatus: StatusAlreadyDone, wantText: "already active"},
		{name: "revoke tokens", req: Request{Action: RevokeTokens, User: emile},
			wantStatus: StatusDone, wantCalls: []string{
				"DELETE /users/" + emile + "/manage/api-tokens/{token0}",
				"DELETE /users/" + emile + "/manage/api-tokens/{token1}"},
			after: func(t *testing.T, e *env) {
				if n := len(e.fake.Tokens(emile)); n != 0 {
					t.Errorf("%d tokens left", n)
				}
			}},
		{name: "reauth: tokens, then suspend and restore",
			req: Request{Action: Reauth, User: emile}, wantStatus: StatusDone,
			wantCalls: []string{
				"DELETE /users/" + emile + "/manage/api-tokens/{token0}",
				"DELETE /users/" + emile + "/manage/api-tokens/{token1}",
				"suspend " + emile, "restore " + emile},
			after: func(t *testing.T, e *env) {
				if u, _ := e.fake.User(emile); atlassian.IsSuspended(u) {
					t.Error("left suspended")
				}
			}},
		{name: "reauth of a suspended user keeps the suspension",
			req: Request{Action: Reauth, User: noah}, wantStatus: StatusDone,
			wantText: "left suspended",
			wantCalls: []string{
				"DELETE /users/" + noah + "/manage/api-tokens/{token0}",
				"DELETE /users/" + noah + "/manage/api-tokens/{token1}"},
			after: func(t *testing.T, e *env) {
				if u, _ := e.fake.User(noah); !atlassian.IsSuspended(u) {
					t.Error("reauth restored a suspended user")
				}
			}},
		{name: "unknown user", req: Request{Action: Suspend, User: "ghost@example.com"},
			wantStatus: StatusFailed, wantErr: ErrFailed, wantText: "does not know this user"},
		{name: "dry run sends nothing", req: Request{Action: Reauth, User: emile, DryRun: true},
			wantStatus: StatusWouldDo, wantText: "Dry run"},
		{name: "simulation sends nothing",
			req:        Request{Action: Suspend, User: hana, Simulate: true, Trigger: "policy:p1"},
			wantStatus: StatusWouldDo, wantText: "Simulation"},
		{name: "policy never touches an org admin",
			req:        Request{Action: Suspend, User: zoe, Trigger: "policy:p1"},
			wantStatus: StatusRefused, wantKey: "protected", wantText: "organization admin"},
		{name: "policy with explicit opt-in",
			req:        Request{Action: Suspend, User: zoe, Trigger: "policy:p1", AllowProtected: true},
			wantStatus: StatusDone, wantCalls: []string{"suspend " + zoe}},
		{name: "a person may act on an admin", req: Request{Action: Suspend, User: zoe},
			wantStatus: StatusDone, wantCalls: []string{"suspend " + zoe}},
		{name: "policy never touches the connector account",
			req:        Request{Action: RevokeTokens, User: jonas, Trigger: "policy:p2"},
			wantStatus: StatusRefused, wantText: "connector"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, func(c *Config) { c.ProtectedAccounts = []string{jonas} })
			dir := e.directory()
			tokens := e.fake.Tokens(tt.req.User)
			e.fake.ResetRequests()
			if tt.req.Trigger == "" {
				tt.req.Trigger = "manual:admin@example.com"
			}

			got, err := e.svc.Run(context.Background(), tt.req)
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil && err != nil) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if got.Status != tt.wantStatus {
				t.Fatalf("status %s, want %s (%s; %s)", got.Status, tt.wantStatus, got.Reason,
					got.Error)
			}
			if tt.wantKey != "" && got.ReasonKey != tt.wantKey {
				t.Errorf("reason key %q, want %q", got.ReasonKey, tt.wantKey)
			}
			if !strings.Contains(got.Reason, tt.wantText) {
				t.Errorf("reason %q lacks %q", got.Reason, tt.wantText)
			}

			var want []string
			for _, w := range tt.wantCalls {
				for i, tok := range tokens {
					w = strings.ReplaceAll(w, "{token"+string(rune('0'+i))+"}", tok.ID)
				}
				if verb, id, ok := strings.Cut(w, " "); ok && (verb == "suspend" ||
					verb == "restore") {
					w = suspendPath(dir, id, verb)
				}
				want = append(want, w)
			}
			if calls := e.mutations(); strings.Join(calls, "\n") != strings.Join(want, "\n") {
				t.Fatalf("mutating calls:\n%s\nwant:\n%s", strings.Join(calls, "\n"),
					strings.Join(want, "\n"))
			}
			if tt.wantStatus == StatusWouldDo && len(got.Steps) == 0 {
				t.Errorf("a dry run lists no steps")
			}

			// The stored entry is the returned one.
			list, err := e.svc.List(Filter{})
			if err != nil || len(list) != 1 || list[0].ID != got.ID ||
				list[0].Status != got.Status {
				t.Fatalf("log: %v %+v", err, list)
			}
			if tt.after != nil {
				tt.after(t, e)
			}
		})
	}
}

func TestRunRecordsRequestsAndErrors(t *testing.T) {
	ctx := context.Background()

	t.Run("timeout after apply: one POST, state re-read, done", func(t *testing.T) {
		e := newEnv(t)
		e.fake.InjectAfterApply(fake.AfterApply{Path: "/admin/v2/", Delay: 5 * time.Second})
		got, err := e.svc.Run(ctx, Request{Action: Suspend, User: hana, Trigger: "manual:a"})
		if err != nil || got.Status != StatusDone {
			t.Fatalf("%v %+v", err, got)
		}
		if n := len(e.mutations()); n != 1 {
			t.Fatalf("%d mutating calls, want 1: %v", n, e.mutations())
		}
		if len(got.Requests) != 2 || got.Requests[0].Method != "POST" ||
			got.Requests[0].Status != 0 || got.Requests[1].Method != "GET" {
			t.Fatalf("recorded requests: %+v", got.Requests)
		}
	})

	t.Run("429 storm: retried with backoff, done once", func(t *testing.T) {
		e := newEnv(t)
		e.fake.Inject(fake.Fault{Path: "/users/", Status: http.StatusTooManyRequests, Times: 4})
		before := e.clock.Now()
		got, err := e.svc.Run(ctx, Request{Action: Deactivate, User: emile, Trigger: "manual:a"})
		if err != nil || got.Status != StatusDone {
			t.Fatalf("%v %+v", err, got)
		}
		if !e.clock.Now().After(before) {
			t.Errorf("no backoff")
		}
		disables := 0
		for _, c := range e.mutations() {
			if strings.HasSuffix(c, "/lifecycle/disable") {
				disables++
			}
		}
		if disables != 1 {
			t.Fatalf("%d disables reached the fake", disables)
		}
	})

	t.Run("SCIM 403 at execution is explained", func(t *testing.T) {
		// A permission check that (wrongly) allows the action: the 403 from the lifecycle call
		// itself must still be explained.
		e := newEnv(t)
		e.cfg.Connect = func(context.Context) (Atlassian, error) {
			return allowAll{Atlassian: e.client}, nil
		}
		e.rebuild()
		got, err := e.svc.Run(ctx, Request{Action: Deactivate, User: noah, Trigger: "manual:a"})
		if !errors.Is(err, ErrFailed) || got.Status != StatusFailed || got.HTTPStatus != 403 ||
			got.ReasonKey != "externalDirectory.scim" ||
			!strings.Contains(got.Reason, "SCIM identity provider") ||
			!strings.Contains(got.ErrorBody, "forbidden.action") {
			t.Fatalf("%v %+v", err, got)
		}
		if n := len(e.mutations()); n != 1 {
			t.Fatalf("a refused action was sent %d times", n)
		}
	})

	t.Run("atlassian key unavailable", func(t *testing.T) {
		e := newEnv(t, func(c *Config) {
			c.Connect = func(context.Context) (Atlassian, error) {
				return nil, errors.New("keychain: the collection is locked")
			}
		})
		got, err := e.svc.Run(ctx, Request{Action: Suspend, User: hana, Trigger: "manual:a"})
		if !errors.Is(err, ErrFailed) || got.Status != StatusFailed ||
			!strings.Contains(got.Error, "collection is locked") ||
			!strings.Contains(got.Reason, "keychain") {
			t.Fatalf("%v %+v", err, got)
		}
		if len(e.fake.Requests()) != 0 {
			t.Fatal("requests were sent")
		}
	})
}

// allowAll is a client whose permission check allows everything.
type allowAll struct{ Atlassian }

func (allowAll) Permissions(_ context.Context, _ string, privs ...string) (
	map[string]atlassian.Rule, error) {
	out := map[string]atlassian.Rule{}
	for _, p := range privs {
		out[p] = atlassian.Rule{Allowed: true}
	}
	return out, nil
}
