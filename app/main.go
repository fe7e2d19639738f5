package app

import (
	"fmt"
	"io/fs"
	"os"
)

// Main runs the command line and returns the process exit status.
func Main(assets fs.FS, args []string) int {
	fmt.Fprintln(os.Stderr, "warden: not implemented yet")
	return 1
}
