package detect

import (
	"bufio"
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"warden/backend/audit"
	"warden/backend/store"
)

var update = flag.Bool("update", false, "rewrite the golden alert files")

// goldenAlert is the part of an alert a golden file pins: which policy, about whom, caused by
// which events, and why.
type goldenAlert struct {
	Policy   string    `json:"policy"`
	Severity Severity  `json:"severity"`
	Title    string    `json:"title"`
	User     string    `json:"user"`
	Time     time.Time `json:"time"`
	EventIDs []string  `json:"event_ids"`
	Evidence []string  `json:"evidence"`
}

// loadScenario reads a scenario folder.
func loadScenario(t *testing.T, dir string) ([]noted, scenarioConfig) {
	t.Helper()
	f, err := os.Open(filepath.Join(dir, "events.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var evs []noted
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var e noted
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatal(err)
		}
		evs = append(evs, e)
	}
	var cfg scenarioConfig
	b, err := os.ReadFile(filepath.Join(dir, "config.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &cfg); err != nil {
		t.Fatal(err)
	}
	return evs, cfg
}

// runScenario stores the events page by page, as a sync would, and detects on each page.
// Events noted "late event" are held back and delivered after everything else.
func runScenario(t *testing.T, evs []noted, cfg scenarioConfig) (*Engine, []Alert) {
	t.Helper()
	st := openStore(t)
	return runScenarioWith(t, newEngine(t, st, Options{}), st, evs, cfg)
}

func runScenarioWith(t *testing.T, e *Engine, st *store.Store, evs []noted,
	cfg scenarioConfig) (*Engine, []Alert) {
	t.Helper()
	const org = "scenario-org"
	if err := st.PutUsers(org, cfg.Users); err != nil {
		t.Fatal(err)
	}
	if err := e.DirectoryChanged(org); err != nil {
		t.Fatal(err)
	}
	if cfg.Settings != nil {
		for id, c := range cfg.Settings.Policies {
			if err := e.SetPolicy(org, id, c); err != nil {
				t.Fatal(err)
			}
		}
	}
	var now, late []audit.Event
	for _, n := range evs {
		if strings.Contains(n.Note, "late event") {
			late = append(late, n.Event)
		} else {
			now = append(now, n.Event)
		}
	}
	sortEvents(now)
	deliver := func(page []audit.Event) {
		if _, err := st.PutEvents(org, page); err != nil {
			t.Fatal(err)
		}
		if err := e.Process(org, page); err != nil {
			t.Fatal(err)
		}
	}
	for len(now) > 0 {
		n := min(40, len(now))
		deliver(now[:n])
		now = now[n:]
	}
	if err := e.Flush(org); err != nil {
		t.Fatal(err)
	}
	if len(late) > 0 {
		deliver(late)
	}
	if err := e.Settle(org, scenarioStart.Add(365*24*time.Hour)); err != nil {
		t.Fatal(err)
	}
	alerts, err := e.List(org, Filter{})
	if err != nil {
		t.Fatal(err)
	}
	slices.Reverse(alerts) // oldest first reads better in a golden file
	return e, alerts
}

// TestScenarios runs each testdata/scenarios folder and compares the alerts with its golden
// file; positives must be in an alert of the folder's policy and negatives in none.
func TestScenarios(t *testing.T) {
	dirs, err := filepath.Glob(filepath.Join("testdata", "scenarios", "*"))
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no scenarios: %v", err)
	}
	for _, dir := range dirs {
		policy := filepath.Base(dir)
		t.Run(policy, func(t *testing.T) {
			evs, cfg := loadScenario(t, dir)
			_, alerts := runScenario(t, evs, cfg)

			var got bytes.Buffer
			enc := json.NewEncoder(&got)
			for _, al := range alerts {
				g := goldenAlert{Policy: al.Policy, Severity: al.Severity, Title: al.Title,
					User: al.User, Time: al.Time, EventIDs: slices.Sorted(slices.Values(al.EventIDs)),
					Evidence: al.Evidence}
				if err := enc.Encode(g); err != nil {
					t.Fatal(err)
				}
			}
			golden := filepath.Join(dir, "alerts.golden")
			if *update {
				if err := os.WriteFile(golden, got.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if !bytes.Equal(got.Bytes(), want) {
				t.Errorf("alerts differ from %s (run with -update after checking):\ngot:\n%s\nwant:\n%s",
					golden, got.String(), want)
			}
			checkNotes(t, policy, evs, alerts)
		})
	}
}

// checkNotes holds the scenario to its notes.
func checkNotes(t *testing.T, policy string, evs []noted, alerts []Alert) {
	t.Helper()
	in := map[string][]string{} // event id -> policies alerting on it
	for _, al := range alerts {
		for _, id := range al.EventIDs {
			in[id] = append(in[id], al.Policy)
		}
	}
	for _, e := range evs {
		switch {
		case strings.HasPrefix(e.Note, "positive"):
			if !slices.Contains(in[e.ID], policy) {
				t.Errorf("positive event %s (%s) is in no %s alert", e.ID, e.Note, policy)
			}
		case strings.HasPrefix(e.Note, "negative"):
			if len(in[e.ID]) > 0 {
				t.Errorf("negative event %s (%s) is in alerts of %v", e.ID, e.Note, in[e.ID])
			}
		}
	}
}

// TestReplayDeterministic checks that the same events give the same alerts whether they
// arrive in one batch, page by page with a restart in the middle, in shuffled pages within
// the lateness bound, or as a Replay of the stored history.
func TestReplayDeterministic(t *testing.T) {
	evs, cfg := loadScenario(t, filepath.Join("testdata", "scenarios", PolicyImpossibleTravel))
	for _, n := range evs {
		if strings.Contains(n.Note, "late event") {
			t.Skip("scenario has late events")
		}
	}
	const org = "scenario-org"
	var all []audit.Event
	for _, n := range evs {
		all = append(all, n.Event)
	}
	sortEvents(all)

	run := func(name string, feed func(e *Engine, st *store.Store) *Engine) []string {
		st := openStore(t)
		if err := st.PutUsers(org, cfg.Users); err != nil {
			t.Fatal(err)
		}
		e := newEngine(t, st, Options{Lateness: 6 * time.Hour})
		e = feed(e, st)
		if err := e.Flush(org); err != nil {
			t.Fatal(err)
		}
		if err := e.Settle(org, scenarioStart.Add(365*24*time.Hour)); err != nil {
			t.Fatal(err)
		}
		alerts, err := e.List(org, Filter{})
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, al := range alerts {
			b, _ := json.Marshal(al)
			out = append(out, string(b))
		}
		if len(out) == 0 {
			t.Fatalf("%s: no alerts", name)
		}
		return out
	}
	put := func(t *testing.T, st *store.Store, e *Engine, page []audit.Event) {
		if _, err := st.PutEvents(org, page); err != nil {
			t.Fatal(err)
		}
		if err := e.Process(org, page); err != nil {
			t.Fatal(err)
		}
	}

	want := run("one batch", func(e *Engine, st *store.Store) *Engine {
		put(t, st, e, all)
		return e
	})
	got := run("pages with restart", func(e *Engine, st *store.Store) *Engine {
		for i := 0; i < len(all); i += 25 {
			put(t, st, e, all[i:min(i+25, len(all))])
			if i == 500 {
				e = newEngine(t, st, Options{Lateness: 6 * time.Hour})
			}
		}
		return e
	})
	if !slices.Equal(got, want) {
		t.Errorf("pages with restart:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	got = run("shuffled pages", func(e *Engine, st *store.Store) *Engine {
		// Swap neighbouring pages: each is at most a few hours out of order.
		var pages [][]audit.Event
		for i := 0; i < len(all); i += 10 {
			pages = append(pages, all[i:min(i+10, len(all))])
		}
		for i := 0; i+1 < len(pages); i += 2 {
			pages[i], pages[i+1] = pages[i+1], pages[i]
		}
		for _, p := range pages {
			put(t, st, e, p)
		}
		return e
	})
	if !slices.Equal(got, want) {
		t.Errorf("shuffled pages:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	got = run("replay", func(e *Engine, st *store.Store) *Engine {
		put(t, st, e, all)
		if err := e.Flush(org); err != nil {
			t.Fatal(err)
		}
		if err := e.Replay(t.Context(), org); err != nil {
			t.Fatal(err)
		}
		return e
	})
	if !slices.Equal(got, want) {
		t.Errorf("replay:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
