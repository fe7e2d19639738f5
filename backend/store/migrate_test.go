package store

import (
	"errors"
	"testing"

	"github.com/dgraph-io/badger/v4"
)

func TestFreshStoreHasCurrentSchema(t *testing.T) {
	s := openTest(t)
	v, err := s.SchemaVersion()
	if err != nil || v != len(migrations) {
		t.Errorf("schema %d %v, want %d", v, err, len(migrations))
	}
}

func TestMigrateOlderVersion(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.PutJSON("keep", "me"); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	// A later build adds a migration; opening the old database runs it exactly once.
	runs := 0
	next := append(append([]migration(nil), migrations...), func(txn *badger.Txn) error {
		runs++
		return txn.Set(configKey("migrated"), []byte(`true`))
	})
	for range 2 {
		s, err = open(Options{Dir: dir}, next)
		if err != nil {
			t.Fatal(err)
		}
		v, err := s.SchemaVersion()
		if err != nil || v != len(next) {
			t.Errorf("schema %d %v, want %d", v, err, len(next))
		}
		var migrated bool
		var keep string
		if ok, _ := s.GetJSON("migrated", &migrated); !ok || !migrated {
			t.Errorf("migration did not write its record")
		}
		if ok, _ := s.GetJSON("keep", &keep); !ok || keep != "me" {
			t.Errorf("data lost in migration")
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
	if runs != 1 {
		t.Errorf("migration ran %d times, want 1", runs)
	}
}

func TestFailedMigrationKeepsVersion(t *testing.T) {
	dir := t.TempDir()
	boom := errors.New("boom")
	failing := append(append([]migration(nil), migrations...), func(txn *badger.Txn) error {
		if err := txn.Set(configKey("half"), []byte(`1`)); err != nil {
			return err
		}
		return boom
	})
	if _, err := open(Options{Dir: dir}, failing); !errors.Is(err, boom) {
		t.Fatalf("open: %v, want boom", err)
	}

	s, err := Open(Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if v, _ := s.SchemaVersion(); v != len(migrations) {
		t.Errorf("schema %d after failed migration", v)
	}
	if ok, _ := s.GetJSON("half", new(int)); ok {
		t.Errorf("failed migration left a partial write")
	}
}

func TestNewerSchemaRefusesToOpen(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	err = s.db.Update(func(txn *badger.Txn) error { return writeSchema(txn, len(migrations)+5) })
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	_, err = Open(Options{Dir: dir})
	if !errors.Is(err, ErrNewerSchema) {
		t.Fatalf("open newer schema: %v, want ErrNewerSchema", err)
	}
	t.Logf("error shown: %v", err)

	// The refused open released the directory lock.
	_, err = Open(Options{Dir: dir})
	if !errors.Is(err, ErrNewerSchema) {
		t.Errorf("second attempt: %v", err)
	}
}
