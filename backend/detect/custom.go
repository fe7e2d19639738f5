package detect

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/vm"

	"warden/backend/audit"
	"warden/backend/store"
)

// CustomPolicy is an admin-defined activity policy, Defender style, stored as data: every
// filter must match (and the expression, when set), then either each matching activity
// alerts or, with Repeated, N matches within M minutes by the same user (or IP) do.
type CustomPolicy struct {
	ID          string      `json:"id"`
	Name        string      `json:"name"`
	Description string      `json:"description,omitempty"`
	Enabled     bool        `json:"enabled"`
	Severity    Severity    `json:"severity"`
	Filters     []Condition `json:"filters,omitempty"`
	// Expression is an advanced filter in expr-lang syntax over the fields of Activity, e.g.
	// `category == "admin_action" && hour < 6`. It must return a boolean.
	Expression string  `json:"expression,omitempty"`
	Repeated   *Repeat `json:"repeated,omitempty"`
	// DailyCap is the most alerts the policy raises per UTC day of event time (default 100).
	DailyCap int   `json:"daily_cap,omitempty"`
	Scope    Scope `json:"scope"`
}

// Condition is one filter: Field compared with Values by Op ("equals" takes one value,
// "one_of" several, "is_set" none); Not negates it.
type Condition struct {
	Field  string   `json:"field"`
	Op     string   `json:"op"`
	Not    bool     `json:"not,omitempty"`
	Values []string `json:"values,omitempty"`
}

// Repeat makes a policy fire on N matching activities within M minutes, counted per user
// (Per "user", the default), per source IP ("ip") or over the whole org ("org").
type Repeat struct {
	Count         int    `json:"count"`
	WithinMinutes int    `json:"within_minutes"`
	Per           string `json:"per,omitempty"`
}

// Activity is the environment of a custom policy's expression and the list of fields the
// filters may name (by their expr tag).
type Activity struct {
	ID            string   `expr:"id"`
	Action        string   `expr:"action"`
	Category      string   `expr:"category"`
	Actor         string   `expr:"actor"` // account id
	ActorEmail    string   `expr:"actor_email"`
	ActorName     string   `expr:"actor_name"`
	ActorAdmin    bool     `expr:"actor_admin"`
	TargetUsers   []string `expr:"target_user"` // ids and emails of target users
	Admin         bool     `expr:"admin"`       // the activity is administrative
	Impersonation bool     `expr:"impersonation"`
	Token         bool     `expr:"token"` // done with an API token
	TokenLabel    string   `expr:"token_label"`
	Product       string   `expr:"product"`
	Site          string   `expr:"site"`
	IP            string   `expr:"ip"`
	IPCategory    string   `expr:"ip_category"`
	IPTag         string   `expr:"ip_tag"`
	Country       string   `expr:"country"` // ISO2 when known
	CountryName   string   `expr:"country_name"`
	City          string   `expr:"city"`
	Message       string   `expr:"message"`
	Hour          int      `expr:"hour"` // UTC
	Weekday       int      `expr:"weekday"`
}

// filterFields are the fields a Condition may name.
var filterFields = []string{"actor", "target_user", "action", "category", "admin",
	"actor_admin", "impersonation", "product", "site", "ip", "ip_category", "ip_tag", "country",
	"token", "token_label", "city"}

// customPolicy is a compiled CustomPolicy.
type customPolicy struct {
	spec    CustomPolicy
	program *vm.Program
	window  time.Duration
}

// ValidateCustom compiles a policy and returns the first problem in words.
func ValidateCustom(p CustomPolicy) error {
	_, err := compileCustom(p)
	return err
}

func compileCustom(p CustomPolicy) (*customPolicy, error) {
	if strings.TrimSpace(p.Name) == "" {
		return nil, errors.New("custom policy: a name is required")
	}
	if !p.Severity.valid() {
		return nil, errors.New("custom policy: severity must be low, medium or high")
	}
	if len(p.Filters) == 0 && strings.TrimSpace(p.Expression) == "" {
		return nil, errors.New("custom policy: add at least one filter or an expression")
	}
	for i, c := range p.Filters {
		if !slices.Contains(filterFields, c.Field) {
			return nil, fmt.Errorf("custom policy: filter %d: unknown field %q (fields: %s)",
				i+1, c.Field, strings.Join(filterFields, ", "))
		}
		switch {
		case c.Op == "equals" && len(c.Values) != 1:
			return nil, fmt.Errorf("custom policy: filter %d: equals takes exactly one value", i+1)
		case c.Op == "one_of" && len(c.Values) == 0:
			return nil, fmt.Errorf("custom policy: filter %d: one_of needs values", i+1)
		case c.Op != "equals" && c.Op != "one_of" && c.Op != "is_set":
			return nil, fmt.Errorf("custom policy: filter %d: op must be equals, one_of or "+
				"is_set, not %q", i+1, c.Op)
		}
	}
	cp := &customPolicy{spec: p}
	if r := p.Repeated; r != nil {
		if r.Count < 2 || r.WithinMinutes < 1 || r.WithinMinutes > 24*60 {
			return nil, errors.New("custom policy: repeated needs a count of at least 2 " +
				"within 1 to 1440 minutes")
		}
		switch r.Per {
		case "", "user", "ip", "org":
		default:
			return nil, errors.New(`custom policy: repeated per must be "user", "ip" or "org"`)
		}
		cp.window = time.Duration(r.WithinMinutes) * time.Minute
	}
	if src := strings.TrimSpace(p.Expression); src != "" {
		prog, err := expr.Compile(src, expr.Env(Activity{}), expr.AsBool())
		if err != nil {
			return nil, fmt.Errorf("custom policy: expression: %w", err)
		}
		cp.program = prog
	}
	if cp.spec.DailyCap <= 0 {
		cp.spec.DailyCap = 100
	}
	return cp, nil
}

// env builds the expression environment of an activity.
func (a *activity) env() Activity {
	e := a.ev
	c, _ := a.ipClass()
	p := a.where()
	env := Activity{ID: e.ID, Action: e.Action, Category: string(a.cat), Actor: e.ActorID,
		ActorEmail: e.ActorEmail, ActorName: e.ActorName, ActorAdmin: a.org.isAdmin(e.ActorID),
		Admin: a.cat == audit.CategoryAdmin, Token: a.token(), TokenLabel: e.TokenLabel,
		Impersonation: a.cat == audit.CategoryImpersonation || e.OnBehalfOfID != "",
		Product:       e.Product, IP: e.IP, IPCategory: c.Category, IPTag: c.Tag,
		Country: p.Country, CountryName: p.CountryName, City: e.City, Message: e.Message,
		Hour: e.Time.UTC().Hour(), Weekday: int(e.Time.UTC().Weekday())}
	for _, t := range a.targetUsers() {
		env.TargetUsers = append(env.TargetUsers, uniq([]string{t.ID, t.Email})...)
	}
	for _, c := range e.Containers {
		if c.Type == "sites" {
			env.Site = strings.TrimPrefix(strings.TrimPrefix(c.Host, "https://"), "http://")
			if env.Site == "" {
				env.Site = c.Name
			}
		}
	}
	return env
}

// values returns a field's values for filter matching.
func (env *Activity) values(field string) []string {
	b := func(v bool) []string {
		if v {
			return []string{"true"}
		}
		return []string{"false"}
	}
	switch field {
	case "actor":
		return uniq([]string{env.Actor, env.ActorEmail})
	case "target_user":
		return env.TargetUsers
	case "action":
		return uniq([]string{env.Action})
	case "category":
		return uniq([]string{env.Category})
	case "admin":
		return b(env.Admin)
	case "actor_admin":
		return b(env.ActorAdmin)
	case "impersonation":
		return b(env.Impersonation)
	case "token":
		return b(env.Token)
	case "product":
		return uniq([]string{env.Product})
	case "site":
		return uniq([]string{env.Site})
	case "ip":
		return uniq([]string{env.IP})
	case "ip_category":
		return uniq([]string{env.IPCategory})
	case "ip_tag":
		return uniq([]string{env.IPTag})
	case "country":
		return uniq([]string{env.Country, env.CountryName})
	case "token_label":
		return uniq([]string{env.TokenLabel})
	case "city":
		return uniq([]string{env.City})
	}
	return nil
}

func (c Condition) match(env *Activity) bool {
	vals := env.values(c.Field)
	var ok bool
	switch c.Op {
	case "is_set":
		ok = len(vals) > 0
	default:
		for _, v := range vals {
			if slices.ContainsFunc(c.Values, func(w string) bool { return strings.EqualFold(v, w) }) {
				ok = true
				break
			}
		}
	}
	return ok != c.Not
}

// matches reports whether the activity passes every filter and the expression.
func (p *customPolicy) matches(a *activity) bool {
	env := a.env()
	for _, c := range p.spec.Filters {
		if !c.match(&env) {
			return false
		}
	}
	if p.program != nil {
		out, err := expr.Run(p.program, env)
		if err != nil {
			return false
		}
		if ok, _ := out.(bool); !ok {
			return false
		}
	}
	return true
}

// observe evaluates the policy on one activity.
func (p *customPolicy) observe(o *orgRun, a *activity) {
	if !p.spec.Enabled && !o.sim {
		return
	}
	if !p.matches(a) || !o.inScope(p.spec.Scope, a.user) {
		return
	}
	t := a.time()
	capKey := fmt.Sprintf("%s|%d", p.spec.ID, dayOf(t))
	if o.meta.Caps[capKey] >= p.spec.DailyCap {
		o.meta.Capped[capKey]++
		return
	}

	d := draftFor(p.spec.ID, a, p.spec.Severity)
	d.Title = fmt.Sprintf("%s: %s by %s", p.spec.Name, a.label(), a.who())
	d.Evidence = []string{fmt.Sprintf("%s: %s by %s from %s matched the policy %q.", stamp(t),
		a.label(), a.who(), orNone(a.ev.IP), p.spec.Name)}
	d.Dedup = "custom|" + p.spec.ID + "|" + a.ev.ID
	d.Window = time.Minute
	d.Subject = a.ev.ID

	if r := p.spec.Repeated; r != nil {
		subject := a.user
		switch r.Per {
		case "ip":
			subject = a.ev.IP
		case "org":
			subject = "org"
		}
		key := p.spec.ID + "|" + subject
		s := insertStamp(o.meta.Repeats[key], ipStamp{T: t, ID: a.ev.ID})
		s = pruneStamps(s, s[len(s)-1].T.Add(-2*p.window))
		o.meta.Repeats[key] = s
		win := stampsIn(s, t.Add(-p.window), t)
		if len(win) < r.Count {
			return
		}
		d.Time, d.LastTime, d.EventIDs = win[0].T, t, nil
		for _, x := range win {
			d.EventIDs = append(d.EventIDs, x.ID)
		}
		d.Title = fmt.Sprintf("%s: %d matching activities within %d minutes", p.spec.Name,
			len(win), r.WithinMinutes)
		d.Evidence = []string{fmt.Sprintf("%d activities matching %q between %s and %s UTC on "+
			"%s (threshold %d within %d minutes).", len(win), p.spec.Name, clock(win[0].T),
			clock(t), t.UTC().Format("2006-01-02"), r.Count, r.WithinMinutes)}
		d.Dedup = fmt.Sprintf("custom|%s|%s|%d", p.spec.ID, subject, win[0].T.Unix())
		d.Subject, d.Window = subject, p.window
	}
	before := o.raised
	o.raise(d)
	if o.raised > before {
		o.meta.Caps[capKey]++
	}
}

func orNone(s string) string {
	if s == "" {
		return "no IP"
	}
	return s
}

// SaveCustom validates and stores a custom policy; an empty ID is derived from the name.
// The compiled policy takes effect for events processed after it.
func (e *Engine) SaveCustom(org string, p CustomPolicy) (CustomPolicy, error) {
	if p.ID == "" {
		h := sha256.Sum256([]byte(p.Name))
		p.ID = "custom-" + hex.EncodeToString(h[:4])
	}
	if _, builtin := policyNames[p.ID]; builtin {
		return p, fmt.Errorf("custom policy: id %q is a built-in policy", p.ID)
	}
	cp, err := compileCustom(p)
	if err != nil {
		return p, err
	}
	val, err := json.Marshal(p)
	if err != nil {
		return p, fmt.Errorf("save custom policy: %w", err)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	o, err := e.org(org)
	if err != nil {
		return p, err
	}
	if err := e.put(org, keyCustom+p.ID, val); err != nil {
		return p, fmt.Errorf("save custom policy: %w", err)
	}
	o.custom = slices.DeleteFunc(o.custom, func(c *customPolicy) bool { return c.spec.ID == p.ID })
	o.custom = append(o.custom, cp)
	slices.SortFunc(o.custom, func(a, b *customPolicy) int {
		return strings.Compare(a.spec.ID, b.spec.ID)
	})
	return p, nil
}

// DeleteCustom removes a custom policy; its alerts stay.
func (e *Engine) DeleteCustom(org, id string) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	o, err := e.org(org)
	if err != nil {
		return err
	}
	if err := e.st.PutDetect(org, []store.DetectWrite{{Key: keyCustom + id}}); err != nil {
		return fmt.Errorf("delete custom policy: %w", err)
	}
	o.custom = slices.DeleteFunc(o.custom, func(c *customPolicy) bool { return c.spec.ID == id })
	return nil
}

// CustomPolicies lists the org's custom policies by id.
func (e *Engine) CustomPolicies(org string) ([]CustomPolicy, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	o, err := e.org(org)
	if err != nil {
		return nil, err
	}
	out := make([]CustomPolicy, len(o.custom))
	for i, c := range o.custom {
		out[i] = c.spec
	}
	return out, nil
}

// SimResult is what a simulation would have raised.
type SimResult struct {
	Events int     `json:"events"`
	Alerts []Alert `json:"alerts"`
	// Capped counts matches dropped by the daily cap.
	Capped int `json:"capped"`
}

// Simulate runs a custom policy (enabled or not, saved or not) over the stored events with
// since <= time < until and returns the alerts it would have raised. Nothing is stored and
// no alert is raised.
func (e *Engine) Simulate(ctx context.Context, org string, p CustomPolicy, since,
	until time.Time) (SimResult, error) {
	if p.ID == "" {
		p.ID = "simulation"
	}
	cp, err := compileCustom(p)
	if err != nil {
		return SimResult{}, err
	}
	e.mu.Lock()
	live, err := e.org(org)
	if err != nil {
		e.mu.Unlock()
		return SimResult{}, err
	}
	sim := &orgRun{eng: e, id: org, settings: live.settings, mapper: newMapper(live.catalogue,
		live.mapper.overrides), ranges: slices.Clone(live.ranges), normal: live.normal,
		dirByID: live.dirByID, dirByMail: live.dirByMail, users: map[string]*userState{},
		ips: map[string]*ipState{}, dedup: map[string]string{}, sim: true}
	sim.meta.init()
	sim.resetBatch()
	e.mu.Unlock()

	var res SimResult
	err = e.st.ScanEvents(org, since, until, func(ev *audit.Event) error {
		if res.Events%1024 == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
		res.Events++
		cp.observe(sim, newActivity(sim, ev))
		return nil
	})
	if err != nil {
		return SimResult{}, fmt.Errorf("simulate: %w", err)
	}
	for _, al := range sim.alerts {
		res.Alerts = append(res.Alerts, *al)
	}
	slices.SortFunc(res.Alerts, func(a, b Alert) int {
		if c := a.Time.Compare(b.Time); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	for _, n := range sim.meta.Capped {
		res.Capped += n
	}
	return res, nil
}

// capDay reads the day out of a daily-cap key "policy|day".
func capDay(k string) (int32, bool) {
	i := strings.LastIndexByte(k, '|')
	if i < 0 {
		return 0, false
	}
	var d int32
	if _, err := fmt.Sscan(k[i+1:], &d); err != nil {
		return 0, false
	}
	return d, true
}
