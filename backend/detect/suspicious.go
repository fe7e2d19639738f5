package detect

import (
	"fmt"
	"slices"
	"time"

	"warden/backend/audit"
)

// Suspicious-IP defaults.
const (
	sprayWindow  = 30 * time.Minute
	maxFailTimes = 200
	// priorLookup is how many earlier events of a newly failing IP are read from the store to
	// learn whether it ever succeeded before.
	priorLookup = 50
)

// suspiciousIP is "Activity from suspicious IP addresses". It raises three kinds of
// detection, all severity high:
//
//   - Threat list: an activity (not a failed login) from an IP whose range or list tag marks
//     a threat (botnet, malware, C2, scanner, password spray). One per user, IP and day.
//   - Only-failed IP: a successful login from an IP that had only failed logins before, at
//     least 5 of them at medium sensitivity (10 at low, 3 at high). The first failure of an
//     IP reads up to 50 earlier events of that IP from the store, so a known-good address
//     with a typo is not "only failed". One per IP and user.
//   - Password spray: failed logins from one IP against many distinct users within 30
//     minutes: 15 users at medium (25 at low, 10 at high), following Elastic's spraying
//     rule. The alert is about the IP; while the spray goes on it is updated, not repeated.
//
// Learning: the only-failed rule waits until the org has 7 days of history; the others need
// none, as they are about the IP, not a user's habit.
func suspiciousIP(o *orgRun, a *activity, _ *userState) {
	if !a.addr.IsValid() {
		return
	}
	cfg := o.settings.policy(PolicySuspiciousIP)
	if c, ok := a.ipClass(); ok && isThreat(c) && a.user != "" &&
		a.cat != audit.CategoryLoginFailed {
		d := draftFor(PolicySuspiciousIP, a, SeverityHigh)
		d.Title = "Activity from a suspicious IP address by " + a.who()
		d.Evidence = []string{fmt.Sprintf("%s: %s from %s, which is %s.", stamp(a.time()),
			a.label(), a.ev.IP, classLabel(c))}
		d.Dedup = fmt.Sprintf("threat|%s|%s|%d", a.user, a.ev.IP, dayOf(a.time()))
		o.raise(d)
	}

	switch a.cat {
	case audit.CategoryLoginFailed:
		o.ipFailure(a, cfg)
	case audit.CategoryLoginSucceeded:
		o.ipSuccess(a, cfg)
	}
}

func (o *orgRun) ipFailure(a *activity, cfg PolicyConfig) {
	ip, t := a.ev.IP, a.time()
	s := o.ipState(ip, t)
	s.Last = maxTime(s.Last, t)
	if len(s.FailTimes) < maxFailTimes {
		s.FailTimes = insertTime(s.FailTimes, t)
	}
	s.Recent = insertStamp(s.Recent, ipStamp{T: t, Key: a.user, ID: a.ev.ID})
	s.Recent = pruneStamps(s.Recent, s.Last.Add(-sprayWindow-failHorizon))
	o.dirtyIPs[ip] = true

	win := stampsIn(s.Recent, t.Add(-sprayWindow), t)
	users := map[string]bool{}
	for _, x := range win {
		users[x.Key] = true
	}
	if b := s.Spray; b != nil && t.Sub(b.Last) <= sprayWindow && !t.Before(b.Start) {
		b.Last, b.Count = maxTime(b.Last, t), b.Count+1
		n, start := len(users), b.Start
		o.update(b.Alert, func(al *Alert) {
			al.EventIDs = uniq(append(al.EventIDs, a.ev.ID))
			al.LastTime = maxTime(al.LastTime, t)
			al.Title = fmt.Sprintf("Password spray from %s against %d users", ip, n)
			setProgress(al, fmt.Sprintf("%d failed logins against %d users between %s and %s UTC.",
				len(al.EventIDs), n, clock(start), clock(al.LastTime)))
		})
		return
	}
	if len(users) < pick(cfg.Sensitivity, 25, 15, 10) {
		return
	}

	d := draft{Policy: PolicySuspiciousIP, Severity: SeverityHigh, IPs: []string{ip},
		Time: win[0].T, LastTime: t, Subject: "ip:" + ip, Window: 6 * time.Hour}
	for _, x := range win {
		d.EventIDs = append(d.EventIDs, x.ID)
	}
	d.Title = fmt.Sprintf("Password spray from %s against %d users", ip, len(users))
	d.Evidence = []string{fmt.Sprintf("%d failed logins against %d different users from %s "+
		"between %s and %s (%s).", len(win), len(users), ip, clock(win[0].T), clock(t),
		a.where().label())}
	d.Dedup = fmt.Sprintf("spray|%s|%d", ip, win[0].T.Unix())
	if al := o.raise(d); al != nil {
		s.Spray = &burst{Alert: al.ID, Start: win[0].T, Last: t, Count: len(win)}
	}
}

func (o *orgRun) ipSuccess(a *activity, cfg PolicyConfig) {
	ip, t := a.ev.IP, a.time()
	s, ok := o.ips[ip]
	if !ok {
		return // the IP never failed: nothing to say about it
	}
	prior := s.FirstSucc
	s.FirstSucc = minTime(s.FirstSucc, t)
	s.Last = maxTime(s.Last, t)
	o.dirtyIPs[ip] = true
	if !prior.IsZero() && !prior.After(t) {
		return
	}
	fails := countIn(s.FailTimes, time.Time{}, t)
	if fails < pick(cfg.Sensitivity, 10, 5, 3) || a.user == "" ||
		!learned(o.meta.First, t, cfg.learning()) {
		return // without a week of history, "only failed before" means nothing
	}

	d := draftFor(PolicySuspiciousIP, a, SeverityHigh)
	d.Title = fmt.Sprintf("Successful login from %s, an IP that had only failed before", ip)
	d.Evidence = []string{fmt.Sprintf("%d failed logins from %s since %s and no successful "+
		"one, then %s logged in from it at %s.", fails, ip, stamp(s.FailTimes[0]), a.who(),
		stamp(t))}
	for _, x := range s.Recent {
		if !x.T.After(t) && len(d.EventIDs) < 50 && !slices.Contains(d.EventIDs, x.ID) {
			d.EventIDs = append(d.EventIDs, x.ID)
		}
	}
	d.Dedup = fmt.Sprintf("onlyfailed|%s|%s", ip, a.user)
	o.raise(d)
}

// ipState returns the state of a failing IP, creating it with what the store knows about the
// IP's earlier successes.
func (o *orgRun) ipState(ip string, t time.Time) *ipState {
	if s, ok := o.ips[ip]; ok {
		return s
	}
	s := &ipState{Last: t}
	o.ips[ip] = s
	if o.sim {
		return s
	}
	page, err := o.eng.st.Query(audit.Filter{Org: o.id, IP: ip, Until: t, Limit: priorLookup})
	if err != nil {
		o.eng.log.Warn("Reading an IP's history failed", "org", o.id, "err", err)
		return s
	}
	for i := range page.Events {
		ev := &page.Events[i]
		if o.mapper.lookup(ev.Action).Category == audit.CategoryLoginSucceeded {
			s.FirstSucc = minTime(s.FirstSucc, ev.Time)
		}
	}
	s.Checked = true
	return s
}
