package govern

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"warden/backend/atlassian"
)

// Status is the outcome of a logged action.
type Status string

// Statuses. Pending is written before anything is sent; the others are final.
const (
	StatusPending     Status = "pending"
	StatusDone        Status = "done"
	StatusAlreadyDone Status = "already_done"
	StatusRefused     Status = "refused"
	StatusFailed      Status = "failed"
	StatusWouldDo     Status = "would_do"
	// StatusInterrupted is a pending entry found when the log is opened again: Warden stopped
	// between sending and recording, so the user's state must be checked.
	StatusInterrupted Status = "interrupted"
)

// Step is one call an action makes (or would make), for dry runs and the log.
type Step struct {
	Method string `json:"method"` // HTTP method, or SMTP for an email
	Path   string `json:"path"`   // request path, or the recipients of an email
	What   string `json:"what"`   // human summary
}

// Entry is one governance log record. Its JSON field names are the `warden actions --json`
// format: at least id, action, user, trigger, status and time.
type Entry struct {
	ID        string `json:"id"`
	Action    Action `json:"action"`
	User      string `json:"user"`                // account id once resolved, else as given
	UserInput string `json:"userInput,omitempty"` // what the request named, when different
	UserName  string `json:"userName,omitempty"`
	UserEmail string `json:"userEmail,omitempty"`
	Trigger   string `json:"trigger"` // manual:<who> or policy:<id>
	AlertID   string `json:"alertId,omitempty"`
	Status    Status `json:"status"`
	// Time is when the entry was first written, before anything was sent.
	Time    time.Time `json:"time"`
	Updated time.Time `json:"updated"`

	DryRun   bool `json:"dryRun,omitempty"`
	Simulate bool `json:"simulate,omitempty"`

	// Reason explains a refusal, an already-done action or a failure in words for the admin;
	// ReasonKey is the Atlassian reason key behind it (e.g. externalDirectory.scim).
	Reason    string `json:"reason,omitempty"`
	ReasonKey string `json:"reasonKey,omitempty"`
	Error     string `json:"error,omitempty"`
	// HTTPStatus and ErrorBody are Atlassian's answer to the request that failed.
	HTTPStatus int    `json:"httpStatus,omitempty"`
	ErrorBody  string `json:"errorBody,omitempty"`

	Steps      []Step               `json:"steps,omitempty"`    // planned calls
	Requests   []atlassian.Exchange `json:"requests,omitempty"` // calls as sent
	Recipients []string             `json:"recipients,omitempty"`
}

// Final reports whether the entry has its outcome.
func (e Entry) Final() bool { return e.Status != StatusPending }

// logPrefix is the store namespace of the log; keys sort by creation time.
const logPrefix = "govern/log/"

// entryKey is logPrefix, the creation time as 20 zero-padded decimal Unix nanoseconds (which
// sort like the times for every date after 1970), then the id.
func entryKey(e Entry) string {
	return logPrefix + fmt.Sprintf("%020d", max(0, e.Time.UnixNano())) + "/" + e.ID
}

// LogStore is what the log needs from the database; *store.Store has it.
type LogStore interface {
	PutJSON(key string, v any) error
	ListJSON(prefix string, fn func(key string, raw []byte) error) error
}

// Filter selects log entries; zero fields match everything.
type Filter struct {
	User   string // account id, email or the name as given, case-insensitive
	Action Action
	Status Status
	Since  time.Time // entries created at or after
	Limit  int       // newest n; 0 means all
}

func (f Filter) match(e Entry) bool {
	if u := strings.ToLower(f.User); u != "" && u != strings.ToLower(e.User) &&
		u != strings.ToLower(e.UserEmail) && u != strings.ToLower(e.UserInput) {
		return false
	}
	switch {
	case f.Action != "" && f.Action != e.Action,
		f.Status != "" && f.Status != e.Status,
		!f.Since.IsZero() && e.Time.Before(f.Since):
		return false
	}
	return true
}

// listEntries reads the log newest first.
func listEntries(st LogStore, f Filter) ([]Entry, error) {
	var all []Entry
	err := st.ListJSON(logPrefix, func(_ string, raw []byte) error {
		var e Entry
		if err := json.Unmarshal(raw, &e); err != nil {
			return nil // one damaged record must not hide the rest
		}
		if f.match(e) {
			all = append(all, e)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read governance log: %w", err)
	}
	slices.Reverse(all)
	if f.Limit > 0 && len(all) > f.Limit {
		all = all[:f.Limit]
	}
	return all, nil
}

// WriteJSONLines writes one JSON object per line, the `warden actions --json` format.
func WriteJSONLines(w io.Writer, entries []Entry) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	for _, e := range entries {
		if err := enc.Encode(e); err != nil {
			return fmt.Errorf("write governance log: %w", err)
		}
	}
	return nil
}

// csvHeader are the columns of WriteCSV.
var csvHeader = []string{"id", "time", "action", "user", "user_email", "trigger", "alert_id",
	"status", "reason", "reason_key", "http_status", "error", "requests"}

// WriteCSV writes the entries as CSV with a header row. Requests are summarized as
// "METHOD path status" joined by "; ". Cells that a spreadsheet would run as a formula are
// prefixed with a quote, because user names and error bodies come from outside.
func WriteCSV(w io.Writer, entries []Entry) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(csvHeader); err != nil {
		return fmt.Errorf("write governance log: %w", err)
	}
	for _, e := range entries {
		var reqs []string
		for _, x := range e.Requests {
			reqs = append(reqs, strings.TrimSpace(x.Method+" "+x.Path+" "+statusText(x.Status)))
		}
		httpStatus := ""
		if e.HTTPStatus != 0 {
			httpStatus = strconv.Itoa(e.HTTPStatus)
		}
		row := []string{e.ID, e.Time.UTC().Format(time.RFC3339), string(e.Action), e.User,
			e.UserEmail, e.Trigger, e.AlertID, string(e.Status), e.Reason, e.ReasonKey,
			httpStatus, e.Error, strings.Join(reqs, "; ")}
		for i, c := range row {
			row[i] = csvSafe(c)
		}
		if err := cw.Write(row); err != nil {
			return fmt.Errorf("write governance log: %w", err)
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("write governance log: %w", err)
	}
	return nil
}

func statusText(s int) string {
	if s == 0 {
		return "no answer"
	}
	return strconv.Itoa(s)
}

func csvSafe(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}
