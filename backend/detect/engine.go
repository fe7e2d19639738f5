package detect

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"warden/backend/audit"
	"warden/backend/store"
)

// Options configure an Engine.
type Options struct {
	Store *store.Store
	// Geo locates activities; nil places everything nowhere (location policies stay quiet).
	Geo Geo
	// Classifier tags IPs from ranges and lists; nil knows no ranges besides feedback.
	Classifier Classifier
	// Groups resolves directory groups for scoping; nil leaves only the built-in groups.
	Groups GroupResolver
	Logger *slog.Logger
	// Lateness is how far behind the latest event time an event may arrive and still be
	// processed in order (default 15 minutes). Later arrivals take the late path.
	Lateness time.Duration
	// OrgChangeWindow is how long an infrequent-country candidate waits for other users
	// turning up in the same country (default 2 hours either side).
	OrgChangeWindow time.Duration
	// CheckpointEvery is how many processed events may pass between two writes of the
	// detection state (default 20,000). A batch that raises or changes an alert, Flush and
	// Settle always write it. After a crash the events since the checkpoint are processed
	// again from the store, so a longer interval costs restart time, not correctness.
	CheckpointEvery int
	// Now stamps resolutions; detection itself never reads the wall clock.
	Now func() time.Time
	// OnAlert, when set, is called after a batch is stored, once per new alert.
	OnAlert func(Alert)
}

// GroupResolver names the directory groups of a user, for policy scoping.
type GroupResolver interface {
	Groups(org, accountID string) []string
}

// Engine runs the built-in and custom policies over an org's events in event-time order and
// keeps alerts and state in the store. It is safe for concurrent use.
type Engine struct {
	st         *store.Store
	geo        Geo
	classifier Classifier
	groups     GroupResolver
	log        *slog.Logger
	lateness   time.Duration
	orgWindow  time.Duration
	every      int
	now        func() time.Time
	onAlert    func(Alert)

	mu   sync.Mutex
	orgs map[string]*orgRun
}

// New returns an Engine.
func New(o Options) (*Engine, error) {
	if o.Store == nil {
		return nil, errors.New("detect: no store")
	}
	e := &Engine{st: o.Store, geo: o.Geo, classifier: o.Classifier, groups: o.Groups,
		log: o.Logger, lateness: o.Lateness, orgWindow: o.OrgChangeWindow, now: o.Now,
		every:   o.CheckpointEvery,
		onAlert: o.OnAlert, orgs: map[string]*orgRun{}}
	if e.geo == nil {
		e.geo = noGeo{}
	}
	if e.log == nil {
		e.log = slog.New(slog.DiscardHandler)
	}
	if e.lateness <= 0 {
		e.lateness = 15 * time.Minute
	}
	if e.orgWindow <= 0 {
		e.orgWindow = 2 * time.Hour
	}
	if e.now == nil {
		e.now = time.Now
	}
	if e.every <= 0 {
		e.every = 20_000
	}
	return e, nil
}

// noGeo places nothing.
type noGeo struct{}

func (noGeo) Locate(_, city, region, country string) Place {
	return Place{CountryName: country, Region: region, City: city, Precision: PrecisionNone}
}
func (noGeo) Bordering(string, string) bool { return false }

// orgRun is the in-memory detection state of one org.
type orgRun struct {
	eng       *Engine
	id        string
	settings  Settings
	custom    []*customPolicy
	mapper    *mapper
	catalogue []audit.ActionInfo
	ranges    []FeedbackRange
	normal    map[string][]string // user -> countries the admin called normal
	dirByID   map[string]audit.User
	dirByMail map[string]audit.User

	meta    orgMeta
	users   map[string]*userState
	ips     map[string]*ipState
	dedup   map[string]string // dedup key -> alert id
	pending []audit.Event
	pendIDs map[string]bool

	alerts      map[string]*Alert
	dirtyAlerts map[string]bool
	dirtyUsers  map[string]bool
	dirtyIPs    map[string]bool
	newKeys     map[string]string
	created     []string
	raised      int
	sinceFlush  int

	// sim marks a simulation: nothing is read from or written to the store.
	sim bool
}

// org returns the loaded state of an org, loading it on first use; the caller holds e.mu.
func (e *Engine) org(id string) (*orgRun, error) {
	if o, ok := e.orgs[id]; ok {
		return o, nil
	}
	o, err := e.load(id)
	if err != nil {
		return nil, fmt.Errorf("load detection state: %w", err)
	}
	e.orgs[id] = o
	return o, nil
}

func (e *Engine) load(id string) (*orgRun, error) {
	o := &orgRun{eng: e, id: id, users: map[string]*userState{}, ips: map[string]*ipState{},
		dedup: map[string]string{}, pendIDs: map[string]bool{}, normal: map[string][]string{}}
	o.resetBatch()
	if err := e.loadConfig(o); err != nil {
		return nil, err
	}
	if err := e.loadDirectory(o); err != nil {
		return nil, err
	}
	if err := e.loadState(o); err != nil {
		return nil, err
	}

	// Events stored after the checkpoint were received but not processed before a restart:
	// those after the frontier by event time, and late ones that arrived after the
	// checkpoint (processedAt at or after its latest), which recoverWindow bounds.
	since := o.meta.Frontier
	if !since.IsZero() {
		since = since.Add(-recoverWindow)
	}
	var late []audit.Event
	err := e.st.ScanEvents(id, since, time.Time{}, func(ev *audit.Event) error {
		c := *ev
		c.Raw = nil
		if !o.meta.Frontier.IsZero() && !c.Time.After(o.meta.Frontier) {
			if !o.meta.MaxProcessed.IsZero() && !arrival(&c).Before(o.meta.MaxProcessed) {
				late = append(late, c)
			}
			return nil
		}
		o.meta.MaxTime = maxTime(o.meta.MaxTime, c.Time)
		o.meta.First = minTime(o.meta.First, c.Time)
		o.pending = append(o.pending, c)
		o.pendIDs[c.ID] = true
		return nil
	})
	if err != nil {
		return nil, err
	}
	o.runLate(late)
	return o, nil
}

// recoverWindow is how far before the frontier a restart looks for late events that arrived
// after the last checkpoint. TODO(#3): an event later than this that arrived in the same
// crash window is not detected on; a store index by insertion order would close the gap.
const recoverWindow = 48 * time.Hour

// arrival is when an event reached Warden's source: processedAt, else its time.
func arrival(e *audit.Event) time.Time {
	if e.ProcessedAt.IsZero() {
		return e.Time
	}
	return e.ProcessedAt
}

// runLate processes events older than the frontier, in time order.
func (o *orgRun) runLate(late []audit.Event) {
	sortEvents(late)
	for i := range late {
		a := newActivity(o, &late[i])
		a.late = true
		o.run(a)
	}
}

func (e *Engine) loadConfig(o *orgRun) error {
	o.settings = DefaultSettings()
	if ok, err := e.getJSON(o.id, keySettings, &o.settings); err != nil {
		return err
	} else if ok && o.settings.Policies == nil {
		o.settings = DefaultSettings()
	}
	over := map[string]audit.Category{}
	if _, err := e.getJSON(o.id, keyMapping, &over); err != nil {
		return err
	}
	cat, err := e.st.Actions(o.id)
	if err != nil {
		return err
	}
	o.catalogue = cat
	o.mapper = newMapper(cat, over)
	if _, err := e.getJSON(o.id, keyRanges, &o.ranges); err != nil {
		return err
	}
	if _, err := e.getJSON(o.id, keyNormal, &o.normal); err != nil {
		return err
	}
	if o.normal == nil {
		o.normal = map[string][]string{}
	}
	return e.st.ScanDetect(o.id, keyCustom, false, func(_ string, val []byte) error {
		var p CustomPolicy
		if err := json.Unmarshal(val, &p); err != nil {
			return err
		}
		cp, err := compileCustom(p)
		if err != nil {
			e.log.Warn("Stored custom policy does not compile", "policy", p.ID, "err", err)
			return nil
		}
		o.custom = append(o.custom, cp)
		return nil
	})
}

func (e *Engine) loadDirectory(o *orgRun) error {
	users, err := e.st.Users(o.id)
	if err != nil {
		return err
	}
	o.dirByID = make(map[string]audit.User, len(users))
	o.dirByMail = make(map[string]audit.User, len(users))
	for _, u := range users {
		o.dirByID[u.AccountID] = u
		if u.Email != "" {
			o.dirByMail[strings.ToLower(u.Email)] = u
		}
	}
	return nil
}

func (e *Engine) loadState(o *orgRun) error {
	if _, err := e.getJSON(o.id, keyMeta, &o.meta); err != nil {
		return err
	}
	o.meta.init()
	err := e.st.ScanDetect(o.id, "s/", false, func(name string, val []byte) error {
		switch {
		case strings.HasPrefix(name, keyUserPfx):
			u := &userState{}
			if err := json.Unmarshal(val, u); err != nil {
				return err
			}
			o.users[name[len(keyUserPfx):]] = u
		case strings.HasPrefix(name, keyIPPfx):
			s := &ipState{}
			if err := json.Unmarshal(val, s); err != nil {
				return err
			}
			o.ips[name[len(keyIPPfx):]] = s
		}
		return nil
	})
	if err != nil {
		return err
	}
	return e.st.ScanDetect(o.id, keyDedupPfx, false, func(name string, val []byte) error {
		o.dedup[name[len(keyDedupPfx):]] = string(val)
		return nil
	})
}

func (m *orgMeta) init() {
	if m.CountryUsers == nil {
		m.CountryUsers = map[string]map[string]int32{}
	}
	if m.Groups == nil {
		m.Groups = map[string]groupRef{}
	}
	if m.Caps == nil {
		m.Caps = map[string]int{}
	}
	if m.Capped == nil {
		m.Capped = map[string]int{}
	}
	if m.Repeats == nil {
		m.Repeats = map[string][]ipStamp{}
	}
}

func (e *Engine) getJSON(org, key string, v any) (bool, error) {
	val, ok, err := e.st.GetDetect(org, key)
	if err != nil || !ok {
		return false, err
	}
	return true, json.Unmarshal(val, v)
}

func (e *Engine) put(org, key string, val []byte) error {
	return e.st.PutDetect(org, []store.DetectWrite{{Key: key, Value: val}})
}

func (o *orgRun) resetBatch() {
	o.alerts = map[string]*Alert{}
	o.dirtyAlerts = map[string]bool{}
	o.dirtyUsers = map[string]bool{}
	o.dirtyIPs = map[string]bool{}
	o.newKeys = map[string]string{}
	o.created = nil
	o.raised = 0
	o.sinceFlush = 0
}

// Process runs detection over events the store has just committed (the syncer's OnPage
// hook, which passes only newly stored events: an event passed twice is processed twice).
// Events are processed in event-time order once the latest event time has moved
// Lateness past them; an event older than what was already processed takes the late path,
// which compares it with its neighbours in time. Alerts are stored before Process returns;
// state is stored at checkpoints (see Options.CheckpointEvery).
func (e *Engine) Process(org string, events []audit.Event) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	o, err := e.org(org)
	if err != nil {
		return err
	}
	var late []audit.Event
	for i := range events {
		ev := events[i]
		ev.Raw = nil
		o.meta.MaxProcessed = maxTime(o.meta.MaxProcessed, arrival(&ev))
		o.meta.MaxTime = maxTime(o.meta.MaxTime, ev.Time)
		o.meta.First = minTime(o.meta.First, ev.Time)
		if ev.ID == "" || o.pendIDs[ev.ID] {
			continue
		}
		if !o.meta.Frontier.IsZero() && !ev.Time.After(o.meta.Frontier) {
			late = append(late, ev)
			continue
		}
		o.pending = append(o.pending, ev)
		o.pendIDs[ev.ID] = true
	}
	o.runLate(late)
	o.advance(o.meta.MaxTime.Add(-e.lateness))
	return e.flush(o, false)
}

// Flush processes every pending event, as at the end of a sync run when nothing older can
// still arrive in order.
func (e *Engine) Flush(org string) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	o, err := e.org(org)
	if err != nil {
		return err
	}
	o.advance(o.meta.MaxTime)
	return e.flush(o, true)
}

// Settle decides the alerts that wait for their decision time (infrequent country waits
// OrgChangeWindow for other users in the same country) up to until. Call it with the time up
// to which the audit log is known to be complete, e.g. the sync watermark minus Lateness.
func (e *Engine) Settle(org string, until time.Time) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	o, err := e.org(org)
	if err != nil {
		return err
	}
	o.advance(minTime(o.meta.MaxTime, until))
	o.decide(until)
	return e.flush(o, true)
}

// advance processes pending events with time <= w in order and moves the frontier.
func (o *orgRun) advance(w time.Time) {
	if len(o.pending) == 0 || w.IsZero() {
		return
	}
	sortEvents(o.pending)
	n := 0
	for n < len(o.pending) && !o.pending[n].Time.After(w) {
		ev := &o.pending[n]
		o.run(newActivity(o, ev))
		delete(o.pendIDs, ev.ID)
		n++
	}
	if n == 0 {
		return
	}
	o.meta.Frontier = maxTime(o.meta.Frontier, o.pending[n-1].Time)
	o.pending = slices.Delete(o.pending, 0, n)
	o.decide(o.meta.Frontier)
}

func sortEvents(evs []audit.Event) {
	slices.SortStableFunc(evs, func(a, b audit.Event) int {
		if c := a.Time.Compare(b.Time); c != 0 {
			return c
		}
		return cmp.Compare(a.ID, b.ID)
	})
}

// run passes one activity through every policy. Policies always learn; raise drops what a
// disabled or out-of-scope policy would alert.
func (o *orgRun) run(a *activity) {
	o.sinceFlush++
	var u *userState
	if a.user != "" {
		u = o.user(a.user)
		u.First = minTime(u.First, a.time())
		u.Last = maxTime(u.Last, a.time())
		o.dirtyUsers[a.user] = true
	}
	anonymousIP(o, a, u)
	infrequentCountry(o, a, u)
	suspiciousIP(o, a, u)
	impossibleTravel(o, a, u)
	failedLogins(o, a, u)
	unusualAdmin(o, a, u)
	unusualImpersonation(o, a, u)
	for _, p := range o.custom {
		p.observe(o, a)
	}
}

func (o *orgRun) user(id string) *userState {
	u, ok := o.users[id]
	if !ok {
		u = &userState{}
		o.users[id] = u
	}
	return u
}

// flush writes the alerts and dedup keys the batch changed, and, at a checkpoint (every
// CheckpointEvery events, or when forced), all changed state with them, in one store
// transaction; then it reports new alerts. Alerts are written at once so the UI sees them;
// state may lag behind, because after a crash the events since the checkpoint are processed
// again and their detections find their alerts by dedup key instead of raising new ones.
func (e *Engine) flush(o *orgRun, force bool) error {
	checkpoint := force || o.sinceFlush >= e.every
	if !checkpoint && len(o.dirtyAlerts) == 0 && len(o.newKeys) == 0 {
		return nil
	}

	var w []store.DetectWrite
	add := func(key string, v any) error {
		val, err := json.Marshal(v)
		if err != nil {
			return err
		}
		w = append(w, store.DetectWrite{Key: key, Value: val})
		return nil
	}
	for k, id := range o.newKeys {
		w = append(w, store.DetectWrite{Key: keyDedupPfx + k, Value: []byte(id)})
	}
	for id := range o.dirtyAlerts {
		aw, err := alertWrites(o.alerts[id])
		if err != nil {
			return err
		}
		w = append(w, aw...)
	}
	if checkpoint {
		o.prune()
		for id := range o.dirtyUsers {
			if err := add(keyUserPfx+id, o.users[id]); err != nil {
				return err
			}
		}
		for ip := range o.dirtyIPs {
			if s, ok := o.ips[ip]; ok {
				if err := add(keyIPPfx+ip, s); err != nil {
					return err
				}
			} else {
				w = append(w, store.DetectWrite{Key: keyIPPfx + ip})
			}
		}
		if err := add(keyMeta, &o.meta); err != nil {
			return err
		}
	}
	if err := e.st.PutDetect(o.id, w); err != nil {
		return fmt.Errorf("store detection state: %w", err)
	}

	var fresh []Alert
	for _, id := range o.created {
		fresh = append(fresh, *o.alerts[id])
	}
	if o.raised > 0 {
		e.log.Info("Alerts raised", "org", o.id, "count", o.raised)
	}
	if checkpoint {
		o.resetBatch()
	} else {
		o.dirtyAlerts, o.newKeys, o.created, o.raised = map[string]bool{},
			map[string]string{}, nil, 0
	}
	if e.onAlert != nil {
		slices.SortFunc(fresh, func(a, b Alert) int { return a.Time.Compare(b.Time) })
		for _, al := range fresh {
			e.onAlert(al)
		}
	}
	return nil
}

// prune drops org-level state that fell out of every window.
func (o *orgRun) prune() {
	now := o.meta.Frontier
	if now.IsZero() {
		return
	}
	cut := now.Add(-7 * 24 * time.Hour)
	for k, g := range o.meta.Groups {
		if g.Last.Before(cut) {
			delete(o.meta.Groups, k)
		}
	}
	ncut := now.Add(-3 * o.eng.orgWindow)
	o.meta.Novel = slices.DeleteFunc(o.meta.Novel, func(n novel) bool { return n.T.Before(ncut) })
	day := dayOf(now)
	for c, users := range o.meta.CountryUsers {
		for u, d := range users {
			if d < day-retainDays {
				delete(users, u)
			}
		}
		if len(users) == 0 {
			delete(o.meta.CountryUsers, c)
		}
	}
	for k := range o.meta.Caps {
		if d, ok := capDay(k); ok && d < day-2 {
			delete(o.meta.Caps, k)
			delete(o.meta.Capped, k)
		}
	}
	ipCut := now.Add(-retainDays * 24 * time.Hour)
	for ip, s := range o.ips {
		if s.Last.Before(ipCut) {
			delete(o.ips, ip)
			o.dirtyIPs[ip] = true
		}
	}
}

// Replay forgets the org's detection state (not its settings, alerts or resolutions) and
// runs detection again over the stored history in event-time order: after a mapping
// correction, or to prove that a replay gives the alerts a live run gave.
func (e *Engine) Replay(ctx context.Context, org string) error {
	e.mu.Lock()
	var del []store.DetectWrite
	for _, p := range []string{"s/", keyDedupPfx} {
		err := e.st.ScanDetect(org, p, false, func(name string, _ []byte) error {
			del = append(del, store.DetectWrite{Key: name})
			return nil
		})
		if err != nil {
			e.mu.Unlock()
			return fmt.Errorf("replay: %w", err)
		}
	}
	if err := e.st.PutDetect(org, del); err != nil {
		e.mu.Unlock()
		return fmt.Errorf("replay: %w", err)
	}
	delete(e.orgs, org)
	_, err := e.org(org) // loading puts the whole history in pending
	e.mu.Unlock()
	if err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	return e.Flush(org)
}

// DirectoryChanged reloads the org's users and action catalogue after a directory sync.
func (e *Engine) DirectoryChanged(org string) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	o, err := e.org(org)
	if err != nil {
		return err
	}
	if err := e.loadDirectory(o); err != nil {
		return fmt.Errorf("reload directory: %w", err)
	}
	cat, err := e.st.Actions(org)
	if err != nil {
		return fmt.Errorf("reload catalogue: %w", err)
	}
	o.catalogue = cat
	o.mapper = newMapper(cat, o.mapper.overrides)
	return nil
}

// dirUser finds a directory user by account id or email.
func (o *orgRun) dirUser(idOrEmail string) (audit.User, bool) {
	if u, ok := o.dirByID[idOrEmail]; ok {
		return u, true
	}
	u, ok := o.dirByMail[strings.ToLower(idOrEmail)]
	return u, ok
}

// isAdmin reports whether the directory says the account is an org admin.
func (o *orgRun) isAdmin(id string) bool {
	u, ok := o.dirUser(id)
	return ok && u.Admin
}

// inScope checks a policy scope for a user, with the built-in groups.
func (o *orgRun) inScope(sc Scope, user string) bool {
	if user == "" {
		return len(sc.IncludeUsers) == 0 && len(sc.IncludeGroups) == 0
	}
	m := member{ids: []string{strings.ToLower(user)}}
	if u, ok := o.dirUser(user); ok {
		m.ids = append(m.ids, strings.ToLower(u.Email), strings.ToLower(u.AccountID))
		if u.Admin {
			m.groups = append(m.groups, "org-admins")
		}
		if u.Managed {
			m.groups = append(m.groups, "managed")
		} else {
			m.groups = append(m.groups, "unmanaged")
		}
		if u.Source == "synced" {
			m.groups = append(m.groups, "synced")
		}
		if u.Department != "" {
			m.groups = append(m.groups, "department:"+u.Department)
		}
		m.groups = append(m.groups, u.Groups...)
	}
	if o.eng.groups != nil {
		m.groups = append(m.groups, o.eng.groups.Groups(o.id, user)...)
	}
	return sc.inScope(m)
}

func (o *orgRun) policyName(id string) string {
	if n, ok := policyNames[id]; ok {
		return n
	}
	for _, p := range o.custom {
		if p.spec.ID == id {
			return p.spec.Name
		}
	}
	return id
}
