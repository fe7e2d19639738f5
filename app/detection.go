package app

import (
	"fmt"
	"time"

	"warden/backend/audit"
	"warden/backend/detect"
	"warden/backend/geo"
)

// settleLag is how far behind the newest processed event detection decisions that wait for
// more evidence (an organization-wide country change, say) are settled after a sync.
const settleLag = 15 * time.Minute

// openDetection opens the offline IP data and the detection engine. Missing IP databases are
// not fatal: geo degrades to place names from the events themselves and logs why.
func (c *Core) openDetection() error {
	var files GeoFiles
	if _, err := c.store.GetJSON(geoFilesKey, &files); err != nil {
		return err
	}
	db, err := geo.Open(geo.Options{Logger: c.log, CityMMDB: files.CityMMDB,
		CityMMDBv6: files.CityMMDBv6})
	if err != nil {
		// A database the admin chose that has since moved must not keep Warden from starting.
		c.log.Error("city database unusable, using the built-in data", "err", err)
		if db, err = geo.Open(geo.Options{Logger: c.log}); err != nil {
			return fmt.Errorf("open IP databases: %w", err)
		}
	}
	c.geo = db
	c.ipLists = geo.NewListSet()
	c.lists = detect.NewClassifier(nil, c.ipLists)
	if err := c.loadIPData(); err != nil {
		return fmt.Errorf("load IP ranges and lists: %w", err)
	}
	eng, err := detect.New(detect.Options{
		Store: c.store, Geo: detect.NewGeo(db), Classifier: c.lists,
		Logger: c.log.With("component", "detect"), Now: c.o.Now, OnAlert: c.onAlert,
	})
	if err != nil {
		return fmt.Errorf("start detection: %w", err)
	}
	c.detect = eng
	return nil
}

// geoFilesKey stores the admin's own IP databases.
const geoFilesKey = "settings/geo-files"

// GeoFiles are the admin's own city databases (GeoLite2-City or DB-IP City), which give
// coordinates and accuracy radii per IP instead of per city name.
type GeoFiles struct {
	CityMMDB   string `json:"city_mmdb,omitempty"`
	CityMMDBv6 string `json:"city_mmdb_v6,omitempty"`
}

// SetGeoFiles checks that the databases open and uses them from now on.
func (c *Core) SetGeoFiles(f GeoFiles) error {
	db, err := geo.Open(geo.Options{Logger: c.log, CityMMDB: f.CityMMDB,
		CityMMDBv6: f.CityMMDBv6})
	if err != nil {
		return invalid("cannot use that database: %v", err)
	}
	db.Close()
	if err := c.store.PutJSON(geoFilesKey, f); err != nil {
		return err
	}
	// Detection keeps its open databases until restart; lookups stay consistent meanwhile.
	return nil
}

// detectPage runs detection over the events a sync page newly stored, in the syncer's
// goroutine, so backfilled and live events go through the same engine in the same order.
func (c *Core) detectPage(org string, added []audit.Event) {
	if err := c.detect.Process(org, added); err != nil {
		c.log.Error("detection failed on a page", "org", org, "err", err)
	}
}

// settleDetection writes detection state and settles pending decisions after a sync.
func (c *Core) settleDetection(org string) {
	if err := c.detect.DirectoryChanged(org); err != nil {
		c.log.Warn("detection directory refresh failed", "org", org, "err", err)
	}
	if err := c.detect.Flush(org); err != nil {
		c.log.Error("detection state flush failed", "org", org, "err", err)
	}
	cur, ok, err := c.store.Cursor(org)
	if err != nil || !ok || cur.Watermark.IsZero() {
		return
	}
	if err := c.detect.Settle(org, cur.Watermark.Add(-settleLag)); err != nil {
		c.log.Error("detection settle failed", "org", org, "err", err)
	}
}
