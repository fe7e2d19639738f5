package store

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"testing"
	"time"

	"warden/backend/audit"
)

func TestUsers(t *testing.T) {
	s := openTest(t)
	mfa := true
	first := []audit.User{
		{AccountID: "712020:aaaa", Name: "Alice", Email: "Alice@Example.com", Admin: true,
			Roles: []string{"atlassian/org-admin"}, Managed: true, MFA: &mfa,
			LastActive: base, Products: []string{"jira"}},
		{AccountID: "712020:bbbb", Name: "Bob", Email: "bob@example.com"},
		{AccountID: "557058:app", Name: "Bot"},
	}
	if err := s.PutUsers(testOrg, first); err != nil {
		t.Fatal(err)
	}
	got, err := s.Users(testOrg)
	if err != nil {
		t.Fatal(err)
	}
	want := slices.Clone(first)
	slices.SortFunc(want, func(a, b audit.User) int { return compareStr(a.AccountID, b.AccountID) })
	if !reflect.DeepEqual(got, want) {
		t.Errorf("users:\n got %+v\nwant %+v", got, want)
	}

	lookups := []struct {
		key, want string
	}{
		{"712020:aaaa", "712020:aaaa"},
		{"alice@example.com", "712020:aaaa"},
		{"BOB@example.com", "712020:bbbb"},
		{"557058:app", "557058:app"},
	}
	for _, l := range lookups {
		u, err := s.User(testOrg, l.key)
		if err != nil || u.AccountID != l.want {
			t.Errorf("user %q: %q %v, want %q", l.key, u.AccountID, err, l.want)
		}
	}

	// Replacing drops users and email entries that are gone.
	if err := s.PutUsers(testOrg, []audit.User{{AccountID: "712020:bbbb", Email: "robert@example.com"}}); err != nil {
		t.Fatal(err)
	}
	for _, gone := range []string{"712020:aaaa", "alice@example.com", "bob@example.com"} {
		if _, err := s.User(testOrg, gone); !errors.Is(err, ErrNotFound) {
			t.Errorf("user %q after replace: %v, want ErrNotFound", gone, err)
		}
	}
	if u, err := s.User(testOrg, "robert@example.com"); err != nil || u.AccountID != "712020:bbbb" {
		t.Errorf("renamed email: %+v %v", u, err)
	}
	if got, _ := s.Users("other"); len(got) != 0 {
		t.Errorf("other org has users %v", got)
	}
}

func compareStr(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func TestPutUsersLargeDirectory(t *testing.T) {
	s := openTest(t)
	users := make([]audit.User, 20000)
	for i := range users {
		users[i] = audit.User{AccountID: fmt.Sprintf("712020:%06d", i),
			Email: fmt.Sprintf("user%d@example.com", i), Name: "A user with a longish name",
			Roles: []string{"role-one", "role-two"}, LastActive: base.Add(time.Duration(i))}
	}
	if err := s.PutUsers(testOrg, users); err != nil {
		t.Fatal(err)
	}
	got, err := s.Users(testOrg)
	if err != nil || len(got) != len(users) {
		t.Fatalf("%d users, %v", len(got), err)
	}
	if u, err := s.User(testOrg, "user19999@example.com"); err != nil || u.AccountID != "712020:019999" {
		t.Errorf("lookup: %+v %v", u, err)
	}
}

func TestDomainsAndActions(t *testing.T) {
	s := openTest(t)
	if d, err := s.Domains(testOrg); err != nil || d != nil {
		t.Errorf("fresh domains: %v %v", d, err)
	}
	domains := []audit.Domain{{ID: "d1", Name: "example.com", Status: "verified", Verified: true}}
	actions := []audit.ActionInfo{{Key: "user_logged_in", DisplayName: "Logged in",
		Groups: []string{"auth"}}}
	if err := s.PutDomains(testOrg, domains); err != nil {
		t.Fatal(err)
	}
	if err := s.PutActions(testOrg, actions); err != nil {
		t.Fatal(err)
	}
	if d, err := s.Domains(testOrg); err != nil || !reflect.DeepEqual(d, domains) {
		t.Errorf("domains %+v %v", d, err)
	}
	if a, err := s.Actions(testOrg); err != nil || !reflect.DeepEqual(a, actions) {
		t.Errorf("actions %+v %v", a, err)
	}
}
