package app

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"time"

	"warden/backend/atlassian"
	"warden/backend/keys"
	"warden/backend/store"
)

// DefaultAPIBase is Atlassian's API host.
const DefaultAPIBase = "https://api.atlassian.com"

// Connector is one connected Atlassian organization. Its API key is not here: it lives only
// in the OS keychain under keyAccount(ID).
type Connector struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	OrgID     string    `json:"org_id"`
	OrgName   string    `json:"org_name"`
	APIBase   string    `json:"api_base"`
	Expires   time.Time `json:"expires"`
	Demo      bool      `json:"demo,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	// LastSync is the last successful sync; LastAttempt the last try, failed or not.
	LastSync    time.Time `json:"last_sync,omitzero"`
	LastAttempt time.Time `json:"last_attempt,omitzero"`
	LastError   string    `json:"last_error,omitempty"`
}

const connectorPrefix = "connectors/"

// errInvalidInput marks a form value that cannot be used; its text is shown as is.
var errInvalidInput = errors.New("invalid input")

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{errInvalidInput}, args...)...)
}

// Connectors lists the configured connectors, demo first, then by name.
func (c *Core) Connectors() ([]Connector, error) {
	var out []Connector
	err := c.store.ListJSON(connectorPrefix, func(_ string, raw []byte) error {
		var conn Connector
		if err := json.Unmarshal(raw, &conn); err != nil {
			return fmt.Errorf("decode connector: %w", err)
		}
		out = append(out, conn)
		return nil
	})
	sort.Slice(out, func(i, j int) bool {
		if out[i].Demo != out[j].Demo {
			return out[i].Demo
		}
		return strings.ToLower(out[i].Name) < strings.ToLower(out[j].Name)
	})
	return out, err
}

// Connector returns one connector by id, org id or name.
func (c *Core) Connector(ref string) (Connector, error) {
	var conn Connector
	ok, err := c.store.GetJSON(connectorPrefix+ref, &conn)
	if err != nil || ok {
		return conn, err
	}
	all, err := c.Connectors()
	if err != nil {
		return conn, err
	}
	for _, x := range all {
		if x.OrgID == ref || strings.EqualFold(x.Name, ref) {
			return x, nil
		}
	}
	return conn, fmt.Errorf("%w: no connector %q", store.ErrNotFound, ref)
}

func (c *Core) putConnector(conn Connector) error {
	return c.store.PutJSON(connectorPrefix+conn.ID, conn)
}

// orgIDPattern accepts the UUID-like organization ids Atlassian shows after /o/ in admin URLs.
var orgIDPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]{2,127}$`)

// checkRequest validates the connector form and returns the parsed expiry and API base.
func (c *Core) checkRequest(req *ConnectRequest) (time.Time, string, error) {
	req.Name = strings.TrimSpace(req.Name)
	req.OrgID = strings.TrimSpace(req.OrgID)
	req.APIKey = strings.TrimSpace(req.APIKey)
	if req.Name == "" {
		req.Name = req.OrgID
	}
	if !orgIDPattern.MatchString(req.OrgID) {
		return time.Time{}, "", invalid("the organization ID should look like the id after /o/ " +
			"in admin.atlassian.com URLs")
	}
	if req.APIKey == "" {
		return time.Time{}, "", invalid("the API key is empty")
	}
	if req.BackfillDays < 0 || req.BackfillDays > 180 {
		return time.Time{}, "", invalid("the backfill reaches 1 to 180 days back; Atlassian " +
			"keeps the audit log for 180 days")
	}
	exp, err := keys.ParseExpiry(strings.TrimSpace(req.Expires), c.o.Now())
	if err != nil {
		return time.Time{}, "", invalid("key expiry: %v", err)
	}

	base := strings.TrimRight(strings.TrimSpace(req.APIBase), "/")
	if c.o.APIBase != "" && base == "" {
		base = c.o.APIBase
	}
	if base == "" {
		base = DefaultAPIBase
	}
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return time.Time{}, "", invalid("the API base must be an http(s) URL, like %s",
			DefaultAPIBase)
	}
	return exp, base, nil
}

// TestConnection checks key and organization ID with one call, saving nothing.
func (c *Core) TestConnection(ctx context.Context, req ConnectRequest) (atlassian.Org, error) {
	_, base, err := c.checkRequest(&req)
	if err != nil {
		return atlassian.Org{}, err
	}
	cl, err := c.newClient(Connector{OrgID: req.OrgID, APIBase: base}, req.APIKey,
		interactiveRetries)
	if err != nil {
		return atlassian.Org{}, err
	}
	return cl.Org(ctx)
}

// Connect tests the connection, stores the key in the keychain and saves the connector. A
// connector for the same organization is updated in place, so reconnecting with a renewed key
// keeps the synced history.
func (c *Core) Connect(ctx context.Context, req ConnectRequest) (Connector, error) {
	exp, base, err := c.checkRequest(&req)
	if err != nil {
		return Connector{}, err
	}
	cl, err := c.newClient(Connector{OrgID: req.OrgID, APIBase: base}, req.APIKey,
		interactiveRetries)
	if err != nil {
		return Connector{}, err
	}
	org, err := cl.Org(ctx)
	if err != nil {
		return Connector{}, err
	}

	conn := Connector{ID: newID(), CreatedAt: c.o.Now().UTC()}
	if all, err := c.Connectors(); err == nil {
		for _, x := range all {
			if x.OrgID == req.OrgID && !x.Demo {
				conn = x
			}
		}
	}
	conn.Name, conn.OrgID, conn.APIBase, conn.Expires = req.Name, req.OrgID, base, exp
	conn.OrgName = org.Attributes.Name

	// The key goes to the keychain first: a connector without a retrievable key is useless,
	// and there is no plaintext fallback.
	if err := c.keys.Set(keyAccount(conn.ID), req.APIKey); err != nil {
		return Connector{}, fmt.Errorf("save API key: %w", err)
	}
	if err := c.putConnector(conn); err != nil {
		return Connector{}, err
	}

	// A first connection fixes where the backfill starts; reconnecting keeps the history.
	if _, ok, err := c.store.Cursor(conn.OrgID); err == nil && !ok {
		days := req.BackfillDays
		if days == 0 {
			days = 180
		}
		from := c.o.Now().UTC().Add(-time.Duration(days) * 24 * time.Hour)
		if err := c.store.SetCursor(conn.OrgID, store.Cursor{From: from}); err != nil {
			return conn, err
		}
	}
	return conn, nil
}

// DeleteConnector removes a connector, its key and its organization's stored data.
func (c *Core) DeleteConnector(id string) error {
	conn, err := c.Connector(id)
	if err != nil {
		return err
	}
	if !conn.Demo {
		if err := c.keys.Delete(keyAccount(conn.ID)); err != nil &&
			!errors.Is(err, keys.ErrNotFound) {
			return fmt.Errorf("delete API key: %w", err)
		}
	}
	if err := c.store.DeleteOrg(conn.OrgID); err != nil {
		return err
	}
	return c.store.DeleteJSON(connectorPrefix + conn.ID)
}

func newID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
