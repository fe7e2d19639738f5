package syncer

import (
	"context"
	"errors"
	"net/http/httptest"
	"testing"
	"time"

	"warden/backend/atlassian"
	"warden/backend/atlassian/fake"
	"warden/backend/audit"
	"warden/backend/store"
)

const fixtures = "../../../shared/fixtures/atlassian"

// harness is a fake API, a client against it and an in-memory store.
type harness struct {
	fake   *fake.Server
	client *atlassian.Client
	store  *store.Store
	sync   *Syncer
	org    string
}

func newHarness(t *testing.T, opts fake.Options, pageSize int) *harness {
	t.Helper()
	f := fake.New(opts)
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)

	cl, err := atlassian.New(atlassian.Config{
		BaseURL: srv.URL, OrgID: opts.OrgID, APIKey: opts.APIKey,
		Sleep: func(ctx context.Context, d time.Duration) error { return ctx.Err() },
		Limiters: atlassian.NewLimiterPool(atlassian.Budget{PerMinute: 1e6,
			EventsPerMinute: 1e6}),
	})
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(store.Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })

	now := func() time.Time { return time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC) }
	s := New(Options{Store: st, Now: now, PageSize: pageSize})
	return &harness{fake: f, client: cl, store: st, sync: s, org: opts.OrgID}
}

func (h *harness) count(t *testing.T) int {
	t.Helper()
	n, err := h.store.CountEvents(h.org)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func loadFixtures(t *testing.T) fake.Options {
	t.Helper()
	opts, err := fake.LoadFixtures(fixtures)
	if err != nil {
		t.Fatal(err)
	}
	return opts
}

func TestFixtureBackfill(t *testing.T) {
	h := newHarness(t, loadFixtures(t), 15)

	res, err := h.sync.Run(context.Background(), h.org, h.client)
	if err != nil {
		t.Fatal(err)
	}
	if res.Pages != 3 || res.Events != 41 || res.Added != 40 {
		t.Errorf("pages, records, added = %d, %d, %d; want 3, 41, 40",
			res.Pages, res.Events, res.Added)
	}
	if res.Users != 9 || res.Domains != 2 {
		t.Errorf("users, domains = %d, %d; want 9, 2", res.Users, res.Domains)
	}
	if n := h.count(t); n != 40 {
		t.Errorf("stored %d events, want 40", n)
	}

	cur, ok, err := h.store.Cursor(h.org)
	if err != nil || !ok {
		t.Fatalf("cursor: %v, %v", ok, err)
	}
	if want := "nKDcoii-TN8OBybDSg5xg2OjGg6NurNgY1S4OT0laeiqlSv_"; cur.Cursor != want {
		t.Errorf("stored cursor %q, want the one that fetched page 3 (%q)", cur.Cursor, want)
	}
	wm := time.Date(2026, 11, 18, 15, 50, 10, 528e6, time.UTC)
	if !cur.Watermark.Equal(wm) || !cur.Backfilled {
		t.Errorf("watermark %v backfilled %v; want %v true", cur.Watermark, cur.Backfilled, wm)
	}

	// The late event is kept: its time is a day before its processedAt.
	late, err := h.store.Event(h.org, "96f85e28-1b0e-4acc-80a8-fa538f577ed7")
	if err != nil {
		t.Fatalf("late event: %v", err)
	}
	if late.Action != "user_logged_out" {
		t.Errorf("late event action %q", late.Action)
	}

	// Polling again with the kept cursor adds nothing.
	res, err = h.sync.Run(context.Background(), h.org, h.client)
	if err != nil {
		t.Fatal(err)
	}
	if res.Added != 0 || h.count(t) != 40 {
		t.Errorf("second poll added %d, stored %d; want 0, 40", res.Added, h.count(t))
	}
}

func TestFixtureQuirksNormalized(t *testing.T) {
	h := newHarness(t, loadFixtures(t), 15)
	if _, err := h.sync.Run(context.Background(), h.org, h.client); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		id    string
		check func(e audit.Event) bool
		want  string
	}{
		{"6225d3d7-80a4-4d48-bdf0-93c4a614a181", func(e audit.Event) bool {
			return e.IP == "" && e.RawIP == "00.00.00.00" && e.IPInvalid
		}, "invalid IP kept raw and flagged"},
		{"8c4d3df5-889f-434c-ba1c-22f23fd7cb1b", func(e audit.Event) bool {
			return e.IP == "" && e.Country == "" && e.ActorEmail == ""
		}, "system event without location"},
		{"638dcaaf-63a6-40d2-be7b-00e0d60b43d6", func(e audit.Event) bool {
			return e.Category == audit.CategoryImpersonation && len(e.Targets) > 0 &&
				e.Targets[0].ID == "" && e.Targets[0].Email == "noah.fitzgerald@example.com"
		}, "impersonation target known by email only"},
		{"ad4aa496-025a-4811-9fd6-0dbef5afc025", func(e audit.Event) bool {
			return e.AuthType == "api-token" && e.TokenLabel == "group-sync-script"
		}, "token use kept"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			e, err := h.store.Event(h.org, tt.id)
			if err != nil {
				t.Fatal(err)
			}
			if !tt.check(e) {
				t.Errorf("%s: got %+v", tt.want, e)
			}
			if len(e.Raw) == 0 {
				t.Error("raw JSON not kept")
			}
		})
	}
}

func TestStaleCursorRestartsFromWatermark(t *testing.T) {
	h := newHarness(t, loadFixtures(t), 15)
	if _, err := h.sync.Run(context.Background(), h.org, h.client); err != nil {
		t.Fatal(err)
	}
	cur, _, _ := h.store.Cursor(h.org)
	cur.Cursor = "stale-cursor-from-last-month"
	if err := h.store.SetCursor(h.org, cur); err != nil {
		t.Fatal(err)
	}

	if _, err := h.sync.Run(context.Background(), h.org, h.client); err != nil {
		t.Fatalf("sync after stale cursor: %v", err)
	}
	if n := h.count(t); n != 40 {
		t.Errorf("stored %d, want 40 after restart", n)
	}
}

func TestMalformedPageLosesNothing(t *testing.T) {
	h := newHarness(t, loadFixtures(t), 15)
	h.fake.Inject(fake.Fault{Path: "/admin/v1/orgs/" + h.org + "/events-stream",
		Malformed: true, Times: 1, After: 1})

	_, err := h.sync.Run(context.Background(), h.org, h.client)
	if !errors.Is(err, atlassian.ErrMalformed) {
		t.Fatalf("err = %v, want ErrMalformed", err)
	}
	if n := h.count(t); n != 15 {
		t.Errorf("stored %d after the bad second page, want page 1's 15", n)
	}

	if _, err := h.sync.Run(context.Background(), h.org, h.client); err != nil {
		t.Fatal(err)
	}
	if n := h.count(t); n != 40 {
		t.Errorf("stored %d after resuming, want 40", n)
	}
}

func TestDemoBackfillStoresEveryEvent(t *testing.T) {
	opts := fake.Demo(7, time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC))
	h := newHarness(t, opts, 500)

	res, err := h.sync.Run(context.Background(), h.org, h.client)
	if err != nil {
		t.Fatal(err)
	}
	want := h.fake.EventCount()
	if h.count(t) != want || res.Added != want {
		t.Errorf("stored %d (added %d), fake has %d", h.count(t), res.Added, want)
	}
	if p := h.sync.Progress(h.org); p.Running || p.Fraction != 1 || p.Phase != "done" {
		t.Errorf("progress after sync: %+v", p)
	}

	// Directory groups come with the users (expand "groups"), for policy scoping.
	users, err := h.store.Users(h.org)
	if err != nil || len(users) == 0 {
		t.Fatalf("users: %v", err)
	}
	for _, u := range users {
		if len(u.Groups) == 0 {
			t.Errorf("user %s has no groups", u.Email)
		}
	}
}

// stuckSource answers every events-stream request with the same next cursor, as a broken
// proxy or API might.
type stuckSource struct{ calls int }

func (s *stuckSource) EventsStream(context.Context, atlassian.StreamParams) (atlassian.EventPage,
	error) {
	s.calls++
	return atlassian.EventPage{Meta: atlassian.Meta{Next: "same-cursor"}}, nil
}
func (*stuckSource) EventActions(context.Context) ([]atlassian.EventAction, error) {
	return nil, nil
}
func (*stuckSource) Users(context.Context) ([]atlassian.User, error)     { return nil, nil }
func (*stuckSource) Domains(context.Context) ([]atlassian.Domain, error) { return nil, nil }

func TestCursorThatDoesNotAdvanceEndsTheRun(t *testing.T) {
	st, err := store.Open(store.Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	src := &stuckSource{}
	s := New(Options{Store: st})

	if _, err := s.Run(context.Background(), "org", src); err != nil {
		t.Fatal(err)
	}
	if src.calls != 2 {
		t.Errorf("%d requests; want 2 (the first, then the repeat that is recognized)", src.calls)
	}
	cur, _, _ := st.Cursor("org")
	if cur.Cursor != "same-cursor" {
		t.Errorf("kept cursor %q, want the last one for the next poll", cur.Cursor)
	}
}
