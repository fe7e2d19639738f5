//go:build linux

package store

import "testing"

func TestBadgerMapping(t *testing.T) {
	const dir = "/home/u/.local/share/warden/db"
	tests := []struct {
		line string
		ok   bool
	}{
		{"7f0000000000-7f0004000000 rw-s 00000000 fd:01 123 " + dir + "/000001.vlog", true},
		{"7f0000000000-7f0000100000 r--s 00000000 fd:01 124 " + dir + "/000002.sst", true},
		{"7f0000000000-7f0000100000 rw-s 00000000 fd:01 125 " + dir + "/00003.mem", true},
		{"7f0000000000-7f0000100000 rw-p 00000000 fd:01 125 " + dir + "/00003.mem", false},
		{"7f0000000000-7f0000100000 r--s 00000000 fd:01 126 " + dir + "/MANIFEST", false},
		{"7f0000000000-7f0000100000 r--s 00000000 fd:01 127 /other/000001.vlog", false},
		{"7f0000000000-7f0000100000 rw-p 00000000 00:00 0 ", false},
		{"garbage", false},
	}
	for _, tt := range tests {
		start, end, ok := badgerMapping(tt.line, dir)
		if ok != tt.ok || ok && end <= start {
			t.Errorf("%q: %x-%x %v, want %v", tt.line, start, end, ok, tt.ok)
		}
	}
}
