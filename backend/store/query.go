package store

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"github.com/dgraph-io/badger/v4"

	"warden/backend/audit"
)

// Page is one newest-first slice of a query result.
type Page struct {
	Events []audit.Event
	// Next continues the listing when passed as Filter.Before; empty on the last page.
	Next string
}

// Query limits.
const (
	defaultLimit = 100
	maxLimit     = 1000
)

// seekTail is appended to a prefix to seek past every key under it when walking backwards.
var seekTail = bytes.Repeat([]byte{0xff}, 32)

// Query returns the org's events matching f, newest first by event time (ties newest stored
// first). It walks the most selective index the filter allows (user, then IP, action,
// country, product, else the time-ordered primary keys), bounds the walk by Since, Until and
// Before through the time in each key, and checks the remaining fields with f.Matches.
func (s *Store) Query(f audit.Filter) (Page, error) {
	if f.Org == "" {
		return Page{}, errors.New("query: no org")
	}
	limit := f.Limit
	if limit <= 0 {
		limit = defaultLimit
	}
	limit = min(limit, maxLimit)

	var before []byte
	if f.Before != "" {
		b, err := base64.RawURLEncoding.DecodeString(f.Before)
		if err != nil || len(b) != suffixLen {
			return Page{}, errors.New("query: malformed page cursor")
		}
		before = b
	}

	oid, ok, err := s.orgID(f.Org, false)
	if err != nil || !ok {
		return Page{}, err // an org never written has no events
	}
	q := scan{f: &f, limit: limit, before: before, evP: orgKey(pfxEvent, oid)}
	err = s.db.View(func(txn *badger.Txn) error {
		user := lower(f.User)
		if strings.Contains(user, "@") {
			id, err := actorForEmail(txn, oid, user)
			if err != nil {
				return err
			}
			if id != "" {
				user = lower(id)
			}
		}
		q.prefix, q.primary = chooseIndex(&f, oid, q.evP, user)
		return q.run(txn)
	})
	if err != nil {
		return Page{}, fmt.Errorf("query: %w", err)
	}
	return q.page, nil
}

// chooseIndex picks the key range to walk; primary reports a walk over the events themselves.
// user is the filter's user as an actor id (an email already resolved).
func chooseIndex(f *audit.Filter, oid, evP []byte, user string) (prefix []byte, primary bool) {
	switch {
	case user != "":
		return indexPrefix(pfxIxUser, oid, user), false
	case f.IP != "":
		return indexPrefix(pfxIxIP, oid, f.IP), false
	case f.Action != "":
		return indexPrefix(pfxIxAct, oid, f.Action), false
	case f.Country != "":
		return indexPrefix(pfxIxCtry, oid, lower(f.Country)), false
	case f.Product != "":
		return indexPrefix(pfxIxProd, oid, lower(f.Product)), false
	}
	return evP, true
}

// scan is one query walk.
type scan struct {
	f       *audit.Filter
	limit   int
	before  []byte // ‹t›‹seq› to continue after, exclusive
	evP     []byte
	prefix  []byte
	primary bool
	page    Page
}

func (q *scan) run(txn *badger.Txn) error {
	it := txn.NewIterator(badger.IteratorOptions{
		Reverse: true, Prefix: q.prefix, PrefetchValues: false,
	})
	defer it.Close()

	var since []byte
	if !q.f.Since.IsZero() {
		since = appendTime(nil, q.f.Since)
	}
	var last []byte
	pk := append([]byte(nil), q.evP...)
	for it.Seek(q.seekKey()); it.Valid(); it.Next() {
		item := it.Item()
		suffix := item.Key()[len(q.prefix):]
		if len(suffix) != suffixLen || (q.before != nil && bytes.Equal(suffix, q.before)) {
			continue
		}
		if since != nil && bytes.Compare(suffix[:timeKeyLen], since) < 0 {
			break // every later key is older still
		}

		var e audit.Event
		var err error
		if q.primary {
			err = item.Value(func(v []byte) error { return decodeEvent(v, &e) })
		} else {
			pk = append(pk[:len(q.evP)], suffix...)
			err = getEvent(txn, pk, &e)
		}
		if err != nil {
			return err
		}
		if !q.f.Matches(&e) {
			continue
		}

		// One match beyond the limit proves there is a next page.
		if len(q.page.Events) == q.limit {
			q.page.Next = base64.RawURLEncoding.EncodeToString(last)
			return nil
		}
		q.page.Events = append(q.page.Events, e)
		last = append(last[:0], suffix...)
	}
	return nil
}

// seekKey is where the backward walk starts: the lowest of Until and Before, else past the end.
func (q *scan) seekKey() []byte {
	key := append(append([]byte(nil), q.prefix...), seekTail...)
	if !q.f.Until.IsZero() {
		key = appendTime(append([]byte(nil), q.prefix...), q.f.Until)
	}
	if q.before != nil {
		b := append(append([]byte(nil), q.prefix...), q.before...)
		if bytes.Compare(b, key) < 0 {
			key = b
		}
	}
	return key
}
