package mail

import (
	"strings"
	"testing"
	"time"
)

func TestRender(t *testing.T) {
	f := Fields{UserName: "Zoë Ångström", AlertTitle: "Impossible travel",
		Evidence: "Berlin then Sydney in 37 minutes", OrgName: "Example Robotics",
		AlertID: "al-42", Time: time.Date(2026, 11, 17, 6, 13, 0, 0, time.UTC)}
	tests := []struct {
		name        string
		tpl         Template
		wantSubject string
		wantBody    []string
		wantErr     string
	}{
		{name: "default", tpl: DefaultTemplate(),
			wantSubject: "Security notice for your Example Robotics Atlassian account: " +
				"Impossible travel",
			wantBody: []string{"Hello Zoë Ångström,", "Berlin then Sydney in 37 minutes",
				"2026-11-17 06:13 UTC", "your administrators", "Reference: al-42"}},
		{name: "empty parts fall back", tpl: Template{},
			wantSubject: "Security notice for your Example Robotics Atlassian account: " +
				"Impossible travel",
			wantBody: []string{"Hello Zoë Ångström,"}},
		{name: "custom one line subject",
			tpl:         Template{Subject: "{{.AlertTitle}}\n{{.UserName}}", Body: "x {{.OrgName}}"},
			wantSubject: "Impossible travel Zoë Ångström", wantBody: []string{"x Example Robotics"}},
		{name: "unknown field", tpl: Template{Subject: "{{.Nope}}", Body: "b"},
			wantErr: "render subject"},
		{name: "syntax error", tpl: Template{Subject: "s", Body: "{{if}"},
			wantErr: "parse body"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			subj, body, err := tt.tpl.Render(f)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				if tt.tpl.Validate() == nil {
					t.Fatalf("Validate accepted a broken template")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if subj != tt.wantSubject {
				t.Errorf("subject = %q", subj)
			}
			for _, w := range tt.wantBody {
				if !strings.Contains(body, w) {
					t.Errorf("body lacks %q:\n%s", w, body)
				}
			}
		})
	}
	if err := DefaultTemplate().Validate(); err != nil {
		t.Fatal(err)
	}
}
