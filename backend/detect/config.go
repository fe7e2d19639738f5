package detect

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// Severity ranks an alert.
type Severity string

// Severities, lowest first.
const (
	SeverityLow    Severity = "low"
	SeverityMedium Severity = "medium"
	SeverityHigh   Severity = "high"
)

func (s Severity) rank() int {
	switch s {
	case SeverityLow:
		return 1
	case SeverityMedium:
		return 2
	case SeverityHigh:
		return 3
	}
	return 0
}

func (s Severity) valid() bool { return s.rank() > 0 }

func maxSeverity(a, b Severity) Severity {
	if b.rank() > a.rank() {
		return b
	}
	return a
}

// Sensitivity trades alerts for noise, as Defender's slider does: low suppresses what is
// common for the tenant and the user, medium what is common for the user, high only the
// built-in cases. Each policy's doc comment says what the levels change for it.
type Sensitivity string

// Sensitivities.
const (
	SensitivityLow    Sensitivity = "low"
	SensitivityMedium Sensitivity = "medium"
	SensitivityHigh   Sensitivity = "high"
)

// pick returns the value for s from the three choices (medium when s is unset).
func pick[T any](s Sensitivity, low, medium, high T) T {
	switch s {
	case SensitivityLow:
		return low
	case SensitivityHigh:
		return high
	}
	return medium
}

// Scope limits a policy to some users. Users are account ids or emails; groups are the
// user's Atlassian directory groups, names from the GroupResolver, and the built-in groups "org-admins", "managed", "unmanaged",
// "synced" and "department:<name>". Exclusion wins over inclusion; an empty include list
// means everyone.
type Scope struct {
	IncludeUsers  []string `json:"include_users,omitempty"`
	IncludeGroups []string `json:"include_groups,omitempty"`
	ExcludeUsers  []string `json:"exclude_users,omitempty"`
	ExcludeGroups []string `json:"exclude_groups,omitempty"`
}

// PolicyConfig is the admin's settings for one built-in policy.
type PolicyConfig struct {
	Enabled     bool        `json:"enabled"`
	Sensitivity Sensitivity `json:"sensitivity"`
	// LearningDays is how long a behaviour is watched before it may alert; the default
	// settings use 7, and 0 means no learning period.
	LearningDays int   `json:"learning_days"`
	Scope        Scope `json:"scope"`
	// Severity overrides the policy's own severity choice when set.
	Severity Severity `json:"severity,omitempty"`
}

func (c PolicyConfig) learning() time.Duration {
	return time.Duration(max(c.LearningDays, 0)) * 24 * time.Hour
}

// Built-in policy ids.
const (
	PolicyAnonymousIP       = "anonymous_ip"
	PolicyInfrequentCountry = "infrequent_country"
	PolicySuspiciousIP      = "suspicious_ip"
	PolicyImpossibleTravel  = "impossible_travel"
	PolicyFailedLogins      = "multiple_failed_logins"
	PolicyUnusualAdmin      = "unusual_admin_activity"
	PolicyImpersonation     = "unusual_impersonation"
)

// BuiltinPolicies lists the built-in policy ids in display order.
var BuiltinPolicies = []string{PolicyAnonymousIP, PolicyInfrequentCountry, PolicySuspiciousIP,
	PolicyImpossibleTravel, PolicyFailedLogins, PolicyUnusualAdmin, PolicyImpersonation}

// policyNames are the display names, Defender's wording.
var policyNames = map[string]string{
	PolicyAnonymousIP:       "Activity from anonymous IP addresses",
	PolicyInfrequentCountry: "Activity from infrequent country",
	PolicySuspiciousIP:      "Activity from suspicious IP addresses",
	PolicyImpossibleTravel:  "Impossible travel",
	PolicyFailedLogins:      "Multiple failed login attempts",
	PolicyUnusualAdmin:      "Unusual administrative activities",
	PolicyImpersonation:     "Unusual impersonated activities",
}

// PolicyName returns the display name of a built-in policy, or id itself.
func PolicyName(id string) string {
	if n, ok := policyNames[id]; ok {
		return n
	}
	return id
}

// Settings are all detection settings of one org: the built-in policies by id.
type Settings struct {
	Policies map[string]PolicyConfig `json:"policies"`
}

// DefaultSettings enables every built-in policy at medium sensitivity with 7 learning days.
func DefaultSettings() Settings {
	s := Settings{Policies: map[string]PolicyConfig{}}
	for _, id := range BuiltinPolicies {
		s.Policies[id] = PolicyConfig{Enabled: true, Sensitivity: SensitivityMedium, LearningDays: 7}
	}
	return s
}

// Validate checks every policy entry.
func (s Settings) Validate() error {
	for id, c := range s.Policies {
		if _, ok := policyNames[id]; !ok {
			return fmt.Errorf("unknown policy %q", id)
		}
		switch c.Sensitivity {
		case SensitivityLow, SensitivityMedium, SensitivityHigh, "":
		default:
			return fmt.Errorf("policy %s: sensitivity must be low, medium or high", id)
		}
		if c.Severity != "" && !c.Severity.valid() {
			return fmt.Errorf("policy %s: severity must be low, medium or high", id)
		}
		if c.LearningDays < 0 || c.LearningDays > 90 {
			return fmt.Errorf("policy %s: learning days must be between 0 and 90", id)
		}
	}
	return nil
}

// policy returns the config of id, falling back to the default.
func (s Settings) policy(id string) PolicyConfig {
	if c, ok := s.Policies[id]; ok {
		return c
	}
	return PolicyConfig{Enabled: true, Sensitivity: SensitivityMedium, LearningDays: 7}
}

// member is what scoping knows about a user.
type member struct {
	ids    []string // account id and email, lower-case
	groups []string
}

// inScope reports whether the user is covered by the scope; exclusion wins.
func (sc Scope) inScope(m member) bool {
	hasAny := func(list, vals []string) bool {
		for _, v := range list {
			if slices.ContainsFunc(vals, func(x string) bool { return strings.EqualFold(x, v) }) {
				return true
			}
		}
		return false
	}
	if hasAny(sc.ExcludeUsers, m.ids) || hasAny(sc.ExcludeGroups, m.groups) {
		return false
	}
	if len(sc.IncludeUsers) == 0 && len(sc.IncludeGroups) == 0 {
		return true
	}
	return hasAny(sc.IncludeUsers, m.ids) || hasAny(sc.IncludeGroups, m.groups)
}
