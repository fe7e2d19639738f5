package store

import (
	"slices"
	"testing"
	"time"

	"warden/backend/audit"
)

func TestOrgsListsEveryWrittenOrg(t *testing.T) {
	s, err := Open(Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()

	for _, org := range []string{"org-b", "org-a:with:colons"} {
		ev := audit.Event{ID: "e-" + org, Time: time.Unix(1e9, 0), Action: "user_logged_in"}
		if _, err := s.PutEvents(org, []audit.Event{ev}); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.Orgs()
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(got)
	if want := []string{"org-a:with:colons", "org-b"}; !slices.Equal(got, want) {
		t.Errorf("Orgs() = %q, want %q", got, want)
	}
}
