package audit

import "strings"

// DefaultCategories maps the action keys Warden knows to a category. It is data, not logic:
// the organization's own catalogue and the admin's corrections are layered over it, and any
// action it does not name falls back to the keyword rules in Categorize.
var DefaultCategories = map[string]Category{
	"user_logged_in":                    CategoryLoginSucceeded,
	"user_login":                        CategoryLoginSucceeded,
	"user_login_failed":                 CategoryLoginFailed,
	"user_logged_out":                   CategoryLogout,
	"user_logout":                       CategoryLogout,
	"user_logged_in_as_user":            CategoryImpersonation,
	"data_export_created":               CategoryDataExport,
	"password_recovery_requested":       CategoryOther,
	"password_reset_with_recovery_link": CategoryOther,
	"org_admin_role_granted":            CategoryAdmin,
	"org_admin_role_revoked":            CategoryAdmin,
	"group_user_added":                  CategoryAdmin,
	"group_user_removed":                CategoryAdmin,
	"product_access_granted":            CategoryAdmin,
	"auth_policy_updated":               CategoryAdmin,
	"ip_allowlist_updated":              CategoryAdmin,
	"domain_verified":                   CategoryAdmin,
	"domain_removed":                    CategoryAdmin,
	"org_api_key_created":               CategoryAdmin,
	"org_api_key_revoked":               CategoryAdmin,
	"api_token_created":                 CategoryAdmin,
	"api_token_revoked":                 CategoryAdmin,
	"two_step_verification_disabled":    CategoryAdmin,
	"user_access_suspended":             CategoryAdmin,
	"user_access_restored":              CategoryAdmin,
	"account_deactivated":               CategoryAdmin,
	"account_reactivated":               CategoryAdmin,
}

// adminWords mark an action as administrative when no table names it.
var adminWords = []string{
	"role", "group", "policy", "domain", "api_key", "token", "suspend", "restore",
	"deactivat", "reactivat", "admin", "allowlist", "two_step", "2sv", "sso", "saml", "scim",
	"user_created", "user_deleted", "product_access",
}

// Categorize returns the category of an action key. Overrides (from the admin or the org's
// catalogue) win over the default table; unknown keys are sorted by keywords, then "other".
func Categorize(action string, overrides map[string]Category) Category {
	if c, ok := overrides[action]; ok {
		return c
	}
	if c, ok := DefaultCategories[action]; ok {
		return c
	}

	a := strings.ToLower(action)
	switch {
	case strings.Contains(a, "login_failed") || strings.Contains(a, "failed_login"):
		return CategoryLoginFailed
	case strings.Contains(a, "logged_in_as") || strings.Contains(a, "impersonat"):
		return CategoryImpersonation
	case strings.Contains(a, "logged_in") || strings.HasSuffix(a, "_login"):
		return CategoryLoginSucceeded
	case strings.Contains(a, "logged_out") || strings.Contains(a, "logout"):
		return CategoryLogout
	case strings.Contains(a, "export"):
		return CategoryDataExport
	}
	for _, w := range adminWords {
		if strings.Contains(a, w) {
			return CategoryAdmin
		}
	}
	return CategoryOther
}
