package detect

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"warden/backend/geo"
)

// Settings returns the org's built-in policy settings.
func (e *Engine) Settings(org string) (Settings, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	o, err := e.org(org)
	if err != nil {
		return Settings{}, err
	}
	return cloneSettings(o.settings), nil
}

// SetPolicy stores the settings of one built-in policy (enable, sensitivity, scope, learning).
func (e *Engine) SetPolicy(org, id string, c PolicyConfig) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	o, err := e.org(org)
	if err != nil {
		return err
	}
	s := cloneSettings(o.settings)
	s.Policies[id] = c
	if err := s.Validate(); err != nil {
		return fmt.Errorf("set policy: %w", err)
	}
	return e.saveSettings(o, s)
}

func (e *Engine) saveSettings(o *orgRun, s Settings) error {
	val, err := json.Marshal(s)
	if err != nil {
		return fmt.Errorf("save settings: %w", err)
	}
	if err := e.put(o.id, keySettings, val); err != nil {
		return fmt.Errorf("save settings: %w", err)
	}
	o.settings = s
	return nil
}

func cloneSettings(s Settings) Settings {
	out := Settings{Policies: map[string]PolicyConfig{}}
	for k, v := range s.Policies {
		v.Scope = Scope{IncludeUsers: slices.Clone(v.Scope.IncludeUsers),
			IncludeGroups: slices.Clone(v.Scope.IncludeGroups),
			ExcludeUsers:  slices.Clone(v.Scope.ExcludeUsers),
			ExcludeGroups: slices.Clone(v.Scope.ExcludeGroups)}
		out.Policies[k] = v
	}
	return out
}

// Feedback kinds an admin can give from an alert.
const (
	// FeedbackSafeRange marks an IP range as Corporate or VPN: travel, country and anonymous
	// IP detection treat it as the organization's own network from then on.
	FeedbackSafeRange = "safe_range"
	// FeedbackExcludeUser leaves the alert's user out of the alert's policy.
	FeedbackExcludeUser = "exclude_user"
	// FeedbackNormalLocation makes the alert's countries normal for its user.
	FeedbackNormalLocation = "normal_location"
)

// Feedback is an admin's correction that changes later detection.
type Feedback struct {
	Kind string `json:"kind"`
	// CIDR and Category (corporate or vpn) for safe_range; a bare IP means that address. An
	// empty CIDR takes the alert's first IP.
	CIDR     string `json:"cidr,omitempty"`
	Category string `json:"category,omitempty"`
	Name     string `json:"name,omitempty"`
	// Countries for normal_location; empty takes the alert's countries.
	Countries []string `json:"countries,omitempty"`
}

// ApplyFeedback acts on an alert's feedback. It does not resolve the alert: the UI usually
// does both.
func (e *Engine) ApplyFeedback(org, alertID string, f Feedback) error {
	al, err := e.Get(org, alertID)
	if err != nil {
		return err
	}
	switch f.Kind {
	case FeedbackSafeRange:
		cidr := f.CIDR
		if cidr == "" && len(al.IPs) > 0 {
			cidr = al.IPs[0]
		}
		name := f.Name
		if name == "" {
			name = "Marked from alert " + al.ID
		}
		return e.MarkRange(org, FeedbackRange{Category: f.Category, Name: name, AlertID: al.ID},
			cidr)
	case FeedbackExcludeUser:
		if al.User == "" {
			return fmt.Errorf("feedback: alert %s is not about a user", al.ID)
		}
		return e.ExcludeUser(org, al.Policy, al.User)
	case FeedbackNormalLocation:
		countries := f.Countries
		if len(countries) == 0 {
			for _, l := range al.Locations {
				countries = append(countries, l.Country)
			}
			countries = append(countries, al.Countries...)
		}
		return e.NormalLocation(org, al.User, countries...)
	}
	return fmt.Errorf("feedback: unknown kind %q", f.Kind)
}

// MarkRange adds an admin IP range (Corporate or VPN) that detection trusts before any list.
// Ranges may not overlap, as Defender requires.
func (e *Engine) MarkRange(org string, r FeedbackRange, cidr string) error {
	pfx, err := parseCIDR(cidr)
	if err != nil {
		return fmt.Errorf("mark range: %w", err)
	}
	if r.Category != IPCorporate && r.Category != IPVPN {
		return fmt.Errorf("mark range: category must be %s or %s", IPCorporate, IPVPN)
	}
	r.CIDR = pfx
	e.mu.Lock()
	defer e.mu.Unlock()
	o, err := e.org(org)
	if err != nil {
		return err
	}
	for _, x := range o.ranges {
		if x.CIDR.Overlaps(pfx) {
			return fmt.Errorf("mark range: %s overlaps %s (%s)", pfx, x.CIDR, x.Name)
		}
	}
	ranges := append(slices.Clone(o.ranges), r)
	val, err := json.Marshal(ranges)
	if err == nil {
		err = e.put(org, keyRanges, val)
	}
	if err != nil {
		return fmt.Errorf("mark range: %w", err)
	}
	o.ranges = ranges
	return nil
}

// Ranges lists the admin's feedback ranges, so the composition root can show them with the
// geo ranges.
func (e *Engine) Ranges(org string) ([]FeedbackRange, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	o, err := e.org(org)
	if err != nil {
		return nil, err
	}
	return slices.Clone(o.ranges), nil
}

func parseCIDR(s string) (netip.Prefix, error) {
	p, err := geo.ParsePrefix(s)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("bad IP or CIDR %q", strings.TrimSpace(s))
	}
	return p, nil
}

// ExcludeUser adds a user to a built-in policy's exclusions.
func (e *Engine) ExcludeUser(org, policy, user string) error {
	if _, ok := policyNames[policy]; !ok {
		return e.excludeCustom(org, policy, user)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	o, err := e.org(org)
	if err != nil {
		return err
	}
	s := cloneSettings(o.settings)
	c := s.policy(policy)
	if !slices.Contains(c.Scope.ExcludeUsers, user) {
		c.Scope.ExcludeUsers = append(c.Scope.ExcludeUsers, user)
	}
	s.Policies[policy] = c
	return e.saveSettings(o, s)
}

func (e *Engine) excludeCustom(org, policy, user string) error {
	list, err := e.CustomPolicies(org)
	if err != nil {
		return err
	}
	for _, p := range list {
		if p.ID == policy {
			if !slices.Contains(p.Scope.ExcludeUsers, user) {
				p.Scope.ExcludeUsers = append(p.Scope.ExcludeUsers, user)
			}
			_, err := e.SaveCustom(org, p)
			return err
		}
	}
	return fmt.Errorf("exclude user: unknown policy %q", policy)
}

// NormalLocation records countries (ISO2 codes or names) as normal for a user: infrequent
// country and impossible travel stop alerting on them.
func (e *Engine) NormalLocation(org, user string, countries ...string) error {
	if user == "" {
		return fmt.Errorf("normal location: no user")
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	o, err := e.org(org)
	if err != nil {
		return err
	}
	normal := maps2(o.normal)
	list := slices.Clone(normal[user])
	for _, c := range countries {
		if c != "" && !slices.ContainsFunc(list, func(x string) bool { return strings.EqualFold(x, c) }) {
			list = append(list, c)
		}
	}
	normal[user] = list
	val, err := json.Marshal(normal)
	if err == nil {
		err = e.put(org, keyNormal, val)
	}
	if err != nil {
		return fmt.Errorf("normal location: %w", err)
	}
	o.normal = normal
	return nil
}
