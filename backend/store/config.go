package store

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/dgraph-io/badger/v4"
)

// PutJSON stores v as JSON under cfg/key, for connectors, settings and other small records.
func (s *Store) PutJSON(key string, v any) error {
	if key == "" {
		return errors.New("put config: empty key")
	}
	if err := s.putJSON(configKey(key), v); err != nil {
		return fmt.Errorf("put config %s: %w", key, err)
	}
	return nil
}

// GetJSON decodes the record under cfg/key into v; ok is false when there is none.
func (s *Store) GetJSON(key string, v any) (bool, error) {
	ok, err := s.getJSON(configKey(key), v)
	if err != nil {
		return false, fmt.Errorf("get config %s: %w", key, err)
	}
	return ok, nil
}

// ListJSON calls fn for every record whose key starts with prefix, in key order. key is
// without the cfg/ namespace, and raw is a copy that fn may keep.
func (s *Store) ListJSON(prefix string, fn func(key string, raw []byte) error) error {
	p := configKey(prefix)
	err := s.db.View(func(txn *badger.Txn) error {
		return iterPrefix(txn, p, func(k, v []byte) error {
			return fn(string(k[len(pfxConfig):]), append([]byte(nil), v...))
		})
	})
	if err != nil {
		return fmt.Errorf("list config %s: %w", prefix, err)
	}
	return nil
}

// DeleteJSON removes the record under cfg/key; a missing record is not an error.
func (s *Store) DeleteJSON(key string) error {
	err := s.db.Update(func(txn *badger.Txn) error { return txn.Delete(configKey(key)) })
	if err != nil {
		return fmt.Errorf("delete config %s: %w", key, mapErr(err))
	}
	return nil
}

func (s *Store) putJSON(key []byte, v any) error {
	val, err := json.Marshal(v)
	if err != nil {
		return err
	}
	if err := s.checkSpace(); err != nil {
		return err
	}
	return mapErr(s.db.Update(func(txn *badger.Txn) error { return txn.Set(key, val) }))
}

func (s *Store) getJSON(key []byte, v any) (bool, error) {
	val, err := s.get(key)
	if err != nil || val == nil {
		return false, err
	}
	return true, json.Unmarshal(val, v)
}
