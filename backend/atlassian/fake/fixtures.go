package fake

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"

	"warden/backend/atlassian"
)

// LoadFixtures builds Options from the shared fixture directory (org.json, event-actions.json,
// the three events-stream pages, events-search-page.json, users-v2-search.json, domains.json,
// policies.json). The 41 stream records, duplicate included, become RawEvents in page order,
// and the pages become StreamPages and SearchPages, so a client asking with limit=15 gets the
// fixture pages byte for byte and their cursor chain. Re-using page 3's cursor (page 2's
// meta.next) answers page 3 again, plus any event added since; other limits are cut by the
// fake itself. The fixture pages' links point at api.atlassian.com and are served unchanged.
//
// The key is "fixture-key", and the scoped key "fixture-scoped-key".
func LoadFixtures(dir string) (Options, error) {
	o := Options{APIKey: "fixture-key", ScopedKey: "fixture-scoped-key"}

	var org struct {
		Data struct {
			ID         string `json:"id"`
			Attributes struct {
				Name string `json:"name"`
			} `json:"attributes"`
		} `json:"data"`
	}
	if err := readJSON(dir, "org.json", &org); err != nil {
		return Options{}, err
	}
	o.OrgID, o.OrgName = org.Data.ID, org.Data.Attributes.Name

	var actions struct {
		Data []atlassian.EventAction `json:"data"`
	}
	if err := readJSON(dir, "event-actions.json", &actions); err != nil {
		return Options{}, err
	}
	o.Actions = actions.Data

	for i := 1; i <= 3; i++ {
		body, err := os.ReadFile(filepath.Join(dir, fmt.Sprintf("events-stream-page-%d.json", i)))
		if err != nil {
			return Options{}, fmt.Errorf("read stream page %d: %w", i, err)
		}
		var page struct {
			Data []json.RawMessage `json:"data"`
		}
		if err := json.Unmarshal(body, &page); err != nil {
			return Options{}, fmt.Errorf("decode stream page %d: %w", i, err)
		}
		for _, raw := range page.Data {
			o.RawEvents = append(o.RawEvents, []byte(raw))
		}
		o.StreamPages = append(o.StreamPages, body)
	}
	search, err := os.ReadFile(filepath.Join(dir, "events-search-page.json"))
	if err != nil {
		return Options{}, fmt.Errorf("read search page: %w", err)
	}
	o.SearchPages = [][]byte{search}

	var users struct {
		Data []atlassian.User `json:"data"`
	}
	if err := readJSON(dir, "users-v2-search.json", &users); err != nil {
		return Options{}, err
	}
	o.Users = users.Data

	var domains struct {
		Data []atlassian.Domain `json:"data"`
	}
	if err := readJSON(dir, "domains.json", &domains); err != nil {
		return Options{}, err
	}
	o.Domains = domains.Data

	var policies struct {
		Data []atlassian.Policy `json:"data"`
	}
	if err := readJSON(dir, "policies.json", &policies); err != nil {
		return Options{}, err
	}
	o.Policies = policies.Data
	return o, nil
}

func readJSON(dir, name string, v any) error {
	b, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		return fmt.Errorf("read fixture %s: %w", name, err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("decode fixture %s: %w", name, err)
	}
	return nil
}

// errorHeaders are the headers the fixture README lists per error file, besides Content-Type.
var errorHeaders = map[string]map[string]string{
	"429-proxy-error": {
		"Date":                  "Wed, 18 Nov 2026 10:15:18 GMT",
		"X-RateLimit-Limit":     "10",
		"X-RateLimit-Remaining": "0",
		"X-RateLimit-Reset":     "2026-11-18T10:16Z",
		"Retry-After":           "42",
	},
}

// ErrorFixture reads errors/<name>.json and returns it with the status (the name's prefix) and
// the headers the fixture README prescribes, ready to Inject as a Fault or to serve directly.
func ErrorFixture(dir, name string) (int, http.Header, []byte, error) {
	body, err := os.ReadFile(filepath.Join(dir, "errors", name+".json"))
	if err != nil {
		return 0, nil, nil, fmt.Errorf("read error fixture: %w", err)
	}
	var status int
	if _, err := fmt.Sscanf(name, "%d-", &status); err != nil || status < 100 {
		return 0, nil, nil, fmt.Errorf("error fixture %q has no status prefix", name)
	}
	h := http.Header{"Content-Type": {"application/json"}}
	for k, v := range errorHeaders[name] {
		h.Set(k, v)
	}
	return status, h, body, nil
}
