package govern

import (
	"context"
	"errors"
	"mime"
	"net"
	"strings"
	"testing"

	wmail "warden/backend/mail"
)

func TestNotify(t *testing.T) {
	ctx := context.Background()
	req := Request{Action: Notify, User: hana, Trigger: "policy:impossible-travel",
		AlertID: "al-7", AlertTitle: "Impossible travel",
		Evidence: "Logins from Bucharest and Tokyo 20 minutes apart",
		CC:       []string{"security@example.com"}}

	t.Run("real smtp exchange", func(t *testing.T) {
		sink := startSink(t)
		e := newEnv(t, func(c *Config) {
			c.Mail = mailTo(sink.addr.Port, "", nil)
			c.Contact = "security@example.com"
		})
		got, err := e.svc.Run(ctx, req)
		if err != nil || got.Status != StatusDone {
			t.Fatalf("%v %+v", err, got)
		}
		msgs := sink.messages()
		if len(msgs) != 1 {
			t.Fatalf("%d messages", len(msgs))
		}
		m := msgs[0]
		if strings.Join(m.to, ",") != "hana.sato@example.com,security@example.com" ||
			m.from != "warden@example.com" {
			t.Errorf("envelope %s -> %v", m.from, m.to)
		}
		subj, _ := new(mime.WordDecoder).DecodeHeader(m.msg.Header.Get("Subject"))
		if subj != "Security notice for your Example Robotics Atlassian account: "+
			"Impossible travel" {
			t.Errorf("subject %q", subj)
		}
		for _, w := range []string{"Hello Hana Sato,", req.Evidence, "security@example.com",
			"Reference: al-7"} {
			if !strings.Contains(m.body, w) {
				t.Errorf("body lacks %q:\n%s", w, m.body)
			}
		}
		if len(e.mutations()) != 0 {
			t.Errorf("notify changed something in Atlassian: %v", e.mutations())
		}
		if strings.Join(got.Recipients, ",") != "hana.sato@example.com,security@example.com" {
			t.Errorf("recipients %v", got.Recipients)
		}
	})

	down := func(t *testing.T) int {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := ln.Addr().(*net.TCPAddr).Port
		_ = ln.Close()
		return port
	}
	tests := []struct {
		name     string
		mailer   func(t *testing.T) func(context.Context) (Mailer, error)
		wantText string
		wantErr  error
	}{
		{name: "smtp server down", wantText: "could not be reached", wantErr: wmail.ErrUnreachable,
			mailer: func(t *testing.T) func(context.Context) (Mailer, error) {
				return mailTo(down(t), "", nil)
			}},
		{name: "keychain locked", wantText: "keychain", wantErr: wmail.ErrPassword,
			mailer: func(t *testing.T) func(context.Context) (Mailer, error) {
				return mailTo(startSink(t).addr.Port, "warden",
					func(context.Context) (string, error) {
						return "", errors.New("secret service: collection is locked")
					})
			}},
		{name: "smtp not set up", wantText: "not set up", wantErr: wmail.ErrConfig,
			mailer: func(*testing.T) func(context.Context) (Mailer, error) { return nil }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, func(c *Config) { c.Mail = tt.mailer(t) })
			got, err := e.svc.Run(ctx, req)
			if !errors.Is(err, ErrFailed) || !errors.Is(err, tt.wantErr) || got.Status != StatusFailed {
				t.Fatalf("%v %+v", err, got)
			}
			if !strings.Contains(got.Reason, tt.wantText) || !strings.Contains(got.Reason,
				"No email was sent") {
				t.Errorf("reason %q", got.Reason)
			}
			// Nothing lost: the failure is in the log, with the request it was about.
			list, lerr := e.svc.List(Filter{Status: StatusFailed})
			if lerr != nil || len(list) != 1 || list[0].AlertID != "al-7" ||
				list[0].Error == "" {
				t.Fatalf("log: %v %+v", lerr, list)
			}
		})
	}
}
