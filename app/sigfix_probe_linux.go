//go:build linux && cgo

package app

/*
#include <signal.h>
#include <stdint.h>
#include <string.h>

// Test probes for sigfix_test.go, which cannot use cgo itself. They save and restore a
// signal's disposition and install a stand-in for a foreign (JavaScriptCore) handler.

static struct sigaction warden_probe_saved[NSIG];

static void warden_probe_handler(int sig) { (void)sig; }

static int warden_probe_save(int sig) {
	return sigaction(sig, NULL, &warden_probe_saved[sig]);
}

static int warden_probe_restore(int sig) {
	return sigaction(sig, &warden_probe_saved[sig], NULL);
}

// warden_probe_install installs the stand-in without SA_ONSTACK, blocking SIGUSR2 while it
// runs, so a test can check that the repair keeps the mask.
static int warden_probe_install(int sig) {
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = warden_probe_handler;
	sigemptyset(&sa.sa_mask);
	sigaddset(&sa.sa_mask, SIGUSR2);
	sa.sa_flags = SA_RESTART;
	return sigaction(sig, &sa, NULL);
}

static int warden_probe_ignore(int sig) {
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = SIG_IGN;
	return sigaction(sig, &sa, NULL);
}

// warden_probe_read reports a signal's flags, whether its handler is the stand-in, whether
// it is SIG_IGN, and whether SIGUSR2 is in its mask.
static int warden_probe_read(int sig, int *flags, int *stand_in, int *ignored, int *usr2) {
	struct sigaction sa;
	if (sigaction(sig, NULL, &sa) != 0) return -1;
	*flags = sa.sa_flags;
	*stand_in = sa.sa_handler == warden_probe_handler;
	*ignored = sa.sa_handler == SIG_IGN;
	*usr2 = sigismember(&sa.sa_mask, SIGUSR2) == 1;
	return 0;
}
*/
import "C"

import (
	"fmt"
	"syscall"
)

// saOnstack is the kernel's SA_ONSTACK flag, for tests that inspect a handler's flags.
const saOnstack = int(C.SA_ONSTACK)

// sigDisposition is what a test can observe about one signal's handler.
type sigDisposition struct {
	flags      int
	standIn    bool
	ignored    bool
	masksUSR2  bool
	hasOnstack bool
}

func probeSave(sig syscall.Signal) error {
	return probeErr("save", C.warden_probe_save(C.int(sig)))
}

func probeRestore(sig syscall.Signal) error {
	return probeErr("restore", C.warden_probe_restore(C.int(sig)))
}

func probeInstallStandIn(sig syscall.Signal) error {
	return probeErr("install", C.warden_probe_install(C.int(sig)))
}

func probeIgnore(sig syscall.Signal) error {
	return probeErr("ignore", C.warden_probe_ignore(C.int(sig)))
}

func probeRead(sig syscall.Signal) (sigDisposition, error) {
	var flags, standIn, ignored, usr2 C.int
	rc := C.warden_probe_read(C.int(sig), &flags, &standIn, &ignored, &usr2)
	if err := probeErr("read", rc); err != nil {
		return sigDisposition{}, err
	}
	return sigDisposition{
		flags:      int(flags),
		standIn:    standIn != 0,
		ignored:    ignored != 0,
		masksUSR2:  usr2 != 0,
		hasOnstack: int(flags)&saOnstack != 0,
	}, nil
}

func probeErr(op string, rc C.int) error {
	if rc != 0 {
		return fmt.Errorf("sigaction probe: %s failed", op)
	}
	return nil
}
