package atlassian

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
)

func TestErrorFixtures(t *testing.T) {
	tests := []struct {
		file      string
		status    int
		is        []error
		isNot     []error
		code      string
		key       string
		reason    string
		message   string
		requestID string
	}{
		{"400-invalid-cursor.json", 400, []error{ErrInvalidCursor}, []error{ErrNotFound},
			"ADMIN-400-1", "", "", "The page cursor is invalid or has expired", ""},
		{"401-proxy-error.json", 401, []error{ErrUnauthorized}, []error{ErrForbidden},
			"401", "", "", "Unauthorized", ""},
		{"403-no-perms.json", 403, []error{ErrForbidden}, []error{ErrUnauthorized},
			"", "", "", "User has no permission to access resource.", "7d41c0a29e6b-000184"},
		{"404-org-not-found.json", 404, []error{ErrNotFound, ErrOrgNotFound}, []error{ErrForbidden},
			"ADMIN-404-2", "", "",
			"Organization 8c3f6a2e-0b1d-4c5e-9f7a-2d4b6e8f0a1d was not found", ""},
		{"403-user-management-forbidden-action.json", 403, []error{ErrForbidden}, []error{ErrNotFound},
			"", "forbidden.action", "externalDirectory.scim", "forbidden", ""},
		{"429-proxy-error.json", 429, []error{ErrRateLimited}, []error{ErrServer},
			"429", "", "", "Rate limit exceeded", ""},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			body := fixture(t, "errors/"+tt.file)
			env := newEnv(t, func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Retry-After", "1")
				serveJSON(w, tt.status, body)
			}, func(c *Config) { c.MaxRetries = -1 })

			_, err := env.client.Org(context.Background())
			var e *APIError
			if !errors.As(err, &e) {
				t.Fatalf("err = %v, want *APIError", err)
			}
			for _, s := range tt.is {
				if !errors.Is(err, s) {
					t.Errorf("not %v", s)
				}
			}
			for _, s := range tt.isNot {
				if errors.Is(err, s) {
					t.Errorf("unexpectedly %v", s)
				}
			}
			got := []string{e.Code, e.Key, e.Reason, e.Message, e.RequestID}
			want := []string{tt.code, tt.key, tt.reason, tt.message, tt.requestID}
			for i := range got {
				if got[i] != want[i] {
					t.Errorf("field %d = %q, want %q", i, got[i], want[i])
				}
			}
			if e.Status != tt.status || string(e.Body) != string(body) {
				t.Errorf("status %d, body %q", e.Status, e.Body)
			}
			if e.Endpoint != "GET "+orgPath("v1", "") {
				t.Errorf("endpoint = %q", e.Endpoint)
			}
			if n := len(env.rec.requests()); n != 1 {
				t.Errorf("requests = %d, want 1", n)
			}
			if strings.Contains(err.Error(), testKey) {
				t.Error("error text contains the api key")
			}
		})
	}
}

func TestErrorBodiesWithoutJSON(t *testing.T) {
	long := strings.Repeat("x", 10<<10)
	tests := []struct {
		name    string
		status  int
		ctype   string
		body    string
		is      error
		message string
	}{
		{"empty 404", 404, "", "", ErrNotFound, "not found"},
		{"html 502", 502, "text/html", "<html><body>Bad gateway</body></html>", ErrServer,
			"bad gateway"},
		{"html 403", 403, "text/html", "<h1>Forbidden</h1>", ErrForbidden, "forbidden"},
		{"huge 400", 400, "text/plain", long, nil, "bad request"},
		{"json array", 409, "application/json", `[1,2]`, nil, "conflict"},
		{"errors of odd shape", 400, "application/json", `{"errors":"x","code":{"a":1}}`, nil,
			"bad request"},
		{"numeric status string code", 404, "application/json",
			`{"errors":[{"status":404,"code":"ADMIN-404-8","title":"Not Found"}]}`, ErrNotFound,
			"Not Found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := newEnv(t, func(w http.ResponseWriter, r *http.Request) {
				if tt.ctype != "" {
					w.Header().Set("Content-Type", tt.ctype)
				}
				w.Header().Set("X-Request-Id", "req-1")
				w.WriteHeader(tt.status)
				_, _ = w.Write([]byte(tt.body))
			}, func(c *Config) { c.MaxRetries = -1 })

			_, err := env.client.Domains(context.Background())
			var e *APIError
			if !errors.As(err, &e) || e.Status != tt.status {
				t.Fatalf("err = %v", err)
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("not %v", tt.is)
			}
			if e.Message != tt.message || e.RequestID != "req-1" {
				t.Errorf("message %q, request id %q", e.Message, e.RequestID)
			}
			if len(e.Body) > maxErrorBody {
				t.Errorf("body kept %d bytes", len(e.Body))
			}
			if !strings.HasPrefix(e.Error(), "atlassian: GET ") {
				t.Errorf("Error() = %q", e.Error())
			}
		})
	}
}

func TestAPIErrorText(t *testing.T) {
	e := &APIError{Status: 404, Code: "ADMIN-404-2", Message: "org gone", RequestID: "r1",
		Endpoint: "GET /admin/v1/orgs/x"}
	want := "atlassian: GET /admin/v1/orgs/x: 404 ADMIN-404-2: org gone (request id r1)"
	if e.Error() != want {
		t.Errorf("Error() = %q", e.Error())
	}
	e = &APIError{Status: 401, Code: "401", Message: "Unauthorized"}
	if e.Error() != "atlassian: 401: Unauthorized" {
		t.Errorf("Error() = %q", e.Error())
	}
}
