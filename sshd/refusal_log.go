package sshd

import (
	"log/slog"
	"net"
	"net/netip"
	"strconv"
	"sync"
	"time"

	"github.com/assistkit/assist/sshd/internal/authlog"
	"github.com/assistkit/assist/tickets"
)

// preauthLog bounds what one address can make the gateway write before it authenticates. Each
// address has a budget of auth-log lines (and auth.failed audit events) per interval; past it,
// lines are counted, and when the interval ends one line says how many were left out. The
// first connection from an address dropped past its handshake cap is logged at once, later
// ones in the same interval are summed into one line. Refusals that are not the peer's doing
// (the gateway is full) go to the structured log once per interval, never to the auth log,
// so fail2ban never bans an address for the gateway's load.
type preauthLog struct {
	auth     *authlog.Logger
	log      *slog.Logger
	store    func(tickets.Event)
	interval time.Duration
	budget   int

	mu      sync.Mutex
	byAddr  map[netip.Addr]*addrBudget
	refused map[refusal]int // refusals of the interval not blamed on one address
	full    bool            // the last connection offered was past the connection cap
	limit   int
}

type addrBudget struct {
	lines, suppressed int
	dropped           int // connections dropped past the per-address cap this interval
}

func newPreauthLog(s *Server) *preauthLog {
	return &preauthLog{
		auth: s.auth, log: s.log, store: s.audit, interval: s.cfg.RefusalLogInterval, budget: s.cfg.RefusalLogBudget,
		byAddr: map[netip.Addr]*addrBudget{}, refused: map[refusal]int{}, limit: s.cfg.MaxConnections,
	}
}

func (p *preauthLog) budgetOf(addr netip.Addr) *addrBudget {
	b := p.byAddr[addr]
	if b == nil {
		b = &addrBudget{}
		p.byAddr[addr] = b
	}
	return b
}

// allow reports whether one more pre-authentication line about addr may be written.
func (p *preauthLog) allow(addr netip.Addr) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	b := p.budgetOf(addr)
	if b.lines < p.budget {
		b.lines++
		return true
	}
	b.suppressed++
	return false
}

// refusedConn records a connection closed at admission.
func (p *preauthLog) refusedConn(why refusal, remote, local net.Addr, perAddress int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if why == refusedAddress {
		b := p.budgetOf(addrOf(remote))
		if b.dropped++; b.dropped == 1 {
			p.auth.Dropped(perAddress, remote, local)
			p.log.Warn("connection dropped before its handshake", "remote", remote.String(), "reason", why.String(), "limit", perAddress)
		}
		return
	}
	if p.refused[why]++; p.refused[why] == 1 {
		p.log.Warn("connection dropped before its handshake", "remote", remote.String(), "reason", why.String())
	}
	if why == refusedFull && !p.full {
		p.full = true
		p.log.Warn("connection limit reached: new connections are refused until some close; connected agents and technicians are still served",
			"limit", p.limit, "hint", "raise the open-file limit (LimitNOFILE=) or --max-connections")
	}
}

// admittedConn notes that connections are admitted again after the cap was reached.
func (p *preauthLog) admittedConn(conns int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.full {
		p.full = false
		p.log.Info("below the connection limit again: accepting new connections", "connections", conns, "limit", p.limit)
	}
}

// flush writes the interval's summaries and starts a new interval.
func (p *preauthLog) flush() {
	p.mu.Lock()
	byAddr, refused := p.byAddr, p.refused
	p.byAddr, p.refused = map[netip.Addr]*addrBudget{}, map[refusal]int{}
	p.mu.Unlock()
	for addr, b := range byAddr {
		ip := net.IP(addr.AsSlice())
		if b.dropped > 1 {
			p.auth.DroppedMore(ip, b.dropped-1, p.interval)
		}
		if b.suppressed > 0 {
			p.auth.Suppressed(ip, b.suppressed, p.interval)
			p.store(tickets.Event{Kind: "auth.suppressed", Remote: addr.String(), Attrs: map[string]string{
				"lines": strconv.Itoa(b.suppressed), "interval": p.interval.String()}})
		}
	}
	for why, n := range refused {
		p.log.Warn("connections dropped before their handshake", "reason", why.String(), "count", n, "interval", p.interval)
	}
}

// run flushes every interval until stop closes.
func (p *preauthLog) run(stop <-chan struct{}) {
	t := time.NewTicker(p.interval)
	defer t.Stop()
	for {
		select {
		case <-stop:
			p.flush()
			return
		case <-t.C:
			p.flush()
		}
	}
}
