package govern

import (
	"context"
	"io"
	"log/slog"
	"mime/quotedprintable"
	"net"
	"net/http"
	"net/http/httptest"
	"net/mail"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"warden/backend/atlassian"
	"warden/backend/atlassian/fake"
	wmail "warden/backend/mail"
	"warden/backend/store"
)

const fixtures = "../atlassian/fake/testdata/atlassian"

// Fixture people.
const (
	zoe    = "712020:3b7e1c52-9a4d-4f08-b6e2-5c1d9f3a7e40" // org admin
	hana   = "712020:9c4e7a15-2b8f-4d63-a0e1-7f5b3d9c2a86" // managed, active
	noah   = "5f3c6e9a1d4b7e0c2f5a8d1b"                    // SCIM-synced, suspended
	emile  = "61b4d7e0a3c6f9b2e5d8a1c4"                    // managed, active
	jonas  = "60f1a3c5e7b9d1f3a5c7e9b0"                    // managed, active
	orgID  = "8c3f6a2e-0b1d-4c5e-9f7a-2d4b6e8f0a1c"
	apiKey = "fixture-key"
)

// clock is a fake clock; Sleep advances it at once, so backoff never waits.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
	return nil
}

// env is a Service wired to the fixtures' fake over HTTP, a real store and a real client.
type env struct {
	t      *testing.T
	fake   *fake.Server
	client *atlassian.Client
	store  *store.Store
	dir    string
	clock  *clock
	svc    *Service
	cfg    Config
}

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func newEnv(t *testing.T, adjust ...func(*Config)) *env {
	t.Helper()
	o, err := fake.LoadFixtures(fixtures)
	if err != nil {
		t.Fatal(err)
	}
	f := fake.New(o)
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)

	c := &clock{t: time.Date(2026, 11, 19, 9, 0, 0, 0, time.UTC)}
	client, err := atlassian.New(atlassian.Config{
		BaseURL: srv.URL, OrgID: o.OrgID, APIKey: o.APIKey,
		HTTPClient: &http.Client{Timeout: 300 * time.Millisecond},
		Logger:     quiet(), Sleep: c.Sleep, Now: c.Now,
	})
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, fake: f, client: client, dir: t.TempDir(), clock: c}
	e.open()
	e.cfg = Config{
		Connect: func(context.Context) (Atlassian, error) { return client, nil },
		Store:   e.store, OrgID: o.OrgID, OrgName: o.OrgName, Now: c.Now, Logger: quiet(),
	}
	for _, a := range adjust {
		a(&e.cfg)
	}
	e.svc, err = New(e.cfg)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func (e *env) open() {
	e.t.Helper()
	st, err := store.Open(store.Options{Dir: e.dir})
	if err != nil {
		e.t.Fatal(err)
	}
	e.store = st
	e.t.Cleanup(func() { _ = st.Close() })
}

// rebuild makes a new Service from e.cfg on the same store.
func (e *env) rebuild() {
	e.t.Helper()
	svc, err := New(e.cfg)
	if err != nil {
		e.t.Fatal(err)
	}
	e.svc = svc
}

// reopen closes the store and opens it and the Service again, as after a restart.
func (e *env) reopen() {
	e.t.Helper()
	if err := e.store.Close(); err != nil {
		e.t.Fatal(err)
	}
	e.open()
	e.cfg.Store = e.store
	svc, err := New(e.cfg)
	if err != nil {
		e.t.Fatal(err)
	}
	e.svc = svc
}

// mutations lists the non-GET requests the fake received, as "METHOD path".
func (e *env) mutations() []string {
	var out []string
	for _, r := range e.fake.Requests() {
		if r.Method != http.MethodGet && !strings.HasSuffix(r.Path, "/users/search") {
			out = append(out, r.Method+" "+r.Path)
		}
	}
	return out
}

// smtpSink is a real SMTP server on loopback (github.com/emersion/go-smtp) recording mail.
type smtpSink struct {
	addr *net.TCPAddr
	mu   sync.Mutex
	msgs []sunk
}

type sunk struct {
	from string
	to   []string
	msg  *mail.Message
	body string
}

func startSink(t *testing.T) *smtpSink {
	t.Helper()
	s := &smtpSink{}
	srv := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) {
		return &sinkSession{s: s}, nil
	}))
	srv.Domain = "localhost"
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.addr = ln.Addr().(*net.TCPAddr)
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return s
}

func (s *smtpSink) messages() []sunk {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]sunk(nil), s.msgs...)
}

type sinkSession struct {
	s   *smtpSink
	cur sunk
}

func (x *sinkSession) Mail(from string, _ *smtp.MailOptions) error {
	x.cur = sunk{from: from}
	return nil
}

func (x *sinkSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	x.cur.to = append(x.cur.to, to)
	return nil
}

func (x *sinkSession) Data(r io.Reader) error {
	m, err := mail.ReadMessage(r)
	if err != nil {
		return err
	}
	b, err := io.ReadAll(m.Body)
	if err != nil {
		return err
	}
	if strings.EqualFold(m.Header.Get("Content-Transfer-Encoding"), "quoted-printable") {
		if b, err = io.ReadAll(quotedprintable.NewReader(strings.NewReader(string(b)))); err != nil {
			return err
		}
	}
	x.cur.msg, x.cur.body = m, strings.ReplaceAll(string(b), "\r\n", "\n")
	x.s.mu.Lock()
	x.s.msgs = append(x.s.msgs, x.cur)
	x.s.mu.Unlock()
	return nil
}

func (x *sinkSession) Reset()        {}
func (x *sinkSession) Logout() error { return nil }

// mailTo returns a Mail factory for a sender to port, with an optional password source.
func mailTo(port int, user string, pw wmail.PasswordFunc) func(context.Context) (Mailer, error) {
	return func(context.Context) (Mailer, error) {
		s, err := wmail.New(wmail.Config{Host: "127.0.0.1", Port: port,
			Security: wmail.SecurityNone, Username: user, From: "Warden <warden@example.com>",
			Timeout: 3 * time.Second}, pw)
		if err != nil {
			return nil, err
		}
		return s, nil
	}
}
