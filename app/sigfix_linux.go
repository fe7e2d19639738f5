//go:build linux && cgo

package app

/*
#include <signal.h>
#include <stddef.h>

// warden_add_onstack re-installs the handler of sig with SA_ONSTACK added, keeping the same
// handler, mask and other flags. It returns 1 if it changed something, 0 if there was nothing
// to do (default or ignored disposition, or the flag already set), -1 if sigaction failed.
static int warden_add_onstack(int sig) {
	struct sigaction sa;
	if (sigaction(sig, NULL, &sa) != 0) return -1;
	if (sa.sa_handler == SIG_DFL || sa.sa_handler == SIG_IGN) return 0;
	if (sa.sa_flags & SA_ONSTACK) return 0;
	sa.sa_flags |= SA_ONSTACK;
	if (sigaction(sig, &sa, NULL) != 0) return -1;
	return 1;
}
*/
import "C"

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// The signal fix (docs/desktop-recipe.md §4). WebKitGTK's JavaScript engine installs handlers
// for fault signals lazily, after the page has loaded, and without SA_ONSTACK. The Go runtime
// then turns any later fault in Go code, even a recovered nil dereference, into a fatal
// "non-Go code set up signal handler without SA_ONSTACK flag". Wails 2.9.2 repairs the flags
// only once, before the engine has run, so Warden keeps repairing them itself.

// onstackSignals are the fault signals the engine takes over. SIGUSR1 is deliberately absent:
// the engine uses it to stop threads for garbage collection, and running that handler on the
// alternate stack freezes WebKit (wails PR #5530).
var onstackSignals = []syscall.Signal{
	syscall.SIGSEGV, syscall.SIGBUS, syscall.SIGFPE,
	syscall.SIGILL, syscall.SIGABRT, syscall.SIGTRAP,
}

const (
	// signalFixFastPeriod covers the window in which the engine usually installs its handlers.
	signalFixFastPeriod = 50 * time.Millisecond
	signalFixFastFor    = 10 * time.Second
	// signalFixSlowPeriod is insurance for handlers installed later, e.g. by a new web
	// process thread; one pass costs a few system calls.
	signalFixSlowPeriod = time.Second
)

var (
	signalFixOnce   sync.Once
	signalFixWarned atomic.Bool
)

// startSignalFix repairs the fault signal handlers now and then keeps repairing them until ctx
// ends: every 50 ms for the first 10 seconds, every second after that. Only the first call
// starts the loop.
func startSignalFix(ctx context.Context) {
	signalFixOnce.Do(func() {
		repairSignalHandlers()
		go signalFixLoop(ctx)
	})
}

func signalFixLoop(ctx context.Context) {
	start := time.Now()
	timer := time.NewTimer(signalFixInterval(0))
	defer timer.Stop()

	for {
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		}

		repairSignalHandlers()
		timer.Reset(signalFixInterval(time.Since(start)))
	}
}

// signalFixInterval is the pause before the next pass, given the time since the loop started.
func signalFixInterval(elapsed time.Duration) time.Duration {
	if elapsed < signalFixFastFor {
		return signalFixFastPeriod
	}
	return signalFixSlowPeriod
}

// repairSignalHandlers runs one pass and logs what it changed, which is normally once or twice
// per run, when the engine installs its handlers.
func repairSignalHandlers() {
	changed := fixSignalHandlers()
	if len(changed) == 0 {
		return
	}

	names := make([]string, len(changed))
	for i, sig := range changed {
		names[i] = sig.String()
	}
	slog.Info("added SA_ONSTACK to foreign signal handlers", "signals", names)
}

// fixSignalHandlers makes one pass over onstackSignals and returns the signals whose handler
// it changed.
func fixSignalHandlers() []syscall.Signal {
	var changed []syscall.Signal
	for _, sig := range onstackSignals {
		switch C.warden_add_onstack(C.int(sig)) {
		case 1:
			changed = append(changed, sig)
		case -1:
			if !signalFixWarned.Swap(true) {
				slog.Warn("cannot repair signal handler", "signal", sig.String())
			}
		}
	}
	return changed
}
