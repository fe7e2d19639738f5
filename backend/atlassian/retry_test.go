package atlassian

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// The 429 fixture's headers: Date 10:15:18, reset at 10:16 (42 s later), Retry-After 42.
const (
	fixtureDate  = "Wed, 18 Nov 2026 10:15:18 GMT"
	fixtureReset = "2026-11-18T10:16Z"
)

func TestRateLimitWaits(t *testing.T) {
	dateAt := time.Date(2026, 11, 18, 10, 15, 18, 0, time.UTC)
	tests := []struct {
		name    string
		headers map[string]string // "" value: header suppressed
		now     time.Time         // zero: the env default, far from Date
		want    time.Duration     // exact wait; 0: a first backoff in [0.5 s, 1 s]
	}{
		{"both headers", map[string]string{"Date": fixtureDate, "X-RateLimit-Reset": fixtureReset,
			"Retry-After": "42", "X-RateLimit-Limit": "10", "X-RateLimit-Remaining": "0"},
			time.Time{}, 42 * time.Second},
		{"reset only, against Date", map[string]string{"Date": fixtureDate,
			"X-RateLimit-Reset": fixtureReset}, time.Time{}, 42 * time.Second},
		{"reset only, no Date", map[string]string{"Date": "", "X-RateLimit-Reset": fixtureReset},
			dateAt, 42 * time.Second},
		{"reset rfc3339", map[string]string{"Date": fixtureDate,
			"X-RateLimit-Reset": "2026-11-18T10:16:00.000Z"}, time.Time{}, 42 * time.Second},
		{"retry-after only", map[string]string{"Date": fixtureDate, "Retry-After": "42"},
			time.Time{}, 42 * time.Second},
		{"retry-after http date", map[string]string{"Date": fixtureDate,
			"Retry-After": "Wed, 18 Nov 2026 10:16:00 GMT"}, time.Time{}, 42 * time.Second},
		{"reset passed, retry-after used", map[string]string{"Date": fixtureDate,
			"X-RateLimit-Reset": "2026-11-18T10:15Z", "Retry-After": "42"},
			time.Time{}, 42 * time.Second},
		{"garbage reset, retry-after used", map[string]string{"Date": fixtureDate,
			"X-RateLimit-Reset": "soon", "Retry-After": "42"}, time.Time{}, 42 * time.Second},
		{"neither", map[string]string{"Date": fixtureDate}, time.Time{}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var n atomic.Int32
			env := newEnv(t, func(w http.ResponseWriter, r *http.Request) {
				if n.Add(1) == 1 {
					for k, v := range tt.headers {
						if v == "" {
							w.Header()[k] = nil
						} else {
							w.Header().Set(k, v)
						}
					}
					serveJSON(w, 429, fixture(t, "errors/429-proxy-error.json"))
					return
				}
				serveJSON(w, 200, fixture(t, "org.json"))
			})
			if !tt.now.IsZero() {
				env.clock.t = tt.now
			}
			if _, err := env.client.Org(context.Background()); err != nil {
				t.Fatal(err)
			}
			sleeps := env.clock.longSleeps()
			if len(sleeps) != 1 || n.Load() != 2 {
				t.Fatalf("sleeps = %v, requests = %d", sleeps, n.Load())
			}
			if tt.want != 0 && sleeps[0] != tt.want {
				t.Errorf("wait = %v, want %v", sleeps[0], tt.want)
			}
			if tt.want == 0 && (sleeps[0] < 500*time.Millisecond || sleeps[0] > time.Second) {
				t.Errorf("backoff = %v, want within [0.5s, 1s]", sleeps[0])
			}
		})
	}
}

func TestRateLimitResetTooFar(t *testing.T) {
	env := newEnv(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Date", fixtureDate)
		w.Header().Set("X-RateLimit-Reset", "2026-11-18T10:25Z")
		serveJSON(w, 429, fixture(t, "errors/429-proxy-error.json"))
	})
	_, err := env.client.Org(context.Background())
	var e *APIError
	if !errors.Is(err, ErrRateLimited) || !errors.As(err, &e) {
		t.Fatalf("err = %v", err)
	}
	if !strings.Contains(err.Error(), "9m42s") || e.RetryAfter != 9*time.Minute+42*time.Second {
		t.Errorf("err = %v, RetryAfter = %v", err, e.RetryAfter)
	}
	if n := len(env.rec.requests()); n != 1 || len(env.clock.longSleeps()) != 0 {
		t.Errorf("requests = %d, sleeps = %v", n, env.clock.longSleeps())
	}
}

func TestRetryStorms(t *testing.T) {
	tests := []struct {
		name       string
		status     int
		maxRetries int
		attempts   int
		is         error
	}{
		{"429 default retries", 429, 0, 7, ErrRateLimited},
		{"429 storm of 20", 429, 19, 20, ErrRateLimited},
		{"500 default retries", 500, 0, 7, ErrServer},
		{"503 no retries", 503, -1, 1, ErrServer},
		{"400 never retried", 400, 0, 1, nil},
		{"404 never retried", 404, 0, 1, ErrNotFound},
		{"409 never retried", 409, 0, 1, nil},
		{"401 never retried", 401, 0, 1, ErrUnauthorized},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := newEnv(t, func(w http.ResponseWriter, r *http.Request) {
				serveJSON(w, tt.status, []byte(`{"code":`+strconv.Itoa(tt.status)+`}`))
			}, func(c *Config) {
				c.MaxRetries = tt.maxRetries
				c.Limiters = NewLimiterPool(Budget{PerMinute: 100000})
			})
			_, err := env.client.Domains(context.Background())
			var e *APIError
			if !errors.As(err, &e) || e.Status != tt.status {
				t.Fatalf("err = %v", err)
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("err = %v, want %v", err, tt.is)
			}
			if n := len(env.rec.requests()); n != tt.attempts {
				t.Errorf("attempts = %d, want %d", n, tt.attempts)
			}
			if tt.attempts > 1 && (e.Attempts != tt.attempts ||
				!strings.Contains(err.Error(), fmt.Sprintf("after %d attempts", tt.attempts))) {
				t.Errorf("err = %v, Attempts = %d", err, e.Attempts)
			}
			sleeps := env.clock.longSleeps()
			if len(sleeps) != tt.attempts-1 {
				t.Fatalf("sleeps = %v", sleeps)
			}
			for i, d := range sleeps {
				nominal := min(backoffCap, backoffBase<<i)
				if d < nominal/2 || d > nominal {
					t.Errorf("sleep %d = %v, want within [%v, %v]", i, d, nominal/2, nominal)
				}
			}
		})
	}
}

func TestServerErrorsThenSuccess(t *testing.T) {
	statuses := []int{500, 502, 503, 504}
	var n atomic.Int32
	env := newEnv(t, func(w http.ResponseWriter, r *http.Request) {
		i := int(n.Add(1)) - 1
		if i < len(statuses) {
			if statuses[i] == 503 {
				w.Header().Set("Retry-After", "7")
			}
			w.WriteHeader(statuses[i])
			return
		}
		serveJSON(w, 200, fixture(t, "domains.json"))
	})
	doms, err := env.client.Domains(context.Background())
	if err != nil || len(doms) != 2 {
		t.Fatalf("domains = %d, err %v", len(doms), err)
	}
	sleeps := env.clock.longSleeps()
	if n.Load() != 5 || len(sleeps) != 4 || sleeps[2] != 7*time.Second {
		t.Errorf("requests = %d, sleeps = %v", n.Load(), sleeps)
	}
}

// roundTripFunc lets a test play the network.
type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func refusedFn(err error) func(*http.Request) (*http.Response, error) {
	return func(*http.Request) (*http.Response, error) { return nil, err }
}

type failingBody struct{}

func (failingBody) Read([]byte) (int, error) { return 0, syscall.ECONNRESET }
func (failingBody) Close() error             { return nil }

func TestNetworkErrors(t *testing.T) {
	refused := &net.OpError{Op: "dial", Net: "tcp",
		Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}
	tests := []struct {
		name     string
		fail     func(*http.Request) (*http.Response, error)
		failures int // then success; -1: always fail
		attempts int
		is       error
	}{
		{"refused, then up", refusedFn(refused), 2, 3, nil},
		{"refused for good", refusedFn(refused), -1, 7, syscall.ECONNREFUSED},
		{"timeout", func(*http.Request) (*http.Response, error) {
			return nil, &net.OpError{Op: "read", Err: os.ErrDeadlineExceeded}
		}, -1, 7, os.ErrDeadlineExceeded},
		{"body reset mid-read", func(*http.Request) (*http.Response, error) {
			return &http.Response{StatusCode: 200, Body: failingBody{}, Header: http.Header{}}, nil
		}, 1, 2, nil},
		{"no such host", func(*http.Request) (*http.Response, error) {
			return nil, &net.DNSError{Err: "no such host", Name: "api.atlassian.com", IsNotFound: true}
		}, -1, 1, nil},
		{"untrusted certificate", func(*http.Request) (*http.Response, error) {
			return nil, x509.UnknownAuthorityError{}
		}, -1, 1, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var n atomic.Int32
			rt := roundTripFunc(func(r *http.Request) (*http.Response, error) {
				i := int(n.Add(1))
				if tt.failures < 0 || i <= tt.failures {
					return tt.fail(r)
				}
				return &http.Response{StatusCode: 200, Header: http.Header{},
					Body: io.NopCloser(strings.NewReader(string(fixture(t, "org.json"))))}, nil
			})
			clock := newFakeClock(time.Unix(0, 0))
			c, err := New(Config{OrgID: testOrgID, APIKey: testKey,
				HTTPClient: &http.Client{Transport: rt},
				Sleep:      clock.Sleep, Now: clock.Now, Logger: discardLogger()})
			if err != nil {
				t.Fatal(err)
			}
			_, err = c.Org(context.Background())
			if int(n.Load()) != tt.attempts {
				t.Errorf("attempts = %d, want %d", n.Load(), tt.attempts)
			}
			if tt.failures >= 0 && tt.attempts > tt.failures {
				if err != nil {
					t.Fatalf("err = %v", err)
				}
				return
			}
			if !errors.Is(err, ErrUnreachable) {
				t.Fatalf("err = %v, want ErrUnreachable", err)
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("err = %v does not wrap %v", err, tt.is)
			}
			if strings.Contains(err.Error(), testKey) {
				t.Error("error text contains the api key")
			}
		})
	}
}

func TestBackoffBounds(t *testing.T) {
	for n := 0; n < 40; n++ {
		nominal := backoffCap
		if n < 16 {
			nominal = min(backoffCap, backoffBase<<n)
		}
		for range 200 {
			if d := backoff(n); d < nominal/2 || d > nominal {
				t.Fatalf("backoff(%d) = %v, want within [%v, %v]", n, d, nominal/2, nominal)
			}
		}
	}
}

func TestResetWait(t *testing.T) {
	ref := time.Date(2026, 11, 18, 10, 15, 18, 0, time.UTC)
	epoch := ref.Add(42 * time.Second).Unix()
	tests := []struct {
		v    string
		want time.Duration
		ok   bool
	}{
		{"2026-11-18T10:16Z", 42 * time.Second, true},
		{"2026-11-18T10:16:00Z", 42 * time.Second, true},
		{"2026-11-18T10:16:00.500+00:00", 42*time.Second + 500*time.Millisecond, true},
		{"2026-11-18T11:16+01:00", 42 * time.Second, true},
		{"2026-11-18T10:15Z", 0, false},
		{"30", 30 * time.Second, true},
		{"0", 0, false},
		{strconv.FormatInt(epoch, 10), 42 * time.Second, true},
		{strconv.FormatInt(epoch*1000, 10), 42 * time.Second, true},
		{"2026-11-18", 0, false},
		{"tomorrow", 0, false},
		{"-5", 0, false},
	}
	for _, tt := range tests {
		got, ok := resetWait(tt.v, ref)
		if ok != tt.ok || (ok && got != tt.want) {
			t.Errorf("resetWait(%q) = %v, %v; want %v, %v", tt.v, got, ok, tt.want, tt.ok)
		}
	}
}

func TestContextCancel(t *testing.T) {
	tests := []struct {
		name  string
		h     http.HandlerFunc
		call  func(context.Context, *Client) error
		pause bool // cancel before the call instead of during it
	}{
		{"during request", func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-r.Context().Done():
			case <-time.After(10 * time.Second):
			}
		}, orgCall, false},
		{"during 429 wait", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Retry-After", "30")
			serveJSON(w, 429, []byte(`{"code":429}`))
		}, orgCall, false},
		{"during 5xx backoff", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Retry-After", "30")
			w.WriteHeader(503)
		}, orgCall, false},
		{"during events limiter wait", func(w http.ResponseWriter, r *http.Request) {
			serveJSON(w, 200, []byte(`{"data":[]}`))
		}, func(ctx context.Context, c *Client) error {
			if _, err := c.Events(context.Background(), SearchParams{}); err != nil {
				return err
			}
			_, err := c.Events(ctx, SearchParams{}) // waits ~6.7 s for the budget
			return err
		}, false},
		{"already cancelled", func(w http.ResponseWriter, r *http.Request) {
			t.Error("request sent with a cancelled context")
		}, orgCall, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := newEnv(t, tt.h, func(c *Config) { c.Sleep, c.Now = nil, nil })
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			if tt.pause {
				cancel()
			} else {
				time.AfterFunc(50*time.Millisecond, cancel)
			}

			start := time.Now()
			err := tt.call(ctx, env.client)
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("err = %v, want context.Canceled", err)
			}
			if took := time.Since(start); took > 2*time.Second {
				t.Errorf("returned after %v", took)
			}
		})
	}
}

func orgCall(ctx context.Context, c *Client) error {
	_, err := c.Org(ctx)
	return err
}

func TestLogsNeverCarryTheKey(t *testing.T) {
	var buf strings.Builder
	var mu sync.Mutex
	logger := slog.New(slog.NewTextHandler(writerFunc(func(p []byte) (int, error) {
		mu.Lock()
		defer mu.Unlock()
		return buf.Write(p)
	}), &slog.HandlerOptions{Level: slog.LevelDebug}))

	var n atomic.Int32
	env := newEnv(t, func(w http.ResponseWriter, r *http.Request) {
		switch n.Add(1) {
		case 1:
			serveJSON(w, 429, fixture(t, "errors/429-proxy-error.json"))
		case 2:
			w.WriteHeader(500)
		case 3:
			serveJSON(w, 404, []byte(`{}`)) // v2 search missing: fall back to v1
		default:
			serveJSON(w, 200, []byte(`{"data":[{"account_id":"a"}]}`))
		}
	}, func(c *Config) { c.Logger = logger })
	if _, err := env.client.Users(context.Background()); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if !strings.Contains(buf.String(), "atlassian request retry") {
		t.Fatalf("no retry logged: %s", buf.String())
	}
	if strings.Contains(buf.String(), testKey) {
		t.Fatal("a log line carries the api key")
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }
