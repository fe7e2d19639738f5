package app

import (
	"context"
	"io/fs"
)

// DesktopOptions is what the composition root hands the window. It is defined in every build so
// that the CLI compiles the same way with and without the desktop tag.
type DesktopOptions struct {
	// Title is the window title; "Warden" when empty.
	Title string
	// API is bound to the window as window.go.app.API.*.
	API *API
	// Assets is the frontend, with index.html at its root.
	Assets fs.FS
	// OnStartup runs once the window exists. Its ctx is the Wails context, which the Wails
	// runtime functions need.
	OnStartup func(ctx context.Context)
	// OnShutdown runs after the window has closed, before runDesktop returns.
	OnShutdown func()
}
