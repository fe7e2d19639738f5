package detect

import (
	"bufio"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"warden/backend/store"
)

// testCountry is one row of the stub gazetteer.
type testCountry struct {
	code     string
	lat, lon float64
	radius   float64
	borders  string
}

// testCountries covers the demo organization, the fixtures and the scenarios.
var testCountries = map[string]testCountry{
	"sweden":         {"SE", 62, 15, 380, "NO,FI"},
	"norway":         {"NO", 62, 10, 320, "SE,FI,RU"},
	"germany":        {"DE", 51, 9, 340, "DK,PL,CZ,AT,CH,FR,LU,BE,NL"},
	"united kingdom": {"GB", 54, -2, 280, "IE"},
	"ireland":        {"IE", 53, -8, 150, "GB"},
	"netherlands":    {"NL", 52.5, 5.75, 115, "DE,BE"},
	"belgium":        {"BE", 50.8, 4, 100, "FR,LU,DE,NL"},
	"portugal":       {"PT", 39.5, -8, 170, "ES"},
	"spain":          {"ES", 40, -4, 400, "PT,FR,AD"},
	"france":         {"FR", 46, 2, 420, "ES,BE,LU,DE,CH,IT,AD,MC"},
	"switzerland":    {"CH", 47, 8, 115, "FR,DE,AT,IT,LI"},
	"austria":        {"AT", 47.3, 13.3, 165, "DE,CZ,SK,HU,SI,IT,CH,LI"},
	"romania":        {"RO", 46, 25, 275, "UA,MD,BG,RS,HU"},
	"south africa":   {"ZA", -29, 24, 620, "NA,BW,ZW,MZ,SZ,LS"},
	"canada":         {"CA", 60, -95, 1780, "US"},
	"united states":  {"US", 38, -97, 1760, "CA,MX"},
	"mexico":         {"MX", 23, -102, 790, "US,GT,BZ"},
	"brazil":         {"BR", -10, -55, 1650, "AR,BO,CO,GF,GY,PY,PE,SR,UY,VE"},
	"india":          {"IN", 20, 77, 1030, "BD,BT,MM,CN,NP,PK"},
	"singapore":      {"SG", 1.37, 103.8, 15, ""},
	"japan":          {"JP", 36, 138, 345, ""},
	"australia":      {"AU", -27, 133, 1560, ""},
	"iceland":        {"IS", 65, -18, 180, ""},
	"new zealand":    {"NZ", -41, 174, 300, ""},
}

// testGeo locates by country name only; the engine adds the coordinates events carry in
// location.geo, which is what the demo and the scenarios provide.
type testGeo struct{}

func (testGeo) Locate(ip, city, region, country string) Place {
	c, ok := testCountries[strings.ToLower(country)]
	if !ok {
		return Place{CountryName: country, City: city, Region: region, Precision: PrecisionNone}
	}
	return Place{Country: c.code, CountryName: country, Region: region, City: city,
		Lat: c.lat, Lon: c.lon, RadiusKM: c.radius, Precision: PrecisionCountry}
}

func (testGeo) Bordering(a, b string) bool {
	for _, c := range testCountries {
		if c.code == a {
			return strings.Contains(","+c.borders+",", ","+b+",")
		}
	}
	return false
}

// listClassifier matches the test lists: each file is one list, tagged by its name.
type listClassifier struct {
	entries []struct {
		p netip.Prefix
		c IPClass
	}
}

func loadLists(t testing.TB) *listClassifier {
	t.Helper()
	lc := &listClassifier{}
	files := map[string]IPClass{
		"tor-exits.txt": {Category: IPRisky, Tag: "tor", Name: "tor-exits"},
		"threats.txt":   {Category: IPRisky, Tag: "botnet", Name: "threats"},
		"vpn.txt":       {Category: IPVPN, Name: "corporate VPN"},
	}
	for name, class := range files {
		f, err := os.Open(filepath.Join("testdata", "lists", name))
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			line := strings.TrimSpace(sc.Text())
			if line == "" || line[0] == '#' {
				continue
			}
			p, err := parseCIDR(line)
			if err != nil {
				t.Fatal(err)
			}
			lc.entries = append(lc.entries, struct {
				p netip.Prefix
				c IPClass
			}{p, class})
		}
		f.Close()
	}
	return lc
}

func (lc *listClassifier) Classify(ip netip.Addr) (IPClass, bool) {
	for _, e := range lc.entries {
		if e.p.Contains(ip) {
			return e.c, true
		}
	}
	return IPClass{}, false
}

func openStore(t testing.TB) *store.Store {
	t.Helper()
	st, err := store.Open(store.Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func newEngine(t testing.TB, st *store.Store, o Options) *Engine {
	t.Helper()
	o.Store = st
	if o.Geo == nil {
		o.Geo = testGeo{}
	}
	if o.Classifier == nil {
		o.Classifier = loadLists(t)
	}
	e, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	return e
}
