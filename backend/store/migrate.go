package store

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/dgraph-io/badger/v4"
)

// migration moves the database from version N to N+1 (N is its index in the list). It runs in
// the transaction that also records the new version, so a crash mid-migration repeats it.
//
// TODO(#2): a migration that rewrites every event will not fit in one transaction; give such
// a migration its own batching and a resumable marker when the first one is needed.
type migration func(txn *badger.Txn) error

// migrations is the schema history. Append only; never edit a released entry.
var migrations = []migration{
	// 0 -> 1: the initial layout described in doc.go; nothing to convert.
	func(*badger.Txn) error { return nil },
}

// SchemaVersion returns the schema version recorded in the database.
func (s *Store) SchemaVersion() (int, error) {
	var v int
	err := s.db.View(func(txn *badger.Txn) error {
		var err error
		v, err = readSchema(txn)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("schema version: %w", err)
	}
	return v, nil
}

// migrate brings the database to len(migs), refusing a version it does not know.
func (s *Store) migrate(migs []migration) error {
	for {
		var done bool
		err := s.db.Update(func(txn *badger.Txn) error {
			v, err := readSchema(txn)
			if err != nil {
				return err
			}
			if v > len(migs) {
				return fmt.Errorf("%w: database has version %d, this build knows up to %d",
					ErrNewerSchema, v, len(migs))
			}
			if v == len(migs) {
				done = true
				return nil
			}
			if err := migs[v](txn); err != nil {
				return fmt.Errorf("migrate schema %d to %d: %w", v, v+1, err)
			}
			s.log.Info("Store schema migrated", "from", v, "to", v+1)
			return writeSchema(txn, v+1)
		})
		if err != nil {
			return fmt.Errorf("open store: %w", err)
		}
		if done {
			return nil
		}
	}
}

func readSchema(txn *badger.Txn) (int, error) {
	item, err := txn.Get([]byte(pfxSchema))
	if errors.Is(err, badger.ErrKeyNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	var v uint64
	err = item.Value(func(val []byte) error {
		var n int
		v, n = binary.Uvarint(val)
		if n <= 0 || n != len(val) || v > 1<<20 {
			return errors.New("corrupt schema version")
		}
		return nil
	})
	return int(v), err
}

func writeSchema(txn *badger.Txn, v int) error {
	return txn.Set([]byte(pfxSchema), binary.AppendUvarint(nil, uint64(v)))
}
