package fake

import (
	"encoding/json"
	"testing"
	"time"

	"warden/backend/atlassian"
)

func TestRedatedKeepsOrderAndSpacing(t *testing.T) {
	opts, err := LoadFixtures("testdata/atlassian")
	if err != nil {
		t.Fatal(err)
	}
	newest := time.Date(2031, 5, 1, 12, 0, 0, 0, time.UTC)
	got := opts.Redated(newest)
	if len(got.RawEvents) != len(opts.RawEvents) || got.StreamPages != nil {
		t.Fatalf("redated %d events, pages %v", len(got.RawEvents), got.StreamPages != nil)
	}

	decode := func(raw []byte) atlassian.Event {
		var e atlassian.Event
		if err := json.Unmarshal(raw, &e); err != nil {
			t.Fatal(err)
		}
		return e
	}
	var latest time.Time
	for i := range got.RawEvents {
		before, after := decode(opts.RawEvents[i]), decode(got.RawEvents[i])
		if before.ID != after.ID || before.Attributes.Action != after.Attributes.Action {
			t.Fatalf("event %d changed identity", i)
		}
		lag := before.Attributes.ProcessedAt.Sub(before.Attributes.Time.Time)
		if lagAfter := after.Attributes.ProcessedAt.Sub(after.Attributes.Time.Time); lag != lagAfter {
			t.Errorf("event %s: processing lag %v became %v", before.ID, lag, lagAfter)
		}
		if after.Attributes.ProcessedAt.After(latest) {
			latest = after.Attributes.ProcessedAt.Time
		}
	}
	if !latest.Equal(newest) {
		t.Errorf("newest processedAt %v, want %v", latest, newest)
	}
}
