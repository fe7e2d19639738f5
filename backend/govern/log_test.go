package govern

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestLogSurvivesRestartAndFilters(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	runs := []Request{
		{Action: Suspend, User: hana, Trigger: "manual:zoe", AlertID: "al-1"},
		{Action: Suspend, User: noah, Trigger: "policy:p1"},
		{Action: Deactivate, User: noah, Trigger: "manual:zoe"},
		{Action: Restore, User: hana, Trigger: "manual:zoe", DryRun: true},
	}
	var ids []string
	for _, r := range runs {
		got, err := e.svc.Run(ctx, r)
		if err != nil {
			t.Fatalf("%s: %v", r.Action, err)
		}
		ids = append(ids, got.ID)
		_ = e.clock.Sleep(ctx, time.Minute)
	}
	// A pending entry as a crash between sending and recording would leave it.
	crashed := Entry{ID: "act-crashed", Action: RevokeTokens, User: emile, Trigger: "manual:zoe",
		Status: StatusPending, Time: e.clock.Now()}
	if err := e.store.PutJSON(entryKey(crashed), crashed); err != nil {
		t.Fatal(err)
	}

	e.reopen()

	all, err := e.svc.List(Filter{})
	if err != nil || len(all) != 5 {
		t.Fatalf("after reopen: %v, %d entries", err, len(all))
	}
	if all[0].ID != "act-crashed" || all[0].Status != StatusInterrupted ||
		!strings.Contains(all[0].Reason, "check the user's state") {
		t.Errorf("crashed entry: %+v", all[0])
	}
	if all[4].ID != ids[0] || all[4].Status != StatusDone || all[4].AlertID != "al-1" {
		t.Errorf("oldest entry last: %+v", all[4])
	}

	tests := []struct {
		name string
		f    Filter
		want []Status
	}{
		{"by user id", Filter{User: noah}, []Status{StatusRefused, StatusAlreadyDone}},
		{"by email", Filter{User: "HANA.SATO@example.com"}, []Status{StatusWouldDo, StatusDone}},
		{"by action", Filter{Action: Suspend}, []Status{StatusAlreadyDone, StatusDone}},
		{"by status", Filter{Status: StatusRefused}, []Status{StatusRefused}},
		{"since", Filter{Since: all[1].Time}, []Status{StatusInterrupted, StatusWouldDo}},
		{"limit", Filter{Limit: 1}, []Status{StatusInterrupted}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := e.svc.List(tt.f)
			if err != nil {
				t.Fatal(err)
			}
			var st []Status
			for _, g := range got {
				st = append(st, g.Status)
			}
			if len(st) != len(tt.want) {
				t.Fatalf("got %v, want %v", st, tt.want)
			}
			for i := range st {
				if st[i] != tt.want[i] {
					t.Fatalf("got %v, want %v", st, tt.want)
				}
			}
		})
	}
}

func TestExport(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	if _, err := e.svc.Run(ctx, Request{Action: Suspend, User: hana, Trigger: "manual:zoe"}); err != nil {
		t.Fatal(err)
	}
	_ = e.clock.Sleep(ctx, time.Second)
	if _, err := e.svc.Run(ctx, Request{Action: Deactivate, User: noah,
		Trigger: "=HYPERLINK(\"x\")"}); err != nil {
		t.Fatal(err)
	}
	entries, err := e.svc.List(Filter{})
	if err != nil {
		t.Fatal(err)
	}

	var jl bytes.Buffer
	if err := WriteJSONLines(&jl, entries); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(jl.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("%d lines", len(lines))
	}
	for _, l := range lines {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatal(err)
		}
		for _, k := range []string{"id", "action", "user", "trigger", "status", "time"} {
			if _, ok := m[k]; !ok {
				t.Errorf("line lacks %q: %s", k, l)
			}
		}
		if strings.Contains(l, apiKey) {
			t.Fatalf("the api key is in the log: %s", l)
		}
	}

	var cb bytes.Buffer
	if err := WriteCSV(&cb, entries); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&cb).ReadAll()
	if err != nil || len(rows) != 3 || rows[0][0] != "id" {
		t.Fatalf("csv: %v %v", err, rows)
	}
	if rows[1][5] != "'=HYPERLINK(\"x\")" {
		t.Errorf("formula not neutralized: %q", rows[1][5])
	}
	if rows[2][7] != "done" || !strings.Contains(rows[2][12], "/suspend 204") {
		t.Errorf("suspend row: %v", rows[2])
	}
}

func TestConcurrentRunsSendOnce(t *testing.T) {
	e := newEnv(t)
	e.fake.ResetRequests()
	var wg sync.WaitGroup
	statuses := make([]Status, 4)
	for i := range statuses {
		wg.Add(1)
		go func() {
			defer wg.Done()
			user := hana
			if i%2 == 1 {
				user = "hana.sato@example.com"
			}
			got, err := e.svc.Run(context.Background(), Request{Action: Suspend, User: user,
				Trigger: "policy:p" + string(rune('0'+i))})
			if err != nil {
				t.Error(err)
			}
			statuses[i] = got.Status
		}()
	}
	wg.Wait()
	done := 0
	for _, s := range statuses {
		if s == StatusDone {
			done++
		} else if s != StatusAlreadyDone {
			t.Errorf("status %s", s)
		}
	}
	if done != 1 || len(e.mutations()) != 1 {
		t.Fatalf("%d done, %d mutating calls", done, len(e.mutations()))
	}
}

func TestPlan(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	tests := []struct {
		action Action
		user   string
		want   Verdict
		steps  int
	}{
		{Deactivate, noah, Refused, 0},
		{Deactivate, hana, Ready, 1},
		{Suspend, noah, AlreadyDone, 0},
		{Reauth, hana, Ready, 4},
		{Notify, hana, Ready, 1},
		{RevokeTokens, "mateus.oliveira@example.org", Refused, 0},
	}
	for _, tt := range tests {
		p, err := e.svc.Plan(ctx, tt.action, tt.user)
		if err != nil {
			t.Fatalf("%s %s: %v", tt.action, tt.user, err)
		}
		if p.Verdict != tt.want || len(p.Steps) != tt.steps || p.Description.Title == "" {
			t.Errorf("%s %s: %s with %d steps (%s)", tt.action, tt.user, p.Verdict,
				len(p.Steps), p.Reason)
		}
	}
	if n := len(e.mutations()); n != 0 {
		t.Fatalf("Plan sent %d mutations", n)
	}
	if _, err := e.svc.Plan(ctx, "explode", hana); err == nil {
		t.Fatal("unknown action planned")
	}
}
