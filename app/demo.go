package app

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"warden/backend/atlassian/fake"
	"warden/backend/geo"
)

// The demo organization is served by the faithful fake API on a loopback port that this
// process opens, so the demo exercises the same client, sync and store as a real connector.
const (
	demoConnectorID = "demo"
	demoSeed        = 20261204
	// demoKey is the fake's own key. It is not a secret and never reaches the keychain.
	demoKey = "demo-key-not-secret"
)

type demoOrg struct {
	url  string
	srv  *http.Server
	fake *fake.Server
}

// demoStateKey keeps the demo directory's governance state (who is suspended, which tokens
// are revoked) across restarts.
const demoStateKey = "demo/state"

// saveDemoState records the demo directory after a governance action.
func (c *Core) saveDemoState() {
	c.mu.Lock()
	d := c.demo
	c.mu.Unlock()
	if d == nil {
		return
	}
	if err := c.store.PutJSON(demoStateKey, d.fake.State()); err != nil {
		c.log.Warn("save demo state failed", "err", err)
	}
}

func (d *demoOrg) close() {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_ = d.srv.Shutdown(ctx)
}

// EnsureDemo creates the demo connector on first use and starts its fake API. The demo data
// is anchored to the connector's creation time, so every start serves the same history and
// the store never fills with look-alike duplicates.
func (c *Core) EnsureDemo() (Connector, error) {
	conn, err := c.Connector(demoConnectorID)
	if err != nil {
		now := c.o.Now().UTC()
		opts := fake.Demo(demoSeed, now)
		conn = Connector{
			ID: demoConnectorID, Name: "Demo organization", OrgID: opts.OrgID,
			OrgName: opts.OrgName, APIBase: "demo", Demo: true, CreatedAt: now,
			Expires: now.AddDate(0, 0, 300),
		}
		if err := c.putConnector(conn); err != nil {
			return conn, err
		}
	}
	// The demo's planted anonymous IP is only ever listed for the demo: the same address is an
	// ordinary server in the shared fixtures.
	geo.AddDemoLists(c.ipLists)
	return conn, c.ensureDemoServer()
}

func (c *Core) ensureDemoServer() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.demo != nil {
		return nil
	}

	var conn Connector
	ok, err := c.store.GetJSON(connectorPrefix+demoConnectorID, &conn)
	if err != nil {
		return err
	}
	if !ok {
		return errors.New("the demo organization is not set up")
	}
	opts := fake.Demo(demoSeed, conn.CreatedAt)
	opts.PerMinute = 1000
	var saved fake.State
	if ok, err := c.store.GetJSON(demoStateKey, &saved); err == nil && ok {
		opts = opts.WithState(saved)
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("start demo API: %w", err)
	}
	f := fake.New(opts)
	srv := &http.Server{Handler: f, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	c.demo = &demoOrg{url: "http://" + ln.Addr().String(), srv: srv, fake: f}
	return nil
}
