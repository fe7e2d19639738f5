//go:build linux && cgo

package app

import (
	"slices"
	"syscall"
	"testing"
	"time"
)

// The stand-in "foreign" handler goes on SIGTRAP: a signal nothing raises in a test process
// (no debugger, no breakpoints; the race detector does not use it). Putting it on SIGSEGV or
// SIGBUS instead would hand any real fault in this process, such as a nil dereference in
// another test, to a handler that ignores it. The stand-in never chains to Go, so even a stray
// SIGTRAP would be swallowed instead of crashing. The Go handler is restored afterwards.
const standInSignal = syscall.SIGTRAP

// withSavedHandler restores the signal's disposition when the test ends.
func withSavedHandler(t *testing.T, sig syscall.Signal) {
	t.Helper()
	if err := probeSave(sig); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := probeRestore(sig); err != nil {
			t.Errorf("restore %v: %v", sig, err)
		}
	})
}

func mustRead(t *testing.T, sig syscall.Signal) sigDisposition {
	t.Helper()
	d, err := probeRead(sig)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestFixSignalHandlersLeavesGoHandlersAlone(t *testing.T) {
	// The Go runtime installs its own handlers with SA_ONSTACK, so there is nothing to do.
	if changed := fixSignalHandlers(); len(changed) != 0 {
		t.Fatalf("changed %v in a process without foreign handlers", changed)
	}
	for _, sig := range onstackSignals {
		if d := mustRead(t, sig); !d.hasOnstack {
			t.Errorf("%v: the Go handler lacks SA_ONSTACK (flags %#x)", sig, d.flags)
		}
	}
}

func TestFixSignalHandlersRepairsForeignHandler(t *testing.T) {
	withSavedHandler(t, standInSignal)
	if err := probeInstallStandIn(standInSignal); err != nil {
		t.Fatal(err)
	}
	before := mustRead(t, standInSignal)
	if before.hasOnstack || !before.standIn {
		t.Fatalf("stand-in not installed as intended: %+v", before)
	}

	changed := fixSignalHandlers()
	if !slices.Equal(changed, []syscall.Signal{standInSignal}) {
		t.Fatalf("changed = %v, want [%v]", changed, standInSignal)
	}

	after := mustRead(t, standInSignal)
	if !after.hasOnstack {
		t.Fatalf("SA_ONSTACK not added: flags %#x", after.flags)
	}
	if !after.standIn || !after.masksUSR2 {
		t.Fatalf("handler or mask changed: %+v", after)
	}
	if after.flags&^saOnstack != before.flags&^saOnstack {
		t.Fatalf("other flags changed: %#x -> %#x", before.flags, after.flags)
	}

	if again := fixSignalHandlers(); len(again) != 0 {
		t.Fatalf("second pass changed %v; the repair is not idempotent", again)
	}
}

func TestFixSignalHandlersSkipsIgnoredSignal(t *testing.T) {
	withSavedHandler(t, standInSignal)
	if err := probeIgnore(standInSignal); err != nil {
		t.Fatal(err)
	}

	if changed := fixSignalHandlers(); len(changed) != 0 {
		t.Fatalf("changed %v, want nothing for an ignored signal", changed)
	}
	if d := mustRead(t, standInSignal); !d.ignored || d.hasOnstack {
		t.Fatalf("ignored disposition was touched: %+v", d)
	}
}

func TestFixSignalHandlersNeverTouchesSIGUSR1(t *testing.T) {
	// JavaScriptCore installs its GC handler on SIGUSR1 without SA_ONSTACK, and must keep it
	// that way. Nothing sends SIGUSR1 to a test process.
	goHandler := mustRead(t, syscall.SIGUSR1)
	t.Cleanup(func() { // runs after withSavedHandler's restore
		if d := mustRead(t, syscall.SIGUSR1); d.flags != goHandler.flags {
			t.Errorf("SIGUSR1 flags after restore: %#x, want %#x", d.flags, goHandler.flags)
		}
	})

	withSavedHandler(t, syscall.SIGUSR1)
	if err := probeInstallStandIn(syscall.SIGUSR1); err != nil {
		t.Fatal(err)
	}
	before := mustRead(t, syscall.SIGUSR1)

	if changed := fixSignalHandlers(); slices.Contains(changed, syscall.SIGUSR1) {
		t.Fatalf("changed %v, which includes SIGUSR1", changed)
	}
	if after := mustRead(t, syscall.SIGUSR1); after != before {
		t.Fatalf("SIGUSR1 changed: %+v -> %+v", before, after)
	}

}

func TestSignalFixInterval(t *testing.T) {
	tests := []struct {
		elapsed time.Duration
		want    time.Duration
	}{
		{0, 50 * time.Millisecond},
		{9*time.Second + 999*time.Millisecond, 50 * time.Millisecond},
		{10 * time.Second, time.Second},
		{time.Hour, time.Second},
	}
	for _, tt := range tests {
		if got := signalFixInterval(tt.elapsed); got != tt.want {
			t.Errorf("signalFixInterval(%v) = %v, want %v", tt.elapsed, got, tt.want)
		}
	}
}
