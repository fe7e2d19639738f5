package app

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"strings"
	"testing"

	"warden/backend/keys"
)

func newTestCore(t *testing.T, dir string) *Core {
	t.Helper()
	c, err := OpenCore(CoreOptions{DataDir: dir, Keychain: keys.Memory(),
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestIPRangesAndListsFeedDetectionAndSurviveRestart(t *testing.T) {
	dir := t.TempDir()
	c := newTestCore(t, dir)

	office := RangeInput{Name: "Office", CIDRs: []string{"192.0.2.0/25", "2001:db8:1f0a::/48"},
		Category: "corporate", Tags: []string{"hq"}}
	if err := c.SaveIPRanges([]RangeInput{office}); err != nil {
		t.Fatal(err)
	}
	overlap := RangeInput{Name: "VPN", CIDRs: []string{"192.0.2.64/26"}, Category: "vpn"}
	err := c.SaveIPRanges([]RangeInput{office, overlap})
	if err == nil || !strings.Contains(err.Error(), "Office") {
		t.Errorf("overlapping ranges: err = %v, want a refusal naming both", err)
	}
	if err := c.SaveIPRanges([]RangeInput{{Name: "x", CIDRs: []string{"10.0.0.0/8"},
		Category: "nonsense"}}); err == nil {
		t.Error("unknown category accepted")
	}

	if _, err := c.ImportIPList(t.Context(), IPList{Name: "tor-file", Category: "risky",
		Tag: "tor", File: "../backend/geo/testdata/tor-exit-addresses.txt"}); err != nil {
		t.Fatal(err)
	}
	body, err := os.ReadFile("../backend/geo/testdata/plain-list.txt")
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Write(body)
	}))
	defer srv.Close()
	if _, err := c.ImportIPList(t.Context(), IPList{Name: "threats", Category: "risky",
		URL: srv.URL}); err != nil {
		t.Fatal(err)
	}
	srv.Close()
	c.refreshLists(t.Context()) // the URL is gone: the last good copy stays
	c.Close()

	c = newTestCore(t, dir)
	defer c.Close()
	tests := []struct {
		ip, category string
	}{
		{"192.0.2.10", "corporate"},
		{"192.0.2.45", "corporate"}, // in the Tor list too, but the admin's range wins
		{"2001:db8:1f0a::9", "corporate"},
		{"198.51.100.5", "risky"}, // from the URL list, kept after the failed refresh
	}
	for _, tt := range tests {
		cl, ok := c.lists.Classify(netip.MustParseAddr(tt.ip))
		if !ok || cl.Category != tt.category {
			t.Errorf("Classify(%s) = %+v, %v; want %s", tt.ip, cl, ok, tt.category)
		}
	}
	lists, err := c.IPLists()
	if err != nil || len(lists) != 2 {
		t.Fatalf("lists after restart: %v, %v", lists, err)
	}
	for _, l := range lists {
		if l.Name == "threats" && l.LastError == "" {
			t.Error("a failed refresh left no error on the list")
		}
	}
}
