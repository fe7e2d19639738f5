package atlassian

import (
	"encoding/json"
)

// This file holds a tiny scanner over JSON. It exists for one reason: finding the
// attribute names an event carries without decoding the attributes a second time into a map,
// which roughly doubled the cost of decoding an event page, and splitting a page into events
// without a separate validation pass. It checks structure (brackets, colons, commas, literals)
// but not the inside of strings; every part that is decoded is validated by encoding/json then.
// It gives up (ok == false) on anything it does not understand.

// eachMember calls fn for every top-level member of the JSON object b, with the raw key (without
// quotes, escapes untouched) and the raw value. It reports false if b is not an object it can
// walk; fn may stop the walk early by returning false.
func eachMember(b []byte, fn func(key, val []byte) bool) bool {
	_, ok := walkObject(b, skipSpace(b, 0), fn)
	return ok
}

// walkObject is eachMember for the object starting at b[i]; it also returns the index just
// past the object (or past the member where fn stopped the walk).
func walkObject(b []byte, i int, fn func(key, val []byte) bool) (int, bool) {
	if i >= len(b) || b[i] != '{' {
		return 0, false
	}
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == '}' {
		return i + 1, true
	}
	for i < len(b) {
		if b[i] != '"' {
			return 0, false
		}
		end, ok := skipString(b, i)
		if !ok {
			return 0, false
		}
		key := b[i+1 : end-1]

		i = skipSpace(b, end)
		if i >= len(b) || b[i] != ':' {
			return 0, false
		}
		i = skipSpace(b, i+1)
		vend, ok := skipValue(b, i)
		if !ok {
			return 0, false
		}
		if !fn(key, b[i:vend]) {
			return vend, true
		}

		i = skipSpace(b, vend)
		if i >= len(b) {
			return 0, false
		}
		switch b[i] {
		case ',':
			i = skipSpace(b, i+1)
		case '}':
			return i + 1, true
		default:
			return 0, false
		}
	}
	return 0, false
}

func skipSpace(b []byte, i int) int {
	for i < len(b) {
		switch b[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

// skipString returns the index just past the string starting at b[i] (which must be '"').
func skipString(b []byte, i int) (int, bool) {
	for j := i + 1; j < len(b); j++ {
		switch b[j] {
		case '\\':
			j++
		case '"':
			return j + 1, true
		}
	}
	return 0, false
}

// skipValue returns the index just past the value starting at b[i]. Nested values are skipped
// by counting brackets outside strings, which is enough for input that is valid JSON.
func skipValue(b []byte, i int) (int, bool) {
	if i >= len(b) {
		return 0, false
	}
	switch b[i] {
	case '"':
		return skipString(b, i)
	case '{', '[':
		depth := 0
		for j := i; j < len(b); j++ {
			switch b[j] {
			case '"':
				end, ok := skipString(b, j)
				if !ok {
					return 0, false
				}
				j = end - 1
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return j + 1, true
				}
			}
		}
		return 0, false
	default:
		j := i
		for j < len(b) {
			switch b[j] {
			case ',', '}', ']', ' ', '\t', '\n', '\r':
				return j, validLiteral(b[i:j])
			}
			j++
		}
		return j, validLiteral(b[i:j])
	}
}

// validLiteral accepts true, false, null and anything shaped like a number, so the scanner
// rejects garbage between structural characters without a full validation pass.
func validLiteral(t []byte) bool {
	switch string(t) {
	case "true", "false", "null":
		return true
	case "":
		return false
	}
	if t[0] != '-' && (t[0] < '0' || t[0] > '9') {
		return false
	}
	for _, c := range t {
		if (c < '0' || c > '9') && c != '-' && c != '+' && c != '.' && c != 'e' && c != 'E' {
			return false
		}
	}
	return true
}

// unquoteKey turns a raw member key into a Go string, decoding escapes only when present.
func unquoteKey(raw []byte) string {
	for _, c := range raw {
		if c == '\\' {
			var s string
			q := make([]byte, 0, len(raw)+2)
			q = append(append(append(q, '"'), raw...), '"')
			if json.Unmarshal(q, &s) == nil {
				return s
			}
			return string(raw)
		}
	}
	return string(raw)
}

// extraAttributes returns the attributes of b that are not typed fields of EventAttributes and
// not null, decoded as generic JSON, or nil when there are none (the common case, which then
// costs one scan and no allocation).
func extraAttributes(b []byte) (map[string]any, error) {
	var extra map[string]any
	ok := eachMember(b, func(key, val []byte) bool {
		if knownAttributes[string(key)] || string(val) == "null" {
			return true
		}
		var x any
		if json.Unmarshal(val, &x) != nil {
			return true
		}
		if extra == nil {
			extra = map[string]any{}
		}
		extra[unquoteKey(key)] = x
		return true
	})
	if !ok {
		return extraAttributesSlow(b)
	}
	return extra, nil
}

// extraAttributesSlow is the map-based fallback for input the scanner gave up on.
func extraAttributesSlow(b []byte) (map[string]any, error) {
	var all map[string]json.RawMessage
	if err := json.Unmarshal(b, &all); err != nil {
		return nil, err
	}
	var extra map[string]any
	for k, v := range all {
		if knownAttributes[k] || string(v) == "null" {
			continue
		}
		var x any
		if json.Unmarshal(v, &x) == nil {
			if extra == nil {
				extra = map[string]any{}
			}
			extra[k] = x
		}
	}
	return extra, nil
}
