package keys

import (
	"errors"
	"fmt"
	"time"
)

// maxKeyDays is how many calendar days ahead an expiry date may lie. Atlassian issues org API
// keys for at most one year; 366 days leaves room for a leap year.
const maxKeyDays = 366

var (
	errExpiryPast    = errors.New("expiry date is in the past")
	errExpiryTooLate = errors.New("expiry date is more than one year ahead; " +
		"Atlassian org API keys last at most one year")
)

// ParseExpiry reads an API key's expiry date as entered by the user (YYYY-MM-DD). The key is
// taken to expire at the end of that day in now's time zone. Dates before today, and dates more
// than a year after now, are rejected because Atlassian cannot have issued such a key.
func ParseExpiry(s string, now time.Time) (time.Time, error) {
	day, err := time.ParseInLocation(time.DateOnly, s, now.Location())
	if err != nil {
		return time.Time{}, fmt.Errorf("expiry date %q is not a date like 2027-01-31", s)
	}

	expires := day.AddDate(0, 0, 1).Add(-time.Nanosecond)
	if expires.Before(now) {
		return time.Time{}, errExpiryPast
	}
	if DaysLeft(expires, now) > maxKeyDays {
		return time.Time{}, errExpiryTooLate
	}
	return expires, nil
}

// DaysLeft counts the calendar days from now until expires, in now's time zone: 0 on the last
// day of validity and negative once the key has expired. Calendar days, not 24-hour periods,
// so that the number a user sees changes at midnight and not at the hour the key was created.
func DaysLeft(expires, now time.Time) int {
	loc := now.Location()
	e := expires.In(loc)
	endDay := time.Date(e.Year(), e.Month(), e.Day(), 0, 0, 0, 0, time.UTC)
	nowDay := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
	return int(endDay.Sub(nowDay) / (24 * time.Hour))
}
