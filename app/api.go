package app

import (
	"bytes"
	"context"
	"encoding/json"
	"sort"
	"strings"
	"time"

	"warden/backend/audit"
	"warden/backend/keys"
)

// API is the facade bound to the window and served in browser mode. Every exported method is
// callable from the frontend as window.go.app.API.<Method>(...). Errors leave it as admin-facing
// text produced by uiError, never as raw backend errors.
type API struct {
	core *Core
}

// NewAPI returns the facade over a core.
func NewAPI(c *Core) *API { return &API{core: c} }

const timeLayout = time.RFC3339

// Status returns the header state: version, demo flag and connectors with their progress.
func (a *API) Status() (StatusView, error) {
	conns, err := a.core.Connectors()
	if err != nil {
		return StatusView{}, uiError(err)
	}
	v := StatusView{Version: Version, DataDir: a.core.o.DataDir, Connectors: []ConnectorView{}}
	for _, conn := range conns {
		v.Demo = v.Demo || conn.Demo
		v.Connectors = append(v.Connectors, a.connectorView(conn))
	}
	return v, nil
}

func (a *API) connectorView(conn Connector) ConnectorView {
	c := a.core
	now := c.o.Now()
	v := ConnectorView{
		ID: conn.ID, Name: conn.Name, OrgID: conn.OrgID, OrgName: conn.OrgName, Demo: conn.Demo,
		Expires: conn.Expires.Format("2006-01-02"), DaysLeft: keys.DaysLeft(conn.Expires, now),
		LastError: conn.LastError,
	}
	if !conn.LastSync.IsZero() {
		v.LastSync = conn.LastSync.Format(timeLayout)
	}
	v.Events, _ = c.store.CountEvents(conn.OrgID)
	v.Users, _ = c.store.CountUsers(conn.OrgID)
	if doms, err := c.store.Domains(conn.OrgID); err == nil {
		for _, d := range doms {
			if d.Verified {
				v.Domains++ // only verified claims say which users the org manages
			}
		}
	}
	if cur, ok, err := c.store.Cursor(conn.OrgID); err == nil && ok {
		v.Backfilled = cur.Backfilled
	}

	p := c.syncer.Progress(conn.OrgID)
	v.Progress = ProgressView{
		Running: p.Running, Phase: p.Phase, Events: p.Events, Added: p.Added, Pages: p.Pages,
		PerSecond: p.PerSecond(now), Fraction: p.Fraction, ETASeconds: p.ETA(now).Seconds(),
	}
	if p.Err != nil {
		v.Progress.Message = userMessage(p.Err)
	}
	return v
}

// TestConnection checks an organization ID and API key without saving anything.
func (a *API) TestConnection(req ConnectRequest) (TestResult, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()

	org, err := a.core.TestConnection(ctx, req)
	if err != nil {
		code, msg := problem(err)
		return TestResult{Problem: code, Message: msg}, nil
	}
	return TestResult{OK: true, OrgName: org.Attributes.Name,
		Message: "Connected to " + org.Attributes.Name + "."}, nil
}

// SaveConnector tests the connection, stores the key in the keychain and starts the first sync.
func (a *API) SaveConnector(req ConnectRequest) (ConnectorView, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()

	conn, err := a.core.Connect(ctx, req)
	if err != nil {
		return ConnectorView{}, uiError(err)
	}
	a.core.SyncInBackground(conn.ID)
	return a.connectorView(conn), nil
}

// DeleteConnector removes a connector, its key from the keychain, and its stored data.
func (a *API) DeleteConnector(id string) error { return uiError(a.core.DeleteConnector(id)) }

// SyncNow starts a sync of one connector, or of all when id is empty.
func (a *API) SyncNow(id string) error {
	if id != "" {
		if _, err := a.core.Connector(id); err != nil {
			return uiError(err)
		}
	}
	a.core.SyncInBackground(id)
	return nil
}

// QueryEvents returns one page of the activity log, newest first.
func (a *API) QueryEvents(q EventQuery) (EventPageView, error) {
	start := time.Now()
	f, err := a.core.eventFilter(q)
	if err != nil {
		return EventPageView{}, uiError(err)
	}
	page, err := a.core.store.Query(f)
	if err != nil {
		return EventPageView{}, uiError(err)
	}

	names := a.core.actionNames(f.Org)
	v := EventPageView{Rows: make([]EventRow, 0, len(page.Events)), Next: page.Next}
	for i := range page.Events {
		v.Rows = append(v.Rows, eventRow(&page.Events[i], names))
	}
	v.Took = time.Since(start).Round(100 * time.Microsecond).String()
	return v, nil
}

func eventRow(e *audit.Event, names map[string]string) EventRow {
	ip := e.IP
	if ip == "" {
		ip = e.RawIP
	}
	return EventRow{
		ID: e.ID, Org: e.Org, Time: e.Time.UTC().Format(time.RFC3339Nano), Action: e.Action,
		ActionName: names[e.Action], Category: string(e.Category), ActorID: e.ActorID,
		ActorName: e.ActorName, ActorEmail: e.ActorEmail, IP: ip, IPInvalid: e.IPInvalid,
		Country: e.Country, City: e.City, Product: e.Product, Token: e.AuthType != "",
		Summary: e.Message,
	}
}

// GetEvent returns every field of one event.
func (a *API) GetEvent(org, id string) (EventDetail, error) {
	e, err := a.core.store.Event(org, id)
	if err != nil {
		return EventDetail{}, uiError(err)
	}
	d := EventDetail{Event: e, ActionName: a.core.actionNames(org)[e.Action]}
	if u, err := a.core.store.User(org, e.ActorID); err == nil {
		d.ActorAdmin = u.Admin
	}
	var buf bytes.Buffer
	if json.Indent(&buf, e.Raw, "", "  ") == nil {
		d.Raw = buf.String()
	} else {
		d.Raw = string(e.Raw)
	}
	return d, nil
}

// FilterOptions returns the values the activity log's filters offer for an organization.
func (a *API) FilterOptions(org string) (FilterOptions, error) {
	c := a.core
	o := FilterOptions{Actions: []audit.ActionInfo{}, Countries: []string{},
		Products: []string{}, Users: []audit.User{}}
	if org == "" {
		return o, nil
	}

	actions, err := c.store.Actions(org)
	if err != nil {
		return o, uiError(err)
	}
	seen, _ := c.store.Distinct(org, "action")
	known := map[string]bool{}
	for _, x := range actions {
		known[x.Key] = true
	}
	for _, k := range seen {
		if !known[k] {
			actions = append(actions, audit.ActionInfo{Key: k, DisplayName: k})
		}
	}
	sort.Slice(actions, func(i, j int) bool {
		return strings.ToLower(actions[i].DisplayName) < strings.ToLower(actions[j].DisplayName)
	})
	o.Actions = actions

	if v, err := c.store.Distinct(org, "country"); err == nil {
		o.Countries = append(o.Countries, v...)
	}
	if v, err := c.store.Distinct(org, "product"); err == nil {
		o.Products = append(o.Products, v...)
	}
	if users, err := c.store.Users(org); err == nil {
		o.Users = users
	}
	return o, nil
}

// eventFilter turns the filter bar into a store filter.
func (c *Core) eventFilter(q EventQuery) (audit.Filter, error) {
	f := audit.Filter{
		Org: q.Org, User: strings.TrimSpace(q.User), Action: strings.TrimSpace(q.Action),
		IP: strings.TrimSpace(q.IP), Country: q.Country, Product: q.Product, Before: q.Before,
		Limit: q.Limit,
	}
	if f.Org == "" {
		conns, err := c.Connectors()
		if err != nil {
			return f, err
		}
		switch {
		case len(conns) > 0:
			f.Org = conns[0].OrgID
		default:
			// Events imported before any connector exists still belong to one organization.
			orgs, err := c.store.Orgs()
			if err != nil {
				return f, err
			}
			if len(orgs) != 1 {
				return f, invalid("connect an organization first, or pass --org")
			}
			f.Org = orgs[0]
		}
	}

	var err error
	if q.Since != "" {
		if f.Since, err = parseSince(q.Since, c.o.Now()); err != nil {
			return f, err
		}
	} else if q.Range != "" && q.Range != "all" {
		if f.Since, err = parseSince(q.Range, c.o.Now()); err != nil {
			return f, err
		}
	}
	if q.Until != "" {
		if f.Until, err = time.Parse(time.RFC3339, q.Until); err != nil {
			return f, invalid("until must be an RFC 3339 time")
		}
	}
	return f, nil
}

// parseSince accepts a duration (90m, 24h, 7d) or an RFC 3339 time or a date.
func parseSince(s string, now time.Time) (time.Time, error) {
	s = strings.TrimSpace(s)
	if days, ok := strings.CutSuffix(s, "d"); ok {
		if d, err := time.ParseDuration(days + "h"); err == nil {
			return now.Add(-24 * d), nil
		}
	}
	if d, err := time.ParseDuration(s); err == nil {
		return now.Add(-d), nil
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, invalid("since must be a duration like 24h or 7d, a date or a time")
}

// actionNames maps action keys to catalogue display names.
func (c *Core) actionNames(org string) map[string]string {
	out := map[string]string{}
	actions, err := c.store.Actions(org)
	if err != nil {
		return out
	}
	for _, x := range actions {
		out[x.Key] = x.DisplayName
	}
	return out
}
