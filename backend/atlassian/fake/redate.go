package fake

import (
	"encoding/json"
	"time"

	"warden/backend/atlassian"
)

// Redated returns o with every raw event moved in time so that the newest one was processed
// at newest, keeping the order and spacing of all events. The shared fixtures are dated
// November 2026; end-to-end tests that sync them through the real clock redate them so they
// stay inside the 180-day backfill window whatever the date. The recorded whole pages are
// dropped, since their events no longer match; the fake cuts pages itself.
func (o Options) Redated(newest time.Time) Options {
	var latest time.Time
	for _, raw := range o.RawEvents {
		var e atlassian.Event
		if json.Unmarshal(raw, &e) == nil && e.Attributes.ProcessedAt.After(latest) {
			latest = e.Attributes.ProcessedAt.Time
		}
	}
	if latest.IsZero() {
		return o
	}
	shift := newest.Sub(latest)

	out := make([][]byte, 0, len(o.RawEvents))
	for _, raw := range o.RawEvents {
		out = append(out, shiftEvent(raw, shift))
	}
	o.RawEvents, o.StreamPages, o.SearchPages = out, nil, nil
	return o
}

// shiftEvent moves an event's time and processedAt by d, keeping everything else as it was.
// An event that does not decode is kept unchanged.
func shiftEvent(raw []byte, d time.Duration) []byte {
	var ev map[string]any
	if json.Unmarshal(raw, &ev) != nil {
		return raw
	}
	attrs, ok := ev["attributes"].(map[string]any)
	if !ok {
		return raw
	}
	for _, k := range []string{"time", "processedAt"} {
		s, ok := attrs[k].(string)
		if !ok {
			continue
		}
		if t := atlassian.ParseTime(s); !t.IsZero() {
			attrs[k] = t.Add(d).UTC().Format(time.RFC3339Nano)
		}
	}
	b, err := json.Marshal(ev)
	if err != nil {
		return raw
	}
	return b
}
