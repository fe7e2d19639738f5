package geo

import (
	_ "embed"
	"strings"
)

// demoTorExits is the demo organization's Tor exit list. It holds only the demo's planted
// anonymous address, 198.51.100.250; see the file's header for why it must stay demo-only.
//
//go:embed lists/demo-tor-exits.txt
var demoTorExits string

// DemoTorListName names the demo's Tor list in a ListSet.
const DemoTorListName = "Tor exit nodes (demo)"

// DemoLists returns the lists the app loads for the demo organization: a Tor exit list, in the
// real list's format, holding the demo's planted anonymous address. No default list ships for
// real organizations: a Tor list goes stale within days, so the app imports one from a file or
// fetches it when online.
func DemoLists() *ListSet {
	s := NewListSet()
	AddDemoLists(s)
	return s
}

// AddDemoLists adds the demo organization's lists to an existing set, beside the admin's own.
func AddDemoLists(s *ListSet) {
	prefixes, err := ParseList(strings.NewReader(demoTorExits))
	if err != nil {
		panic("geo: embedded demo list does not parse: " + err.Error()) // caught by tests
	}
	s.Add(DemoTorListName, CategoryRisky, "tor", prefixes)
}
