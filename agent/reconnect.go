package agent

import (
	"math/rand/v2"
	"time"
)

// backoff is the agent's reconnect schedule. While the agent has never been connected, or
// the gateway keeps refusing it, waits double from one second up to MaxBackoff. Once a
// connection has authenticated, the link was good a moment ago: for FastRetryFor after it
// ends the agent tries again every one to two seconds, so it is back within two seconds of
// the link returning. The first try after a drop waits a random time under two seconds,
// so that twenty thousand agents dropped together by one gateway restart come back spread
// out rather than in the same instant; the gateway's admission turns away the excess cheaply
// and they try again.
type backoff struct {
	max, fastFor time.Duration
	attempt      int       // tries since the last authenticated connection (or since start)
	authed       bool      // the current connection authenticated
	lostAt       time.Time // when the last authenticated connection ended; zero: none yet
	jitter       func(time.Duration) time.Duration
}

func newBackoff(cfg *Config) *backoff {
	return &backoff{max: cfg.MaxBackoff, fastFor: cfg.FastRetryFor, jitter: func(d time.Duration) time.Duration { return rand.N(d + 1) }}
}

// authenticated notes that the connection being tried got through.
func (b *backoff) authenticated() { b.authed = true }

// next returns how long to wait before the next try, after a connection ended at now.
func (b *backoff) next(now time.Time) time.Duration {
	if b.authed {
		b.authed, b.attempt, b.lostAt = false, 0, now
	}
	defer func() { b.attempt++ }()
	var wait time.Duration
	switch {
	case !b.lostAt.IsZero() && now.Sub(b.lostAt) < b.fastFor && b.attempt == 0:
		wait = b.jitter(2 * time.Second)
	case !b.lostAt.IsZero() && now.Sub(b.lostAt) < b.fastFor:
		wait = time.Second + b.jitter(time.Second)
	default:
		d := min(time.Second<<min(b.attempt, 16), b.max)
		wait = d/2 + b.jitter(d/2)
	}
	return min(wait, b.max)
}
