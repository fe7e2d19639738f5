// Package govern is Warden's response side: the governance actions an admin (or a policy) can
// take against an Atlassian user, the checks that run before them, and the governance log
// that records every one of them before it is sent.
//
// # Actions
//
// notify (an email through mail), suspend and restore (org directory membership, v2 with v1
// fallback), revoke-tokens (user management API tokens), deactivate and reactivate (user
// management lifecycle), and reauth. Describe gives, as data, what each one does, what it does
// not do, its undo and its reach, so the confirmation dialog says exactly that.
//
// # reauth: "require the user to sign in again"
//
// Atlassian documents no endpoint that ends a user's sessions (reference §9). What exists:
// changing the user's email (documented to invalidate all sessions, but it changes the
// address, so it is no general action), lifecycle/disable (blocks login; effect on live
// sessions not stated), org-level suspend (removes product access) and deleting API tokens
// (cuts script access, confirmed). reauth is therefore: delete every API token of the user,
// then suspend and immediately restore the user's organization access. The token part is a
// certain effect; the suspend/restore bounce removes product access for a moment, and whether
// an open browser session survives it is not documented, so Describe says plainly that live
// sessions may survive, and points to the only guaranteed ways (deactivate, or an email change
// in Atlassian Administration). A user who is already suspended is not bounced, because the
// restore half would give back access someone took away on purpose.
//
// # Running actions
//
// Run writes a pending log entry first, then resolves the user, re-checks the state (Plan)
// under a per-user lock, and only then sends. Outcomes: done, already_done (the user is
// already suspended, has no tokens...), refused (a locked SCIM account, a protected user under
// an automatic trigger), failed (with the Atlassian status and error body), would_do (dry run
// or simulation). Transient failures (429, 5xx, timeouts) are retried by the Atlassian client,
// which re-reads the state before re-sending a mutation whose answer was lost, so the same
// action is never sent twice. Org admins and the connector's own accounts are never acted on
// by an automatic trigger unless the request opts in.
package govern

import (
	"fmt"
	"slices"
	"strings"
)

// Action is a governance action, by its CLI name.
type Action string

// The actions.
const (
	Notify       Action = "notify"
	Suspend      Action = "suspend"
	Restore      Action = "restore"
	Reauth       Action = "reauth"
	RevokeTokens Action = "revoke-tokens"
	Deactivate   Action = "deactivate"
	Reactivate   Action = "reactivate"
)

// Actions lists every action in the order the UI offers them.
func Actions() []Action {
	return []Action{Notify, Reauth, RevokeTokens, Suspend, Restore, Deactivate, Reactivate}
}

// ParseAction accepts an action name as the CLI and policies spell it.
func ParseAction(s string) (Action, error) {
	a := Action(strings.ToLower(strings.TrimSpace(s)))
	if _, ok := descriptions[a]; !ok {
		return "", fmt.Errorf("unknown action %q (want one of %s)", s, actionNames())
	}
	return a, nil
}

func actionNames() string {
	var names []string
	for _, a := range Actions() {
		names = append(names, string(a))
	}
	return strings.Join(names, ", ")
}

// Mutating reports whether the action changes something in Atlassian (notify does not).
func (a Action) Mutating() bool { return a != Notify }

// Description is what a confirmation shows about an action.
type Description struct {
	Title   string `json:"title"`
	Does    string `json:"does"`
	DoesNot string `json:"doesNot"`
	Undo    string `json:"undo"`
	// UndoAction is the action that reverses this one, if there is one.
	UndoAction Action `json:"undoAction,omitempty"`
	Reach      string `json:"reach"`
}

// Describe returns the description of a; an unknown action gets a zero Description.
func Describe(a Action) Description { return descriptions[a] }

var descriptions = map[Action]Description{
	Notify: {
		Title: "Notify user",
		Does: "Sends an email about the alert to the user's address (and to any admins you " +
			"add), from the notification template in Settings, through your SMTP server.",
		DoesNot: "Changes nothing in Atlassian: the user keeps all access, sessions and tokens.",
		Undo:    "None; a sent email cannot be recalled.",
		Reach:   "One email. Nothing in Atlassian.",
	},
	Suspend: {
		Title: "Suspend user",
		Does: "Suspends the user's access in the organization directory: they can no longer " +
			"use any app of this organization, and the license seat is freed. Groups and " +
			"roles are kept.",
		DoesNot: "Does not deactivate the Atlassian account (the user can still log in to " +
			"atlassian.com and to other organizations' apps) and does not delete API tokens. " +
			"Atlassian does not state whether open browser sessions end at once.",
		Undo:       "Restore access.",
		UndoAction: Restore,
		Reach:      "Every app of this organization's directory.",
	},
	Restore: {
		Title: "Restore access",
		Does: "Restores a suspended user's access to the organization's apps, with the " +
			"groups and roles they had.",
		DoesNot: "Does not reactivate a deactivated account and does not bring back deleted " +
			"API tokens. A product over its license limit can refuse the restore.",
		Undo:       "Suspend again.",
		UndoAction: Suspend,
		Reach:      "Every app of this organization's directory.",
	},
	Reauth: {
		Title: "Require the user to sign in again",
		Does: "Atlassian has no \"sign out everywhere\" call, so Warden does the strongest " +
			"documented equivalent: it deletes all of the user's API tokens (scripts using " +
			"them stop at once), then suspends and immediately restores the user's " +
			"organization access.",
		DoesNot: "Does not guarantee that open browser or mobile sessions end: Atlassian does " +
			"not document what a suspension does to a live session, so a session may " +
			"survive. Does not change the password. A user who is already suspended stays " +
			"suspended (only the tokens are deleted). For a certain sign-out, deactivate the " +
			"account, or change the user's email address in Atlassian Administration " +
			"(admin.atlassian.com > Directory > Users), which Atlassian documents as ending " +
			"all sessions.",
		Undo: "Access is restored automatically. Deleted API tokens cannot be brought back; " +
			"the user creates new ones.",
		Reach: "All of the user's API tokens, and this organization's apps for a moment.",
	},
	RevokeTokens: {
		Title: "Revoke API tokens",
		Does: "Deletes every API token of the user; scripts and integrations that use them " +
			"stop working at once.",
		DoesNot: "Does not sign the user out of browsers, does not touch OAuth apps or the " +
			"organization's API keys, and does not stop the user from creating new tokens.",
		Undo:  "None; deleted tokens are gone and the user must create new ones.",
		Reach: "All of the user's API tokens, for every Atlassian app.",
	},
	Deactivate: {
		Title: "Deactivate account",
		Does: "Deactivates the Atlassian account: the user can no longer log in to any " +
			"Atlassian product, in any organization. The permission check runs first: " +
			"accounts synced from SCIM or Google are locked and must be deactivated in the " +
			"identity provider.",
		DoesNot: "Does not delete the account or its content and does not delete API tokens. " +
			"Atlassian does not state whether sessions already open end at once.",
		Undo:       "Reactivate account.",
		UndoAction: Reactivate,
		Reach:      "The whole Atlassian account, beyond this organization.",
	},
	Reactivate: {
		Title: "Reactivate account",
		Does:  "Re-activates a deactivated Atlassian account so the user can log in again.",
		DoesNot: "Does not restore suspended organization access or deleted tokens. An " +
			"account blocked for export control, or scheduled for deletion, cannot be " +
			"re-enabled this way.",
		Undo:       "Deactivate again.",
		UndoAction: Deactivate,
		Reach:      "The whole Atlassian account, beyond this organization.",
	},
}

// execOrder is the order Resolve returns actions in: cut scripts first, then access, then
// the account, and tell the user last.
var execOrder = []Action{RevokeTokens, Reauth, Suspend, Deactivate, Restore, Reactivate, Notify}

// Resolve merges the actions that apply to one user at once so the stronger wins: deactivate
// contains suspend, suspend contains notify, reauth contains revoke-tokens, and a protective
// action beats its undo (suspend drops restore, deactivate drops reactivate and restore).
// reauth next to suspend or deactivate would undo the suspension with its restore half, so it
// shrinks to revoke-tokens, the part the stronger action does not cover. Unknown actions are
// dropped; the result is in execution order without duplicates.
func Resolve(actions []Action) []Action {
	set := map[Action]bool{}
	for _, a := range actions {
		if _, ok := descriptions[a]; ok {
			set[a] = true
		}
	}
	strong := set[Deactivate] || set[Suspend]
	if set[Deactivate] {
		delete(set, Suspend)
		delete(set, Reactivate)
		delete(set, Restore)
		delete(set, Notify)
	}
	if set[Suspend] {
		delete(set, Restore)
		delete(set, Notify)
	}
	if strong && set[Reauth] {
		delete(set, Reauth)
		set[RevokeTokens] = true
	}
	if set[Reauth] {
		delete(set, RevokeTokens)
	}

	var out []Action
	for _, a := range execOrder {
		if set[a] {
			out = append(out, a)
		}
	}
	return slices.Clip(out)
}
