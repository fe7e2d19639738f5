package app

import (
	"net/http/httptest"
	"testing"
	"time"

	"warden/backend/atlassian/fake"
	"warden/backend/audit"
)

func TestBackfillDaysBoundsTheFirstSync(t *testing.T) {
	now := time.Now()
	opts := fake.Demo(3, now)
	// Generated events are two seconds apart: one batch before the 30-day boundary, one after.
	opts.Events = append(fake.Generate(1500, 3, now.Add(-40*24*time.Hour)),
		fake.Generate(1500, 4, now.Add(-10*24*time.Hour))...)
	srv := httptest.NewServer(fake.New(opts))
	defer srv.Close()

	c := newTestCore(t, t.TempDir())
	defer c.Close()
	req := ConnectRequest{Name: "Test", OrgID: opts.OrgID, APIKey: opts.APIKey,
		Expires: now.AddDate(0, 6, 0).Format("2006-01-02"), APIBase: srv.URL, BackfillDays: 30}
	conn, err := c.Connect(t.Context(), req)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.SyncConnector(t.Context(), conn.ID); err != nil {
		t.Fatal(err)
	}

	page, err := c.store.Query(audit.Filter{Org: opts.OrgID, Limit: 1000,
		Until: now.Add(-31 * 24 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Events) != 0 {
		t.Errorf("%d events older than the 30-day backfill were fetched", len(page.Events))
	}
	if n, _ := c.store.CountEvents(opts.OrgID); n != 1500 {
		t.Errorf("synced %d events, want the 1500 of the last 30 days", n)
	}

	req.BackfillDays = 181
	if _, err := c.Connect(t.Context(), req); err == nil {
		t.Error("a 181-day backfill was accepted")
	}
}
