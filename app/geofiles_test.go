package app

import (
	"bytes"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"testing"

	"github.com/maxmind/mmdbwriter"
	"github.com/maxmind/mmdbwriter/mmdbtype"
)

func TestCityDatabaseIsUsedAfterRestart(t *testing.T) {
	tree, err := mmdbwriter.New(mmdbwriter.Options{DatabaseType: "city ipv4", RecordSize: 24,
		IPVersion: 4})
	if err != nil {
		t.Fatal(err)
	}
	_, n, _ := net.ParseCIDR("1.1.1.0/24")
	if err := tree.Insert(n, mmdbtype.Map{"city": mmdbtype.String("Sydney"),
		"country_code": mmdbtype.String("AU"), "latitude": mmdbtype.Float64(-33.87),
		"longitude": mmdbtype.Float64(151.21)}); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if _, err := tree.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "city.mmdb")
	if err := os.WriteFile(file, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}

	dir := t.TempDir()
	c := newTestCore(t, dir)
	if err := c.SetGeoFiles(GeoFiles{CityMMDB: "/nonexistent/city.mmdb"}); err == nil {
		t.Error("a missing database was accepted")
	}
	if err := c.SetGeoFiles(GeoFiles{CityMMDB: file}); err != nil {
		t.Fatal(err)
	}
	c.Close()

	c = newTestCore(t, dir)
	if l := c.geo.LookupIP(netip.MustParseAddr("1.1.1.1")); l.City != "Sydney" {
		t.Errorf("LookupIP(1.1.1.1) = %+v, want Sydney from the admin's city database", l)
	}

	// A database that disappears later must not keep Warden from starting.
	if err := os.Remove(file); err != nil {
		t.Fatal(err)
	}
	c.Close()
	c = newTestCore(t, dir)
	defer c.Close()
}
