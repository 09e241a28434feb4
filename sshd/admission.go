package sshd

import (
	"net"
	"net/netip"
	"sync"
)

// Admission happens before the gateway reads a byte: a new TCP connection is counted against
// the connection cap (below the process's file limit), the cap on handshakes in progress (a
// share of the connection cap), and the caps on handshakes in progress from its address and
// from its address's /24 (IPv4) or /64 (IPv6). A connection past any cap is closed at once,
// without a handshake, so one address that floods holds at most its own share of the
// handshake slots and the agents and technicians from elsewhere are still served.
// Authenticated connections count only against the connection cap: an office behind one NAT
// address may hold many agents.

// refusal says why a connection was not admitted.
type refusal int

const (
	admitted         refusal = iota
	refusedFull              // MaxConnections
	refusedHandshake         // MaxUnauthenticated
	refusedNetwork           // MaxUnauthenticatedPerNetwork
	refusedAddress           // MaxUnauthenticatedPerAddress
)

func (r refusal) String() string {
	switch r {
	case refusedFull:
		return "connection limit reached"
	case refusedHandshake:
		return "too many unauthenticated connections"
	case refusedNetwork:
		return "too many unauthenticated connections from this network"
	case refusedAddress:
		return "too many unauthenticated connections from this address"
	}
	return "admitted"
}

// admission counts live connections and handshakes in progress.
type admission struct {
	maxConns, maxUnauth, perNetwork, perAddress int

	mu        sync.Mutex
	conns     int
	unauth    int
	byAddress map[netip.Addr]int
	byNetwork map[netip.Prefix]int
}

func newAdmission(cfg *Config) *admission {
	return &admission{
		maxConns: cfg.MaxConnections, maxUnauth: cfg.MaxUnauthenticated,
		perNetwork: cfg.MaxUnauthenticatedPerNetwork, perAddress: cfg.MaxUnauthenticatedPerAddress,
		byAddress: map[netip.Addr]int{}, byNetwork: map[netip.Prefix]int{},
	}
}

// ticket is one admitted connection's place in the counts.
type ticket struct {
	a       *admission
	addr    netip.Addr
	network netip.Prefix
	unauth  bool // still counted as a handshake in progress
	done    bool
}

// enter admits a connection from addr, or says which cap it is past.
func (a *admission) enter(addr netip.Addr) (*ticket, refusal) {
	network := networkOf(addr)
	a.mu.Lock()
	defer a.mu.Unlock()
	switch {
	case a.conns >= a.maxConns:
		return nil, refusedFull
	case a.byAddress[addr] >= a.perAddress:
		return nil, refusedAddress
	case a.byNetwork[network] >= a.perNetwork:
		return nil, refusedNetwork
	case a.unauth >= a.maxUnauth:
		return nil, refusedHandshake
	}
	a.conns++
	a.unauth++
	a.byAddress[addr]++
	a.byNetwork[network]++
	return &ticket{a: a, addr: addr, network: network, unauth: true}, admitted
}

// authenticated moves the connection out of the handshake counts.
func (t *ticket) authenticated() {
	t.a.mu.Lock()
	defer t.a.mu.Unlock()
	t.leaveHandshake()
}

// leave releases the connection's place; calling it twice is harmless.
func (t *ticket) leave() {
	t.a.mu.Lock()
	defer t.a.mu.Unlock()
	t.leaveHandshake()
	if !t.done {
		t.done = true
		t.a.conns--
	}
}

func (t *ticket) leaveHandshake() {
	if !t.unauth {
		return
	}
	t.unauth = false
	a := t.a
	a.unauth--
	if a.byAddress[t.addr]--; a.byAddress[t.addr] <= 0 {
		delete(a.byAddress, t.addr)
	}
	if a.byNetwork[t.network]--; a.byNetwork[t.network] <= 0 {
		delete(a.byNetwork, t.network)
	}
}

// load returns the live connections and the handshakes in progress.
func (a *admission) load() (conns, unauth int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.conns, a.unauth
}

// networkOf is the block an address shares with its neighbours: a /24 for IPv4, a /64 for
// IPv6 (one site's allocation).
func networkOf(addr netip.Addr) netip.Prefix {
	bits := 64
	if addr.Is4() {
		bits = 24
	}
	p, _ := addr.Prefix(bits)
	return p
}

// addrOf returns a connection's remote IP address, IPv4-mapped addresses unmapped.
func addrOf(a net.Addr) netip.Addr {
	if ta, ok := a.(*net.TCPAddr); ok {
		if ip, ok := netip.AddrFromSlice(ta.IP); ok {
			return ip.Unmap()
		}
	}
	ap, err := netip.ParseAddrPort(a.String())
	if err != nil {
		return netip.Addr{}
	}
	return ap.Addr().Unmap()
}

// ConnectionsFor is the connection cap that fits a process open-file limit: one descriptor per
// connection, leaving an eighth (at least 64) for the store, the web screen's connections and
// the log files. A zero limit (unknown) gives the default cap.
func ConnectionsFor(fileLimit uint64) int {
	if fileLimit == 0 {
		return defaultMaxConnections
	}
	reserve := max(fileLimit/8, 64)
	if fileLimit <= 2*reserve {
		return int(max(fileLimit/2, 1))
	}
	return int(min(fileLimit-reserve, 1<<20))
}

const defaultMaxConnections = 4096
