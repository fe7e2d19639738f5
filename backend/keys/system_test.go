package keys

import (
	"errors"
	"net"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"
	"github.com/zalando/go-keyring"
)

// testSystem is System with the bus check switched off, so go-keyring's mock decides.
func testSystem() *systemKeychain {
	k := System("warden-test").(*systemKeychain)
	k.busReady = func() error { return nil }
	return k
}

func TestSystemWithMockKeyring(t *testing.T) {
	keyring.MockInit()
	k := testSystem()

	if err := k.Set("org-1", "s3cret"); err != nil {
		t.Fatalf("Set: %v", err)
	}
	got, err := k.Get("org-1")
	if err != nil || got != "s3cret" {
		t.Fatalf("Get = %q, %v", got, err)
	}
	if err := k.Delete("org-1"); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if _, err := k.Get("org-1"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get after Delete: err = %v, want ErrNotFound", err)
	}
	if err := k.Delete("org-1"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Delete after Delete: err = %v, want ErrNotFound", err)
	}
	if err := k.Set("", "x"); err == nil {
		t.Fatal("Set with an empty account succeeded")
	}
}

func TestSystemClassifiesErrors(t *testing.T) {
	tests := []struct {
		name     string
		cause    error
		want     error
		wantHint string
	}{
		{
			name:  "not found",
			cause: keyring.ErrNotFound,
			want:  ErrNotFound,
		},
		{
			name:     "dbus-launch missing",
			cause:    &exec.Error{Name: "dbus-launch", Err: exec.ErrNotFound},
			want:     ErrUnavailable,
			wantHint: hintNoBus,
		},
		{
			name:     "bus address points at nothing",
			cause:    &net.OpError{Op: "dial", Net: "unix", Err: os.ErrNotExist},
			want:     ErrUnavailable,
			wantHint: hintNoBus,
		},
		{
			name:     "no address at all",
			cause:    errors.New("dbus: couldn't determine address of session bus"),
			want:     ErrUnavailable,
			wantHint: hintNoBus,
		},
		{
			name: "no provider",
			cause: dbus.Error{Name: dbusServiceUnknown, Body: []any{
				"The name org.freedesktop.secrets was not provided by any .service files"}},
			want:     ErrUnavailable,
			wantHint: hintNoProvider,
		},
		{
			name:     "no provider by pointer",
			cause:    &dbus.Error{Name: dbusServiceUnknown},
			want:     ErrUnavailable,
			wantHint: hintNoProvider,
		},
		{
			name: "locked",
			cause: errors.New(
				"failed to unlock correct collection '/org/freedesktop/secrets/aliases/default'"),
			want:     ErrUnavailable,
			wantHint: hintLocked,
		},
		{
			name:     "anything else",
			cause:    errors.New("org.freedesktop.DBus.Error.NoReply"),
			want:     ErrUnavailable,
			wantHint: hintOther,
		},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			keyring.MockInitWithError(tt.cause)
			k := testSystem()

			errs := map[string]error{
				"Set":    k.Set("org-1", "do-not-leak-me"),
				"Delete": k.Delete("org-1"),
			}
			_, errs["Get"] = k.Get("org-1")

			for op, err := range errs {
				if !errors.Is(err, tt.want) {
					t.Errorf("%s: err = %v, want %v", op, err, tt.want)
				}
				if tt.wantHint != "" && !strings.Contains(err.Error(), tt.wantHint) {
					t.Errorf("%s: %q lacks the hint %q", op, err, tt.wantHint)
				}
				if tt.want == ErrUnavailable && !wrapsCause(err, tt.cause) {
					t.Errorf("%s: %v does not wrap the cause", op, err)
				}
				if strings.Contains(err.Error(), "do-not-leak-me") {
					t.Errorf("%s: error text contains the secret", op)
				}
			}
		})
	}
}

// wrapsCause is errors.Is, except that a dbus.Error holds a slice and so is not comparable;
// for those the error name has to match.
func wrapsCause(err, cause error) bool {
	if errors.Is(err, cause) {
		return true
	}
	name := dbusErrorName(cause)
	return name != "" && dbusErrorName(err) == name
}

func TestSystemTooBig(t *testing.T) {
	keyring.MockInitWithError(keyring.ErrSetDataTooBig)

	err := testSystem().Set("org-1", "x")
	if err == nil || errors.Is(err, ErrUnavailable) || !errors.Is(err, keyring.ErrSetDataTooBig) {
		t.Fatalf("err = %v, want a plain too-big error", err)
	}
}

func TestSystemNoBusSkipsKeyring(t *testing.T) {
	keyring.MockInit()
	k := testSystem()
	k.busReady = func() error { return errors.New("dbus: couldn't determine address of session bus") }

	err := k.Set("org-1", "x")
	if !errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), hintNoBus) {
		t.Fatalf("err = %v, want ErrUnavailable with the no-bus hint", err)
	}

	k.busReady = func() error { return nil }
	if _, err := k.Get("org-1"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("the keyring was written although the bus check failed: %v", err)
	}
}

// blockingStore never answers until released, like a Secret Service waiting on a prompt.
type blockingStore struct{ release chan struct{} }

func (b blockingStore) Set(_, _, _ string) error { <-b.release; return nil }

func (b blockingStore) Get(_, _ string) (string, error) { <-b.release; return "", nil }

func (b blockingStore) Delete(_, _ string) error { <-b.release; return nil }

func TestSystemTimeout(t *testing.T) {
	release := make(chan struct{})
	defer close(release)

	fired := make(chan time.Time, 1)
	k := testSystem()
	k.store = blockingStore{release: release}
	k.after = func(d time.Duration) <-chan time.Time {
		if d != defaultTimeout {
			t.Errorf("timeout = %v, want %v", d, defaultTimeout)
		}
		fired <- time.Time{}
		return fired
	}

	_, err := k.Get("org-1")
	if !errors.Is(err, ErrUnavailable) || !errors.Is(err, errTimeout) {
		t.Fatalf("err = %v, want ErrUnavailable wrapping the timeout", err)
	}
	if !strings.Contains(err.Error(), hintTimeout) {
		t.Fatalf("err = %v lacks the timeout hint", err)
	}
}
