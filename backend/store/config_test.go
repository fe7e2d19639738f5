package store

import (
	"encoding/json"
	"slices"
	"testing"
)

func TestJSONConfig(t *testing.T) {
	s := openTest(t)
	type connector struct {
		Name string `json:"name"`
		Org  string `json:"org"`
	}
	records := map[string]connector{
		"connector/a": {"A", "org-a"},
		"connector/b": {"B", "org-b"},
		"settings":    {"S", ""},
	}
	for k, v := range records {
		if err := s.PutJSON(k, v); err != nil {
			t.Fatal(err)
		}
	}

	var got connector
	if ok, err := s.GetJSON("connector/a", &got); !ok || err != nil || got != records["connector/a"] {
		t.Errorf("get: %+v %v %v", got, ok, err)
	}
	if ok, err := s.GetJSON("missing", &got); ok || err != nil {
		t.Errorf("missing: %v %v", ok, err)
	}

	var keys []string
	err := s.ListJSON("connector/", func(key string, raw []byte) error {
		var c connector
		if err := json.Unmarshal(raw, &c); err != nil || c != records[key] {
			t.Errorf("list %s: %+v %v", key, c, err)
		}
		keys = append(keys, key)
		return nil
	})
	if err != nil || !slices.Equal(keys, []string{"connector/a", "connector/b"}) {
		t.Errorf("list: %v %v", keys, err)
	}

	if err := s.DeleteJSON("connector/a"); err != nil {
		t.Fatal(err)
	}
	if ok, _ := s.GetJSON("connector/a", &got); ok {
		t.Errorf("deleted record still there")
	}
	if err := s.DeleteJSON("never-existed"); err != nil {
		t.Errorf("delete missing: %v", err)
	}

	// Config keys cannot reach into other namespaces.
	if _, err := s.CommitPage(testOrg, nil, Cursor{Cursor: "c"}); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := s.ListJSON("", func(string, []byte) error { n++; return nil }); err != nil || n != 2 {
		t.Errorf("list all config: %d records, %v", n, err)
	}
}
