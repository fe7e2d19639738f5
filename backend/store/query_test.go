package store

import (
	"cmp"
	"fmt"
	"slices"
	"testing"
	"time"

	"warden/backend/audit"
)

// queryData is a small org with overlapping users, IPs and many timestamp ties.
func queryData() []audit.Event {
	users := []struct{ id, email string }{
		{"712020:aaaa", "Alice@Example.com"},
		{"712020:bbbb", "bob@example.com"},
		{"557058:cccc", ""}, // an app: no email
	}
	countries := []string{"Sweden", "Norway", "germany"}
	products := []string{"jira", "confluence", "admin"}
	actions := []string{"user_logged_in", "user_login_failed", "api_token_used", "group_created"}
	var out []audit.Event
	for i := range 240 {
		u := users[i%len(users)]
		e := audit.Event{
			ID:         fmt.Sprintf("ev-%03d", i),
			Time:       base.Add(time.Duration(i/4) * time.Minute), // four events per minute
			Action:     actions[i%len(actions)],
			ActorID:    u.id,
			ActorEmail: u.email,
			IP:         fmt.Sprintf("192.0.2.%d", i%5),
			Country:    countries[i%len(countries)],
			Product:    products[(i/2)%len(products)],
		}
		if i%7 == 0 {
			e.IP, e.RawIP, e.IPInvalid = "", "not-an-ip", true
		}
		out = append(out, e)
	}
	return out
}

// expected is the oracle: a full scan of events stored in slice order, sorted newest first
// with ties latest stored first.
func expected(all []audit.Event, f audit.Filter) []string {
	type stored struct {
		e   audit.Event
		seq int
	}
	var out []stored
	for i := range all {
		e := all[i]
		e.Org = f.Org
		if f.Matches(&e) {
			out = append(out, stored{e, i})
		}
	}
	slices.SortFunc(out, func(a, b stored) int {
		if c := b.e.Time.Compare(a.e.Time); c != 0 {
			return c
		}
		return cmp.Compare(b.seq, a.seq)
	})
	got := make([]string, len(out))
	for i := range out {
		got[i] = out[i].e.ID
	}
	return got
}

func TestQueryMatchesFullScan(t *testing.T) {
	s := openTest(t)
	data := queryData()
	if _, err := s.CommitPage(testOrg, data, Cursor{}); err != nil {
		t.Fatal(err)
	}
	at := func(min int) time.Time { return base.Add(time.Duration(min) * time.Minute) }
	tests := []struct {
		name string
		f    audit.Filter
	}{
		{"all", audit.Filter{}},
		{"user by id", audit.Filter{User: "712020:aaaa"}},
		{"user by id, other case", audit.Filter{User: "712020:AAAA"}},
		{"user by email, other case", audit.Filter{User: "alice@example.COM"}},
		{"app user without email", audit.Filter{User: "557058:cccc"}},
		{"unknown user", audit.Filter{User: "nobody@example.com"}},
		{"ip", audit.Filter{IP: "192.0.2.3"}},
		{"raw ip", audit.Filter{IP: "not-an-ip"}},
		{"action", audit.Filter{Action: "api_token_used"}},
		{"country, folded", audit.Filter{Country: "GERMANY"}},
		{"product", audit.Filter{Product: "Confluence"}},
		{"since", audit.Filter{Since: at(50)}},
		{"until", audit.Filter{Until: at(10)}},
		{"range", audit.Filter{Since: at(10), Until: at(20)}},
		{"range on a tie boundary", audit.Filter{Since: at(10), Until: at(10).Add(time.Nanosecond)}},
		{"user and action", audit.Filter{User: "bob@example.com", Action: "user_login_failed"}},
		{"user, country, range", audit.Filter{User: "712020:aaaa", Country: "sweden",
			Since: at(5), Until: at(40)}},
		{"ip and product", audit.Filter{IP: "192.0.2.1", Product: "jira"}},
		{"action and country", audit.Filter{Action: "group_created", Country: "Norway"}},
		{"nothing matches", audit.Filter{Action: "user_logged_in", Product: "nope"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.f.Org = testOrg
			want := expected(data, tt.f)
			for _, limit := range []int{0, 1, 3, 7} {
				if got := queryAll(t, s, tt.f, limit); !slices.Equal(got, want) {
					t.Errorf("limit %d:\n got %v\nwant %v", limit, got, want)
				}
			}
		})
	}
}

// queryAll follows Page.Next until the end and returns every id in order.
func queryAll(t *testing.T, s *Store, f audit.Filter, limit int) []string {
	t.Helper()
	f.Limit = limit
	got := []string{}
	for range 1000 {
		p, err := s.Query(f)
		if err != nil {
			t.Fatal(err)
		}
		if limit > 0 && len(p.Events) > limit {
			t.Fatalf("page of %d events, limit %d", len(p.Events), limit)
		}
		got = append(got, ids(p.Events)...)
		if p.Next == "" {
			return got
		}
		if len(p.Events) == 0 {
			t.Fatalf("empty page with a next cursor")
		}
		f.Before = p.Next
	}
	t.Fatal("paging did not end")
	return nil
}

func TestQueryLimits(t *testing.T) {
	s := openTest(t)
	page := make([]audit.Event, 1200)
	for i := range page {
		page[i] = ev(fmt.Sprintf("e%04d", i), i)
	}
	if _, err := s.CommitPage(testOrg, page, Cursor{}); err != nil {
		t.Fatal(err)
	}
	tests := []struct{ limit, want int }{{0, 100}, {-1, 100}, {5, 5}, {1000, 1000}, {5000, 1000}}
	for _, tt := range tests {
		p, err := s.Query(audit.Filter{Org: testOrg, Limit: tt.limit})
		if err != nil || len(p.Events) != tt.want || p.Next == "" {
			t.Errorf("limit %d: %d events, next %q, %v", tt.limit, len(p.Events), p.Next, err)
		}
	}

	// An exact fit has no next page.
	p, err := s.Query(audit.Filter{Org: testOrg, Since: base.Add(1195 * time.Second), Limit: 5})
	if err != nil || len(p.Events) != 5 || p.Next != "" {
		t.Errorf("exact fit: %d events, next %q, %v", len(p.Events), p.Next, err)
	}
}

func TestQueryRejects(t *testing.T) {
	s := openTest(t)
	for _, f := range []audit.Filter{{}, {Org: testOrg, Before: "!!"}, {Org: testOrg, Before: "AAAA"}} {
		if _, err := s.Query(f); err == nil {
			t.Errorf("query %+v accepted", f)
		}
	}
}
