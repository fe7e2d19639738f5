package app

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"warden/backend/govern"
	"warden/backend/keys"
	"warden/backend/mail"
)

// Settings records kept in the store; the SMTP password is in the keychain under smtpAccount.
const (
	smtpSettingsKey = "settings/smtp"
	mailTemplateKey = "settings/mail-template"
	smtpAccount     = "smtp"
)

var errNoSMTP = errors.New("no SMTP server configured: set one in Settings > Email")

// governor returns the governance service of a connector's organization, built on first use.
// Connect and Mail run per action, so a locked keychain is a failed log entry, not a crash.
func (c *Core) governor(connectorRef string) (*govern.Service, Connector, error) {
	conn, err := c.connectorOrFirst(connectorRef)
	if err != nil {
		return nil, conn, err
	}

	c.mu.Lock()
	defer c.mu.Unlock()
	if g, ok := c.governors[conn.ID]; ok {
		return g, conn, nil
	}
	g, err := govern.New(govern.Config{
		Connect: func(ctx context.Context) (govern.Atlassian, error) {
			if conn.Demo {
				if err := c.ensureDemoServer(); err != nil {
					return nil, err
				}
			}
			return c.client(conn)
		},
		Mail:     c.mailer,
		Template: c.mailTemplate,
		Store:    c.store,
		OrgID:    conn.OrgID,
		OrgName:  conn.OrgName,
		Logger:   c.log,
		Now:      c.o.Now,
	})
	if err != nil {
		return nil, conn, err
	}
	if c.governors == nil {
		c.governors = map[string]*govern.Service{}
	}
	c.governors[conn.ID] = g
	return g, conn, nil
}

// connectorOrFirst resolves a connector reference, or picks the only (or first) connector.
func (c *Core) connectorOrFirst(ref string) (Connector, error) {
	if ref != "" {
		return c.Connector(ref)
	}
	conns, err := c.Connectors()
	if err != nil {
		return Connector{}, err
	}
	if len(conns) == 0 {
		return Connector{}, invalid("connect an organization first")
	}
	return conns[0], nil
}

// SMTPSettings returns the stored SMTP configuration (without password).
func (c *Core) SMTPSettings() (mail.Config, bool, error) {
	var cfg mail.Config
	ok, err := c.store.GetJSON(smtpSettingsKey, &cfg)
	return cfg, ok, err
}

// SaveSMTPSettings stores the SMTP configuration and, when given, the password in the keychain.
func (c *Core) SaveSMTPSettings(cfg mail.Config, password string) error {
	cfg.Host = strings.TrimSpace(cfg.Host)
	if cfg.Host == "" || strings.TrimSpace(cfg.From) == "" {
		return invalid("the SMTP server needs a host and a From address")
	}
	switch cfg.Security {
	case "", "starttls", "tls", "none":
	default:
		return invalid("security must be starttls, tls or none")
	}
	if password != "" {
		if err := c.keys.Set(smtpAccount, password); err != nil {
			return fmt.Errorf("save SMTP password: %w", err)
		}
	}
	return c.store.PutJSON(smtpSettingsKey, cfg)
}

func (c *Core) mailer(ctx context.Context) (govern.Mailer, error) {
	return c.sender()
}

func (c *Core) sender() (*mail.Sender, error) {
	cfg, ok, err := c.SMTPSettings()
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, errNoSMTP
	}
	return mail.New(cfg, func(context.Context) (string, error) {
		pw, err := c.keys.Get(smtpAccount)
		if errors.Is(err, keys.ErrNotFound) {
			return "", fmt.Errorf("the SMTP password is not in the keychain: %w", err)
		}
		return pw, err
	})
}

func (c *Core) mailTemplate() mail.Template {
	var t mail.Template
	if ok, err := c.store.GetJSON(mailTemplateKey, &t); err != nil || !ok {
		return mail.DefaultTemplate()
	}
	return t
}

// SaveMailTemplate validates and stores the notification template.
func (c *Core) SaveMailTemplate(t mail.Template) error {
	if err := t.Validate(); err != nil {
		return invalid("template: %v", err)
	}
	return c.store.PutJSON(mailTemplateKey, t)
}

// SendTestEmail sends the "send test email" message to one address.
func (c *Core) SendTestEmail(ctx context.Context, to string) error {
	s, err := c.sender()
	if err != nil {
		return err
	}
	return s.Test(ctx, strings.TrimSpace(to))
}
