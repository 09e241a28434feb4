package agent

import (
	"context"
	"errors"
	"fmt"
	"net"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/assistkit/assist/protocol"
	"github.com/assistkit/assist/tickets"
)

// gatewayConn is an authenticated connection to one of the help desk's gateways.
type gatewayConn struct {
	addr  string
	nc    net.Conn
	heard *heardConn // nc, noting when the gateway was last heard from
	conn  ssh.Conn
	chans <-chan ssh.NewChannel
	reqs  <-chan *ssh.Request
}

// addresses is every address of the help desk's gateways: Gateway, then Alternates.
func (c *Config) addresses() []string { return append([]string{c.Gateway}, c.Alternates...) }

// reach connects to the first of the gateways that answers, starting with the one that served
// last (at), and says which that was. A gateway that is down costs a refused dial, or the dial
// timeout, before the next is tried: no backoff in between, so an agent whose gateway died is
// on another one at once. When every address fails the error is permanent only if every
// failure was (a wrong host key everywhere); one that may pass on a later try keeps the agent
// trying, and the error names each address.
func (a *Agent) reach(ctx context.Context, at int) (*gatewayConn, int, error) {
	addrs := a.cfg.addresses()
	var transient []error
	var permanent error
	for i := range addrs {
		n := (at + i) % len(addrs)
		gc, err := a.reachOne(ctx, addrs[n])
		if err == nil {
			return gc, n, nil
		}
		if len(addrs) > 1 {
			a.log.Info("gateway not reached", "addr", addrs[n], "err", err)
		}
		if isPermanent(err) {
			permanent = errors.Join(permanent, err)
		} else {
			transient = append(transient, err)
		}
		if ctx.Err() != nil {
			break
		}
	}
	switch {
	case len(transient) == 0:
		return nil, at, &permanentError{permanent}
	case permanent != nil:
		// Said, not wrapped: a gateway that may answer later keeps the agent trying.
		transient = append(transient, fmt.Errorf("%v", permanent))
	}
	return nil, at, errors.Join(transient...)
}

// reachOne dials addr and authenticates as an agent, within the dial timeout.
func (a *Agent) reachOne(ctx context.Context, addr string) (*gatewayConn, error) {
	d := net.Dialer{Timeout: a.cfg.DialTimeout, LocalAddr: a.cfg.LocalAddr}
	nc, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("%w %s: %w", errDial, addr, err)
	}
	nc.SetDeadline(time.Now().Add(a.cfg.DialTimeout))
	heard := newHeardConn(nc)
	conn, chans, reqs, err := tickets.ClientConn(heard, addr, &ssh.ClientConfig{
		User:              protocol.AgentUser,
		Auth:              []ssh.AuthMethod{ssh.PublicKeys(a.cfg.Key)},
		HostKeyCallback:   tickets.PinnedHostKeys(a.cfg.HostKeys),
		HostKeyAlgorithms: tickets.HostKeyAlgorithms(a.cfg.HostKeys),
		Timeout:           a.cfg.DialTimeout,
	})
	if err != nil {
		nc.Close()
		var hk *tickets.HostKeyError
		var ns *tickets.NotSSHError
		switch {
		case errors.As(err, &hk):
			return nil, &permanentError{hk}
		case errors.As(err, &ns): // a web server, say: the address is wrong, not busy
			return nil, &permanentError{ns}
		}
		return nil, fmt.Errorf("ssh handshake with %s: %w", addr, err)
	}
	nc.SetDeadline(time.Time{})
	return &gatewayConn{addr: addr, nc: nc, heard: heard, conn: conn, chans: chans, reqs: reqs}, nil
}
