package tickets

import (
	"errors"
	"time"
)

// parseFileTime reads a time that a file of ours carries as RFC 3339 (an .otc file's expiry, a
// stamp's issue time), in UTC as both write it. It refuses a time whose UTC form RFC 3339
// cannot write back, such as 0000-01-01T00:00:00+01:00 (year -1 in UTC) or
// 9999-12-31T23:59:59-01:00 (year 10000), so that what parses always writes a file that parses.
func parseFileTime(value string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339, value)
	if err != nil {
		return time.Time{}, err
	}
	if err := checkFileTime(t); err != nil {
		return time.Time{}, err
	}
	return t.UTC(), nil
}

// checkFileTime refuses a time whose UTC form RFC 3339 cannot hold, and one before 1970.
func checkFileTime(t time.Time) error {
	if y := t.UTC().Year(); y < 1970 || y > 9999 {
		return errors.New("out of range")
	}
	return nil
}
