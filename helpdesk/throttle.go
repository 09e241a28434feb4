package helpdesk

import (
	"net/netip"
	"strings"
	"sync"
	"time"
)

// Sign-in throttling: after a number of free failures each further failure doubles the time an
// address, or an account at an address, must wait before the next attempt, from one second up to
// a quarter of an hour. An attempt during the wait is refused without looking at the password, so
// guessing runs at most a few dozen tries a day per address, while a technician who mistypes a few
// times waits seconds. Nothing is throttled by account alone: then anyone could lock a named
// technician out by failing on purpose. Guessing from many addresses is what fail2ban's
// assistd-web jail and the argon2id cost of each try are for. Addresses get more free failures
// than an account at one address: a whole office may share one.
const (
	accountFreeFailures = 5
	addrFreeFailures    = 20
	firstDelay          = time.Second
	maxDelay            = 15 * time.Minute
	forgetAfter         = 24 * time.Hour
	maxTracked          = 10000 // keys per throttle; beyond it the stalest unlocked key is dropped
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

// addrKey is the throttling key of an address: the IP, or its /64 for IPv6, since one IPv6 host
// usually holds a whole /64.
func addrKey(ip netip.Addr) string {
	ip = ip.Unmap()
	if ip.Is6() {
		if p, err := ip.WithZone("").Prefix(64); err == nil {
			return p.String()
		}
	}
	return ip.String()
}

// accountKey is the throttling key of an account name typed from an address.
func accountKey(name string, ip netip.Addr) string {
	return strings.ToLower(logName(name)) + " " + addrKey(ip)
}
