package commands

import (
	"strings"
	"testing"
	"time"
)

var sinceNow = time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)

func TestParseSince(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want time.Time
		err  string
	}{
		{in: "24h", want: sinceNow.Add(-24 * time.Hour)},
		{in: "90m", want: sinceNow.Add(-90 * time.Minute)},
		{in: "0s", want: sinceNow},
		{in: "2026-11-24T09:00:00Z", want: time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)},
		{in: "2026-11-24T09:00:00+01:00", want: time.Date(2026, 11, 24, 8, 0, 0, 0, time.UTC)},
		{in: "2026-11-20", want: time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)},
		{in: "-24h", err: "without the minus"},
		{in: "yesterday", err: "want a duration like 24h"},
		{in: "", err: "want a duration like 24h"},
		{in: "24", err: "want a duration like 24h"},
	} {
		got, err := parseSince(tc.in, sinceNow)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("parseSince(%q) = %v, %v; want an error with %q", tc.in, got, err, tc.err)
			}
			continue
		}
		if err != nil || !got.Equal(tc.want) {
			t.Errorf("parseSince(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
}

// FuzzParseSince: whatever is typed, parseSince answers a time or an error naming the flag, and a
// duration never reaches into the future.
func FuzzParseSince(f *testing.F) {
	for _, s := range []string{"24h", "90m", "1h30m", "-1h", "2026-11-24T09:00:00Z", "2026-11-24T09:00:00.5+05:30", "2026-11-20", "9223372036854775807ns", "yesterday", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		got, err := parseSince(v, sinceNow)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "--since ") {
				t.Fatalf("parseSince(%q): error %q does not name the flag", v, err)
			}
			return
		}
		if _, derr := time.ParseDuration(v); derr == nil && got.After(sinceNow) {
			t.Fatalf("parseSince(%q) = %v, after now", v, got)
		}
	})
}
