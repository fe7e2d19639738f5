package fake

import (
	"crypto/sha256"
	"encoding/binary"
	"math/rand/v2"
)

const hexDigits = "0123456789abcdef"

// appendUUID formats 128 random bits as a version 4 UUID without going through fmt, because
// Generate makes a million of them.
func appendUUID(b []byte, hi, lo uint64) []byte {
	hi = hi&^0xf000 | 0x4000         // version 4
	lo = lo&^(0xc<<60) | (0x8 << 60) // RFC 4122 variant
	var raw [16]byte
	binary.BigEndian.PutUint64(raw[:8], hi)
	binary.BigEndian.PutUint64(raw[8:], lo)
	for i, c := range raw {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			b = append(b, '-')
		}
		b = append(b, hexDigits[c>>4], hexDigits[c&0xf])
	}
	return b
}

// uuidFrom derives a stable UUID from a name, for ids that must not depend on a seed.
func uuidFrom(name string) string {
	sum := sha256.Sum256([]byte(name))
	hi, lo := binary.BigEndian.Uint64(sum[:8]), binary.BigEndian.Uint64(sum[8:16])
	return string(appendUUID(nil, hi, lo))
}

// randUUID draws a UUID from a seeded generator.
func randUUID(r *rand.Rand) string {
	return string(appendUUID(make([]byte, 0, 36), r.Uint64(), r.Uint64()))
}

// accountIDFrom derives an Atlassian-looking account id from a name: 24 hex digits, or the
// "712020:<uuid>" form for every third account, because real orgs have both.
func accountIDFrom(name string, colon bool) string {
	if colon {
		return "712020:" + uuidFrom("account:"+name)
	}
	sum := sha256.Sum256([]byte("account:" + name))
	b := make([]byte, 0, 24)
	for _, c := range sum[:12] {
		b = append(b, hexDigits[c>>4], hexDigits[c&0xf])
	}
	return string(b)
}
