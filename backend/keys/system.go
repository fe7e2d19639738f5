package keys

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/godbus/dbus/v5"
	"github.com/zalando/go-keyring"
)

// Hints shown to the user when the keychain cannot be used. Each names a concrete fix, because
// "keyring error" alone leaves people stuck.
const (
	hintNoBus = "no D-Bus session bus: run Warden inside a desktop session " +
		"(or start one with dbus-run-session)"
	hintNoProvider = "no Secret Service on the session bus: start gnome-keyring or KeePassXC " +
		"(with Secret Service integration enabled) and unlock it"
	hintLocked = "the keychain is locked: unlock it (for example in Seahorse or KeePassXC) " +
		"and try again"
	hintTimeout = "the keychain did not answer: it may be waiting for an unlock prompt; " +
		"unlock it and try again"
	hintOther = "start a Secret Service (gnome-keyring or KeePassXC) and unlock it"
)

// defaultTimeout bounds one keychain call. An unlock prompt in a real desktop waits for the
// user, so this is generous; it only protects the app from hanging forever on a dead service.
const defaultTimeout = 2 * time.Minute

// dbusServiceUnknown is the D-Bus error name when no program provides a bus name.
const dbusServiceUnknown = "org.freedesktop.DBus.Error.ServiceUnknown"

var errTimeout = errors.New("keychain call timed out")

// System returns the operating system keychain, with secrets filed under service (Warden uses
// "warden") and the account name. Failures that mean "no usable keychain" match ErrUnavailable.
func System(service string) Keychain {
	return &systemKeychain{
		service:  service,
		store:    goKeyring{},
		busReady: sessionBusReady,
		timeout:  defaultTimeout,
		after:    time.After,
	}
}

// store is the part of go-keyring that Warden uses; tests swap it for a blocking fake.
type store interface {
	Set(service, user, password string) error
	Get(service, user string) (string, error)
	Delete(service, user string) error
}

// goKeyring forwards to go-keyring's package functions, so keyring.MockInit applies.
type goKeyring struct{}

func (goKeyring) Set(service, user, password string) error {
	return keyring.Set(service, user, password)
}

func (goKeyring) Get(service, user string) (string, error) { return keyring.Get(service, user) }

func (goKeyring) Delete(service, user string) error { return keyring.Delete(service, user) }

type systemKeychain struct {
	service  string
	store    store
	busReady func() error
	timeout  time.Duration
	after    func(time.Duration) <-chan time.Time
}

func (k *systemKeychain) Set(account, secret string) error {
	if account == "" {
		return errNoAccount
	}

	err := k.call(func() error { return k.store.Set(k.service, account, secret) })
	if err != nil {
		return fmt.Errorf("keys: store secret for %q: %w", account, err)
	}
	return nil
}

func (k *systemKeychain) Get(account string) (string, error) {
	var secret string
	err := k.call(func() error {
		var err error
		secret, err = k.store.Get(k.service, account)
		return err
	})
	if errors.Is(err, ErrNotFound) {
		return "", ErrNotFound
	}
	if err != nil {
		return "", fmt.Errorf("keys: read secret for %q: %w", account, err)
	}
	return secret, nil
}

func (k *systemKeychain) Delete(account string) error {
	err := k.call(func() error { return k.store.Delete(k.service, account) })
	if errors.Is(err, ErrNotFound) {
		return ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("keys: delete secret for %q: %w", account, err)
	}
	return nil
}

// call runs one keychain operation with a timeout and classifies its error. On timeout the
// operation keeps running in the background and may still complete; go-keyring offers no way
// to cancel it.
func (k *systemKeychain) call(op func() error) error {
	if err := k.busReady(); err != nil {
		return classify(err)
	}

	done := make(chan error, 1)
	go func() { done <- op() }()

	select {
	case err := <-done:
		return classify(err)
	case <-k.after(k.timeout):
		return unavailable(hintTimeout, errTimeout)
	}
}

// sessionBusReady reports whether a session bus can be found without autolaunching one. With
// no bus address set, godbus would otherwise start dbus-launch, which activates a keyring that
// is never unlocked, and leaves both daemons running after Warden exits.
func sessionBusReady() error {
	if addr := os.Getenv("DBUS_SESSION_BUS_ADDRESS"); addr != "" && addr != "autolaunch:" {
		return nil
	}

	conn, err := dbus.SessionBusPrivateNoAutoStartup()
	if err != nil {
		return err
	}
	return conn.Close()
}

// classify maps go-keyring's errors (see docs/desktop-recipe.md §8) to ErrNotFound or to
// ErrUnavailable with the hint that fits the situation.
func classify(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, keyring.ErrNotFound) {
		return ErrNotFound
	}
	if errors.Is(err, keyring.ErrSetDataTooBig) {
		return fmt.Errorf("secret is too large for the keychain: %w", err)
	}

	var execErr *exec.Error
	var netErr *net.OpError
	if errors.As(err, &execErr) || errors.As(err, &netErr) ||
		strings.Contains(err.Error(), "couldn't determine address of session bus") {
		return unavailable(hintNoBus, err)
	}

	if name := dbusErrorName(err); name == dbusServiceUnknown {
		return unavailable(hintNoProvider, err)
	}
	if strings.Contains(err.Error(), "failed to unlock") {
		return unavailable(hintLocked, err)
	}
	return unavailable(hintOther, err)
}

// dbusErrorName returns the D-Bus error name, which godbus reports by value or by pointer.
func dbusErrorName(err error) string {
	var byValue dbus.Error
	if errors.As(err, &byValue) {
		return byValue.Name
	}

	var byPointer *dbus.Error
	if errors.As(err, &byPointer) && byPointer != nil {
		return byPointer.Name
	}
	return ""
}

// unavailable wraps both ErrUnavailable and the cause, so callers can test for either.
func unavailable(hint string, cause error) error {
	return fmt.Errorf("%w: %s: %w", ErrUnavailable, hint, cause)
}
