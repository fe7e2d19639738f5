package mail

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"math/big"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// received is one message as the test SMTP server got it.
type received struct {
	From    string
	To      []string
	Subject string
	Body    string
	Header  mail.Header
	User    string // the authenticated username, if any
	TLS     bool
}

// receiver is a real SMTP server on 127.0.0.1:0 (github.com/emersion/go-smtp) that records
// every message it accepts.
type receiver struct {
	t        testing.TB
	addr     *net.TCPAddr
	user, pw string

	mu   sync.Mutex
	msgs []received
}

type rcvOptions struct {
	tls      *tls.Config // STARTTLS offered when set (or implicit TLS with implicit)
	implicit bool
	user, pw string // AUTH PLAIN required when user is set
}

func startReceiver(t testing.TB, o rcvOptions) *receiver {
	t.Helper()
	r := &receiver{t: t, user: o.user, pw: o.pw}
	srv := smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
		_, isTLS := c.TLSConnectionState()
		return &session{r: r, tls: isTLS}, nil
	}))
	srv.Domain = "localhost"
	srv.ReadTimeout, srv.WriteTimeout = 10*time.Second, 10*time.Second
	srv.TLSConfig = o.tls
	srv.AllowInsecureAuth = o.tls == nil // loopback only: AUTH in clear for the "none" case

	var ln net.Listener
	var err error
	if o.implicit {
		ln, err = tls.Listen("tcp", "127.0.0.1:0", o.tls)
	} else {
		ln, err = net.Listen("tcp", "127.0.0.1:0")
	}
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	r.addr = ln.Addr().(*net.TCPAddr)
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return r
}

func (r *receiver) messages() []received {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]received(nil), r.msgs...)
}

type session struct {
	r    *receiver
	tls  bool
	user string
	cur  received
}

func (s *session) AuthMechanisms() []string {
	if s.r.user == "" {
		return nil
	}
	return []string{sasl.Plain}
}

func (s *session) Auth(mech string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, user, pw string) error {
		if user != s.r.user || pw != s.r.pw {
			return smtp.ErrAuthFailed
		}
		s.user = user
		return nil
	}), nil
}

func (s *session) Mail(from string, _ *smtp.MailOptions) error {
	if s.r.user != "" && s.user == "" {
		return smtp.ErrAuthRequired
	}
	s.cur = received{From: from, User: s.user, TLS: s.tls}
	return nil
}

func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.cur.To = append(s.cur.To, to)
	return nil
}

func (s *session) Data(r io.Reader) error {
	m, err := mail.ReadMessage(r)
	if err != nil {
		return err
	}
	raw, err := io.ReadAll(m.Body)
	if err != nil {
		return err
	}
	body := string(raw)
	if strings.EqualFold(m.Header.Get("Content-Transfer-Encoding"), "quoted-printable") {
		dec, err := io.ReadAll(quotedprintable.NewReader(strings.NewReader(body)))
		if err != nil {
			return err
		}
		body = string(dec)
	}
	subj, err := new(mime.WordDecoder).DecodeHeader(m.Header.Get("Subject"))
	if err != nil {
		return err
	}
	s.cur.Subject, s.cur.Body, s.cur.Header = subj, strings.ReplaceAll(body, "\r\n", "\n"),
		m.Header
	s.r.mu.Lock()
	s.r.msgs = append(s.r.msgs, s.cur)
	s.r.mu.Unlock()
	return nil
}

func (s *session) Reset()        { s.cur = received{} }
func (s *session) Logout() error { return nil }

// selfSigned makes a certificate for 127.0.0.1 and a client config that trusts only it.
func selfSigned(t testing.TB) (server, client *tls.Config) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "warden test smtp"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tpl, tpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	server = &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der},
		PrivateKey: key}}, MinVersion: tls.VersionTLS12}
	client = &tls.Config{RootCAs: pool, ServerName: "127.0.0.1", MinVersion: tls.VersionTLS12}
	return server, client
}

func password(pw string) PasswordFunc {
	return func(context.Context) (string, error) { return pw, nil }
}

func TestSendRealSMTP(t *testing.T) {
	srvTLS, cliTLS := selfSigned(t)
	tests := []struct {
		name     string
		rcv      rcvOptions
		security string
		user, pw string
		wantTLS  bool
	}{
		{name: "plain no auth", security: SecurityNone},
		{name: "plain auth on loopback", rcv: rcvOptions{user: "warden", pw: "s3cret"},
			security: SecurityNone, user: "warden", pw: "s3cret"},
		{name: "starttls auth plain", rcv: rcvOptions{tls: srvTLS, user: "warden", pw: "s3cret"},
			security: SecuritySTARTTLS, user: "warden", pw: "s3cret", wantTLS: true},
		{name: "implicit tls", rcv: rcvOptions{tls: srvTLS, implicit: true, user: "warden",
			pw: "s3cret"}, security: SecurityTLS, user: "warden", pw: "s3cret", wantTLS: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := startReceiver(t, tt.rcv)
			s, err := New(Config{Host: "127.0.0.1", Port: r.addr.Port, Security: tt.security,
				Username: tt.user, From: "Warden <warden@example.com>", TLSConfig: cliTLS,
				Timeout: 5 * time.Second}, password(tt.pw))
			if err != nil {
				t.Fatal(err)
			}
			err = s.Send(context.Background(), Message{
				To: []string{"ada@example.com"}, Cc: []string{"sec@example.com"},
				Subject: "Security notice: Zoë's login\r\nBcc: evil@example.net",
				Body:    "Hello Zoë,\nsomething happened.\n",
			})
			if err != nil {
				t.Fatalf("send: %v", err)
			}

			msgs := r.messages()
			if len(msgs) != 1 {
				t.Fatalf("got %d messages, want 1", len(msgs))
			}
			m := msgs[0]
			if m.From != "warden@example.com" {
				t.Errorf("from = %q", m.From)
			}
			if strings.Join(m.To, ",") != "ada@example.com,sec@example.com" {
				t.Errorf("rcpt = %v", m.To)
			}
			if m.Subject != "Security notice: Zoë's login Bcc: evil@example.net" {
				t.Errorf("subject = %q (a newline must not start a header)", m.Subject)
			}
			if m.Header.Get("Bcc") != "" {
				t.Errorf("injected Bcc header present")
			}
			if m.Body != "Hello Zoë,\nsomething happened.\n" {
				t.Errorf("body = %q", m.Body)
			}
			if m.Header.Get("Auto-Submitted") != "auto-generated" {
				t.Errorf("Auto-Submitted = %q", m.Header.Get("Auto-Submitted"))
			}
			if m.User != tt.user || m.TLS != tt.wantTLS {
				t.Errorf("user %q tls %v, want %q %v", m.User, m.TLS, tt.user, tt.wantTLS)
			}
		})
	}
}

func TestSendFailures(t *testing.T) {
	srvTLS, cliTLS := selfSigned(t)
	down := func() int {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := ln.Addr().(*net.TCPAddr).Port
		_ = ln.Close()
		return port
	}
	locked := func(context.Context) (string, error) {
		return "", errors.New("keychain is locked")
	}

	tests := []struct {
		name     string
		rcv      *rcvOptions // nil: nothing listens
		security string
		user     string
		pw       PasswordFunc
		want     error
		wantText string
	}{
		{name: "server down", security: SecurityNone, want: ErrUnreachable,
			wantText: "unreachable"},
		{name: "wrong password", rcv: &rcvOptions{tls: srvTLS, user: "warden", pw: "right"},
			security: SecuritySTARTTLS, user: "warden", pw: password("wrong"), want: ErrAuth},
		{name: "keychain locked", rcv: &rcvOptions{user: "warden", pw: "x"},
			security: SecurityNone, user: "warden", pw: locked, want: ErrPassword,
			wantText: "keychain is locked"},
		{name: "starttls required but not offered", rcv: &rcvOptions{},
			security: SecuritySTARTTLS, want: ErrTLS},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			port := 0
			var r *receiver
			if tt.rcv != nil {
				r = startReceiver(t, *tt.rcv)
				port = r.addr.Port
			} else {
				port = down()
			}
			s, err := New(Config{Host: "127.0.0.1", Port: port, Security: tt.security,
				Username: tt.user, From: "warden@example.com", TLSConfig: cliTLS,
				Timeout: 3 * time.Second}, tt.pw)
			if err != nil {
				t.Fatal(err)
			}
			err = s.Send(context.Background(), Message{To: []string{"a@example.com"},
				Subject: "s", Body: "b"})
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			if tt.wantText != "" && !strings.Contains(err.Error(), tt.wantText) {
				t.Errorf("err %q does not mention %q", err, tt.wantText)
			}
			if r != nil && len(r.messages()) != 0 {
				t.Errorf("a message was delivered despite the failure")
			}
		})
	}
}

func TestNewValidates(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		pw   PasswordFunc
	}{
		{"no host", Config{From: "a@example.com"}, nil},
		{"bad sender", Config{Host: "h", From: "not an address"}, nil},
		{"bad security", Config{Host: "h", From: "a@example.com", Security: "ssl3"}, nil},
		{"bad port", Config{Host: "h", From: "a@example.com", Port: 70000}, nil},
		{"user without password", Config{Host: "h", From: "a@example.com", Username: "u"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := New(tt.cfg, tt.pw); !errors.Is(err, ErrConfig) {
				t.Fatalf("err = %v, want ErrConfig", err)
			}
		})
	}

	s, err := New(Config{Host: "smtp.example.com", From: "a@example.com", Security: "TLS"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if c := s.Config(); c.Port != 465 || c.Security != SecurityTLS {
		t.Errorf("defaults: %+v", c)
	}
}

func TestTestEmail(t *testing.T) {
	r := startReceiver(t, rcvOptions{})
	s, err := New(Config{Host: "127.0.0.1", Port: r.addr.Port, Security: SecurityNone,
		From: "warden@example.com"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Test(context.Background(), "admin@example.com"); err != nil {
		t.Fatal(err)
	}
	msgs := r.messages()
	if len(msgs) != 1 || msgs[0].Subject != "Warden test email" ||
		!strings.Contains(msgs[0].Body, "127.0.0.1") {
		t.Fatalf("messages: %+v", msgs)
	}
}
