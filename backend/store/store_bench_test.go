package store

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"warden/backend/audit"
)

// benchDir holds the shared 1,000,000-event dataset; TestMain removes it.
var (
	benchOnce  sync.Once
	benchStore *Store
	benchDir   string
	benchErr   error
	benchBuild struct {
		took time.Duration
		rss  map[string]int // /proc/self/status memory lines right after the build, in kB
		// Highest RssAnon and RssFile seen while building, sampled every 50 ms, in kB.
		maxAnon, maxFile int
	}
)

func TestMain(m *testing.M) {
	code := m.Run()
	if benchStore != nil {
		benchStore.Close()
	}
	if benchDir != "" {
		os.RemoveAll(benchDir)
	}
	os.Exit(code)
}

const (
	benchOrg    = "8c3f6a2e-0b1d-4c5e-9f7a-2d4b6e8f0a1c" // real org ids are UUIDs
	benchEvents = 1_000_000
	benchUsers  = 2000
	benchPage   = 500
)

// rawTemplate is shaped like an events-stream item from the Admin API (about 900 bytes).
const rawTemplate = `{"id":"%s","type":"events","attributes":{"time":"%s","processedAt":"%s",` +
	`"action":"%s","actor":{"id":"%s","name":"User %d","email":"%s","links":{"self":` +
	`"https://api.atlassian.com/users/%s"}},"context":[{"id":"%s","type":"users","attributes":` +
	`{"accountType":"atlassian","email":"%s","name":"User %d"}}],"location":{"ip":"%s",` +
	`"geo":"59.33,18.07","countryName":"%s","regionName":"Region","city":"City"}},"links":` +
	`{"self":"https://api.atlassian.com/admin/v1/orgs/8c3f6a2e-0b1d-4c5e-9f7a-2d4b6e8f0a1c/` +
	`events/%s"}}`

var benchActions = []string{"user_logged_in", "user_login_failed", "api_token_used",
	"group_created", "user_added_to_group", "page_viewed", "issue_exported"}
var benchCountries = []string{"Sweden", "Norway", "Germany", "United States", "Japan"}
var benchProducts = []string{"jira", "confluence", "admin", "bitbucket"}

// benchEvent builds the i-th synthetic event; time goes backwards like a backfill.
func benchEvent(i int) audit.Event {
	u := i % benchUsers
	t := base.Add(-time.Duration(i) * 3 * time.Second)
	id := fmt.Sprintf("%08x-01b2-4b44-817b-%012x", i, i*7919)
	actor := fmt.Sprintf("712020:%08x-9a4d-4f08-b6e2-5c1d9f3a7e40", u)
	email := fmt.Sprintf("user%d@example.com", u)
	ip := fmt.Sprintf("192.0.%d.%d", (i/256)%256, i%256)
	action := benchActions[i%len(benchActions)]
	country := benchCountries[(i/3)%len(benchCountries)]
	ts := t.Format(time.RFC3339Nano)
	raw := fmt.Sprintf(rawTemplate, id, ts, ts, action, actor, u, email, actor, actor, email, u,
		ip, country, id)
	return audit.Event{
		ID: id, Time: t, ProcessedAt: t.Add(2 * time.Second), Action: action,
		Category: audit.CategoryLoginSucceeded, ActorID: actor, ActorName: fmt.Sprint("User ", u),
		ActorEmail: email, IP: ip, Country: country, Region: "Region", City: "City",
		Geo: "59.33,18.07", Product: benchProducts[i%len(benchProducts)],
		Containers: []audit.Object{{ID: "site-1", Type: "sites", Host: "acme.atlassian.net"}},
		Raw:        []byte(raw),
	}
}

func benchPageOf(start int) []audit.Event {
	page := make([]audit.Event, benchPage)
	for j := range page {
		page[j] = benchEvent(start + j)
	}
	return page
}

// benchRequested reports whether -test.bench was given, so the big dataset is never built by
// a plain go test run.
func benchRequested() bool {
	f := flag.Lookup("test.bench")
	return f != nil && f.Value.String() != ""
}

func BenchmarkCommitPage(b *testing.B) {
	s := openTest(b)

	// Build pages ahead so the timer measures the store, not the event generator.
	const pages = 40
	input := make([][]audit.Event, pages)
	for p := range input {
		input[p] = benchPageOf(p * benchPage)
	}

	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		page := input[i%pages]
		if i >= pages {
			// Fresh ids, so every page really stores 500 events instead of deduplicating.
			for j := range page {
				page[j].ID = fmt.Sprintf("%d-%d", i, j)
			}
		}
		added, err := s.CommitPage(benchOrg, page, Cursor{Cursor: fmt.Sprint(i)})
		if err != nil || added != benchPage {
			b.Fatalf("commit: added %d, %v", added, err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*benchPage), "ns/event")
}

// BenchmarkJSONDecodeReference decodes the same raw events with encoding/json into a struct
// of the wire shape: the yardstick for "the store costs no more than JSON decoding".
func BenchmarkJSONDecodeReference(b *testing.B) {
	raws := make([][]byte, 1000)
	for i := range raws {
		raws[i] = benchEvent(i).Raw
	}
	type wire struct {
		ID         string `json:"id"`
		Attributes struct {
			Time, ProcessedAt, Action string
			Actor                     struct{ ID, Name, Email string }
			Context                   []struct {
				ID, Type   string
				Attributes map[string]string
			}
			Location struct {
				IP, Geo, CountryName, RegionName, City string
			}
		} `json:"attributes"`
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		var w wire
		if err := json.Unmarshal(raws[i%len(raws)], &w); err != nil {
			b.Fatal(err)
		}
	}
}

// loadBenchStore builds the 1,000,000-event dataset once per test binary.
func loadBenchStore(b *testing.B) *Store {
	b.Helper()
	if !benchRequested() {
		b.Skip("needs -bench")
	}
	benchOnce.Do(func() {
		benchDir, benchErr = os.MkdirTemp("", "warden-store-bench-")
		if benchErr != nil {
			return
		}
		// STORE_BENCH_MEMLIMIT_MB sets the soft memory limit the app is expected to set.
		if mb, err := strconv.Atoi(os.Getenv("STORE_BENCH_MEMLIMIT_MB")); err == nil && mb > 0 {
			debug.SetMemoryLimit(int64(mb) << 20)
			defer debug.SetMemoryLimit(math.MaxInt64)
		}
		benchStore, benchErr = Open(Options{Dir: benchDir})
		if benchErr != nil {
			return
		}
		stop := sampleRSS()
		defer stop()
		start := time.Now()
		for i := 0; i < benchEvents; i += benchPage {
			cur := Cursor{Cursor: fmt.Sprint(i), Pages: i / benchPage, Events: i}
			if _, benchErr = benchStore.CommitPage(benchOrg, benchPageOf(i), cur); benchErr != nil {
				return
			}
		}
		benchBuild.took = time.Since(start)
		benchBuild.rss = procStatus()
	})
	if benchErr != nil {
		b.Fatal(benchErr)
	}
	return benchStore
}

func BenchmarkQueryUserNewest100(b *testing.B) {
	s := loadBenchStore(b)
	b.Logf("built %d events in %v (%.0f events/s); peaks while building: RssAnon %d MB, "+
		"RssFile %d MB; after build: %s", benchEvents, benchBuild.took.Round(time.Millisecond),
		benchEvents/benchBuild.took.Seconds(), benchBuild.maxAnon/1024, benchBuild.maxFile/1024,
		fmtStatus(benchBuild.rss))
	if n, err := s.CountEvents(benchOrg); err != nil || n != benchEvents {
		b.Fatalf("count %d, %v", n, err)
	}

	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		u := (i * 37) % benchUsers
		f := audit.Filter{Org: benchOrg, User: fmt.Sprintf("user%d@example.com", u), Limit: 100}
		p, err := s.Query(f)
		if err != nil || len(p.Events) != 100 || p.Next == "" {
			b.Fatalf("query: %d events, %v", len(p.Events), err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/op")
	b.ReportMetric(float64(benchBuild.rss["VmHWM"])/1024, "build-peak-RSS-MB")
	b.ReportMetric(benchBuild.took.Seconds(), "build-s")
}

func BenchmarkQueryTimeNewest100(b *testing.B) {
	s := loadBenchStore(b)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		until := base.Add(-time.Duration(i%100000) * time.Minute)
		p, err := s.Query(audit.Filter{Org: benchOrg, Until: until, Limit: 100})
		if err != nil || len(p.Events) != 100 {
			b.Fatalf("query: %d events, %v", len(p.Events), err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/op")
}

// sampleRSS records the peak anonymous and file-backed resident memory until stopped.
func sampleRSS() (stop func()) {
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
			}
			st := procStatus()
			benchBuild.maxAnon = max(benchBuild.maxAnon, st["RssAnon"])
			benchBuild.maxFile = max(benchBuild.maxFile, st["RssFile"])
		}
	}()
	return func() { close(done); <-finished }
}

// procStatus reads the memory lines of /proc/self/status (Linux only; empty elsewhere).
func procStatus() map[string]int {
	out := make(map[string]int)
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return out
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		name, rest, ok := strings.Cut(sc.Text(), ":")
		if !ok || !strings.HasPrefix(name, "Vm") && !strings.HasPrefix(name, "Rss") {
			continue
		}
		var kb int
		if _, err := fmt.Sscanf(strings.TrimSpace(rest), "%d kB", &kb); err == nil {
			out[name] = kb
		}
	}
	return out
}

func fmtStatus(m map[string]int) string {
	var parts []string
	for _, k := range []string{"VmHWM", "VmRSS", "RssAnon", "RssFile"} {
		parts = append(parts, fmt.Sprintf("%s %d MB", k, m[k]/1024))
	}
	return strings.Join(parts, ", ")
}
