package detect

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"warden/backend/store"
)

// Alert statuses and resolutions.
const (
	StatusOpen     = "open"
	StatusResolved = "resolved"

	TruePositive  = "true_positive"
	Benign        = "benign"
	FalsePositive = "false_positive"
)

// Reasons offered when closing an alert, Defender's lists. Any other reason is accepted as
// free text under "other".
var (
	FalsePositiveReasons = []string{"not_of_interest", "too_many_similar", "inaccurate", "other"}
	BenignReasons        = []string{"lower_severity", "confirmed_with_user", "test", "other"}
)

// ErrNotFound is returned for an unknown alert id.
var ErrNotFound = errors.New("alert not found")

// Alert is one finding, with everything needed to explain it.
type Alert struct {
	ID         string   `json:"id"`
	Org        string   `json:"org"`
	Policy     string   `json:"policy"`
	PolicyName string   `json:"policy_name"`
	Severity   Severity `json:"severity"`
	Status     string   `json:"status"`
	Title      string   `json:"title"`
	// User is the account the alert is about (the actor), UserEmail and UserName for display.
	// Password-spray alerts are about an IP and have no user.
	User      string   `json:"user"`
	UserEmail string   `json:"user_email,omitempty"`
	UserName  string   `json:"user_name,omitempty"`
	IPs       []string `json:"ips,omitempty"`
	Countries []string `json:"countries,omitempty"`
	// Time is the event time of the first event behind the alert, LastTime of the latest.
	Time     time.Time `json:"time"`
	LastTime time.Time `json:"last_time"`
	// Evidence says in plain words why the alert fired.
	Evidence  []string   `json:"evidence"`
	EventIDs  []string   `json:"event_ids"`
	Locations []Location `json:"locations,omitempty"`
	// Count is how many detections were grouped into this alert.
	Count      int         `json:"count"`
	Resolution *Resolution `json:"resolution,omitempty"`

	key string // store key, which changes when Time moves
}

// Location is one place shown on the alert's map.
type Location struct {
	Time     time.Time `json:"time"`
	EventID  string    `json:"event_id"`
	IP       string    `json:"ip,omitempty"`
	Label    string    `json:"label"`
	Country  string    `json:"country,omitempty"`
	Lat      float64   `json:"lat"`
	Lon      float64   `json:"lon"`
	RadiusKM float64   `json:"radius_km"`
}

// Resolution is how an admin closed an alert.
type Resolution struct {
	As      string    `json:"as"` // true_positive, benign or false_positive
	Reason  string    `json:"reason,omitempty"`
	Comment string    `json:"comment,omitempty"`
	By      string    `json:"by,omitempty"`
	At      time.Time `json:"at"`
}

// draft is what a policy proposes; raise turns it into a new or grouped alert.
type draft struct {
	Policy    string     `json:"policy"`
	Severity  Severity   `json:"severity"`
	Title     string     `json:"title"`
	User      string     `json:"user"`
	UserEmail string     `json:"user_email,omitempty"`
	UserName  string     `json:"user_name,omitempty"`
	IPs       []string   `json:"ips,omitempty"`
	Countries []string   `json:"countries,omitempty"`
	Time      time.Time  `json:"time"`
	LastTime  time.Time  `json:"last_time,omitzero"`
	Evidence  []string   `json:"evidence"`
	EventIDs  []string   `json:"event_ids"`
	Locations []Location `json:"locations,omitempty"`
	// Dedup identifies the detection: the same key never alerts twice.
	Dedup string `json:"dedup"`
	// Subject groups related alerts (default: the user); Window is how close in event time
	// two detections must be to share an alert.
	Subject string        `json:"subject,omitempty"`
	Window  time.Duration `json:"window,omitempty"`
}

// draftFor starts a draft about the activity's actor.
func draftFor(policy string, a *activity, sev Severity) draft {
	e := a.ev
	d := draft{Policy: policy, Severity: sev, User: e.ActorID, UserEmail: e.ActorEmail,
		UserName: e.ActorName, Time: e.Time, EventIDs: []string{e.ID}}
	if e.IP != "" {
		d.IPs = []string{e.IP}
	}
	return d
}

// alertID derives a stable id from the org, policy and dedup key, so a replay of the same
// events gives the same ids.
func alertID(org, policy, dedup string) string {
	h := sha256.Sum256([]byte(org + "\x00" + policy + "\x00" + dedup))
	return hex.EncodeToString(h[:8])
}

// Store names under det/‹o›: see store/detect.go.
const (
	keyMeta     = "s/org"
	keyUserPfx  = "s/u/"
	keyIPPfx    = "s/i/"
	keyAlertPfx = "a/"
	keyIndexPfx = "x/"
	keyDedupPfx = "k/"
	keySettings = "c/settings"
	keyMapping  = "c/mapping"
	keyRanges   = "c/ranges"
	keyNormal   = "c/normal"
	keyCustom   = "c/custom/"
)

// alertKey orders alerts by event time: 16 hex digits of the sign-flipped Unix nanoseconds.
func alertKey(t time.Time, id string) string {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], uint64(t.UnixNano())^(1<<63))
	return keyAlertPfx + hex.EncodeToString(b[:]) + "/" + id
}

// raise records a detection: dropped when its dedup key was seen, merged into the open alert
// of its group when one is close enough in time, else a new alert.
func (o *orgRun) raise(d draft) *Alert {
	cfgID := d.Policy
	if _, builtin := policyNames[cfgID]; builtin {
		cfg := o.settings.policy(cfgID)
		if !cfg.Enabled || !o.inScope(cfg.Scope, d.User) {
			return nil
		}
		if cfg.Severity != "" {
			d.Severity = cfg.Severity
		}
	}
	if id, seen := o.dedup[d.Dedup]; seen {
		// Already detected (or detected again after a restart from a checkpoint): hand back
		// the alert so a policy can keep updating it, but change nothing.
		return o.alert(id)
	}
	if d.LastTime.IsZero() {
		d.LastTime = d.Time
	}

	subject := d.Subject
	if subject == "" {
		subject = d.User
	}
	gk := d.Policy + "|" + subject
	window := d.Window
	if window <= 0 {
		window = 24 * time.Hour
	}
	if ref, ok := o.meta.Groups[gk]; ok && d.Time.Sub(ref.Last) <= window &&
		ref.First.Sub(d.LastTime) <= window {
		if al := o.alert(ref.Alert); al != nil && al.Status == StatusOpen {
			o.merge(al, d)
			o.dedup[d.Dedup] = al.ID
			o.newKeys[d.Dedup] = al.ID
			o.meta.Groups[gk] = groupRef{Alert: al.ID, First: minTime(ref.First, d.Time),
				Last: maxTime(ref.Last, d.LastTime)}
			return al
		}
	}

	al := &Alert{
		ID: alertID(o.id, d.Policy, d.Dedup), Org: o.id, Policy: d.Policy,
		PolicyName: o.policyName(d.Policy), Severity: d.Severity, Status: StatusOpen,
		Title: d.Title, User: d.User, UserEmail: d.UserEmail, UserName: d.UserName,
		IPs: uniq(d.IPs), Countries: uniq(d.Countries), Time: d.Time, LastTime: d.LastTime,
		Evidence: d.Evidence, EventIDs: uniq(d.EventIDs), Locations: d.Locations, Count: 1,
	}
	if old, err := o.eng.loadAlert(o.id, al.ID); !o.sim && err == nil {
		// A replay recreates an alert it raised before: keep the admin's verdict.
		al.Status, al.Resolution, al.key = old.Status, old.Resolution, old.key
	}
	o.alerts[al.ID] = al
	o.dirtyAlerts[al.ID] = true
	o.created = append(o.created, al.ID)
	o.dedup[d.Dedup] = al.ID
	o.newKeys[d.Dedup] = al.ID
	o.meta.Groups[gk] = groupRef{Alert: al.ID, First: d.Time, Last: d.LastTime}
	o.raised++
	return al
}

// merge folds a detection into an existing alert.
func (o *orgRun) merge(al *Alert, d draft) {
	al.Count++
	al.Severity = maxSeverity(al.Severity, d.Severity)
	al.IPs = uniq(append(al.IPs, d.IPs...))
	al.Countries = uniq(append(al.Countries, d.Countries...))
	if len(al.EventIDs) < maxAlertEvents {
		al.EventIDs = uniq(append(al.EventIDs, d.EventIDs...))
	}
	for _, ev := range d.Evidence {
		if !slices.Contains(al.Evidence, ev) && len(al.Evidence) < 20 {
			al.Evidence = append(al.Evidence, ev)
		}
	}
	if len(al.Locations) < 20 {
		al.Locations = append(al.Locations, d.Locations...)
	}
	al.Time = minTime(al.Time, d.Time)
	al.LastTime = maxTime(al.LastTime, d.LastTime)
	o.dirtyAlerts[al.ID] = true
}

// update is how a policy changes an alert it raised (a success after failures, a burst that
// goes on): fn edits the alert, which is then written with the batch.
func (o *orgRun) update(id string, fn func(al *Alert)) {
	al := o.alert(id)
	if al == nil {
		return
	}
	fn(al)
	if len(al.EventIDs) > maxAlertEvents {
		al.EventIDs = al.EventIDs[:maxAlertEvents]
	}
	o.dirtyAlerts[al.ID] = true
}

// alert returns a cached or stored alert.
func (o *orgRun) alert(id string) *Alert {
	if al, ok := o.alerts[id]; ok || o.sim {
		return al
	}
	al, err := o.eng.loadAlert(o.id, id)
	if err != nil {
		return nil
	}
	o.alerts[id] = al
	return al
}

func (e *Engine) loadAlert(org, id string) (*Alert, error) {
	k, ok, err := e.st.GetDetect(org, keyIndexPfx+id)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("alert %s: %w", id, ErrNotFound)
	}
	val, ok, err := e.st.GetDetect(org, string(k))
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("alert %s: %w", id, ErrNotFound)
	}
	var al Alert
	if err := json.Unmarshal(val, &al); err != nil {
		return nil, fmt.Errorf("alert %s: %w", id, err)
	}
	al.key = string(k)
	return &al, nil
}

// alertWrites are the store writes of one changed alert (and its index entry).
func alertWrites(al *Alert) ([]store.DetectWrite, error) {
	val, err := json.Marshal(al)
	if err != nil {
		return nil, err
	}
	k := alertKey(al.Time, al.ID)
	var w []store.DetectWrite
	if al.key != "" && al.key != k {
		w = append(w, store.DetectWrite{Key: al.key})
	}
	al.key = k
	return append(w, store.DetectWrite{Key: k, Value: val},
		store.DetectWrite{Key: keyIndexPfx + al.ID, Value: []byte(k)}), nil
}

// Filter selects alerts for List. Zero fields do not filter.
type Filter struct {
	Status      string    `json:"status,omitempty"`       // open or resolved
	Severity    Severity  `json:"severity,omitempty"`     // exactly this severity
	MinSeverity Severity  `json:"min_severity,omitempty"` // this severity or higher
	Policy      string    `json:"policy,omitempty"`
	User        string    `json:"user,omitempty"` // account id or email
	Since       time.Time `json:"since,omitzero"`
	Until       time.Time `json:"until,omitzero"`
	Limit       int       `json:"limit,omitempty"` // default 500
}

func (f Filter) match(al *Alert) bool {
	switch {
	case f.Status != "" && al.Status != f.Status:
		return false
	case f.Severity != "" && al.Severity != f.Severity:
		return false
	case f.MinSeverity != "" && al.Severity.rank() < f.MinSeverity.rank():
		return false
	case f.Policy != "" && al.Policy != f.Policy:
		return false
	case f.User != "" && !strings.EqualFold(al.User, f.User) &&
		!strings.EqualFold(al.UserEmail, f.User):
		return false
	case !f.Since.IsZero() && al.LastTime.Before(f.Since):
		return false
	case !f.Until.IsZero() && !al.Time.Before(f.Until):
		return false
	}
	return true
}

// List returns the org's alerts matching f, newest first by event time.
func (e *Engine) List(org string, f Filter) ([]Alert, error) {
	limit := f.Limit
	if limit <= 0 {
		limit = 500
	}
	var out []Alert
	err := e.st.ScanDetect(org, keyAlertPfx, true, func(_ string, val []byte) error {
		var al Alert
		if err := json.Unmarshal(val, &al); err != nil {
			return err
		}
		if f.match(&al) {
			out = append(out, al)
		}
		if len(out) >= limit {
			return store.ErrStop
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list alerts: %w", err)
	}
	return out, nil
}

// Get returns one alert.
func (e *Engine) Get(org, id string) (Alert, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	al, err := e.loadAlert(org, id)
	if err != nil {
		return Alert{}, err
	}
	return *al, nil
}

// Resolve closes an alert as true_positive, benign or false_positive with a reason and a
// comment. Resolving never deletes evidence; Reopen undoes it.
func (e *Engine) Resolve(org, id string, r Resolution) (Alert, error) {
	switch r.As {
	case TruePositive, Benign, FalsePositive:
	default:
		return Alert{}, fmt.Errorf("resolve alert: resolution must be %s, %s or %s",
			TruePositive, Benign, FalsePositive)
	}
	if r.At.IsZero() {
		r.At = e.now()
	}
	return e.setStatus(org, id, StatusResolved, &r)
}

// Reopen puts a resolved alert back to open.
func (e *Engine) Reopen(org, id string) (Alert, error) {
	return e.setStatus(org, id, StatusOpen, nil)
}

func (e *Engine) setStatus(org, id, status string, r *Resolution) (Alert, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	o, err := e.org(org)
	if err != nil {
		return Alert{}, err
	}
	al := o.alert(id)
	if al == nil {
		return Alert{}, fmt.Errorf("alert %s: %w", id, ErrNotFound)
	}
	al.Status, al.Resolution = status, r
	w, err := alertWrites(al)
	if err == nil {
		err = e.st.PutDetect(org, w)
	}
	if err != nil {
		return Alert{}, fmt.Errorf("update alert: %w", err)
	}
	return *al, nil
}

// setProgress replaces the alert's "So far:" evidence line, which tracks an ongoing burst.
func setProgress(al *Alert, line string) {
	line = "So far: " + line
	for i, ev := range al.Evidence {
		if strings.HasPrefix(ev, "So far: ") {
			al.Evidence[i] = line
			return
		}
	}
	al.Evidence = append(al.Evidence, line)
}

func uniq(s []string) []string {
	var out []string
	for _, v := range s {
		if v != "" && !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	return out
}
