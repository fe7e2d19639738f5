package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/robfig/cron/v3"

	"warden/backend/atlassian"
	"warden/backend/detect"
	"warden/backend/geo"
	"warden/backend/govern"
	"warden/backend/keys"
	"warden/backend/store"
	"warden/backend/syncer"
)

// keychainService is the service name Warden's secrets are filed under in the OS keychain.
const keychainService = "warden"

// CoreOptions configure the composition root.
type CoreOptions struct {
	DataDir  string
	Logger   *slog.Logger
	Now      func() time.Time
	Keychain keys.Keychain // default: the OS keychain
	// APIBase, when set, overrides every connector's API base URL (WARDEN_API_BASE).
	APIBase string
	// Window is the backfill window; default 180 days.
	Window time.Duration
}

// Core is the composition root: it owns the store, the clients, the sync scheduler and the
// keychain, and hands them to the facade, the CLI and the window. Nothing else constructs
// backend objects.
type Core struct {
	o        CoreOptions
	log      *slog.Logger
	store    *store.Store
	keys     keys.Keychain
	limiters *atlassian.LimiterPool
	syncer   *syncer.Syncer
	http     *http.Client
	geo      *geo.DB
	lists    *detect.GeoClassifier
	ipLists  *geo.ListSet
	detect   *detect.Engine

	mu        sync.Mutex
	demo      *demoOrg
	cron      *cron.Cron
	governors map[string]*govern.Service // by connector id
	liveOrgs  map[string]bool            // orgs past their first backfill, see automation.go
	bg        sync.WaitGroup
}

// ErrAlreadyRunning means another Warden process owns the data directory.
var ErrAlreadyRunning = errors.New("warden is already running")

// OpenCore opens the data directory and wires the backend. It fails with ErrAlreadyRunning
// when another Warden process holds the store.
func OpenCore(o CoreOptions) (*Core, error) {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Keychain == nil {
		o.Keychain = keys.System(keychainService)
	}
	if o.DataDir == "" {
		dir, err := defaultDataDir()
		if err != nil {
			return nil, err
		}
		o.DataDir = dir
	}
	if err := os.MkdirAll(o.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("create data directory: %w", err)
	}

	st, err := store.Open(store.Options{Dir: filepath.Join(o.DataDir, "db"), Logger: o.Logger})
	if errors.Is(err, store.ErrLocked) {
		return nil, fmt.Errorf("%w: data directory %s is in use by another Warden process: %w",
			ErrAlreadyRunning, o.DataDir, err)
	}
	if err != nil {
		return nil, err
	}

	c := &Core{
		o:        o,
		log:      o.Logger,
		store:    st,
		keys:     o.Keychain,
		limiters: atlassian.NewLimiterPool(atlassian.Budget{PerMinute: 1000, EventsPerMinute: 10}),
		http:     &http.Client{Timeout: 60 * time.Second},
	}
	if err := c.openDetection(); err != nil {
		st.Close()
		return nil, err
	}
	c.syncer = syncer.New(syncer.Options{
		Store: st, Logger: o.Logger, Now: o.Now, Window: o.Window,
		OnPage: c.detectPage,
	})
	return c, nil
}

// defaultDataDir is $XDG_DATA_HOME/warden, usually ~/.local/share/warden.
func defaultDataDir() (string, error) {
	if d := os.Getenv("XDG_DATA_HOME"); d != "" {
		return filepath.Join(d, "warden"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("find home directory: %w", err)
	}
	return filepath.Join(home, ".local", "share", "warden"), nil
}

// Close stops the schedule, waits for background syncs and closes the store.
func (c *Core) Close() error {
	c.mu.Lock()
	cr, demo := c.cron, c.demo
	c.cron, c.demo = nil, nil
	c.mu.Unlock()

	if cr != nil {
		<-cr.Stop().Done()
	}
	c.bg.Wait()
	if demo != nil {
		demo.close()
	}
	if c.geo != nil {
		_ = c.geo.Close()
	}
	return c.store.Close()
}

// client builds an Atlassian client for a connector, reading its key from the keychain.
func (c *Core) client(conn Connector) (*atlassian.Client, error) {
	key, err := c.apiKey(conn)
	if err != nil {
		return nil, err
	}
	return c.clientWithKey(conn, key)
}

func (c *Core) clientWithKey(conn Connector, key string) (*atlassian.Client, error) {
	return c.newClient(conn, key, 0)
}

// interactiveRetries bounds retries when an admin is waiting on a form: a connection test
// should answer in seconds, not after a minute of backoff.
const interactiveRetries = 1

func (c *Core) newClient(conn Connector, key string, retries int) (*atlassian.Client, error) {
	return atlassian.New(atlassian.Config{
		MaxRetries: retries,
		BaseURL:    c.apiBase(conn),
		OrgID:      conn.OrgID,
		APIKey:     key,
		HTTPClient: c.http,
		Limiters:   c.limiters,
		Logger:     c.log,
		Now:        c.o.Now,
		UserAgent:  "Warden/" + Version,
	})
}

func (c *Core) apiBase(conn Connector) string {
	if conn.Demo {
		c.mu.Lock()
		defer c.mu.Unlock()
		if c.demo != nil {
			return c.demo.url
		}
	}
	if c.o.APIBase != "" {
		return c.o.APIBase
	}
	return conn.APIBase
}

func (c *Core) apiKey(conn Connector) (string, error) {
	if conn.Demo {
		return demoKey, nil
	}
	key, err := c.keys.Get(keyAccount(conn.ID))
	if err != nil {
		return "", fmt.Errorf("read API key of connector %q: %w", conn.Name, err)
	}
	return key, nil
}

// keyAccount is the keychain account name of a connector's API key.
func keyAccount(connectorID string) string { return "connector:" + connectorID }

// SyncConnector runs one sync of a connector and records its outcome on the connector.
func (c *Core) SyncConnector(ctx context.Context, id string) (syncer.Result, error) {
	conn, err := c.Connector(id)
	if err != nil {
		return syncer.Result{}, err
	}
	if conn.Demo {
		if err := c.ensureDemoServer(); err != nil {
			return syncer.Result{}, err
		}
	}
	cl, err := c.client(conn)
	if err != nil {
		c.recordSync(conn.ID, err)
		return syncer.Result{}, err
	}

	cur, ok, _ := c.store.Cursor(conn.OrgID)
	c.setLive(conn.OrgID, ok && cur.Backfilled)
	res, err := c.syncer.Run(ctx, conn.OrgID, cl)
	if errors.Is(err, syncer.ErrRunning) {
		return res, err
	}
	c.settleDetection(conn.OrgID)
	c.recordSync(conn.ID, err)
	if err == nil {
		c.log.Info("sync finished", "connector", conn.ID, "org", conn.OrgID,
			"events", res.Events, "added", res.Added, "pages", res.Pages)
	}
	return res, err
}

// SyncAll syncs every connector once, one after another, and returns the first error.
func (c *Core) SyncAll(ctx context.Context) error {
	conns, err := c.Connectors()
	if err != nil {
		return err
	}
	var errs []error
	for _, conn := range conns {
		if _, err := c.SyncConnector(ctx, conn.ID); err != nil &&
			!errors.Is(err, syncer.ErrRunning) {
			errs = append(errs, fmt.Errorf("%s: %w", conn.Name, err))
		}
	}
	return errors.Join(errs...)
}

// SyncInBackground starts a sync of one connector (or all, for "") without waiting.
func (c *Core) SyncInBackground(id string) {
	c.bg.Add(1)
	go func() {
		defer c.bg.Done()
		ctx, cancel := context.WithTimeout(context.Background(), 6*time.Hour)
		defer cancel()

		var err error
		if id == "" {
			err = c.SyncAll(ctx)
		} else {
			_, err = c.SyncConnector(ctx, id)
		}
		if err != nil && !errors.Is(err, syncer.ErrRunning) {
			c.log.Warn("background sync failed", "connector", id, "err", err)
		}
	}()
}

// StartSchedule syncs every connector on a cron schedule (default every 5 minutes) until Close.
func (c *Core) StartSchedule(spec string) error {
	if spec == "" {
		spec = "@every 5m"
	}
	cr := cron.New(cron.WithChain(cron.SkipIfStillRunning(cron.DiscardLogger)))
	if _, err := cr.AddFunc(spec, func() { c.SyncInBackground("") }); err != nil {
		return fmt.Errorf("parse sync schedule %q: %w", spec, err)
	}
	if _, err := cr.AddFunc("@every 6h", func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		c.refreshLists(ctx)
	}); err != nil {
		return err
	}

	c.mu.Lock()
	c.cron = cr
	c.mu.Unlock()
	cr.Start()
	return nil
}

func (c *Core) recordSync(id string, syncErr error) {
	conn, err := c.Connector(id)
	if err != nil {
		return
	}
	conn.LastAttempt = c.o.Now().UTC()
	conn.LastError = ""
	if syncErr != nil {
		conn.LastError = userMessage(syncErr)
	} else {
		conn.LastSync = conn.LastAttempt
	}
	if err := c.putConnector(conn); err != nil {
		c.log.Warn("record sync outcome failed", "connector", id, "err", err)
	}
}
