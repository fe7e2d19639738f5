package store

import (
	"testing"
	"time"

	"warden/backend/audit"
)

func TestCommitPageNewReturnsOnlyNewEvents(t *testing.T) {
	s, err := Open(Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()

	ev := func(id string) audit.Event {
		return audit.Event{ID: id, Time: time.Unix(1e9, 0), Action: "user_logged_in"}
	}
	tests := []struct {
		page []audit.Event
		want []string
	}{
		{[]audit.Event{ev("a"), ev("b"), ev("a")}, []string{"a", "b"}},
		{[]audit.Event{ev("b"), ev("c")}, []string{"c"}},
		{[]audit.Event{ev("a"), ev("c")}, nil},
	}
	for i, tt := range tests {
		fresh, err := s.CommitPageNew("org", tt.page, Cursor{Cursor: "c"})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, e := range fresh {
			got = append(got, e.ID)
			if e.Org != "org" {
				t.Errorf("page %d: event %s has org %q", i, e.ID, e.Org)
			}
		}
		if len(got) != len(tt.want) || (len(got) > 0 && got[len(got)-1] != tt.want[len(got)-1]) {
			t.Errorf("page %d: new events %v, want %v", i, got, tt.want)
		}
	}
}
