package geo

import (
	"cmp"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"sort"
)

// Category is what an admin says an IP range is, as in Defender for Cloud Apps. Detection reads
// it: Corporate and VPN ranges silence travel alerts, Risky ones raise anonymous-IP alerts.
type Category string

// The range categories.
const (
	CategoryCorporate      Category = "corporate"
	CategoryVPN            Category = "vpn"
	CategoryCloud          Category = "cloud"
	CategoryAdministrative Category = "administrative"
	CategoryRisky          Category = "risky"
)

// Valid reports whether c is one of the categories. The empty category is valid too: a range
// may carry only tags.
func (c Category) Valid() bool {
	switch c {
	case "", CategoryCorporate, CategoryVPN, CategoryCloud, CategoryAdministrative, CategoryRisky:
		return true
	}
	return false
}

// Range is an admin-defined set of networks with a category and free tags.
type Range struct {
	ID       string
	Name     string
	CIDRs    []netip.Prefix
	Category Category
	Tags     []string
}

// span is one network as an inclusive address interval, pointing back at its range.
type span struct {
	lo, hi netip.Addr
	idx    int
}

// Ranges is an immutable lookup structure over ranges whose networks do not overlap, so an
// address belongs to at most one range.
type Ranges struct {
	ranges []Range
	v4, v6 []span
}

// NewRanges validates rs and builds the lookup. It refuses overlapping networks, IPv4 or IPv6,
// within one range or across two, naming both, because a match must have one answer. The
// ranges are copied: later changes to rs do not affect the result.
func NewRanges(rs []Range) (*Ranges, error) {
	out := &Ranges{ranges: make([]Range, len(rs))}
	ids := map[string]bool{}
	for i, r := range rs {
		if r.ID != "" && ids[r.ID] {
			return nil, fmt.Errorf("ip range %s: duplicate id", r.label())
		}
		ids[r.ID] = true
		if !r.Category.Valid() {
			return nil, fmt.Errorf("ip range %s: unknown category %q", r.label(), r.Category)
		}
		r.CIDRs = slices.Clone(r.CIDRs)
		r.Tags = slices.Clone(r.Tags)
		for j, p := range r.CIDRs {
			p, err := canonPrefix(p)
			if err != nil {
				return nil, fmt.Errorf("ip range %s: %w", r.label(), err)
			}
			r.CIDRs[j] = p
			s := span{lo: p.Addr(), hi: lastAddr(p), idx: i}
			if p.Addr().Is4() {
				out.v4 = append(out.v4, s)
			} else {
				out.v6 = append(out.v6, s)
			}
		}
		out.ranges[i] = r
	}
	for _, spans := range [][]span{out.v4, out.v6} {
		if err := out.checkOverlap(spans); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// checkOverlap sorts spans and reports the first overlap. Networks nest or are disjoint, so
// with the spans sorted by start an overlap always shows between neighbours.
func (rs *Ranges) checkOverlap(spans []span) error {
	slices.SortFunc(spans, func(a, b span) int {
		return cmp.Or(a.lo.Compare(b.lo), b.hi.Compare(a.hi))
	})
	for i := 1; i < len(spans); i++ {
		a, b := spans[i-1], spans[i]
		if b.lo.Compare(a.hi) > 0 {
			continue
		}
		ra, rb := rs.ranges[a.idx], rs.ranges[b.idx]
		pa, pb := prefixOf(a), prefixOf(b)
		if a.idx == b.idx {
			return fmt.Errorf("ip range %s: %s overlaps %s in the same range", ra.label(), pb, pa)
		}
		return fmt.Errorf("ip range %s: %s overlaps %s of ip range %s",
			rb.label(), pb, pa, ra.label())
	}
	return nil
}

// prefixOf recovers the network of a span for messages.
func prefixOf(s span) netip.Prefix {
	for bits := 0; bits <= s.lo.BitLen(); bits++ {
		p := netip.PrefixFrom(s.lo, bits).Masked()
		if p.Addr() == s.lo && lastAddr(p) == s.hi {
			return p
		}
	}
	return netip.PrefixFrom(s.lo, s.lo.BitLen())
}

func (r Range) label() string {
	switch {
	case r.Name != "" && r.ID != "":
		return fmt.Sprintf("%q (id %s)", r.Name, r.ID)
	case r.Name != "":
		return fmt.Sprintf("%q", r.Name)
	}
	return fmt.Sprintf("id %q", r.ID)
}

// Match returns the range holding ip. The returned Range shares its slices with the lookup:
// read them, do not change them.
func (rs *Ranges) Match(ip netip.Addr) (Range, bool) {
	if rs == nil || !ip.IsValid() {
		return Range{}, false
	}
	ip = ip.Unmap()
	s, ok := findSpan(rs.v4, rs.v6, ip)
	if !ok {
		return Range{}, false
	}
	return rs.ranges[s.idx], true
}

// Len is the number of ranges.
func (rs *Ranges) Len() int {
	if rs == nil {
		return 0
	}
	return len(rs.ranges)
}

// findSpan finds the span holding ip in sorted, non-overlapping spans.
func findSpan(v4, v6 []span, ip netip.Addr) (span, bool) {
	spans := v6
	if ip.Is4() {
		spans = v4
	}
	i := sort.Search(len(spans), func(i int) bool { return spans[i].lo.Compare(ip) > 0 })
	if i == 0 || spans[i-1].hi.Compare(ip) < 0 {
		return span{}, false
	}
	return spans[i-1], true
}

// canonPrefix masks host bits and writes IPv4-mapped IPv6 networks as IPv4, so one network has
// one spelling and "::ffff:10.0.0.0/104" overlaps "10.0.0.0/8" as it should.
func canonPrefix(p netip.Prefix) (netip.Prefix, error) {
	if !p.IsValid() {
		return netip.Prefix{}, errors.New("invalid network")
	}
	if p.Addr().Zone() != "" {
		return netip.Prefix{}, fmt.Errorf("network %s has a zone", p)
	}
	if a := p.Addr(); a.Is4In6() {
		if p.Bits() < 96 {
			return netip.Prefix{}, fmt.Errorf("network %s mixes IPv4-mapped and IPv6 space", p)
		}
		p = netip.PrefixFrom(a.Unmap(), p.Bits()-96)
	}
	return p.Masked(), nil
}

// lastAddr is the highest address of a masked prefix.
func lastAddr(p netip.Prefix) netip.Addr {
	a := p.Addr()
	if a.Is4() {
		b := a.As4()
		setHostBits(b[:], p.Bits())
		return netip.AddrFrom4(b)
	}
	b := a.As16()
	setHostBits(b[:], p.Bits())
	return netip.AddrFrom16(b)
}

func setHostBits(b []byte, bits int) {
	for i := range b {
		switch {
		case bits >= 8*(i+1):
		case bits <= 8*i:
			b[i] = 0xff
		default:
			b[i] |= 0xff >> (bits - 8*i)
		}
	}
}
