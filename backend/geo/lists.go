package geo

import (
	"bufio"
	"fmt"
	"io"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
)

// ParseList reads an imported address list: the Tor exit list format ("ExitAddress 1.2.3.4
// 2026-01-01 12:00:00" lines among ExitNode, Published and LastStatus lines) or a plain list of
// IP addresses and CIDR networks, one a line, with # or ; comments. It is lenient, as feeds are
// messy: blank, comment and unreadable lines are skipped, and the first bad line is reported
// only when nothing at all parsed, since then the file is probably not a list.
//
// Lists fetched from a URL are refreshed by the app's scheduler, which parses them here.
func ParseList(r io.Reader) ([]netip.Prefix, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64*1024), 1024*1024)
	var out []netip.Prefix
	firstBad, badText := 0, ""
	for n := 1; sc.Scan(); n++ {
		tok, ok := listToken(sc.Text())
		if !ok {
			continue
		}
		p, err := ParsePrefix(tok)
		if err != nil {
			if firstBad == 0 {
				firstBad, badText = n, tok
			}
			continue
		}
		out = append(out, p)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read list: %w", err)
	}
	if len(out) == 0 && firstBad > 0 {
		return nil, fmt.Errorf("line %d: %q is not an IP address or network", firstBad, badText)
	}
	return out, nil
}

// listToken returns the address field of one list line, or false for a line with none.
func listToken(line string) (string, bool) {
	if i := strings.IndexAny(line, "#;"); i >= 0 {
		line = line[:i]
	}
	fields := strings.Fields(line)
	if len(fields) == 0 {
		return "", false
	}
	switch fields[0] {
	case "ExitAddress":
		if len(fields) < 2 {
			return "ExitAddress", true // reported as bad if nothing else parses
		}
		return fields[1], true
	case "ExitNode", "Published", "LastStatus":
		return "", false
	}
	tok, _, _ := strings.Cut(fields[0], ",")
	return tok, true
}

// ParsePrefix reads one address or network as an admin types it; a single address becomes a
// host network, and a network is masked to its canonical form.
func ParsePrefix(s string) (netip.Prefix, error) {
	s = strings.TrimSpace(s)
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return netip.Prefix{}, err
		}
		return canonPrefix(p)
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	if a.Zone() != "" {
		return netip.Prefix{}, fmt.Errorf("address %s has a zone", s)
	}
	a = a.Unmap()
	return netip.PrefixFrom(a, a.BitLen()), nil
}

// list is one imported list, its networks merged into sorted disjoint intervals.
type list struct {
	name     string
	category Category
	tag      string
	v4, v6   []span
}

// ListSet holds imported lists by name. Lookups take no lock and see either the old or the new
// version of a list that is being replaced, so a scheduled refresh never blocks detection.
type ListSet struct {
	mu    sync.Mutex // serializes writers
	lists atomic.Pointer[[]*list]
}

// load returns the current lists; the zero ListSet has none.
func (s *ListSet) load() []*list {
	if s == nil {
		return nil
	}
	if p := s.lists.Load(); p != nil {
		return *p
	}
	return nil
}

// NewListSet returns an empty set. The zero ListSet is usable too.
func NewListSet() *ListSet {
	s := &ListSet{}
	s.lists.Store(&[]*list{})
	return s
}

// Add installs a list under name, replacing a list of that name and keeping its place: the
// first list added wins when lists overlap. Overlapping or duplicate networks inside the list
// are fine; they are merged.
func (s *ListSet) Add(name string, category Category, tag string, prefixes []netip.Prefix) {
	l := &list{name: name, category: category, tag: tag}
	for _, p := range prefixes {
		p, err := canonPrefix(p)
		if err != nil {
			continue
		}
		sp := span{lo: p.Addr(), hi: lastAddr(p)}
		if p.Addr().Is4() {
			l.v4 = append(l.v4, sp)
		} else {
			l.v6 = append(l.v6, sp)
		}
	}
	l.v4, l.v6 = mergeSpans(l.v4), mergeSpans(l.v6)

	s.mu.Lock()
	defer s.mu.Unlock()
	next := slices.Clone(s.load())
	i := slices.IndexFunc(next, func(x *list) bool { return x.name == name })
	if i >= 0 {
		next[i] = l
	} else {
		next = append(next, l)
	}
	s.lists.Store(&next)
}

// Remove drops the list called name, if any.
func (s *ListSet) Remove(name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	next := slices.DeleteFunc(slices.Clone(s.load()),
		func(x *list) bool { return x.name == name })
	s.lists.Store(&next)
}

// Names lists the installed lists in match order.
func (s *ListSet) Names() []string {
	var out []string
	for _, l := range s.load() {
		out = append(out, l.name)
	}
	return out
}

// Match returns the first list holding ip, with the category and tag it was added with.
func (s *ListSet) Match(ip netip.Addr) (name string, category Category, tag string, ok bool) {
	if s == nil || !ip.IsValid() {
		return "", "", "", false
	}
	ip = ip.Unmap()
	for _, l := range s.load() {
		if _, found := findSpan(l.v4, l.v6, ip); found {
			return l.name, l.category, l.tag, true
		}
	}
	return "", "", "", false
}

// mergeSpans sorts spans and joins the ones that overlap or touch.
func mergeSpans(spans []span) []span {
	if len(spans) == 0 {
		return nil
	}
	slices.SortFunc(spans, func(a, b span) int { return a.lo.Compare(b.lo) })
	out := spans[:1]
	for _, sp := range spans[1:] {
		last := &out[len(out)-1]
		if next := last.hi.Next(); sp.lo.Compare(last.hi) <= 0 || next.IsValid() && sp.lo == next {
			if sp.hi.Compare(last.hi) > 0 {
				last.hi = sp.hi
			}
			continue
		}
		out = append(out, sp)
	}
	return slices.Clip(out)
}
