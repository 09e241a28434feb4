package agent

import (
	"testing"
	"time"
)

// TestBackoffSchedule: exponential while never connected; once a connection authenticated, a
// random first wait under 2 s and then one to two seconds for FastRetryFor, then exponential
// again; never above MaxBackoff.
func TestBackoffSchedule(t *testing.T) {
	for _, tc := range []struct {
		name   string
		jitter func(time.Duration) time.Duration
		authed bool
		after  time.Duration // time since the authenticated connection ended, at each try
		want   []time.Duration
	}{
		{"never connected, least jitter", none, false, 0, []time.Duration{500 * time.Millisecond, time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 15 * time.Second, 15 * time.Second}},
		{"never connected, most jitter", full, false, 0, []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 16 * time.Second, 30 * time.Second, 30 * time.Second}},
		{"after a drop, least jitter", none, true, time.Second, []time.Duration{0, time.Second, time.Second, time.Second}},
		{"after a drop, most jitter", full, true, time.Second, []time.Duration{2 * time.Second, 2 * time.Second, 2 * time.Second}},
		{"long after a drop", none, true, 3 * time.Minute, []time.Duration{0, time.Second, 2 * time.Second}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := &backoff{max: 30 * time.Second, fastFor: 2 * time.Minute, jitter: tc.jitter}
			start := time.Unix(1e9, 0)
			if tc.authed {
				b.authenticated()
			}
			for i, want := range tc.want {
				now := start
				if i > 0 {
					now = start.Add(tc.after)
				}
				if got := b.next(now); got != want {
					t.Errorf("try %d: wait %s, want %s", i+1, got, want)
				}
			}
		})
	}
}

func none(time.Duration) time.Duration   { return 0 }
func full(d time.Duration) time.Duration { return d }
