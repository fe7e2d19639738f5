package detect

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"warden/backend/audit"
)

// ActionMapping is one row of the activity mapping table: an action key, what the org's
// catalogue says about it, and the category detection uses.
type ActionMapping struct {
	Key         string         `json:"key"`
	DisplayName string         `json:"display_name,omitempty"`
	Groups      []string       `json:"groups,omitempty"`
	Category    audit.Category `json:"category"`
	// Privileged marks admin actions that change who can get in or what protects the org
	// (roles, API keys, authentication and IP policies, domains, 2SV). A first such action
	// by an admin alerts even at medium sensitivity.
	Privileged bool `json:"privileged,omitempty"`
	// Source says where Category came from: "admin" (corrected by the admin), "default"
	// (Warden's table), "catalogue" (the org's action groups) or "keyword".
	Source string `json:"source"`
}

// catalogueGroupHints map words in the catalogue's group names to a category, for keys that
// neither the admin nor Warden's table names.
var catalogueGroupHints = []struct {
	word string
	cat  audit.Category
}{
	{"admin action", audit.CategoryAdmin}, {"role", audit.CategoryAdmin},
	{"group", audit.CategoryAdmin}, {"polic", audit.CategoryAdmin},
	{"domain", audit.CategoryAdmin}, {"api key", audit.CategoryAdmin},
	{"user management", audit.CategoryAdmin}, {"product access", audit.CategoryAdmin},
	{"export", audit.CategoryDataExport}, {"api token", audit.CategoryAdmin},
}

// privilegedWords mark privileged admin actions by key or catalogue group.
var privilegedWords = []string{"admin_role", "org_admin", "role_granted", "granted_role",
	"api_key", "auth_policy", "authentication polic", "allowlist", "domain", "two_step", "2sv",
	"sso", "saml", "scim", "audit_log", "security polic", "organization api key", "roles"}

// mapper resolves action keys to categories for one org. It is rebuilt when the catalogue or
// the admin's overrides change; lookups are a map read.
type mapper struct {
	overrides map[string]audit.Category // the admin's corrections
	catalogue map[string]audit.ActionInfo
	cache     map[string]ActionMapping
}

func newMapper(catalogue []audit.ActionInfo, overrides map[string]audit.Category) *mapper {
	m := &mapper{overrides: overrides, catalogue: map[string]audit.ActionInfo{},
		cache: map[string]ActionMapping{}}
	if m.overrides == nil {
		m.overrides = map[string]audit.Category{}
	}
	for _, a := range catalogue {
		m.catalogue[a.Key] = a
	}
	return m
}

// lookup returns the mapping of key, computing it once.
func (m *mapper) lookup(key string) ActionMapping {
	if r, ok := m.cache[key]; ok {
		return r
	}
	r := m.compute(key)
	m.cache[key] = r
	return r
}

func (m *mapper) compute(key string) ActionMapping {
	info := m.catalogue[key]
	r := ActionMapping{Key: key, DisplayName: info.DisplayName, Groups: info.Groups}
	r.Privileged = privileged(key, info.Groups)

	if c, ok := m.overrides[key]; ok {
		r.Category, r.Source = c, "admin"
		return r
	}
	if c, ok := audit.DefaultCategories[key]; ok {
		r.Category, r.Source = c, "default"
		return r
	}
	r.Category, r.Source = audit.Categorize(key, nil), "keyword"
	if r.Category != audit.CategoryOther {
		return r
	}
	for _, g := range info.Groups {
		lg := strings.ToLower(g)
		for _, h := range catalogueGroupHints {
			if strings.Contains(lg, h.word) {
				r.Category, r.Source = h.cat, "catalogue"
				return r
			}
		}
	}
	return r
}

func privileged(key string, groups []string) bool {
	k := strings.ToLower(key)
	for _, w := range privilegedWords {
		if strings.Contains(k, w) {
			return true
		}
		for _, g := range groups {
			if strings.Contains(strings.ToLower(g), w) {
				return true
			}
		}
	}
	return false
}

// table lists every known key: the catalogue, Warden's defaults and the overrides, sorted.
func (m *mapper) table() []ActionMapping {
	keys := map[string]bool{}
	for k := range m.catalogue {
		keys[k] = true
	}
	for k := range audit.DefaultCategories {
		keys[k] = true
	}
	for k := range m.overrides {
		keys[k] = true
	}
	out := make([]ActionMapping, 0, len(keys))
	for k := range keys {
		out = append(out, m.compute(k))
	}
	slices.SortFunc(out, func(a, b ActionMapping) int { return strings.Compare(a.Key, b.Key) })
	return out
}

// validCategory reports whether c is one of audit's categories.
func validCategory(c audit.Category) bool {
	switch c {
	case audit.CategoryLoginSucceeded, audit.CategoryLoginFailed, audit.CategoryLogout,
		audit.CategoryImpersonation, audit.CategoryAdmin, audit.CategoryTokenUse,
		audit.CategoryDataExport, audit.CategoryOther:
		return true
	}
	return false
}

// Mappings returns the org's activity mapping table, for the mapping page.
func (e *Engine) Mappings(org string) ([]ActionMapping, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	o, err := e.org(org)
	if err != nil {
		return nil, err
	}
	return o.mapper.table(), nil
}

// SetMapping corrects the category of an action key; an empty category removes the
// correction. Later detection uses the new category (events already processed keep theirs;
// Replay reprocesses history with it).
func (e *Engine) SetMapping(org, key string, c audit.Category) error {
	if key == "" {
		return fmt.Errorf("set mapping: empty action key")
	}
	if c != "" && !validCategory(c) {
		return fmt.Errorf("set mapping: unknown category %q", c)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	o, err := e.org(org)
	if err != nil {
		return fmt.Errorf("set mapping: %w", err)
	}
	over := maps2(o.mapper.overrides)
	if c == "" {
		delete(over, key)
	} else {
		over[key] = c
	}
	val, err := json.Marshal(over)
	if err != nil {
		return fmt.Errorf("set mapping: %w", err)
	}
	if err := e.put(org, keyMapping, val); err != nil {
		return fmt.Errorf("set mapping: %w", err)
	}
	o.mapper = newMapper(o.catalogue, over)
	return nil
}

// Overrides returns the admin's corrections, in the form syncer.Normalize takes, so stored
// events get the same category detection uses.
func (e *Engine) Overrides(org string) (map[string]audit.Category, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	o, err := e.org(org)
	if err != nil {
		return nil, err
	}
	return maps2(o.mapper.overrides), nil
}

func maps2[K comparable, V any](m map[K]V) map[K]V {
	out := make(map[K]V, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}
