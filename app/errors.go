package app

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"warden/backend/atlassian"
	"warden/backend/keys"
	"warden/backend/mail"
	"warden/backend/store"
)

// problem classifies an error for the connector form and the CLI. It is the one place where
// backend errors become words an admin can act on; packages below app/ never write UI text.
func problem(err error) (code, msg string) {
	var apiErr *atlassian.APIError
	errors.As(err, &apiErr)
	detail := ""
	if apiErr != nil && apiErr.Message != "" {
		detail = " (Atlassian said: " + apiErr.Message + ")"
	}

	switch {
	case err == nil:
		return "", ""
	case errors.Is(err, errInvalidInput):
		return "invalid_input", strings.ReplaceAll(err.Error(), errInvalidInput.Error()+": ", "")
	case errors.Is(err, errNoSMTP):
		return "no_smtp", err.Error()
	case errors.Is(err, mail.ErrUnreachable):
		return "smtp_down", "The SMTP server cannot be reached: " + rootCause(err)
	case errors.Is(err, mail.ErrAuth):
		return "smtp_auth", "The SMTP server refused the user name or password."
	case errors.Is(err, mail.ErrTLS):
		return "smtp_tls", "The TLS handshake with the SMTP server failed: " + rootCause(err)
	case errors.Is(err, mail.ErrRejected):
		return "smtp_rejected", "The SMTP server refused the message: " + rootCause(err)
	case errors.Is(err, mail.ErrConfig), errors.Is(err, mail.ErrPassword):
		return "smtp_config", err.Error()
	case errors.Is(err, atlassian.ErrOutcomeUnknown):
		return "outcome_unknown", "Atlassian did not answer and the user's state could not be " +
			"read back; check the user in admin.atlassian.com before trying again."
	case errors.Is(err, keys.ErrUnavailable):
		return "keychain", "No usable keychain: " + err.Error() + ". Warden never stores the " +
			"API key anywhere else."
	case errors.Is(err, keys.ErrNotFound):
		return "keychain", "The API key of this connector is missing from the keychain; " +
			"reconnect with the key."
	case errors.Is(err, ErrAlreadyRunning):
		return "already_running", "Warden is already running on this data directory (a window, " +
			"`warden serve` or `warden sync`). Use that one, or stop it first."
	case errors.Is(err, store.ErrDiskFull):
		return "disk_full", "The disk is full. Nothing was lost; free some space and sync again."
	case errors.Is(err, atlassian.ErrUnauthorized):
		return "bad_key", "The API key was refused (401): it is wrong, expired or revoked, or " +
			"it is a site API token instead of an organization API key. Create a key without " +
			"scopes in admin.atlassian.com > Settings > API keys."
	case errors.Is(err, atlassian.ErrOrgNotFound):
		return "wrong_org", "Organization not found (404): check the organization ID, the id " +
			"after /o/ in admin.atlassian.com URLs."
	case errors.Is(err, atlassian.ErrForbidden):
		return "forbidden", "The key is not allowed to read this (403): use an organization " +
			"API key without scopes, created by an org admin, and check that the organization " +
			"has Atlassian Guard (the audit log needs it)." + detail
	case errors.Is(err, atlassian.ErrRateLimited):
		return "rate_limited", "Atlassian is rate limiting this key (429); Warden will try " +
			"again later." + detail
	case errors.Is(err, atlassian.ErrUnreachable):
		return "unreachable", "Cannot reach the Atlassian API: check the network, proxy and " +
			"API base URL. " + rootCause(err)
	case errors.Is(err, atlassian.ErrServer):
		return "server_error", "The Atlassian API failed repeatedly (5xx); Warden will retry on " +
			"the next sync."
	case errors.Is(err, atlassian.ErrMalformed):
		return "malformed", "The Atlassian API sent a page Warden could not read; nothing was " +
			"stored from it and the sync will resume from the last good page."
	case errors.Is(err, atlassian.ErrNotFound):
		return "not_found", "Not found (404)." + detail
	case errors.Is(err, store.ErrNotFound):
		return "not_found", err.Error()
	case errors.Is(err, context.DeadlineExceeded):
		return "timeout", "The operation timed out."
	case errors.Is(err, context.Canceled):
		return "canceled", "The operation was canceled."
	}
	return "error", err.Error()
}

// userMessage is the admin-facing text of an error.
func userMessage(err error) string {
	_, msg := problem(err)
	return msg
}

// uiError turns an error into the error a bound method returns to the frontend.
func uiError(err error) error {
	if err == nil {
		return nil
	}
	return errors.New(userMessage(err))
}

func rootCause(err error) string {
	for {
		u := errors.Unwrap(err)
		if u == nil {
			return fmt.Sprint(err)
		}
		err = u
	}
}
