package syncer

import (
	"net/netip"
	"strings"

	"warden/backend/atlassian"
	"warden/backend/audit"
)

// Normalize turns one wire event into Warden's event. It never fails: a field that is missing
// or unusable stays empty, and an IP that does not parse is kept raw and flagged.
func Normalize(org string, w *atlassian.Event, overrides map[string]audit.Category) audit.Event {
	a := &w.Attributes
	e := audit.Event{
		ID:          w.ID,
		Org:         org,
		Time:        a.Time.Time,
		ProcessedAt: a.ProcessedAt.Time,
		Action:      a.Action,
		ActorID:     a.Actor.ID,
		ActorName:   a.Actor.Name,
		ActorEmail:  a.Actor.Email,
		Raw:         w.Raw,
	}
	if e.Time.IsZero() {
		e.Time = e.ProcessedAt
	}
	if auth := a.Actor.Auth; auth != nil {
		e.AuthType, e.TokenID, e.TokenLabel = auth.AuthType, auth.TokenID, auth.TokenLabel
	}
	if a.Actor.OnBehalfOf != nil {
		e.OnBehalfOfID = a.Actor.OnBehalfOf.ID
	}
	if w.Message != nil {
		e.Message = w.Message.Content
	}

	if loc := a.Location; loc != nil {
		e.Country, e.Region, e.City, e.Geo = loc.CountryName, loc.RegionName, loc.City, loc.Geo
		setIP(&e, loc.IP)
	}

	e.Targets = objects(a.Context)
	e.Containers = objects(a.Container)
	e.Product = product(a.Action, a.Container)

	e.Category = audit.Categorize(a.Action, overrides)
	if e.Category == audit.CategoryOther && e.AuthType != "" {
		e.Category = audit.CategoryTokenUse
	}
	return e
}

// setIP stores the canonical form of raw, or flags it. "00.00.00.00" and similar values occur
// in real exports; netip rejects leading zeros, which is what we want: such an address cannot
// be trusted for geolocation or matching.
func setIP(e *audit.Event, raw string) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return
	}
	addr, err := netip.ParseAddr(raw)
	if err != nil || addr.IsUnspecified() {
		e.RawIP, e.IPInvalid = raw, true
		return
	}
	e.IP = addr.Unmap().String()
	if e.IP != raw {
		e.RawIP = raw
	}
}

func objects(in []atlassian.EventObject) []audit.Object {
	if len(in) == 0 {
		return nil
	}
	out := make([]audit.Object, 0, len(in))
	for i := range in {
		o := &in[i]
		out = append(out, audit.Object{
			ID:    o.ID,
			Type:  o.Type,
			Name:  firstString(o.Attributes, "name", "siteName", "displayName", "label"),
			Email: firstString(o.Attributes, "email"),
			Host:  firstString(o.Attributes, "siteHostName"),
		})
	}
	return out
}

func firstString(m map[string]any, keys ...string) string {
	for _, k := range keys {
		if s, ok := m[k].(string); ok && s != "" {
			return s
		}
	}
	return ""
}

// products are the Atlassian products Warden recognizes in action keys and resource ids.
var products = []string{"jira", "confluence", "bitbucket", "loom", "trello", "opsgenie"}

// product names the product an event concerns: from the action key's prefix, else from a
// container's resource id (ari:cloud:<product>::...), else "organization" for org-level and
// account activity.
func product(action string, containers []atlassian.EventObject) string {
	for _, p := range products {
		if strings.HasPrefix(action, p+"_") {
			return p
		}
	}
	for _, c := range containers {
		for _, s := range []string{c.ID, c.Links.Self, c.Links.Alt} {
			if rest, ok := strings.CutPrefix(s, "ari:cloud:"); ok {
				if p, _, ok := strings.Cut(rest, ":"); ok && p != "" && p != "platform" {
					return p
				}
			}
		}
		if c.Type == "sites" {
			return "site"
		}
	}
	return "organization"
}
