package app

import (
	"encoding/json"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"
)

func runAlerts(core *Core, e env, args []string) error {
	var q AlertQuery
	fl := newFlags("alerts")
	fl.StringVar(&q.Status, "status", "", "open or resolved")
	fl.StringVar(&q.Severity, "severity", "", "low, medium or high")
	fl.StringVar(&q.Policy, "policy", "", "policy id")
	fl.StringVar(&q.User, "user", "", "account id or email")
	fl.StringVar(&q.Org, "org", "", "connector or organization")
	fl.StringVar(&q.Range, "since", "", "duration like 7d")
	asJSON := fl.Bool("json", false, "one JSON object per line")
	if err := parse(fl, args); err != nil {
		return err
	}
	switch q.Status {
	case "", "open", "resolved":
	default:
		return fmt.Errorf("%w: --status is open or resolved", errUsage)
	}
	q.Severity = strings.ToLower(q.Severity)
	switch q.Severity {
	case "", "low", "medium", "high":
	default:
		return fmt.Errorf("%w: --severity is low, medium or high", errUsage)
	}

	alerts, err := NewAPI(core).ListAlerts(q)
	if err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(e.stdout)
		for i := range alerts {
			if err := enc.Encode(&alerts[i]); err != nil {
				return err
			}
		}
		return nil
	}
	tw := tabwriter.NewWriter(e.stdout, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "TIME\tSEVERITY\tSTATUS\tPOLICY\tUSER\tTITLE")
	for _, al := range alerts {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", al.Time.UTC().Format(time.RFC3339),
			al.Severity, al.Status, al.Policy, dash(firstNonEmpty(al.UserEmail, al.User)),
			al.Title)
		for _, ev := range al.Evidence {
			fmt.Fprintf(tw, "\t\t\t\t\t  %s\n", strings.TrimSpace(ev))
		}
	}
	return tw.Flush()
}
