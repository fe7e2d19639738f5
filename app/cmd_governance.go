package app

import (
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"warden/backend/govern"
)

func runAct(core *Core, e env, args []string) error {
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		return fmt.Errorf("%w: act needs an ACTION first (one of %s)", errUsage, actionList())
	}
	req := ActRequest{Action: args[0]}
	fl := newFlags("act")
	fl.StringVar(&req.User, "user", "", "account id or email")
	fl.StringVar(&req.AlertID, "alert", "", "alert id")
	fl.StringVar(&req.Org, "org", "", "connector or organization")
	fl.BoolVar(&req.DryRun, "dry-run", false, "send nothing; say what would be sent")
	cc := fl.String("cc", "", "comma-separated admin addresses that get a copy of a notification")
	if err := parse(fl, args[1:]); err != nil {
		return err
	}
	if req.User == "" {
		return fmt.Errorf("%w: act needs --user", errUsage)
	}
	req.CC = splitList(*cc)
	if _, err := govern.ParseAction(req.Action); err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}

	entry, err := core.runAction(req, "manual:cli")
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "%s %s: %s\n", entry.Action, userLabel(entry), entry.Status)
	if entry.Reason != "" {
		fmt.Fprintln(e.stdout, "  "+entry.Reason)
	}
	for _, st := range entry.Steps {
		fmt.Fprintf(e.stdout, "  %s %s  %s\n", st.Method, st.Path, st.What)
	}
	if entry.Status == govern.StatusFailed || entry.Status == govern.StatusRefused {
		return fmt.Errorf("%s %s %s: %s", entry.Action, userLabel(entry), entry.Status,
			oneLine(firstNonEmpty(entry.Reason, entry.Error)))
	}
	return nil
}

func userLabel(e govern.Entry) string {
	return firstNonEmpty(e.UserEmail, e.UserName, e.User)
}

func actionList() string {
	var names []string
	for _, a := range govern.Actions() {
		names = append(names, string(a))
	}
	return strings.Join(names, ", ")
}

func runActions(core *Core, e env, args []string) error {
	var q LogQuery
	fl := newFlags("actions")
	fl.StringVar(&q.User, "user", "", "user")
	fl.StringVar(&q.Action, "action", "", "action")
	fl.StringVar(&q.Status, "status", "", "status")
	fl.StringVar(&q.Since, "since", "", "duration or time")
	asJSON := fl.Bool("json", false, "one JSON object per line")
	asCSV := fl.Bool("csv", false, "CSV")
	if err := parse(fl, args); err != nil {
		return err
	}
	if *asJSON && *asCSV {
		return fmt.Errorf("%w: actions prints --json or --csv, not both", errUsage)
	}
	f, err := core.logFilter(q)
	if err != nil {
		return err
	}
	g, _, err := core.governor("")
	if err != nil {
		return err
	}
	entries, err := g.List(f)
	if err != nil {
		return err
	}

	switch {
	case *asJSON:
		return govern.WriteJSONLines(e.stdout, entries)
	case *asCSV:
		return govern.WriteCSV(e.stdout, entries)
	}
	tw := tabwriter.NewWriter(e.stdout, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "TIME\tACTION\tUSER\tTRIGGER\tSTATUS\tREASON")
	for _, x := range entries {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", x.Time.UTC().Format(time.RFC3339), x.Action,
			userLabel(x), x.Trigger, x.Status, dash(oneLine(x.Reason)))
	}
	return tw.Flush()
}
