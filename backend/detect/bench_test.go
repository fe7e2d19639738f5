package detect

import (
	"runtime"
	"testing"
	"time"

	"warden/backend/atlassian/fake"
	"warden/backend/audit"
	"warden/backend/store"
	"warden/backend/syncer"
)

const benchEvents = 100_000

func benchInput(b *testing.B) []audit.Event {
	b.Helper()
	raw := fake.Generate(benchEvents, 1, time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC))
	out := make([]audit.Event, len(raw))
	for i := range raw {
		out[i] = syncer.Normalize(fake.DemoOrgID, &raw[i], nil)
	}
	return out
}

// BenchmarkDetect measures events per second through the store alone (ingest), through
// detection with every built-in policy on over events already stored (detect), and through
// both as a sync runs them (ingest+detect), in pages of 500. The goal is detection costing at
// most half of ingest throughput: ingest+detect at least 50% of ingest. heap-MB is the live
// heap after the run, mostly the per-user state of the generator's 2,000 users.
func BenchmarkDetect(b *testing.B) {
	evs := benchInput(b)
	const page = 500
	modes := []struct {
		name           string
		ingest, detect bool
	}{{"ingest", true, false}, {"detect", false, true}, {"ingest+detect", true, true}}
	for _, m := range modes {
		b.Run(m.name, func(b *testing.B) {
			b.ReportAllocs()
			var heap uint64
			for b.Loop() {
				b.StopTimer()
				st, err := store.Open(store.Options{Dir: b.TempDir()})
				if err != nil {
					b.Fatal(err)
				}
				e := newEngine(b, st, Options{})
				if !m.ingest {
					for i := 0; i < len(evs); i += page {
						if _, err := st.PutEvents(fake.DemoOrgID, evs[i:min(i+page, len(evs))]); err != nil {
							b.Fatal(err)
						}
					}
				}
				b.StartTimer()

				// Without ingest, detection reads the stored history itself, as Replay does.
				for i := 0; m.ingest && i < len(evs); i += page {
					p := evs[i:min(i+page, len(evs))]
					if _, err := st.CommitPage(fake.DemoOrgID, p, store.Cursor{}); err != nil {
						b.Fatal(err)
					}
					if m.detect {
						if err := e.Process(fake.DemoOrgID, p); err != nil {
							b.Fatal(err)
						}
					}
				}
				if m.detect {
					if err := e.Flush(fake.DemoOrgID); err != nil {
						b.Fatal(err)
					}
				}

				b.StopTimer()
				runtime.GC()
				var ms runtime.MemStats
				runtime.ReadMemStats(&ms)
				heap = ms.HeapAlloc
				st.Close()
				b.StartTimer()
			}
			b.ReportMetric(float64(len(evs))*float64(b.N)/b.Elapsed().Seconds(), "events/s")
			b.ReportMetric(float64(heap)/(1<<20), "heap-MB")
			b.ReportMetric(0, "ns/op")
		})
	}
}
