//go:build !desktop

package app

import "errors"

// errNoWindowText tells the user which build has the window and what works without one.
const errNoWindowText = "this build has no window: build with `make build`, or use `warden serve`"

// runDesktop fails in builds without the desktop tag: they carry no GTK or WebKit, so that the
// backend, the CLI and browser mode build and test with CGO_ENABLED=0.
func runDesktop(o DesktopOptions) error {
	return errors.New(errNoWindowText)
}
