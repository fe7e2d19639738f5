package atlassian

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
)

// maxPages stops a list whose server keeps handing out new cursors forever.
const maxPages = 10000

// v1 and v2 return the escaped path of an org resource under each API version.
func (c *Client) v1(rest string) string { return "/admin/v1" + c.orgPath + rest }
func (c *Client) v2(rest string) string { return "/admin/v2" + c.orgPath + rest }

// Org fetches the organization. It checks the key and the org id at once, which makes it the
// connection test: ErrUnauthorized means a bad key, ErrOrgNotFound a wrong org id.
func (c *Client) Org(ctx context.Context) (Org, error) {
	r := call{method: http.MethodGet, url: c.apiURL(c.v1(""), nil)}
	return getOne[Org](ctx, c, r, c.do)
}

// getOne fetches a single resource in its {"data": ...} envelope.
func getOne[T any](ctx context.Context, c *Client, r call,
	fetch func(context.Context, call) ([]byte, error)) (T, error) {
	var env struct {
		Data T `json:"data"`
	}
	body, err := fetch(ctx, r)
	if err != nil {
		return env.Data, err
	}
	if err := json.Unmarshal(body, &env); err != nil {
		return env.Data, malformed(r.endpoint(), err)
	}
	return env.Data, nil
}

// EventActions fetches the organization's action catalogue: action keys with display names.
// The spec has it unpaginated; a next link is followed anyway.
func (c *Client) EventActions(ctx context.Context) ([]EventAction, error) {
	return getAll[EventAction](ctx, c, c.v1("/event-actions"))
}

// Domains fetches every domain the organization has claimed or tried to claim. The API has no
// filter; use Domain.Verified.
func (c *Client) Domains(ctx context.Context) ([]Domain, error) {
	return getAll[Domain](ctx, c, c.v1("/domains"))
}

// Policies fetches every organization policy (Org API v1).
func (c *Client) Policies(ctx context.Context) ([]Policy, error) {
	return getAll[Policy](ctx, c, c.v1("/policies"))
}

// listPage is the common envelope of list answers; items are decoded one by one.
type listPage struct {
	Data  []json.RawMessage `json:"data"`
	Meta  json.RawMessage   `json:"meta"`
	Links json.RawMessage   `json:"links"`
}

// decodeList decodes a list page leniently: an item of the wrong shape is kept with what could
// be read and logged (without its content), an odd meta or links object loses only itself.
func decodeList[T any](c *Client, ep string, body []byte) ([]T, string, error) {
	var env listPage
	if err := json.Unmarshal(body, &env); err != nil {
		return nil, "", malformed(ep, err)
	}
	var meta Meta
	var links Links
	if len(env.Meta) > 0 {
		_ = json.Unmarshal(env.Meta, &meta)
	}
	if len(env.Links) > 0 {
		_ = json.Unmarshal(env.Links, &links)
	}

	items := make([]T, len(env.Data))
	for i, raw := range env.Data {
		if err := json.Unmarshal(raw, &items[i]); err != nil {
			c.log.Warn("atlassian list item partly decoded",
				"endpoint", ep, "index", i, "error", err)
		}
	}
	return items, NextCursor(meta, links), nil
}

// getAll follows a GET list to its end. A next link on our own origin is fetched as is; a link
// to any other host is never followed (the key would go with it): its cursor parameter is sent
// to our own endpoint instead. A bare next value is sent as cursor=<value>.
func getAll[T any](ctx context.Context, c *Client, path string) ([]T, error) {
	first := call{method: http.MethodGet, url: c.apiURL(path, nil)}
	return collect[T](ctx, c, first, c.do, func(next string) (call, error) {
		u, err := c.nextURL(path, next)
		return call{method: http.MethodGet, url: u}, err
	})
}

// collect pages through a list from first until next is empty. fetch sends one request and
// following builds the request for a next value; a next that repeats, or a list that goes on
// past maxPages, is malformed rather than an endless loop.
func collect[T any](ctx context.Context, c *Client, first call,
	fetch func(context.Context, call) ([]byte, error),
	following func(next string) (call, error)) ([]T, error) {
	var all []T
	seen := map[string]bool{}
	r := first
	for page := 0; ; page++ {
		body, err := fetch(ctx, r)
		if err != nil {
			return nil, err
		}
		items, next, err := decodeList[T](c, r.endpoint(), body)
		if err != nil {
			return nil, err
		}
		all = append(all, items...)

		if next == "" {
			return all, nil
		}
		if seen[next] || page >= maxPages {
			return nil, malformed(r.endpoint(), errors.New("pagination does not end"))
		}
		seen[next] = true
		endpoint := r.endpoint()
		if r, err = following(next); err != nil {
			return nil, malformed(endpoint, err)
		}
	}
}

// nextURL turns a next value into the URL of the next page of path.
func (c *Client) nextURL(path, next string) (string, error) {
	if isURL(next) {
		u, err := url.Parse(next)
		if err != nil {
			return "", fmt.Errorf("parse next link: %w", err)
		}
		if c.sameOrigin(u) {
			return u.String(), nil
		}
		c.log.Debug("atlassian next link on another host, using its cursor", "host", u.Host)
	}
	cur, err := bareCursor(next)
	if err != nil {
		return "", err
	}
	return c.apiURL(path, url.Values{"cursor": {cur}}), nil
}
