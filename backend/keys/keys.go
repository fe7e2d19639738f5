// Package keys keeps organization API keys out of Warden's database: they live in the
// operating system's keychain (the freedesktop Secret Service on Linux), addressed by account
// name. It also validates the expiry dates that Atlassian attaches to org API keys.
//
// No function here logs a secret or puts one into an error message.
package keys

import "errors"

// ErrNotFound means the keychain works but holds no secret for the account.
var ErrNotFound = errors.New("no secret stored for this account")

// ErrUnavailable means no usable keychain answered. Errors that match it with errors.Is carry a
// hint on how to fix the situation and wrap the underlying cause.
var ErrUnavailable = errors.New("no keychain available")

// Keychain stores one secret per account name. Implementations are safe for concurrent use.
type Keychain interface {
	// Set stores or replaces the secret of an account.
	Set(account, secret string) error
	// Get returns the secret of an account, or ErrNotFound.
	Get(account string) (string, error)
	// Delete removes the secret of an account, or returns ErrNotFound.
	Delete(account string) error
}

// errNoAccount guards against keychain entries that nothing could ever look up again.
var errNoAccount = errors.New("keys: account name is empty")
