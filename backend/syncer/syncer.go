// Package syncer pulls an organization's audit log, directory and catalogue into the store: a
// backfill of up to 180 days on the first run, then incremental polls that reuse the stored
// events-stream cursor. Each page's events and the cursor that follows them are committed in
// one transaction, so a sync interrupted at any point resumes without loss or duplicates.
package syncer

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"warden/backend/atlassian"
	"warden/backend/audit"
	"warden/backend/store"
)

// Source is the part of the Atlassian client a sync needs; *atlassian.Client implements it.
type Source interface {
	EventsStream(ctx context.Context, p atlassian.StreamParams) (atlassian.EventPage, error)
	EventActions(ctx context.Context) ([]atlassian.EventAction, error)
	Users(ctx context.Context) ([]atlassian.User, error)
	Domains(ctx context.Context) ([]atlassian.Domain, error)
}

// MaxWindow is how far back the organization audit log reaches (Atlassian keeps 180 days).
const MaxWindow = 180 * 24 * time.Hour

// restartOverlap is how far before the watermark a sync restarts when its cursor is refused.
// Events arrive late (processedAt after time), so restarting exactly at the watermark could
// skip some; dedup by id makes the overlap free of duplicates.
const restartOverlap = 24 * time.Hour

// Options configure a Syncer.
type Options struct {
	Store    *store.Store
	Logger   *slog.Logger
	Now      func() time.Time
	Window   time.Duration // backfill window, at most MaxWindow; default MaxWindow
	PageSize int           // events per page, default 500 (the events-stream maximum)
	// OnPage, when set, is called after each committed page with the events it newly stored,
	// in page order, so each event reaches it once. Detection hooks in here.
	OnPage func(org string, added []audit.Event)
}

// Syncer runs syncs and keeps their progress for the UI. One sync per organization runs at a
// time; asking for a second one while the first runs returns ErrRunning.
type Syncer struct {
	o Options

	mu       sync.Mutex
	progress map[string]*Progress
}

// ErrRunning is returned when a sync of the same organization is already under way.
var ErrRunning = errors.New("a sync of this organization is already running")

// New returns a Syncer.
func New(o Options) *Syncer {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Window <= 0 || o.Window > MaxWindow {
		o.Window = MaxWindow
	}
	if o.PageSize <= 0 || o.PageSize > 500 {
		o.PageSize = 500
	}
	return &Syncer{o: o, progress: map[string]*Progress{}}
}

// Progress is a snapshot of one organization's sync.
type Progress struct {
	Running  bool
	Phase    string // idle, directory, backfill, incremental, done, error
	Started  time.Time
	Finished time.Time
	Events   int // events received this run (including duplicates)
	Added    int // events newly stored this run
	Pages    int
	// Fraction is the share of the backfill window covered so far (1 when incremental).
	Fraction float64
	Err      error
}

// PerSecond is the event rate of this run so far.
func (p Progress) PerSecond(now time.Time) float64 {
	end := p.Finished
	if p.Running || end.IsZero() {
		end = now
	}
	secs := end.Sub(p.Started).Seconds()
	if secs <= 0 {
		return 0
	}
	return float64(p.Events) / secs
}

// ETA estimates the time left from the covered fraction of the window.
func (p Progress) ETA(now time.Time) time.Duration {
	if !p.Running || p.Fraction <= 0 || p.Fraction >= 1 {
		return 0
	}
	spent := now.Sub(p.Started)
	return time.Duration(float64(spent) * (1 - p.Fraction) / p.Fraction)
}

// Progress returns the latest progress of an organization's sync.
func (s *Syncer) Progress(org string) Progress {
	s.mu.Lock()
	defer s.mu.Unlock()
	if p, ok := s.progress[org]; ok {
		return *p
	}
	return Progress{Phase: "idle"}
}

func (s *Syncer) update(org string, fn func(p *Progress)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	fn(s.progress[org])
}

// Result summarizes one finished sync.
type Result struct {
	Events, Added, Pages int
	Users, Domains       int
	Backfill             bool
}

// Run syncs one organization: the action catalogue, users and domains, then the audit log from
// the stored cursor (or a backfill when there is none). The directory is refreshed first so the
// activity log can name admins as soon as events appear. A failed directory refresh is logged
// and does not stop the audit log sync; a failed page stops the run with the cursor left at the
// last committed page.
func (s *Syncer) Run(ctx context.Context, org string, src Source) (Result, error) {
	s.mu.Lock()
	if p, ok := s.progress[org]; ok && p.Running {
		s.mu.Unlock()
		return Result{}, ErrRunning
	}
	s.progress[org] = &Progress{Running: true, Phase: "directory", Started: s.o.Now()}
	s.mu.Unlock()

	res, err := s.run(ctx, org, src)

	s.update(org, func(p *Progress) {
		p.Running, p.Finished, p.Err = false, s.o.Now(), err
		p.Phase = "done"
		if err != nil {
			p.Phase = "error"
		}
	})
	return res, err
}

func (s *Syncer) run(ctx context.Context, org string, src Source) (Result, error) {
	var res Result
	overrides, err := s.refreshDirectory(ctx, org, src, &res)
	if err != nil {
		if ctx.Err() != nil || errors.Is(err, atlassian.ErrUnauthorized) {
			return res, err
		}
		s.o.Logger.Warn("directory refresh failed", "org", org, "err", err)
	}

	cur, ok, err := s.o.Store.Cursor(org)
	if err != nil {
		return res, fmt.Errorf("read sync cursor: %w", err)
	}
	if !ok || cur.From.IsZero() {
		cur = store.Cursor{From: s.o.Now().Add(-s.o.Window)}
	}
	res.Backfill = !cur.Backfilled
	phase := "incremental"
	if res.Backfill {
		phase = "backfill"
	}
	s.update(org, func(p *Progress) { p.Phase = phase })

	err = s.pull(ctx, org, src, cur, overrides, &res)
	if errors.Is(err, atlassian.ErrInvalidCursor) && cur.Cursor != "" {
		// A stale cursor: start again a little before the watermark and let dedup absorb the
		// overlap, as the reference prescribes.
		s.o.Logger.Info("sync cursor refused, restarting from watermark", "org", org)
		cur, _, _ = s.o.Store.Cursor(org)
		cur.Cursor = ""
		if !cur.Watermark.IsZero() {
			cur.From = cur.Watermark.Add(-restartOverlap)
		}
		err = s.pull(ctx, org, src, cur, overrides, &res)
	}
	return res, err
}

// refreshDirectory stores the catalogue, users and verified-or-not domains, and returns the
// category overrides derived from the catalogue.
func (s *Syncer) refreshDirectory(ctx context.Context, org string, src Source,
	res *Result) (map[string]audit.Category, error) {
	var errs []error

	actions, err := src.EventActions(ctx)
	if err == nil {
		err = s.o.Store.PutActions(org, convertActions(actions))
	}
	if err != nil {
		errs = append(errs, fmt.Errorf("event actions: %w", err))
		if errors.Is(err, atlassian.ErrUnauthorized) || ctx.Err() != nil {
			return nil, errors.Join(errs...)
		}
	}

	users, err := src.Users(ctx)
	if err == nil {
		res.Users = len(users)
		err = s.o.Store.PutUsers(org, convertUsers(users))
	}
	if err != nil {
		errs = append(errs, fmt.Errorf("users: %w", err))
	}

	domains, err := src.Domains(ctx)
	if err == nil {
		res.Domains = len(domains)
		err = s.o.Store.PutDomains(org, convertDomains(domains))
	}
	if err != nil {
		errs = append(errs, fmt.Errorf("domains: %w", err))
	}
	return nil, errors.Join(errs...)
}

// fetched is one decoded and normalized page handed from the fetcher to the committer.
type fetched struct {
	events []audit.Event
	// next is the cursor to store with this page: the one that continues after it, or, on the
	// last page, the one that fetched it, so a later poll picks up new events from there.
	next string
	last bool
	err  error
}

// pull pages through events-stream from cur until the end. The next page is fetched while the
// previous one is normalized and committed, so a backfill is bound by the API, not the disk.
func (s *Syncer) pull(ctx context.Context, org string, src Source, cur store.Cursor,
	overrides map[string]audit.Category, res *Result) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	pages := make(chan fetched, 1)
	go s.fetch(ctx, org, src, cur, overrides, pages)

	window := s.o.Now().Sub(cur.From)
	for f := range pages {
		if f.err != nil {
			return f.err
		}

		events := f.events
		next := cur
		next.Cursor = f.next
		next.UpdatedAt = s.o.Now()
		for i := range events {
			if events[i].ProcessedAt.After(next.Watermark) {
				next.Watermark = events[i].ProcessedAt
			}
		}
		if f.last {
			next.Backfilled = true
		}
		fresh, err := s.o.Store.CommitPageNew(org, events, next)
		if err != nil {
			return fmt.Errorf("store page: %w", err)
		}
		added := len(fresh)
		cur = next

		res.Pages++
		res.Events += len(events)
		res.Added += added
		s.update(org, func(p *Progress) {
			p.Pages, p.Events, p.Added = res.Pages, res.Events, res.Added
			p.Fraction = coverage(cur, window, s.o.Now())
			if f.last {
				p.Fraction = 1
			}
		})
		if s.o.OnPage != nil && added > 0 {
			s.o.OnPage(org, fresh)
		}
	}
	return ctx.Err()
}

// fetch requests, decodes and normalizes pages one ahead of the committer, so that on two
// cores the API, the decoder and the store all work at once. It closes out when the list ends.
func (s *Syncer) fetch(ctx context.Context, org string, src Source, cur store.Cursor,
	overrides map[string]audit.Category, out chan<- fetched) {
	defer close(out)

	params := atlassian.StreamParams{Cursor: cur.Cursor, Limit: s.o.PageSize}
	if params.Cursor == "" {
		params.From = cur.From
	}
	for {
		page, err := src.EventsStream(ctx, params)
		if err != nil {
			out <- fetched{err: fmt.Errorf("fetch events: %w", err)}
			return
		}
		next := atlassian.NextCursor(page.Meta, page.Links)
		if next == params.Cursor && next != "" {
			// A cursor that does not move would page forever; the list has ended as far as
			// this run can tell, and the cursor is kept for the next poll.
			s.o.Logger.Warn("events cursor did not advance, stopping this run")
			next = ""
		}
		f := fetched{events: normalizePage(org, &page, overrides, s.o.Logger), next: next,
			last: next == ""}
		if f.last {
			f.next = params.Cursor
		}
		select {
		case out <- f:
		case <-ctx.Done():
			return
		}
		if f.last {
			return
		}
		params = atlassian.StreamParams{Cursor: next, Limit: s.o.PageSize}
	}
}

// coverage is the share of the window the watermark has reached.
func coverage(cur store.Cursor, window time.Duration, now time.Time) float64 {
	if window <= 0 || cur.Watermark.IsZero() {
		return 0
	}
	done := cur.Watermark.Sub(now.Add(-window))
	f := float64(done) / float64(window)
	return max(0, min(f, 0.999))
}

// normalizePage normalizes a page's events, skipping any without an id: an event that cannot be
// deduplicated cannot be stored safely, and the API requires ids.
func normalizePage(org string, page *atlassian.EventPage, overrides map[string]audit.Category,
	log *slog.Logger) []audit.Event {
	events := make([]audit.Event, 0, len(page.Data))
	for i := range page.Data {
		w := &page.Data[i]
		if w.ID == "" {
			log.Warn("event without id skipped", "org", org, "action", w.Attributes.Action)
			continue
		}
		events = append(events, Normalize(org, w, overrides))
	}
	return events
}
