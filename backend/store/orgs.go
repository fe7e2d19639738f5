package store

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/dgraph-io/badger/v4"
)

// Keys carry a short per-database org number instead of the org id itself: Atlassian org ids
// are 36-character UUIDs, and repeating one in the eight keys of every event made keys twice as
// long, which costs skiplist comparisons, memtable space and compaction time on the hot path.
// The registry maps org/‹org› to the number; meta/orgseq holds the last number handed out.
// Numbers are never reused, so a deleted org's dropped keys cannot resurface.
const (
	pfxOrg    = "org/"
	keyOrgSeq = "meta/orgseq"
)

// orgID returns the key component of org. With create false, ok is false for an org that was
// never written, and readers treat it as empty.
func (s *Store) orgID(org string, create bool) (oid []byte, ok bool, err error) {
	if org == "" {
		return nil, false, errors.New("no org")
	}
	s.omu.Lock()
	defer s.omu.Unlock()

	if oid, ok := s.orgIDs[org]; ok {
		return oid, true, nil
	}
	regKey := appendComp([]byte(pfxOrg), org)
	oid, err = s.get(regKey)
	if err != nil {
		return nil, false, fmt.Errorf("org registry: %w", err)
	}
	if oid == nil && !create {
		return nil, false, nil
	}
	if oid == nil {
		if oid, err = s.registerOrg(regKey); err != nil {
			return nil, false, fmt.Errorf("org registry: %w", err)
		}
	}
	s.orgIDs[org] = oid
	return oid, true, nil
}

// registerOrg hands out the next org number; the caller holds omu.
func (s *Store) registerOrg(regKey []byte) ([]byte, error) {
	if err := s.checkSpace(); err != nil {
		return nil, err
	}
	var oid []byte
	err := s.db.Update(func(txn *badger.Txn) error {
		var last uint64
		item, err := txn.Get([]byte(keyOrgSeq))
		switch {
		case err == nil:
			err = item.Value(func(v []byte) error {
				var n int
				if last, n = binary.Uvarint(v); n <= 0 {
					return errors.New("corrupt org sequence")
				}
				return nil
			})
			if err != nil {
				return err
			}
		case !errors.Is(err, badger.ErrKeyNotFound):
			return err
		}
		oid = binary.AppendUvarint(nil, last+1)
		if err := txn.Set([]byte(keyOrgSeq), oid); err != nil {
			return err
		}
		return txn.Set(regKey, oid)
	})
	return oid, mapErr(err)
}

// Orgs lists the organizations that have anything stored, such as events imported before any
// connector existed.
func (s *Store) Orgs() ([]string, error) {
	var out []string
	err := s.db.View(func(txn *badger.Txn) error {
		return iterPrefix(txn, []byte(pfxOrg), func(k, _ []byte) error {
			rest := k[len(pfxOrg):]
			n, w := binary.Uvarint(rest)
			if w > 0 && n == uint64(len(rest)-w) {
				out = append(out, string(rest[w:]))
			}
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("list orgs: %w", err)
	}
	return out, nil
}
