// Command warden is the Warden desktop app and its headless command line.
package main

import (
	"embed"
	"io/fs"
	"os"

	"warden/app"
)

//go:embed all:frontend/dist
var assets embed.FS

func main() {
	dist, err := fs.Sub(assets, "frontend/dist")
	if err != nil {
		panic(err)
	}
	os.Exit(app.Main(dist, os.Args[1:]))
}
