package atlassian

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// DefaultBaseURL is where the admin APIs live.
const DefaultBaseURL = "https://api.atlassian.com"

// maxBody caps a success body. The largest documented page (500 events) is well under 2 MiB;
// anything near this is not a page.
const maxBody = 64 << 20

// Config configures a Client. Only OrgID and APIKey are required.
type Config struct {
	BaseURL    string       // default DefaultBaseURL; a trailing slash is tolerated
	OrgID      string       // the UUID after /o/ in admin.atlassian.com URLs
	APIKey     string       // an org API key, ideally without scopes
	HTTPClient *http.Client // default: a client with connect, TLS, header and overall timeouts
	Limiters   *LimiterPool // default: a private pool with the default Budget
	Logger     *slog.Logger // default slog.Default()

	// MaxRetries is how many times a 429, a 5xx or a transient network error is retried.
	// Zero means the default of 6; a negative value disables retries.
	MaxRetries int

	// Sleep waits d or until ctx is done, returning ctx.Err() in that case. Now is the clock.
	// Both default to real time; tests inject fakes so no test ever sleeps.
	Sleep func(ctx context.Context, d time.Duration) error
	Now   func() time.Time

	UserAgent string // default "warden"
}

// Client talks to one organization with one API key. It is safe for concurrent use.
type Client struct {
	base     *url.URL
	orgPath  string // "/admin/v1/orgs/<escaped org id>" without the version-dependent prefix
	apiKey   string
	http     *http.Client
	limits   *keyLimiter
	log      *slog.Logger
	retries  int
	sleep    func(context.Context, time.Duration) error
	now      func() time.Time
	agent    string
	maxReset time.Duration
}

// New checks cfg and returns a client. It makes no request; use Org to test a connection.
func New(cfg Config) (*Client, error) {
	if strings.TrimSpace(cfg.OrgID) == "" {
		return nil, errors.New("atlassian: org id is required")
	}
	if strings.TrimSpace(cfg.APIKey) == "" {
		return nil, errors.New("atlassian: api key is required")
	}

	raw := cfg.BaseURL
	if raw == "" {
		raw = DefaultBaseURL
	}
	base, err := url.Parse(strings.TrimRight(raw, "/"))
	if err != nil {
		return nil, fmt.Errorf("atlassian: parse base url: %w", err)
	}
	if (base.Scheme != "http" && base.Scheme != "https") || base.Host == "" {
		return nil, fmt.Errorf("atlassian: base url %q is not an http(s) url", raw)
	}
	base.RawQuery, base.Fragment, base.User = "", "", nil

	c := &Client{
		base:     base,
		orgPath:  "/orgs/" + url.PathEscape(cfg.OrgID),
		apiKey:   cfg.APIKey,
		http:     cfg.HTTPClient,
		log:      cfg.Logger,
		retries:  cfg.MaxRetries,
		sleep:    cfg.Sleep,
		now:      cfg.Now,
		agent:    cfg.UserAgent,
		maxReset: 5 * time.Minute,
	}
	if c.http == nil {
		c.http = defaultHTTPClient()
	}
	c.http = c.guardRedirects(c.http)
	pool := cfg.Limiters
	if pool == nil {
		pool = NewLimiterPool(Budget{})
	}
	c.limits = pool.forKey(cfg.APIKey)
	if c.log == nil {
		c.log = slog.Default()
	}
	switch {
	case c.retries == 0:
		c.retries = 6
	case c.retries < 0:
		c.retries = 0
	}
	if c.sleep == nil {
		c.sleep = realSleep
	}
	if c.now == nil {
		c.now = time.Now
	}
	if c.agent == "" {
		c.agent = "warden"
	}
	return c, nil
}

func defaultHTTPClient() *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	dialer := &net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}
	t.DialContext = dialer.DialContext
	t.TLSHandshakeTimeout = 10 * time.Second
	t.ResponseHeaderTimeout = 60 * time.Second
	return &http.Client{Transport: t, Timeout: 2 * time.Minute}
}

// guardRedirects returns a copy of hc that does not follow a redirect off the base origin.
// net/http drops Authorization only when the host name changes, not the port or scheme; a
// refused redirect surfaces as a non-2xx APIError, which is not retried.
func (c *Client) guardRedirects(hc *http.Client) *http.Client {
	guarded := *hc
	next := hc.CheckRedirect
	guarded.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if !c.sameOrigin(req.URL) {
			return http.ErrUseLastResponse
		}
		if next != nil {
			return next(req, via)
		}
		if len(via) >= 10 {
			return errors.New("stopped after 10 redirects")
		}
		return nil
	}
	return &guarded
}

func realSleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// call is one logical request; do may send it several times.
type call struct {
	method string
	url    string // absolute
	body   []byte // JSON, or nil
	events bool   // counts against the /events budget too
}

// endpoint names the call in errors and logs: method and path, never the query (cursors are
// noise) and never anything secret.
func (r call) endpoint() string {
	if u, err := url.Parse(r.url); err == nil {
		return r.method + " " + u.EscapedPath()
	}
	return r.method
}

// apiURL builds an absolute URL under the base for path (already escaped) and query q.
func (c *Client) apiURL(path string, q url.Values) string {
	u := *c.base
	u.Path, u.RawPath = "", ""
	s := u.String() + c.base.EscapedPath() + path
	if len(q) > 0 {
		s += "?" + q.Encode()
	}
	return s
}

// sameOrigin reports whether u is on the base URL's scheme and host, the only place the key
// may go.
func (c *Client) sameOrigin(u *url.URL) bool {
	return strings.EqualFold(u.Scheme, c.base.Scheme) && strings.EqualFold(u.Host, c.base.Host)
}

// do sends r, waiting on the rate limiters before every attempt and retrying 429, 5xx and
// transient network errors. It returns the body of a 2xx answer.
func (c *Client) do(ctx context.Context, r call) ([]byte, error) {
	ep := r.endpoint()
	for attempt := 0; ; attempt++ {
		body, retry, err := c.attempt(ctx, r, ep, attempt)
		if err == nil {
			return body, nil
		}
		if retry < 0 {
			return nil, err
		}
		if attempt >= c.retries {
			return nil, gaveUp(err, attempt+1)
		}

		c.log.Warn("atlassian request retry", "endpoint", ep, "attempt", attempt+1,
			"wait", retry, "error", err)
		if serr := c.sleep(ctx, retry); serr != nil {
			return nil, fmt.Errorf("atlassian: %s: %w", ep, serr)
		}
	}
}

// gaveUp records how many attempts a retryable failure outlasted.
func gaveUp(err error, attempts int) error {
	if attempts <= 1 {
		return err
	}
	var e *APIError
	if errors.As(err, &e) {
		e.Attempts = attempts
		return err
	}
	return fmt.Errorf("%w (after %d attempts)", err, attempts)
}

// attempt sends r once. On failure it returns how long to wait before a retry, or a negative
// wait when the error is final.
func (c *Client) attempt(ctx context.Context, r call, ep string, n int) (
	[]byte, time.Duration, error) {
	final := time.Duration(-1)

	// The slower /events budget first, so a long wait there does not hold an overall token.
	if r.events {
		if err := wait(ctx, c.limits.events, c.now, c.sleep); err != nil {
			return nil, final, fmt.Errorf("atlassian: %s: wait for rate limiter: %w", ep, err)
		}
	}
	if err := wait(ctx, c.limits.overall, c.now, c.sleep); err != nil {
		return nil, final, fmt.Errorf("atlassian: %s: wait for rate limiter: %w", ep, err)
	}

	req, err := c.newRequest(ctx, r)
	if err != nil {
		return nil, final, fmt.Errorf("atlassian: %s: build request: %w", ep, err)
	}
	start := c.now()
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, c.networkRetry(ctx, err, n), c.networkError(ctx, ep, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
	if err != nil {
		return nil, c.networkRetry(ctx, err, n), c.networkError(ctx, ep, err)
	}
	c.log.Debug("atlassian request", "endpoint", ep, "status", resp.StatusCode,
		"attempt", n+1, "bytes", len(body), "took", c.now().Sub(start))

	switch s := resp.StatusCode; {
	case s >= 200 && s < 300:
		if len(body) > maxBody {
			return nil, final, malformed(ep, errors.New("response body too large"))
		}
		return body, 0, nil
	case s == http.StatusTooManyRequests:
		return c.rateLimited(ep, resp, body, n)
	case s >= 500:
		e := newAPIError(ep, s, resp.Header, body)
		d, ok := retryAfter(resp.Header, c.now())
		if !ok || d > c.maxReset {
			d = backoff(n)
		}
		return nil, d, e
	default:
		return nil, final, newAPIError(ep, s, resp.Header, body)
	}
}

// rateLimited works out the wait after a 429: X-RateLimit-Reset, else Retry-After, else
// exponential backoff. A reset further away than maxReset is final: sleeping that long inside a
// request helps nobody, and the caller (the scheduler) can come back later.
func (c *Client) rateLimited(ep string, resp *http.Response, body []byte, n int) (
	[]byte, time.Duration, error) {
	e := newAPIError(ep, resp.StatusCode, resp.Header, body)
	d, ok := rateLimitWait(resp.Header, c.now())
	if !ok {
		d = backoff(n)
	}
	e.RetryAfter = d
	if d > c.maxReset {
		return nil, -1, fmt.Errorf("atlassian: %s: rate limit resets in %s, more than %s: %w",
			ep, d.Round(time.Second), c.maxReset, e)
	}
	return nil, d, e
}

func (c *Client) newRequest(ctx context.Context, r call) (*http.Request, error) {
	var body io.Reader
	if r.body != nil {
		body = bytes.NewReader(r.body)
	}
	req, err := http.NewRequestWithContext(ctx, r.method, r.url, body)
	if err != nil {
		return nil, err
	}
	if !c.sameOrigin(req.URL) {
		// Callers only build URLs from the base or from same-origin next links; this is the
		// last guard that the key never leaves for another host.
		return nil, fmt.Errorf("refusing to send the api key to %s", req.URL.Host)
	}
	req.Header.Set("Authorization", "Bearer "+c.apiKey)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", c.agent)
	if r.body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	return req, nil
}

// networkError wraps a transport failure as ErrUnreachable, or returns the context's error
// when the failure is the caller cancelling.
func (c *Client) networkError(ctx context.Context, ep string, err error) error {
	if ctxErr := ctx.Err(); ctxErr != nil {
		return fmt.Errorf("atlassian: %s: %w", ep, ctxErr)
	}
	return fmt.Errorf("atlassian: %s: %w: %w", ep, ErrUnreachable, err)
}

// networkRetry returns the wait before retrying a transport failure, or -1 when retrying is
// pointless: the caller gave up, the host does not exist, or the TLS peer is not trusted.
func (c *Client) networkRetry(ctx context.Context, err error, n int) time.Duration {
	if ctx.Err() != nil || !transient(err) {
		return -1
	}
	return backoff(n)
}
