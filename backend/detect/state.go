package detect

import (
	"slices"
	"sort"
	"time"
)

// Retention of baselines and windows, in event time.
const (
	baselineDays   = 30
	retainDays     = 45 // a little more than the baseline, so late events still find theirs
	impRetainDays  = 90
	recentLocs     = 6 // located activities kept per user for impossible travel
	failHorizon    = time.Hour
	adminWindow    = time.Hour
	maxAlertEvents = 200
)

// userState is everything detection remembers about one user. It is kept in memory and
// written to the store after each processed batch in which it changed.
type userState struct {
	First      time.Time `json:"first"`
	Last       time.Time `json:"last"`
	FirstLoc   time.Time `json:"first_loc,omitzero"`
	FirstAdmin time.Time `json:"first_admin,omitzero"`

	// Countries maps a country to the days it was seen with the earliest Unix second of each.
	Countries map[string][]daySeen `json:"countries,omitempty"`
	Locs      []locPoint           `json:"locs,omitempty"`

	Fails     []ipStamp     `json:"fails,omitempty"`
	FailPeak  map[int32]int `json:"fail_peak,omitempty"`
	FailBurst *burst        `json:"fail_burst,omitempty"`

	AdminTypes  map[string]time.Time `json:"admin_types,omitempty"`
	AdminDays   map[int32]int        `json:"admin_days,omitempty"`
	AdminPeak   map[int32]int        `json:"admin_peak,omitempty"`
	AdminRecent []ipStamp            `json:"admin_recent,omitempty"`
	AdminNew    []ipStamp            `json:"admin_new,omitempty"` // Key holds the action
	AdminBurst  *burst               `json:"admin_burst,omitempty"`

	Imps       []time.Time          `json:"imps,omitempty"`
	ImpTargets map[string]time.Time `json:"imp_targets,omitempty"`
}

// daySeen is one day on which a value was seen, with the earliest time that day.
type daySeen struct {
	Day   int32 `json:"d"`
	First int64 `json:"t"`
}

// locPoint is one located activity, for impossible travel.
type locPoint struct {
	T     time.Time `json:"t"`
	ID    string    `json:"id"`
	IP    string    `json:"ip,omitempty"`
	P     Place     `json:"p"`
	IPCat string    `json:"ip_cat,omitempty"`
}

// ipStamp is a time with an IP or another short key.
type ipStamp struct {
	T   time.Time `json:"t"`
	Key string    `json:"k,omitempty"`
	ID  string    `json:"id,omitempty"`
}

// burst is an ongoing episode that already raised an alert; while it continues, further
// events update that alert instead of raising new ones.
type burst struct {
	Alert     string    `json:"alert"`
	Start     time.Time `json:"start"`
	Last      time.Time `json:"last"`
	Count     int       `json:"count"`
	Escalated bool      `json:"escalated,omitempty"`
}

// ipState is what detection remembers about one source IP that had failed logins.
type ipState struct {
	// FailTimes are the failed logins from the IP (capped), FirstSucc the earliest success.
	FailTimes []time.Time `json:"fail_times,omitempty"`
	FirstSucc time.Time   `json:"first_succ,omitzero"`
	Checked   bool        `json:"checked,omitempty"`
	// Recent are failures of the last spray window: Key is the user.
	Recent []ipStamp `json:"recent,omitempty"`
	Spray  *burst    `json:"spray,omitempty"`
	Last   time.Time `json:"last"`
}

// candidate is an alert waiting for its decision time, because what decides it (others doing
// the same at about the same time) may still arrive.
type candidate struct {
	Policy   string    `json:"policy"`
	User     string    `json:"user"`
	Country  string    `json:"country"`
	T        time.Time `json:"t"`
	DecideAt time.Time `json:"decide_at"`
	Draft    draft     `json:"draft"`
}

// novel is a value new for a user at T: the org-change rule counts these.
type novel struct {
	Country string    `json:"c"`
	User    string    `json:"u"`
	T       time.Time `json:"t"`
}

// groupRef points from a group key (policy + subject) to its latest alert.
type groupRef struct {
	Alert string    `json:"alert"`
	First time.Time `json:"first"`
	Last  time.Time `json:"last"`
}

// orgMeta is the org-wide part of detection state.
type orgMeta struct {
	// Frontier is the event time up to which every received event was processed; MaxTime is
	// the latest event time received.
	Frontier time.Time `json:"frontier,omitzero"`
	MaxTime  time.Time `json:"max_time,omitzero"`
	// MaxProcessed is the latest arrival (processedAt) among received events: a restart
	// reprocesses late events that arrived at or after the checkpoint's value.
	MaxProcessed time.Time `json:"max_processed,omitzero"`
	First        time.Time `json:"first,omitzero"`

	// CountryUsers maps a country to the users seen there and the last day of each.
	CountryUsers map[string]map[string]int32 `json:"country_users,omitempty"`
	Novel        []novel                     `json:"novel,omitempty"`
	Candidates   []candidate                 `json:"candidates,omitempty"`
	Groups       map[string]groupRef         `json:"groups,omitempty"`
	// Caps counts alerts per custom policy and day for the daily cap; Capped those dropped.
	Caps   map[string]int `json:"caps,omitempty"`
	Capped map[string]int `json:"capped,omitempty"`
	// Repeats holds the windows of "repeated" custom policies: policy|subject -> times.
	Repeats map[string][]ipStamp `json:"repeats,omitempty"`
	// Names maps country codes to the names events gave them, for evidence.
	Names map[string]string `json:"names,omitempty"`
}

// insertTime inserts t into the sorted slice s.
func insertTime(s []time.Time, t time.Time) []time.Time {
	i := sort.Search(len(s), func(i int) bool { return s[i].After(t) })
	return slices.Insert(s, i, t)
}

// insertStamp inserts x into s sorted by time.
func insertStamp(s []ipStamp, x ipStamp) []ipStamp {
	i := sort.Search(len(s), func(i int) bool { return s[i].T.After(x.T) })
	return slices.Insert(s, i, x)
}

// countIn counts the times in [from, to].
func countIn(s []time.Time, from, to time.Time) int {
	lo := sort.Search(len(s), func(i int) bool { return !s[i].Before(from) })
	hi := sort.Search(len(s), func(i int) bool { return s[i].After(to) })
	return max(0, hi-lo)
}

// stampsIn returns the stamps in [from, to].
func stampsIn(s []ipStamp, from, to time.Time) []ipStamp {
	lo := sort.Search(len(s), func(i int) bool { return !s[i].T.Before(from) })
	hi := sort.Search(len(s), func(i int) bool { return s[i].T.After(to) })
	if hi <= lo {
		return nil
	}
	return s[lo:hi]
}

// pruneTimes drops times before cut.
func pruneTimes(s []time.Time, cut time.Time) []time.Time {
	i := sort.Search(len(s), func(i int) bool { return !s[i].Before(cut) })
	return s[i:]
}

func pruneStamps(s []ipStamp, cut time.Time) []ipStamp {
	i := sort.Search(len(s), func(i int) bool { return !s[i].T.Before(cut) })
	return s[i:]
}

func pruneDays(m map[int32]int, cut int32) {
	for d := range m {
		if d < cut {
			delete(m, d)
		}
	}
}

// minTime returns the earlier non-zero time.
func minTime(a, b time.Time) time.Time {
	if a.IsZero() || (!b.IsZero() && b.Before(a)) {
		return b
	}
	return a
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// learned reports whether a behaviour first seen at first has been watched long enough at t.
func learned(first, t time.Time, d time.Duration) bool {
	return !first.IsZero() && t.Sub(first) >= d
}

// dailyBaseline returns the median and the scaled median absolute deviation of the per-day
// values in m over the baselineDays before day today (days without a value count as zero),
// starting no earlier than from.
func dailyBaseline(m map[int32]int, today, from int32) (median, mad float64) {
	start := max(today-baselineDays, from)
	if start >= today {
		return 0, 0
	}
	vals := make([]float64, 0, today-start)
	for d := start; d < today; d++ {
		vals = append(vals, float64(m[d]))
	}
	median = medianOf(vals)
	dev := make([]float64, len(vals))
	for i, v := range vals {
		dev[i] = abs(v - median)
	}
	// 1.4826 makes the MAD comparable to a standard deviation for normal data.
	return median, 1.4826 * medianOf(dev)
}

func medianOf(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := slices.Clone(v)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

func abs(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}
