package fake

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"net/http"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"warden/backend/atlassian"
)

// record is one stored event. Both JSON forms are built lazily from ev unless the event came
// as raw bytes, which are then served unchanged.
type record struct {
	seq       int
	id        string
	at        time.Time // attributes.time
	processed time.Time // attributes.processedAt, or time when absent
	ev        *atlassian.Event
	raw       []byte // stream form, with processedAt
	searchRaw []byte // /events form, without processedAt
}

// position is a place in one of the two orders: just after the record with this key.
type position struct {
	at  time.Time
	seq int
}

// storedPage is a fixture page served verbatim when an answer has exactly its records.
type storedPage struct {
	body    []byte
	ids     []string
	hasNext bool
}

// eventData holds the events in stream order (processedAt ascending, then arrival) and search
// order (time descending, newest arrival first, one record per id).
type eventData struct {
	stream  []*record
	search  []*record
	byID    map[string]*record
	nextSeq int

	streamPages, searchPages []storedPage
	streamAlias, searchAlias map[string]position
	streamAliasOf            map[position]string
	searchAliasOf            map[position]string
}

func newEventData(o Options) *eventData {
	d := &eventData{
		byID:          map[string]*record{},
		streamAlias:   map[string]position{},
		searchAlias:   map[string]position{},
		streamAliasOf: map[position]string{},
		searchAliasOf: map[position]string{},
	}
	recs := make([]*record, 0, len(o.Events)+len(o.RawEvents))
	for i := range o.Events {
		recs = append(recs, d.newRecord(&o.Events[i], nil))
	}
	for _, raw := range o.RawEvents {
		ev := &atlassian.Event{}
		if err := json.Unmarshal(raw, ev); err != nil {
			// TODO(#2): an undecodable raw event cannot be placed in time order; it is skipped.
			continue
		}
		recs = append(recs, d.newRecord(ev, raw))
	}

	d.stream = append([]*record(nil), recs...)
	sort.SliceStable(d.stream, func(i, j int) bool { return streamLess(d.stream[i], d.stream[j]) })
	for _, r := range recs {
		if _, dup := d.byID[r.id]; dup {
			continue
		}
		d.byID[r.id] = r
		d.search = append(d.search, r)
	}
	sort.SliceStable(d.search, func(i, j int) bool { return searchLess(d.search[i], d.search[j]) })

	d.streamPages = d.storePages(o.StreamPages, d.stream, true)
	d.searchPages = d.storePages(o.SearchPages, d.search, false)
	return d
}

func (d *eventData) newRecord(ev *atlassian.Event, raw []byte) *record {
	r := &record{seq: d.nextSeq, id: ev.ID, ev: ev, at: ev.Attributes.Time.Time}
	d.nextSeq++
	r.processed = ev.Attributes.ProcessedAt.Time
	if r.processed.IsZero() {
		r.processed = r.at
	}
	if raw == nil && len(ev.Raw) > 0 {
		raw = ev.Raw
	}
	if raw != nil {
		r.raw = raw
		r.searchRaw = stripProcessedAt(raw)
	}
	return r
}

func streamLess(a, b *record) bool {
	if !a.processed.Equal(b.processed) {
		return a.processed.Before(b.processed)
	}
	return a.seq < b.seq
}

// searchLess orders newest first; among equal times the later arrival comes first.
func searchLess(a, b *record) bool {
	if !a.at.Equal(b.at) {
		return a.at.After(b.at)
	}
	return a.seq > b.seq
}

// storePages reads fixture pages and registers their meta.next cursors as aliases of the
// position after each page's last record, provided the pages tile the order from its start.
func (d *eventData) storePages(pages [][]byte, order []*record, stream bool) []storedPage {
	var out []storedPage
	at := 0
	for _, body := range pages {
		var p atlassian.EventPage
		if err := json.Unmarshal(body, &p); err != nil {
			continue
		}
		sp := storedPage{body: body, hasNext: p.Meta.Next != ""}
		for _, e := range p.Data {
			sp.ids = append(sp.ids, e.ID)
		}
		out = append(out, sp)

		end := at + len(sp.ids)
		if end > len(order) || len(sp.ids) == 0 || !sameIDs(order[at:end], sp.ids) {
			continue
		}
		last := order[end-1]
		at = end
		if p.Meta.Next == "" {
			continue
		}
		if stream {
			pos := position{at: last.processed, seq: last.seq}
			d.streamAlias[p.Meta.Next], d.streamAliasOf[pos] = pos, p.Meta.Next
		} else {
			pos := position{at: last.at, seq: last.seq}
			d.searchAlias[p.Meta.Next], d.searchAliasOf[pos] = pos, p.Meta.Next
		}
	}
	return out
}

func sameIDs(recs []*record, ids []string) bool {
	if len(recs) != len(ids) {
		return false
	}
	for i, r := range recs {
		if r.id != ids[i] {
			return false
		}
	}
	return true
}

// AddEvents appends late-arriving events. Give them a processedAt newer than what clients have
// already read (and not after the fake's clock, or they stay hidden until it gets there).
func (s *Server) AddEvents(evs ...atlassian.Event) {
	s.mu.Lock()
	defer s.mu.Unlock()
	d := s.data
	for i := range evs {
		ev := evs[i]
		r := d.newRecord(&ev, nil)

		at := sort.Search(len(d.stream), func(j int) bool { return streamLess(r, d.stream[j]) })
		d.stream = append(d.stream, nil)
		copy(d.stream[at+1:], d.stream[at:])
		d.stream[at] = r

		if _, dup := d.byID[r.id]; dup {
			continue
		}
		d.byID[r.id] = r
		at = sort.Search(len(d.search), func(j int) bool { return searchLess(r, d.search[j]) })
		d.search = append(d.search, nil)
		copy(d.search[at+1:], d.search[at:])
		d.search[at] = r
	}
}

// EventCount is the number of stored event records, duplicates and not-yet-visible ones
// included.
func (s *Server) EventCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.data.stream)
}

// JSON forms.

var processedAtRe = []*regexp.Regexp{
	regexp.MustCompile(`,\s*"processedAt"\s*:\s*(?:"(?:[^"\\]|\\.)*"|null)`),
	regexp.MustCompile(`"processedAt"\s*:\s*(?:"(?:[^"\\]|\\.)*"|null)\s*,?`),
}

// stripProcessedAt removes attributes.processedAt from raw JSON, keeping every other byte, for
// /events, which does not send that field.
func stripProcessedAt(raw []byte) []byte {
	for _, re := range processedAtRe {
		loc := re.FindIndex(raw)
		if loc == nil {
			continue
		}
		out := append(append([]byte(nil), raw[:loc[0]]...), raw[loc[1]:]...)
		if json.Valid(out) {
			return out
		}
	}
	return raw
}

func (r *record) streamJSON() []byte {
	if r.raw != nil {
		return r.raw
	}
	ev := *r.ev
	if ev.Type == "" {
		ev.Type = "events"
	}
	b, _ := json.Marshal(ev)
	return b
}

func (r *record) searchJSON() []byte {
	if r.searchRaw != nil {
		return r.searchRaw
	}
	ev := *r.ev
	if ev.Type == "" {
		ev.Type = "events"
	}
	ev.Attributes.ProcessedAt = atlassian.Time{}
	b, _ := json.Marshal(ev)
	return bytes.Replace(b, []byte(`"processedAt":null,`), nil, 1)
}

// Cursors. A cursor is opaque base64 of the position after the last record served plus, for
// the stream, the query it continues. A checksum and the cursor generation make garbage and
// expired cursors fail with ADMIN-400-1.

type cursor struct {
	kind     byte // 's' stream, 'e' events search
	gen      int
	pos      position
	desc     bool
	from, to int64 // epoch ms, -1 = unset
	limit    int
	alias    bool // a fixture cursor: it carries no query of its own
}

func (c cursor) encode() string {
	desc := 0
	if c.desc {
		desc = 1
	}
	body := fmt.Sprintf("%c|%d|%d|%d|%d|%d|%d|%d", c.kind, c.gen, c.pos.at.UnixNano(), c.pos.seq,
		desc, c.from, c.to, c.limit)
	h := fnv.New32a()
	_, _ = h.Write([]byte(body))
	return base64.RawURLEncoding.EncodeToString(fmt.Appendf(nil, "%s|%08x", body, h.Sum32()))
}

func decodeCursor(s string) (cursor, bool) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return cursor{}, false
	}
	i := bytes.LastIndexByte(b, '|')
	if i < 0 {
		return cursor{}, false
	}
	h := fnv.New32a()
	_, _ = h.Write(b[:i])
	if fmt.Sprintf("%08x", h.Sum32()) != string(b[i+1:]) {
		return cursor{}, false
	}
	f := strings.Split(string(b[:i]), "|")
	if len(f) != 8 || len(f[0]) != 1 {
		return cursor{}, false
	}
	var n [7]int64
	for j := range n {
		v, err := strconv.ParseInt(f[j+1], 10, 64)
		if err != nil {
			return cursor{}, false
		}
		n[j] = v
	}
	return cursor{
		kind: f[0][0], gen: int(n[0]), pos: position{at: time.Unix(0, n[1]).UTC(), seq: int(n[2])},
		desc: n[3] == 1, from: n[4], to: n[5], limit: int(n[6]),
	}, true
}

// resolveCursor turns a cursor parameter into a cursor, accepting fixture aliases; ok is false
// for garbage, expired or foreign cursors.
func (s *Server) resolveCursor(raw string, kind byte) (cursor, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	aliases := s.data.streamAlias
	if kind == 'e' {
		aliases = s.data.searchAlias
	}
	if pos, ok := aliases[raw]; ok {
		return cursor{kind: kind, gen: s.gen, pos: pos, from: -1, to: -1, alias: true}, true
	}
	c, ok := decodeCursor(raw)
	if !ok || c.kind != kind || c.gen != s.gen {
		return cursor{}, false
	}
	return c, true
}

// Query parameters.

func epochParam(q map[string][]string, name string) (int64, bool) {
	v := first(q, name)
	if v == "" {
		return -1, true
	}
	n, err := strconv.ParseInt(v, 10, 64)
	return n, err == nil && n >= 0
}

func first(q map[string][]string, name string) string {
	if v := q[name]; len(v) > 0 {
		return v[0]
	}
	return ""
}

func (s *Server) limitParam(c *call, def int) (int, bool) {
	v := first(c.r.URL.Query(), "limit")
	if v == "" {
		return def, true
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		s.appError(c.w, nil, http.StatusBadRequest, "ADMIN-400-19", "Bad Request",
			"limit must be a positive integer")
		return 0, false
	}
	// TODO(#2): Atlassian's answer to a limit above the maximum is unknown; the fake clamps.
	return min(n, s.opts.MaxPageSize), true
}

func (s *Server) badTime(w http.ResponseWriter) {
	s.appError(w, nil, http.StatusBadRequest, "ADMIN-400-3", "Bad Request",
		"from and to must be UNIX epoch milliseconds")
}

// GET /v1/orgs/{orgId}/events-stream: every event by processedAt, no filters besides from/to.

func (s *Server) eventsStream(c *call) {
	q := c.r.URL.Query()
	cur := cursor{kind: 's', from: -1, to: -1}
	hadCursor := first(q, "cursor") != ""
	var after *position

	if hadCursor {
		got, ok := s.resolveCursor(first(q, "cursor"), 's')
		if !ok {
			s.badCursor(c.w)
			return
		}
		cur, after = got, &got.pos
		if cur.alias {
			// A fixture alias carries no query, so take from/to and order from the request.
			cur.from, _ = epochParam(q, "from")
			cur.to, _ = epochParam(q, "to")
			cur.desc = first(q, "sortOrder") == "desc"
		}
	} else {
		var okF, okT bool
		cur.from, okF = epochParam(q, "from")
		cur.to, okT = epochParam(q, "to")
		if !okF || !okT {
			s.badTime(c.w)
			return
		}
		switch first(q, "sortOrder") {
		case "", "asc":
		case "desc":
			cur.desc = true
		default:
			s.appError(c.w, nil, http.StatusBadRequest, "ADMIN-400-19", "Bad Request",
				"sortOrder must be asc or desc")
			return
		}
	}
	def := 200
	if cur.limit > 0 {
		def = cur.limit
	}
	limit, ok := s.limitParam(c, def)
	if !ok {
		return
	}
	cur.limit = limit

	s.mu.Lock()
	recs, more := s.data.streamSlice(after, cur, c.now)
	var next string
	if more {
		last := recs[len(recs)-1]
		pos := position{at: last.processed, seq: last.seq}
		next = s.data.streamAliasOf[pos]
		if next == "" || cur.desc || cur.to >= 0 {
			next = cursor{kind: 's', gen: s.gen, pos: pos, desc: cur.desc, from: cur.from,
				to: cur.to, limit: cur.limit}.encode()
		}
	}
	stored := findStored(s.data.streamPages, recs, more)
	s.mu.Unlock()

	if stored != nil {
		writeRaw(c.w, http.StatusOK, nil, stored)
		return
	}
	links := atlassian.Links{Self: selfURL(c.r)}
	if next != "" && !hadCursor {
		links.Next = baseURL(c.r) + "/v1/orgs/" + s.opts.OrgID + "/events-stream?cursor=" + next
	}
	writePage(c.w, recs, (*record).streamJSON, atlassian.Meta{Next: next, PageSize: limit}, links)
}

// streamSlice returns up to cur.limit visible records after the position in the cursor's order
// and within its from/to, and whether more follow. Callers hold s.mu.
func (d *eventData) streamSlice(after *position, cur cursor, now time.Time) ([]*record, bool) {
	inRange := func(r *record) bool {
		ms := r.processed.UnixMilli()
		return (cur.from < 0 || ms >= cur.from) && (cur.to < 0 || ms <= cur.to)
	}
	var out []*record
	if !cur.desc {
		i := 0
		if after != nil {
			p := *after
			i = sort.Search(len(d.stream), func(j int) bool {
				r := d.stream[j]
				return r.processed.After(p.at) || (r.processed.Equal(p.at) && r.seq > p.seq)
			})
		}
		if cur.from >= 0 {
			from := time.UnixMilli(cur.from)
			i = max(i, sort.Search(len(d.stream), func(j int) bool {
				return !d.stream[j].processed.Before(from)
			}))
		}
		for ; i < len(d.stream); i++ {
			r := d.stream[i]
			if r.processed.After(now) || !inRange(r) {
				break // sorted by processedAt: nothing later qualifies
			}
			if len(out) == cur.limit {
				return out, true
			}
			out = append(out, r)
		}
		return out, false
	}

	i := len(d.stream) - 1
	if after != nil {
		p := *after
		i = sort.Search(len(d.stream), func(j int) bool {
			r := d.stream[j]
			return r.processed.After(p.at) || (r.processed.Equal(p.at) && r.seq >= p.seq)
		}) - 1
	}
	for ; i >= 0; i-- {
		r := d.stream[i]
		if r.processed.After(now) || !inRange(r) {
			if cur.from >= 0 && r.processed.UnixMilli() < cur.from {
				break
			}
			continue
		}
		if len(out) == cur.limit {
			return out, true
		}
		out = append(out, r)
	}
	return out, false
}

func findStored(pages []storedPage, recs []*record, more bool) []byte {
	for _, p := range pages {
		if p.hasNext == more && sameIDs(recs, p.ids) {
			return p.body
		}
	}
	return nil
}

// writePage writes a list envelope around already-encoded events.
func writePage(w http.ResponseWriter, recs []*record, form func(*record) []byte,
	meta atlassian.Meta, links atlassian.Links) {
	var b bytes.Buffer
	b.WriteString(`{"data":[`)
	for i, r := range recs {
		if i > 0 {
			b.WriteByte(',')
		}
		b.Write(form(r))
	}
	b.WriteString(`],"meta":`)
	m, _ := json.Marshal(meta)
	b.Write(m)
	b.WriteString(`,"links":`)
	l, _ := json.Marshal(links)
	b.Write(l)
	b.WriteByte('}')
	writeRaw(w, http.StatusOK, nil, b.Bytes())
}

// GET /v1/orgs/{orgId}/events: newest first by time, with filters. The cursor holds only a
// position: like the real API (ACCESS-1603) links.next drops from, to, action and every other
// parameter, and a cursor request is filtered only by what it sends itself.

type searchFilter struct {
	from, to    int64
	action      string
	actors, ips map[string]bool
	products    []string
	q           string
}

func setOf(v string) map[string]bool {
	if v == "" {
		return nil
	}
	m := map[string]bool{}
	for _, p := range strings.Split(v, ",") {
		if p = strings.TrimSpace(p); p != "" {
			m[p] = true
		}
	}
	return m
}

func (f searchFilter) match(r *record) bool {
	ms := r.at.UnixMilli()
	if (f.from >= 0 && ms < f.from) || (f.to >= 0 && ms > f.to) {
		return false
	}
	a := &r.ev.Attributes
	if f.action != "" && a.Action != f.action {
		return false
	}
	if f.actors != nil && !f.actors[a.Actor.ID] {
		return false
	}
	if f.ips != nil && (a.Location == nil || !f.ips[a.Location.IP]) {
		return false
	}
	if len(f.products) > 0 && !matchProduct(a, f.products) {
		return false
	}
	return f.q == "" || matchTerm(r.ev, f.q)
}

// matchProduct looks for the product in context and container items (a product ARI, or a
// productKey attribute). TODO(#2): how Atlassian decides an event's product is undocumented.
func matchProduct(a *atlassian.EventAttributes, products []string) bool {
	items := append(append([]atlassian.EventObject(nil), a.Context...), a.Container...)
	for _, it := range items {
		for _, p := range products {
			if strings.HasPrefix(it.ID, "ari:cloud:"+p) || it.Attributes["productKey"] == p {
				return true
			}
		}
	}
	return false
}

// matchTerm is the q filter: one exact term (case-insensitive) against names, emails, the
// action and site names, as the admin UI describes it.
func matchTerm(ev *atlassian.Event, q string) bool {
	a := &ev.Attributes
	cands := []string{a.Action, a.Actor.Name, a.Actor.Email, a.Actor.ID}
	for _, it := range append(append([]atlassian.EventObject(nil), a.Context...), a.Container...) {
		for _, k := range []string{"name", "email", "siteName", "siteHostName"} {
			if v, ok := it.Attributes[k].(string); ok {
				cands = append(cands, v)
			}
		}
	}
	for _, c := range cands {
		if c != "" && strings.EqualFold(c, q) {
			return true
		}
	}
	return false
}

func (s *Server) searchEvents(c *call) {
	q := c.r.URL.Query()
	var after *position
	if raw := first(q, "cursor"); raw != "" {
		cur, ok := s.resolveCursor(raw, 'e')
		if !ok {
			s.badCursor(c.w)
			return
		}
		after = &cur.pos
	}
	f := searchFilter{action: first(q, "action"), actors: setOf(first(q, "actor")),
		ips: setOf(first(q, "ip")), q: strings.TrimSpace(first(q, "q"))}
	var okF, okT bool
	f.from, okF = epochParam(q, "from")
	f.to, okT = epochParam(q, "to")
	if !okF || !okT {
		s.badTime(c.w)
		return
	}
	for p := range setOf(first(q, "product")) {
		f.products = append(f.products, p)
	}
	limit, ok := s.limitParam(c, s.opts.EventsPageSize)
	if !ok {
		return
	}

	s.mu.Lock()
	d := s.data
	i := 0
	if after != nil {
		p := *after
		i = sort.Search(len(d.search), func(j int) bool {
			r := d.search[j]
			return r.at.Before(p.at) || (r.at.Equal(p.at) && r.seq < p.seq)
		})
	}
	if f.to >= 0 {
		to := time.UnixMilli(f.to + 1)
		i = max(i, sort.Search(len(d.search), func(j int) bool {
			return d.search[j].at.Before(to)
		}))
	}
	var recs []*record
	more := false
	for ; i < len(d.search); i++ {
		r := d.search[i]
		if f.from >= 0 && r.at.UnixMilli() < f.from {
			break
		}
		if r.processed.After(c.now) || !f.match(r) {
			continue
		}
		if len(recs) == limit {
			more = true
			break
		}
		recs = append(recs, r)
	}
	var next string
	if more {
		last := recs[len(recs)-1]
		pos := position{at: last.at, seq: last.seq}
		if next = d.searchAliasOf[pos]; next == "" {
			next = cursor{kind: 'e', gen: s.gen, pos: pos, from: -1, to: -1}.encode()
		}
	}
	stored := findStored(d.searchPages, recs, more)
	s.mu.Unlock()

	if stored != nil {
		writeRaw(c.w, http.StatusOK, nil, stored)
		return
	}
	links := atlassian.Links{Self: selfURL(c.r)}
	if next != "" {
		links.Next = baseURL(c.r) + "/v1/orgs/" + s.opts.OrgID + "/events?cursor=" + next
	}
	writePage(c.w, recs, (*record).searchJSON, atlassian.Meta{Next: next, PageSize: limit}, links)
}

// GET /v1/orgs/{orgId}/events/{eventId}.
func (s *Server) getEvent(c *call) {
	s.mu.Lock()
	r := s.data.byID[c.params["id"]]
	s.mu.Unlock()
	if r == nil || r.processed.After(c.now) {
		s.appError(c.w, nil, http.StatusNotFound, "ADMIN-404-4", "Not Found",
			"Event "+c.params["id"]+" was not found")
		return
	}
	var b bytes.Buffer
	b.WriteString(`{"data":`)
	b.Write(r.searchJSON())
	b.WriteByte('}')
	writeRaw(c.w, http.StatusOK, nil, b.Bytes())
}
