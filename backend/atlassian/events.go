package atlassian

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// StreamParams selects one page of GET /events-stream. The order is always ascending by
// processing time, the order in which a sync must walk the log.
type StreamParams struct {
	Cursor   string    // a bare cursor from a previous EventPage.Meta.Next; empty at first
	From, To time.Time // optional bounds on the event time, sent as epoch milliseconds
	Limit    int       // page size; 0 leaves it to the server (documented default 200, max 500)
}

// EventsStream fetches one page of the polling endpoint. The caller keeps Meta.Next (always a
// bare cursor, whatever style the server used) and passes it back as Cursor, also later to poll
// for new events. From, To and Limit are sent with every request, cursor or not, because cursor
// links are known to drop them.
func (c *Client) EventsStream(ctx context.Context, p StreamParams) (EventPage, error) {
	q := url.Values{}
	setTimeRange(q, p.From, p.To)
	if p.Limit > 0 {
		q.Set("limit", strconv.Itoa(p.Limit))
	}
	q.Set("sortOrder", "asc")
	return c.eventPage(ctx, "/events-stream", p.Cursor, q, false)
}

// SearchParams selects one page of GET /events, the audit log search. Every set filter is sent
// again with the cursor, because the API's cursor links drop from, to and action.
type SearchParams struct {
	Cursor   string
	From, To time.Time
	Action   string   // one action key from EventActions
	Query    string   // q: one search term (name, email, activity or site)
	Actors   []string // account ids
	IPs      []string
	Products []string // bitbucket, confluence, guard_detect, jira, ...
	Limit    int
}

// Events fetches one page of the audit log search, newest first. This endpoint allows only 10
// requests a minute, so it also waits on the key's events budget; use EventsStream to sync.
func (c *Client) Events(ctx context.Context, p SearchParams) (EventPage, error) {
	q := url.Values{}
	setTimeRange(q, p.From, p.To)
	if p.Action != "" {
		q.Set("action", p.Action)
	}
	if p.Query != "" {
		q.Set("q", p.Query)
	}
	// Arrays are form-style with explode=false: one comma-joined value.
	arrays := map[string][]string{"actor": p.Actors, "ip": p.IPs, "product": p.Products}
	for name, vals := range arrays {
		if len(vals) > 0 {
			q.Set(name, strings.Join(vals, ","))
		}
	}
	if p.Limit > 0 {
		q.Set("limit", strconv.Itoa(p.Limit))
	}
	return c.eventPage(ctx, "/events", p.Cursor, q, true)
}

func setTimeRange(q url.Values, from, to time.Time) {
	if !from.IsZero() {
		q.Set("from", strconv.FormatInt(from.UnixMilli(), 10))
	}
	if !to.IsZero() {
		q.Set("to", strconv.FormatInt(to.UnixMilli(), 10))
	}
}

// eventPage fetches and decodes one page of an events endpoint.
func (c *Client) eventPage(ctx context.Context, path, cursor string, q url.Values,
	events bool) (EventPage, error) {
	if cursor != "" {
		cur, err := bareCursor(cursor)
		if err != nil {
			return EventPage{}, err
		}
		q.Set("cursor", cur)
	}
	r := call{method: http.MethodGet, url: c.apiURL(c.v1(path), q), events: events}

	body, err := c.do(ctx, r)
	if err != nil {
		return EventPage{}, err
	}
	page, err := DecodeEventPage(body)
	if err != nil {
		return EventPage{}, malformed(r.endpoint(), err)
	}

	next := NextCursor(page.Meta, page.Links)
	page.Meta.Next = ""
	if next != "" {
		cur, err := bareCursor(next)
		if err != nil {
			return EventPage{}, malformed(r.endpoint(), err)
		}
		page.Meta.Next = cur
	}
	return page, nil
}

// bareCursor returns the cursor a next value stands for: the value itself, or the cursor query
// parameter of a full URL. The events endpoints are always re-requested on our own base URL
// with our own filters, so only the cursor of a link matters.
func bareCursor(next string) (string, error) {
	if !isURL(next) {
		return next, nil
	}
	u, err := url.Parse(next)
	if err != nil {
		return "", err
	}
	cur := u.Query().Get("cursor")
	if cur == "" {
		return "", errors.New("next link has no cursor")
	}
	return cur, nil
}

// isURL reports whether a next value is a link rather than a bare cursor.
func isURL(s string) bool {
	l := strings.ToLower(s)
	return strings.HasPrefix(l, "http://") || strings.HasPrefix(l, "https://")
}

// DecodeEventPage decodes an events or events-stream page leniently. The page fails (with
// ErrMalformed) only when it is not JSON or its data is not an array. Each event is decoded on
// its own: one that does not fit the typed shape is kept with what could be read, its id and a
// DecodeError, so a single odd event never costs the rest of the page. Event.Raw holds each
// event's bytes as received, copied into memory owned by the page.
//
// It is written for speed, as it runs on every page of a sync: the page is validated once,
// split by a byte scanner, and every event is decoded exactly once (see decodeEvent).
func DecodeEventPage(b []byte) (EventPage, error) {
	var data, meta, links []byte
	end, isObject := walkObject(b, skipSpace(b, 0), func(key, val []byte) bool {
		switch unquoteKey(key) {
		case "data":
			data = val
		case "meta":
			meta = val
		case "links":
			links = val
		}
		return true
	})
	if !isObject || skipSpace(b, end) != len(b) {
		// Decode only to get encoding/json's description of the problem, if it sees one.
		var v map[string]any
		err := json.Unmarshal(b, &v)
		if err == nil {
			err = errors.New("page is not a json object")
		}
		return EventPage{}, malformed("decode event page", err)
	}

	var page EventPage
	// Odd meta or links (a string page_size, say) lose those fields, not the page.
	if meta != nil {
		_ = json.Unmarshal(meta, &page.Meta)
	}
	if links != nil {
		_ = json.Unmarshal(links, &page.Links)
	}

	raws, err := splitArray(data)
	if err != nil {
		return EventPage{}, malformed("decode event page", err)
	}
	page.Data = make([]Event, len(raws))
	for i, raw := range raws {
		// A syntax error inside an event means the page is not JSON after all: the scanner
		// checks structure, encoding/json checks the rest while decoding.
		if err := decodeEvent(raw, &page.Data[i]); err != nil {
			return EventPage{}, malformed("decode event page", err)
		}
	}
	return page, nil
}

// splitArray splits a valid JSON array into its elements. It copies the array once and slices
// the copy (capacity-limited, so an append to one element cannot overwrite the next), instead
// of one allocation per element as []json.RawMessage would. A missing or null array is empty.
func splitArray(b []byte) ([][]byte, error) {
	if b == nil || string(b) == "null" {
		return nil, nil
	}
	if b[0] != '[' {
		return nil, errors.New("data is not an array")
	}

	buf := append([]byte(nil), b...)
	out := make([][]byte, 0, 64)
	i := skipSpace(buf, 1)
	for i < len(buf) && buf[i] != ']' {
		end, ok := skipValue(buf, i)
		if !ok {
			return nil, errors.New("data array cannot be split")
		}
		out = append(out, buf[i:end:end])

		i = skipSpace(buf, end)
		if i < len(buf) && buf[i] == ',' {
			i = skipSpace(buf, i+1)
		} else if i >= len(buf) || buf[i] != ']' {
			return nil, errors.New("data array is not valid json")
		}
	}
	return out, nil
}

// eventWire mirrors Event with an attributes type that has no UnmarshalJSON. Going through
// EventAttributes.UnmarshalJSON would make encoding/json validate and skip the attributes
// (most of an event) once more before decoding them; decodeEvent finds the unknown attributes
// with the scanner instead. TestEventWireMirrorsEvent keeps the two structs in step.
type eventWire struct {
	ID         string          `json:"id"`
	Type       string          `json:"type,omitempty"`
	Attributes plainAttributes `json:"attributes"`
	Links      Links           `json:"links"`
	Message    *Message        `json:"message,omitempty"`
}

// plainAttributes is EventAttributes without its methods.
type plainAttributes EventAttributes

// decodeEvent fills ev from raw, recording rather than returning any mismatch of shape. It
// returns an error only when raw is not valid JSON.
func decodeEvent(raw []byte, ev *Event) error {
	ev.Raw = raw
	if len(raw) == 0 || raw[0] != '{' {
		ev.DecodeError = "event is not a json object"
		return nil
	}

	var w eventWire
	err := json.Unmarshal(raw, &w)
	var syntaxErr *json.SyntaxError
	if errors.As(err, &syntaxErr) {
		return err
	}
	ev.ID, ev.Type, ev.Links, ev.Message = w.ID, w.Type, w.Links, w.Message
	ev.Attributes = EventAttributes(w.Attributes)
	if err == nil {
		eachMember(raw, func(key, val []byte) bool {
			if string(key) != "attributes" {
				return true
			}
			ev.Attributes.Extra, err = extraAttributes(val)
			return false
		})
	}
	if err == nil {
		return nil
	}

	ev.DecodeError = err.Error()
	if ev.ID == "" {
		var idOnly struct {
			ID json.RawMessage `json:"id"`
		}
		if json.Unmarshal(raw, &idOnly) == nil {
			ev.ID = jsonText(idOnly.ID)
		}
	}
	return nil
}
