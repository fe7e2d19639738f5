package store

import (
	"fmt"
	"testing"
	"time"

	"warden/backend/audit"
)

// testOrg has a colon and a slash so key components are exercised.
const testOrg = "org:1/a"

// openTest opens a store in a fresh temporary directory and closes it at the end of the test.
func openTest(t testing.TB) *Store {
	t.Helper()
	s, err := Open(Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	return s
}

// base is the fixed time test events are relative to.
var base = time.Date(2026, 11, 16, 8, 0, 0, 0, time.UTC)

// ev builds an event at base+sec seconds with the given id.
func ev(id string, sec int) audit.Event {
	return audit.Event{
		ID:         id,
		Time:       base.Add(time.Duration(sec) * time.Second),
		Action:     "user_logged_in",
		ActorID:    "712020:aaaa",
		ActorEmail: "Alice@Example.com",
		IP:         "192.0.2.1",
		Country:    "Sweden",
		Product:    "jira",
		Raw:        []byte(fmt.Sprintf(`{"id":%q}`, id)),
	}
}

func ids(events []audit.Event) []string {
	out := make([]string, len(events))
	for i := range events {
		out[i] = events[i].ID
	}
	return out
}

func mustCount(t *testing.T, s *Store, org string) int {
	t.Helper()
	n, err := s.CountEvents(org)
	if err != nil {
		t.Fatalf("count: %v", err)
	}
	return n
}
