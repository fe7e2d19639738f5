package app

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"regexp"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/robfig/cron/v3"

	"warden/backend/atlassian"
	"warden/backend/atlassian/fake"
	"warden/backend/audit"
	"warden/backend/syncer"
)

func newFlags(name string) *flag.FlagSet {
	fl := flag.NewFlagSet(name, flag.ContinueOnError)
	fl.SetOutput(io.Discard)
	return fl
}

// takesArgs names the commands whose operands follow their flags; every other command refuses
// stray words instead of ignoring them.
var takesArgs = map[string]bool{"import": true}

func parse(fl *flag.FlagSet, args []string) error {
	if err := fl.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return fmt.Errorf("%w: %s: %v", errUsage, fl.Name(), err)
	}
	if fl.NArg() > 0 && !takesArgs[fl.Name()] {
		return fmt.Errorf("%w: %s: unexpected %q", errUsage, fl.Name(), fl.Arg(0))
	}
	return nil
}

func runConnect(ctx context.Context, core *Core, e env, args []string) error {
	var req ConnectRequest
	fl := newFlags("connect")
	fl.StringVar(&req.Name, "name", "", "connector name")
	fl.StringVar(&req.OrgID, "org", "", "organization ID")
	fl.StringVar(&req.Expires, "expires", "", "key expiry date")
	fl.StringVar(&req.APIBase, "api-base", e.getenv("WARDEN_API_BASE"), "API base URL")
	fl.IntVar(&req.BackfillDays, "backfill-days", 180, "how many days the first sync reaches back")
	if err := parse(fl, args); err != nil {
		return err
	}
	if req.OrgID == "" || req.Expires == "" {
		return fmt.Errorf("%w: connect needs --org and --expires", errUsage)
	}
	if req.BackfillDays < 1 || req.BackfillDays > 180 {
		return fmt.Errorf("%w: --backfill-days is 1 to 180", errUsage)
	}

	// A key piped on standard input wins; WARDEN_API_KEY is the fallback for scripts that
	// cannot pipe. A terminal is never read, so nothing waits for typing.
	if !isTerminal(e.stdin) {
		b, err := io.ReadAll(io.LimitReader(e.stdin, 64<<10))
		if err != nil {
			return fmt.Errorf("read API key from standard input: %w", err)
		}
		req.APIKey = strings.TrimSpace(string(b))
	}
	if req.APIKey == "" {
		req.APIKey = strings.TrimSpace(e.getenv("WARDEN_API_KEY"))
	}
	if req.APIKey == "" {
		return invalid("no API key: pipe it on standard input or set WARDEN_API_KEY")
	}

	conn, err := core.Connect(ctx, req)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "connected %s to %q (%s), key expires %s; run `warden sync` to "+
		"backfill\n", conn.Name, conn.OrgName, conn.OrgID, conn.Expires.Format("2006-01-02"))
	return nil
}

func runConnectors(core *Core, e env, args []string) error {
	if err := parse(newFlags("connectors"), args); err != nil {
		return err
	}
	api := NewAPI(core)
	st, err := api.Status()
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(e.stdout, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tNAME\tORGANIZATION\tEVENTS\tKEY EXPIRES\tLAST SYNC\tLAST ERROR")
	for _, c := range st.Connectors {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s (%dd)\t%s\t%s\n", c.ID, c.Name, c.OrgName, c.Events,
			c.Expires, c.DaysLeft, dash(c.LastSync), dash(c.LastError))
	}
	return tw.Flush()
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func runSync(ctx context.Context, core *Core, e env, args []string) error {
	fl := newFlags("sync")
	once := fl.Bool("once", false, "sync once and exit")
	every := fl.String("every", "@every 5m", "cron schedule")
	if err := parse(fl, args); err != nil {
		return err
	}
	// Checked before syncing, so a typo does not cost a whole sync first.
	if _, err := cron.ParseStandard(*every); err != nil {
		return fmt.Errorf("%w: --every %q is not a schedule (like @every 5m or */10 * * * *): %v",
			errUsage, *every, err)
	}
	conns, err := core.Connectors()
	if err != nil {
		return err
	}
	if len(conns) == 0 {
		return invalid("no connectors: run `warden connect` first")
	}

	stop := showProgress(core, e.stderr, conns)
	err = core.SyncAll(ctx)
	stop()
	if *once || err != nil && ctx.Err() != nil {
		return err
	}
	if err != nil {
		fmt.Fprintf(e.stderr, "warden: %s\n", oneLine(userMessage(err)))
	}

	if err := core.StartSchedule(*every); err != nil {
		return err
	}
	fmt.Fprintf(e.stderr, "warden: syncing on schedule %q; press Ctrl+C to stop\n", *every)
	<-ctx.Done()
	return nil
}

// showProgress prints a progress line per connector every second until stopped: a live bar on
// a terminal, plain lines every few seconds otherwise.
func showProgress(core *Core, w io.Writer, conns []Connector) (stop func()) {
	tty := isTerminal(w)
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(time.Second)
		defer t.Stop()
		n := 0
		for {
			select {
			case <-done:
				printProgress(core, w, conns, tty, true)
				return
			case <-t.C:
				n++
				if tty || n%5 == 0 {
					printProgress(core, w, conns, tty, false)
				}
			}
		}
	}()
	return func() { close(done); <-finished }
}

func printProgress(core *Core, w io.Writer, conns []Connector, tty, final bool) {
	now := core.o.Now()
	for _, c := range conns {
		p := core.syncer.Progress(c.OrgID)
		if p.Phase == "idle" {
			continue
		}
		line := fmt.Sprintf("%-20.20s %s %3.0f%% %s: %d events (%d new), %d pages, %.0f/s",
			c.Name, bar(p.Fraction, 20), 100*p.Fraction, p.Phase, p.Events, p.Added, p.Pages,
			p.PerSecond(now))
		if eta := p.ETA(now); eta > 0 {
			line += ", about " + eta.Round(time.Second).String() + " left"
		}
		if tty && !final {
			fmt.Fprintf(w, "\r%s\x1b[K", line)
		} else if tty {
			fmt.Fprintf(w, "\r%s\x1b[K\n", line)
		} else {
			fmt.Fprintln(w, line)
		}
	}
}

func bar(f float64, width int) string {
	n := int(f * float64(width))
	n = max(0, min(n, width))
	return "[" + strings.Repeat("#", n) + strings.Repeat(".", width-n) + "]"
}

func isTerminal(w any) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

func runEvents(core *Core, e env, args []string) error {
	var q EventQuery
	fl := newFlags("events")
	fl.StringVar(&q.Since, "since", "", "duration or time")
	fl.StringVar(&q.User, "user", "", "account id or email")
	fl.StringVar(&q.Action, "action", "", "action key")
	fl.StringVar(&q.Org, "org", "", "organization id")
	fl.StringVar(&q.IP, "ip", "", "IP address")
	fl.StringVar(&q.Country, "country", "", "country name")
	fl.StringVar(&q.Product, "product", "", "product")
	limit := fl.Int("limit", 0, "at most this many events (0 = all)")
	asJSON := fl.Bool("json", false, "one JSON object per line")
	if err := parse(fl, args); err != nil {
		return err
	}
	if *limit < 0 {
		return fmt.Errorf("%w: --limit is a number of events, 0 for all", errUsage)
	}
	if q.Org != "" {
		if conn, err := core.Connector(q.Org); err == nil {
			q.Org = conn.OrgID
		}
	}
	f, err := core.eventFilter(q)
	if err != nil {
		return err
	}

	out := bufio.NewWriter(e.stdout)
	defer out.Flush()
	tw := tabwriter.NewWriter(out, 2, 4, 2, ' ', 0)
	if !*asJSON {
		fmt.Fprintln(tw, "TIME\tUSER\tACTION\tIP\tLOCATION\tPRODUCT")
	}
	enc := json.NewEncoder(out)
	n := 0
	for {
		f.Limit = 1000
		page, err := core.store.Query(f)
		if err != nil {
			return err
		}
		for i := range page.Events {
			ev := &page.Events[i]
			if *asJSON {
				if err := enc.Encode(ev); err != nil {
					return err
				}
			} else {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", ev.Time.UTC().Format(time.RFC3339),
					dash(firstNonEmpty(ev.ActorEmail, ev.ActorName, ev.ActorID)), ev.Action,
					dash(firstNonEmpty(ev.IP, ev.RawIP)), dash(place(ev)), ev.Product)
			}
			n++
			if *limit > 0 && n >= *limit {
				return tw.Flush()
			}
		}
		if page.Next == "" {
			break
		}
		f.Before = page.Next
	}
	return tw.Flush()
}

func place(e *audit.Event) string {
	switch {
	case e.City != "" && e.Country != "":
		return e.City + ", " + e.Country
	case e.Country != "":
		return e.Country
	}
	return e.City
}

func firstNonEmpty(s ...string) string {
	for _, x := range s {
		if x != "" {
			return x
		}
	}
	return ""
}

// orgInLink finds the organization id in an event's self link.
var orgInLink = regexp.MustCompile(`/orgs/([^/?]+)/`)

func runImport(core *Core, e env, args []string) error {
	fl := newFlags("import")
	org := fl.String("org", "", "organization id the events belong to")
	if err := parse(fl, args); err != nil {
		return err
	}
	if fl.NArg() == 0 {
		return fmt.Errorf("%w: import needs at least one FILE", errUsage)
	}

	// Every file is read and checked before anything is stored, so a bad file in the list
	// stores nothing rather than half of the import.
	byOrg := map[string][]audit.Event{}
	total, skipped := 0, 0
	for _, name := range fl.Args() {
		evs, err := readEventsFile(name)
		if err != nil {
			return err
		}
		if len(evs) == 0 {
			return invalid("%s holds no audit events", name)
		}
		got, n, err := core.groupByOrg(evs, *org)
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		if n == len(evs) {
			return invalid("%s holds no audit events with an id, a time and an action", name)
		}
		for o, list := range got {
			byOrg[o] = append(byOrg[o], list...)
		}
		total += len(evs)
		skipped += n
	}

	added := 0
	for o, list := range byOrg {
		fresh, err := core.store.PutEventsNew(o, list)
		added += len(fresh)
		if err != nil {
			return fmt.Errorf("store imported events: %w", err)
		}
		// Imported history goes through detection like synced history.
		sort.SliceStable(fresh, func(i, j int) bool { return fresh[i].Time.Before(fresh[j].Time) })
		core.detectPage(o, fresh)
		core.settleDetection(o)
	}
	fmt.Fprintf(e.stdout, "imported %d events (%d new, %d already stored", total, added,
		total-skipped-added)
	if skipped > 0 {
		fmt.Fprintf(e.stdout, ", %d skipped: no id, time or action", skipped)
	}
	fmt.Fprintln(e.stdout, ")")
	return nil
}

// readEventsFile reads a saved API page ({"data":[...]}) or newline-delimited events.
func readEventsFile(name string) ([]atlassian.Event, error) {
	b, err := os.ReadFile(name)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	trimmed := bytes.TrimSpace(b)
	if len(trimmed) == 0 {
		return nil, nil
	}
	if bytes.HasPrefix(trimmed, []byte("{")) &&
		bytes.Contains(trimmed[:min(len(trimmed), 4096)], []byte(`"data"`)) {
		page, err := atlassian.DecodeEventPage(trimmed)
		if err == nil {
			return page.Data, nil
		}
		if !bytes.Contains(trimmed, []byte("\n{")) {
			return nil, invalid("%s is not a readable API page: %v", name, err)
		}
	}

	var out []atlassian.Event
	sc := bufio.NewScanner(bytes.NewReader(trimmed))
	sc.Buffer(make([]byte, 0, 64<<10), 16<<20)
	for line := 1; sc.Scan(); line++ {
		l := bytes.TrimSpace(sc.Bytes())
		if len(l) == 0 {
			continue
		}
		wrapped := append(append([]byte(`{"data":[`), l...), ']', '}')
		page, err := atlassian.DecodeEventPage(wrapped)
		if err != nil || len(page.Data) != 1 {
			return nil, invalid("%s line %d is not an audit event (a saved API page or one "+
				"JSON event per line is expected)", name, line)
		}
		out = append(out, page.Data[0])
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	return out, nil
}

// groupByOrg normalizes imported events under the organization named by --org, by each
// event's own link, or by the only connector. Events without an id, a time or an action are
// counted as skipped: nothing could find or deduplicate them.
func (c *Core) groupByOrg(evs []atlassian.Event, org string) (map[string][]audit.Event, int,
	error) {
	fallback := org
	if fallback == "" {
		if conns, err := c.Connectors(); err == nil && len(conns) == 1 {
			fallback = conns[0].OrgID
		}
	}
	out := map[string][]audit.Event{}
	skipped := 0
	for i := range evs {
		w := &evs[i]
		if w.ID == "" || w.Attributes.Time.IsZero() || w.Attributes.Action == "" {
			skipped++
			continue
		}
		o := org
		if o == "" {
			if m := orgInLink.FindStringSubmatch(w.Links.Self); m != nil {
				o = m[1]
			}
		}
		if o == "" {
			o = fallback
		}
		if o == "" {
			return nil, 0, invalid("cannot tell which organization event %s belongs to; "+
				"pass --org", w.ID)
		}
		out[o] = append(out[o], syncer.Normalize(o, w, nil))
	}
	return out, skipped, nil
}

func runServe(ctx context.Context, core *Core, e env, args []string) error {
	fl := newFlags("serve")
	addr := fl.String("addr", "127.0.0.1:8089", "loopback address to listen on")
	if err := parse(fl, args); err != nil {
		return err
	}
	if err := core.StartSchedule(""); err != nil {
		return err
	}
	core.SyncInBackground("")
	return Serve(ctx, ServeOptions{Addr: *addr, API: NewAPI(core), Assets: e.assets,
		Out: e.stdout, Logger: core.log})
}

// runFakeAPI serves the fake Atlassian API for tests and demos, never against a real org.
func runFakeAPI(ctx context.Context, e env, args []string) error {
	fl := newFlags("fakeapi")
	addr := fl.String("addr", "127.0.0.1:0", "loopback address")
	fixtures := fl.String("fixtures", "", "serve this fixtures directory")
	demo := fl.Bool("demo", false, "serve the demo organization")
	n := fl.Int("generate", 0, "serve this many generated events")
	perMin := fl.Int("per-minute", 0, "rate limit (requests a minute, 0 = none)")
	redate := fl.Bool("redate", false, "move fixture events so the newest is an hour old")
	if err := parse(fl, args); err != nil {
		return err
	}

	var opts fake.Options
	switch {
	case *fixtures != "":
		o, err := fake.LoadFixtures(*fixtures)
		if err != nil {
			return err
		}
		if *redate {
			o = o.Redated(time.Now().Add(-time.Hour))
		}
		opts = o
	case *n > 0:
		opts = fake.Demo(demoSeed, time.Now())
		opts.Events = fake.Generate(*n, demoSeed, time.Now().Add(-170*24*time.Hour))
	case *demo:
		opts = fake.Demo(demoSeed, time.Now())
	default:
		return fmt.Errorf("%w: fakeapi needs --fixtures DIR, --demo or --generate N", errUsage)
	}
	opts.PerMinute = *perMin

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	if !ln.Addr().(*net.TCPAddr).IP.IsLoopback() {
		ln.Close()
		return invalid("fakeapi listens on loopback only")
	}
	srv := &http.Server{Handler: fake.New(opts), ReadHeaderTimeout: 10 * time.Second}
	fmt.Fprintf(e.stdout, "fakeapi listening on http://%s org=%s key=%s\n", ln.Addr(),
		opts.OrgID, opts.APIKey)
	if f, ok := e.stdout.(*os.File); ok {
		_ = f.Sync()
	}
	go func() {
		<-ctx.Done()
		_ = srv.Close()
	}()
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
