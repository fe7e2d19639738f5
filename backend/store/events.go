package store

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/dgraph-io/badger/v4"

	"warden/backend/audit"
)

// Cursor is the sync position of one org.
type Cursor struct {
	Cursor     string    `json:"cursor"`     // last events-stream cursor ("" = none)
	Watermark  time.Time `json:"watermark"`  // highest processedAt stored
	From       time.Time `json:"from"`       // start of the backfill window
	Backfilled bool      `json:"backfilled"` // the backfill reached the end once
	UpdatedAt  time.Time `json:"updated_at"`
	// Pages and Events count what the sync fetched, for progress display only.
	Pages  int `json:"pages,omitempty"`
	Events int `json:"events,omitempty"`
}

// CommitPage stores the events of one fetched page that are not stored yet (deduplicated by
// org and event id), with all their index entries, and the cursor that produced the page, in
// one transaction: after a crash either the page and its cursor are stored or neither is.
//
// A page too large for one Badger transaction is split: the first parts carry events only and
// the last part carries the cursor. A crash between parts leaves some events without the
// cursor that covers them, so the page is fetched again; deduplication makes that replay store
// nothing twice, which keeps the guarantee "nothing lost, nothing duplicated".
func (s *Store) CommitPage(org string, events []audit.Event, cur Cursor) (added int, err error) {
	fresh, err := s.CommitPageNew(org, events, cur)
	return len(fresh), err
}

// CommitPageNew is CommitPage returning the events that were newly stored, in page order, so
// that detection sees each event exactly once however often a page is fetched again.
func (s *Store) CommitPageNew(org string, events []audit.Event, cur Cursor) ([]audit.Event,
	error) {
	val, err := json.Marshal(cur)
	if err != nil {
		return nil, fmt.Errorf("commit page: %w", err)
	}
	fresh, err := s.writeEventsNew(org, events, val)
	if err != nil {
		return fresh, fmt.Errorf("commit page: %w", err)
	}
	return fresh, nil
}

// PutEventsNew is PutEvents returning the newly stored events, for detection on imports.
func (s *Store) PutEventsNew(org string, events []audit.Event) ([]audit.Event, error) {
	fresh, err := s.writeEventsNew(org, events, nil)
	if err != nil {
		return fresh, fmt.Errorf("put events: %w", err)
	}
	return fresh, nil
}

// PutEvents stores events that are not stored yet, like CommitPage but without a cursor
// (imports).
func (s *Store) PutEvents(org string, events []audit.Event) (added int, err error) {
	added, err = s.writeEvents(org, events, nil)
	if err != nil {
		return added, fmt.Errorf("put events: %w", err)
	}
	return added, nil
}

func (s *Store) writeEvents(org string, events []audit.Event, cursor []byte) (int, error) {
	fresh, err := s.writeEventsNew(org, events, cursor)
	return len(fresh), err
}

func (s *Store) writeEventsNew(org string, events []audit.Event, cursor []byte) (
	[]audit.Event, error) {
	s.wmu.Lock()
	defer s.wmu.Unlock()

	if err := s.checkSpace(); err != nil {
		return nil, err
	}
	oid, _, err := s.orgID(org, true)
	if err != nil {
		return nil, err
	}
	known, err := s.distinctCache(org, oid)
	if err != nil {
		return nil, err
	}
	w := &pageWriter{org: org, oid: oid, cursor: cursor, known: known}
	_, err = s.writeChunk(w, events, true)
	if time.Since(s.lastTrim) >= trimEvery {
		s.trim()
	}
	fresh := make([]audit.Event, len(w.kept))
	for i, e := range w.kept {
		fresh[i] = *e
		fresh[i].Org = org
	}
	return fresh, err
}

// writeChunk commits events in one transaction, halving the chunk while Badger reports it too
// big. Only the last chunk (last true) carries the cursor.
func (s *Store) writeChunk(w *pageWriter, events []audit.Event, last bool) (int, error) {
	added, err := s.commitEvents(w, events, last)
	if !errors.Is(err, badger.ErrTxnTooBig) || len(events) < 2 {
		return added, mapErr(err)
	}

	half := len(events) / 2
	first, err := s.writeChunk(w, events[:half], false)
	if err != nil {
		return first, err
	}
	second, err := s.writeChunk(w, events[half:], last)
	return first + second, err
}

// commitEvents is one transaction: new events, their indexes, counter, distinct values and,
// when last, the cursor. The distinct cache is updated only when the transaction commits.
func (s *Store) commitEvents(w *pageWriter, events []audit.Event, last bool) (int, error) {
	txn := s.db.NewTransaction(true)
	defer txn.Discard()

	// Sequence numbers continue from the counter, read inside this transaction.
	count, err := readCount(txn, countKey(w.oid))
	if err != nil {
		return 0, err
	}
	w.reset(txn, events, count)
	for i := range events {
		if err := w.add(&events[i]); err != nil {
			return 0, err
		}
	}

	// The counter and the cursor go in the same transaction as the events they describe.
	if w.added > 0 {
		val := binary.BigEndian.AppendUint64(nil, count+uint64(w.added))
		if err := txn.Set(countKey(w.oid), val); err != nil {
			return 0, err
		}
	}
	if last && w.cursor != nil {
		if err := txn.Set(orgKey(pfxCursor, w.oid), w.cursor); err != nil {
			return 0, err
		}
	}
	if s.beforeCommit != nil {
		if err := s.beforeCommit(); err != nil {
			return 0, err
		}
	}
	if err := txn.Commit(); err != nil {
		return 0, err
	}

	for k, v := range w.newDistinct {
		w.known[k] = v
	}
	w.kept = append(w.kept, w.fresh...)

	if w.skipped > 0 {
		s.log.Warn("Events without id skipped", "org", w.org, "count", w.skipped)
	}
	return w.added, nil
}

// pageWriter builds the keys of one transaction. Keys and values are carved out of one
// growing buffer: Badger keeps the slices until commit, and earlier slices stay valid when
// the buffer grows because growth copies instead of overwriting.
type pageWriter struct {
	org    string
	oid    []byte
	cursor []byte
	known  map[string]string // distinct values already stored: tag + normalized -> display

	txn                                     *badger.Txn
	buf                                     []byte
	seq                                     uint64 // last sequence number handed out
	evP, eidP, ixU, ixI, ixA, ixC, ixP, dvP []byte
	added, skipped                          int
	// fresh are the events this transaction adds; kept those of committed transactions.
	fresh, kept []*audit.Event
	newDistinct map[string]string
}

// reset prepares w for one transaction over events.
func (w *pageWriter) reset(txn *badger.Txn, events []audit.Event, seq uint64) {
	size := 0
	for i := range events {
		size += 512 + len(events[i].Raw) + 2*len(events[i].ID)
	}
	w.txn, w.buf, w.seq = txn, make([]byte, 0, size), seq
	w.added, w.skipped, w.newDistinct, w.fresh = 0, 0, nil, w.fresh[:0]
	if w.evP == nil {
		w.evP, w.eidP = orgKey(pfxEvent, w.oid), orgKey(pfxEventID, w.oid)
		w.ixU, w.ixI = orgKey(pfxIxUser, w.oid), orgKey(pfxIxIP, w.oid)
		w.ixA, w.ixC = orgKey(pfxIxAct, w.oid), orgKey(pfxIxCtry, w.oid)
		w.ixP, w.dvP = orgKey(pfxIxProd, w.oid), orgKey(pfxDistinc, w.oid)
	}
}

// carve returns buf[start:] with its capacity cut, so later appends cannot touch it.
func (w *pageWriter) carve(start int) []byte { return w.buf[start:len(w.buf):len(w.buf)] }

func (w *pageWriter) add(e *audit.Event) error {
	if e.ID == "" {
		w.skipped++
		return nil
	}

	// Dedup: the transaction sees its own pending writes, so this also catches a repeat
	// inside the page.
	start := len(w.buf)
	w.buf = append(append(w.buf, w.eidP...), e.ID...)
	eid := w.carve(start)
	if _, err := w.txn.Get(eid); err == nil {
		w.buf = w.buf[:start]
		return nil
	} else if !errors.Is(err, badger.ErrKeyNotFound) {
		return err
	}

	// suffix = ‹t›‹seq›, shared by the primary key and every index key.
	w.seq++
	start = len(w.buf)
	w.buf = binary.BigEndian.AppendUint64(appendTime(w.buf, e.Time), w.seq)
	suffix := w.carve(start)
	if err := w.txn.Set(eid, suffix); err != nil {
		return err
	}

	start = len(w.buf)
	w.buf = append(append(w.buf, w.evP...), suffix...)
	pk := w.carve(start)
	ev := *e
	ev.Org = w.org
	start = len(w.buf)
	w.buf = appendEvent(w.buf, &ev)
	if err := w.txn.Set(pk, w.carve(start)); err != nil {
		return err
	}

	if err := w.indexes(e, suffix); err != nil {
		return err
	}
	w.added++
	w.fresh = append(w.fresh, e)
	return w.distinct(e)
}

// indexes writes every index entry of e; values that would repeat a key are skipped.
func (w *pageWriter) indexes(e *audit.Event, suffix []byte) error {
	// The user index is keyed by actor id only; emails resolve to ids through the distinct
	// table (tag 'e'), which costs one key per new email instead of one per event.
	id := lower(e.ActorID)
	ip, rawIP := e.IP, e.RawIP
	if rawIP == ip {
		rawIP = ""
	}
	for _, ix := range [...]struct {
		prefix []byte
		value  string
	}{
		{w.ixU, id}, {w.ixI, ip}, {w.ixI, rawIP}, {w.ixA, e.Action},
		{w.ixC, lower(e.Country)}, {w.ixP, lower(e.Product)},
	} {
		if ix.value == "" {
			continue
		}
		start := len(w.buf)
		w.buf = append(appendComp(append(w.buf, ix.prefix...), ix.value), suffix...)
		if err := w.txn.Set(w.carve(start), nil); err != nil {
			return err
		}
	}
	return nil
}

// distinct records values of the distinct fields that the org has not seen yet.
func (w *pageWriter) distinct(e *audit.Event) error {
	for _, f := range [...]struct {
		tag           byte
		norm, display string
	}{
		{'a', e.Action, e.Action}, {'c', lower(e.Country), e.Country},
		{'p', lower(e.Product), e.Product}, {emailTag, emailNorm(e), e.ActorID},
	} {
		if f.norm == "" {
			continue
		}
		ck := string(f.tag) + f.norm
		if _, ok := w.known[ck]; ok {
			continue
		}
		if _, ok := w.newDistinct[ck]; ok {
			continue
		}
		if w.newDistinct == nil {
			w.newDistinct = make(map[string]string)
		}
		w.newDistinct[ck] = f.display
		k := appendComp(append(append([]byte(nil), w.dvP...), f.tag), f.norm)
		if err := w.txn.Set(k, []byte(f.display)); err != nil {
			return err
		}
	}
	return nil
}

// emailTag marks the distinct entries that map an actor email to the actor id it was first
// seen with.
const emailTag = 'e'

func emailNorm(e *audit.Event) string {
	email := lower(e.ActorEmail)
	if email == "" || e.ActorID == "" || email == lower(e.ActorID) {
		return ""
	}
	return email
}

// actorForEmail returns the actor id first seen with an email, or "" when none was.
// TODO(#2): an email reused by a second account id resolves to the first one only.
func actorForEmail(txn *badger.Txn, oid []byte, email string) (string, error) {
	k := appendComp(append(orgKey(pfxDistinc, oid), emailTag), email)
	item, err := txn.Get(k)
	if errors.Is(err, badger.ErrKeyNotFound) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	v, err := item.ValueCopy(nil)
	return string(v), err
}

// distinctCache returns the org's known distinct values (tag + normalized -> display),
// loading them on first use. The caller holds wmu.
func (s *Store) distinctCache(org string, oid []byte) (map[string]string, error) {
	if m, ok := s.distinct[org]; ok {
		return m, nil
	}
	m := make(map[string]string)
	prefix := orgKey(pfxDistinc, oid)
	err := s.db.View(func(txn *badger.Txn) error {
		return iterPrefix(txn, prefix, func(k, v []byte) error {
			tag, norm, ok := splitDistinct(k[len(prefix):])
			if ok {
				m[string(tag)+norm] = string(v)
			}
			return nil
		})
	})
	if err != nil {
		return nil, err
	}
	s.distinct[org] = m
	return m, nil
}

// splitDistinct parses field tag and ‹value› after the dv/‹org› prefix.
func splitDistinct(rest []byte) (tag byte, norm string, ok bool) {
	if len(rest) < 2 {
		return 0, "", false
	}
	n, w := binary.Uvarint(rest[1:])
	if w <= 0 || n != uint64(len(rest)-1-w) {
		return 0, "", false
	}
	return rest[0], string(rest[1+w:]), true
}

func readCount(txn *badger.Txn, key []byte) (uint64, error) {
	item, err := txn.Get(key)
	if errors.Is(err, badger.ErrKeyNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	var n uint64
	err = item.Value(func(v []byte) error {
		if len(v) != 8 {
			return errors.New("corrupt event counter")
		}
		n = binary.BigEndian.Uint64(v)
		return nil
	})
	return n, err
}

// iterPrefix calls fn for every key with prefix, in key order. k and v are valid only during
// the call.
func iterPrefix(txn *badger.Txn, prefix []byte, fn func(k, v []byte) error) error {
	it := txn.NewIterator(badger.IteratorOptions{PrefetchValues: false, Prefix: prefix})
	defer it.Close()
	for it.Seek(prefix); it.Valid(); it.Next() {
		item := it.Item()
		err := item.Value(func(v []byte) error { return fn(item.Key(), v) })
		if err != nil {
			return err
		}
	}
	return nil
}

// Cursor returns the org's sync position; ok is false when none was stored.
func (s *Store) Cursor(org string) (Cursor, bool, error) {
	var c Cursor
	oid, ok, err := s.orgID(org, false)
	if err == nil && ok {
		ok, err = s.getJSON(orgKey(pfxCursor, oid), &c)
	}
	if err != nil {
		return Cursor{}, false, fmt.Errorf("read cursor: %w", err)
	}
	return c, ok, nil
}

// SetCursor stores the org's sync position on its own, e.g. when a sync is reset.
func (s *Store) SetCursor(org string, c Cursor) error {
	s.wmu.Lock()
	defer s.wmu.Unlock()

	oid, _, err := s.orgID(org, true)
	if err == nil {
		err = s.putJSON(orgKey(pfxCursor, oid), c)
	}
	if err != nil {
		return fmt.Errorf("set cursor: %w", err)
	}
	return nil
}

// Event returns one stored event, or ErrNotFound.
func (s *Store) Event(org, id string) (audit.Event, error) {
	var e audit.Event
	oid, ok, err := s.orgID(org, false)
	if err == nil && !ok {
		err = badger.ErrKeyNotFound
	}
	if err == nil {
		err = s.db.View(func(txn *badger.Txn) error {
			item, err := txn.Get(append(orgKey(pfxEventID, oid), id...))
			if err != nil {
				return err
			}
			suffix, err := item.ValueCopy(nil)
			if err != nil {
				return err
			}
			return getEvent(txn, append(orgKey(pfxEvent, oid), suffix...), &e)
		})
	}
	if errors.Is(err, badger.ErrKeyNotFound) {
		return audit.Event{}, fmt.Errorf("event %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return audit.Event{}, fmt.Errorf("read event: %w", err)
	}
	return e, nil
}

func getEvent(txn *badger.Txn, pk []byte, e *audit.Event) error {
	item, err := txn.Get(pk)
	if err != nil {
		return err
	}
	return item.Value(func(v []byte) error { return decodeEvent(v, e) })
}

// CountEvents returns the number of stored events of the org from its counter key.
func (s *Store) CountEvents(org string) (int, error) {
	var n uint64
	oid, ok, err := s.orgID(org, false)
	if err == nil && ok {
		err = s.db.View(func(txn *badger.Txn) error {
			var err error
			n, err = readCount(txn, countKey(oid))
			return err
		})
	}
	if err != nil {
		return 0, fmt.Errorf("count events: %w", err)
	}
	return int(n), nil
}

// Distinct returns the values seen for field ("action", "country" or "product"), sorted.
// The sets are maintained on write, so this never scans events.
func (s *Store) Distinct(org, field string) ([]string, error) {
	tag, ok := distinctFields[field]
	if !ok {
		return nil, fmt.Errorf("distinct: unknown field %q", field)
	}
	oid, ok, err := s.orgID(org, false)
	if err != nil || !ok {
		return nil, err // never written: no values
	}
	prefix := append(orgKey(pfxDistinc, oid), tag)
	var out []string
	err = s.db.View(func(txn *badger.Txn) error {
		return iterPrefix(txn, prefix, func(_, v []byte) error {
			out = append(out, string(v))
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("distinct: %w", err)
	}
	slices.Sort(out)
	return out, nil
}

// DeleteOrg drops every key of the org. Badger reclaims value-log space later, in GC.
func (s *Store) DeleteOrg(org string) error {
	s.wmu.Lock()
	defer s.wmu.Unlock()

	oid, ok, err := s.orgID(org, false)
	if err != nil {
		return fmt.Errorf("delete org: %w", err)
	}
	if !ok {
		return nil
	}
	prefixes := make([][]byte, len(orgPrefixes))
	for i, p := range orgPrefixes {
		prefixes[i] = orgKey(p, oid)
	}
	delete(s.distinct, org)
	if err := s.db.DropPrefix(prefixes...); err != nil {
		return fmt.Errorf("delete org: %w", mapErr(err))
	}
	return nil
}
