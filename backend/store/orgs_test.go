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

func TestCountUsersMatchesTheDirectory(t *testing.T) {
	s, err := Open(Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()

	if n, err := s.CountUsers("org"); err != nil || n != 0 {
		t.Fatalf("empty org: %d, %v", n, err)
	}
	users := []audit.User{{AccountID: "a"}, {AccountID: "712020:b"}, {AccountID: "c"}}
	if err := s.PutUsers("org", users); err != nil {
		t.Fatal(err)
	}
	if err := s.PutUsers("other", users[:1]); err != nil {
		t.Fatal(err)
	}
	if n, err := s.CountUsers("org"); err != nil || n != 3 {
		t.Errorf("CountUsers = %d, %v; want 3", n, err)
	}
}
