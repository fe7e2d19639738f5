package geo

import (
	"net/netip"
	"strings"
	"testing"
)

func prefixes(ss ...string) []netip.Prefix {
	out := make([]netip.Prefix, len(ss))
	for i, s := range ss {
		out[i] = netip.MustParsePrefix(s)
	}
	return out
}

func TestNewRangesRefuses(t *testing.T) {
	hq := Range{ID: "hq", Name: "HQ", CIDRs: prefixes("10.0.0.0/8", "2001:db8::/32"),
		Category: CategoryCorporate}
	tests := []struct {
		name  string
		rs    []Range
		wants []string // substrings of the error
	}{
		{"ipv4 overlap across ranges", []Range{hq,
			{ID: "vpn", Name: "VPN", CIDRs: prefixes("10.1.0.0/16"), Category: CategoryVPN}},
			[]string{`"VPN" (id vpn)`, "10.1.0.0/16", "10.0.0.0/8", `"HQ" (id hq)`}},
		{"ipv6 overlap across ranges", []Range{hq,
			{ID: "lab", Name: "Lab", CIDRs: prefixes("2001:db8:1::/48")}},
			[]string{`"Lab"`, "2001:db8:1::/48", "2001:db8::/32", `"HQ"`}},
		{"identical networks", []Range{hq,
			{ID: "dup", Name: "Dup", CIDRs: prefixes("10.0.0.0/8")}},
			[]string{`"Dup"`, `"HQ"`, "10.0.0.0/8"}},
		{"ipv4-mapped spelling overlaps", []Range{hq,
			{ID: "m", Name: "Mapped", CIDRs: prefixes("::ffff:10.9.0.0/112")}},
			[]string{`"Mapped"`, "10.9.0.0/16", `"HQ"`}},
		{"overlap inside one range", []Range{{ID: "x", Name: "Office",
			CIDRs: prefixes("192.168.0.0/16", "192.168.4.0/24")}},
			[]string{`"Office"`, "same range"}},
		{"unknown category", []Range{{ID: "x", Name: "X", CIDRs: prefixes("192.0.2.0/24"),
			Category: "friendly"}}, []string{`"X"`, "friendly"}},
		{"duplicate id", []Range{hq, {ID: "hq", Name: "Other",
			CIDRs: prefixes("192.0.2.0/24")}}, []string{"duplicate id"}},
		{"invalid network", []Range{{ID: "z", CIDRs: []netip.Prefix{{}}}},
			[]string{`id "z"`, "invalid"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewRanges(tt.rs)
			if err == nil {
				t.Fatal("NewRanges accepted overlapping or invalid ranges")
			}
			for _, w := range tt.wants {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}

func TestRangesMatch(t *testing.T) {
	in := []Range{
		{ID: "hq", Name: "HQ", CIDRs: prefixes("192.0.2.0/25", "2001:db8:100::/48"),
			Category: CategoryCorporate, Tags: []string{"office"}},
		{ID: "vpn", Name: "VPN", CIDRs: prefixes("192.0.2.128/25"), Category: CategoryVPN},
		{ID: "aws", Name: "Cloud", CIDRs: prefixes("198.51.100.77/24"), Category: CategoryCloud},
		{ID: "tags", Name: "Only tags", CIDRs: prefixes("203.0.113.5/32"), Tags: []string{"x"}},
	}
	rs, err := NewRanges(in)
	if err != nil {
		t.Fatal(err)
	}
	in[0].CIDRs[0] = netip.MustParsePrefix("0.0.0.0/0") // the lookup keeps its own copy
	in[0].Tags[0] = "changed"

	tests := []struct {
		ip, want string
	}{
		{"192.0.2.0", "hq"}, {"192.0.2.127", "hq"}, {"192.0.2.128", "vpn"},
		{"192.0.2.255", "vpn"}, {"::ffff:192.0.2.5", "hq"}, {"2001:db8:100:ffff::1", "hq"},
		{"2001:db8:101::1", ""}, {"198.51.100.1", "aws"}, {"198.51.100.255", "aws"},
		{"203.0.113.5", "tags"}, {"203.0.113.6", ""}, {"192.0.3.0", ""}, {"10.0.0.1", ""},
	}
	for _, tt := range tests {
		r, ok := rs.Match(netip.MustParseAddr(tt.ip))
		if ok != (tt.want != "") || r.ID != tt.want {
			t.Errorf("Match(%s) = %q, %v; want %q", tt.ip, r.ID, ok, tt.want)
		}
	}
	r, _ := rs.Match(netip.MustParseAddr("192.0.2.1"))
	if r.Tags[0] != "office" || r.CIDRs[0].String() != "192.0.2.0/25" {
		t.Errorf("caller's later edits leaked in: %+v", r)
	}
	if rs.Len() != 4 {
		t.Errorf("Len = %d", rs.Len())
	}

	var nilRanges *Ranges
	if _, ok := nilRanges.Match(netip.MustParseAddr("192.0.2.1")); ok {
		t.Error("nil Ranges matched")
	}
	empty, err := NewRanges(nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := empty.Match(netip.MustParseAddr("192.0.2.1")); ok {
		t.Error("empty Ranges matched")
	}
}

func TestLastAddr(t *testing.T) {
	tests := []struct{ p, want string }{
		{"10.0.0.0/8", "10.255.255.255"}, {"192.0.2.128/25", "192.0.2.255"},
		{"192.0.2.7/32", "192.0.2.7"}, {"0.0.0.0/0", "255.255.255.255"},
		{"2001:db8::/33", "2001:db8:7fff:ffff:ffff:ffff:ffff:ffff"}, {"::/0",
			"ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"},
	}
	for _, tt := range tests {
		if got := lastAddr(netip.MustParsePrefix(tt.p)); got.String() != tt.want {
			t.Errorf("lastAddr(%s) = %s, want %s", tt.p, got, tt.want)
		}
	}
}
