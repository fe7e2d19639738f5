package keys

import (
	"testing"
	"time"
)

func TestParseExpiry(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		berlin = time.FixedZone("CET", 3600)
	}
	now := time.Date(2026, 3, 10, 15, 30, 0, 0, berlin)

	tests := []struct {
		in      string
		wantErr bool
		want    time.Time
	}{
		{in: "2026-03-10", want: time.Date(2026, 3, 10, 23, 59, 59, 999999999, berlin)},
		{in: "2026-03-11", want: time.Date(2026, 3, 11, 23, 59, 59, 999999999, berlin)},
		{in: "2027-03-10", want: time.Date(2027, 3, 10, 23, 59, 59, 999999999, berlin)},
		{in: "2027-03-11", want: time.Date(2027, 3, 11, 23, 59, 59, 999999999, berlin)},
		{in: "2027-03-12", wantErr: true},
		{in: "2026-03-09", wantErr: true},
		{in: "2020-01-01", wantErr: true},
		{in: "10.03.2027", wantErr: true},
		{in: "2026-02-30", wantErr: true},
		{in: "", wantErr: true},
	}

	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseExpiry(tt.in, now)
			if tt.wantErr {
				if err == nil {
					t.Fatalf("ParseExpiry(%q) = %v, want an error", tt.in, got)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseExpiry(%q): %v", tt.in, err)
			}
			if !got.Equal(tt.want) {
				t.Fatalf("ParseExpiry(%q) = %v, want %v", tt.in, got, tt.want)
			}
		})
	}
}

func TestDaysLeft(t *testing.T) {
	now := time.Date(2026, 3, 10, 15, 30, 0, 0, time.UTC)

	tests := []struct {
		name    string
		expires time.Time
		want    int
	}{
		{"later today", time.Date(2026, 3, 10, 23, 0, 0, 0, time.UTC), 0},
		{"earlier today", time.Date(2026, 3, 10, 1, 0, 0, 0, time.UTC), 0},
		{"tomorrow morning", time.Date(2026, 3, 11, 0, 5, 0, 0, time.UTC), 1},
		{"in thirty days", time.Date(2026, 4, 9, 12, 0, 0, 0, time.UTC), 30},
		{"yesterday", time.Date(2026, 3, 9, 23, 0, 0, 0, time.UTC), -1},
		{"other zone, same instant", time.Date(2026, 3, 11, 1, 0, 0, 0,
			time.FixedZone("UTC+3", 3*3600)), 0},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := DaysLeft(tt.expires, now); got != tt.want {
				t.Fatalf("DaysLeft = %d, want %d", got, tt.want)
			}
		})
	}
}

func TestDaysLeftAcrossDaylightSaving(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Skip("no time zone database")
	}
	// Clocks go forward on 2026-03-29; the day is 23 hours long.
	now := time.Date(2026, 3, 28, 12, 0, 0, 0, berlin)
	expires, err := ParseExpiry("2026-03-30", now)
	if err != nil {
		t.Fatal(err)
	}
	if got := DaysLeft(expires, now); got != 2 {
		t.Fatalf("DaysLeft = %d, want 2", got)
	}
}
