package mail

import (
	"fmt"
	"strings"
	"text/template"
	"time"
)

// Template is an editable notification: a subject and a plain-text body, both text/template
// sources over Fields.
type Template struct {
	Subject string `json:"subject"`
	Body    string `json:"body"`
}

// Fields are what a notification template can use, e.g. {{.UserName}} or {{.AlertTitle}}.
type Fields struct {
	UserName   string    // the affected user's display name
	UserEmail  string    // the affected user's address
	AlertID    string    // the alert's id, when the notification comes from one
	AlertTitle string    // e.g. "Impossible travel"
	Evidence   string    // a short, human description of what was seen
	OrgName    string    // the Atlassian organization
	Contact    string    // who to answer (the admin or security team), may be empty
	Time       time.Time // when the alert fired or the action ran
}

// DefaultTemplate is the notification Warden sends unless the admin edits it.
func DefaultTemplate() Template {
	return Template{
		Subject: "Security notice for your {{.OrgName}} Atlassian account: {{.AlertTitle}}",
		Body: `Hello {{.UserName}},

Warden, the security monitor of {{.OrgName}}, noticed activity on your Atlassian account
that needs your attention:

  {{.AlertTitle}}
{{- if .Evidence}}
  {{.Evidence}}
{{- end}}
{{- if not .Time.IsZero}}
  Time: {{.Time.UTC.Format "2006-01-02 15:04 MST"}}
{{- end}}

If this was you, no action is needed. If it was not, change your password, review your API
tokens, and contact {{if .Contact}}{{.Contact}}{{else}}your administrators{{end}} right away.
{{- if .AlertID}}

Reference: {{.AlertID}}
{{- end}}
`,
	}
}

// sampleFields exercise every field, for Validate.
var sampleFields = Fields{
	UserName: "Ada Example", UserEmail: "ada@example.com", AlertID: "alert-1",
	AlertTitle: "Impossible travel", Evidence: "Logins from Berlin and Sydney 37 minutes apart",
	OrgName: "Example Org", Contact: "security@example.com",
	Time: time.Date(2026, 1, 2, 3, 4, 0, 0, time.UTC),
}

// Validate parses both parts and renders them once with sample values, so an edited template
// that names an unknown field fails when it is saved rather than when it is needed.
func (t Template) Validate() error {
	_, _, err := t.Render(sampleFields)
	return err
}

// Render fills the template; an empty part falls back to the default's.
func (t Template) Render(f Fields) (subject, body string, err error) {
	def := DefaultTemplate()
	if strings.TrimSpace(t.Subject) == "" {
		t.Subject = def.Subject
	}
	if strings.TrimSpace(t.Body) == "" {
		t.Body = def.Body
	}
	subject, err = execute("subject", t.Subject, f)
	if err != nil {
		return "", "", err
	}
	body, err = execute("body", t.Body, f)
	if err != nil {
		return "", "", err
	}
	return strings.Join(strings.Fields(subject), " "), body, nil
}

func execute(name, src string, f Fields) (string, error) {
	tpl, err := template.New(name).Option("missingkey=error").Parse(src)
	if err != nil {
		return "", fmt.Errorf("mail: parse %s template: %w", name, err)
	}
	var b strings.Builder
	if err := tpl.Execute(&b, f); err != nil {
		return "", fmt.Errorf("mail: render %s template: %w", name, err)
	}
	return b.String(), nil
}
