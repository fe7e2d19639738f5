package app_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"warden/backend/atlassian/fake"
	"warden/backend/audit"
	"warden/backend/store"
)

// These tests run the real binary as separate processes, the way an admin or a script does.
// They need a usable Secret Service, because connect stores the key there; `make test` runs
// them under dbus-run-session with an unlocked gnome-keyring and sets WARDEN_REQUIRE_KEYRING so
// that a missing keyring fails instead of skipping.

var wardenBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "warden-bin")
	if err != nil {
		panic(err)
	}
	wardenBin = filepath.Join(dir, "warden")
	cmd := exec.Command("go", "build", "-o", wardenBin, "warden")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "build warden: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// slowFake serves generated events slowly enough that a sync can be killed half-way.
type slowFake struct {
	*fake.Server
	opts   fake.Options
	url    string
	pages  atomic.Int64
	delay  atomic.Int64 // nanoseconds per events-stream response
	closer func()
}

func newSlowFake(t *testing.T, n int, delay time.Duration) *slowFake {
	t.Helper()
	opts := fake.Demo(1, time.Now())
	opts.Events = fake.Generate(n, 1, time.Now().Add(-100*24*time.Hour))
	sf := &slowFake{Server: fake.New(opts), opts: opts}
	sf.delay.Store(int64(delay))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/events-stream") {
			sf.pages.Add(1)
			time.Sleep(time.Duration(sf.delay.Load()))
		}
		sf.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	sf.url = srv.URL
	return sf
}

func warden(t *testing.T, dataDir string, stdin string, args ...string) (string, string, error) {
	t.Helper()
	cmd := exec.Command(wardenBin, append([]string{"--data-dir", dataDir}, args...)...)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	return out.String(), errb.String(), err
}

func connectOrSkip(t *testing.T, dataDir string, sf *slowFake) {
	t.Helper()
	expires := time.Now().AddDate(0, 6, 0).Format("2006-01-02")
	_, stderr, err := warden(t, dataDir, sf.opts.APIKey, "connect", "--name", "Test org",
		"--org", sf.opts.OrgID, "--expires", expires, "--api-base", sf.url)
	if err != nil && strings.Contains(stderr, "keychain") &&
		os.Getenv("WARDEN_REQUIRE_KEYRING") == "" {
		t.Skipf("no usable Secret Service here (%s); `make test` provides one", stderr)
	}
	if err != nil {
		t.Fatalf("connect: %v\n%s", err, stderr)
	}
}

func countStored(t *testing.T, dataDir, org string) (counter, distinct int) {
	t.Helper()
	st, err := store.Open(store.Options{Dir: filepath.Join(dataDir, "db")})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()

	counter, err = st.CountEvents(org)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	f := audit.Filter{Org: org, Limit: 1000}
	for {
		page, err := st.Query(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range page.Events {
			if seen[e.ID] {
				t.Errorf("event %s stored twice", e.ID)
			}
			seen[e.ID] = true
		}
		if page.Next == "" {
			return counter, len(seen)
		}
		f.Before = page.Next
	}
}

func TestKillDuringSyncLosesAndDuplicatesNothing(t *testing.T) {
	const n = 12000
	sf := newSlowFake(t, n, 150*time.Millisecond)
	dir := t.TempDir()
	connectOrSkip(t, dir, sf)

	cmd := exec.Command(wardenBin, "--data-dir", dir, "sync", "--once")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(60 * time.Second)
	for sf.pages.Load() < 8 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()

	counter, distinct := countStored(t, dir, sf.opts.OrgID)
	if distinct == 0 || distinct >= n {
		t.Fatalf("after kill: %d stored; the kill should land mid-sync", distinct)
	}
	t.Logf("killed after %d pages requested with %d events stored", sf.pages.Load(), distinct)

	sf.delay.Store(0)
	if _, stderr, err := warden(t, dir, "", "sync", "--once"); err != nil {
		t.Fatalf("resume sync: %v\n%s", err, stderr)
	}
	counter, distinct = countStored(t, dir, sf.opts.OrgID)
	if counter != n || distinct != n {
		t.Errorf("after resume: counter %d, distinct %d; want %d", counter, distinct, n)
	}
}

func TestSecondInstanceIsRefused(t *testing.T) {
	sf := newSlowFake(t, 2000, 0)
	dir := t.TempDir()
	connectOrSkip(t, dir, sf)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	first := exec.CommandContext(ctx, wardenBin, "--data-dir", dir, "sync")
	if err := first.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = first.Process.Signal(syscall.SIGTERM); _ = first.Wait() }()

	// Wait until the first process has the store open and has synced.
	deadline := time.Now().Add(30 * time.Second)
	for sf.pages.Load() == 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}

	_, stderr, err := warden(t, dir, "", "events")
	if err == nil {
		t.Fatal("second process ran while the first held the store")
	}
	if !strings.Contains(stderr, "already running") || strings.Count(stderr, "\n") != 1 {
		t.Errorf("stderr = %q, want one line saying Warden is already running", stderr)
	}
}

func TestEventsJSONContract(t *testing.T) {
	dir := t.TempDir()
	files, _ := filepath.Glob("../../shared/fixtures/atlassian/events-stream-page-*.json")
	if len(files) != 3 {
		t.Fatalf("fixtures not found: %v", files)
	}
	out, stderr, err := warden(t, dir, "", append([]string{"import"}, files...)...)
	if err != nil {
		t.Fatalf("import: %v\n%s", err, stderr)
	}
	if !strings.Contains(out, "imported 41 events (40 new, 1 already stored)") {
		t.Errorf("import said %q", out)
	}
	// Importing again is idempotent.
	out, _, _ = warden(t, dir, "", append([]string{"import"}, files...)...)
	if !strings.Contains(out, "(0 new, 41 already stored)") {
		t.Errorf("second import said %q", out)
	}

	out, stderr, err = warden(t, dir, "", "events", "--org",
		"8c3f6a2e-0b1d-4c5e-9f7a-2d4b6e8f0a1c", "--user", "hana.sato@example.com", "--action",
		"user_login_failed", "--json")
	if err != nil {
		t.Fatalf("events: %v\n%s", err, stderr)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 5 {
		t.Fatalf("got %d lines, want Hana's 5 failed logins:\n%s", len(lines), out)
	}
	for _, key := range []string{`"id"`, `"time"`, `"action"`, `"actor_id"`, `"actor_email"`,
		`"ip":"192.0.2.199"`, `"country":"Romania"`, `"city":"Bucharest"`, `"product"`} {
		if !strings.Contains(lines[0], key) {
			t.Errorf("JSON line lacks %s: %s", key, lines[0])
		}
	}
}

func TestBadInputExitsWithOneLine(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name  string
		args  []string
		want  string
		stdin string
	}{
		{"unknown command", []string{"frobnicate"}, "unknown command", ""},
		{"connect without key", []string{"connect", "--org", "abc123", "--expires",
			time.Now().AddDate(0, 1, 0).Format("2006-01-02")}, "no API key", ""},
		{"import missing file", []string{"import", "/nonexistent/page.json"}, "read", ""},
		{"usage error", []string{"events", "--limit", "abc"}, "see warden --help", ""},
		{"bad severity", []string{"alerts", "--severity", "bogus"}, "low, medium or high", ""},
		{"bad schedule", []string{"sync", "--every", "bogus"}, "not a schedule", ""},
		{"stray argument", []string{"connectors", "extra"}, `unexpected "extra"`, ""},
		{"two output formats", []string{"actions", "--json", "--csv"}, "not both", ""},
		{"negative limit", []string{"events", "--limit", "-1"}, "--limit", ""},
		{"expiry not a date", []string{"connect", "--org", "abc123", "--expires",
			"06/01/2027"}, "not a date like", "some-key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, stderr, err := warden(t, dir, tt.stdin, tt.args...)
			if err == nil {
				t.Fatal("exit status 0")
			}
			if !strings.HasPrefix(stderr, "warden: ") || strings.Count(stderr, "\n") != 1 ||
				!strings.Contains(stderr, tt.want) {
				t.Errorf("stderr = %q, want one line containing %q", stderr, tt.want)
			}
		})
	}
}

func TestImportChecksEveryFileBeforeStoring(t *testing.T) {
	dir := t.TempDir()
	good := "../../shared/fixtures/atlassian/events-stream-page-1.json"
	bad := filepath.Join(t.TempDir(), "truncated.json")
	if err := os.WriteFile(bad, []byte(`{"data":[{"id":"x","attributes":{`), 0o600); err != nil {
		t.Fatal(err)
	}

	_, stderr, err := warden(t, dir, "", "import", good, bad)
	if err == nil || !strings.Contains(stderr, "truncated.json") ||
		strings.Count(stderr, "\n") != 1 {
		t.Fatalf("import with a bad file: err %v, stderr %q; want one line naming the file",
			err, stderr)
	}
	out, _, err := warden(t, dir, "", "events", "--json")
	if err == nil && strings.TrimSpace(out) != "" {
		t.Errorf("the good file was stored although the import failed:\n%s", out)
	}

	junk := filepath.Join(t.TempDir(), "junk.json")
	if err := os.WriteFile(junk, []byte(`{"foo":1}`+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, stderr, err := warden(t, dir, "", "import", junk); err == nil {
		t.Errorf("a file without events was accepted: %q", stderr)
	}
}
