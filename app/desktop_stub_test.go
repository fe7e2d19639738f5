//go:build !desktop

package app

import (
	"strings"
	"testing"
)

func TestRunDesktopWithoutWindowSaysHowToGetOne(t *testing.T) {
	err := runDesktop(DesktopOptions{Title: "Warden", API: &API{}})
	if err == nil {
		t.Fatal("runDesktop succeeded in a build without the desktop tag")
	}
	for _, want := range []string{"make build", "warden serve"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
}
