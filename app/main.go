package app

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"strings"
	"syscall"
	"time"

	"warden/backend/store"
)

// Version is Warden's version, shown in the window and sent as the User-Agent.
const Version = "0.1.0"

// errUsage marks a command line that cannot be run; Main prints usage and exits 2.
var errUsage = errors.New("usage")

const usage = `Warden protects an Atlassian cloud organization from your desktop.

Usage:
  warden [global flags]                       open the window
  warden [global flags] connect --name NAME --org ORG_ID --expires YYYY-MM-DD [--api-base URL]
                        [--backfill-days 1-180]
                                              (API key on standard input or in WARDEN_API_KEY)
  warden [global flags] connectors            list connectors
  warden [global flags] sync [--once]         sync every connector (on a schedule without --once)
  warden [global flags] events [--since DURATION|TIME] [--user ID|EMAIL] [--action KEY] [--json]
  warden [global flags] import FILE...        load saved API pages or newline-delimited JSON
  warden [global flags] alerts [--status open|resolved] [--severity S] [--json]
                                              print detected alerts, newest first
  warden [global flags] serve --addr 127.0.0.1:PORT
                                              serve the window's frontend to a local browser
  warden [global flags] iprange [add --name N --category C --cidr CIDR[,CIDR] [--tag T]]
                                              list or add IP ranges (corporate, vpn, cloud,
                                              administrative, risky); overlaps are refused
  warden [global flags] iplist [import --name N [--category C] [--tag T] --file F|--url U]
                                              list or import IP lists (Tor exit list format or
                                              one IP/CIDR a line); URL lists refresh every 6h
  warden [global flags] geodb [--city FILE.mmdb [--city6 FILE.mmdb]]
                                              show the IP data, or use your own city database
  warden [global flags] act ACTION --user ID|EMAIL [--alert ID] [--dry-run] [--org ORG]
                                              ACTION: notify, suspend, restore, reauth,
                                              revoke-tokens, deactivate, reactivate
  warden [global flags] actions [--json|--csv] [--user U] [--status S]
                                              print the governance log
  warden version

Global flags:
  --data-dir DIR   where Warden keeps its store (default ~/.local/share/warden)
  --demo           set up and show the built-in demo organization
  --verbose        log more to standard error
`

// env is what a command runs with; tests replace its parts.
type env struct {
	assets fs.FS
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
	getenv func(string) string
}

// Main runs the command line and returns the process exit status.
func Main(assets fs.FS, args []string) int {
	debug.SetMemoryLimit(store.SuggestedMemoryLimit)
	e := env{assets: assets, stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr,
		getenv: os.Getenv}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return run(ctx, e, args)
}

type globals struct {
	dataDir  string
	demo     bool
	verbose  bool
	selftest bool
}

func run(ctx context.Context, e env, args []string) int {
	g, rest, err := parseGlobals(args, e.stderr)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprint(e.stdout, usage)
			return 0
		}
		fmt.Fprintf(e.stderr, "warden: %v\n", err)
		return 2
	}

	// The command line ends with one line saying what went wrong; retries and other warnings
	// along the way are shown with --verbose.
	level := slog.LevelError
	if g.verbose {
		level = slog.LevelInfo
	}
	log := slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: level}))

	cmd := ""
	if len(rest) > 0 {
		cmd, rest = rest[0], rest[1:]
	}
	if cmd == "version" {
		fmt.Fprintln(e.stdout, "warden", Version)
		return 0
	}
	if cmd == "fakeapi" {
		return report(e, runFakeAPI(ctx, e, rest))
	}

	core, err := OpenCore(CoreOptions{DataDir: g.dataDir, Logger: log,
		APIBase: e.getenv("WARDEN_API_BASE")})
	if err != nil {
		return report(e, err)
	}
	defer func() {
		if err := core.Close(); err != nil {
			log.Error("close store failed", "err", err)
		}
	}()
	if g.demo {
		if err := prepareDemo(ctx, core, cmd); err != nil {
			return report(e, err)
		}
	}

	switch cmd {
	case "":
		err = runWindow(ctx, core, e, g)
	case "connect":
		err = runConnect(ctx, core, e, rest)
	case "connectors":
		err = runConnectors(core, e, rest)
	case "sync":
		err = runSync(ctx, core, e, rest)
	case "events":
		err = runEvents(core, e, rest)
	case "import":
		err = runImport(core, e, rest)
	case "serve":
		err = runServe(ctx, core, e, rest)
	case "alerts":
		err = runAlerts(core, e, rest)
	case "iprange":
		err = runIPRange(core, e, rest)
	case "iplist":
		err = runIPList(core, e, rest)
	case "geodb":
		err = runGeoDB(core, e, rest)
	case "act":
		err = runAct(core, e, rest)
	case "actions":
		err = runActions(core, e, rest)
	default:
		err = fmt.Errorf("%w: unknown command %q", errUsage, cmd)
	}
	return report(e, err)
}

// report prints a one-line reason for a failed command and returns the exit status.
func report(e env, err error) int {
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		fmt.Fprint(e.stdout, usage)
		return 0
	case errors.Is(err, errUsage):
		fmt.Fprintf(e.stderr, "warden: %s (see warden --help)\n",
			strings.TrimPrefix(err.Error(), "usage: "))
		return 2
	}
	fmt.Fprintf(e.stderr, "warden: %s\n", oneLine(userMessage(err)))
	return 1
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

func parseGlobals(args []string, stderr io.Writer) (globals, []string, error) {
	var g globals
	fl := flag.NewFlagSet("warden", flag.ContinueOnError)
	fl.SetOutput(io.Discard)
	fl.StringVar(&g.dataDir, "data-dir", "", "data directory")
	fl.BoolVar(&g.demo, "demo", false, "use the demo organization")
	fl.BoolVar(&g.verbose, "verbose", false, "log more")
	fl.BoolVar(&g.selftest, "selftest-nil-deref", false, "desktop self test")
	if err := fl.Parse(args); err != nil {
		return g, nil, err
	}
	return g, fl.Args(), nil
}

// prepareDemo sets up the demo organization. Commands that read the store sync it first when
// it has never been synced, so `warden --demo events` shows the demo's history.
func prepareDemo(ctx context.Context, core *Core, cmd string) error {
	conn, err := core.EnsureDemo()
	if err != nil {
		return err
	}
	switch cmd {
	case "events", "connectors", "alerts", "act", "actions":
	default:
		return nil
	}
	if cur, ok, err := core.store.Cursor(conn.OrgID); err == nil && ok && cur.Backfilled {
		return nil
	}
	_, err = core.SyncConnector(ctx, conn.ID)
	return err
}

// runWindow opens the desktop window. Closing it ends the process; the schedule keeps the
// audit log current while it is open.
func runWindow(ctx context.Context, core *Core, e env, g globals) error {
	if err := core.StartSchedule(""); err != nil {
		return err
	}
	if err := displayAvailable(e.getenv); err != nil {
		return err
	}
	title := "Warden"
	if g.demo {
		title = "Warden (demo organization)"
	}
	return runDesktop(DesktopOptions{
		Title:  title,
		API:    NewAPI(core),
		Assets: e.assets,
		OnStartup: func(ctx context.Context) {
			core.SyncInBackground("")
			if g.selftest {
				go selfTestNilDeref(ctx, e.stderr)
			}
		},
	})
}

// selfTestNilDeref proves the signal fix: a recovered nil dereference after WebKit has
// installed its handlers must stay an ordinary panic instead of killing the process.
func selfTestNilDeref(ctx context.Context, stderr io.Writer) {
	for _, d := range []time.Duration{1500 * time.Millisecond, 10500 * time.Millisecond} {
		select {
		case <-ctx.Done():
			return
		case <-time.After(d):
		}
		func() {
			defer func() {
				if r := recover(); r != nil {
					fmt.Fprintln(stderr, "selftest: recovered nil dereference")
				}
			}()
			var p *struct{ n int }
			p.n++
		}()
	}
}

// displayAvailable refuses to open a window where GTK would panic for want of a display.
func displayAvailable(getenv func(string) string) error {
	if runtime.GOOS != "linux" || getenv("DISPLAY") != "" || getenv("WAYLAND_DISPLAY") != "" {
		return nil
	}
	return invalid("no display to open the window on (DISPLAY and WAYLAND_DISPLAY are " +
		"unset): run Warden in a desktop session, or use `warden serve` for a browser or " +
		"`warden sync` headless")
}
