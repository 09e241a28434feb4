package sshd

import (
	"fmt"
	"net/netip"
	"strconv"
	"sync"
	"time"

	"github.com/assistkit/assist/tickets"
)

// Anyone with the gateway's host key (every person's download carries it) can file requests
// from fresh agent keys. A key holds one open request (filing again resumes it), so what
// bounds a spammer is its address: at most MaxOpenPerAddress open requests filed from one
// address, and MaxFilingsPerMinute new filings a minute. Resuming is never limited.

// filingLimits applies the per-address bounds on new filings.
type filingLimits struct {
	maxOpen   int // negative: no limit
	perMinute int // negative: no limit
	now       func() time.Time
	countOpen func(netip.Addr) (int, error)

	mu      sync.Mutex
	open    map[netip.Addr]int // at least the open requests filed from the address
	buckets map[netip.Addr]*bucket
}

// bucket is a token bucket of filings: perMinute tokens, refilled continuously.
type bucket struct {
	tokens float64
	at     time.Time
}

func newFilingLimits(cfg *Config, countOpen func(netip.Addr) (int, error)) *filingLimits {
	return &filingLimits{
		maxOpen: cfg.MaxOpenPerAddress, perMinute: cfg.MaxFilingsPerMinute, now: cfg.Now, countOpen: countOpen,
		open: map[netip.Addr]int{}, buckets: map[netip.Addr]*bucket{},
	}
}

// errLimit is a refused filing; its text is what the agent shows the person.
type errLimit struct{ msg string }

func (e *errLimit) Error() string { return e.msg }

// file reserves a new filing from addr, or says in words why not. A reservation whose filing
// then fails is given back with unfile.
func (f *filingLimits) file(addr netip.Addr) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.maxOpen >= 0 && f.open[addr] >= f.maxOpen {
		// The count only grows between recounts (closing a request does not lower it), so
		// it is exact only after this.
		n, err := f.countOpen(addr)
		if err != nil {
			return fmt.Errorf("count open requests from %s: %w", addr, err)
		}
		if f.open[addr] = n; n >= f.maxOpen {
			return &errLimit{fmt.Sprintf("%d requests from your address (%s) are already open, the most the help desk takes from one address; wait until the help desk has answered some", n, addr)}
		}
	}
	if f.perMinute >= 0 && !f.take(addr) {
		return &errLimit{fmt.Sprintf("%d requests were filed from your address (%s) within a minute, the most the help desk takes; try again in a minute", f.perMinute, addr)}
	}
	f.open[addr]++
	return nil
}

// load counts the open requests in store by address, so the counts hold across restarts.
func (f *filingLimits) load(store tickets.Store) error {
	open, err := openByAddr(store)
	if err != nil {
		return fmt.Errorf("count open requests by address: %w", err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for addr, n := range open {
		f.open[addr] += n
	}
	return nil
}

// unfile gives back a reservation whose filing failed.
func (f *filingLimits) unfile(addr netip.Addr) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.open[addr] > 0 {
		f.open[addr]--
	}
}

// resumed counts a request that moved to addr, so a spammer cannot file more by moving its
// requests to a fresh address.
func (f *filingLimits) resumed(addr netip.Addr) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.open[addr]++
}

// take spends one filing token of addr; f.mu is held.
func (f *filingLimits) take(addr netip.Addr) bool {
	now := f.now()
	if len(f.buckets) > 4096 {
		f.forgetFull(now)
	}
	b := f.buckets[addr]
	if b == nil {
		b = &bucket{tokens: float64(f.perMinute), at: now}
		f.buckets[addr] = b
	}
	b.tokens = min(float64(f.perMinute), b.tokens+now.Sub(b.at).Minutes()*float64(f.perMinute))
	b.at = now
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

// forgetFull drops the buckets that have refilled: they hold nothing a new one would not.
func (f *filingLimits) forgetFull(now time.Time) {
	for addr, b := range f.buckets {
		if b.tokens+now.Sub(b.at).Minutes()*float64(f.perMinute) >= float64(f.perMinute) {
			delete(f.buckets, addr)
		}
	}
}

// openFrom counts the open requests whose agent is (or was last) connected from addr.
func openFrom(store tickets.Store, addr netip.Addr) (int, error) {
	open, err := openByAddr(store)
	return open[addr], err
}

// openByAddr counts the open requests by the address their agent is (or was last) connected from.
func openByAddr(store tickets.Store) (map[netip.Addr]int, error) {
	page, err := store.Requests(tickets.RequestQuery{})
	if err != nil {
		return nil, err
	}
	open := map[netip.Addr]int{}
	for _, r := range page.Requests {
		open[requestAddr(r)]++
	}
	return open, nil
}

// requestAddr is the IP address of a request's agent connection.
func requestAddr(r tickets.Request) netip.Addr {
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return netip.Addr{}
	}
	return ap.Addr().Unmap()
}

// CloseFrom closes every open request whose agent is connected, or was last, from an address
// in network — the clean-up after spam — and returns how many it closed.
func (s *Server) CloseFrom(network netip.Prefix, by string) (int, error) {
	page, err := s.cfg.Store.Requests(tickets.RequestQuery{})
	if err != nil {
		return 0, fmt.Errorf("list open requests: %w", err)
	}
	closed := 0
	for _, r := range page.Requests {
		if !network.Contains(requestAddr(r)) {
			continue
		}
		if _, err := s.CloseRequest(r.ID, by); err != nil {
			return closed, fmt.Errorf("close %s: %w (closed %d before it)", r.Code, err, closed)
		}
		closed++
	}
	s.audit(tickets.Event{Kind: "request.closed-from", Actor: by, Attrs: map[string]string{"from": network.String(), "closed": strconv.Itoa(closed)}})
	return closed, nil
}
