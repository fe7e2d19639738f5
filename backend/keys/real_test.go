package keys

import (
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/godbus/dbus/v5"
)

// These tests talk to a real Secret Service. scripts/test-keyring.sh runs each of them in its
// own throwaway D-Bus session, arranged as KEYRING_SETUP says, with REAL_KEYRING=1.

const realService = "warden-realtest"

// needSetup skips the test unless the script has arranged the named situation.
func needSetup(t *testing.T, setup string) {
	t.Helper()
	if os.Getenv("REAL_KEYRING") != "1" {
		t.Skip("set REAL_KEYRING=1 (scripts/test-keyring.sh does) to use a real Secret Service")
	}
	if got := os.Getenv("KEYRING_SETUP"); got != setup {
		t.Skipf("KEYRING_SETUP is %q, this test needs %q", got, setup)
	}
}

func TestRealKeyringUnlocked(t *testing.T) {
	needSetup(t, "unlocked")
	k := System(realService)

	if err := k.Set("org-real", "first-secret"); err != nil {
		t.Fatalf("Set: %v", err)
	}
	if err := k.Set("org-real", "second-secret"); err != nil {
		t.Fatalf("Set again: %v", err)
	}
	got, err := k.Get("org-real")
	if err != nil || got != "second-secret" {
		t.Fatalf("Get = %q, %v; want the replaced secret", got, err)
	}

	if err := k.Delete("org-real"); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if _, err := k.Get("org-real"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get after Delete: err = %v, want ErrNotFound", err)
	}
	if err := k.Delete("org-real"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Delete after Delete: err = %v, want ErrNotFound", err)
	}

	// Lock the collection, as a screen lock or a user would. Without a display the unlock
	// prompt cannot appear, so gnome-keyring dismisses it.
	if err := k.Set("org-locked", "kept-secret"); err != nil {
		t.Fatalf("Set before locking: %v", err)
	}
	lockLoginCollection(t)

	_, err = k.Get("org-locked")
	wantUnavailable(t, err, hintLocked)
	if strings.Contains(err.Error(), "kept-secret") {
		t.Fatal("error text contains the secret")
	}
}

func TestRealKeyringNeverUnlocked(t *testing.T) {
	needSetup(t, "never-unlocked")

	_, err := System(realService).Get("org-real")
	wantUnavailable(t, err, hintLocked)
}

func TestRealKeyringNoProvider(t *testing.T) {
	needSetup(t, "no-provider")

	err := System(realService).Set("org-real", "x")
	wantUnavailable(t, err, hintNoProvider)
}

func TestRealKeyringNoBus(t *testing.T) {
	needSetup(t, "no-bus")

	_, err := System(realService).Get("org-real")
	wantUnavailable(t, err, hintNoBus)
}

func wantUnavailable(t *testing.T, err error, hint string) {
	t.Helper()
	if !errors.Is(err, ErrUnavailable) {
		t.Fatalf("err = %v, want ErrUnavailable", err)
	}
	if !strings.Contains(err.Error(), hint) {
		t.Fatalf("err = %v, want the hint %q", err, hint)
	}
	t.Logf("as expected: %v", err)
}

func lockLoginCollection(t *testing.T) {
	t.Helper()
	conn, err := dbus.SessionBus()
	if err != nil {
		t.Fatalf("session bus: %v", err)
	}

	login := dbus.ObjectPath("/org/freedesktop/secrets/collection/login")
	var locked []dbus.ObjectPath
	var prompt dbus.ObjectPath
	err = conn.Object("org.freedesktop.secrets", "/org/freedesktop/secrets").
		Call("org.freedesktop.Secret.Service.Lock", 0, []dbus.ObjectPath{login}).
		Store(&locked, &prompt)
	if err != nil {
		t.Fatalf("lock the login collection: %v", err)
	}
	if len(locked) != 1 || locked[0] != login {
		t.Fatalf("locked %v, want %v", locked, login)
	}
}
