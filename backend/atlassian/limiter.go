package atlassian

import (
	"context"
	"crypto/sha256"
	"errors"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Budget is a connector's request budget. Atlassian limits per key (and, for /events, per user
// and per API path), so the budget belongs to the key, not to one client value.
type Budget struct {
	// PerMinute caps all requests made with one key. Default 1000.
	PerMinute int
	// EventsPerMinute caps GET /events (the search endpoint, limited to 10/min since May 2025).
	// Default 10. /events-stream counts only against PerMinute.
	EventsPerMinute int
}

// Default budget values; see Budget.
const (
	DefaultPerMinute       = 1000
	DefaultEventsPerMinute = 10
)

func (b Budget) withDefaults() Budget {
	if b.PerMinute <= 0 {
		b.PerMinute = DefaultPerMinute
	}
	if b.EventsPerMinute <= 0 {
		b.EventsPerMinute = DefaultEventsPerMinute
	}
	return b
}

// LimiterPool hands out one pair of rate limiters per API key, so two connectors that share a
// key also share its budget. Keys are held only as SHA-256 digests, never in clear. It is safe
// for concurrent use.
type LimiterPool struct {
	budget Budget

	mu   sync.Mutex
	keys map[[sha256.Size]byte]*keyLimiter
}

// keyLimiter is the budget of one key: overall counts every request, events only GET /events.
type keyLimiter struct {
	overall *rate.Limiter
	events  *rate.Limiter
}

// NewLimiterPool returns a pool that gives every key the budget b (zero fields take defaults).
func NewLimiterPool(b Budget) *LimiterPool {
	return &LimiterPool{budget: b.withDefaults(), keys: map[[sha256.Size]byte]*keyLimiter{}}
}

// forKey returns the limiters of apiKey, creating them on first use.
func (p *LimiterPool) forKey(apiKey string) *keyLimiter {
	sum := sha256.Sum256([]byte(apiKey))

	p.mu.Lock()
	defer p.mu.Unlock()
	if kl, ok := p.keys[sum]; ok {
		return kl
	}
	if p.keys == nil { // a zero LimiterPool works too, with the default budget
		p.keys = map[[sha256.Size]byte]*keyLimiter{}
	}
	b := p.budget.withDefaults()
	kl := &keyLimiter{
		overall: perMinute(b.PerMinute, 10),
		events:  perMinute(b.EventsPerMinute, 1),
	}
	p.keys[sum] = kl
	return kl
}

// perMinute builds a token bucket that never lets more than n requests into any 60 s window,
// including the first one: the burst is taken out of the rate (burst + refills in 60 s == n),
// so a full bucket at start cannot add to a full minute's refill. A millisecond of margin per
// refill keeps the n+1st request strictly after the minute, whatever way the server counts.
func perMinute(n, maxBurst int) *rate.Limiter {
	burst := min(maxBurst, max(1, n/100))
	refill := n - burst
	if refill < 1 {
		// A budget of one request a minute: one token, refilled once a minute.
		return rate.NewLimiter(rate.Every(time.Minute+time.Millisecond), 1)
	}
	return rate.NewLimiter(rate.Every(time.Minute/time.Duration(refill)+time.Millisecond), burst)
}

// wait takes one token from lim, sleeping through sleep on the client's clock so tests can run
// on a fake one. A cancelled wait gives its token back.
func wait(ctx context.Context, lim *rate.Limiter, now func() time.Time,
	sleep func(context.Context, time.Duration) error) error {
	t := now()
	r := lim.ReserveN(t, 1)
	if !r.OK() {
		return errors.New("request exceeds the limiter burst")
	}
	d := r.DelayFrom(t)
	if d <= 0 {
		return nil
	}
	if err := sleep(ctx, d); err != nil {
		r.CancelAt(now())
		return err
	}
	return nil
}
