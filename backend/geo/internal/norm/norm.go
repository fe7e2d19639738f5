// Package norm folds place names to the one key form that both the data generator and the geo
// package use, so "Zürich", "ZURICH" and "Zurich " all find the same gazetteer row. It lives in
// its own package because the generator (a separate main package) must fold names exactly as
// the runtime does, or lookups silently miss.
package norm

import (
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// special maps letters that Unicode decomposition leaves alone to their usual ASCII spelling.
var special = map[rune]string{
	'ß': "ss", 'æ': "ae", 'ø': "o", 'đ': "d", 'ł': "l", 'þ': "th", 'œ': "oe", 'ı': "i",
	'ð': "d", 'ħ': "h", 'ŀ': "l",
}

// Fold lower-cases s, strips accents, turns every run of punctuation or spaces into one space
// and trims the ends. Apostrophes vanish instead, so "Côte d'Ivoire" becomes "cote divoire"
// whether the source wrote a straight or a typographic apostrophe.
func Fold(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	space := false
	for _, r := range norm.NFD.String(strings.ToLower(s)) {
		switch {
		case unicode.Is(unicode.Mn, r), r == '\'', r == '’', r == 'ʻ', r == '`':
			continue
		case r < 128 && (r >= 'a' && r <= 'z' || r >= '0' && r <= '9'):
			b.WriteRune(r)
		case special[r] != "":
			b.WriteString(special[r])
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			b.WriteRune(r)
		default:
			if b.Len() > 0 && !space {
				b.WriteByte(' ')
				space = true
			}
			continue
		}
		space = false
	}
	return strings.TrimRight(b.String(), " ")
}

// regionNoise are words that name the kind of region rather than the region, dropped before
// comparing region names: events say "Stockholm County", GeoNames says "Stockholm".
var regionNoise = map[string]bool{
	"county": true, "state": true, "of": true, "the": true, "province": true, "region": true,
	"community": true, "prefecture": true, "oblast": true, "district": true, "land": true,
	"capital": true, "territory": true, "department": true, "governorate": true, "city": true,
	"autonomous": true, "metropolitan": true, "federal": true, "kraj": true, "voivodeship": true,
	"canton": true, "municipality": true, "greater": true, "län": true, "lan": true,
}

// Region folds a region name and drops words such as "county" or "state of", so that names
// from different sources can be compared. A name made only of such words is kept as folded.
func Region(s string) string {
	f := Fold(s)
	words := strings.Fields(f)
	kept := words[:0:0]
	for _, w := range words {
		if !regionNoise[w] {
			kept = append(kept, w)
		}
	}
	if len(kept) == 0 {
		return f
	}
	return strings.Join(kept, " ")
}
