package app

import (
	"context"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"
)

// runIPRange manages the admin's IP ranges: `iprange add ...` or `iprange` to list them.
func runIPRange(core *Core, e env, args []string) error {
	if len(args) == 0 || args[0] == "list" {
		ranges, err := core.IPRanges()
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(e.stdout, 2, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "NAME\tCATEGORY\tCIDRS\tTAGS")
		for _, r := range ranges {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", r.Name, r.Category, strings.Join(r.CIDRs, ","),
				dash(strings.Join(r.Tags, ",")))
		}
		return tw.Flush()
	}
	if args[0] != "add" {
		return fmt.Errorf("%w: iprange takes add or list", errUsage)
	}
	var r RangeInput
	var cidrs, tags string
	fl := newFlags("iprange add")
	fl.StringVar(&r.Name, "name", "", "range name")
	fl.StringVar(&r.Category, "category", "", "corporate, vpn, cloud, administrative or risky")
	fl.StringVar(&cidrs, "cidr", "", "comma-separated IPs or CIDRs")
	fl.StringVar(&tags, "tag", "", "comma-separated free tags")
	if err := parse(fl, args[1:]); err != nil {
		return err
	}
	r.CIDRs = splitList(cidrs)
	r.Tags = splitList(tags)
	if r.Name == "" || len(r.CIDRs) == 0 {
		return fmt.Errorf("%w: iprange add needs --name and --cidr", errUsage)
	}
	ranges, err := core.IPRanges()
	if err != nil {
		return err
	}
	if err := core.SaveIPRanges(append(ranges, r)); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "added range %s (%s): %s\n", r.Name, r.Category, cidrs)
	return nil
}

// runIPList imports a list from a file or URL, or lists the imported ones.
func runIPList(core *Core, e env, args []string) error {
	if len(args) == 0 || args[0] == "list" {
		lists, err := core.IPLists()
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(e.stdout, 2, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "NAME\tCATEGORY\tTAG\tSOURCE\tENTRIES\tUPDATED\tLAST ERROR")
		for _, l := range lists {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%s\t%s\n", l.Name, l.Category, dash(l.Tag),
				firstNonEmpty(l.URL, l.File), l.Entries,
				l.UpdatedAt.Format(time.RFC3339), dash(l.LastError))
		}
		return tw.Flush()
	}
	if args[0] != "import" {
		return fmt.Errorf("%w: iplist takes import or list", errUsage)
	}
	var l IPList
	fl := newFlags("iplist import")
	fl.StringVar(&l.Name, "name", "", "list name")
	fl.StringVar(&l.Category, "category", "", "category of the listed addresses (default "+
		"risky, or the list's current one when importing it again)")
	fl.StringVar(&l.Tag, "tag", "", "tag, e.g. tor")
	fl.StringVar(&l.File, "file", "", "read the list from this file (Tor exit list or IP/CIDR lines)")
	fl.StringVar(&l.URL, "url", "", "fetch the list from this URL now and every 6 hours")
	if err := parse(fl, args[1:]); err != nil {
		return err
	}
	if (l.File == "") == (l.URL == "") {
		return fmt.Errorf("%w: iplist import takes --file or --url, one of them", errUsage)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	saved, err := core.ImportIPList(ctx, l)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "imported list %s: %d entries (%s)\n", saved.Name, saved.Entries,
		saved.Category)
	return nil
}

func splitList(s string) []string {
	var out []string
	for _, x := range strings.Split(s, ",") {
		if x = strings.TrimSpace(x); x != "" {
			out = append(out, x)
		}
	}
	return out
}

// runGeoDB points Warden at the admin's own city database, or shows the current one.
func runGeoDB(core *Core, e env, args []string) error {
	var f GeoFiles
	fl := newFlags("geodb")
	fl.StringVar(&f.CityMMDB, "city", "", "GeoLite2-City or DB-IP City .mmdb file")
	fl.StringVar(&f.CityMMDBv6, "city6", "", "the IPv6 file of a database split by IP version")
	if err := parse(fl, args); err != nil {
		return err
	}
	if f.CityMMDB == "" && f.CityMMDBv6 == "" {
		for _, s := range core.geo.Sources() {
			fmt.Fprintf(e.stdout, "%-10s %s (%s) %s\n", s.Kind, s.Name, dash(s.Licence),
				firstNonEmpty(s.File, s.Package))
		}
		return nil
	}
	if err := core.SetGeoFiles(f); err != nil {
		return err
	}
	fmt.Fprintln(e.stdout, "city database saved; Warden uses it from its next start")
	return nil
}
