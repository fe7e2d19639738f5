package store

import (
	"errors"
	"fmt"
	"os"
	"reflect"
	"slices"
	"syscall"
	"testing"
	"time"

	"warden/backend/audit"
)

func TestCommitPageDedup(t *testing.T) {
	s := openTest(t)
	pages := []struct {
		name      string
		events    []audit.Event
		wantAdded int
		wantTotal int
	}{
		{"repeat inside a page", []audit.Event{ev("a", 1), ev("b", 2), ev("a", 1)}, 2, 2},
		{"overlap with the last page", []audit.Event{ev("b", 2), ev("c", 3)}, 1, 3},
		{"replay of a whole page", []audit.Event{ev("b", 2), ev("c", 3)}, 0, 3},
		{"same id with another time is still a duplicate", []audit.Event{ev("c", 99)}, 0, 3},
		{"empty page moves only the cursor", nil, 0, 3},
	}
	for i, p := range pages {
		cur := Cursor{Cursor: fmt.Sprint("c", i), Pages: i + 1}
		added, err := s.CommitPage(testOrg, p.events, cur)
		if err != nil {
			t.Fatalf("%s: %v", p.name, err)
		}
		if added != p.wantAdded {
			t.Errorf("%s: added %d, want %d", p.name, added, p.wantAdded)
		}
		if n := mustCount(t, s, testOrg); n != p.wantTotal {
			t.Errorf("%s: count %d, want %d", p.name, n, p.wantTotal)
		}
		got, ok, err := s.Cursor(testOrg)
		if err != nil || !ok || got.Cursor != cur.Cursor || got.Pages != cur.Pages {
			t.Errorf("%s: cursor %+v %v %v, want %+v", p.name, got, ok, err, cur)
		}
	}

	// PutEvents shares the dedup and leaves the cursor alone.
	added, err := s.PutEvents(testOrg, []audit.Event{ev("a", 1), ev("d", 4)})
	if err != nil || added != 1 {
		t.Fatalf("put events: added %d, %v", added, err)
	}
	if c, _, _ := s.Cursor(testOrg); c.Cursor != "c4" {
		t.Errorf("PutEvents changed the cursor to %q", c.Cursor)
	}
}

func TestCommitPageFailureLeavesNothing(t *testing.T) {
	s := openTest(t)
	if _, err := s.CommitPage(testOrg, []audit.Event{ev("a", 1)}, Cursor{Cursor: "c1"}); err != nil {
		t.Fatal(err)
	}

	// Fail the second page at the last moment, after every key was staged.
	boom := errors.New("boom")
	s.beforeCommit = func() error { return boom }
	page := []audit.Event{ev("b", 2), ev("c", 3)}
	page[1].Country, page[1].Action = "Norway", "new_action"
	if _, err := s.CommitPage(testOrg, page, Cursor{Cursor: "c2"}); !errors.Is(err, boom) {
		t.Fatalf("commit: %v, want boom", err)
	}
	assertState(t, s, []string{"a"}, "c1")
	if d, _ := s.Distinct(testOrg, "country"); !slices.Equal(d, []string{"Sweden"}) {
		t.Errorf("distinct countries after failure: %v", d)
	}

	// The same page commits once the failure is gone, and its distinct values are recorded.
	s.beforeCommit = nil
	if added, err := s.CommitPage(testOrg, page, Cursor{Cursor: "c2"}); err != nil || added != 2 {
		t.Fatalf("retry: added %d, %v", added, err)
	}
	assertState(t, s, []string{"c", "b", "a"}, "c2")
	if d, _ := s.Distinct(testOrg, "country"); !slices.Equal(d, []string{"Norway", "Sweden"}) {
		t.Errorf("distinct countries after retry: %v", d)
	}
}

// assertState checks the stored events (newest first), counter and cursor agree.
func assertState(t *testing.T, s *Store, wantIDs []string, wantCursor string) {
	t.Helper()
	p, err := s.Query(audit.Filter{Org: testOrg})
	if err != nil {
		t.Fatal(err)
	}
	if got := ids(p.Events); !slices.Equal(got, wantIDs) {
		t.Errorf("events %v, want %v", got, wantIDs)
	}
	if n := mustCount(t, s, testOrg); n != len(wantIDs) {
		t.Errorf("count %d, want %d", n, len(wantIDs))
	}
	if c, _, _ := s.Cursor(testOrg); c.Cursor != wantCursor {
		t.Errorf("cursor %q, want %q", c.Cursor, wantCursor)
	}
}

func TestCommitPageSplitsHugePage(t *testing.T) {
	s := openTest(t)
	commits := 0
	s.beforeCommit = func() error { commits++; return nil }

	// Far more entries than one transaction of a 16 MB memtable takes.
	const n = 30000
	page := make([]audit.Event, n)
	for i := range page {
		page[i] = ev(fmt.Sprintf("id-%06d", i), i%500)
	}
	added, err := s.CommitPage(testOrg, page, Cursor{Cursor: "end"})
	if err != nil || added != n {
		t.Fatalf("commit: added %d, %v", added, err)
	}
	if commits < 2 {
		t.Errorf("page committed in %d transactions; expected a split", commits)
	}
	if c, _, _ := s.Cursor(testOrg); c.Cursor != "end" {
		t.Errorf("cursor %q", c.Cursor)
	}
	if got := mustCount(t, s, testOrg); got != n {
		t.Errorf("count %d", got)
	}

	// Replaying the page after a simulated crash between parts stores nothing twice.
	if added, err := s.CommitPage(testOrg, page, Cursor{Cursor: "end"}); err != nil || added != 0 {
		t.Errorf("replay: added %d, %v", added, err)
	}
}

func TestEventLookup(t *testing.T) {
	s := openTest(t)
	want := fullEvent()
	want.Org = testOrg
	if _, err := s.PutEvents(testOrg, []audit.Event{want}); err != nil {
		t.Fatal(err)
	}
	got, err := s.Event(testOrg, want.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("event:\n got %+v\nwant %+v", got, want)
	}
	if _, err := s.Event(testOrg, "missing"); !errors.Is(err, ErrNotFound) {
		t.Errorf("missing event: %v", err)
	}
	if _, err := s.Event("other", want.ID); !errors.Is(err, ErrNotFound) {
		t.Errorf("event of another org: %v", err)
	}
}

func TestEventOrgIsTheStoreOrg(t *testing.T) {
	s := openTest(t)
	e := ev("a", 1)
	e.Org = "something else"
	if _, err := s.PutEvents(testOrg, []audit.Event{e}); err != nil {
		t.Fatal(err)
	}
	got, err := s.Event(testOrg, "a")
	if err != nil || got.Org != testOrg {
		t.Errorf("org %q, %v", got.Org, err)
	}
}

func TestOrgsAreIsolated(t *testing.T) {
	s := openTest(t)

	// "a" is a byte prefix of "ab"; length-prefixed components keep them apart.
	for _, org := range []string{"a", "ab"} {
		if _, err := s.CommitPage(org, []audit.Event{ev(org+"-1", 1)}, Cursor{Cursor: org}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.DeleteOrg("a"); err != nil {
		t.Fatal(err)
	}
	if n := mustCount(t, s, "a"); n != 0 {
		t.Errorf("deleted org still counts %d", n)
	}
	if _, ok, _ := s.Cursor("a"); ok {
		t.Errorf("deleted org still has a cursor")
	}
	p, err := s.Query(audit.Filter{Org: "ab"})
	if err != nil || !slices.Equal(ids(p.Events), []string{"ab-1"}) {
		t.Errorf("other org after delete: %v %v", ids(p.Events), err)
	}

	// The deleted org starts over cleanly, including its distinct values.
	if added, err := s.PutEvents("a", []audit.Event{ev("a-1", 1)}); err != nil || added != 1 {
		t.Errorf("re-adding to deleted org: %d %v", added, err)
	}
	if d, _ := s.Distinct("a", "product"); !slices.Equal(d, []string{"jira"}) {
		t.Errorf("distinct after re-add: %v", d)
	}
}

func TestDistinct(t *testing.T) {
	s := openTest(t)
	page := []audit.Event{ev("a", 1), ev("b", 2), ev("c", 3), ev("d", 4)}
	page[1].Country, page[1].Product, page[1].Action = "SWEDEN", "Confluence", "user_logged_out"
	page[2].Country, page[2].Product = "", ""
	page[3].Country = "Norway"
	if _, err := s.CommitPage(testOrg, page, Cursor{}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		field string
		want  []string
	}{
		{"action", []string{"user_logged_in", "user_logged_out"}},
		{"country", []string{"Norway", "Sweden"}}, // case-folded; first spelling wins
		{"product", []string{"Confluence", "jira"}},
	}
	for _, tt := range tests {
		got, err := s.Distinct(testOrg, tt.field)
		if err != nil || !slices.Equal(got, tt.want) {
			t.Errorf("%s: %v %v, want %v", tt.field, got, err, tt.want)
		}
	}
	if _, err := s.Distinct(testOrg, "city"); err == nil {
		t.Errorf("unknown field accepted")
	}
}

func TestSecondOpenIsLocked(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()

	_, err = Open(Options{Dir: dir})
	if !errors.Is(err, ErrLocked) {
		t.Fatalf("second open: %v, want ErrLocked", err)
	}
}

func TestOpenCreatesPrivateDir(t *testing.T) {
	dir := t.TempDir() + "/nested/data"
	s, err := Open(Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	fi, err := os.Stat(dir)
	if err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("data dir mode %v, %v", fi.Mode().Perm(), err)
	}
}

func TestInMemory(t *testing.T) {
	s, err := Open(Options{InMemory: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if added, err := s.CommitPage(testOrg, []audit.Event{ev("a", 1)}, Cursor{}); err != nil || added != 1 {
		t.Fatalf("commit: %d %v", added, err)
	}
	s.GC() // a no-op in memory, and must not fail
}

func TestDiskFull(t *testing.T) {
	s := openTest(t)
	free := uint64(1 << 40)
	s.freeBytes = func() (uint64, error) { return free, nil }
	if _, err := s.CommitPage(testOrg, []audit.Event{ev("a", 1)}, Cursor{Cursor: "c1"}); err != nil {
		t.Fatal(err)
	}

	free = 10 << 20
	writes := []struct {
		name string
		do   func() error
	}{
		{"commit page", func() error {
			_, err := s.CommitPage(testOrg, []audit.Event{ev("b", 2)}, Cursor{Cursor: "c2"})
			return err
		}},
		{"put events", func() error { _, err := s.PutEvents(testOrg, []audit.Event{ev("b", 2)}); return err }},
		{"set cursor", func() error { return s.SetCursor(testOrg, Cursor{Cursor: "c3"}) }},
		{"put json", func() error { return s.PutJSON("x", 1) }},
		{"put users", func() error { return s.PutUsers(testOrg, []audit.User{{AccountID: "u"}}) }},
	}
	for _, w := range writes {
		if err := w.do(); !errors.Is(err, ErrDiskFull) {
			t.Errorf("%s on a full disk: %v, want ErrDiskFull", w.name, err)
		}
	}
	assertState(t, s, []string{"a"}, "c1")

	// Space comes back: writing works again.
	free = 1 << 40
	if added, err := s.CommitPage(testOrg, []audit.Event{ev("b", 2)}, Cursor{Cursor: "c2"}); err != nil || added != 1 {
		t.Fatalf("after space returned: %d %v", added, err)
	}
	assertState(t, s, []string{"b", "a"}, "c2")
}

func TestMapErr(t *testing.T) {
	tests := []struct {
		name string
		err  error
		full bool
	}{
		{"wrapped errno", fmt.Errorf("write: %w", &os.PathError{Op: "write", Err: syscall.ENOSPC}), true},
		{"flattened by badger", errors.New("while writing: err: write /d/000001.vlog: no space left on device"), true},
		{"windows text", errors.New("There is not enough space on the disk."), true},
		{"other", errors.New("permission denied"), false},
	}
	for _, tt := range tests {
		if got := errors.Is(mapErr(tt.err), ErrDiskFull); got != tt.full {
			t.Errorf("%s: disk full %v, want %v", tt.name, got, tt.full)
		}
	}
}

func TestCursorRoundTrip(t *testing.T) {
	s := openTest(t)
	if _, ok, err := s.Cursor(testOrg); ok || err != nil {
		t.Fatalf("fresh cursor: %v %v", ok, err)
	}
	want := Cursor{Cursor: "abc", Watermark: base, From: base.Add(-time.Hour), Backfilled: true,
		UpdatedAt: base.Add(time.Minute), Pages: 3, Events: 1500}
	if err := s.SetCursor(testOrg, want); err != nil {
		t.Fatal(err)
	}
	got, ok, err := s.Cursor(testOrg)
	if err != nil || !ok || !reflect.DeepEqual(got, want) {
		t.Errorf("cursor %+v %v %v, want %+v", got, ok, err, want)
	}
}

func TestTrimKeepsData(t *testing.T) {
	s := openTest(t)
	page := make([]audit.Event, 2000)
	for i := range page {
		page[i] = ev(fmt.Sprintf("e%05d", i), i)
	}
	if _, err := s.CommitPage(testOrg, page, Cursor{Cursor: "c"}); err != nil {
		t.Fatal(err)
	}

	// Dropping the mapped pages must not lose a byte: they come back from the page cache.
	s.wmu.Lock()
	s.trim()
	s.wmu.Unlock()
	for _, id := range []string{"e00000", "e01999"} {
		if e, err := s.Event(testOrg, id); err != nil || e.ID != id || len(e.Raw) == 0 {
			t.Errorf("event %s after trim: %+v %v", id, e.ID, err)
		}
	}
	if n := mustCount(t, s, testOrg); n != len(page) {
		t.Errorf("count after trim %d", n)
	}
}
