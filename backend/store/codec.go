package store

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"time"

	"warden/backend/audit"
)

// The stored event is a compact binary record instead of JSON because encoding and decoding it
// is on the backfill hot path. Layout (version 1):
//
//	byte     codecVersion
//	uvarint  header length H
//	H bytes  header: the fields below, in this order
//	rest     Raw, to the end of the value
//
// Header fields: strings are uvarint length + bytes; times are zigzag varint Unix nanoseconds
// (zeroTime marks the zero time.Time); flags is one byte; Targets and Containers are a uvarint
// count followed by five strings per object (ID, Type, Name, Email, Host).
//
// The header comes first with its own length so the decoder can turn it into one string and
// slice every field from it: a single allocation for all strings plus one for Raw.

// codecVersion is the first byte of every stored event.
const codecVersion = 1

// zeroTime encodes the zero time.Time, which has no Unix nanosecond value of its own.
const zeroTime = math.MinInt64

// flagIPInvalid is the only flag bit so far.
const flagIPInvalid = 1

// objectFields is the number of strings per encoded audit.Object.
const objectFields = 5

// errCorrupt reports a stored event that does not decode.
var errCorrupt = errors.New("corrupt event record")

// appendEvent appends the encoding of e to b.
func appendEvent(b []byte, e *audit.Event) []byte {
	b = append(b, codecVersion)

	// Reserve room for the header length, then move the header if the guess was short.
	hdrLen := headerLen(e)
	b = binary.AppendUvarint(b, uint64(hdrLen))
	start := len(b)
	b = appendHeader(b, e)
	if len(b)-start != hdrLen {
		panic("store: event header length mismatch") // a bug in headerLen, never input
	}
	return append(b, e.Raw...)
}

// appendHeader writes the header fields in layout order.
func appendHeader(b []byte, e *audit.Event) []byte {
	for _, s := range [...]string{e.ID, e.Org} {
		b = appendStr(b, s)
	}
	b = binary.AppendVarint(b, encTime(e.Time))
	b = binary.AppendVarint(b, encTime(e.ProcessedAt))
	for _, s := range [...]string{
		e.Action, string(e.Category), e.ActorID, e.ActorName, e.ActorEmail, e.AuthType,
		e.TokenID, e.TokenLabel, e.OnBehalfOfID, e.IP, e.RawIP,
	} {
		b = appendStr(b, s)
	}
	var flags byte
	if e.IPInvalid {
		flags |= flagIPInvalid
	}
	b = append(b, flags)
	for _, s := range [...]string{e.Country, e.Region, e.City, e.Geo, e.Product} {
		b = appendStr(b, s)
	}
	b = appendObjects(b, e.Targets)
	b = appendObjects(b, e.Containers)
	return appendStr(b, e.Message)
}

// headerLen computes the encoded header size without encoding.
func headerLen(e *audit.Event) int {
	n := 1 + varintLen(encTime(e.Time)) + varintLen(encTime(e.ProcessedAt))
	for _, s := range [...]string{
		e.ID, e.Org, e.Action, string(e.Category), e.ActorID, e.ActorName, e.ActorEmail,
		e.AuthType, e.TokenID, e.TokenLabel, e.OnBehalfOfID, e.IP, e.RawIP, e.Country,
		e.Region, e.City, e.Geo, e.Product, e.Message,
	} {
		n += strLen(s)
	}
	return n + objectsLen(e.Targets) + objectsLen(e.Containers)
}

func appendObjects(b []byte, objs []audit.Object) []byte {
	b = binary.AppendUvarint(b, uint64(len(objs)))
	for i := range objs {
		o := &objs[i]
		for _, s := range [...]string{o.ID, o.Type, o.Name, o.Email, o.Host} {
			b = appendStr(b, s)
		}
	}
	return b
}

func objectsLen(objs []audit.Object) int {
	n := uvarintLen(uint64(len(objs)))
	for i := range objs {
		o := &objs[i]
		n += strLen(o.ID) + strLen(o.Type) + strLen(o.Name) + strLen(o.Email) + strLen(o.Host)
	}
	return n
}

func appendStr(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

func strLen(s string) int { return uvarintLen(uint64(len(s))) + len(s) }

func uvarintLen(v uint64) int {
	n := 1
	for v >= 0x80 {
		v >>= 7
		n++
	}
	return n
}

func varintLen(v int64) int {
	u := uint64(v) << 1
	if v < 0 {
		u = ^u
	}
	return uvarintLen(u)
}

func encTime(t time.Time) int64 {
	if t.IsZero() {
		return zeroTime
	}
	n := unixNanos(t)
	if n == zeroTime {
		n++ // keep the marker unambiguous; one nanosecond in 1677 does not matter
	}
	return n
}

func decTime(n int64) time.Time {
	if n == zeroTime {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}

// decodeEvent decodes a stored event. It copies everything it keeps, so val may be a Badger
// buffer that is reused after the call. Corrupt input returns an error, never a panic.
func decodeEvent(val []byte, e *audit.Event) error {
	if len(val) == 0 || val[0] != codecVersion {
		return fmt.Errorf("%w: unknown version", errCorrupt)
	}
	hdrLen, n := binary.Uvarint(val[1:])
	if n <= 0 || hdrLen > uint64(len(val)-1-n) {
		return fmt.Errorf("%w: bad header length", errCorrupt)
	}
	start := 1 + n
	d := decoder{s: string(val[start : start+int(hdrLen)])}
	d.event(e)
	if d.err != nil {
		return d.err
	}
	if d.p != len(d.s) {
		return fmt.Errorf("%w: trailing header bytes", errCorrupt)
	}

	e.Raw = nil
	if raw := val[start+int(hdrLen):]; len(raw) > 0 {
		e.Raw = append([]byte(nil), raw...)
	}
	return nil
}

// decoder reads header fields from one string; the first error sticks and later reads
// return zero values.
type decoder struct {
	s   string
	p   int
	err error
}

func (d *decoder) event(e *audit.Event) {
	*e = audit.Event{
		ID:  d.str(),
		Org: d.str(),
	}
	e.Time = decTime(d.varint())
	e.ProcessedAt = decTime(d.varint())
	e.Action = d.str()
	e.Category = audit.Category(d.str())
	e.ActorID = d.str()
	e.ActorName = d.str()
	e.ActorEmail = d.str()
	e.AuthType = d.str()
	e.TokenID = d.str()
	e.TokenLabel = d.str()
	e.OnBehalfOfID = d.str()
	e.IP = d.str()
	e.RawIP = d.str()
	e.IPInvalid = d.byte()&flagIPInvalid != 0
	e.Country = d.str()
	e.Region = d.str()
	e.City = d.str()
	e.Geo = d.str()
	e.Product = d.str()
	e.Targets = d.objects()
	e.Containers = d.objects()
	e.Message = d.str()
}

func (d *decoder) fail(what string) {
	if d.err == nil {
		d.err = fmt.Errorf("%w: %s at offset %d", errCorrupt, what, d.p)
	}
	d.p = len(d.s)
}

func (d *decoder) uvarint() uint64 {
	var v uint64
	for shift := uint(0); shift < 64; shift += 7 {
		if d.p >= len(d.s) {
			d.fail("truncated varint")
			return 0
		}
		c := d.s[d.p]
		d.p++
		if c < 0x80 {
			if shift == 63 && c > 1 {
				break
			}
			return v | uint64(c)<<shift
		}
		v |= uint64(c&0x7f) << shift
	}
	d.fail("varint overflow")
	return 0
}

func (d *decoder) varint() int64 {
	u := d.uvarint()
	v := int64(u >> 1)
	if u&1 != 0 {
		v = ^v
	}
	return v
}

func (d *decoder) byte() byte {
	if d.p >= len(d.s) {
		d.fail("truncated flags")
		return 0
	}
	c := d.s[d.p]
	d.p++
	return c
}

func (d *decoder) str() string {
	n := d.uvarint()
	if d.err != nil {
		return ""
	}
	if n > uint64(len(d.s)-d.p) {
		d.fail("string past end")
		return ""
	}
	s := d.s[d.p : d.p+int(n)]
	d.p += int(n)
	return s
}

func (d *decoder) objects() []audit.Object {
	n := d.uvarint()
	if d.err != nil || n == 0 {
		return nil
	}

	// Each object takes at least one byte per field, which bounds the allocation by the input.
	if n > uint64(len(d.s)-d.p)/objectFields {
		d.fail("object count past end")
		return nil
	}
	objs := make([]audit.Object, n)
	for i := range objs {
		objs[i] = audit.Object{ID: d.str(), Type: d.str(), Name: d.str(), Email: d.str(),
			Host: d.str()}
	}
	if d.err != nil {
		return nil
	}
	return objs
}
