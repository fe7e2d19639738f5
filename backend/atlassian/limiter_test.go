package atlassian

import (
	"context"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

// maxInWindow returns the largest number of times within any closed 60 s window.
func maxInWindow(times []time.Time) int {
	sort.Slice(times, func(i, j int) bool { return times[i].Before(times[j]) })
	best := 0
	for i := range times {
		n := 0
		for j := i; j < len(times) && !times[j].After(times[i].Add(time.Minute)); j++ {
			n++
		}
		best = max(best, n)
	}
	return best
}

func TestLimiterBudgetDirect(t *testing.T) {
	tests := []struct {
		name     string
		budget   Budget
		events   bool
		requests int
		limit    int
	}{
		{"default overall", Budget{}, false, 3000, DefaultPerMinute},
		{"default events", Budget{}, true, 60, DefaultEventsPerMinute},
		{"small overall", Budget{PerMinute: 30}, false, 200, 30},
		{"one a minute", Budget{PerMinute: 1, EventsPerMinute: 1}, true, 5, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := newFakeClock(time.Unix(1_800_000_000, 0))
			kl := NewLimiterPool(tt.budget).forKey("k")
			lim := kl.overall
			if tt.events {
				lim = kl.events
			}
			var times []time.Time
			for range tt.requests {
				if err := wait(context.Background(), lim, clock.Now, clock.Sleep); err != nil {
					t.Fatal(err)
				}
				times = append(times, clock.Now())
			}
			if got := maxInWindow(times); got > tt.limit {
				t.Errorf("%d requests in one minute, budget %d", got, tt.limit)
			}
			// The budget is used, not just respected: over a long run the rate is close to it.
			span := times[len(times)-1].Sub(times[0])
			if perMin := float64(len(times)-1) / span.Minutes(); perMin < 0.9*float64(tt.limit)-1 {
				t.Errorf("achieved %.1f/min of %d", perMin, tt.limit)
			}
		})
	}
}

func TestLimiterBudgetThroughClient(t *testing.T) {
	env := newEnv(t, func(w http.ResponseWriter, r *http.Request) {
		serveJSON(w, 200, []byte(`{"data":[],"meta":{}}`))
	}, func(c *Config) { c.Limiters = NewLimiterPool(Budget{PerMinute: 30, EventsPerMinute: 5}) })

	ctx := context.Background()
	for range 40 {
		if _, err := env.client.EventsStream(ctx, StreamParams{}); err != nil {
			t.Fatal(err)
		}
	}
	for range 12 {
		if _, err := env.client.Events(ctx, SearchParams{}); err != nil {
			t.Fatal(err)
		}
	}

	var all, events []time.Time
	for _, r := range env.rec.requests() {
		all = append(all, r.At)
		if strings.HasSuffix(r.Path, "/events") {
			events = append(events, r.At)
		}
	}
	if got := maxInWindow(all); got > 30 {
		t.Errorf("%d requests in one minute, budget 30", got)
	}
	if got := maxInWindow(events); got > 5 {
		t.Errorf("%d /events requests in one minute, budget 5", got)
	}
}

func TestStreamSkipsEventsBudget(t *testing.T) {
	env := newEnv(t, func(w http.ResponseWriter, r *http.Request) {
		serveJSON(w, 200, []byte(`{"data":[]}`))
	})
	for range 10 {
		if _, err := env.client.EventsStream(context.Background(), StreamParams{}); err != nil {
			t.Fatal(err)
		}
	}
	secondWaits := func() (out []time.Duration) {
		for _, d := range env.clock.longSleeps() {
			if d >= time.Second {
				out = append(out, d)
			}
		}
		return out
	}
	if s := secondWaits(); len(s) != 0 {
		t.Errorf("events-stream waited %v", s)
	}
	for range 2 {
		if _, err := env.client.Events(context.Background(), SearchParams{}); err != nil {
			t.Fatal(err)
		}
	}
	if s := secondWaits(); len(s) != 1 || s[0] < 6*time.Second {
		t.Errorf("second /events waited %v, want one wait of at least 6 s", s)
	}
}

func TestLimiterPoolSharesPerKey(t *testing.T) {
	tests := []struct {
		name     string
		key2     string
		wantWait bool
	}{
		{"same key shares the budget", testKey, true},
		{"other key has its own", "another-key", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pool := NewLimiterPool(Budget{})
			clock := newFakeClock(time.Unix(1_800_000_000, 0))
			h := func(w http.ResponseWriter, r *http.Request) {
				serveJSON(w, 200, []byte(`{"data":[]}`))
			}
			cfg := func(key string) func(*Config) {
				return func(c *Config) {
					c.Limiters, c.APIKey, c.Sleep, c.Now = pool, key, clock.Sleep, clock.Now
				}
			}
			a := newEnv(t, h, cfg(testKey))
			b := newEnv(t, h, cfg(tt.key2))
			if _, err := a.client.Events(context.Background(), SearchParams{}); err != nil {
				t.Fatal(err)
			}
			if _, err := b.client.Events(context.Background(), SearchParams{}); err != nil {
				t.Fatal(err)
			}
			if waited := len(clock.longSleeps()) > 0; waited != tt.wantWait {
				t.Errorf("second connector waited: %v, want %v", waited, tt.wantWait)
			}
			if strings.Contains(fmt.Sprintf("%#v", pool.keys), testKey) {
				t.Error("pool holds the key in clear")
			}
		})
	}
}

func TestConcurrentClients(t *testing.T) {
	pool := NewLimiterPool(Budget{PerMinute: 120})
	env := newEnv(t, func(w http.ResponseWriter, r *http.Request) {
		serveJSON(w, 200, fixture(t, "events-stream-page-3.json"))
	}, func(c *Config) { c.Limiters = pool })

	var wg sync.WaitGroup
	for range 6 {
		wg.Go(func() {
			for range 10 {
				if _, err := env.client.EventsStream(context.Background(), StreamParams{}); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	if n := len(env.rec.requests()); n != 60 {
		t.Errorf("requests = %d", n)
	}
}

func TestZeroLimiterPool(t *testing.T) {
	var p LimiterPool
	if kl := p.forKey("k"); kl.events.Burst() != 1 || kl.overall.Burst() != 10 {
		t.Errorf("bursts = %d, %d", kl.events.Burst(), kl.overall.Burst())
	}
}
