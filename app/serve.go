package app

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"reflect"
	"runtime/debug"
	"sort"
	"strings"
	"sync"
	"time"
)

// ServeOptions configures browser mode: the same frontend and facade as the desktop window,
// served over loopback HTTP so that headless browsers (and admins without a desktop) can use it.
type ServeOptions struct {
	// Addr is host:port to listen on. The host must be a loopback address or "localhost";
	// port 0 picks a free port.
	Addr string
	// API is the facade whose exported methods the frontend may call.
	API *API
	// Assets is the frontend (the contents of frontend/dist).
	Assets fs.FS
	// Out receives the opening URL, which carries the one-time access token.
	Out io.Writer
	// Logger receives request failures and recovered panics; nil discards them.
	Logger *slog.Logger
}

const (
	// maxCallBody bounds a POST /api/call body; no facade argument comes near it.
	maxCallBody = 1 << 20
	// maxSessions bounds the session table so that a loop opening the token link cannot grow
	// memory without end; the oldest session is dropped first.
	maxSessions = 64

	csrfHeader = "X-Warden-CSRF"

	contentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; " +
		"img-src 'self' data:; connect-src 'self'; font-src 'self'; base-uri 'none'; " +
		"form-action 'none'; frame-ancestors 'none'"

	unauthorizedText = "Warden: not signed in.\n\nOpen the URL that `warden serve` printed " +
		"when it started (it contains ?token=...). The token changes every time warden serve " +
		"starts.\n"
)

// Serve runs browser mode until ctx is done, then shuts the server down gracefully. It refuses
// any address that is not loopback: the facade can read the audit log and use the org API key,
// so it must never be reachable from another machine.
func Serve(ctx context.Context, o ServeOptions) error {
	host, err := loopbackHost(o.Addr)
	if err != nil {
		return err
	}

	token, err := randomHex()
	if err != nil {
		return err
	}

	_, port, _ := net.SplitHostPort(o.Addr)
	ln, err := net.Listen("tcp", net.JoinHostPort(host, port))
	if err != nil {
		return fmt.Errorf("listen on %s: %w", o.Addr, err)
	}

	o.Addr = ln.Addr().String()
	srv := &http.Server{
		Handler:           newServeHandler(o, token),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(serveLogger(o).Handler(), slog.LevelWarn),
	}

	if o.Out != nil {
		fmt.Fprintf(o.Out, "Warden is running in browser mode. Open this URL in your browser:\n")
		fmt.Fprintf(o.Out, "  http://%s/?token=%s\n", o.Addr, token)
	}
	serveLogger(o).Info("browser mode listening", "addr", o.Addr)

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()

	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}

	shutCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutCtx); err != nil {
		return fmt.Errorf("shut down browser mode: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", err)
	}
	return nil
}

// loopbackHost validates addr and returns the IP to listen on. An empty host would listen on
// every interface, so it is refused like any other non-loopback host.
func loopbackHost(addr string) (string, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", fmt.Errorf("browser mode address %q: %w", addr, err)
	}
	if _, err := net.LookupPort("tcp", port); err != nil {
		return "", fmt.Errorf("browser mode address %q: bad port: %w", addr, err)
	}
	if strings.EqualFold(host, "localhost") {
		return "127.0.0.1", nil
	}
	ip := net.ParseIP(host)
	if ip == nil || !ip.IsLoopback() {
		return "", fmt.Errorf("browser mode address %q: only loopback addresses "+
			"(127.0.0.1, ::1, localhost) are allowed", addr)
	}
	return ip.String(), nil
}

func serveLogger(o ServeOptions) *slog.Logger {
	if o.Logger != nil {
		return o.Logger
	}
	return slog.New(slog.DiscardHandler)
}

func randomHex() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("read random token: %w", err)
	}
	return hex.EncodeToString(b), nil
}

// serveHandler holds the per-run state of browser mode: the access token, the sessions it
// opened, and the method table of the bound facade.
type serveHandler struct {
	log        *slog.Logger
	token      string
	port       string
	cookieName string
	assets     http.Handler
	methods    *methodTable

	mu       sync.Mutex
	sessions map[string]string // session id -> CSRF token
	order    []string          // session ids, oldest first
}

// newServeHandler builds the browser-mode handler for the already known listening address
// o.Addr and the run's access token.
func newServeHandler(o ServeOptions, token string) http.Handler {
	return newHandlerFor(o, token, o.API)
}

// newHandlerFor is newServeHandler with any bound value, so tests can bind a stand-in.
func newHandlerFor(o ServeOptions, token string, bound any) http.Handler {
	_, port, _ := net.SplitHostPort(o.Addr)
	h := &serveHandler{
		log:   serveLogger(o),
		token: token,
		port:  port,
		// Cookies ignore the port, so two runs on different ports must not overwrite each
		// other's session.
		cookieName: "warden_session_" + port,
		methods:    newMethodTable(bound),
		sessions:   map[string]string{},
	}
	if o.Assets != nil {
		h.assets = http.FileServerFS(o.Assets)
	}
	return h
}

func (h *serveHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hdr := w.Header()
	hdr.Set("Content-Security-Policy", contentSecurityPolicy)
	hdr.Set("X-Content-Type-Options", "nosniff")
	hdr.Set("Referrer-Policy", "no-referrer")
	hdr.Set("X-Frame-Options", "DENY")

	if !h.allowedHost(r.Host) {
		// A foreign Host means a DNS-rebinding page is talking to us under its own name.
		plain(w, http.StatusForbidden, "Warden: forbidden host.\n")
		return
	}
	if origin := r.Header.Get("Origin"); origin != "" && origin != "http://"+r.Host {
		plain(w, http.StatusForbidden, "Warden: cross-origin requests are refused.\n")
		return
	}
	// Browsers label requests made by another site; such a request never belongs here, even
	// with a valid cookie (the opening link, typed or clicked, is "none").
	if r.Header.Get("Sec-Fetch-Site") == "cross-site" {
		plain(w, http.StatusForbidden, "Warden: cross-site requests are refused.\n")
		return
	}

	isCall := r.URL.Path == "/api/call"
	switch {
	case isCall && r.Method != http.MethodPost:
		hdr.Set("Allow", http.MethodPost)
		plain(w, http.StatusMethodNotAllowed, "Warden: method not allowed.\n")
		return
	case !isCall && r.Method != http.MethodGet && r.Method != http.MethodHead:
		hdr.Set("Allow", "GET, HEAD")
		plain(w, http.StatusMethodNotAllowed, "Warden: method not allowed.\n")
		return
	}

	if t := r.URL.Query().Get("token"); t != "" && r.Method == http.MethodGet {
		h.signIn(w, r, t)
		return
	}

	csrf, ok := h.session(r)
	if !ok {
		plain(w, http.StatusUnauthorized, unauthorizedText)
		return
	}

	switch r.URL.Path {
	case "/api/call":
		h.call(w, r, csrf)
	case "/bridge.js":
		h.bridge(w, csrf)
	default:
		if h.assets == nil {
			http.NotFound(w, r)
			return
		}
		hdr.Set("Cache-Control", "no-cache")
		h.assets.ServeHTTP(w, r)
	}
}

// allowedHost accepts only the loopback names of our own port.
func (h *serveHandler) allowedHost(host string) bool {
	for _, name := range []string{"127.0.0.1", "localhost", "[::1]"} {
		if strings.EqualFold(host, name+":"+h.port) {
			return true
		}
	}
	return false
}

// signIn turns the token link into a session cookie and redirects to a URL without the token,
// so it does not linger in the address bar or history.
func (h *serveHandler) signIn(w http.ResponseWriter, r *http.Request, token string) {
	if subtle.ConstantTimeCompare([]byte(token), []byte(h.token)) != 1 {
		h.log.Warn("browser mode sign-in refused", "remote", r.RemoteAddr)
		plain(w, http.StatusUnauthorized, unauthorizedText)
		return
	}

	id, err := randomHex()
	if err != nil {
		plain(w, http.StatusInternalServerError, "Warden: cannot create a session.\n")
		return
	}
	csrf, err := randomHex()
	if err != nil {
		plain(w, http.StatusInternalServerError, "Warden: cannot create a session.\n")
		return
	}

	h.mu.Lock()
	h.sessions[id] = csrf
	h.order = append(h.order, id)
	if len(h.order) > maxSessions {
		delete(h.sessions, h.order[0])
		h.order = h.order[1:]
	}
	h.mu.Unlock()

	http.SetCookie(w, &http.Cookie{
		Name:     h.cookieName,
		Value:    id,
		Path:     "/",
		HttpOnly: true,
		SameSite: http.SameSiteStrictMode,
	})
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

// session returns the CSRF token of the request's session.
func (h *serveHandler) session(r *http.Request) (string, bool) {
	c, err := r.Cookie(h.cookieName)
	if err != nil || c.Value == "" {
		return "", false
	}

	h.mu.Lock()
	defer h.mu.Unlock()
	csrf, ok := h.sessions[c.Value]
	return csrf, ok
}

// callRequest is the body of POST /api/call, the same shape Wails uses internally.
type callRequest struct {
	Name string            `json:"name"`
	Args []json.RawMessage `json:"args"`
}

// callResponse is either a result or an error text, never both.
type callResponse struct {
	Result any    `json:"result,omitempty"`
	Error  string `json:"error,omitempty"`
}

func (h *serveHandler) call(w http.ResponseWriter, r *http.Request, csrf string) {
	w.Header().Set("Cache-Control", "no-store")

	got := r.Header.Get(csrfHeader)
	if got == "" || subtle.ConstantTimeCompare([]byte(got), []byte(csrf)) != 1 {
		plain(w, http.StatusForbidden, "Warden: missing or wrong CSRF token; reload the page.\n")
		return
	}

	var req callRequest
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxCallBody))
	if err := dec.Decode(&req); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			writeJSON(w, http.StatusRequestEntityTooLarge, callResponse{Error: "request too large"})
			return
		}
		writeJSON(w, http.StatusBadRequest, callResponse{Error: "malformed call: " + err.Error()})
		return
	}

	result, err := h.methods.call(h.log, req.Name, req.Args)
	if err != nil {
		writeJSON(w, http.StatusOK, callResponse{Error: err.Error()})
		return
	}
	writeJSON(w, http.StatusOK, callResponse{Result: result})
}

func writeJSON(w http.ResponseWriter, status int, v callResponse) {
	b, err := json.Marshal(v)
	if err != nil {
		b, _ = json.Marshal(callResponse{Error: "cannot encode result: " + err.Error()})
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

func plain(w http.ResponseWriter, status int, text string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, text)
}

// bridge serves the browser-mode stand-in for what Wails injects into the desktop window:
// window.go.<pkg>.<Struct>.<Method> as fetch calls and a few window.runtime stubs. It carries
// the session's CSRF token, so it is only served to a signed-in session and never cached.
func (h *serveHandler) bridge(w http.ResponseWriter, csrf string) {
	w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = io.WriteString(w, h.methods.bridgeJS(csrf))
}

// methodTable is the reflected set of exported methods of the bound facade.
type methodTable struct {
	pkg, name string // Go package name and struct name, as in window.go.<pkg>.<name>
	recv      reflect.Value
	methods   map[string]reflect.Method
}

var errorType = reflect.TypeFor[error]()

func newMethodTable(bound any) *methodTable {
	t := reflect.TypeOf(bound)
	mt := &methodTable{recv: reflect.ValueOf(bound), methods: map[string]reflect.Method{}}
	if t == nil {
		return mt
	}

	elem := t
	if elem.Kind() == reflect.Pointer {
		elem = elem.Elem()
	}
	mt.name = elem.Name()
	mt.pkg = elem.PkgPath()[strings.LastIndex(elem.PkgPath(), "/")+1:]
	for i := range t.NumMethod() {
		m := t.Method(i)
		if m.IsExported() && !m.Type.IsVariadic() {
			mt.methods[m.Name] = m
		}
	}
	return mt
}

// names returns the method names in a stable order.
func (mt *methodTable) names() []string {
	out := make([]string, 0, len(mt.methods))
	for n := range mt.methods {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// call invokes "<pkg>.<Struct>.<Method>" with JSON-encoded arguments. A panic in the method is
// recovered into an error and logged with its stack, so one bug cannot take browser mode down.
func (mt *methodTable) call(log *slog.Logger, full string, args []json.RawMessage) (res any,
	err error) {
	prefix := mt.pkg + "." + mt.name + "."
	m, ok := mt.methods[strings.TrimPrefix(full, prefix)]
	if !ok || !strings.HasPrefix(full, prefix) {
		return nil, fmt.Errorf("unknown method %q", full)
	}

	in := []reflect.Value{mt.recv}
	nIn := m.Type.NumIn() - 1
	if len(args) != nIn {
		return nil, fmt.Errorf("%s takes %d arguments, got %d", m.Name, nIn, len(args))
	}
	for i, raw := range args {
		p := reflect.New(m.Type.In(i + 1))
		if err := json.Unmarshal(raw, p.Interface()); err != nil {
			return nil, fmt.Errorf("%s argument %d: %w", m.Name, i+1, err)
		}
		in = append(in, p.Elem())
	}

	defer func() {
		if v := recover(); v != nil {
			log.Error("api method panicked", "method", m.Name, "panic", fmt.Sprint(v),
				"stack", string(debug.Stack()))
			res, err = nil, fmt.Errorf("internal error in %s; see the warden log", m.Name)
		}
	}()
	out := m.Func.Call(in)

	if n := len(out); n > 0 && m.Type.Out(n-1) == errorType {
		if e, _ := out[n-1].Interface().(error); e != nil {
			return nil, e
		}
		out = out[:n-1]
	}
	if len(out) == 0 {
		return nil, nil
	}
	return out[0].Interface(), nil
}

// bridgeJS generates the browser-mode bridge. Rejected promises carry a plain string, as in
// the desktop window, so the frontend handles errors the same way in both modes.
func (mt *methodTable) bridgeJS(csrf string) string {
	names, _ := json.Marshal(mt.names())
	token, _ := json.Marshal(csrf)
	pkg, _ := json.Marshal(mt.pkg)
	name, _ := json.Marshal(mt.name)

	var b strings.Builder
	b.WriteString("// Generated by warden serve: the browser-mode stand-in for the Wails bridge.\n")
	b.WriteString("(function () {\n  \"use strict\";\n")
	fmt.Fprintf(&b, "  var csrf = %s, pkg = %s, struct = %s, methods = %s;\n",
		token, pkg, name, names)
	b.WriteString(bridgeBody)
	return b.String()
}

const bridgeBody = `  function call(method, args) {
    return fetch("/api/call", {
      method: "POST",
      credentials: "same-origin",
      headers: {"Content-Type": "application/json", "X-Warden-CSRF": csrf},
      body: JSON.stringify({name: pkg + "." + struct + "." + method, args: args})
    }).then(function (resp) {
      return resp.text().then(function (text) {
        var body;
        try { body = JSON.parse(text); } catch (e) {
          throw "warden server answered " + resp.status + ": " + text.trim();
        }
        if (body.error) { throw body.error; }
        return body.result === undefined ? null : body.result;
      });
    }, function (err) {
      throw "cannot reach warden serve: " + err;
    });
  }
  var api = {};
  methods.forEach(function (m) {
    api[m] = function () { return call(m, Array.prototype.slice.call(arguments)); };
  });
  window.go = window.go || {};
  window.go[pkg] = window.go[pkg] || {};
  window.go[pkg][struct] = api;
  function log(fn) { return function (msg) { fn.call(console, "[warden]", msg); }; }
  window.runtime = {
    WindowSetTitle: function (t) { document.title = t; },
    EventsOn: function () { return function () {}; },
    EventsOff: function () {},
    EventsEmit: function () {},
    BrowserOpenURL: function (url) { window.open(url, "_blank", "noopener,noreferrer"); },
    LogPrint: log(console.log), LogTrace: log(console.debug), LogDebug: log(console.debug),
    LogInfo: log(console.info), LogWarning: log(console.warn), LogError: log(console.error),
    LogFatal: log(console.error)
  };
  window.wardenBrowserMode = true;
})();
`
