package geo

import (
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
)

func parseFile(t *testing.T, name string) ([]netip.Prefix, error) {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	return ParseList(f)
}

func TestParseList(t *testing.T) {
	tests := []struct {
		file string
		want []string
	}{
		{"tor-exit-addresses.txt", []string{"192.0.2.45/32", "203.0.113.9/32", "203.0.113.10/32",
			"2001:db8:7f::1/128"}},
		{"plain-list.txt", []string{"192.0.2.7/32", "198.51.100.0/28", "203.0.113.0/24",
			"2001:db8:bad::/48", "192.0.2.99/32", "192.0.2.200/32", "192.0.2.201/32"}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			got, err := parseFile(t, tt.file)
			if err != nil {
				t.Fatal(err)
			}
			var s []string
			for _, p := range got {
				s = append(s, p.String())
			}
			if !slices.Equal(s, tt.want) {
				t.Errorf("got %v\nwant %v", s, tt.want)
			}
		})
	}
}

func TestParseListErrors(t *testing.T) {
	_, err := parseFile(t, "bad-list.txt")
	if err == nil || !strings.Contains(err.Error(), "line 1") {
		t.Errorf("bad list: err = %v, want the first bad line", err)
	}

	tests := []struct {
		name, in string
		n        int
	}{
		{"empty", "", 0},
		{"comments only", "# nothing yet\n\n; still nothing\n", 0},
		{"tor header only", "ExitNode ABC\nPublished 2026-01-01 00:00:00\n", 0},
		{"one good among bad", "junk\n192.0.2.1\nmore junk\n", 1},
		{"crlf", "192.0.2.1\r\n192.0.2.2\r\n", 2},
	}
	for _, tt := range tests {
		got, err := ParseList(strings.NewReader(tt.in))
		if err != nil || len(got) != tt.n {
			t.Errorf("%s: got %v, %v; want %d prefixes", tt.name, got, err, tt.n)
		}
	}
	if _, err := ParseList(strings.NewReader("ExitAddress\n")); err == nil {
		t.Error("an ExitAddress line without an address must count as bad")
	}
}

func TestListSet(t *testing.T) {
	tor, err := parseFile(t, "tor-exit-addresses.txt")
	if err != nil {
		t.Fatal(err)
	}
	plain, err := parseFile(t, "plain-list.txt")
	if err != nil {
		t.Fatal(err)
	}
	s := NewListSet()
	s.Add("tor", CategoryRisky, "tor", tor)
	s.Add("blocklist", CategoryRisky, "threat-intel", plain)

	tests := []struct{ ip, list, tag string }{
		{"192.0.2.45", "tor", "tor"}, {"::ffff:192.0.2.45", "tor", "tor"},
		{"2001:db8:7f::1", "tor", "tor"}, {"203.0.113.9", "tor", "tor"},
		// In both lists: the list added first answers.
		{"203.0.113.10", "tor", "tor"}, {"203.0.113.11", "blocklist", "threat-intel"},
		{"198.51.100.15", "blocklist", "threat-intel"}, {"198.51.100.16", "", ""},
		{"2001:db8:bad:1::9", "blocklist", "threat-intel"}, {"192.0.2.46", "", ""},
	}
	for _, tt := range tests {
		name, cat, tag, ok := s.Match(netip.MustParseAddr(tt.ip))
		if name != tt.list || tag != tt.tag || ok != (tt.list != "") ||
			(ok && cat != CategoryRisky) {
			t.Errorf("Match(%s) = %q %q %q %v", tt.ip, name, cat, tag, ok)
		}
	}

	// A refresh replaces the list in place, keeping its priority.
	s.Add("tor", CategoryRisky, "tor", prefixes("192.0.2.46/32"))
	if name, _, _, _ := s.Match(netip.MustParseAddr("192.0.2.46")); name != "tor" {
		t.Errorf("refreshed list not used: %q", name)
	}
	if _, _, _, ok := s.Match(netip.MustParseAddr("192.0.2.45")); ok {
		t.Error("the old version of a refreshed list still matches")
	}
	if got := s.Names(); !slices.Equal(got, []string{"tor", "blocklist"}) {
		t.Errorf("Names = %v", got)
	}
	s.Remove("tor")
	if got := s.Names(); !slices.Equal(got, []string{"blocklist"}) {
		t.Errorf("after Remove, Names = %v", got)
	}

	var zero ListSet
	if _, _, _, ok := zero.Match(netip.MustParseAddr("192.0.2.1")); ok {
		t.Error("zero ListSet matched")
	}
	zero.Add("x", CategoryRisky, "", prefixes("192.0.2.0/24"))
	if _, _, _, ok := zero.Match(netip.MustParseAddr("192.0.2.1")); !ok {
		t.Error("zero ListSet did not take a list")
	}
}

func TestMergeSpans(t *testing.T) {
	s := NewListSet()
	s.Add("m", CategoryRisky, "", prefixes("192.0.2.0/26", "192.0.2.64/26", "192.0.2.0/24",
		"192.0.2.5/32", "198.51.100.0/24", "255.255.255.255/32", "255.255.255.0/24"))
	l := s.load()[0]
	var got []string
	for _, sp := range l.v4 {
		got = append(got, sp.lo.String()+"-"+sp.hi.String())
	}
	want := []string{"192.0.2.0-192.0.2.255", "198.51.100.0-198.51.100.255",
		"255.255.255.0-255.255.255.255"}
	if !slices.Equal(got, want) {
		t.Errorf("merged = %v, want %v", got, want)
	}
}

func TestListSetConcurrent(t *testing.T) {
	s := NewListSet()
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Add(2)
		go func() {
			defer wg.Done()
			for j := range 50 {
				s.Add(fmt.Sprintf("l%d", i), CategoryRisky, "", prefixes(
					fmt.Sprintf("10.%d.%d.0/24", i, j)))
			}
		}()
		go func() {
			defer wg.Done()
			for j := range 200 {
				s.Match(netip.AddrFrom4([4]byte{10, byte(i), byte(j % 50), 1}))
			}
		}()
	}
	wg.Wait()
	if len(s.Names()) != 4 {
		t.Errorf("Names = %v", s.Names())
	}
}

func TestDemoLists(t *testing.T) {
	s := DemoLists()
	name, cat, tag, ok := s.Match(netip.MustParseAddr("198.51.100.250"))
	if !ok || name != DemoTorListName || cat != CategoryRisky || tag != "tor" {
		t.Errorf("demo anonymous address: %q %q %q %v", name, cat, tag, ok)
	}
	for _, ip := range []string{"198.51.100.249", "198.51.100.251", "203.0.113.201"} {
		if _, _, _, ok := s.Match(netip.MustParseAddr(ip)); ok {
			t.Errorf("%s must not be in the demo list", ip)
		}
	}
}
