//go:build !linux || !cgo

package app

import (
	"context"
	"syscall"
)

// startSignalFix does nothing here: the SA_ONSTACK problem it works around comes from
// WebKitGTK, which only the Linux desktop build (always cgo) links.
func startSignalFix(ctx context.Context) {}

// fixSignalHandlers has nothing to repair without WebKitGTK.
func fixSignalHandlers() []syscall.Signal { return nil }
