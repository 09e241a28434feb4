// Package linkproxy is a TCP proxy on loopback whose link can fail and come back, for tests
// and benchmarks of agents losing their gateway: Cut is a link that answers with resets (a
// rebooting router, a gateway restart), Blackhole one that silently stops carrying anything
// (a dead uplink, a NAT that forgot the flow), Restore brings it back.
//
// A shaped proxy (StartShaped, SetProfile) is also a slow link: bandwidth, one-way delay,
// jitter and loss as stalls, per Profile (lan, broadband, vpn, bad), for the tests and the bench
// of the desktop stream on real links.
package linkproxy

import (
	"errors"
	"net"
	"sync"
)

type state int

const (
	up state = iota
	cut
	blackhole
)

// Proxy forwards connections made to Addr to a target address.
type Proxy struct {
	Addr   string
	target string
	l      net.Listener

	mu     sync.Mutex
	state  state
	conns  map[net.Conn]struct{} // both ends of every forwarded connection
	resume chan struct{}         // closed when a blackhole ends
	wg     sync.WaitGroup

	up, down *pipe // client → target, target → client
}

// Start listens on 127.0.0.1:0 and forwards to target as it is.
func Start(target string) (*Proxy, error) { return StartShaped(target, Profile{Name: "lan"}) }

// StartShaped listens on 127.0.0.1:0 and forwards to target through a link shaped by prof in
// each direction.
func StartShaped(target string, prof Profile) (*Proxy, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	seed := prof.Seed
	if seed == 0 {
		seed = 1
	}
	p := &Proxy{Addr: l.Addr().String(), target: target, l: l, conns: map[net.Conn]struct{}{}, resume: make(chan struct{}),
		up: newPipe(prof, seed), down: newPipe(prof, seed+1)}
	p.wg.Add(1)
	go p.accept()
	return p, nil
}

// SetProfile changes the link's shape for the bytes that cross it from now on, on the
// connections already open too.
func (p *Proxy) SetProfile(prof Profile) {
	p.up.set(prof)
	p.down.set(prof)
}

// Bytes returns how many bytes crossed the link client → target (up) and back (down).
func (p *Proxy) Bytes() (up, down int64) {
	p.up.mu.Lock()
	up = p.up.nbytes
	p.up.mu.Unlock()
	p.down.mu.Lock()
	down = p.down.nbytes
	p.down.mu.Unlock()
	return up, down
}

// Cut resets every connection and refuses new ones until Restore.
func (p *Proxy) Cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.state = cut
	for c := range p.conns {
		if tc, ok := c.(*net.TCPConn); ok {
			tc.SetLinger(0) // a reset, not an orderly close
		}
		c.Close()
	}
}

// Blackhole holds every byte and every new connection until Restore, as a dead link does:
// nobody is told anything.
func (p *Proxy) Blackhole() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.state != blackhole {
		p.state = blackhole
		p.resume = make(chan struct{})
	}
}

// Restore carries traffic again; what a blackhole held is delivered.
func (p *Proxy) Restore() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.state == blackhole {
		close(p.resume)
	}
	p.state = up
}

// Close stops the proxy and closes every connection.
func (p *Proxy) Close() error {
	err := p.l.Close()
	p.Cut()
	p.Restore()
	p.wg.Wait()
	return err
}

// gate blocks while the link is a blackhole; false means the link is cut.
func (p *Proxy) gate() bool {
	p.mu.Lock()
	st, resume := p.state, p.resume
	p.mu.Unlock()
	switch st {
	case cut:
		return false
	case blackhole:
		<-resume
		return p.gate()
	}
	return true
}

func (p *Proxy) accept() {
	defer p.wg.Done()
	for {
		c, err := p.l.Accept()
		if errors.Is(err, net.ErrClosed) {
			return
		}
		if err != nil {
			continue
		}
		p.wg.Add(1)
		go p.forward(c)
	}
}

// forward waits out a blackhole, dials the target and copies both ways.
func (p *Proxy) forward(c net.Conn) {
	defer p.wg.Done()
	if !p.gate() {
		c.Close()
		return
	}
	t, err := net.Dial("tcp", p.target)
	if err != nil {
		c.Close()
		return
	}
	if !p.add(c, t) {
		return
	}
	var wg sync.WaitGroup
	wg.Go(func() { p.copy(t, c, p.up) })
	wg.Go(func() { p.copy(c, t, p.down) })
	wg.Wait()
	p.mu.Lock()
	delete(p.conns, c)
	delete(p.conns, t)
	p.mu.Unlock()
}

// add registers a forwarded pair, unless the link was cut meanwhile.
func (p *Proxy) add(c, t net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.state == cut {
		c.Close()
		t.Close()
		return false
	}
	p.conns[c], p.conns[t] = struct{}{}, struct{}{}
	return true
}
