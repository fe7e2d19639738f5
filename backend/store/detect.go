package store

import (
	"bytes"
	"errors"
	"fmt"
	"time"

	"github.com/dgraph-io/badger/v4"

	"warden/backend/audit"
)

// Detection records live in their own per-org namespace:
//
//	key                    value     purpose
//	det/‹o›name            bytes     detection state, alerts and settings (package detect)
//
// The detect package chooses the names; it builds them so that byte order is the order it
// reads them in (alerts by event time, state by kind). Keeping them under the org number means
// a deleted org's detection state goes with it once det/ is listed in orgPrefixes.
const pfxDetect = "det/"

// DetectWrite is one change of a detection batch: Value nil deletes Key.
type DetectWrite struct {
	Key   string
	Value []byte
}

// PutDetect applies a batch of detection writes in one transaction (split only when Badger
// finds it too big), so the state flushed after a page is all there or not at all.
func (s *Store) PutDetect(org string, writes []DetectWrite) error {
	if len(writes) == 0 {
		return nil
	}
	if err := s.checkSpace(); err != nil {
		return fmt.Errorf("put detection state: %w", err)
	}
	oid, _, err := s.orgID(org, true)
	if err != nil {
		return fmt.Errorf("put detection state: %w", err)
	}
	if err := s.putDetect(orgKey(pfxDetect, oid), writes); err != nil {
		return fmt.Errorf("put detection state: %w", mapErr(err))
	}
	return nil
}

func (s *Store) putDetect(prefix []byte, writes []DetectWrite) error {
	txn := s.db.NewTransaction(true)
	defer txn.Discard()
	for i, w := range writes {
		k := append(append([]byte(nil), prefix...), w.Key...)
		var err error
		if w.Value == nil {
			err = txn.Delete(k)
		} else {
			err = txn.Set(k, w.Value)
		}
		if errors.Is(err, badger.ErrTxnTooBig) && i > 0 {
			if err := txn.Commit(); err != nil {
				return err
			}
			return s.putDetect(prefix, writes[i:])
		}
		if err != nil {
			return err
		}
	}
	return txn.Commit()
}

// GetDetect returns the detection record under name; ok is false when there is none.
func (s *Store) GetDetect(org, name string) (val []byte, ok bool, err error) {
	oid, ok, err := s.orgID(org, false)
	if err != nil || !ok {
		return nil, false, err
	}
	val, err = s.get(append(orgKey(pfxDetect, oid), name...))
	if err != nil {
		return nil, false, fmt.Errorf("get detection state: %w", err)
	}
	return val, val != nil, nil
}

// ScanDetect calls fn for every detection record whose name starts with prefix, in name
// order, or in reverse order when reverse is set. Returning ErrStop from fn ends the scan
// without error. val is only valid during the call.
func (s *Store) ScanDetect(org, prefix string, reverse bool,
	fn func(name string, val []byte) error) error {
	oid, ok, err := s.orgID(org, false)
	if err != nil || !ok {
		return err
	}
	base := orgKey(pfxDetect, oid)
	p := append(append([]byte(nil), base...), prefix...)
	err = s.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: p, Reverse: reverse})
		defer it.Close()
		seek := p
		if reverse {
			seek = append(append([]byte(nil), p...), seekTail...)
		}
		for it.Seek(seek); it.Valid(); it.Next() {
			item := it.Item()
			name := string(item.Key()[len(base):])
			if err := item.Value(func(v []byte) error { return fn(name, v) }); err != nil {
				return err
			}
		}
		return nil
	})
	if errors.Is(err, ErrStop) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("scan detection state: %w", err)
	}
	return nil
}

// ErrStop ends ScanDetect, ScanEvents and ScanUserEvents early without an error.
var ErrStop = errors.New("stop scan")

// ScanEvents calls fn for the org's events with since <= time < until (zero bounds are open),
// oldest first by event time, ties in insertion order. Detection replays history with it, so
// it walks the primary keys forward and decodes each event once. e is reused between calls.
func (s *Store) ScanEvents(org string, since, until time.Time,
	fn func(e *audit.Event) error) error {
	oid, ok, err := s.orgID(org, false)
	if err != nil || !ok {
		return err
	}
	prefix := orgKey(pfxEvent, oid)
	err = s.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: prefix, PrefetchValues: true,
			PrefetchSize: 64})
		defer it.Close()
		seek := prefix
		if !since.IsZero() {
			seek = appendTime(append([]byte(nil), prefix...), since)
		}
		var end []byte
		if !until.IsZero() {
			end = appendTime(nil, until)
		}
		var e audit.Event
		for it.Seek(seek); it.Valid(); it.Next() {
			item := it.Item()
			suffix := item.Key()[len(prefix):]
			if end != nil && len(suffix) == suffixLen && bytes.Compare(suffix[:timeKeyLen], end) >= 0 {
				return nil
			}
			e = audit.Event{}
			if err := item.Value(func(v []byte) error { return decodeEvent(v, &e) }); err != nil {
				return err
			}
			if err := fn(&e); err != nil {
				return err
			}
		}
		return nil
	})
	if errors.Is(err, ErrStop) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("scan events: %w", err)
	}
	return nil
}

// ScanUserEvents walks the user index for an actor account id from the event time at,
// backwards (older events, time < at) or forwards (time > at), calling fn for each event until
// fn returns ErrStop. Detection uses it to find a late event's neighbours in time.
func (s *Store) ScanUserEvents(org, user string, at time.Time, forward bool,
	fn func(e *audit.Event) error) error {
	oid, ok, err := s.orgID(org, false)
	if err != nil || !ok {
		return err
	}
	prefix := indexPrefix(pfxIxUser, oid, lower(user))
	evP := orgKey(pfxEvent, oid)
	err = s.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: prefix, Reverse: !forward})
		defer it.Close()
		atKey := appendTime(nil, at)
		seek := append(append([]byte(nil), prefix...), atKey...)
		if forward {
			// Start just after every key at exactly this time.
			seek = append(seek, seekTail[:8]...)
		}
		pk := append([]byte(nil), evP...)
		for it.Seek(seek); it.Valid(); it.Next() {
			suffix := it.Item().Key()[len(prefix):]
			if len(suffix) != suffixLen || bytes.Equal(suffix[:timeKeyLen], atKey) {
				continue
			}
			var e audit.Event
			pk = append(pk[:len(evP)], suffix...)
			if err := getEvent(txn, pk, &e); err != nil {
				return err
			}
			if err := fn(&e); err != nil {
				return err
			}
		}
		return nil
	})
	if errors.Is(err, ErrStop) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("scan user events: %w", err)
	}
	return nil
}
