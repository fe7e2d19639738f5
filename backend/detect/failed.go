package detect

import (
	"fmt"
	"math"
	"time"

	"warden/backend/audit"
)

// Failed-login defaults.
const (
	failWindow     = 5 * time.Minute
	failContinue   = 30 * time.Minute // a failure this close to the last one continues a burst
	failEscalation = 6 * time.Hour    // a success this soon after a burst raises its severity
)

// failedLogins is "Multiple failed login attempts".
//
// Algorithm: per user, the failed logins of the last 5 minutes of event time. The threshold
// is the larger of a floor (10 at medium, 20 at low, 6 at high, as Defender's template "more
// than 10 in 5 minutes") and the user's own baseline: median + 3 x max(1, MAD) of the user's
// worst 5 minutes on each of the last 30 days (days without failures count as zero). So a
// user whose mail client fails a dozen times a day does not alert on its usual noise.
//
// While a burst goes on (failures less than 30 minutes apart) there is one alert, updated
// with every failure. A successful login by the user within 6 hours after the burst raises
// the alert to high and says so. Learning: 7 days from the user's first activity. Severity
// medium.
func failedLogins(o *orgRun, a *activity, u *userState) {
	if u == nil {
		return
	}
	switch a.cat {
	case audit.CategoryLoginFailed:
		o.loginFailed(a, u)
	case audit.CategoryLoginSucceeded:
		o.loginAfterFailures(a, u)
	}
}

func (o *orgRun) loginFailed(a *activity, u *userState) {
	t := a.time()
	u.Fails = insertStamp(u.Fails, ipStamp{T: t, Key: a.ev.IP, ID: a.ev.ID})
	u.Fails = pruneStamps(u.Fails, u.Last.Add(-failHorizon))
	win := stampsIn(u.Fails, t.Add(-failWindow), t)
	day := dayOf(t)
	if u.FailPeak == nil {
		u.FailPeak = map[int32]int{}
	}
	u.FailPeak[day] = max(u.FailPeak[day], len(win))
	pruneDays(u.FailPeak, dayOf(u.Last)-retainDays)

	if b := u.FailBurst; b != nil && t.Sub(b.Last) <= failContinue && !t.Before(b.Start) {
		b.Last, b.Count = maxTime(b.Last, t), b.Count+1
		n, start := b.Count, b.Start
		o.update(b.Alert, func(al *Alert) {
			al.EventIDs = uniq(append(al.EventIDs, a.ev.ID))
			al.IPs = uniq(append(al.IPs, a.ev.IP))
			al.LastTime = maxTime(al.LastTime, t)
			al.Title = fmt.Sprintf("%d failed logins for %s", n, a.who())
			setProgress(al, fmt.Sprintf("%d failed logins between %s and %s UTC.", n,
				clock(start), clock(al.LastTime)))
		})
		return
	}

	cfg := o.settings.policy(PolicyFailedLogins)
	if !learned(u.First, t, cfg.learning()) {
		return
	}
	med, mad := dailyBaseline(u.FailPeak, day, dayOf(u.First))
	threshold := max(pick(cfg.Sensitivity, 20, 10, 6), int(math.Ceil(med+3*math.Max(1, mad))))
	if len(win) < threshold {
		return
	}

	d := draftFor(PolicyFailedLogins, a, SeverityMedium)
	d.Time, d.LastTime = win[0].T, t
	d.EventIDs, d.IPs = nil, nil
	for _, x := range win {
		d.EventIDs = append(d.EventIDs, x.ID)
		d.IPs = append(d.IPs, x.Key)
	}
	d.IPs = uniq(d.IPs)
	d.Title = fmt.Sprintf("%d failed logins for %s", len(win), a.who())
	d.Evidence = []string{
		fmt.Sprintf("%d failed logins between %s and %s UTC on %s from %s (%s).", len(win),
			clock(win[0].T), clock(t), t.UTC().Format("2006-01-02"), joinMax(d.IPs, 3),
			a.where().label()),
		fmt.Sprintf("The threshold is %d in 5 minutes; this user's usual worst 5 minutes is "+
			"%s failures.", threshold, trimFloat(med)),
	}
	d.Dedup = fmt.Sprintf("fail|%s|%d", a.user, win[0].T.Unix())
	d.Window = 6 * time.Hour
	if al := o.raise(d); al != nil {
		u.FailBurst = &burst{Alert: al.ID, Start: win[0].T, Last: t, Count: len(win)}
	}
}

func (o *orgRun) loginAfterFailures(a *activity, u *userState) {
	b := u.FailBurst
	t := a.time()
	if b == nil || b.Escalated || !t.After(b.Last) || t.Sub(b.Last) > failEscalation {
		return
	}
	b.Escalated = true
	same := ""
	for _, f := range u.Fails {
		if f.Key == a.ev.IP && a.ev.IP != "" {
			same = ", the same IP as failures"
			break
		}
	}
	line := fmt.Sprintf("Followed by a successful login at %s UTC from %s%s.", clock(t),
		a.ev.IP, same)
	o.update(b.Alert, func(al *Alert) {
		al.Severity = SeverityHigh
		al.Evidence = append(al.Evidence, line)
		al.EventIDs = uniq(append(al.EventIDs, a.ev.ID))
		al.LastTime = maxTime(al.LastTime, t)
	})
}

func joinMax(s []string, n int) string {
	if len(s) <= n {
		return joinAnd(s)
	}
	return fmt.Sprintf("%s and %d more", joinAnd(s[:n]), len(s)-n)
}

func joinAnd(s []string) string {
	switch len(s) {
	case 0:
		return "no IP"
	case 1:
		return s[0]
	}
	out := s[0]
	for _, x := range s[1 : len(s)-1] {
		out += ", " + x
	}
	return out + " and " + s[len(s)-1]
}

func trimFloat(f float64) string {
	if f == math.Trunc(f) {
		return fmt.Sprintf("%d", int(f))
	}
	return fmt.Sprintf("%.1f", f)
}
