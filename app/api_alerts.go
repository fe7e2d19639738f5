package app

import (
	"context"
	"sort"
	"strings"
	"time"

	"warden/backend/audit"
	"warden/backend/detect"
	"warden/backend/geo"
)

// AlertQuery is the alerts list's filter bar.
type AlertQuery struct {
	Org         string `json:"org"`
	Status      string `json:"status"` // open, resolved, or empty for all
	Severity    string `json:"severity"`
	MinSeverity string `json:"min_severity"`
	Policy      string `json:"policy"`
	User        string `json:"user"`
	Range       string `json:"range"` // 24h, 7d, 30d, 180d, all
	Limit       int    `json:"limit"`
}

// AlertDetail is one alert with the events behind it, oldest first, for the timeline.
type AlertDetail struct {
	Alert  detect.Alert `json:"alert"`
	Events []EventRow   `json:"events"`
}

// ResolveRequest closes an alert, optionally with feedback that changes later detection.
type ResolveRequest struct {
	As       string           `json:"as"` // true_positive, benign, false_positive
	Reason   string           `json:"reason"`
	Comment  string           `json:"comment"`
	Feedback *detect.Feedback `json:"feedback,omitempty"`
}

// PolicyView is one built-in policy with its settings.
type PolicyView struct {
	ID     string              `json:"id"`
	Name   string              `json:"name"`
	Config detect.PolicyConfig `json:"config"`
}

// SourceView is one offline data source for the About screen.
type SourceView struct {
	Name, Kind, Licence, URL, Package, Version, BuildDate, Attribution string
}

func (c *Core) orgOf(ref string) (string, error) {
	conn, err := c.connectorOrFirst(ref)
	if err != nil {
		return "", err
	}
	return conn.OrgID, nil
}

// ListAlerts returns alerts newest first.
func (a *API) ListAlerts(q AlertQuery) ([]detect.Alert, error) {
	org, err := a.core.orgOf(q.Org)
	if err != nil {
		return []detect.Alert{}, nil // nothing connected, nothing to show
	}
	f := detect.Filter{Status: q.Status, Severity: detect.Severity(q.Severity),
		MinSeverity: detect.Severity(q.MinSeverity), Policy: q.Policy,
		User: strings.TrimSpace(q.User), Limit: q.Limit}
	if q.Range != "" && q.Range != "all" {
		if f.Since, err = parseSince(q.Range, a.core.o.Now()); err != nil {
			return nil, uiError(err)
		}
	}
	alerts, err := a.core.detect.List(org, f)
	if alerts == nil {
		alerts = []detect.Alert{}
	}
	return alerts, uiError(err)
}

// GetAlert returns an alert and its events.
func (a *API) GetAlert(org, id string) (AlertDetail, error) {
	org, err := a.core.orgOf(org)
	if err != nil {
		return AlertDetail{}, uiError(err)
	}
	al, err := a.core.detect.Get(org, id)
	if err != nil {
		return AlertDetail{}, uiError(err)
	}
	d := AlertDetail{Alert: al, Events: []EventRow{}}
	names := a.core.actionNames(org)
	for _, id := range al.EventIDs {
		if e, err := a.core.store.Event(org, id); err == nil {
			d.Events = append(d.Events, eventRow(&e, names))
		}
	}
	sortRowsByTime(d.Events)
	return d, nil
}

// sortRowsByTime orders rows oldest first; their RFC 3339 UTC times sort as strings.
func sortRowsByTime(rows []EventRow) {
	sort.SliceStable(rows, func(i, j int) bool { return rows[i].Time < rows[j].Time })
}

// ResolveAlert closes an alert as true positive, benign or false positive, applying its
// feedback first so the correction is in place before anything else is detected.
func (a *API) ResolveAlert(org, id string, r ResolveRequest) (detect.Alert, error) {
	org, err := a.core.orgOf(org)
	if err != nil {
		return detect.Alert{}, uiError(err)
	}
	cur, err := a.core.detect.Get(org, id)
	if err != nil {
		return detect.Alert{}, uiError(err)
	}
	if cur.Resolution != nil && cur.Status != "open" {
		// Another window (or admin) got there first; overwriting their verdict would lose it.
		return cur, uiError(invalid("this alert was already resolved as %s by %s at %s; "+
			"reopen it to change the verdict", strings.ReplaceAll(cur.Resolution.As, "_", " "),
			firstNonEmpty(cur.Resolution.By, "an admin"),
			cur.Resolution.At.UTC().Format("2006-01-02 15:04 UTC")))
	}
	if r.Feedback != nil && r.Feedback.Kind != "" {
		if err := a.core.detect.ApplyFeedback(org, id, *r.Feedback); err != nil {
			return detect.Alert{}, uiError(invalid("%v", err))
		}
	}
	al, err := a.core.detect.Resolve(org, id, detect.Resolution{As: r.As, Reason: r.Reason,
		Comment: r.Comment, By: "window"})
	return al, uiError(err)
}

// ReopenAlert puts a resolved alert back to open.
func (a *API) ReopenAlert(org, id string) (detect.Alert, error) {
	org, err := a.core.orgOf(org)
	if err != nil {
		return detect.Alert{}, uiError(err)
	}
	al, err := a.core.detect.Reopen(org, id)
	return al, uiError(err)
}

// Policies lists the built-in policies with their settings.
func (a *API) Policies(org string) ([]PolicyView, error) {
	org, err := a.core.orgOf(org)
	if err != nil {
		return []PolicyView{}, nil
	}
	st, err := a.core.detect.Settings(org)
	if err != nil {
		return nil, uiError(err)
	}
	out := []PolicyView{}
	for _, id := range detect.BuiltinPolicies {
		out = append(out, PolicyView{ID: id, Name: detect.PolicyName(id), Config: st.Policies[id]})
	}
	return out, nil
}

// SetPolicy saves one built-in policy's settings.
func (a *API) SetPolicy(org, id string, cfg detect.PolicyConfig) error {
	org, err := a.core.orgOf(org)
	if err != nil {
		return uiError(err)
	}
	return uiError(a.core.detect.SetPolicy(org, id, cfg))
}

// CustomPolicies lists the organization's custom activity policies.
func (a *API) CustomPolicies(org string) ([]detect.CustomPolicy, error) {
	org, err := a.core.orgOf(org)
	if err != nil {
		return []detect.CustomPolicy{}, nil
	}
	ps, err := a.core.detect.CustomPolicies(org)
	if ps == nil {
		ps = []detect.CustomPolicy{}
	}
	return ps, uiError(err)
}

// SaveCustomPolicy validates and stores a custom policy; the error says what is wrong.
func (a *API) SaveCustomPolicy(org string, p detect.CustomPolicy) (detect.CustomPolicy, error) {
	org, err := a.core.orgOf(org)
	if err != nil {
		return p, uiError(err)
	}
	saved, err := a.core.detect.SaveCustom(org, p)
	if err != nil {
		return p, uiError(invalid("%v", err))
	}
	return saved, nil
}

// DeleteCustomPolicy removes a custom policy.
func (a *API) DeleteCustomPolicy(org, id string) error {
	org, err := a.core.orgOf(org)
	if err != nil {
		return uiError(err)
	}
	return uiError(a.core.detect.DeleteCustom(org, id))
}

// SimulateCustomPolicy runs a policy over stored history (default: the last 30 days) and
// returns what it would have raised, raising nothing.
func (a *API) SimulateCustomPolicy(org string, p detect.CustomPolicy, rng string) (
	detect.SimResult, error) {
	org, err := a.core.orgOf(org)
	if err != nil {
		return detect.SimResult{}, uiError(err)
	}
	if rng == "" {
		rng = "30d"
	}
	now := a.core.o.Now()
	since, err := parseSince(rng, now)
	if err != nil {
		return detect.SimResult{}, uiError(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	res, err := a.core.detect.Simulate(ctx, org, p, since, now.Add(time.Minute))
	if err != nil {
		return res, uiError(invalid("%v", err))
	}
	return res, nil
}

// Mappings lists the action-to-category mapping the engine uses, with the admin's corrections.
func (a *API) Mappings(org string) ([]detect.ActionMapping, error) {
	org, err := a.core.orgOf(org)
	if err != nil {
		return []detect.ActionMapping{}, nil
	}
	m, err := a.core.detect.Mappings(org)
	return m, uiError(err)
}

// SetMapping corrects an action's category (empty clears the correction) and replays
// detection over history in the background so alerts follow the correction.
func (a *API) SetMapping(org, key, category string) error {
	org, err := a.core.orgOf(org)
	if err != nil {
		return uiError(err)
	}
	if err := a.core.detect.SetMapping(org, key, audit.Category(category)); err != nil {
		return uiError(invalid("%v", err))
	}
	a.core.bg.Add(1)
	go func() {
		defer a.core.bg.Done()
		if err := a.core.detect.Replay(context.Background(), org); err != nil {
			a.core.log.Error("detection replay failed", "org", org, "err", err)
		}
	}()
	return nil
}

// DataSources lists the offline data Warden ships and their licences, for the About screen.
func (a *API) DataSources() []SourceView {
	out := []SourceView{}
	for _, s := range a.core.geo.Sources() {
		out = append(out, sourceView(s))
	}
	return out
}

func sourceView(s geo.SourceInfo) SourceView {
	return SourceView{Name: s.Name, Kind: s.Kind, Licence: s.Licence, URL: s.URL,
		Package: s.Package, Version: s.Version, BuildDate: s.BuildDate,
		Attribution: s.Attribution}
}

// IPRanges returns the admin's IP ranges.
func (a *API) IPRanges() ([]RangeInput, error) {
	r, err := a.core.IPRanges()
	if r == nil {
		r = []RangeInput{}
	}
	return r, uiError(err)
}

// SaveIPRanges replaces the admin's IP ranges; overlapping ranges are refused with both named.
func (a *API) SaveIPRanges(ranges []RangeInput) error {
	return uiError(a.core.SaveIPRanges(ranges))
}

// IPLists returns the imported IP lists.
func (a *API) IPLists() ([]IPList, error) {
	l, err := a.core.IPLists()
	if l == nil {
		l = []IPList{}
	}
	return l, uiError(err)
}

// ImportIPList imports an IP list from a file path or a URL.
func (a *API) ImportIPList(l IPList) (IPList, error) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	saved, err := a.core.ImportIPList(ctx, l)
	return saved, uiError(err)
}

// GeoFiles returns the admin's own city databases, if any.
func (a *API) GeoFiles() (GeoFiles, error) {
	var f GeoFiles
	_, err := a.core.store.GetJSON(geoFilesKey, &f)
	return f, uiError(err)
}

// SetGeoFiles points Warden at a GeoLite2-City or DB-IP City database (used after a restart).
func (a *API) SetGeoFiles(f GeoFiles) error { return uiError(a.core.SetGeoFiles(f)) }

// DeleteIPList removes an imported IP list.
func (a *API) DeleteIPList(name string) error { return uiError(a.core.DeleteIPList(name)) }
