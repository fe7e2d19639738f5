package store

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"warden/backend/audit"
)

// fullEvent sets every field, so a field the codec forgets shows up as a diff.
func fullEvent() audit.Event {
	return audit.Event{
		ID:           "f089a5d3-01b2-4b44-817b-200f94489bbd",
		Org:          "8c3f6a2e-0b1d-4c5e-9f7a-2d4b6e8f0a1c",
		Time:         time.Date(2026, 11, 16, 7, 58, 12, 418_000_000, time.UTC),
		ProcessedAt:  time.Date(2026, 11, 16, 7, 58, 14, 31_000_000, time.UTC),
		Action:       "user_logged_in",
		Category:     audit.CategoryLoginSucceeded,
		ActorID:      "712020:3b7e1c52-9a4d-4f08-b6e2-5c1d9f3a7e40",
		ActorName:    "Zoë Ångström",
		ActorEmail:   "zoe.angstrom@example.com",
		AuthType:     "api_token",
		TokenID:      "tok-1",
		TokenLabel:   "ci",
		OnBehalfOfID: "557058:app",
		IP:           "192.0.2.10",
		RawIP:        "192.0.2.10:443",
		IPInvalid:    true,
		Country:      "Sweden",
		Region:       "Stockholm County",
		City:         "Stockholm",
		Geo:          "59.33,18.07",
		Product:      "jira",
		Targets: []audit.Object{
			{ID: "t1", Type: "users", Name: "A", Email: "a@example.com"},
			{ID: "t2", Type: "groups"},
		},
		Containers: []audit.Object{{ID: "c1", Type: "sites", Host: "acme.atlassian.net"}},
		Message:    "Logged in",
		Raw:        []byte(`{"id":"f089a5d3","attributes":{}}`),
	}
}

func TestCodecRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		ev   audit.Event
	}{
		{"full", fullEvent()},
		{"empty", audit.Event{}},
		{"zero times, no raw", audit.Event{ID: "x", Action: "a"}},
		{"unix epoch is not zero", audit.Event{ID: "x", Time: time.Unix(0, 0).UTC()}},
		{"before 1970", audit.Event{ID: "x", Time: time.Date(1901, 1, 2, 3, 4, 5, 6, time.UTC)}},
		{"long strings", audit.Event{ID: strings.Repeat("i", 300), Message: strings.Repeat("m", 70000),
			Raw: []byte(strings.Repeat("r", 5000))}},
		{"empty object kept", audit.Event{ID: "x", Targets: []audit.Object{{}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := appendEvent(nil, &tt.ev)
			var got audit.Event
			if err := decodeEvent(b, &got); err != nil {
				t.Fatalf("decode: %v", err)
			}
			if !reflect.DeepEqual(got, tt.ev) {
				t.Errorf("round trip differs:\n got %+v\nwant %+v", got, tt.ev)
			}
		})
	}
}

func TestCodecDecodeCopies(t *testing.T) {
	ev := fullEvent()
	b := appendEvent(nil, &ev)
	var got audit.Event
	if err := decodeEvent(b, &got); err != nil {
		t.Fatal(err)
	}

	// Badger reuses value buffers; nothing decoded may alias the input.
	for i := range b {
		b[i] = 0
	}
	if !reflect.DeepEqual(got, ev) {
		t.Errorf("decoded event changed with its input buffer")
	}
}

func TestCodecRejectsCorrupt(t *testing.T) {
	ev := fullEvent()
	good := appendEvent(nil, &ev)
	tests := []struct {
		name string
		in   []byte
	}{
		{"empty", nil},
		{"unknown version", append([]byte{9}, good[1:]...)},
		{"header length too big", []byte{codecVersion, 0xff, 0x01, 1, 2}},
		{"truncated header", good[:20]},
		{"varint overflow", []byte{codecVersion, 11, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
			0x80, 0x80, 0x80, 0x01}},
		{"huge object count", []byte{codecVersion, 6, 0, 0, 0, 0, 0xff, 0x7f}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got audit.Event
			if err := decodeEvent(tt.in, &got); err == nil {
				t.Errorf("decode succeeded on corrupt input")
			}
		})
	}
}

func FuzzDecodeEvent(f *testing.F) {
	ev := fullEvent()
	good := appendEvent(nil, &ev)
	f.Add(good)
	f.Add(appendEvent(nil, &audit.Event{}))
	f.Add(good[:len(good)/2])
	f.Add([]byte{codecVersion})
	f.Add([]byte{codecVersion, 0xff, 0xff, 0xff, 0xff, 0x0f})

	f.Fuzz(func(t *testing.T, in []byte) {
		var e audit.Event
		if err := decodeEvent(in, &e); err != nil {
			return
		}

		// Whatever decodes must re-encode to something that decodes to the same event.
		var again audit.Event
		if err := decodeEvent(appendEvent(nil, &e), &again); err != nil {
			t.Fatalf("re-encoded event does not decode: %v", err)
		}
		if !reflect.DeepEqual(e, again) {
			t.Fatalf("re-encode changed the event:\n%+v\n%+v", e, again)
		}
	})
}

func BenchmarkCodec(b *testing.B) {
	ev := fullEvent()
	ev.Raw = make([]byte, 900)
	buf := appendEvent(nil, &ev)
	b.Run("encode", func(b *testing.B) {
		b.ReportAllocs()
		var out []byte
		for b.Loop() {
			out = appendEvent(out[:0], &ev)
		}
	})
	b.Run("decode", func(b *testing.B) {
		b.ReportAllocs()
		var e audit.Event
		for b.Loop() {
			if err := decodeEvent(buf, &e); err != nil {
				b.Fatal(err)
			}
		}
	})
}
