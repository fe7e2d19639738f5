// Package mail sends Warden's notification emails (the "notify user" governance action and
// the settings page's test email) through the SMTP server the admin configured.
//
// The SMTP password is never part of Config: the caller passes a function that reads it from
// the keychain at send time, so a locked keychain is reported as ErrPassword when a message is
// sent, not hidden at start-up, and the password never lands in a settings file. Errors are
// sorted into a few kinds (ErrConfig, ErrPassword, ErrUnreachable, ErrTLS, ErrAuth,
// ErrRejected) that the UI can explain without parsing SMTP replies.
package mail

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/mail"
	"strconv"
	"strings"
	"time"

	gomail "github.com/wneessen/go-mail"
)

// Security modes of Config.Security.
const (
	// SecuritySTARTTLS connects in clear and requires the server to upgrade with STARTTLS
	// (port 587); a server without STARTTLS is refused rather than used in clear.
	SecuritySTARTTLS = "starttls"
	// SecurityTLS speaks TLS from the first byte (implicit TLS, port 465).
	SecurityTLS = "tls"
	// SecurityNone sends in clear. A password is then only sent to a loopback server (the
	// underlying client refuses AUTH PLAIN in clear to anything else).
	SecurityNone = "none"
)

// Error kinds, for errors.Is.
var (
	// ErrConfig is a settings problem found before connecting: no host, no sender, a bad port.
	ErrConfig = errors.New("mail: invalid smtp settings")
	// ErrPassword means the password could not be read (a locked or unavailable keychain).
	ErrPassword = errors.New("mail: smtp password unavailable")
	// ErrUnreachable is a failed connection: refused, timed out, unknown host.
	ErrUnreachable = errors.New("mail: smtp server unreachable")
	// ErrTLS is a failed TLS handshake or a server without the STARTTLS that was required.
	ErrTLS = errors.New("mail: smtp tls failed")
	// ErrAuth means the server refused the username and password.
	ErrAuth = errors.New("mail: smtp authentication failed")
	// ErrRejected means the server refused the sender, a recipient or the message.
	ErrRejected = errors.New("mail: smtp server rejected the message")
)

// Config is the SMTP part of the settings. It holds no secret and can be stored as is.
type Config struct {
	Host     string `json:"host"`
	Port     int    `json:"port"`               // default 587, or 465 for SecurityTLS
	Security string `json:"security"`           // starttls (default), tls or none
	Username string `json:"username,omitempty"` // empty: no authentication
	From     string `json:"from"`               // "Warden <warden@example.com>" or an address

	// Timeout bounds connecting and each SMTP exchange; default 15 s.
	Timeout time.Duration `json:"timeout,omitempty"`

	// TLSConfig overrides the TLS settings (tests trust their own certificate with it).
	TLSConfig *tls.Config `json:"-"`
}

// PasswordFunc returns the SMTP password, typically from the keychain. It is only called when
// Config.Username is set.
type PasswordFunc func(ctx context.Context) (string, error)

// Message is one email. Body is plain text.
type Message struct {
	To      []string
	Cc      []string
	Subject string
	Body    string
}

// Sender sends mail with one Config. It connects anew for every message, which suits the
// handful of notifications Warden sends, and is safe for concurrent use.
type Sender struct {
	cfg      Config
	password PasswordFunc
}

// New checks cfg and returns a Sender. password may be nil when no username is set.
func New(cfg Config, password PasswordFunc) (*Sender, error) {
	cfg.Host = strings.TrimSpace(cfg.Host)
	cfg.Security = strings.ToLower(strings.TrimSpace(cfg.Security))
	if cfg.Security == "" {
		cfg.Security = SecuritySTARTTLS
	}
	if cfg.Port == 0 {
		cfg.Port = 587
		if cfg.Security == SecurityTLS {
			cfg.Port = 465
		}
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 15 * time.Second
	}

	switch {
	case cfg.Host == "":
		return nil, fmt.Errorf("%w: no smtp host", ErrConfig)
	case cfg.Port < 1 || cfg.Port > 65535:
		return nil, fmt.Errorf("%w: port %d out of range", ErrConfig, cfg.Port)
	case cfg.Security != SecuritySTARTTLS && cfg.Security != SecurityTLS &&
		cfg.Security != SecurityNone:
		return nil, fmt.Errorf("%w: security %q is not starttls, tls or none", ErrConfig,
			cfg.Security)
	case cfg.Username != "" && password == nil:
		return nil, fmt.Errorf("%w: a username is set but no password source", ErrConfig)
	}
	if _, err := mail.ParseAddress(cfg.From); err != nil {
		return nil, fmt.Errorf("%w: sender %q: %w", ErrConfig, cfg.From, err)
	}
	return &Sender{cfg: cfg, password: password}, nil
}

// Config returns the settings in use, defaults filled in.
func (s *Sender) Config() Config { return s.cfg }

// Send delivers m to its recipients. Every failure is one of the package's error kinds.
func (s *Sender) Send(ctx context.Context, m Message) error {
	if len(m.To) == 0 {
		return fmt.Errorf("%w: no recipient", ErrConfig)
	}
	msg, err := s.build(m)
	if err != nil {
		return err
	}
	client, err := s.client(ctx)
	if err != nil {
		return err
	}

	if err := client.DialWithContext(ctx); err != nil {
		return s.dialError(err)
	}
	defer func() { _ = client.Close() }()

	if err := client.Send(msg); err != nil {
		return fmt.Errorf("%w: %w", ErrRejected, err)
	}
	return nil
}

// Test sends the settings page's test email to one address.
func (s *Sender) Test(ctx context.Context, to string) error {
	return s.Send(ctx, Message{
		To:      []string{to},
		Subject: "Warden test email",
		Body: "This is a test email from Warden.\n\n" +
			"If you can read it, Warden can send notifications through " + s.addr() + ".\n",
	})
}

func (s *Sender) addr() string { return net.JoinHostPort(s.cfg.Host, strconv.Itoa(s.cfg.Port)) }

func (s *Sender) build(m Message) (*gomail.Msg, error) {
	msg := gomail.NewMsg()
	if err := msg.From(s.cfg.From); err != nil {
		return nil, fmt.Errorf("%w: sender: %w", ErrConfig, err)
	}
	if err := msg.To(m.To...); err != nil {
		return nil, fmt.Errorf("%w: recipient: %w", ErrConfig, err)
	}
	if len(m.Cc) > 0 {
		if err := msg.Cc(m.Cc...); err != nil {
			return nil, fmt.Errorf("%w: cc: %w", ErrConfig, err)
		}
	}
	// One line only: a template that renders a newline must not be able to add headers.
	msg.Subject(strings.Join(strings.Fields(m.Subject), " "))
	msg.SetDate()
	msg.SetMessageID()
	// RFC 3834: tells auto-responders not to answer an automatic notification.
	msg.SetGenHeader(gomail.Header("Auto-Submitted"), "auto-generated")
	msg.SetBodyString(gomail.TypeTextPlain, m.Body)
	return msg, nil
}

func (s *Sender) client(ctx context.Context) (*gomail.Client, error) {
	opts := []gomail.Option{gomail.WithPort(s.cfg.Port), gomail.WithTimeout(s.cfg.Timeout)}
	switch s.cfg.Security {
	case SecurityTLS:
		opts = append(opts, gomail.WithSSL())
	case SecuritySTARTTLS:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory))
	case SecurityNone:
		opts = append(opts, gomail.WithTLSPolicy(gomail.NoTLS))
	}
	if s.cfg.TLSConfig != nil {
		opts = append(opts, gomail.WithTLSConfig(s.cfg.TLSConfig))
	}

	if s.cfg.Username != "" {
		pw, err := s.password(ctx)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrPassword, err)
		}
		auth := gomail.SMTPAuthAutoDiscover
		if s.cfg.Security == SecurityNone {
			auth = gomail.SMTPAuthPlain
		}
		opts = append(opts, gomail.WithSMTPAuth(auth), gomail.WithUsername(s.cfg.Username),
			gomail.WithPassword(pw))
	}

	c, err := gomail.NewClient(s.cfg.Host, opts...)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	return c, nil
}

// dialError sorts a failure of connect, EHLO, STARTTLS or AUTH into an error kind.
func (s *Sender) dialError(err error) error {
	var opErr *net.OpError
	var dnsErr *net.DNSError
	var recErr tls.RecordHeaderError
	var certErr *tls.CertificateVerificationError
	msg := err.Error()
	switch {
	case errors.As(err, &certErr), errors.As(err, &recErr), strings.Contains(msg, "STARTTLS"),
		strings.Contains(msg, "tls:"), strings.Contains(msg, "x509:"):
		return fmt.Errorf("%w: %s: %w", ErrTLS, s.addr(), err)
	case strings.Contains(msg, "AUTH"):
		return fmt.Errorf("%w: %s: %w", ErrAuth, s.addr(), err)
	case errors.As(err, &opErr), errors.As(err, &dnsErr), errors.Is(err, context.DeadlineExceeded):
		return fmt.Errorf("%w: %s: %w", ErrUnreachable, s.addr(), err)
	}
	return fmt.Errorf("%w: %s: %w", ErrUnreachable, s.addr(), err)
}
