package atlassian

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"
)

func decodeFixture(t testing.TB, name string) EventPage {
	t.Helper()
	page, err := DecodeEventPage(fixture(t, name))
	if err != nil {
		t.Fatalf("decode %s: %v", name, err)
	}
	return page
}

func streamPages(t testing.TB) []EventPage {
	t.Helper()
	var pages []EventPage
	for i := 1; i <= 3; i++ {
		pages = append(pages, decodeFixture(t, fmt.Sprintf("events-stream-page-%d.json", i)))
	}
	return pages
}

func TestDecodeStreamPagesPaging(t *testing.T) {
	pages := streamPages(t)
	tests := []struct {
		page           int
		events         int
		metaNext       string
		linksNextIsURL bool
	}{
		{1, 15, "6iML84Ezfe6wPrdAkBWwhWhF5YCoW3Mb51x-WBCbVfjo8QHh", true},
		{2, 15, "nKDcoii-TN8OBybDSg5xg2OjGg6NurNgY1S4OT0laeiqlSv_", false},
		{3, 11, "", false},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint("page", tt.page), func(t *testing.T) {
			p := pages[tt.page-1]
			if len(p.Data) != tt.events {
				t.Errorf("events = %d, want %d", len(p.Data), tt.events)
			}
			if p.Meta.Next != tt.metaNext {
				t.Errorf("meta.next = %q, want %q", p.Meta.Next, tt.metaNext)
			}
			if got := strings.HasPrefix(p.Links.Next, "https://"); got != tt.linksNextIsURL {
				t.Errorf("links.next = %q, want a url: %v", p.Links.Next, tt.linksNextIsURL)
			}
			if tt.linksNextIsURL && !strings.HasSuffix(p.Links.Next, "cursor="+tt.metaNext) {
				t.Errorf("links.next %q does not carry the meta.next cursor", p.Links.Next)
			}
			if p.Meta.PageSize != 15 {
				t.Errorf("page_size = %d, want 15", p.Meta.PageSize)
			}
			for _, e := range p.Data {
				if e.DecodeError != "" {
					t.Errorf("event %s: unexpected decode error %s", e.ID, e.DecodeError)
				}
			}
		})
	}
}

func TestDecodeStreamPagesContent(t *testing.T) {
	byID := map[string]Event{}
	records := 0
	var noFracTime, noFracProcessed, nullRelations int
	var maxProcessed time.Time
	for _, p := range streamPages(t) {
		for _, e := range p.Data {
			records++
			if prev, dup := byID[e.ID]; dup && !bytes.Equal(prev.Raw, e.Raw) {
				t.Errorf("duplicate %s differs between pages", e.ID)
			}
			byID[e.ID] = e
		}
	}
	if records != 41 || len(byID) != 40 {
		t.Fatalf("records = %d, distinct = %d; want 41 and 40", records, len(byID))
	}

	for id, e := range byID {
		if e.Attributes.Time.IsZero() || e.Attributes.ProcessedAt.IsZero() {
			t.Errorf("%s: time %q or processedAt %q did not parse", id,
				e.Attributes.Time.Raw, e.Attributes.ProcessedAt.Raw)
		}
		if !strings.Contains(e.Attributes.Time.Raw, ".") {
			noFracTime++
		}
		if !strings.Contains(e.Attributes.ProcessedAt.Raw, ".") {
			noFracProcessed++
		}
		if e.Attributes.ProcessedAt.After(maxProcessed) {
			maxProcessed = e.Attributes.ProcessedAt.Time
		}
		if bytes.Contains(e.Raw, []byte(`"relations": null`)) {
			nullRelations++
			if _, ok := e.Attributes.Extra["relations"]; ok {
				t.Errorf("%s: null relations kept in Extra", id)
			}
		}
		if !json.Valid(e.Raw) || !bytes.Contains(e.Raw, []byte(id)) {
			t.Errorf("%s: Raw is not the event's JSON", id)
		}
	}
	if noFracTime != 14 || noFracProcessed != 6 {
		t.Errorf("values without fractions: time %d, processedAt %d; want 14 and 6",
			noFracTime, noFracProcessed)
	}
	if nullRelations != 5 {
		t.Errorf("events with relations null = %d, want 5", nullRelations)
	}
	if want := time.Date(2026, 11, 18, 15, 50, 10, 528e6, time.UTC); !maxProcessed.Equal(want) {
		t.Errorf("watermark = %v, want %v", maxProcessed, want)
	}

	checks := []struct {
		name string
		id   string
		ok   func(Event) bool
	}{
		{"no location (system actor)", "8c4d3df5-889f-434c-ba1c-22f23fd7cb1b",
			func(e Event) bool { return e.Attributes.Location == nil }},
		{"no location (api key revoke)", "9d15657d-4439-4e45-bf5f-9cc55f603e14",
			func(e Event) bool { return e.Attributes.Location == nil }},
		{"system actor has only id and name", "8c4d3df5-889f-434c-ba1c-22f23fd7cb1b",
			func(e Event) bool {
				a := e.Attributes.Actor
				return a.ID == "atlassian-internal-system" && a.Name != "" && a.Email == "" &&
					a.Links.Self == ""
			}},
		{"invalid ip kept raw", "6225d3d7-80a4-4d48-bdf0-93c4a614a181",
			func(e Event) bool {
				l := e.Attributes.Location
				return l != nil && l.IP == "00.00.00.00" && l.CountryName == ""
			}},
		{"context item without id", "638dcaaf-63a6-40d2-be7b-00e0d60b43d6",
			func(e Event) bool {
				c := e.Attributes.Context
				return e.Attributes.Action == "user_logged_in_as_user" && len(c) > 0 &&
					c[0].ID == "" && c[0].Type == "users" &&
					c[0].Attributes["email"] == "noah.fitzgerald@example.com" &&
					e.Message != nil && e.Message.Content == "Logged in as noah.fitzgerald@example.com"
			}},
		{"token actor", "ad4aa496-025a-4811-9fd6-0dbef5afc025",
			func(e Event) bool {
				a := e.Attributes.Actor.Auth
				return a != nil && a.AuthType == "api-token" &&
					a.TokenID == "904023d8-3eb6-4079-b062-45c68095682e" &&
					a.TokenLabel == "group-sync-script"
			}},
		{"clientInfo kept in Extra", "0a109f80-fa21-49eb-b525-ea67eb6d6f80",
			func(e Event) bool {
				_, ok := e.Attributes.Extra["clientInfo"].(map[string]any)
				return ok && len(e.Attributes.Extra) == 1
			}},
		{"late event keeps both times", "96f85e28-1b0e-4acc-80a8-fa538f577ed7",
			func(e Event) bool {
				return e.Attributes.Time.Equal(time.Date(2026, 11, 16, 15, 40, 22, 615e6, time.UTC)) &&
					e.Attributes.ProcessedAt.Equal(time.Date(2026, 11, 17, 15, 41, 9, 4e6, time.UTC))
			}},
		{"unicode actor", "f089a5d3-01b2-4b44-817b-200f94489bbd",
			func(e Event) bool {
				return e.Attributes.Actor.Name == "Zoë Ångström" &&
					e.Attributes.Actor.ID == "712020:3b7e1c52-9a4d-4f08-b6e2-5c1d9f3a7e40"
			}},
		{"unicode city", "b67689b6-7c60-465c-a541-9878368a6ae5",
			func(e Event) bool {
				return e.Attributes.Location != nil && e.Attributes.Location.City == "Zürich" &&
					e.Attributes.Time.Raw == "2026-11-16T08:04:51Z"
			}},
	}
	for _, c := range checks {
		t.Run(c.name, func(t *testing.T) {
			e, ok := byID[c.id]
			if !ok {
				t.Fatalf("event %s missing", c.id)
			}
			if !c.ok(e) {
				t.Errorf("event %s: %+v", c.id, e.Attributes)
			}
		})
	}
}

func TestDecodeSearchPage(t *testing.T) {
	p := decodeFixture(t, "events-search-page.json")
	if len(p.Data) != 10 || p.Meta.Next != "OFrIwLl-ZUvpI6a_WvRRPDAOcVuIsEg5S_ZdBGw7rIgG6s04" {
		t.Fatalf("events = %d, next = %q", len(p.Data), p.Meta.Next)
	}
	stream := map[string]bool{}
	for _, sp := range streamPages(t) {
		for _, e := range sp.Data {
			stream[e.ID] = true
		}
	}
	for _, e := range p.Data {
		if !e.Attributes.ProcessedAt.IsZero() || e.Attributes.ProcessedAt.Raw != "" {
			t.Errorf("%s: processedAt set on a search page", e.ID)
		}
		if !stream[e.ID] {
			t.Errorf("%s: not a stream event", e.ID)
		}
	}
	if first := p.Data[0].Attributes.Time.Raw; first != "2026-11-18T15:50:08.091Z" {
		t.Errorf("newest event time = %s", first)
	}
}

func TestDecodeEventPageMalformed(t *testing.T) {
	tests := []struct {
		name string
		body string
	}{
		{"not json", `<html>bad gateway</html>`},
		{"truncated", `{"data":[{"id":"a"}`},
		{"empty", ``},
		{"data is an object", `{"data":{"id":"a"}}`},
		{"data is a string", `{"data":"events"}`},
		{"top level array", `[{"id":"a"}]`},
		{"top level string", `"hello"`},
		{"bad literal in envelope", `{"data":[],"x":tru}`},
		{"bad literal in event", `{"data":[{"id":"a","n":nul}]}`},
		{"bad string in event", `{"data":[{"id":"a\x"}]}`},
		{"missing comma", `{"data":[{"id":"a"} {"id":"b"}]}`},
		{"trailing garbage", `{"data":[]} x`},
		{"control char in event", "{\"data\":[{\"id\":\"a\x01\"}]}"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := DecodeEventPage([]byte(tt.body))
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("err = %v, want ErrMalformed", err)
			}
		})
	}
}

func TestDecodeEventPageLenient(t *testing.T) {
	good := `{"id":"good","type":"events","attributes":{"time":"2026-11-16T07:58:12Z",` +
		`"action":"user_logged_in","actor":{"id":"u1"}}}`
	tests := []struct {
		name    string
		body    string
		events  int
		badIdx  int // -1: no bad event
		badID   string
		nextMsg string
	}{
		{"actor is a string", `{"data":[` + good + `,{"id":"bad","attributes":{"actor":"x",` +
			`"action":"a"}}]}`, 2, 1, "bad", ""},
		{"id after a bad attribute", `{"data":[{"attributes":{"context":{"k":1}},"id":"late"},` +
			good + `]}`, 2, 0, "late", ""},
		{"numeric id", `{"data":[{"id":42,"attributes":{}}]}`, 1, 0, "42", ""},
		{"event is a number", `{"data":[7,` + good + `]}`, 2, 0, "", ""},
		{"event is null", `{"data":[null]}`, 1, 0, "", ""},
		{"null data", `{"data":null,"meta":{"next":null}}`, 0, -1, "", ""},
		{"no data", `{}`, 0, -1, "", ""},
		{"empty data", `{"data":[ ]}`, 0, -1, "", ""},
		{"odd meta keeps page", `{"data":[` + good + `],"meta":{"page_size":"15","next":"c1"}}`,
			1, -1, "", "c1"},
		{"meta is a string", `{"data":[` + good + `],"meta":"x","links":5}`, 1, -1, "", ""},
		{"odd time kept raw", `{"data":[{"id":"t","attributes":{"time":12345}}]}`, 1, -1, "", ""},
		{"compact and escaped", `{"data":[{"id":"e\"q","attributes":{"a\u0062c":{"x":"}]"},` +
			`"action":"x"}}]}`, 1, -1, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := DecodeEventPage([]byte(tt.body))
			if err != nil {
				t.Fatalf("decode: %v", err)
			}
			if len(p.Data) != tt.events {
				t.Fatalf("events = %d, want %d", len(p.Data), tt.events)
			}
			if p.Meta.Next != tt.nextMsg {
				t.Errorf("meta.next = %q, want %q", p.Meta.Next, tt.nextMsg)
			}
			for i, e := range p.Data {
				if len(e.Raw) == 0 {
					t.Errorf("event %d has no Raw", i)
				}
				if bad := e.DecodeError != ""; bad != (i == tt.badIdx) {
					t.Errorf("event %d: DecodeError = %q", i, e.DecodeError)
				}
				if i == tt.badIdx && e.ID != tt.badID {
					t.Errorf("bad event id = %q, want %q", e.ID, tt.badID)
				}
			}
		})
	}
}

func TestDecodeEventPageExtraEscapedKey(t *testing.T) {
	body := `{"data":[{"id":"e","attributes":{"a\u0062c":{"x":"}]"},"action":"x",` +
		`"n":1,"s":"v\"w"}}]}`
	p, err := DecodeEventPage([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	extra := p.Data[0].Attributes.Extra
	if len(extra) != 3 || extra["n"] != float64(1) || extra["s"] != `v"w` {
		t.Fatalf("extra = %#v", extra)
	}
	if m, ok := extra["abc"].(map[string]any); !ok || m["x"] != "}]" {
		t.Fatalf("escaped key: extra = %#v", extra)
	}
}

func TestDecodeEventPageRawIsACopy(t *testing.T) {
	body := fixture(t, "events-stream-page-1.json")
	p, err := DecodeEventPage(body)
	if err != nil {
		t.Fatal(err)
	}
	want := string(p.Data[0].Raw)
	for i := range body {
		body[i] = ' '
	}
	if string(p.Data[0].Raw) != want {
		t.Fatal("Raw aliases the input buffer")
	}
	if cap(p.Data[0].Raw) != len(p.Data[0].Raw) {
		t.Fatal("Raw has spare capacity an append could write into the next event")
	}
}

// genPage builds a page of n events by cycling through the stream fixtures with fresh ids.
func genPage(t testing.TB, n int) []byte {
	var src []json.RawMessage
	for i := 1; i <= 3; i++ {
		var env struct {
			Data []json.RawMessage `json:"data"`
		}
		body := fixture(t, fmt.Sprintf("events-stream-page-%d.json", i))
		if err := json.Unmarshal(body, &env); err != nil {
			t.Fatal(err)
		}
		src = append(src, env.Data...)
	}
	var b bytes.Buffer
	b.WriteString(`{"data":[`)
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		var m map[string]json.RawMessage
		_ = json.Unmarshal(src[i%len(src)], &m)
		m["id"] = json.RawMessage(fmt.Sprintf("%q", fmt.Sprintf("gen-%06d", i)))
		ev, _ := json.Marshal(m)
		b.Write(ev)
	}
	b.WriteString(`],"meta":{"next":"abc","page_size":500},"links":{"self":"x"}}`)
	return b.Bytes()
}

func TestGeneratedPage(t *testing.T) {
	p, err := DecodeEventPage(genPage(t, 500))
	if err != nil || len(p.Data) != 500 {
		t.Fatalf("decode: %v, %d events", err, len(p.Data))
	}
	for _, e := range p.Data {
		if e.DecodeError != "" || !strings.HasPrefix(e.ID, "gen-") {
			t.Fatalf("event %s: %s", e.ID, e.DecodeError)
		}
	}
}

func BenchmarkDecodeEventPage(b *testing.B) {
	body := genPage(b, 500)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := DecodeEventPage(body); err != nil {
			b.Fatal(err)
		}
	}
}

// TestEventWireMirrorsEvent fails when Event gains a decoded field that eventWire lacks.
func TestEventWireMirrorsEvent(t *testing.T) {
	ev, w := reflect.TypeOf(Event{}), reflect.TypeOf(eventWire{})
	for i := 0; i < ev.NumField(); i++ {
		f := ev.Field(i)
		if f.Tag.Get("json") == "-" {
			continue
		}
		g, ok := w.FieldByName(f.Name)
		if !ok || g.Tag != f.Tag {
			t.Errorf("eventWire lacks Event.%s or its tag differs", f.Name)
		}
	}
}

// TestDecodePathsAgree checks that json.Unmarshal into Event (EventAttributes.UnmarshalJSON,
// which other packages use) and DecodeEventPage's faster path give the same events.
func TestDecodePathsAgree(t *testing.T) {
	for _, name := range []string{"events-stream-page-1.json", "events-stream-page-2.json",
		"events-stream-page-3.json", "events-search-page.json"} {
		page := decodeFixture(t, name)
		for _, e := range page.Data {
			var slow Event
			if err := json.Unmarshal(e.Raw, &slow); err != nil {
				t.Fatalf("%s: %v", e.ID, err)
			}
			slow.Raw = e.Raw
			if !reflect.DeepEqual(slow, e) {
				t.Errorf("%s: decode paths differ:\n%+v\n%+v", e.ID, slow, e)
			}

			var attrs struct {
				Attributes json.RawMessage `json:"attributes"`
			}
			_ = json.Unmarshal(e.Raw, &attrs)
			fast, _ := extraAttributes(attrs.Attributes)
			slowExtra, _ := extraAttributesSlow(attrs.Attributes)
			if !reflect.DeepEqual(fast, slowExtra) {
				t.Errorf("%s: extra differs: %v vs %v", e.ID, fast, slowExtra)
			}
		}
	}
}

// TestScannerAgreesWithEncodingJSON walks every object in the fixtures with the scanner and
// compares its member names and values with encoding/json's.
func TestScannerAgreesWithEncodingJSON(t *testing.T) {
	var walk func(raw []byte)
	objects := 0
	walk = func(raw []byte) {
		var m map[string]json.RawMessage
		if raw[0] == '{' && json.Unmarshal(raw, &m) == nil {
			objects++
			got := map[string]string{}
			if !eachMember(raw, func(k, v []byte) bool {
				got[unquoteKey(k)] = string(v)
				return true
			}) {
				t.Fatalf("scanner gave up on %s", raw)
			}
			if len(got) != len(m) {
				t.Fatalf("members %v vs %v", got, m)
			}
			for k, v := range m {
				if got[k] != string(v) {
					t.Fatalf("member %s: %q vs %q", k, got[k], v)
				}
				walk(v)
			}
			return
		}
		var a []json.RawMessage
		if json.Unmarshal(raw, &a) == nil {
			for _, v := range a {
				walk(v)
			}
		}
	}
	for _, name := range []string{"events-stream-page-1.json", "users-v2-search.json",
		"policies.json", "event-actions.json", "errors/403-no-perms.json"} {
		walk(fixture(t, name))
	}
	for _, bad := range []string{`{`, `{"a"}`, `{"a":}`, `{"a":1,}`, `{"a":1 "b":2}`, `{"a":[}`,
		`{"a":"x}`, `[1]`, `{"a":01x}`} {
		if eachMember([]byte(bad), func(k, v []byte) bool { return true }) {
			t.Errorf("scanner accepted %s", bad)
		}
	}
	if objects < 200 {
		t.Errorf("walked only %d objects", objects)
	}
}
