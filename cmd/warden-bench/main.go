// Command warden-bench measures Warden's ingest pipeline, its store queries and a full
// backfill against the fake API, and prints one report. `make bench` runs it. Each phase runs
// in its own child process so that peak resident memory is measured per phase.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"runtime/pprof"
	"sort"
	"strconv"
	"strings"
	"time"

	"warden/backend/atlassian"
	"warden/backend/atlassian/fake"
	"warden/backend/audit"
	"warden/backend/detect"
	"warden/backend/geo"
	"warden/backend/store"
	"warden/backend/syncer"
)

const pageSize = 500

func main() {
	phase := flag.String("phase", "", "run one phase (internal)")
	dir := flag.String("dir", "", "work directory (internal)")
	events := flag.Int("events", 200000, "events for the decode and pipeline phases")
	backfill := flag.Int("backfill", 1000000, "events for the backfill phase")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile of the phase (with -phase)")
	flag.Parse()

	if *phase != "" {
		if *cpuprofile != "" {
			f, err := os.Create(*cpuprofile)
			if err == nil && pprof.StartCPUProfile(f) == nil {
				defer pprof.StopCPUProfile()
			}
		}
		if err := runPhase(*phase, *dir, *events, *backfill); err != nil {
			fmt.Fprintln(os.Stderr, "warden-bench:", err)
			pprof.StopCPUProfile()
			os.Exit(1)
		}
		return
	}
	if err := report(*events, *backfill); err != nil {
		fmt.Fprintln(os.Stderr, "warden-bench:", err)
		os.Exit(1)
	}
}

// result is what a phase prints as its last line, as JSON.
type result struct {
	PerSecond float64 `json:"per_second"`
	PeakRSSMB float64 `json:"peak_rss_mb"`
	Seconds   float64 `json:"seconds"`
	QueryMS   float64 `json:"query_ms"`
	Events    int     `json:"events"`
}

func report(events, backfill int) error {
	work, err := os.MkdirTemp("", "warden-bench")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)

	fmt.Printf("Warden benchmark (%d events through the pipeline, %d through the backfill)\n",
		events, backfill)
	decode, err := child("decode", work, events, backfill)
	if err != nil {
		return err
	}
	pipe, err := child("pipeline", work, events, backfill)
	if err != nil {
		return err
	}
	ratio := pipe.PerSecond / decode.PerSecond
	fmt.Printf("decode only (ceiling)        %10.0f events/s   peak RSS %6.1f MB (pages held)\n",
		decode.PerSecond, decode.PeakRSSMB)
	fmt.Printf("decode+normalize+store       %10.0f events/s   peak RSS %6.1f MB (pages held)\n",
		pipe.PerSecond, pipe.PeakRSSMB)
	fmt.Printf("pipeline / decode ratio      %10.2f            goal >= 0.50 %s\n", ratio,
		verdict(ratio >= 0.5))

	det, err := child("detect", work, events, backfill)
	if err != nil {
		return err
	}
	dratio := det.PerSecond / pipe.PerSecond
	fmt.Printf("  + detection, all policies  %10.0f events/s   peak RSS %6.1f MB (pages held)\n",
		det.PerSecond, det.PeakRSSMB)
	fmt.Printf("detection / ingest ratio     %10.2f            goal >= 0.50 %s\n", dratio,
		verdict(dratio >= 0.5))

	bf, err := child("backfill", work, events, backfill)
	if err != nil {
		return err
	}
	fmt.Printf("backfill of %d events    %10.1f s          peak RSS %6.1f MB, goal < 200 %s\n",
		bf.Events, bf.Seconds, bf.PeakRSSMB, verdict(bf.PeakRSSMB < 200))
	fmt.Printf("  (1000 requests/min, pages of %d: the rate limit alone needs %.0f s)\n", pageSize,
		float64(bf.Events/pageSize)*60/1000)

	q, err := child("query", work, events, backfill)
	if err != nil {
		return err
	}
	fmt.Printf("newest 100 events of one user among %d: %.2f ms (median), goal < 50 %s\n",
		q.Events, q.QueryMS, verdict(q.QueryMS < 50))
	return nil
}

func verdict(ok bool) string {
	if ok {
		return "ok"
	}
	return "MISSED"
}

func child(phase, dir string, events, backfill int) (result, error) {
	self, err := os.Executable()
	if err != nil {
		return result{}, err
	}
	cmd := exec.Command(self, "-phase", phase, "-dir", dir, "-events", strconv.Itoa(events),
		"-backfill", strconv.Itoa(backfill))
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return result{}, fmt.Errorf("phase %s: %w", phase, err)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	var r result
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &r); err != nil {
		return r, fmt.Errorf("phase %s output: %w", phase, err)
	}
	return r, nil
}

func runPhase(phase, dir string, events, backfill int) error {
	var r result
	var err error
	switch phase {
	case "decode":
		r, err = benchDecode(events)
	case "pipeline":
		r, err = benchPipeline(filepath.Join(dir, "pipeline"), events, false)
	case "detect":
		r, err = benchPipeline(filepath.Join(dir, "detect"), events, true)
	case "backfill":
		r, err = benchBackfill(filepath.Join(dir, "backfill"), backfill)
	case "fake":
		return serveFake(backfill)
	case "query":
		r, err = benchQuery(filepath.Join(dir, "backfill"))
	default:
		err = fmt.Errorf("unknown phase %q", phase)
	}
	if err != nil {
		return err
	}
	r.PeakRSSMB = peakRSSMB()
	return json.NewEncoder(os.Stdout).Encode(r)
}

// pages renders generated events as events-stream pages, the bytes the API would send.
func pages(n int) ([][]byte, error) {
	evs := fake.Generate(n, 42, time.Now().Add(-150*24*time.Hour))
	var out [][]byte
	for i := 0; i < len(evs); i += pageSize {
		page := atlassian.EventPage{Data: evs[i:min(i+pageSize, len(evs))]}
		b, err := json.Marshal(page)
		if err != nil {
			return nil, err
		}
		out = append(out, b)
	}
	return out, nil
}

func benchDecode(n int) (result, error) {
	ps, err := pages(n)
	if err != nil {
		return result{}, err
	}
	start := time.Now()
	count := 0
	for _, p := range ps {
		page, err := atlassian.DecodeEventPage(p)
		if err != nil {
			return result{}, err
		}
		count += len(page.Data)
	}
	secs := time.Since(start).Seconds()
	return result{PerSecond: float64(count) / secs, Seconds: secs, Events: count}, nil
}

// benchPipeline runs the real sync engine over recorded pages: decode and normalize on the
// fetching side, store on the committing side, exactly as a backfill does minus the network.
func benchPipeline(dir string, n int, withDetection bool) (result, error) {
	ps, err := pages(n)
	if err != nil {
		return result{}, err
	}
	st, err := store.Open(store.Options{Dir: dir})
	if err != nil {
		return result{}, err
	}
	defer st.Close()

	opts := syncer.Options{Store: st, PageSize: pageSize}
	var eng *detect.Engine
	if withDetection {
		db, err := geo.Open(geo.Options{})
		if err != nil {
			return result{}, err
		}
		defer db.Close()
		eng, err = detect.New(detect.Options{Store: st, Geo: detect.NewGeo(db),
			Classifier: detect.NewClassifier(nil, geo.NewListSet())})
		if err != nil {
			return result{}, err
		}
		opts.OnPage = func(org string, added []audit.Event) {
			if err := eng.Process(org, added); err != nil {
				panic(err)
			}
		}
	}
	s := syncer.New(opts)
	start := time.Now()
	res, err := s.Run(context.Background(), "bench-org", recorded(ps))
	if err == nil && eng != nil {
		err = eng.Flush("bench-org")
	}
	if err != nil {
		return result{}, err
	}
	secs := time.Since(start).Seconds()
	if res.Added != n {
		return result{}, fmt.Errorf("stored %d of %d events", res.Added, n)
	}
	return result{PerSecond: float64(res.Added) / secs, Seconds: secs, Events: res.Added}, nil
}

// recorded serves saved events-stream pages in order; the cursor is the page number.
type recorded [][]byte

func (r recorded) EventsStream(_ context.Context, p atlassian.StreamParams) (atlassian.EventPage,
	error) {
	i, _ := strconv.Atoi(p.Cursor)
	page, err := atlassian.DecodeEventPage(r[i])
	if err != nil {
		return page, err
	}
	page.Meta.Next, page.Links.Next = "", ""
	if i+1 < len(r) {
		page.Meta.Next = strconv.Itoa(i + 1)
	}
	return page, nil
}

func (recorded) EventActions(context.Context) ([]atlassian.EventAction, error) { return nil, nil }
func (recorded) Users(context.Context) ([]atlassian.User, error)               { return nil, nil }
func (recorded) Domains(context.Context) ([]atlassian.Domain, error)           { return nil, nil }

// benchBackfill syncs from a fake API running in its own process, so the fake's copy of a
// million events does not count against Warden's memory.
func benchBackfill(dir string, n int) (result, error) {
	// The same soft memory limit as the app, so memory is measured as users will see it. The
	// decode and pipeline phases hold all their recorded pages in memory and run without it,
	// both under the same conditions, so that their ratio compares like with like.
	debug.SetMemoryLimit(store.SuggestedMemoryLimit)

	self, err := os.Executable()
	if err != nil {
		return result{}, err
	}
	fk := exec.Command(self, "-phase", "fake", "-backfill", strconv.Itoa(n))
	fk.Stderr = os.Stderr
	out, err := fk.StdoutPipe()
	if err != nil {
		return result{}, err
	}
	if err := fk.Start(); err != nil {
		return result{}, err
	}
	defer func() { _ = fk.Process.Kill(); _ = fk.Wait() }()
	var info fakeInfo
	if err := json.NewDecoder(out).Decode(&info); err != nil {
		return result{}, fmt.Errorf("fake API did not start: %w", err)
	}

	st, err := store.Open(store.Options{Dir: dir})
	if err != nil {
		return result{}, err
	}
	defer st.Close()
	cl, err := atlassian.New(atlassian.Config{BaseURL: info.URL, OrgID: info.Org,
		APIKey: info.Key, Limiters: atlassian.NewLimiterPool(atlassian.Budget{
			PerMinute: 1000, EventsPerMinute: 10})})
	if err != nil {
		return result{}, err
	}

	s := syncer.New(syncer.Options{Store: st, PageSize: pageSize})
	start := time.Now()
	res, err := s.Run(context.Background(), info.Org, cl)
	if err != nil {
		return result{}, err
	}
	secs := time.Since(start).Seconds()
	return result{PerSecond: float64(res.Added) / secs, Seconds: secs, Events: res.Added}, nil
}

type fakeInfo struct{ URL, Org, Key string }

// serveFake runs the fake API with n generated events, enforcing 1000 requests a minute.
func serveFake(n int) error {
	now := time.Now()
	opts := fake.Demo(42, now)
	opts.Events = fake.Generate(n, 42, now.Add(-170*24*time.Hour))
	opts.PerMinute = 1000
	srv := httptest.NewServer(fake.New(opts))
	defer srv.Close()
	if err := json.NewEncoder(os.Stdout).Encode(fakeInfo{srv.URL, opts.OrgID,
		opts.APIKey}); err != nil {
		return err
	}
	select {}
}

func benchQuery(dir string) (result, error) {
	st, err := store.Open(store.Options{Dir: dir})
	if err != nil {
		return result{}, err
	}
	defer st.Close()

	opts := fake.Demo(42, time.Now())
	total, err := st.CountEvents(opts.OrgID)
	if err != nil {
		return result{}, err
	}
	page, err := st.Query(audit.Filter{Org: opts.OrgID, Limit: 1})
	if err != nil || len(page.Events) == 0 {
		return result{}, fmt.Errorf("no events to query: %v", err)
	}
	user := page.Events[0].ActorID

	var took []float64
	for range 25 {
		start := time.Now()
		p, err := st.Query(audit.Filter{Org: opts.OrgID, User: user, Limit: 100})
		if err != nil {
			return result{}, err
		}
		if len(p.Events) == 0 {
			return result{}, fmt.Errorf("user %s has no events", user)
		}
		took = append(took, float64(time.Since(start).Microseconds())/1000)
	}
	sort.Float64s(took)
	return result{QueryMS: took[len(took)/2], Events: total}, nil
}

// peakRSSMB reads the process's peak resident set size (VmHWM) from /proc.
func peakRSSMB() float64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(
				strings.TrimSpace(v), "kB")), 64)
			return kb / 1024
		}
	}
	return 0
}
