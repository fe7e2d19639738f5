package atlassian

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Sentinel kinds, for errors.Is. An *APIError matches the kinds that follow from its status and
// code, so callers branch on what went wrong without parsing bodies.
var (
	// ErrUnauthorized is a 401: a bad or expired org API key, or a site token used by mistake.
	ErrUnauthorized = errors.New("atlassian: unauthorized")
	// ErrForbidden is a 403: the key lacks a permission or scope, or the target is locked.
	ErrForbidden = errors.New("atlassian: forbidden")
	// ErrNotFound is a 404 of any kind.
	ErrNotFound = errors.New("atlassian: not found")
	// ErrOrgNotFound is a 404 with ADMIN-404-2: the org ID is wrong. It also matches ErrNotFound.
	ErrOrgNotFound = errors.New("atlassian: organization not found")
	// ErrInvalidCursor is a 400 with ADMIN-400-1: a stored cursor is stale and the sync must
	// restart from its watermark.
	ErrInvalidCursor = errors.New("atlassian: invalid page cursor")
	// ErrRateLimited is a 429 that outlasted the retries, or whose reset is too far away.
	ErrRateLimited = errors.New("atlassian: rate limited")
	// ErrServer is a 5xx that outlasted the retries.
	ErrServer = errors.New("atlassian: server error")
	// ErrMalformed is a response that is not the JSON shape it must have.
	ErrMalformed = errors.New("atlassian: malformed response")
	// ErrUnreachable is a network failure: DNS, refused or reset connections, timeouts, TLS.
	ErrUnreachable = errors.New("atlassian: unreachable")
)

// maxErrorBody is how much of an error body an APIError keeps.
const maxErrorBody = 4 << 10

// APIError is a non-2xx answer from an admin API. Fields are filled from whichever of the four
// documented error shapes the body has; an empty or non-JSON body still yields the status.
type APIError struct {
	Status    int    // HTTP status code
	Code      string // ADMIN-xxx code, or the numeric ProxyError code as text
	Key       string // user management error key, e.g. forbidden.action
	Reason    string // user management context.reason.key, e.g. externalDirectory.scim
	Message   string // the most specific human text the body had
	RequestID string // from the body or a request-id header, for support tickets
	Body      []byte // the body, truncated to 4 KiB
	Endpoint  string // method and path, without query or host

	// RetryAfter is the wait the server asked for on a 429, when it could be worked out.
	RetryAfter time.Duration
	// Attempts is how many times the request was sent, when retries did not help.
	Attempts int
}

// Error reads like "atlassian: GET /admin/v1/orgs/x: 404 ADMIN-404-2: organization ... (request
// id r)". It never contains the API key, which is only ever in a request header.
func (e *APIError) Error() string {
	var b strings.Builder
	b.WriteString("atlassian: ")
	if e.Endpoint != "" {
		b.WriteString(e.Endpoint)
		b.WriteString(": ")
	}
	b.WriteString(strconv.Itoa(e.Status))
	for _, s := range []string{e.Code, e.Key, e.Reason} {
		if s != "" && s != strconv.Itoa(e.Status) {
			b.WriteString(" ")
			b.WriteString(s)
		}
	}
	if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(e.Message)
	}
	if e.RequestID != "" {
		b.WriteString(" (request id ")
		b.WriteString(e.RequestID)
		b.WriteString(")")
	}
	if e.Attempts > 1 {
		fmt.Fprintf(&b, " (after %d attempts)", e.Attempts)
	}
	return b.String()
}

// Is maps the error to its sentinel kinds.
func (e *APIError) Is(target error) bool {
	switch target {
	case ErrUnauthorized:
		return e.Status == http.StatusUnauthorized
	case ErrForbidden:
		return e.Status == http.StatusForbidden
	case ErrNotFound:
		return e.Status == http.StatusNotFound
	case ErrOrgNotFound:
		return e.Status == http.StatusNotFound && e.Code == "ADMIN-404-2"
	case ErrInvalidCursor:
		return e.Status == http.StatusBadRequest && e.Code == "ADMIN-400-1"
	case ErrRateLimited:
		return e.Status == http.StatusTooManyRequests
	case ErrServer:
		return e.Status >= 500
	}
	return false
}

// newAPIError builds an APIError from a response. Parsing is best effort: nothing in the body
// is required, and the status alone always makes a usable error.
func newAPIError(endpoint string, status int, h http.Header, body []byte) *APIError {
	e := &APIError{Status: status, Endpoint: endpoint}
	if len(body) > maxErrorBody {
		e.Body = append([]byte(nil), body[:maxErrorBody]...)
	} else if len(body) > 0 {
		e.Body = append([]byte(nil), body...)
	}

	parseErrorBody(e, body)

	if e.RequestID == "" {
		for _, k := range []string{"X-Request-Id", "Atl-Request-Id", "Atl-Traceid"} {
			if v := h.Get(k); v != "" {
				e.RequestID = v
				break
			}
		}
	}
	if e.Message == "" {
		e.Message = strings.ToLower(http.StatusText(status))
	}
	return e
}

// parseErrorBody fills e from the four documented shapes, told apart by their keys:
// ApplicationErrors {"errors":[{status,code,title,detail}]}, ProxyError {"code":429,"message"},
// NoPermsError {"status":403,"error","message","requestId"}, and the user management API's
// {"key","context":{"reason":{"key"}}}.
func parseErrorBody(e *APIError, body []byte) {
	var m map[string]json.RawMessage
	if json.Unmarshal(body, &m) != nil {
		return
	}

	if raw, ok := m["errors"]; ok {
		var list []map[string]json.RawMessage
		if json.Unmarshal(raw, &list) == nil && len(list) > 0 {
			first := list[0]
			e.Code = jsonText(first["code"])
			e.Message = firstNonEmpty(jsonText(first["detail"]), jsonText(first["title"]))
		}
	}
	if e.Code == "" {
		e.Code = jsonText(m["code"])
	}
	e.Key = jsonText(m["key"])
	e.RequestID = firstNonEmpty(jsonText(m["requestId"]), jsonText(m["request_id"]))
	if e.Message == "" {
		e.Message = firstNonEmpty(jsonText(m["message"]), jsonText(m["error"]))
	}

	if raw, ok := m["context"]; ok {
		var ctx struct {
			Message string `json:"message"`
			Reason  struct {
				Key string `json:"key"`
			} `json:"reason"`
		}
		// Partial decodes are fine: a context of another shape leaves the fields empty.
		_ = json.Unmarshal(raw, &ctx)
		e.Reason = ctx.Reason.Key
		if e.Message == "" {
			e.Message = ctx.Message
		}
	}
}

// jsonText returns a JSON string's value, or a number's or boolean's literal text, or "".
func jsonText(raw json.RawMessage) string {
	if len(raw) == 0 {
		return ""
	}
	if raw[0] == '"' {
		var s string
		if json.Unmarshal(raw, &s) == nil {
			return s
		}
		return ""
	}
	switch raw[0] {
	case '{', '[', 'n':
		return ""
	}
	return string(raw)
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

// malformed wraps a decoding problem as ErrMalformed, naming the endpoint or what was decoded.
func malformed(what string, err error) error {
	if err == nil {
		return fmt.Errorf("atlassian: %s: %w", what, ErrMalformed)
	}
	return fmt.Errorf("atlassian: %s: %w: %w", what, ErrMalformed, err)
}
