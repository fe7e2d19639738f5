package store

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/dgraph-io/badger/v4"

	"warden/backend/audit"
)

// PutUsers replaces the org's user set: users missing from users are removed. The replacement
// is one transaction for directories of several thousand users; a larger one is written in
// consecutive transactions, so a reader may briefly see a mix of old and new entries.
func (s *Store) PutUsers(org string, users []audit.User) error {
	s.wmu.Lock()
	defer s.wmu.Unlock()

	oid, _, err := s.orgID(org, true)
	if err != nil {
		return fmt.Errorf("put users: %w", err)
	}
	usrP, uemP := orgKey(pfxUser, oid), orgKey(pfxUserEm, oid)

	// Start from deletes of every current key, then let the new set override them.
	ops := make(map[string][]byte)
	err = s.db.View(func(txn *badger.Txn) error {
		for _, p := range [][]byte{usrP, uemP} {
			err := iterPrefix(txn, p, func(k, _ []byte) error {
				ops[string(k)] = nil
				return nil
			})
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("put users: %w", err)
	}
	for i := range users {
		u := &users[i]
		if u.AccountID == "" {
			continue
		}
		val, err := json.Marshal(u)
		if err != nil {
			return fmt.Errorf("put users: %w", err)
		}
		ops[string(append(append([]byte(nil), usrP...), u.AccountID...))] = val
		if u.Email != "" {
			ops[string(appendComp(append([]byte(nil), uemP...), lower(u.Email)))] =
				[]byte(u.AccountID)
		}
	}
	if err := s.writeOps(ops); err != nil {
		return fmt.Errorf("put users: %w", err)
	}
	return nil
}

// writeOps applies sets (non-nil value) and deletes (nil value), starting a new transaction
// whenever the current one is full.
func (s *Store) writeOps(ops map[string][]byte) error {
	if err := s.checkSpace(); err != nil {
		return err
	}
	txn := s.db.NewTransaction(true)
	defer func() { txn.Discard() }()
	for k, v := range ops {
		err := applyOp(txn, []byte(k), v)
		if errors.Is(err, badger.ErrTxnTooBig) {
			if err = txn.Commit(); err != nil {
				return mapErr(err)
			}
			txn = s.db.NewTransaction(true)
			err = applyOp(txn, []byte(k), v)
		}
		if err != nil {
			return mapErr(err)
		}
	}
	return mapErr(txn.Commit())
}

func applyOp(txn *badger.Txn, k, v []byte) error {
	if v == nil {
		return txn.Delete(k)
	}
	return txn.Set(k, v)
}

// CountUsers counts the org's directory users from their keys alone, so a status poll does not
// decode the whole directory every second.
func (s *Store) CountUsers(org string) (int, error) {
	oid, ok, err := s.orgID(org, false)
	if err != nil || !ok {
		return 0, err
	}
	n := 0
	err = s.db.View(func(txn *badger.Txn) error {
		prefix := orgKey(pfxUser, oid)
		it := txn.NewIterator(badger.IteratorOptions{PrefetchValues: false, Prefix: prefix})
		defer it.Close()
		for it.Seek(prefix); it.Valid(); it.Next() {
			n++
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("count users: %w", err)
	}
	return n, nil
}

// Users returns the org's directory, ordered by account id.
func (s *Store) Users(org string) ([]audit.User, error) {
	var users []audit.User
	oid, ok, err := s.orgID(org, false)
	if err != nil || !ok {
		return nil, err
	}
	err = s.db.View(func(txn *badger.Txn) error {
		return iterPrefix(txn, orgKey(pfxUser, oid), func(_, v []byte) error {
			var u audit.User
			if err := json.Unmarshal(v, &u); err != nil {
				return err
			}
			users = append(users, u)
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("read users: %w", err)
	}
	return users, nil
}

// User finds one user by account id or by email (case-insensitive), or returns ErrNotFound.
func (s *Store) User(org, idOrEmail string) (audit.User, error) {
	var u audit.User
	oid, ok, err := s.orgID(org, false)
	if err == nil && ok {
		ok, err = s.getJSON(append(orgKey(pfxUser, oid), idOrEmail...), &u)
	}
	if err == nil && !ok && oid != nil {
		var id []byte
		id, err = s.get(appendComp(orgKey(pfxUserEm, oid), lower(idOrEmail)))
		if err == nil && id != nil {
			ok, err = s.getJSON(append(orgKey(pfxUser, oid), id...), &u)
		}
	}
	if err != nil {
		return audit.User{}, fmt.Errorf("read user: %w", err)
	}
	if !ok {
		return audit.User{}, fmt.Errorf("user %s: %w", idOrEmail, ErrNotFound)
	}
	return u, nil
}

// get returns a copy of the value under key, or nil when there is none.
func (s *Store) get(key []byte) ([]byte, error) {
	var val []byte
	err := s.db.View(func(txn *badger.Txn) error {
		item, err := txn.Get(key)
		if err != nil {
			return err
		}
		val, err = item.ValueCopy(nil)
		return err
	})
	if errors.Is(err, badger.ErrKeyNotFound) {
		return nil, nil
	}
	return val, err
}

// PutDomains replaces the org's claimed domains.
func (s *Store) PutDomains(org string, d []audit.Domain) error {
	if err := s.putOrgJSON(pfxDomain, org, d); err != nil {
		return fmt.Errorf("put domains: %w", err)
	}
	return nil
}

// Domains returns the org's claimed domains (nil when never stored).
func (s *Store) Domains(org string) ([]audit.Domain, error) {
	var d []audit.Domain
	if err := s.getOrgJSON(pfxDomain, org, &d); err != nil {
		return nil, fmt.Errorf("read domains: %w", err)
	}
	return d, nil
}

// PutActions replaces the org's action catalogue.
func (s *Store) PutActions(org string, a []audit.ActionInfo) error {
	if err := s.putOrgJSON(pfxAction, org, a); err != nil {
		return fmt.Errorf("put actions: %w", err)
	}
	return nil
}

// Actions returns the org's action catalogue (nil when never stored).
func (s *Store) Actions(org string) ([]audit.ActionInfo, error) {
	var a []audit.ActionInfo
	if err := s.getOrgJSON(pfxAction, org, &a); err != nil {
		return nil, fmt.Errorf("read actions: %w", err)
	}
	return a, nil
}

// putOrgJSON stores v as the org's single record of kind.
func (s *Store) putOrgJSON(kind, org string, v any) error {
	oid, _, err := s.orgID(org, true)
	if err != nil {
		return err
	}
	return s.putJSON(orgKey(kind, oid), v)
}

// getOrgJSON decodes the org's record of kind into v, leaving v alone when there is none.
func (s *Store) getOrgJSON(kind, org string, v any) error {
	oid, ok, err := s.orgID(org, false)
	if err != nil || !ok {
		return err
	}
	_, err = s.getJSON(orgKey(kind, oid), v)
	return err
}
