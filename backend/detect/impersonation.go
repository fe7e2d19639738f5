package detect

import (
	"fmt"
	"strings"
	"time"

	"warden/backend/audit"
)

// unusualImpersonation is "Unusual impersonated activities".
//
// Input: activities of category impersonation (Atlassian's user_logged_in_as_user). The
// target is the first user object of the event; when it has no id (as in real events) it is
// found in the directory by email.
//
// It alerts when the target is privileged (an org admin in the directory): always, severity
// high, from the first day. Otherwise when it is unusual for the actor: at medium, the actor
// did not impersonate anyone in the previous 30 days; at high, also when the target is new
// for the actor; at low, only privileged targets alert. An actor who is not an org admin in
// the directory always alerts (high): only admins can do this. Learning: 7 days from the
// actor's first activity, for the "unusual" rule only. One alert per event; alerts of one
// actor within 60 minutes are grouped, as Panther dedups this rule.
func unusualImpersonation(o *orgRun, a *activity, u *userState) {
	if u == nil || a.cat != audit.CategoryImpersonation {
		return
	}
	t := a.time()
	targetID, targetLabel := o.impersonated(a)
	tkey := strings.ToLower(targetID)
	if tkey == "" {
		tkey = strings.ToLower(targetLabel)
	}
	prior := countIn(u.Imps, t.Add(-baselineDays*24*time.Hour), t.Add(-time.Nanosecond))
	firstTarget, seenTarget := u.ImpTargets[tkey]
	newTarget := !seenTarget || firstTarget.After(t)
	u.Imps = insertTime(u.Imps, t)
	u.Imps = pruneTimes(u.Imps, u.Last.Add(-impRetainDays*24*time.Hour))
	if u.ImpTargets == nil {
		u.ImpTargets = map[string]time.Time{}
	}
	if newTarget {
		u.ImpTargets[tkey] = t
	}

	cfg := o.settings.policy(PolicyImpersonation)
	privileged := targetID != "" && o.isAdmin(targetID)
	_, actorKnown := o.dirUser(a.user)
	notAdmin := actorKnown && !o.isAdmin(a.user)
	unusual := learned(u.First, t, cfg.learning()) &&
		pick(cfg.Sensitivity, false, prior == 0, prior == 0 || newTarget)
	if !privileged && !notAdmin && !unusual {
		return
	}

	sev := SeverityMedium
	if privileged || notAdmin {
		sev = SeverityHigh
	}
	d := draftFor(PolicyImpersonation, a, sev)
	d.Title = fmt.Sprintf("%s logged in as %s", a.who(), targetLabel)
	d.Evidence = []string{fmt.Sprintf("%s: %s used %s on %s.", stamp(t), a.who(), a.label(),
		targetLabel)}
	if privileged {
		d.Evidence = append(d.Evidence, targetLabel+" is an organization admin.")
	}
	if notAdmin {
		d.Evidence = append(d.Evidence, a.who()+" is not an organization admin in the directory.")
	}
	if prior == 0 {
		d.Evidence = append(d.Evidence, fmt.Sprintf("%s did not impersonate anyone in the "+
			"previous %d days.", a.who(), baselineDays))
	} else if newTarget {
		d.Evidence = append(d.Evidence, fmt.Sprintf("First impersonation of this user by %s "+
			"(%d others in the previous %d days).", a.who(), prior, baselineDays))
	}
	d.Dedup = "imp|" + a.ev.ID
	d.Window = time.Hour
	o.raise(d)
}

// impersonated returns the target's account id (when known) and a label for it.
func (o *orgRun) impersonated(a *activity) (id, label string) {
	for _, t := range a.targetUsers() {
		id, label = t.ID, t.Email
		if id == "" && t.Email != "" {
			if u, ok := o.dirUser(t.Email); ok {
				id = u.AccountID
			}
		}
		if label == "" {
			if u, ok := o.dirUser(id); ok && u.Email != "" {
				label = u.Email
			} else {
				label = id
			}
		}
		return id, label
	}
	return "", "an unknown user"
}
