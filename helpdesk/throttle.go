package helpdesk

import (
	"net"
	"net/netip"
	"sync"
	"time"
)

// Sign-in throttling: after a number of free failures each further failure doubles the time the
// account (or address) must wait before the next attempt, from one second up to a quarter of an
// hour. An attempt during the wait is refused without looking at the password, so guessing runs
// at most a few dozen tries a day per account, while a technician who mistypes a few times waits
// seconds. Addresses get more free failures than accounts: a whole office may share one.
const (
	userFreeFailures = 5
	ipFreeFailures   = 20
	firstDelay       = time.Second
	maxDelay         = 15 * time.Minute
	forgetAfter      = 24 * time.Hour
	maxTracked       = 10000 // keys per throttle; beyond it the stalest unlocked key is dropped
)

type strikes struct {
	fails int
	last  time.Time
	until time.Time
	noted bool // a refusal during this wait was already audited
}

type throttle struct {
	mu   sync.Mutex
	m    map[string]*strikes
	now  func() time.Time
	free int
}

func newThrottle(now func() time.Time, free int) *throttle {
	return &throttle{m: map[string]*strikes{}, now: now, free: free}
}

// wait returns how long key must still wait, and whether this is the first refusal of that wait.
func (t *throttle) wait(key string) (time.Duration, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	s, ok := t.m[key]
	if !ok {
		return 0, false
	}
	d := s.until.Sub(t.now())
	if d <= 0 {
		return 0, false
	}
	first := !s.noted
	s.noted = true
	return d, first
}

// fail records a failed attempt and returns the wait it starts (0 while failures are free).
func (t *throttle) fail(key string) time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	s, ok := t.m[key]
	if !ok {
		t.makeRoom(now)
		s = &strikes{}
		t.m[key] = s
	}
	if now.Sub(s.last) > forgetAfter {
		s.fails = 0
	}
	s.fails++
	s.last, s.noted = now, false
	d := delayAfter(s.fails, t.free)
	s.until = now.Add(d)
	return d
}

// delayAfter is the wait after n consecutive failures.
func delayAfter(n, free int) time.Duration {
	over := n - free
	if over <= 0 {
		return 0
	}
	if over > 20 {
		return maxDelay
	}
	return min(firstDelay<<(over-1), maxDelay)
}

// succeed forgets key's failures.
func (t *throttle) succeed(key string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.m, key)
}

// makeRoom keeps the map bounded: stale keys go, then, if still full, the unlocked key that
// failed longest ago. A locked key is never dropped, so flooding cannot unlock an account.
func (t *throttle) makeRoom(now time.Time) {
	if len(t.m) < maxTracked {
		return
	}
	var oldest string
	for k, s := range t.m {
		if now.Sub(s.last) > forgetAfter {
			delete(t.m, k)
			continue
		}
		if now.After(s.until) && (oldest == "" || s.last.Before(t.m[oldest].last)) {
			oldest = k
		}
	}
	if len(t.m) >= maxTracked && oldest != "" {
		delete(t.m, oldest)
	}
}

// clientKey is the throttling key of a remote address: the IP, or its /64 for IPv6, since one
// IPv6 host usually holds a whole /64.
func clientKey(remoteAddr string) string {
	host, _, err := net.SplitHostPort(remoteAddr)
	if err != nil {
		host = remoteAddr
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return host
	}
	ip = ip.Unmap()
	if ip.Is6() {
		if p, err := ip.Prefix(64); err == nil {
			return p.String()
		}
	}
	return ip.String()
}

// clientIP is the remote IP for logs and audit events.
func clientIP(remoteAddr string) string {
	host, _, err := net.SplitHostPort(remoteAddr)
	if err != nil {
		return remoteAddr
	}
	return host
}
