//go:build desktop

package app

import (
	"context"
	"errors"
	"fmt"

	"github.com/wailsapp/wails/v2"
	"github.com/wailsapp/wails/v2/pkg/options"
	"github.com/wailsapp/wails/v2/pkg/options/assetserver"
	"github.com/wailsapp/wails/v2/pkg/options/linux"
)

// runDesktop opens the window and blocks until it closes. Build with the tags
// desktop,production,webkit2_41 (see the Makefile); without production Wails refuses to start.
func runDesktop(o DesktopOptions) error {
	if o.API == nil || o.Assets == nil {
		return errors.New("desktop: the window needs an API and assets")
	}

	title := o.Title
	if title == "" {
		title = "Warden"
	}

	// The signal fix lives as long as the window. It gets its own context because the one
	// Wails hands out is never cancelled.
	fixCtx, stopSignalFix := context.WithCancel(context.Background())
	defer stopSignalFix()

	err := wails.Run(&options.App{
		Title:     title,
		Width:     1280,
		Height:    800,
		MinWidth:  960,
		MinHeight: 600,
		// Wails finds index.html at the root of Assets, or in the shallowest folder holding one.
		AssetServer: &assetserver.Options{Assets: o.Assets},
		// Alpha is 0-255: anything less shows through as black under Xvfb (recipe §2).
		BackgroundColour: &options.RGBA{R: 255, G: 255, B: 255, A: 255},
		Bind:             []interface{}{o.API},
		Linux: &linux.Options{
			ProgramName: "warden",
			// Wails' own default when Linux options are absent; GPU compositing blanks the
			// window on some drivers (wails issue #2977).
			WebviewGpuPolicy: linux.WebviewGpuPolicyNever,
		},
		OnStartup: func(ctx context.Context) {
			startSignalFix(fixCtx)

			if o.OnStartup != nil {
				o.OnStartup(ctx)
			}
		},
		OnShutdown: func(ctx context.Context) {
			if o.OnShutdown != nil {
				o.OnShutdown()
			}
			stopSignalFix()
		},
	})
	if err != nil {
		return fmt.Errorf("desktop: %w", err)
	}
	return nil
}
