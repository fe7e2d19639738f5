package app

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"os"
	"strings"
	"time"

	"warden/backend/geo"
)

// The admin's IP ranges and imported lists live in the store and feed the classifier that
// detection asks about every IP. Ranges are Defender-style (CIDRs with a category and free
// tags, no overlaps); lists come from a file once or from a URL refreshed on a schedule.
const (
	ipRangesKey   = "ip/ranges"
	ipListsPrefix = "ip/lists/"
	// listFetchLimit bounds a downloaded list; the Tor exit list is well under 1 MiB.
	listFetchLimit = 16 << 20
)

// RangeInput is one admin IP range as the window or CLI enters it.
type RangeInput struct {
	Name     string   `json:"name"`
	CIDRs    []string `json:"cidrs"`
	Category string   `json:"category"` // corporate, vpn, cloud, administrative, risky
	Tags     []string `json:"tags,omitempty"`
}

// IPList is one imported list of risky (or other) addresses.
type IPList struct {
	Name      string    `json:"name"`
	Category  string    `json:"category"`
	Tag       string    `json:"tag,omitempty"`
	URL       string    `json:"url,omitempty"`      // refreshed on the schedule when set
	File      string    `json:"file,omitempty"`     // where it was imported from
	Prefixes  []string  `json:"prefixes,omitempty"` // left out of listings, which can be long
	Entries   int       `json:"entries"`
	UpdatedAt time.Time `json:"updated_at"`
	LastError string    `json:"last_error,omitempty"`
}

// loadIPData hands the stored ranges and lists to the classifier.
func (c *Core) loadIPData() error {
	var in []RangeInput
	if _, err := c.store.GetJSON(ipRangesKey, &in); err != nil {
		return err
	}
	ranges, err := buildRanges(in)
	if err != nil {
		return err
	}
	c.lists.SetRanges(ranges)
	return c.store.ListJSON(ipListsPrefix, func(_ string, raw []byte) error {
		var l IPList
		if err := json.Unmarshal(raw, &l); err != nil {
			return err
		}
		c.ipLists.Add(l.Name, geo.Category(l.Category), l.Tag, parsePrefixes(l.Prefixes))
		return nil
	})
}

func buildRanges(in []RangeInput) (*geo.Ranges, error) {
	var rs []geo.Range
	for i, r := range in {
		cat := geo.Category(strings.ToLower(strings.TrimSpace(r.Category)))
		if !cat.Valid() {
			return nil, invalid("range %q: category must be corporate, vpn, cloud, "+
				"administrative or risky", r.Name)
		}
		gr := geo.Range{ID: fmt.Sprint(i + 1), Name: r.Name, Category: cat, Tags: r.Tags}
		for _, s := range r.CIDRs {
			p, err := geo.ParsePrefix(s)
			if err != nil {
				return nil, invalid("range %q: %q is not an IP address or CIDR", r.Name, s)
			}
			gr.CIDRs = append(gr.CIDRs, p)
		}
		rs = append(rs, gr)
	}
	ranges, err := geo.NewRanges(rs)
	if err != nil {
		return nil, invalid("%v", err)
	}
	return ranges, nil
}

func parsePrefixes(in []string) []netip.Prefix {
	out := make([]netip.Prefix, 0, len(in))
	for _, s := range in {
		if p, err := geo.ParsePrefix(s); err == nil {
			out = append(out, p)
		}
	}
	return out
}

// IPRanges returns the admin's IP ranges.
func (c *Core) IPRanges() ([]RangeInput, error) {
	var in []RangeInput
	_, err := c.store.GetJSON(ipRangesKey, &in)
	return in, err
}

// SaveIPRanges replaces the admin's IP ranges after checking them, overlaps included.
func (c *Core) SaveIPRanges(in []RangeInput) error {
	ranges, err := buildRanges(in)
	if err != nil {
		return err
	}
	if err := c.store.PutJSON(ipRangesKey, in); err != nil {
		return err
	}
	c.lists.SetRanges(ranges)
	return nil
}

// ImportIPList stores a list read from a file or fetched from a URL and starts using it.
func (c *Core) ImportIPList(ctx context.Context, l IPList) (IPList, error) {
	l.Name = strings.TrimSpace(l.Name)
	if l.Name == "" {
		return l, invalid("a list needs a name")
	}
	if l.Category == "" {
		// Importing a list again keeps its category unless a new one is given.
		var old IPList
		if ok, _ := c.store.GetJSON(ipListsPrefix+l.Name, &old); ok {
			l.Category = old.Category
		} else {
			l.Category = string(geo.CategoryRisky)
		}
	}
	if !geo.Category(l.Category).Valid() {
		return l, invalid("category must be corporate, vpn, cloud, administrative or risky")
	}

	var r io.ReadCloser
	var err error
	switch {
	case l.File != "":
		r, err = os.Open(l.File)
	case l.URL != "":
		r, err = c.fetchList(ctx, l.URL)
	default:
		return l, invalid("a list needs a file or a URL")
	}
	if err != nil {
		return l, fmt.Errorf("read list %s: %w", l.Name, err)
	}
	defer r.Close()
	prefixes, err := geo.ParseList(io.LimitReader(r, listFetchLimit))
	if err != nil {
		return l, invalid("list %s: %v", l.Name, err)
	}
	if len(prefixes) == 0 {
		return l, invalid("list %s has no IP addresses or networks", l.Name)
	}

	l.Prefixes = l.Prefixes[:0]
	for _, p := range prefixes {
		l.Prefixes = append(l.Prefixes, p.String())
	}
	l.Entries = len(l.Prefixes)
	l.UpdatedAt, l.LastError = c.o.Now().UTC(), ""
	if err := c.store.PutJSON(ipListsPrefix+l.Name, l); err != nil {
		return l, err
	}
	c.ipLists.Add(l.Name, geo.Category(l.Category), l.Tag, prefixes)
	return l, nil
}

func (c *Core) fetchList(ctx context.Context, url string) (io.ReadCloser, error) {
	if !strings.HasPrefix(url, "https://") && !strings.HasPrefix(url, "http://") {
		return nil, invalid("the list URL must be http(s)")
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		cancel()
		return nil, err
	}
	resp, err := c.http.Do(req)
	if err != nil {
		cancel()
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		resp.Body.Close()
		cancel()
		return nil, fmt.Errorf("%s answered %s", url, resp.Status)
	}
	return cancelOnClose{resp.Body, cancel}, nil
}

type cancelOnClose struct {
	io.ReadCloser
	cancel context.CancelFunc
}

func (c cancelOnClose) Close() error { c.cancel(); return c.ReadCloser.Close() }

// IPLists returns the imported lists (without their prefixes, which can be long).
func (c *Core) IPLists() ([]IPList, error) {
	var out []IPList
	err := c.store.ListJSON(ipListsPrefix, func(_ string, raw []byte) error {
		var l IPList
		if err := json.Unmarshal(raw, &l); err != nil {
			return err
		}
		l.Entries, l.Prefixes = len(l.Prefixes), nil
		out = append(out, l)
		return nil
	})
	return out, err
}

// refreshLists fetches every URL list again; a failure keeps the last good copy.
func (c *Core) refreshLists(ctx context.Context) {
	lists, err := c.IPLists()
	if err != nil {
		return
	}
	for _, l := range lists {
		if l.URL == "" {
			continue
		}
		l.File = ""
		if _, err := c.ImportIPList(ctx, l); err != nil {
			c.log.Warn("IP list refresh failed", "list", l.Name, "err", err)
			var old IPList
			if ok, _ := c.store.GetJSON(ipListsPrefix+l.Name, &old); ok {
				old.LastError = userMessage(err)
				_ = c.store.PutJSON(ipListsPrefix+l.Name, old)
			}
		}
	}
}

// DeleteIPList stops using an imported list and forgets it.
func (c *Core) DeleteIPList(name string) error {
	if err := c.store.DeleteJSON(ipListsPrefix + name); err != nil {
		return err
	}
	c.ipLists.Remove(name)
	return nil
}
