package detect

import (
	"fmt"
	"math"
	"sort"
	"time"

	"warden/backend/audit"
)

// unusualAdmin is "Unusual administrative activities".
//
// Input: activities of category admin_action by a user, except self-service (an action whose
// only target users are the actor, such as turning off one's own 2SV or creating one's own
// API token). API-token (script) actions count, as they act with the admin's rights.
//
// Volume: admin actions by the actor in the trailing 60 minutes (the session window) against
// the actor's baseline of their busiest hour on each of the last 30 days (days without admin
// work count as zero): threshold max(floor, median + 3 x max(1, MAD)), floor 20 at medium (40
// low, 10 high), after RunReveal's UEBA rule. The day's total is checked the same way against
// daily totals with twice the floor. One alert per burst; actions within the next hour update
// it.
//
// Novelty: an action type the actor has never done before. At high sensitivity any new type
// alerts; at medium only a privileged type (roles, API keys, authentication and IP policies,
// domains, 2SV; see ActionMapping.Privileged) or three or more new types within one session
// window; at low novelty alone never alerts. One alert per actor and action type.
//
// Learning: 7 days from the actor's first admin action. Severity medium; high for a burst
// that includes a privileged type.
func unusualAdmin(o *orgRun, a *activity, u *userState) {
	if u == nil || a.cat != audit.CategoryAdmin || a.selfService() {
		return
	}
	t, day, action := a.time(), dayOf(a.time()), a.ev.Action
	u.FirstAdmin = minTime(u.FirstAdmin, t)
	if u.AdminTypes == nil {
		u.AdminTypes, u.AdminDays, u.AdminPeak = map[string]time.Time{}, map[int32]int{},
			map[int32]int{}
	}
	first, seen := u.AdminTypes[action]
	isNew := !seen || first.After(t)
	if isNew {
		u.AdminTypes[action] = t
		u.AdminNew = insertStamp(u.AdminNew, ipStamp{T: t, Key: action, ID: a.ev.ID})
	}
	u.AdminDays[day]++
	u.AdminRecent = insertStamp(u.AdminRecent, ipStamp{T: t, Key: action, ID: a.ev.ID})
	u.AdminRecent = pruneStamps(u.AdminRecent, u.Last.Add(-2*adminWindow))
	u.AdminNew = pruneStamps(u.AdminNew, u.Last.Add(-2*adminWindow))
	win := stampsIn(u.AdminRecent, t.Add(-adminWindow), t)
	u.AdminPeak[day] = max(u.AdminPeak[day], len(win))
	pruneDays(u.AdminDays, dayOf(u.Last)-retainDays)
	pruneDays(u.AdminPeak, dayOf(u.Last)-retainDays)

	cfg := o.settings.policy(PolicyUnusualAdmin)
	if !learned(u.FirstAdmin, t, cfg.learning()) {
		return
	}
	if b := u.AdminBurst; b != nil && t.Sub(b.Last) <= adminWindow && !t.Before(b.Start) {
		b.Last, b.Count = maxTime(b.Last, t), b.Count+1
		n, start := b.Count, b.Start
		o.update(b.Alert, func(al *Alert) {
			al.EventIDs = uniq(append(al.EventIDs, a.ev.ID))
			al.LastTime = maxTime(al.LastTime, t)
			al.Title = fmt.Sprintf("%d administrative actions in a short time by %s", n, a.who())
			setProgress(al, fmt.Sprintf("%d admin actions between %s and %s UTC.", n,
				clock(start), clock(al.LastTime)))
			if a.mapp.Privileged {
				al.Severity = SeverityHigh
			}
		})
		return
	}

	floor := pick(cfg.Sensitivity, 40, 20, 10)
	from := dayOf(u.FirstAdmin)
	med, mad := dailyBaseline(u.AdminPeak, day, from)
	hourly := max(floor, int(math.Ceil(med+3*math.Max(1, mad))))
	dmed, dmad := dailyBaseline(u.AdminDays, day, from)
	daily := max(2*floor, int(math.Ceil(dmed+3*math.Max(1, dmad))))
	if len(win) >= hourly || u.AdminDays[day] >= daily {
		o.adminVolume(a, u, win, hourly, med)
		return
	}

	if !isNew {
		return
	}
	fresh := map[string]bool{}
	for _, x := range stampsIn(u.AdminNew, t.Add(-adminWindow), t) {
		fresh[x.Key] = true
	}
	fire := pick(cfg.Sensitivity, false, a.mapp.Privileged || len(fresh) >= 3, true)
	if !fire {
		return
	}
	d := draftFor(PolicyUnusualAdmin, a, SeverityMedium)
	d.Title = fmt.Sprintf("First %s by %s", a.label(), a.who())
	what := a.label()
	if a.mapp.DisplayName != "" {
		what += " (" + action + ")"
	}
	d.Evidence = []string{fmt.Sprintf("%s: %s did %s for the first time.", stamp(t), a.who(),
		what)}
	if a.mapp.Privileged {
		d.Evidence = append(d.Evidence, "The action is privileged: it changes who can get in "+
			"or what protects the organization.")
	}
	if len(fresh) >= 3 {
		d.Evidence = append(d.Evidence, fmt.Sprintf("%d admin action types new for this "+
			"user within an hour.", len(fresh)))
	}
	d.Dedup = "adminnew|" + a.user + "|" + action
	d.Window = adminWindow
	o.raise(d)
}

func (o *orgRun) adminVolume(a *activity, u *userState, win []ipStamp, threshold int,
	med float64) {
	t := a.time()
	sev := SeverityMedium
	types := map[string]int{}
	d := draftFor(PolicyUnusualAdmin, a, sev)
	d.EventIDs = nil
	for _, x := range win {
		d.EventIDs = append(d.EventIDs, x.ID)
		types[x.Key]++
		if o.mapper.lookup(x.Key).Privileged {
			d.Severity = SeverityHigh
		}
	}
	d.Time, d.LastTime = win[0].T, t
	keys := make([]string, 0, len(types))
	for k := range types {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s x%d", k, types[k])
	}
	d.Title = fmt.Sprintf("%d administrative actions in a short time by %s", len(win), a.who())
	d.Evidence = []string{
		fmt.Sprintf("%d admin actions between %s and %s UTC on %s: %s.", len(win),
			clock(win[0].T), clock(t), t.UTC().Format("2006-01-02"), joinMax(parts, 4)),
		fmt.Sprintf("This user's busiest hour is usually %s actions; the threshold is %d.",
			trimFloat(med), threshold),
	}
	d.Dedup = fmt.Sprintf("adminvol|%s|%d", a.user, win[0].T.Unix())
	d.Window = adminWindow
	if al := o.raise(d); al != nil {
		u.AdminBurst = &burst{Alert: al.ID, Start: win[0].T, Last: t, Count: len(win)}
	}
}
