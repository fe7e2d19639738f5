package store

import (
	"encoding/binary"
	"math"
	"strings"
	"time"
)

// Kind prefixes; doc.go has the full table (org/ and meta/orgseq are in orgs.go).
const (
	pfxSchema  = "meta/schema"
	pfxEvent   = "ev/"
	pfxEventID = "eid/"
	pfxIxUser  = "ix/u/"
	pfxIxIP    = "ix/i/"
	pfxIxAct   = "ix/a/"
	pfxIxCtry  = "ix/c/"
	pfxIxProd  = "ix/p/"
	pfxDistinc = "dv/"
	pfxCount   = "cnt/"
	pfxCursor  = "cur/"
	pfxUser    = "usr/"
	pfxUserEm  = "uem/"
	pfxDomain  = "dom/"
	pfxAction  = "act/"
	pfxConfig  = "cfg/"
)

// orgPrefixes are all kinds whose second component is the org, for DeleteOrg.
var orgPrefixes = []string{
	pfxEvent, pfxEventID, pfxIxUser, pfxIxIP, pfxIxAct, pfxIxCtry, pfxIxProd,
	pfxDistinc, pfxCount, pfxCursor, pfxUser, pfxUserEm, pfxDomain, pfxAction, pfxDetect,
}

// timeKeyLen is the size of an encoded event time inside keys, and suffixLen the size of the
// ‹t›‹seq› suffix shared by an event's primary and index keys.
const (
	timeKeyLen = 8
	suffixLen  = timeKeyLen + 8
)

// Bounds of what UnixNano can represent; times outside are clamped.
var (
	minKeyTime = time.Unix(0, math.MinInt64)
	maxKeyTime = time.Unix(0, math.MaxInt64)
)

// unixNanos returns t as Unix nanoseconds, clamped to the int64 range.
func unixNanos(t time.Time) int64 {
	switch {
	case t.Before(minKeyTime):
		return math.MinInt64
	case t.After(maxKeyTime):
		return math.MaxInt64
	}
	return t.UnixNano()
}

// appendTime appends t so that byte order equals time order (sign bit flipped).
func appendTime(b []byte, t time.Time) []byte {
	return binary.BigEndian.AppendUint64(b, uint64(unixNanos(t))^(1<<63))
}

// appendComp appends one length-prefixed key component.
func appendComp(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// orgKey returns kind + ‹org›, the prefix of every key of that kind for the org. oid is the
// org's short number from the registry (orgs.go).
func orgKey(kind string, oid []byte) []byte {
	b := make([]byte, 0, len(kind)+len(oid)+16)
	return append(append(b, kind...), oid...)
}

// indexPrefix returns kind + ‹org› + ‹value›: the prefix one index query walks.
func indexPrefix(kind string, oid []byte, value string) []byte {
	return appendComp(orgKey(kind, oid), value)
}

// countKey is the event counter of an org.
func countKey(oid []byte) []byte { return append(orgKey(pfxCount, oid), "events"...) }

// configKey namespaces a config key under cfg/.
func configKey(key string) []byte { return []byte(pfxConfig + key) }

// Distinct-value fields and their one-byte tags inside dv/ keys.
var distinctFields = map[string]byte{"action": 'a', "country": 'c', "product": 'p'}

// lower folds s for case-insensitive indexes without allocating when s is already lower-case.
func lower(s string) string {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x80 || ('A' <= c && c <= 'Z') {
			return strings.ToLower(s)
		}
	}
	return s
}
